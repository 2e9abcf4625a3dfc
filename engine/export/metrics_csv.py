"""A run's metric history as CSV: one row per evaluation, or one per training step."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from engine.trainer import Snapshot

PER = ("evaluation", "step")
WHOLE = ("step", "epoch")  # counters, written without a decimal point


def metrics_table(snapshot: Snapshot, per: str = "evaluation") -> pd.DataFrame:
    """The history as a table: ``per="evaluation"`` gives step, epoch and every train and
    test metric; ``per="step"`` gives step, epoch, loss and learning rate."""
    if per not in PER:
        raise ValueError(f"per must be one of {', '.join(PER)}, got {per!r}")
    cols = snapshot.evals if per == "evaluation" else snapshot.steps
    table = pd.DataFrame({k: np.asarray(v) for k, v in cols.items()})
    for k in WHOLE:
        if k in table:
            table[k] = table[k].astype("int64")
    first = [k for k in (*WHOLE, "train_loss", "test_loss", "loss", "lr") if k in table]
    return table[first + [k for k in table if k not in first]]


def metrics_csv(snapshot: Snapshot, per: str = "evaluation") -> str:
    """``metrics_table`` as CSV text; every number is written in its shortest form that
    reads back equal."""
    buf = io.StringIO()
    metrics_table(snapshot, per).to_csv(buf, index=False)
    return buf.getvalue()
