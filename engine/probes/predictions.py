"""What a classifier says about the test images: a fixed sample of them with true and
predicted classes, the confusion matrix, and the most confidently wrong.

Read from the outputs of the trainer's own evaluation (no extra forward pass), at each
evaluation but at most every ``min_interval`` seconds, and always at run end."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from engine.i18n import N_
from engine.params import Param
from engine.probes.base import Probe, register
from engine.probes.vision_base import (
    class_probabilities,
    classifies,
    frozen,
    image_model,
    min_interval,
)
from engine.vision import mixed_sample, predictions

if TYPE_CHECKING:
    from engine.trainer import Trainer


@register
class Predictions(Probe):
    name = "predictions"
    help = (N_("Test images with their true and predicted classes, the confusion matrix and the "
               "most confidently wrong images."))
    default_every = 1  # it records at evaluations, whatever the step cadence
    params = (min_interval(0.5),
              Param("sample", int, 32, N_("Test images shown with their predictions."), min=1,
                    max=256),
              Param("wrong", int, 16, N_("Most confidently wrong images kept."), min=0, max=256))

    def on_run_start(self, trainer: Trainer) -> None:
        self._last = getattr(self, "_last", -math.inf)
        self._seen = getattr(self, "_seen", None)
        self._record(trainer)

    def on_epoch_end(self, trainer: Trainer) -> None:
        if time.perf_counter() - self._last >= float(self.options.get("min_interval", 0.5)):
            self._record(trainer)

    def on_run_end(self, trainer: Trainer) -> None:
        self._record(trainer)

    def _record(self, trainer: Trainer) -> None:
        out = trainer.test_outputs
        if out is None or out is self._seen or not classifies(trainer):
            return  # nothing new was evaluated
        if not image_model(trainer) or trainer.y_test.dim() != 1:
            return  # a grid of pictures with one label each: not for sequences or tables
        self._seen, self._last = out, time.perf_counter()
        if not hasattr(self, "_sample"):
            self._sample = mixed_sample(trainer.data.y_test.numpy(),
                                        int(self.options.get("sample", 32)),
                                        seed=trainer.exp.data.seed)
        step = int(trainer.eval_history.last("step", trainer.step))
        r = predictions(class_probabilities(trainer, out), trainer.y_test, self._sample,
                        int(self.options.get("wrong", 16)))
        self._result = frozen({"step": step, **r,
                               "class_names": list(trainer.data.class_names)})

    def result(self) -> dict[str, Any] | None:
        return getattr(self, "_result", None)
