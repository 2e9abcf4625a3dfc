"""Value axes that do not mislead, shared by every figure that draws measurements.

- A range covers everything drawn (all of it, not a recent window), so no line runs
  off the chart and no colour saturates.
- Bars start at zero. A log axis is used only when the values span at least a decade
  (gradient norms often span several); its title then says so. Below a decade a log
  axis would blow a 3% difference up to half the chart, so the axis is linear.
- Numbers carry three significant digits, on the chart and in the hover.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from engine.i18n import t

DIGITS = 3
HOVER = f".{DIGITS}g"  # plotly (d3) format: three significant digits
DECADES_FOR_LOG = 1.0  # bars go on a log axis only when they span at least this many decades
PAD = 0.05  # share of the range added at each end, so the extremes are not on the frame


def sig(x: float, digits: int = DIGITS) -> str:
    """``x`` with ``digits`` significant digits: 0.00132, 1.23e+05, 42."""
    x = float(x)
    if not math.isfinite(x):
        return t("not finite")
    return f"{x + 0.0:.{digits}g}"


def _finite(values: Iterable[float] | np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=float).ravel()
    return v[np.isfinite(v)]


def _positive(values: Iterable[float] | np.ndarray) -> np.ndarray:
    v = _finite(values)
    return v[v > 0]


def span_decades(values: Iterable[float] | np.ndarray) -> float:
    """How many decades the finite positive values span (0 when fewer than two)."""
    v = _positive(values)
    return float(np.log10(v.max() / v.min())) if v.size > 1 else 0.0


def linear_range(values: Iterable[float] | np.ndarray) -> list[float] | None:
    """A linear range over every finite value, padded; None when there is none."""
    v = _finite(values)
    if v.size == 0:
        return None
    lo, hi = float(v.min()), float(v.max())
    pad = (hi - lo) * PAD or max(abs(hi) * PAD, 1e-12)
    return [lo - pad, hi + pad]


def log_range(values: Iterable[float] | np.ndarray) -> list[float] | None:
    """A log10 range (plotly's log-axis units) over every finite positive value, padded."""
    v = _positive(values)
    if v.size == 0:
        return None
    lo, hi = float(np.log10(v.min())), float(np.log10(v.max()))
    pad = max((hi - lo) * PAD, 0.1)
    return [lo - pad, hi + pad]


def bar_axis(values: Iterable[float] | np.ndarray, title: str) -> dict:
    """Layout of the value axis of a bar chart: linear from zero, or log when the values
    span decades (and then the title says so)."""
    v = _finite(values)
    if span_decades(v) < DECADES_FOR_LOG or (v < 0).any():
        lo = min(float(v.min()), 0.0) if v.size else 0.0
        hi = max(float(v.max()), 0.0) if v.size else 1.0
        hi = hi if hi > lo else 1.0
        return {"type": "linear", "range": [lo * (1 + 2 * PAD), hi * (1 + 2 * PAD)],
                "title": title, "hoverformat": HOVER}
    return {"type": "log", "range": log_range(v), "hoverformat": HOVER,
            "exponentformat": "power", "title": t("{title} (log scale)", title=title)}
