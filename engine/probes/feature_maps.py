"""Feature maps of the focus image: the output of every convolution, pooling and
activation node (at most 64 channels each), with the image as the model saw it and the
class probabilities. One forward pass of one image, run node by node with no hook."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.i18n import N_
from engine.probes.base import register
from engine.probes.vision_base import (
    FocusProbe,
    class_probabilities,
    classifies,
    image_model,
    min_interval,
)
from engine.vision import feature_maps, to_pixels

if TYPE_CHECKING:
    from engine.trainer import Trainer


@register
class FeatureMaps(FocusProbe):
    name = "feature_maps"
    help = (N_("For the chosen image: each convolution, pooling and activation node's output, "
               "channel by channel, and the class probabilities."))
    default_every = 20
    params = (min_interval(0.25),)

    def compute(self, trainer: Trainer) -> dict[str, Any] | None:
        if not image_model(trainer):
            return None
        x, label = trainer.focus_input()
        out, nodes = feature_maps(trainer.model, x)
        probs = class_probabilities(trainer, out) if classifies(trainer) else out
        return {"step": trainer.step, "index": self.focus_index(trainer),
                "image": to_pixels(x, trainer.model), "label": label,
                "probs": probs[0].detach().float().cpu().numpy(), "nodes": nodes}
