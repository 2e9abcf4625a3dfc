"""Convolution and pooling on one 2-D array, written out so each step can be shown.

Everything here is what ``torch.nn.functional.conv2d``, ``max_pool2d`` and
``avg_pool2d`` compute for one channel (the tests hold them to it): a
cross-correlation (the kernel is not flipped), zero padding, max pooling whose
padding never wins, average pooling that counts padded zeros (PyTorch's default).
The lab computes it by hand instead of calling torch so that one output cell can be
taken apart into the products it is the sum of.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np

from engine.i18n import N_, t

Pair = int | tuple[int, int]
PoolKind = Literal["max", "avg"]
MAX_KERNEL = 9  # a typed kernel's largest side: more says nothing a 9x9 does not
MAX_WEIGHT = 1e6

_G5 = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1])

# name -> (label, weights, what it does). Weights that are fractions stay exact fractions
# of small integers, so the arithmetic of one cell reads cleanly.
KERNELS: dict[str, tuple[str, np.ndarray, str]] = {
    "identity": (N_("Identity"), np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], float),
                 N_("Copies the pixel under the centre: the output is the input (minus the "
                    "border it cannot reach without padding).")),
    "edge_horizontal": (N_("Horizontal edges"), np.array([[-1, -1, -1], [0, 0, 0], [1, 1, 1]],
                                                     float),
                        N_("Row below minus row above: large where brightness changes from top "
                           "to bottom, so horizontal edges light up (positive or negative by "
                           "direction).")),
    "edge_vertical": (N_("Vertical edges"), np.array([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]], float),
                      N_("Right column minus left column: vertical edges light up.")),
    "sobel_x": (N_("Sobel (vertical edges)"), np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], float),
                N_("Like the vertical-edge kernel, with the middle row counted twice, which "
                   "smooths a little along the edge.")),
    "sobel_y": (N_("Sobel (horizontal edges)"), np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
                                                     float),
                N_("The Sobel kernel turned a quarter: horizontal edges.")),
    "laplacian": (N_("Laplacian"), np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], float),
                  N_("Neighbours minus four times the centre: zero on flat and evenly sloped "
                     "areas, large on edges and fine detail, in every direction.")),
    "box_blur": (N_("Blur (box)"), np.full((3, 3), 1 / 9),
                 N_("The average of the 3x3 neighbourhood: every weight is 1/9.")),
    "gaussian_3": (N_("Gaussian blur 3x3"), np.outer([1, 2, 1], [1, 2, 1]) / 16,
                   N_("A weighted average: near pixels count more than far ones. The weights "
                      "add up to 1, so brightness stays the same.")),
    "gaussian_5": (N_("Gaussian blur 5x5"), _G5 / _G5.sum(),
                   N_("A wider Gaussian: a stronger blur.")),
    "sharpen": (N_("Sharpen"), np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], float),
                N_("The pixel plus its difference from its neighbours: edges get steeper. The "
                   "weights add up to 1, so flat areas stay as they are.")),
    "emboss": (N_("Emboss"), np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], float),
               N_("Bottom-right minus top-left plus the pixel: the picture looks pressed into "
                  "metal, lit from one side.")),
}


def _pair(v: Pair) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, int | np.integer) else (int(v[0]), int(v[1]))


def output_size(n: int, k: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """floor((n + 2p - d(k - 1) - 1) / s) + 1: the output length along one axis (can be
    0 or less when the window does not fit)."""
    return (n + 2 * padding - dilation * (k - 1) - 1) // stride + 1


def size_formula(n: int, k: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> str:
    """The formula with the numbers filled in, as plain text:
    ``⌊(28 + 2·1 − 1·(3 − 1) − 1) / 1⌋ + 1 = 28``."""
    out = output_size(n, k, stride, padding, dilation)
    inner = n + 2 * padding - dilation * (k - 1) - 1
    return (f"⌊({n} + 2·{padding} − {dilation}·({k} − 1) − 1) / {stride}⌋ + 1 = "
            f"⌊{num(inner)} / {stride}⌋ + 1 = {out}")


def effective_kernel(k: int, dilation: int = 1) -> int:
    """How many input pixels a dilated kernel spans along one axis."""
    return dilation * (k - 1) + 1


def _check_fits(shape: tuple[int, int], k: tuple[int, int], s: tuple[int, int],
                p: tuple[int, int], d: tuple[int, int]) -> tuple[int, int]:
    if min(s) < 1 or min(d) < 1 or min(p) < 0 or min(k) < 1:
        raise ValueError(t("Stride and dilation must be at least 1, padding at least 0."))
    oh, ow = (output_size(shape[i], k[i], s[i], p[i], d[i]) for i in range(2))
    if oh < 1 or ow < 1:
        raise ValueError(t(
            "The kernel does not fit: it spans {eh} x {ew} pixels (with dilation) but the "
            "padded input is only {ph} x {pw}. Use a smaller kernel or dilation, or more "
            "padding.", eh=effective_kernel(k[0], d[0]), ew=effective_kernel(k[1], d[1]),
            ph=shape[0] + 2 * p[0], pw=shape[1] + 2 * p[1]))
    return oh, ow


def _views(xp: np.ndarray, k: tuple[int, int], s: tuple[int, int], d: tuple[int, int],
           out: tuple[int, int]) -> list[tuple[int, int, np.ndarray]]:
    """For each kernel position (a, b): the input pixels it meets at every output cell."""
    return [(a, b, xp[a * d[0]: a * d[0] + s[0] * (out[0] - 1) + 1: s[0],
                      b * d[1]: b * d[1] + s[1] * (out[1] - 1) + 1: s[1]])
            for a in range(k[0]) for b in range(k[1])]


def conv2d(x: np.ndarray, kernel: np.ndarray, stride: Pair = 1, padding: Pair = 0,
           dilation: Pair = 1) -> np.ndarray:
    """One channel through one kernel, zero padding, no bias: [H, W] -> [H', W']."""
    x, w = np.asarray(x, np.float64), np.asarray(kernel, np.float64)
    s, p, d = _pair(stride), _pair(padding), _pair(dilation)
    out = _check_fits(x.shape, w.shape, s, p, d)
    xp = np.pad(x, (p[:1] * 2, p[1:] * 2))
    total = np.zeros(out)
    # One shifted, strided view of the input per kernel weight: k*k array operations
    # instead of a loop over every output cell.
    for a, b, view in _views(xp, w.shape, s, d, out):
        total += w[a, b] * view
    return total


def pool_problem(k: int, stride: int, padding: int) -> str | None:
    """Why PyTorch refuses these pooling settings, or None when they are fine."""
    if k < 1 or stride < 1 or padding < 0:
        return t("The window and the stride must be at least 1, padding at least 0.")
    if 2 * padding > k:
        return t("Padding can be at most half the window ({half} for a window of {k}): more "
                 "would make windows of padding only.", half=k // 2, k=k)
    return None


def pool2d(x: np.ndarray, kind: PoolKind, k: Pair, stride: Pair | None = None,
           padding: Pair = 0) -> np.ndarray:
    """Max or average pooling of one channel. Max pooling pads with minus infinity (a
    padded cell never wins); average pooling pads with zeros and divides by the whole
    window, padded cells included, as PyTorch does by default."""
    x = np.asarray(x, np.float64)
    kk, p = _pair(k), _pair(padding)
    s = kk if stride is None else _pair(stride)
    for i in range(2):
        problem = pool_problem(kk[i], s[i], p[i])
        if problem:
            raise ValueError(problem)
    out = _check_fits(x.shape, kk, s, p, (1, 1))
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x, (p[:1] * 2, p[1:] * 2), constant_values=fill)
    views = [v for _, _, v in _views(xp, kk, s, (1, 1), out)]
    if kind == "max":
        return np.maximum.reduce(views)
    return np.add.reduce(views) / (kk[0] * kk[1])


@dataclass(frozen=True)
class Cell:
    """One output cell taken apart: the window's place in the padded input and what it met."""

    row: int  # the output cell (0-based)
    col: int
    rows: np.ndarray  # [kh, kw]: row of each window position in the padded input
    cols: np.ndarray
    values: np.ndarray  # [kh, kw]: the input under each position (the pad value in padding)
    padded: np.ndarray  # [kh, kw] bool: the position falls in the padding
    weights: np.ndarray | None  # the kernel (None for pooling)
    products: np.ndarray | None
    total: float  # the output cell's value


def _window(shape: tuple[int, int], k: tuple[int, int], s: tuple[int, int],
            p: tuple[int, int], d: tuple[int, int], row: int, col: int,
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    oh, ow = _check_fits(shape, k, s, p, d)
    if not (0 <= row < oh and 0 <= col < ow):
        raise ValueError(t("output cell ({row}, {col}) is outside the {oh} x {ow} output",
                           row=row, col=col, oh=oh, ow=ow))
    rows = row * s[0] + d[0] * np.arange(k[0])[:, None] + np.zeros(k[1], int)
    cols = col * s[1] + d[1] * np.arange(k[1])[None, :] + np.zeros((k[0], 1), int)
    padded = ((rows < p[0]) | (rows >= shape[0] + p[0]) | (cols < p[1])
              | (cols >= shape[1] + p[1]))
    return rows, cols, padded


def conv_cell(x: np.ndarray, kernel: np.ndarray, row: int, col: int, stride: Pair = 1,
              padding: Pair = 0, dilation: Pair = 1) -> Cell:
    """The products that output cell (``row``, ``col``) of :func:`conv2d` is the sum of."""
    x, w = np.asarray(x, np.float64), np.asarray(kernel, np.float64)
    s, p, d = _pair(stride), _pair(padding), _pair(dilation)
    rows, cols, padded = _window(x.shape, w.shape, s, p, d, row, col)
    values = np.pad(x, (p[:1] * 2, p[1:] * 2))[rows, cols]
    products = values * w
    return Cell(row, col, rows, cols, values, padded, w, products, float(products.sum()))


def pool_cell(x: np.ndarray, kind: PoolKind, k: Pair, row: int, col: int,
              stride: Pair | None = None, padding: Pair = 0) -> Cell:
    """The window that output cell (``row``, ``col``) of :func:`pool2d` takes its max or
    average of."""
    x = np.asarray(x, np.float64)
    kk, p = _pair(k), _pair(padding)
    s = kk if stride is None else _pair(stride)
    rows, cols, padded = _window(x.shape, kk, s, p, (1, 1), row, col)
    fill = -np.inf if kind == "max" else 0.0
    values = np.pad(x, (p[:1] * 2, p[1:] * 2), constant_values=fill)[rows, cols]
    total = values.max() if kind == "max" else values.sum() / values.size
    return Cell(row, col, rows, cols, values, padded, None, None, float(total))


def num(x: float) -> str:
    """A number as a person writes it: whole numbers without a decimal point, others to
    three significant digits, a true minus sign."""
    x = float(x)
    if math.isinf(x):
        return "−∞" if x < 0 else "∞"
    text = str(round(x)) if abs(x - round(x)) < 1e-9 else f"{x:.3g}"
    return text.replace("-", "−")


def factor(x: float) -> str:
    """A number to multiply: negative ones in parentheses, ``(−1)``."""
    s = num(x)
    return f"({s})" if s.startswith("−") else s


def cell_arithmetic(cell: Cell, kind: str = "conv") -> str:
    """One output cell written out: ``2×(−1) + 0×0 + … = 5`` for a convolution,
    ``max(1, 3, 0) = 3`` or ``(1 + 3 + 0 + 2) / 4 = 1.5`` for pooling."""
    if kind == "conv":
        assert cell.weights is not None
        terms = " + ".join(f"{factor(v)}×{factor(w)}"
                           for v, w in zip(cell.values.ravel(), cell.weights.ravel(), strict=True))
        return f"{terms} = {num(cell.total)}"
    if kind == "max":
        # Padding is minus infinity and never wins, so only real pixels are listed.
        real = cell.values[~cell.padded]
        return f"max({', '.join(num(v) for v in real.ravel())}) = {num(cell.total)}"
    terms = " + ".join(factor(v) for v in cell.values.ravel())
    return f"({terms}) / {cell.values.size} = {num(cell.total)}"


def conv_params(c_in: int, c_out: int, kh: int, kw: int | None = None, bias: bool = True,
                groups: int = 1) -> int:
    """Learned numbers in a convolution layer: in/groups x out x kh x kw weights, plus one
    bias per output channel."""
    kw = kh if kw is None else kw
    return (c_in // groups) * c_out * kh * kw + (c_out if bias else 0)


def params_arithmetic(c_in: int, c_out: int, k: int, bias: bool = True) -> str:
    """``3 × 16 × 3 × 3 + 16 = 448``."""
    text = f"{c_in} × {c_out} × {k} × {k}"
    if bias:
        text += f" + {c_out}"
    return f"{text} = {conv_params(c_in, c_out, k, k, bias):,}"


def dense_params(n_in: int, n_out: int, bias: bool = True) -> int:
    """A dense layer's learned numbers, to set beside a convolution's."""
    return n_in * n_out + (n_out if bias else 0)


def pointwise(x: np.ndarray, weights: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """A 1x1 convolution: [C, H, W] with weights [out, C] -> [out, H, W]. Each output pixel
    mixes the channels of the same input pixel; no neighbour takes part."""
    x, w = np.asarray(x, np.float64), np.asarray(weights, np.float64)
    out = np.einsum("oc,chw->ohw", w, x)
    if bias is not None:
        out += np.asarray(bias, np.float64)[:, None, None]
    return out


def parse_kernel(text: str) -> np.ndarray:
    """A kernel typed as rows of numbers (one row per line, spaces or commas between
    numbers; fractions such as 1/9 allowed). Raises ValueError with a message for people."""
    rows = [line.replace(",", " ").replace(";", " ").split()
            for line in text.strip().splitlines() if line.strip()]
    if not rows:
        raise ValueError(t("The kernel is empty: type at least one number."))
    if len(rows) > MAX_KERNEL or max(len(r) for r in rows) > MAX_KERNEL:
        raise ValueError(t("The kernel can be at most {n} x {n}.", n=MAX_KERNEL))
    if len({len(r) for r in rows}) > 1:
        raise ValueError(t("Every row needs the same number of values; the rows have {counts}.",
                           counts=", ".join(str(len(r)) for r in rows)))
    out = np.zeros((len(rows), len(rows[0])))
    for i, row in enumerate(rows):
        for j, token in enumerate(row):
            try:
                value = float(Fraction(token.replace("−", "-")))
            except (ValueError, ZeroDivisionError):
                raise ValueError(t("Row {i}, value {j}: {token!r} is not a number.",
                                   i=i + 1, j=j + 1, token=token)) from None
            if abs(value) > MAX_WEIGHT:
                raise ValueError(t("Row {i}, value {j}: keep weights between -{m} and {m}.",
                                   i=i + 1, j=j + 1, m=f"{MAX_WEIGHT:,.0f}"))
            out[i, j] = value
    return out


def kernel_text(kernel: np.ndarray) -> str:
    """A kernel as :func:`parse_kernel` reads it, with simple fractions kept as fractions."""
    def cell(v: float) -> str:
        f = Fraction(float(v)).limit_denominator(256)
        if abs(float(f) - v) > 1e-12:
            return f"{v:.6g}"
        return str(f)

    return "\n".join(" ".join(cell(v) for v in row) for row in np.asarray(kernel, float))


# Small inputs for stepping the window by hand: integers, so the sums can be checked in
# one's head.
def small_input(pattern: str, n: int = 7, seed: int = 0) -> np.ndarray:
    """An n x n array of small whole numbers: ``random`` (0 to 9), ``edge`` (a vertical
    step from 0 to 9), ``line`` (a diagonal line of 9 on 1) or ``square`` (a 9 square)."""
    if pattern == "random":
        return np.random.default_rng(seed).integers(0, 10, (n, n)).astype(float)
    if pattern == "edge":
        return np.where(np.arange(n)[None, :] >= n // 2, 9.0, 0.0).repeat(n, 0)
    if pattern == "line":
        return np.eye(n) * 8 + 1
    if pattern == "square":
        x = np.zeros((n, n))
        x[n // 4: n - n // 4, n // 4: n - n // 4] = 9
        return x
    raise ValueError(f"unknown pattern {pattern!r}")


PATTERNS = {"random": N_("Random numbers 0 to 9"), "edge": N_("A vertical edge"),
            "line": N_("A diagonal line"), "square": N_("A square")}
