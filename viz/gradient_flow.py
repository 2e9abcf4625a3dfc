"""Gradient flow and activation health, drawn from the probes' plain data.

Axis and colour ranges follow the recent window, not the all-time range, so
a network that has recovered does not look vanishing next to its own start.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from engine.health import Health

METRICS = {"grad": "gradient norm", "weight": "weight norm",
           "update_ratio": "update / weight"}
VERDICT_COLOURS = {"healthy": "#2e7d32", "vanishing": "#1565c0", "exploding": "#c62828",
                   "dead": "#6d4c41", "saturated": "#ef6c00"}
RECENT = 50  # recordings that set the ranges


def _log(values: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log10(np.where(values > 0, values, np.nan))
    return np.where(np.isfinite(out), out, np.nan)


def _recent_range(logv: np.ndarray) -> tuple[float, float]:
    window = logv[-RECENT:]
    finite = window[np.isfinite(window)]
    if finite.size == 0:
        return -1.0, 1.0
    lo, hi = np.percentile(finite, [1, 99])
    return float(lo) - 0.25, float(hi) + 0.25


def _empty(title: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title=title, height=320, margin=dict(l=10, r=10, t=40, b=10),
                      annotations=[dict(text="Start training to see this chart.",
                                        showarrow=False, x=0.5, y=0.5, xref="paper",
                                        yref="paper")])
    return fig


def flow_heatmap(flow: dict[str, Any], metric: str = "grad") -> go.Figure:
    """Layer by step, log colour: the input layer at the top."""
    title = f"{METRICS[metric]} per layer (log10)"
    if not len(flow.get("steps", [])):
        return _empty(title)
    logv = _log(np.asarray(flow[metric]))
    lo, hi = _recent_range(logv)
    fig = go.Figure(go.Heatmap(
        x=flow["steps"], y=flow["nodes"], z=logv.T, zmin=lo, zmax=hi, colorscale="Viridis",
        colorbar=dict(title="log10"),
        hovertemplate="layer %{y}<br>step %{x}<br>log10 %{z:.2f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", title="layer (input at top)")
    fig.update_xaxes(title="step")
    fig.update_layout(title=title, height=320, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def flow_lines(flow: dict[str, Any], metric: str = "grad") -> go.Figure:
    """One line per layer on a log axis."""
    title = f"{METRICS[metric]} over time"
    if not len(flow.get("steps", [])):
        return _empty(title)
    values = np.asarray(flow[metric])
    fig = go.Figure()
    for i, node in enumerate(flow["nodes"]):
        fig.add_trace(go.Scatter(x=flow["steps"], y=values[:, i], mode="lines", name=node))
    lo, hi = _recent_range(_log(values))
    fig.update_yaxes(type="log", range=[lo, hi], title=METRICS[metric])
    fig.update_xaxes(title="step")
    fig.update_layout(title=title, height=320, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def flow_bars(flow: dict[str, Any], health: Health | None = None,
              metric: str = "grad") -> go.Figure:
    """The latest values, input to output, coloured by each layer's verdict."""
    title = f"latest {METRICS[metric]}, input to output"
    if not len(flow.get("steps", [])):
        return _empty(title)
    latest = np.asarray(flow[metric])[-1]
    verdicts = [health.of(n).verdict if health and health.of(n) else "healthy"
                for n in flow["nodes"]]
    fig = go.Figure(go.Bar(
        x=flow["nodes"], y=latest, marker_color=[VERDICT_COLOURS[v] for v in verdicts],
        text=verdicts, hovertemplate="%{x}: %{y:.3g} (%{text})<extra></extra>"))
    fig.update_yaxes(type="log", title=METRICS[metric])
    fig.update_layout(title=title, height=320, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def activation_stats(acts: dict[str, Any], stat: str) -> go.Figure:
    """Mean, spread, dead share or saturated share of each activation layer over time."""
    title = {"mean": "mean activation", "std": "activation spread (std)",
             "dead": "share of dead ReLU units", "saturated": "share of saturated outputs"}[stat]
    if not len(acts.get("steps", [])):
        return _empty(title)
    fig = go.Figure()
    for node in acts["nodes"]:
        y = acts["series"][stat][node]
        if np.isfinite(y).any():
            fig.add_trace(go.Scatter(x=acts["steps"], y=y, mode="lines+markers", name=node))
    if stat in ("dead", "saturated"):
        fig.update_yaxes(range=[0, 1], tickformat=".0%")
    fig.update_xaxes(title="step")
    fig.update_layout(title=title, height=300, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def histogram_over_time(hist: dict[str, np.ndarray] | None, title: str,
                        bins: int = 40) -> go.Figure:
    """A distribution per recording, resampled onto one value grid (TensorBoard style)."""
    if hist is None or not len(hist["steps"]):
        return _empty(title)
    steps, lo, hi, density = hist["steps"], hist["lo"], hist["hi"], hist["density"]
    recent = slice(-RECENT, None)
    g_lo, g_hi = float(np.min(lo[recent])), float(np.max(hi[recent]))
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
        hovertemplate="step %{x}<br>value %{y:.3g}<br>share %{z:.1%}<extra></extra>"))
    fig.update_xaxes(title="step")
    fig.update_yaxes(title="value")
    fig.update_layout(title=title, height=300, margin=dict(l=10, r=10, t=40, b=10))
    return fig
