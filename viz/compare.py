"""Loss curves of several runs of one network, overlaid, and a table of how they ended."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from engine.i18n import t
from engine.trainer import Snapshot
from viz.axes import HOVER, sig

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
