"""A run's history as TensorBoard event files (``tensorboard --logdir FOLDER`` shows them).

Written with tensorboardX, which needs only numpy and protobuf (TensorBoard itself is
needed only to view the files).
"""

from __future__ import annotations

import io
import json
import math
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from engine.spec import Experiment
from engine.trainer import Snapshot

WHOLE = ("step", "epoch")


def _finite(v: float) -> bool:
    return math.isfinite(float(v))


def write_events(snapshot: Snapshot, folder: str | Path, exp: Experiment | None = None) -> Path:
    """Write the event file of ``snapshot`` into ``folder``; returns the folder.

    Scalars: each training batch's loss and learning rate (``batch/loss``,
    ``batch/learning_rate``), every evaluation's metrics (``train/loss``,
    ``test/accuracy``...), and the gradient norm per node when the run recorded it
    (``gradient_norm/<node>``). The experiment's JSON goes in as text."""
    from tensorboardX import SummaryWriter

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    writer = SummaryWriter(logdir=str(folder), flush_secs=3600)
    try:
        steps = snapshot.steps
        for i, step in enumerate(np.asarray(steps.get("step", []), dtype=np.int64)):
            for key, tag in (("loss", "batch/loss"), ("lr", "batch/learning_rate")):
                if key in steps and _finite(steps[key][i]):
                    writer.add_scalar(tag, float(steps[key][i]), int(step))
        evals = snapshot.evals
        for i, step in enumerate(np.asarray(evals.get("step", []), dtype=np.int64)):
            for key, col in evals.items():
                if key in WHOLE or not _finite(col[i]):
                    continue
                split, _, metric = key.partition("_")
                writer.add_scalar(f"{split}/{metric}", float(col[i]), int(step))
        flow = snapshot.probes.get("gradient_flow")
        if flow and len(flow.get("steps", [])):
            for j, node in enumerate(flow["nodes"]):
                for step, v in zip(flow["steps"], np.asarray(flow["grad"])[:, j], strict=True):
                    if _finite(v):
                        writer.add_scalar(f"gradient_norm/{node}", float(v), int(step))
        if exp is not None:
            text = json.dumps(exp.to_dict(), indent=2, ensure_ascii=False)
            writer.add_text("experiment", "    " + text.replace("\n", "\n    "), 0)
    finally:
        writer.close()
    return folder


def events_zip(snapshot: Snapshot, exp: Experiment | None = None, name: str = "run") -> bytes:
    """The event files in a zip, under ``<name>/``."""
    buf = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp:
        write_events(snapshot, tmp, exp)
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for path in sorted(Path(tmp).rglob("*")):
                if path.is_file():
                    z.write(path, f"{name}/{path.relative_to(tmp)}")
    return buf.getvalue()
