"""The convolution lab's arithmetic against PyTorch's own convolution and pooling."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.lab.convolution import (
    KERNELS,
    PATTERNS,
    cell_arithmetic,
    conv2d,
    conv_cell,
    conv_params,
    dense_params,
    kernel_text,
    num,
    output_size,
    params_arithmetic,
    parse_kernel,
    pointwise,
    pool2d,
    pool_cell,
    pool_problem,
    size_formula,
    small_input,
)
from engine.lab.pictures import IMAGE_SETS, PHOTOS, photo, set_image

RNG = np.random.default_rng(0)
X = RNG.normal(size=(11, 9))


def _torch(x: np.ndarray) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64)[None, None]


@pytest.mark.parametrize(("kshape", "s", "p", "d"), [
    (ks, s, p, d) for ks, s, p, d in itertools.product(
        [(1, 1), (3, 3), (2, 3), (5, 5)], [1, 2, 3], [0, 1, 2], [1, 2, 3])
    if output_size(9, ks[1], s, p, d) >= 1])
def test_conv2d_equals_torch(kshape: tuple[int, int], s: int, p: int, d: int) -> None:
    w = RNG.normal(size=kshape)
    ours = conv2d(X, w, s, p, d)
    ref = F.conv2d(_torch(X), _torch(w), stride=s, padding=p, dilation=d)[0, 0].numpy()
    assert ours.shape == ref.shape
    assert ours.shape == tuple(output_size(n, k, s, p, d)
                               for n, k in zip(X.shape, kshape, strict=True))
    np.testing.assert_allclose(ours, ref, atol=1e-12)


def test_conv2d_with_different_settings_per_axis() -> None:
    w = RNG.normal(size=(3, 2))
    ours = conv2d(X, w, (2, 1), (0, 2), (1, 3))
    ref = F.conv2d(_torch(X), _torch(w), stride=(2, 1), padding=(0, 2),
                   dilation=(1, 3))[0, 0].numpy()
    np.testing.assert_allclose(ours, ref, atol=1e-12)


@pytest.mark.parametrize("name", list(KERNELS))
def test_every_classic_kernel_on_a_photo_equals_torch(name: str) -> None:
    img = photo("china", 40)
    w = KERNELS[name][1]
    ref = F.conv2d(_torch(img), _torch(w), padding=1)[0, 0].numpy()
    np.testing.assert_allclose(conv2d(img, w, 1, 1), ref, atol=1e-12)


@pytest.mark.parametrize(("kind", "k", "s", "p"), [
    (kind, k, s, p) for kind, k, s, p in itertools.product(
        ["max", "avg"], [1, 2, 3, 4], [1, 2, 3], [0, 1, 2]) if 2 * p <= k])
def test_pooling_equals_torch(kind: str, k: int, s: int, p: int) -> None:
    ours = pool2d(X, kind, k, s, p)
    torch_pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    ref = torch_pool(_torch(X), k, s, p)
    np.testing.assert_allclose(ours, ref[0, 0].numpy(), atol=1e-12)


def test_pooling_stride_defaults_to_the_window() -> None:
    np.testing.assert_allclose(pool2d(X, "max", 3), F.max_pool2d(_torch(X), 3)[0, 0].numpy())


def test_pool_problem_matches_what_torch_refuses() -> None:
    for k, p in itertools.product([2, 3, 4], [0, 1, 2, 3]):
        refused = pool_problem(k, 1, p) is not None
        try:
            F.max_pool2d(_torch(X), k, 1, p)
            F.avg_pool2d(_torch(X), k, 1, p)
            torch_refused = False
        except RuntimeError:
            torch_refused = True
        assert refused == torch_refused, (k, p)
    assert "at most half" in pool_problem(2, 2, 2)
    with pytest.raises(ValueError, match="at most half"):
        pool2d(X, "avg", 2, 2, 2)


def test_a_kernel_that_does_not_fit_is_explained() -> None:
    with pytest.raises(ValueError, match=r"spans 9 x 9 pixels .* only 7 x 7"):
        conv2d(np.zeros((7, 7)), np.ones((5, 5)), dilation=2)


@pytest.mark.parametrize(("n", "k", "s", "p", "d", "out"), [
    (28, 3, 1, 1, 1, 28), (28, 5, 1, 0, 1, 24), (32, 3, 2, 1, 1, 16), (7, 3, 1, 0, 2, 3),
    (10, 4, 3, 2, 1, 4), (5, 5, 1, 0, 1, 1)])
def test_size_formula_fills_in_the_numbers(n: int, k: int, s: int, p: int, d: int,
                                           out: int) -> None:
    assert output_size(n, k, s, p, d) == out
    text = size_formula(n, k, s, p, d)
    inner = n + 2 * p - d * (k - 1) - 1
    assert text == (f"⌊({n} + 2·{p} − {d}·({k} − 1) − 1) / {s}⌋ + 1 = ⌊{inner} / {s}⌋ + 1 "
                    f"= {out}")
    assert text.endswith(f"= {out}")


def test_size_formula_shows_the_same_size_as_torch() -> None:
    for s, p, d in itertools.product([1, 2, 3], [0, 1, 3], [1, 2]):
        ref = F.conv2d(_torch(X), _torch(np.ones((3, 3))), stride=s, padding=p, dilation=d)
        assert size_formula(11, 3, s, p, d).endswith(f"= {ref.shape[2]}")
        assert size_formula(9, 3, s, p, d).endswith(f"= {ref.shape[3]}")


def _parse_sum(text: str) -> tuple[list[tuple[float, float]], float]:
    """``a×b + c×d + … = total`` back into numbers (the true minus sign included)."""
    terms, total = text.rsplit(" = ", 1)
    pairs = [tuple(float(f.strip("()").replace("−", "-")) for f in term.split("×"))
             for term in terms.split(" + ")]
    return pairs, float(total.replace("−", "-"))


@pytest.mark.parametrize(("s", "p", "d"), [(1, 0, 1), (2, 1, 1), (1, 2, 2), (3, 1, 1)])
def test_one_cell_adds_up_to_the_output_cell(s: int, p: int, d: int) -> None:
    x = small_input("random", 7, seed=3)
    w = KERNELS["sobel_x"][1]
    out = conv2d(x, w, s, p, d)
    for row, col in itertools.product(range(out.shape[0]), range(out.shape[1])):
        cell = conv_cell(x, w, row, col, s, p, d)
        assert cell.products.sum() == pytest.approx(out[row, col])
        assert cell.total == pytest.approx(out[row, col])
        # Whole numbers times whole weights: the written sum is exact.
        pairs, total = _parse_sum(cell_arithmetic(cell))
        assert len(pairs) == 9
        assert sum(a * b for a, b in pairs) == total == out[row, col]
        # The window's positions really are where the padded input holds those values.
        padded = np.pad(x, p)
        np.testing.assert_array_equal(padded[cell.rows, cell.cols], cell.values)
        assert cell.padded.sum() == ((cell.rows < p) | (cell.rows >= 7 + p) | (cell.cols < p)
                                     | (cell.cols >= 7 + p)).sum()


def test_one_cell_arithmetic_reads_as_written() -> None:
    x = np.arange(9, dtype=float).reshape(3, 3)
    w = np.array([[0, -1], [2, 1]], float)
    cell = conv_cell(x, w, 0, 1)
    assert cell_arithmetic(cell) == "1×0 + 2×(−1) + 4×2 + 5×1 = 11"


def test_pooling_cells_add_up() -> None:
    x = small_input("random", 7, seed=1)
    for kind in ("max", "avg"):
        out = pool2d(x, kind, 3, 2, 1)
        for row, col in itertools.product(range(out.shape[0]), range(out.shape[1])):
            cell = pool_cell(x, kind, 3, row, col, 2, 1)
            assert cell.total == pytest.approx(out[row, col])
    corner = pool_cell(np.array([[1.0, 5], [3, 2]]), "max", 2, 0, 0, 1, 1)
    assert cell_arithmetic(corner, "max") == "max(1) = 1"  # padding never wins
    avg = pool_cell(np.array([[1.0, 5], [3, 2]]), "avg", 2, 0, 0, 1, 1)
    assert cell_arithmetic(avg, "avg") == "(0 + 0 + 0 + 1) / 4 = 0.25"


def test_parameter_counts() -> None:
    assert conv_params(1, 6, 5) == 156  # LeNet-5's C1
    assert conv_params(3, 64, 3) == 1792
    assert conv_params(256, 64, 1, bias=False) == 16384
    assert conv_params(64, 64, 3, groups=64) == 64 * 9 + 64  # depthwise
    layer = torch.nn.Conv2d(3, 16, (3, 5))
    assert conv_params(3, 16, 3, 5) == sum(p.numel() for p in layer.parameters())
    assert params_arithmetic(3, 16, 3) == "3 × 16 × 3 × 3 + 16 = 448"
    assert params_arithmetic(256, 256, 3, bias=False) == "256 × 256 × 3 × 3 = 589,824"
    assert dense_params(784, 10) == 7850


def test_pointwise_equals_a_1x1_torch_convolution() -> None:
    rgb = photo("flower", 32, grey=False)
    w = np.array([[0.299, 0.587, 0.114], [1.0, -1.0, 0.0]])
    b = np.array([0.1, -0.2])
    ref = F.conv2d(torch.tensor(rgb)[None], torch.tensor(w)[:, :, None, None],
                   torch.tensor(b))[0].numpy()
    np.testing.assert_allclose(pointwise(rgb, w, b), ref, atol=1e-12)


def test_typed_kernels() -> None:
    np.testing.assert_array_equal(parse_kernel("-1 0 1\n−2, 0, 2\n\n-1 0 1 "),
                                  KERNELS["sobel_x"][1])
    np.testing.assert_allclose(parse_kernel("1/9 1/9 1/9\n" * 3), KERNELS["box_blur"][1])
    for name, (_, w, _) in KERNELS.items():
        np.testing.assert_allclose(parse_kernel(kernel_text(w)), w, err_msg=name)
    for text, message in [("", "empty"), ("1 2\n3", "same number of values"),
                          ("1 x", r"Row 1, value 2: 'x' is not a number"),
                          ("1/0", "not a number"), ("1e9", "between"),
                          ("\n".join(["1"] * 10), "at most 9 x 9")]:
        with pytest.raises(ValueError, match=message):
            parse_kernel(text)


def test_numbers_are_written_with_meaningful_digits() -> None:
    assert [num(v) for v in (3.0, -2.0, 1 / 9, 0.25, -0.0625, 1234.5678, -np.inf)] == [
        "3", "−2", "0.111", "0.25", "−0.0625", "1.23e+03", "−∞"]


def test_small_inputs_are_whole_numbers() -> None:
    for pattern in PATTERNS:
        x = small_input(pattern, 6)
        assert x.shape == (6, 6) and np.all(x == np.round(x)) and x.min() >= 0 and x.max() <= 9


def test_pictures() -> None:
    for name in PHOTOS:
        grey = photo(name, 64)
        assert max(grey.shape) == 64 and grey.min() >= 0 and grey.max() <= 1
        assert photo(name, 64, grey=False).shape == (3, *grey.shape)
    for name in IMAGE_SETS:
        img, label = set_image(name, 2)
        assert img.ndim == 2 and img.min() >= 0 and img.max() <= 1 and label
    assert re.fullmatch(r"\d", set_image("digits", 0)[1])
