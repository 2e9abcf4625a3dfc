"""Loss surfaces and the optimizer race: torch.optim against the textbook rules."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.lab.optim_race import (
    OPTIMIZERS,
    Run,
    learning_rates,
    race,
    reference_race,
    reference_rule,
    summary,
)
from engine.lab.surfaces import SURFACES, ceiling, get_surface, grid


@pytest.mark.parametrize("name", list(SURFACES))
def test_analytic_gradient_matches_autograd(name: str) -> None:
    s = SURFACES[name]
    xmin, xmax, ymin, ymax = s.bounds
    rng = np.random.default_rng(0)
    for x, y in zip(rng.uniform(xmin, xmax, 20), rng.uniform(ymin, ymax, 20), strict=True):
        p = torch.tensor([x, y], dtype=torch.float64, requires_grad=True)
        s.f(p[0], p[1]).backward()
        np.testing.assert_allclose(s.grad(x, y), p.grad.numpy(), rtol=1e-10, atol=1e-10)
        assert s.f(p[0], p[1]).item() == pytest.approx(float(s.f(np.float64(x), y)), rel=1e-12)


@pytest.mark.parametrize("name", list(SURFACES))
def test_surface_metadata_is_consistent(name: str) -> None:
    s = SURFACES[name]
    xmin, xmax, ymin, ymax = s.bounds
    assert xmin < s.start[0] < xmax and ymin < s.start[1] < ymax
    assert set(s.lr) == set(OPTIMIZERS)
    for mx, my in s.minima:
        assert xmin <= mx <= xmax and ymin <= my <= ymax
        assert s.f(mx, my) == pytest.approx(s.fmin, abs=1e-8)  # minima are rounded to 1e-6
        assert np.hypot(*s.grad(mx, my)) < 1e-3
    x, y, z = grid(s, 50)
    assert z.shape == (50, 50) and z.min() >= s.fmin - 1e-9
    assert z[0, -1] == pytest.approx(s.f(x[-1], y[0]))  # z[i, j] = f(x[j], y[i])


def test_saddle_is_a_saddle_and_bowl_is_ill_conditioned() -> None:
    saddle = SURFACES["saddle"]
    assert saddle.grad(0.0, 0.0) == (0.0, 0.0)
    assert saddle.f(0.0, 0.1) < saddle.f(0.0, 0.0) < saddle.f(0.1, 0.0)
    bowl = SURFACES["bowl"]
    curv_x = bowl.grad(1.0, 0.0)[0]
    curv_y = bowl.grad(0.0, 1.0)[1]
    assert 20 <= curv_y / curv_x <= 50


@pytest.mark.parametrize("surface", ["bowl", "rosenbrock", "beale", "saddle", "himmelblau"])
def test_torch_paths_match_the_reference_for_every_optimizer(surface: str) -> None:
    steps = min(SURFACES[surface].steps, 200)
    got = race(surface, steps=steps)
    want = reference_race(surface, steps=steps)
    assert set(got) == set(OPTIMIZERS)
    for name in OPTIMIZERS:
        g, w = got[name], want[name]
        assert g.path.shape == w.path.shape == (steps + 1, 2), name
        np.testing.assert_allclose(g.path, w.path, rtol=1e-5, atol=1e-5, err_msg=name)
        np.testing.assert_allclose(g.loss, w.loss, rtol=1e-5, atol=1e-5, err_msg=name)
        assert g.diverged == w.diverged


@pytest.mark.parametrize("momentum", [0.0, 0.5, 0.95])
def test_paths_match_with_other_settings(momentum: float) -> None:
    kw = {"start": (-1.0, 2.5), "steps": 80, "lr_scale": 0.5, "momentum": momentum,
          "weight_decay": 0.3}
    got, want = race("beale", **kw), reference_race("beale", **kw)
    for name in OPTIMIZERS:
        np.testing.assert_allclose(got[name].path, want[name].path, rtol=1e-5, atol=1e-5,
                                   err_msg=name)


def test_first_steps_follow_the_formulas() -> None:
    """Independent of both implementations: what one or two steps must do by hand."""
    s = get_surface("bowl")
    p0 = np.array(s.start)
    g0 = np.array(s.grad(*p0))
    runs = race("bowl", steps=2, lr=0.01, momentum=0.9)
    np.testing.assert_allclose(runs["sgd"].path[1], p0 - 0.01 * g0)
    # Adam and AdaGrad: the first step moves every coordinate by lr, whatever |g| is.
    np.testing.assert_allclose(runs["adam"].path[1], p0 - 0.01 * np.sign(g0), rtol=1e-6)
    np.testing.assert_allclose(runs["adagrad"].path[1], p0 - 0.01 * np.sign(g0), rtol=1e-6)
    # RMSProp: v = 0.01 g^2 after one step, so the step is 10 lr.
    np.testing.assert_allclose(runs["rmsprop"].path[1], p0 - 0.1 * np.sign(g0), rtol=1e-6)
    # Heavy ball: the second step is lr (0.9 g0 + g1); Nesterov adds another 0.9 v.
    p1 = runs["momentum"].path[1]
    g1 = np.array(s.grad(*p1))
    np.testing.assert_allclose(runs["momentum"].path[2], p1 - 0.01 * (0.9 * g0 + g1))
    n1 = runs["nesterov"].path[1]
    np.testing.assert_allclose(n1, p0 - 0.01 * (g0 + 0.9 * g0))
    gn1 = np.array(s.grad(*n1))
    v = 0.9 * g0 + gn1
    np.testing.assert_allclose(runs["nesterov"].path[2], n1 - 0.01 * (gn1 + 0.9 * v))


def test_adamw_decay_is_decoupled() -> None:
    no_decay = race("rosenbrock", steps=50, optimizers=["adam", "adamw"], weight_decay=0.0)
    np.testing.assert_allclose(no_decay["adam"].path, no_decay["adamw"].path)
    decayed = race("rosenbrock", steps=50, optimizers=["adam", "adamw"], weight_decay=0.5)
    assert not np.allclose(decayed["adam"].path, decayed["adamw"].path)
    # First step: Adam's step on the decayed point, not Adam's step on g + wd p.
    p0 = np.array(get_surface("rosenbrock").start)
    lr = decayed["adamw"].lr
    g0 = np.array(get_surface("rosenbrock").grad(*p0))
    np.testing.assert_allclose(decayed["adamw"].path[1], p0 * (1 - lr * 0.5) - lr * np.sign(g0),
                               rtol=1e-6)


def test_optimizers_really_differ_and_mostly_converge_with_defaults() -> None:
    runs = race("bowl")
    finals = np.array([r.path[-1] for r in runs.values()])
    paths = [r.path for r in runs.values()]
    assert all(not np.allclose(paths[0], p) for p in paths[1:])
    assert np.abs(finals).max() < 0.1  # every tuned rate gets near (0, 0) in 100 steps
    assert not any(r.diverged for r in runs.values())


def test_divergence_is_cut_at_the_last_finite_point() -> None:
    runs = race("rosenbrock", steps=200, optimizers=["sgd", "adam"], lr={"sgd": 0.05})
    sgd = runs["sgd"]
    assert sgd.diverged and not runs["adam"].diverged
    assert 1 < len(sgd.path) < 201 and len(sgd.path) == len(sgd.loss)
    assert np.isfinite(sgd.path).all() and np.isfinite(sgd.loss).all()
    ref = reference_race("rosenbrock", steps=200, optimizers=["sgd"], lr={"sgd": 0.05})["sgd"]
    assert ref.diverged and len(ref.path) == len(sgd.path)


def test_learning_rates_and_validation() -> None:
    tuned = get_surface("beale").lr
    assert learning_rates("beale") == tuned
    assert learning_rates("beale", ["sgd", "adam"], 0.3) == {"sgd": 0.3, "adam": 0.3}
    mixed = learning_rates("beale", ["sgd", "adam"], {"adam": 0.5}, lr_scale=2.0)
    assert mixed == {"sgd": tuned["sgd"] * 2, "adam": 1.0}
    with pytest.raises(ValueError, match="unknown optimizer"):
        learning_rates("beale", ["lbfgs"])
    with pytest.raises(ValueError, match="unknown surface"):
        race("moon")
    with pytest.raises(ValueError, match="momentum"):
        race("bowl", momentum=1.0)
    with pytest.raises(ValueError, match="unknown optimizer"):
        reference_rule("lbfgs", 0.1)(np.zeros(2), np.zeros(2))


def test_summary_counts_steps_to_tolerance() -> None:
    run = Run("sgd", 0.1, np.zeros((4, 2)), np.array([1.0, 0.1, 0.0005, 0.0001]), False)
    never = Run("adam", 0.1, np.zeros((2, 2)), np.array([1.0, 0.5]), True)
    rows = summary({"sgd": run, "adam": never}, fmin=0.0, tol=1e-3)
    assert rows[0]["steps_to_tol"] == 2 and rows[0]["optimizer"] == "SGD"
    assert rows[1]["steps_to_tol"] is None and rows[1]["diverged"]


def test_a_run_that_leaves_the_map_for_good_has_diverged() -> None:
    s = get_surface("bowl")
    top = ceiling(s)
    assert top == pytest.approx(0.1 * 25 + 2.0 * 4)  # the map's corners
    runs = race("bowl", lr_scale=10.0, optimizers=["sgd", "momentum"])
    sgd = runs["sgd"]
    # SGD ten times too fast grows to ~1e246 without ever overflowing: still diverged.
    assert not sgd.diverged and np.isfinite(sgd.loss).all() and sgd.loss[-1] > 1e200
    rows = summary(runs, s.fmin, ceiling=top)
    n = rows[0]["diverged_at"]
    assert rows[0]["diverged"] and 0 < n < len(sgd.loss)
    assert (sgd.loss[n:] > top).all() and sgd.loss[n - 1] <= top
    assert not rows[1]["diverged"] and rows[1]["diverged_at"] is None
    # Without a ceiling only a non-finite value counts, as before.
    assert not summary(runs, s.fmin)[0]["diverged"]
    stopped = race("rosenbrock", steps=200, optimizers=["sgd"], lr={"sgd": 0.05})
    (row,) = summary(stopped, 0.0, ceiling=ceiling(get_surface("rosenbrock")))
    assert row["diverged"] and row["diverged_at"] <= len(stopped["sgd"].loss)
