"""Training curves from a snapshot: loss, metrics, learning rate, gradient
norms, confusion matrix and predicted-against-true. Every series is thinned
to at most MAX_POINTS, on a grid that does not move, so redraws stay cheap however
long a run goes."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from engine.i18n import N_, t
from engine.optim import lr_factor
from engine.spec import ScheduleSpec
from engine.trainer import Snapshot
from viz.axes import HOVER, bar_axis, log_range
from viz.style import styled

MAX_POINTS = 1000
TRAIN, TEST = "#1f77b4", "#ff7f0e"
METRIC_LABELS = {"accuracy": N_("accuracy"), "r2": "R²", "mae": N_("mean absolute error")}
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")


def thin(*cols: np.ndarray, n: int = MAX_POINTS,
         span: float | None = None) -> tuple[np.ndarray, ...]:
    """At most ``n`` points of series over steps (``cols[0]``), on a grid of steps that
    does not move as the run grows: the first point, and the last point of each grid cell
    the run has passed. A longer run's chart then changes only when its picture would, so
    a redraw after one more step (a Step click, a live tick) sends the same figure, and
    the browser keeps the chart it has instead of drawing it anew. The line ends at most
    one cell (under 0.2% of its width) short of the newest step.

    ``span``: the steps the chart's axis spans when that is fixed (the whole planned run),
    not the steps so far. The grid is then cut from it, so a line that grows by less than
    a cell of the axis is the same chart, however short the run is yet."""
    x = np.asarray(cols[0])
    if not len(x):
        return cols
    width = float(x[-1] - x[0]) if span is None else float(span)
    # A power of two, so as the run grows the grid only ever doubles.
    cell = 2.0 ** np.ceil(np.log2(max(width, 1.0) / (n - 1)))
    if len(x) <= n and (span is None or cell <= 1.0):
        return cols
    at = np.floor(x / cell)
    idx = np.union1d([0], np.flatnonzero(at[1:] != at[:-1]))  # the first may end a cell
    return tuple(c[idx] for c in cols)


def ema(y: np.ndarray, smoothing: float) -> np.ndarray:
    """TensorBoard-style exponential smoothing (0: none, 0.99: heavy)."""
    if smoothing <= 0 or len(y) == 0:
        return y
    out = np.empty_like(y, dtype=float)
    acc, weight = 0.0, 0.0
    for i, v in enumerate(y):
        if np.isfinite(v):
            acc = smoothing * acc + (1 - smoothing) * v
            weight = smoothing * weight + (1 - smoothing)
        out[i] = acc / weight if weight else np.nan
    return out


def _layout(fig: go.Figure, title: str, x: str, y: str, log: bool = False,
            height: int = 300) -> go.Figure:
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=-0.25), uirevision=title)
    styled(fig)
    fig.update_xaxes(title=x)
    fig.update_yaxes(title=y)
    if log:  # otherwise plotly picks the type, so category axes (confusion matrix) stay so
        fig.update_yaxes(type="log")
    return fig


def loss_figure(s: Snapshot, log: bool = False, smoothing: float = 0.6) -> go.Figure:
    fig = go.Figure()
    steps = s.steps
    if len(steps.get("step", [])):
        x, y = thin(steps["step"], ema(steps["loss"], smoothing))
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=t("batch loss (smoothed)"),
                                 line=dict(color=TRAIN, width=1), opacity=0.45))
    ev = s.evals
    if len(ev.get("step", [])):
        x, tr, te = thin(ev["step"], ev["train_loss"], ev["test_loss"])
        fig.add_trace(go.Scatter(x=x, y=tr, mode="lines", name=t("train loss"),
                                 line=dict(color=TRAIN)))
        fig.add_trace(go.Scatter(x=x, y=te, mode="lines", name=t("test loss"),
                                 line=dict(color=TEST)))
    return _layout(fig, t("loss"), t("step"), t("loss"), log)


def metric_figure(s: Snapshot, kind: str | None = None) -> go.Figure:
    """Accuracy (classification) or R² (regression), train and test.

    ``kind`` names the task, so the right empty chart is drawn before the first evaluation."""
    ev = s.evals
    found = [m for m in ("accuracy", "r2", "mae") if f"train_{m}" in ev]
    name = found[0] if found else ("r2" if kind == "regression" else "accuracy")
    label = t(METRIC_LABELS[name])
    fig = go.Figure()
    if f"train_{name}" in ev and len(ev["step"]):
        x, tr, te = thin(ev["step"], ev[f"train_{name}"], ev[f"test_{name}"])
        fig.add_trace(go.Scatter(x=x, y=tr, mode="lines", name=t("train {metric}", metric=label),
                                 line=dict(color=TRAIN)))
        fig.add_trace(go.Scatter(x=x, y=te, mode="lines", name=t("test {metric}", metric=label),
                                 line=dict(color=TEST)))
    fig = _layout(fig, label, t("step"), label)
    if name == "accuracy":
        fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
    return fig


def schedule_curve(schedule: ScheduleSpec, lr: float, steps_per_epoch: int, epochs: int,
                   n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """The learning rate the schedule will use over the whole run (at most ``n`` points)."""
    total = max(steps_per_epoch * epochs, 1)
    steps = np.unique(np.linspace(0, total, min(n, total + 1)).astype(int))
    return steps, np.array([lr * lr_factor(schedule, int(k), steps_per_epoch, total)
                            for k in steps])


def lr_figure(s: Snapshot, planned: tuple[np.ndarray, np.ndarray] | None = None) -> go.Figure:
    """The learning rate used so far, over the schedule's plan for the whole run."""
    fig = go.Figure()
    if planned is not None and len(planned[0]):
        fig.add_trace(go.Scatter(x=planned[0], y=planned[1], mode="lines", name=t("planned"),
                                 line=dict(color="grey", dash="dot")))
    if len(s.steps.get("step", [])):
        # Over the plan's whole run, one more step is mostly less than a pixel: the chart
        # holds still until the line has grown by one.
        span = float(planned[0][-1]) if planned is not None and len(planned[0]) else None
        x, y = thin(s.steps["step"], s.steps["lr"], span=span)
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=t("used"),
                                 line=dict(color=TRAIN)))
    fig = _layout(fig, t("learning rate"), t("step"), t("learning rate"), height=240)
    top = max((float(np.nanmax(tr.y)) for tr in fig.data if len(tr.y)), default=0.0)
    if np.isfinite(top) and top > 0:  # from zero: a constant rate is a flat line, not noise
        fig.update_yaxes(range=[0, top * 1.1])
    return fig


def grad_figure(flow: dict[str, Any] | None) -> go.Figure:
    """Gradient norm per layer over time (log axis), and the latest value as bars."""
    fig = make_subplots(rows=1, cols=2, column_widths=[0.72, 0.28], horizontal_spacing=0.08,
                        subplot_titles=("", t("latest")))
    if flow and len(flow.get("steps", [])):
        grads = np.asarray(flow["grad"], dtype=float)
        for i, node in enumerate(flow["nodes"]):
            color = PALETTE[i % len(PALETTE)]
            x, y = thin(np.asarray(flow["steps"]), grads[:, i])
            fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=node, legendgroup=node,
                                     line=dict(color=color)), row=1, col=1)
        last = grads[-1]
        shown = np.where(np.isfinite(last), last, np.nan)  # a non-finite norm shows no bar
        fig.add_trace(go.Bar(x=shown, y=list(flow["nodes"]), orientation="h", showlegend=False,
                             marker_color=[PALETTE[i % len(PALETTE)]
                                           for i in range(len(flow["nodes"]))],
                             hovertemplate="%{y}: %{x:.3g}<extra></extra>"), row=1, col=2)
        fig.update_yaxes(range=log_range(grads), row=1, col=1)
        # From zero, unless the layers span decades; then the axis title says log.
        bars = bar_axis(shown, t("norm"))
    else:
        bars = {"title": t("norm")}
    fig = _layout(fig, t("gradient norm per layer"), t("step"), t("norm (log scale)"),
                  log=True)
    fig.update_yaxes(hoverformat=HOVER, row=1, col=1)
    fig.update_xaxes(**bars, nticks=3, row=1, col=2)
    # The bars share the lines' colours, so their names would only crowd the lines.
    fig.update_yaxes(title=None, type="category", autorange="reversed", showticklabels=False,
                     row=1, col=2)
    return fig


def confusion_figure(ev: dict[str, Any]) -> go.Figure:
    cm = np.asarray(ev["confusion"])
    names = ev["classes"]
    share = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    fig = go.Figure(go.Heatmap(
        z=share, x=names, y=names, text=cm, texttemplate="%{text}", colorscale="Blues",
        zmin=0, zmax=1, showscale=False,
        hovertemplate=t("true %{y}<br>predicted %{x}<br>%{text} points") + "<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, t("confusion matrix (test)"), t("predicted"), t("true"))


def prediction_figure(ev: dict[str, Any]) -> go.Figure:
    y, p = np.asarray(ev["true"]), np.asarray(ev["pred"])
    lo, hi = float(min(y.min(), p.min())), float(max(y.max(), p.max()))
    fig = go.Figure([
        go.Scatter(x=y, y=p, mode="markers", marker=dict(size=5, opacity=0.6), name=t("test")),
        go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", line=dict(dash="dash", color="grey"),
                   name=t("perfect"))])
    return _layout(fig, t("predicted against true (test)"), t("true"), t("predicted"))


def outcome_figure(ev: dict[str, Any] | None) -> go.Figure:
    if ev is None:
        return _layout(go.Figure(), t("predictions"), "", "")
    return confusion_figure(ev) if ev["kind"] == "classification" else prediction_figure(ev)
