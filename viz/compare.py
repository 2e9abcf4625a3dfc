"""Several runs drawn together: loss and accuracy curves overlaid, gradient flows side by
side on one colour scale, and a table of how they ended."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from engine.i18n import N_, t
from engine.trainer import Snapshot
from viz.axes import HOVER, log_range, sig, span_decades
from viz.gradient_flow import METRICS, flow_heatmap
from viz.style import styled

OPTIMIZER_NAMES = {"sgd": "SGD", "momentum": "Momentum", "momentum_nesterov": "Nesterov momentum",
                   "adagrad": "AdaGrad", "rmsprop": "RMSProp", "adam": "Adam", "adamw": "AdamW"}
COLUMNS = {"train_loss": "Train loss", "test_loss": "Test loss",
           "train_accuracy": "Train accuracy", "test_accuracy": "Test accuracy",
           "train_r2": "Train R²", "test_r2": "Test R²", "train_mae": "Train MAE",
           "test_mae": "Test MAE"}


def optimizer_name(name: str) -> str:
    return t(OPTIMIZER_NAMES.get(name, name))


def overlaid_losses(runs: dict[str, Snapshot], split: str = "test") -> go.Figure:
    """One line per run: the evaluated loss per epoch (log axis)."""
    fig = go.Figure()
    for name, snap in runs.items():
        ev = snap.evals
        if len(ev.get("epoch", [])):
            fig.add_trace(go.Scatter(x=ev["epoch"], y=ev[f"{split}_loss"], mode="lines",
                                     name=optimizer_name(name)))
    words = t("test loss") if split == "test" else t("train loss")
    fig.update_yaxes(type="log", title=t("{loss} (log scale)", loss=words), hoverformat=HOVER)
    fig.update_xaxes(title=t("epoch"))
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=30, b=10),
                      title=t("{loss} per optimizer", loss=words))
    return fig


def final_table(runs: dict[str, Snapshot]) -> list[dict[str, object]]:
    """One row per run, with words for headers and three significant digits."""
    rows = []
    for name, snap in runs.items():
        lr = snap.steps.get("lr", [])
        row: dict[str, object] = {t("Optimizer"): optimizer_name(name),
                                  t("Learning rate"): sig(np.asarray(lr)[-1]) if len(lr) else "—"}
        row |= {t(COLUMNS.get(k, k.replace("_", " "))): sig(v)
                for k, v in snap.final.items() if k not in ("step", "epoch")}
        rows.append(row)
    return rows


# Runs of different experiments (the Compare runs page) ------------------------------------
RUN_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b")
METRIC_WORDS = {"loss": N_("loss"), "accuracy": N_("accuracy"), "r2": "R²"}
SPLITS = {"test": N_("test"), "train": N_("train")}
LOG_DECADES = 2  # a loss axis goes log when the runs' losses span this many decades
RECENT = 5  # recordings whose median is a layer's "now" in the profile: one is noise


def run_colour(i: int) -> str:
    """Run ``i``'s colour, the same in every chart of the page."""
    return RUN_COLOURS[i % len(RUN_COLOURS)]


def _waiting(fig: go.Figure, text: str) -> go.Figure:
    fig.add_annotation(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def overlaid_curves(runs: Sequence[tuple[str, dict[str, np.ndarray]]],
                    metric: str = "loss") -> go.Figure:
    """``metric`` (loss, accuracy or r2) per epoch, one colour per run: the test split
    solid, the training split dotted. ``runs`` holds each run's label and evaluations."""
    words = t(METRIC_WORDS.get(metric, metric))
    fig = go.Figure()
    drawn: list[np.ndarray] = []
    for i, (label, ev) in enumerate(runs):
        if not len(ev.get("epoch", [])) or f"test_{metric}" not in ev:
            continue
        colour = run_colour(i)
        for split, dash in (("test", "solid"), ("train", "dot")):
            y = np.asarray(ev[f"{split}_{metric}"], dtype=float)
            drawn.append(y)
            fig.add_trace(go.Scatter(
                x=ev["epoch"], y=y, mode="lines", name=label, legendgroup=label,
                showlegend=split == "test", line=dict(color=colour, dash=dash, width=2.5 if
                                                      split == "test" else 1.5),
                hovertemplate=f"{label}<br>" + t("{split} {metric}", split=t(SPLITS[split]),
                                                 metric=words)
                + ": %{y:.3g}<br>" + t("epoch") + " %{x}<extra></extra>"))
    # Two short lines, not one long one: half a projector's width holds them.
    title = words.capitalize()
    fig.update_layout(title=dict(text=title, subtitle=dict(
                          text=t("test: solid line · training: dotted"))),
                      height=300, margin=dict(l=10, r=10, t=58, b=10),
                      legend=dict(orientation="h", y=-0.3), uirevision=title)
    fig.update_xaxes(title=t("epoch"))
    values = np.concatenate(drawn) if drawn else np.zeros(0)
    if metric == "accuracy":
        fig.update_yaxes(range=[0, 1.02], tickformat=".0%", title=words, hoverformat=".1%")
    elif metric == "loss" and span_decades(values) >= LOG_DECADES:
        fig.update_yaxes(type="log", range=log_range(values), exponentformat="power",
                         dtick="D2", title=t("{loss} (log scale)", loss=words),
                         hoverformat=HOVER)
    elif metric == "loss":  # from zero: how far each run got down is read off one scale
        top = float(np.nanmax(values[np.isfinite(values)])) if np.isfinite(values).any() else 1
        fig.update_yaxes(range=[0, top * 1.05], title=words, hoverformat=HOVER)
    else:
        fig.update_yaxes(title=words, hoverformat=HOVER)
    if not drawn:
        _waiting(fig, t("Train the runs to see their curves."))
    return styled(fig)


def flow_panels(flows: Sequence[tuple[str, dict[str, Any] | None]],
                metric: str = "grad") -> go.Figure:
    """Each run's gradient flow (layer by step, input layer at the top) in its own panel,
    all on one colour scale, so the same colour is the same size in every panel."""
    n = max(len(flows), 1)
    cols = min(n, 3)
    rows = -(-n // cols)
    fig = make_subplots(rows=rows, cols=cols, horizontal_spacing=0.1, vertical_spacing=0.18,
                        subplot_titles=[label for label, _ in flows] or [""])
    recorded = [np.asarray(f[metric], dtype=float) for _, f in flows
                if f is not None and len(f.get("steps", []))]
    values = np.concatenate([v.ravel() for v in recorded]) if recorded else np.zeros(0)
    lo, hi = log_range(values) or [-1.0, 1.0]
    for i, (_, flow) in enumerate(flows):
        row, col = i // cols + 1, i % cols + 1
        if flow is None or not len(flow.get("steps", [])):
            fig.add_trace(go.Heatmap(z=[[None]], showscale=False, hoverinfo="skip"),
                          row=row, col=col)
            continue
        # The single-run figure's heatmap, moved onto the shared colour scale.
        trace = flow_heatmap(flow, metric).data[0]
        trace.update(zmin=None, zmax=None, coloraxis="coloraxis", showscale=None)
        fig.add_trace(trace, row=row, col=col)
        fig.update_xaxes(title=t("step"), row=row, col=col)
    for i, annotation in enumerate(fig.layout.annotations[:len(flows)]):
        annotation.font = dict(color=run_colour(i), size=15)
    fig.update_yaxes(autorange="reversed")
    fig.update_yaxes(title=t("layer (input at top)"), col=1)
    title = t("{metric} per layer, one panel per run (same colours, same sizes)",
              metric=t(METRICS[metric]).capitalize())
    # Powers of ten on the colour bar: "-6" alone does not say "a millionth".
    ticks = list(range(math.ceil(lo), math.floor(hi) + 1))
    ticks = ticks[::-(-len(ticks) // 6)]  # at most six labels: ten crowd a 300-pixel bar
    fig.update_layout(title=title, height=70 + 300 * rows, margin=dict(l=10, r=10, t=60, b=10),
                      coloraxis=dict(colorscale="Viridis", cmin=lo, cmax=hi, colorbar=dict(
                          title=t(METRICS[metric]), tickvals=ticks,
                          ticktext=[f"10<sup>{v}</sup>" for v in ticks])))
    if not recorded:
        fig.add_annotation(text=t("Train the runs to see their gradient flow."),
                           showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    return styled(fig)


def flow_profile(flows: Sequence[tuple[str, dict[str, Any] | None]],
                 metric: str = "grad") -> go.Figure:
    """Now (the median of the last few recordings), input to output: one line per run on a
    log axis, so a gradient that fades towards the input shows as a falling line."""
    words = t(METRICS[metric])
    fig = go.Figure()
    drawn: list[np.ndarray] = []
    for i, (label, flow) in enumerate(flows):
        if flow is None or not len(flow.get("steps", [])):
            continue
        now = np.nanmedian(np.asarray(flow[metric], dtype=float)[-RECENT:], axis=0)
        drawn.append(now)
        fig.add_trace(go.Scatter(x=list(flow["nodes"]), y=now, mode="lines+markers",
                                 name=label, line=dict(color=run_colour(i), width=2.5),
                                 hovertemplate=f"{label}<br>%{{x}}: %{{y:.3g}}<extra></extra>"))
    values = np.concatenate(drawn) if drawn else np.zeros(0)
    title = t("{metric} now, layer by layer (input on the left)", metric=words.capitalize())
    fig.update_layout(title=title, height=340, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=-0.3), uirevision=title)
    fig.update_xaxes(title=t("layer"), type="category")
    fig.update_yaxes(type="log", range=log_range(values), exponentformat="power",
                     hoverformat=HOVER, title=t("{metric} (log scale)", metric=words))
    if not drawn:
        _waiting(fig, t("Train the runs to see their gradient flow."))
    return styled(fig)


def ending_table(runs: Sequence[tuple[str, Snapshot]]) -> list[dict[str, object]]:
    """One row per run: where it is and its latest evaluation, in words and three digits."""
    rows = []
    for label, snap in runs:
        row: dict[str, object] = {t("Run"): label, t("Epoch"): snap.epoch,
                                  t("State"): t(snap.status)}
        row |= {t(COLUMNS.get(k, k.replace("_", " "))): sig(v)
                for k, v in snap.final.items() if k not in ("step", "epoch")}
        rows.append(row)
    return rows
