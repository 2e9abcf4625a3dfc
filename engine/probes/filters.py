"""The learned filters: every convolution node's weights (at most 64 output channels)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.i18n import N_
from engine.probes.base import register
from engine.probes.vision_base import TimedProbe, image_model, min_interval
from engine.vision import filters

if TYPE_CHECKING:
    from engine.trainer import Trainer


@register
class Filters(TimedProbe):
    name = "filters"
    help = N_("The weights of every convolution: what each filter responds to.")
    default_every = 50
    params = (min_interval(0.5),)

    def compute(self, trainer: Trainer) -> dict[str, Any] | None:
        if not image_model(trainer):
            return None
        return {"step": trainer.step, "nodes": filters(trainer.model)}
