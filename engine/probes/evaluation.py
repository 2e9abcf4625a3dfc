"""What the model predicts on the test split: a confusion matrix for
classification, predicted against true values for regression.

Recorded at epoch ends, at most every ``min_interval`` seconds (the pages
redraw about twice a second, so more would be wasted work), and at run end.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from engine.i18n import N_
from engine.params import Param
from engine.probes.base import Probe, register

if TYPE_CHECKING:
    from engine.trainer import Trainer

MAX_ROWS = 1000


def subsample(n: int, most: int) -> np.ndarray:
    """At most ``most`` row indices out of ``n``, evenly spread."""
    if n <= most:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, most).round().astype(np.int64))


@register
class Evaluation(Probe):
    name = "evaluation"
    default_every = 1
    help = N_("Confusion matrix (classification) or predicted vs true (regression) on the test "
              "set.")
    params = (Param("min_interval", float, 0.5, N_("Seconds between recordings."), min=0.0,
                    max=600.0),)

    def on_run_start(self, trainer: Trainer) -> None:
        self._last = getattr(self, "_last", -1e9)
        self._result = getattr(self, "_result", None)
        if self._result is None:
            self._record(trainer)

    def on_epoch_end(self, trainer: Trainer) -> None:
        if time.perf_counter() - self._last >= float(self.options.get("min_interval", 0.5)):
            self._record(trainer)

    def on_run_end(self, trainer: Trainer) -> None:
        self._record(trainer)

    def _record(self, trainer: Trainer) -> None:
        self._last = time.perf_counter()
        y = trainer.y_test
        if trainer.test_outputs is not None:  # the trainer's own evaluation: no extra pass
            pred = trainer.task.outputs_to_predictions(trainer.test_outputs)
        else:
            model, was_training = trainer.model, trainer.model.training
            model.train(False)  # eval mode
            with torch.no_grad():
                pred = trainer.task.predict(model, trainer.x_test)
            model.train(was_training)
        if trainer.task.kind == "classification":
            k = len(trainer.data.class_names)
            guess = pred.argmax(-1)  # sequences: every position counts, one token each
            cm = torch.bincount((y * k + guess).reshape(-1), minlength=k * k).reshape(k, k)
            self._result = {"kind": "classification", "step": trainer.step,
                            "classes": list(trainer.data.class_names),
                            "confusion": cm.cpu().numpy()}
        else:
            # Evenly spaced rows, so a test split stored in order keeps its whole range.
            rows = torch.from_numpy(subsample(len(y), MAX_ROWS))
            self._result = {"kind": "regression", "step": trainer.step,
                            "true": y[rows, 0].cpu().numpy(),
                            "pred": pred[rows, 0].cpu().numpy()}

    def result(self) -> dict[str, Any] | None:
        r = self._result if hasattr(self, "_result") else None
        return None if r is None else {k: (v.copy() if isinstance(v, np.ndarray) else v)
                                       for k, v in r.items()}
