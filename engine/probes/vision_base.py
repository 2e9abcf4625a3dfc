"""What the vision probes share: when they record, and results that are never copied.

A vision probe records the model's view of the focus image (or its filters) at run
start, every ``every`` steps but at most every ``min_interval`` seconds (the pages
redraw about twice a second, so more would be wasted work), when the run pauses or ends,
and when the focus changes. Each recording is one forward (and at most one backward) pass of one
image, which keeps the probes far inside the 10% overhead budget.

A result is built anew at each recording and its arrays are made read-only, so the
snapshot can share it with every reader instead of copying it.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from engine.i18n import N_
from engine.params import Param
from engine.probes.base import Probe
from engine.vision import is_image

if TYPE_CHECKING:
    from engine.trainer import Trainer


def min_interval(default: float) -> Param:
    return Param("min_interval", float, default, N_("Seconds between recordings while training."),
                 min=0.0, max=600.0)


def frozen(value: Any) -> Any:
    """``value`` with every numpy array inside made read-only (in place)."""
    if isinstance(value, np.ndarray):
        value.setflags(write=False)
    elif isinstance(value, dict):
        for v in value.values():
            frozen(v)
    elif isinstance(value, list | tuple):
        for v in value:
            frozen(v)
    return value


def image_model(trainer: Trainer) -> bool:
    return is_image(tuple(trainer.plan.input_shape))


def classifies(trainer: Trainer) -> bool:
    return trainer.task.kind == "classification"


def class_probabilities(trainer: Trainer, out: torch.Tensor) -> torch.Tensor:
    """Raw model outputs [N, K] to class probabilities, as the task reads them."""
    probs = trainer.task.outputs_to_predictions(out)
    if getattr(trainer.task, "loss_name", "") == "mse":  # a squared loss on one-hot targets
        probs = probs.clamp(0, 1)
    return probs


class TimedProbe(Probe):
    """Records at run start and end and on its step cadence, throttled in time."""

    default_every = 20
    params = (min_interval(0.25),)

    def compute(self, trainer: Trainer) -> dict[str, Any] | None:
        """The new result (None: the view does not apply to this model)."""
        raise NotImplementedError

    def record(self, trainer: Trainer) -> None:
        self._last = time.perf_counter()
        self._step = trainer.step
        self._result = frozen(self.compute(trainer))

    def on_run_start(self, trainer: Trainer) -> None:
        self._last = getattr(self, "_last", -math.inf)
        self.record(trainer)

    def on_batch_end(self, trainer: Trainer) -> None:
        if time.perf_counter() - self._last >= float(self.options.get(
                "min_interval", self.params[0].default)):
            self.record(trainer)

    def on_run_end(self, trainer: Trainer) -> None:
        if getattr(self, "_step", None) != trainer.step:
            self.record(trainer)

    on_pause = on_run_end  # a paused page shows the weights it paused with

    def result(self) -> dict[str, Any] | None:
        return getattr(self, "_result", None)


class FocusProbe(TimedProbe):
    """A TimedProbe that looks at the focus image and recomputes when the focus changes."""

    def on_focus(self, trainer: Trainer) -> None:
        self.record(trainer)

    @staticmethod
    def focus_index(trainer: Trainer) -> int | None:
        """The test image in focus; None when a drawn or uploaded image replaces it."""
        return None if trainer.focus["image"] is not None else int(trainer.focus["index"])
