"""Activation functions and their derivatives on a grid, for plotting.

Derivatives come from torch autograd, so they are the gradients a network
really back-propagates (ReLU's derivative at 0, for instance, is PyTorch's 0).
The exception is the sign/step function: its derivative is 0 everywhere and
undefined at 0, where it is returned as NaN so a plot shows a gap. That zero
derivative is the lesson: a hard threshold passes no gradient at all (the
app's sign layer trains only by pretending, with a straight-through gradient).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from engine.i18n import N_, t

SATURATION = 0.05  # a derivative below this fraction of its peak counts as saturated


def _sign(x: torch.Tensor) -> torch.Tensor:
    # +1 at 0, like the app's sign layer; torch.sign would give 0 there.
    return torch.where(x >= 0, 1.0, -1.0).to(x.dtype) + 0 * x


ACTIVATIONS: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], str]] = {
    "sigmoid": (torch.sigmoid, N_("Squashes to (0, 1); its derivative is at most 0.25.")),
    "tanh": (torch.tanh, N_("Squashes to (-1, 1), zero-centred; saturates for |x| > 2 or so.")),
    "relu": (torch.relu, N_("max(0, x): derivative 1 or 0, so a unit with x < 0 learns nothing.")),
    "leaky_relu": (F.leaky_relu,
                   N_("Slope 0.01 for x < 0: small, so it is shaded, but never zero.")),
    "elu": (F.elu, N_("exp(x) - 1 for x < 0: smooth, fades to a flat -1 on the left.")),
    "gelu": (F.gelu, N_("x times the Gaussian CDF of x: dips slightly below 0.")),
    "silu": (F.silu, N_("x * sigmoid(x) (swish): smooth, non-monotonic.")),
    "softplus": (F.softplus, N_("log(1 + exp(x)): a smooth ReLU; its derivative is sigmoid.")),
    "identity": (lambda x: x, N_("No non-linearity: derivative 1 everywhere.")),
    "sign": (_sign, N_("A hard step to -1 or +1: derivative 0 everywhere, undefined at 0.")),
}

# How each activation is written for people (the keys are the layer registry's names).
LABELS = {"sigmoid": N_("Sigmoid"), "tanh": N_("Tanh"), "relu": N_("ReLU"),
          "leaky_relu": N_("Leaky ReLU"), "elu": N_("ELU"), "gelu": N_("GELU"),
          "silu": N_("SiLU (swish)"), "softplus": N_("Softplus"), "identity": N_("Identity"),
          "sign": N_("Sign")}


@dataclass(frozen=True)
class Curve:
    name: str
    x: np.ndarray
    y: np.ndarray
    dy: np.ndarray  # NaN where the derivative is undefined
    saturated: np.ndarray  # bool: |dy| < SATURATION * max |dy| (all, if dy is 0 everywhere)
    note: str


def curve(name: str, lo: float = -6.0, hi: float = 6.0, n: int = 601,
          threshold: float = SATURATION) -> Curve:
    """The activation and its derivative on ``n`` points from ``lo`` to ``hi``."""
    if name not in ACTIVATIONS:
        raise ValueError(t("unknown activation {name}; choose from {known}", name=repr(name),
                           known=", ".join(ACTIVATIONS)))
    fn, note = ACTIVATIONS[name]
    # Rounded so a grid through 0 hits it exactly (linspace lands on -1e-16), which is
    # where ReLU's and sign's derivatives change.
    grid = np.round(np.linspace(lo, hi, n), 12) + 0.0
    x = torch.tensor(grid, dtype=torch.float64, requires_grad=True)
    y = fn(x)
    # Elementwise functions: the gradient of the sum is the derivative at each point.
    (dy,) = torch.autograd.grad(y.sum(), x)
    xs, ys, dys = x.detach().numpy(), y.detach().numpy(), dy.numpy().copy()
    if name == "sign":
        dys[xs == 0] = np.nan
    peak = np.nanmax(np.abs(dys))
    with np.errstate(invalid="ignore"):
        saturated = np.abs(dys) < threshold * peak if peak > 0 else np.ones_like(xs, bool)
    return Curve(name, xs, ys, dys, saturated | np.isnan(dys), note)


def ranges(x: np.ndarray, mask: np.ndarray) -> list[tuple[float, float]]:
    """The runs of True in ``mask`` as (start, end) intervals of ``x``, for shading."""
    out = []
    edges = np.diff(np.concatenate([[0], mask.astype(int), [0]]))
    for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        out.append((float(x[a]), float(x[b - 1])))
    return out


def preactivations(std: float = 1.0, n: int = 5000, seed: int = 0) -> np.ndarray:
    """Normal pre-activations, as a layer with that spread of inputs would produce: large
    spreads (a too-large weight initialisation) push mass into the saturated tails."""
    return np.random.default_rng(seed).normal(0.0, std, n)


def saturated_fraction(c: Curve, preacts: np.ndarray) -> float:
    """The share of ``preacts`` that land where ``c`` is saturated (beyond the grid
    counts as the nearest grid end)."""
    if len(preacts) == 0:
        return 0.0
    idx = np.clip(np.searchsorted(c.x, preacts), 0, len(c.x) - 1)
    return float(np.mean(c.saturated[idx]))
