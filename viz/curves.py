"""Training curves from a snapshot: loss, metrics, learning rate, gradient
norms, confusion matrix and predicted-against-true. Every series is thinned
to at most MAX_POINTS so redraws stay cheap however long a run goes."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from engine.trainer import Snapshot

MAX_POINTS = 1000
TRAIN, TEST = "#1f77b4", "#ff7f0e"


def thin(*cols: np.ndarray, n: int = MAX_POINTS) -> tuple[np.ndarray, ...]:
    """Every k-th point so at most ``n`` remain; the newest point is always kept."""
    size = len(cols[0])
    if size <= n:
        return cols
    idx = np.unique(np.concatenate([np.arange(0, size, int(np.ceil(size / n))), [size - 1]]))
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
    fig.update_xaxes(title=x)
    fig.update_yaxes(title=y, type="log" if log else "linear")
    return fig


def loss_figure(s: Snapshot, log: bool = False, smoothing: float = 0.6) -> go.Figure:
    fig = go.Figure()
    steps = s.steps
    if len(steps.get("step", [])):
        x, y = thin(steps["step"], ema(steps["loss"], smoothing))
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name="batch loss (smoothed)",
                                 line=dict(color=TRAIN, width=1), opacity=0.45))
    ev = s.evals
    if len(ev.get("step", [])):
        x, tr, te = thin(ev["step"], ev["train_loss"], ev["test_loss"])
        fig.add_trace(go.Scatter(x=x, y=tr, mode="lines", name="train loss",
                                 line=dict(color=TRAIN)))
        fig.add_trace(go.Scatter(x=x, y=te, mode="lines", name="test loss",
                                 line=dict(color=TEST)))
    return _layout(fig, "loss", "step", "loss", log)


def metric_figure(s: Snapshot) -> go.Figure:
    ev = s.evals
    names = [m for m in ("accuracy", "r2", "mae") if f"train_{m}" in ev]
    fig = go.Figure()
    for m in names[:1] or ["accuracy"]:
        if f"train_{m}" in ev and len(ev["step"]):
            x, tr, te = thin(ev["step"], ev[f"train_{m}"], ev[f"test_{m}"])
            fig.add_trace(go.Scatter(x=x, y=tr, mode="lines", name=f"train {m}",
                                     line=dict(color=TRAIN)))
            fig.add_trace(go.Scatter(x=x, y=te, mode="lines", name=f"test {m}",
                                     line=dict(color=TEST)))
    name = (names or ["accuracy"])[0]
    fig = _layout(fig, name, "step", name)
    if name == "accuracy":
        fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
    return fig


def lr_figure(s: Snapshot) -> go.Figure:
    fig = go.Figure()
    if len(s.steps.get("step", [])):
        x, y = thin(s.steps["step"], s.steps["lr"])
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name="learning rate"))
    return _layout(fig, "learning rate", "step", "lr", height=240)


def grad_figure(flow: dict[str, Any] | None) -> go.Figure:
    fig = go.Figure()
    if flow and len(flow.get("steps", [])):
        for i, node in enumerate(flow["nodes"]):
            x, y = thin(flow["steps"], flow["grad"][:, i])
            fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=node))
    return _layout(fig, "gradient norm per layer", "step", "norm", log=True)


def confusion_figure(ev: dict[str, Any]) -> go.Figure:
    cm = np.asarray(ev["confusion"])
    names = ev["classes"]
    share = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    fig = go.Figure(go.Heatmap(
        z=share, x=names, y=names, text=cm, texttemplate="%{text}", colorscale="Blues",
        zmin=0, zmax=1, showscale=False,
        hovertemplate="true %{y}<br>predicted %{x}<br>%{text} points<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, "confusion matrix (test)", "predicted", "true")


def prediction_figure(ev: dict[str, Any]) -> go.Figure:
    y, p = np.asarray(ev["true"]), np.asarray(ev["pred"])
    lo, hi = float(min(y.min(), p.min())), float(max(y.max(), p.max()))
    fig = go.Figure([
        go.Scatter(x=y, y=p, mode="markers", marker=dict(size=5, opacity=0.6), name="test"),
        go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", line=dict(dash="dash", color="grey"),
                   name="perfect")])
    return _layout(fig, "predicted against true (test)", "true", "predicted")


def outcome_figure(ev: dict[str, Any] | None) -> go.Figure:
    if ev is None:
        return _layout(go.Figure(), "predictions", "", "")
    return confusion_figure(ev) if ev["kind"] == "classification" else prediction_figure(ev)
