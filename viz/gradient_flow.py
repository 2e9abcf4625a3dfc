"""Gradient flow and activation health, drawn from the probes' plain data.

Axis and colour ranges cover every recording drawn (see viz.axes): a range that
followed only the latest recordings let early lines run off the chart and
saturated the heatmap's colours. The health verdict, not the axis, is what
looks at the recent window only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from engine.health import NOT_MEASURED, Health
from engine.i18n import N_, t
from viz.axes import HOVER, bar_axis, log_range
from viz.style import styled

METRICS = {"grad": N_("gradient norm"), "weight": N_("weight norm"),
           "update_ratio": N_("update / weight")}
VERDICT_COLOURS = {"healthy": "#2e7d32", "vanishing": "#1565c0", "exploding": "#c62828",
                   "dead": "#6d4c41", "saturated": "#ef6c00", NOT_MEASURED: "#9e9e9e"}
VERDICT_LABELS = {"healthy": N_("healthy"), "vanishing": N_("vanishing"),
                  "exploding": N_("exploding"), "dead": N_("dead"), "saturated": N_("saturated"),
                  NOT_MEASURED: N_("not measured yet")}
STATS = {"mean": N_("mean activation"), "std": N_("activation spread (standard deviation)"),
         "dead": N_("share of dead ReLU units"), "saturated": N_("share of saturated outputs")}


def _log(values: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log10(np.where(values > 0, values, np.nan))
    return np.where(np.isfinite(out), out, np.nan)


def _empty(title: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title=title, height=320, margin=dict(l=10, r=10, t=40, b=10),
                      annotations=[dict(text=t("Start training to see this chart."),
                                        showarrow=False, x=0.5, y=0.5, xref="paper",
                                        yref="paper")])
    return styled(fig)


def flow_heatmap(flow: dict[str, Any], metric: str = "grad") -> go.Figure:
    """Layer by step, log colour: the input layer at the top."""
    title = t("{metric} per layer (colour: log10)", metric=t(METRICS[metric]))
    if not len(flow.get("steps", [])):
        return _empty(title)
    values = np.asarray(flow[metric], dtype=float)
    lo, hi = log_range(values) or [-1.0, 1.0]
    fig = go.Figure(go.Heatmap(
        x=flow["steps"], y=flow["nodes"], z=_log(values).T, zmin=lo, zmax=hi,
        colorscale="Viridis", colorbar=dict(title="log10"), customdata=values.T,
        hovertemplate=t("layer %{y}<br>step %{x}<br>value %{customdata:.3g}") +
        "<extra></extra>"))
    fig.update_yaxes(autorange="reversed", title=t("layer (input at top)"))
    fig.update_xaxes(title=t("step"))
    fig.update_layout(title=title, height=320, margin=dict(l=10, r=10, t=40, b=10))
    return styled(fig)


def flow_lines(flow: dict[str, Any], metric: str = "grad") -> go.Figure:
    """One line per layer on a log axis."""
    title = t("{metric} over time", metric=t(METRICS[metric]))
    if not len(flow.get("steps", [])):
        return _empty(title)
    values = np.asarray(flow[metric], dtype=float)
    fig = go.Figure()
    for i, node in enumerate(flow["nodes"]):
        fig.add_trace(go.Scatter(x=flow["steps"], y=values[:, i], mode="lines", name=node))
    # Ticks as powers of ten: "0.000100" is three digits of nothing.
    fig.update_yaxes(type="log", range=log_range(values), hoverformat=HOVER,
                     exponentformat="power",
                     title=t("{metric} (log scale)", metric=t(METRICS[metric])))
    fig.update_xaxes(title=t("step"))
    # The legend goes under the chart: at the right it takes a third of a half-width chart.
    fig.update_layout(title=title, height=360, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=-0.3))
    return styled(fig)


def flow_bars(flow: dict[str, Any], health: Health | None = None,
              metric: str = "grad") -> go.Figure:
    """The latest values, input to output, coloured by each layer's verdict."""
    title = t("latest {metric}, input to output", metric=t(METRICS[metric]))
    if not len(flow.get("steps", [])):
        return _empty(title)
    latest = np.asarray(flow[metric], dtype=float)[-1]
    if health is not None and not health.measured:
        verdicts = [NOT_MEASURED] * len(flow["nodes"])
    else:
        verdicts = [health.of(n).verdict if health and health.of(n) else "healthy"
                    for n in flow["nodes"]]
    words = [t(VERDICT_LABELS[v]) for v in verdicts]
    fig = go.Figure(go.Bar(
        x=flow["nodes"], y=latest, marker_color=[VERDICT_COLOURS[v] for v in verdicts],
        text=words, hovertemplate="%{x}: %{y:.3g} (%{text})<extra></extra>"))
    fig.update_yaxes(**bar_axis(latest, t(METRICS[metric])))
    fig.update_layout(title=title, height=320, margin=dict(l=10, r=10, t=40, b=10))
    return styled(fig)


def activation_stats(acts: dict[str, Any], stat: str) -> go.Figure:
    """Mean, spread, dead share or saturated share of each activation layer over time."""
    title = t(STATS[stat])
    if not len(acts.get("steps", [])):
        return _empty(title)
    fig = go.Figure()
    for node in acts["nodes"]:
        y = acts["series"][stat][node]
        if np.isfinite(y).any():
            fig.add_trace(go.Scatter(x=acts["steps"], y=y, mode="lines+markers", name=node))
    if stat in ("dead", "saturated"):
        fig.update_yaxes(range=[0, 1], tickformat=".0%", hoverformat=".1%")
    else:
        fig.update_yaxes(hoverformat=HOVER)
    fig.update_xaxes(title=t("step"))
    fig.update_layout(title=title, height=300, margin=dict(l=10, r=10, t=40, b=10))
    return styled(fig)


def histogram_over_time(hist: dict[str, np.ndarray] | None, title: str,
                        bins: int = 40) -> go.Figure:
    """A distribution per recording, resampled onto one value grid (TensorBoard style)."""
    if hist is None or not len(hist["steps"]):
        return _empty(title)
    steps, lo, hi, density = hist["steps"], hist["lo"], hist["hi"], hist["density"]
    g_lo, g_hi = float(np.min(lo)), float(np.max(hi))  # every recording fits on the grid
    if g_hi <= g_lo:
        g_hi = g_lo + 1e-6
    grid = np.linspace(g_lo, g_hi, bins + 1)
    z = np.zeros((len(steps), bins))
    for r in range(len(steps)):
        edges = np.linspace(lo[r], hi[r], density.shape[1] + 1)
        cum = np.concatenate([[0.0], np.cumsum(density[r])])
        z[r] = np.diff(np.interp(grid, edges, cum, left=0.0, right=cum[-1]))
    fig = go.Figure(go.Heatmap(
        x=steps, y=(grid[:-1] + grid[1:]) / 2, z=z.T, colorscale="Blues", showscale=False,
        hovertemplate=t("step %{x}<br>value %{y:.3g}<br>share %{z:.1%}") + "<extra></extra>"))
    fig.update_xaxes(title=t("step"))
    fig.update_yaxes(title=t("value"))
    fig.update_layout(title=title, height=300, margin=dict(l=10, r=10, t=40, b=10))
    return styled(fig)
