"""Activation curves: values, autograd derivatives, saturation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.lab.activations import (
    ACTIVATIONS,
    curve,
    preactivations,
    ranges,
    saturated_fraction,
)

KINKED = {"relu", "leaky_relu", "sign"}  # no derivative at 0


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_derivative_matches_finite_differences(name: str) -> None:
    c = curve(name, -5, 5, 201)
    fn = ACTIVATIONS[name][0]
    h = 1e-6
    with torch.no_grad():
        x = torch.tensor(c.x, dtype=torch.float64)
        np.testing.assert_allclose(c.y, fn(x).numpy(), rtol=1e-12)
        numeric = ((fn(x + h) - fn(x - h)) / (2 * h)).numpy()
    away = np.abs(c.x) > 1e-3 if name in KINKED else np.ones_like(c.x, bool)
    np.testing.assert_allclose(c.dy[away], numeric[away], atol=1e-6)
    assert c.x.shape == c.y.shape == c.dy.shape == c.saturated.shape == (201,)


def test_known_values() -> None:
    sig = curve("sigmoid")
    assert sig.dy.max() == pytest.approx(0.25) and sig.x[np.argmax(sig.dy)] == 0.0
    assert curve("tanh").dy[300] == pytest.approx(1.0)
    relu = curve("relu")
    assert (relu.dy[relu.x < 0] == 0).all() and (relu.dy[relu.x > 0] == 1).all()
    assert relu.dy[relu.x == 0] == 0.0  # PyTorch's convention
    assert curve("gelu").dy[300] == pytest.approx(0.5)
    leaky = curve("leaky_relu")
    assert leaky.dy[0] == pytest.approx(0.01)
    np.testing.assert_array_equal(curve("identity").dy, 1.0)


def test_sign_has_zero_derivative_undefined_at_zero() -> None:
    c = curve("sign")
    zero = c.x == 0
    assert zero.sum() == 1 and np.isnan(c.dy[zero]).all()
    assert (c.dy[~zero] == 0).all()
    assert set(np.unique(c.y)) == {-1.0, 1.0} and c.y[zero] == 1.0
    assert c.saturated.all()


def test_saturated_regions() -> None:
    sig = curve("sigmoid")
    (left, right) = ranges(sig.x, sig.saturated)
    assert left[0] == -6 and right[1] == 6
    assert -4.6 < left[1] < -4.2 and 4.2 < right[0] < 4.6  # sigmoid' = 0.0125 at |x| ~ 4.4
    assert not curve("identity").saturated.any()
    relu = curve("relu")
    assert ranges(relu.x, relu.saturated) == [(-6.0, 0.0)]
    assert ranges(relu.x, relu.saturated) != ranges(relu.x, curve("elu").saturated)


def test_ranges_of_a_mask() -> None:
    x = np.arange(8.0)
    mask = np.array([1, 1, 0, 0, 1, 0, 1, 1], bool)
    assert ranges(x, mask) == [(0.0, 1.0), (4.0, 4.0), (6.0, 7.0)]
    assert ranges(x, np.zeros(8, bool)) == []


def test_saturated_fraction_grows_with_the_spread() -> None:
    sig = curve("sigmoid")
    narrow, wide = saturated_fraction(sig, preactivations(0.5)), saturated_fraction(
        sig, preactivations(6.0))
    assert narrow == 0.0 and 0.4 < wide < 0.6
    assert saturated_fraction(sig, np.array([])) == 0.0
    assert saturated_fraction(curve("relu"), preactivations(1.0)) == pytest.approx(0.5, abs=0.03)
    np.testing.assert_array_equal(preactivations(2.0, 10, seed=3), preactivations(2.0, 10, 3))


def test_unknown_activation() -> None:
    with pytest.raises(ValueError, match="unknown activation"):
        curve("swishy")
