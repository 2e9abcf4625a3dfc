"""Loss curves of several runs of one network, overlaid."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from engine.trainer import Snapshot


def overlaid_losses(runs: dict[str, Snapshot], split: str = "test") -> go.Figure:
    """One line per run: the evaluated loss per epoch (log axis)."""
    fig = go.Figure()
    for name, snap in runs.items():
        ev = snap.evals
        if len(ev.get("epoch", [])):
            fig.add_trace(go.Scatter(x=ev["epoch"], y=ev[f"{split}_loss"], mode="lines",
                                     name=name))
    fig.update_yaxes(type="log", title=f"{split} loss")
    fig.update_xaxes(title="epoch")
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=30, b=10),
                      title=f"{split} loss per optimizer")
    return fig


def final_table(runs: dict[str, Snapshot]) -> list[dict[str, object]]:
    rows = []
    for name, snap in runs.items():
        row: dict[str, object] = {"optimizer": name, "lr": float(np.asarray(snap.steps["lr"])[-1])
                                  if len(snap.steps.get("lr", [])) else None}
        row |= {k: round(v, 4) for k, v in snap.final.items() if k not in ("step", "epoch")}
        rows.append(row)
    return rows
