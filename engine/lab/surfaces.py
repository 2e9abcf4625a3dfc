"""Classic 2-D loss surfaces for racing optimizers.

Each function uses only ``+ - * **`` so the same code runs on torch tensors
(autograd gives the gradient the real optimizers see) and on numpy arrays
(contour grids, and the reference update rules, which use the hand-written
gradient instead so they are checked against autograd rather than built on it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.i18n import N_, t

Fn = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class Surface:
    name: str
    title: str
    f: Fn  # f(x, y): torch tensors or numpy arrays
    grad: Callable[[Any, Any], tuple[Any, Any]]  # analytic (df/dx, df/dy), numpy
    start: tuple[float, float]
    bounds: tuple[float, float, float, float]  # xmin, xmax, ymin, ymax
    minima: tuple[tuple[float, float], ...]
    fmin: float  # exact minimum value: the listed minima are rounded
    steps: int = 100  # enough for the race to be decided
    lr: dict[str, float] = field(default_factory=dict)  # tuned per optimizer
    note: str = ""


def _bowl(x: Any, y: Any) -> Any:
    return 0.1 * x**2 + 2.0 * y**2


def _bowl_grad(x: Any, y: Any) -> tuple[Any, Any]:
    return 0.2 * x, 4.0 * y


def _rosenbrock(x: Any, y: Any) -> Any:
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _rosenbrock_grad(x: Any, y: Any) -> tuple[Any, Any]:
    return -2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)


def _beale_terms(x: Any, y: Any) -> tuple[Any, Any, Any]:
    return 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3


def _beale(x: Any, y: Any) -> Any:
    a, b, c = _beale_terms(x, y)
    return a**2 + b**2 + c**2


def _beale_grad(x: Any, y: Any) -> tuple[Any, Any]:
    a, b, c = _beale_terms(x, y)
    gx = 2 * a * (y - 1) + 2 * b * (y**2 - 1) + 2 * c * (y**3 - 1)
    gy = 2 * a * x + 2 * b * 2 * x * y + 2 * c * 3 * x * y**2
    return gx, gy


def _saddle(x: Any, y: Any) -> Any:
    # x^2 - y^2 alone has no bottom, so every path would run off to -inf; the
    # quartic term gives two valleys at y = +-sqrt(2) while keeping the saddle at 0.
    return x**2 - y**2 + 0.25 * y**4


def _saddle_grad(x: Any, y: Any) -> tuple[Any, Any]:
    return 2 * x, -2 * y + y**3


def _himmelblau(x: Any, y: Any) -> Any:
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def _himmelblau_grad(x: Any, y: Any) -> tuple[Any, Any]:
    a, b = x**2 + y - 11, x + y**2 - 7
    return 4 * x * a + 2 * b, 2 * a + 4 * y * b


SURFACES: dict[str, Surface] = {s.name: s for s in (
    Surface(
        "bowl", N_("Ill-conditioned bowl (0.1x² + 2y², condition number 20)"), _bowl, _bowl_grad,
        start=(-4.5, 1.5), bounds=(-5.0, 5.0, -2.0, 2.0), minima=((0.0, 0.0),), fmin=0.0,
        steps=100, lr={"sgd": 0.45, "momentum": 0.05, "nesterov": 0.05, "adagrad": 1.0,
            "rmsprop": 0.05, "adam": 0.3, "adamw": 0.3},
        note=N_("Steep across, shallow along: plain SGD zig-zags across the valley while "
                "crawling along it; momentum and per-coordinate scaling fix one each."),
    ),
    Surface(
        "rosenbrock", N_("Rosenbrock's banana valley"), _rosenbrock, _rosenbrock_grad,
        start=(-1.2, 1.0), bounds=(-2.0, 2.0, -1.0, 3.0), minima=((1.0, 1.0),), fmin=0.0,
        steps=500, lr={"sgd": 0.002, "momentum": 0.001, "nesterov": 0.001, "adagrad": 1.0,
            "rmsprop": 0.01, "adam": 0.2, "adamw": 0.2},
        note=N_("Finding the curved valley is easy; following it to (1, 1) is the hard part."),
    ),
    Surface(
        "beale", N_("Beale's function"), _beale, _beale_grad,
        start=(1.0, 1.4), bounds=(-4.5, 4.5, -4.5, 4.5), minima=((3.0, 0.5),), fmin=0.0,
        steps=300, lr={"sgd": 0.01, "momentum": 0.003, "nesterov": 0.003, "adagrad": 1.0,
            "rmsprop": 0.03, "adam": 0.1, "adamw": 0.1},
        note=N_("Flat plateaus next to very steep walls: gradient sizes vary by orders of "
                "magnitude, which is what adaptive methods are for."),
    ),
    Surface(
        "saddle", N_("Saddle point (x² − y² + y⁴/4)"), _saddle, _saddle_grad,
        start=(2.5, 0.001), bounds=(-3.0, 3.0, -2.5, 2.5),
        minima=((0.0, 2**0.5), (0.0, -(2**0.5))), fmin=-1.0,
        steps=100, lr={"sgd": 0.05, "momentum": 0.01, "nesterov": 0.01, "adagrad": 0.5,
            "rmsprop": 0.03, "adam": 0.1, "adamw": 0.1},
        note=N_("Starting almost on the ridge, the gradient across it is tiny: SGD lingers near "
                "the saddle, methods that rescale small gradients roll off much sooner."),
    ),
    Surface(
        "himmelblau", N_("Himmelblau's function (four minima)"), _himmelblau, _himmelblau_grad,
        start=(-0.3, -0.9), bounds=(-5.0, 5.0, -5.0, 5.0),
        minima=((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186),
                (3.584428, -1.848126)), fmin=0.0,
        steps=150, lr={"sgd": 0.005, "momentum": 0.001, "nesterov": 0.001, "adagrad": 0.5,
            "rmsprop": 0.03, "adam": 0.1, "adamw": 0.1},
        note=N_("Four equally good minima and a hill in the middle: where you end up depends "
                "on the optimizer, not only on where you start."),
    ),
)}


def get_surface(name: str) -> Surface:
    try:
        return SURFACES[name]
    except KeyError:
        raise ValueError(t("unknown surface {name}; choose from {known}", name=repr(name),
                           known=", ".join(SURFACES))) from None


def grid(surface: Surface, n: int = 150) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x (n,), y (n,) and f on the plot range, z[i, j] = f(x[j], y[i]) as contour plots want."""
    xmin, xmax, ymin, ymax = surface.bounds
    x, y = np.linspace(xmin, xmax, n), np.linspace(ymin, ymax, n)
    xx, yy = np.meshgrid(x, y)
    return x, y, surface.f(xx, yy)


def ceiling(surface: Surface, n: int = 150) -> float:
    """The highest f - f* on the map: above it a path has left the picture for good."""
    return float(np.nanmax(grid(surface, n)[2]) - surface.fmin)
