"""Saliency of the focus image for the focus class (None: the predicted one): the input
gradient and Grad-CAM on the last convolution node. One forward and one backward pass of
one image; the parameters' gradients are left alone."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.i18n import N_
from engine.probes.base import register
from engine.probes.vision_base import FocusProbe, classifies, image_model, min_interval
from engine.vision import saliency

if TYPE_CHECKING:
    from engine.trainer import Trainer


@register
class Saliency(FocusProbe):
    name = "saliency"
    help = (N_("For the chosen image and class: how much each pixel moves the class score "
               "(input gradient) and where the last convolution looked (Grad-CAM)."))
    default_every = 20
    params = (min_interval(0.5),)

    def compute(self, trainer: Trainer) -> dict[str, Any] | None:
        if not (image_model(trainer) and classifies(trainer)):
            return None
        x, _ = trainer.focus_input()
        s = saliency(trainer.model, x, trainer.focus["target"])
        return {"step": trainer.step, "index": self.focus_index(trainer),
                "target": s["target"], "gradient": s["gradient"], "gradcam": s["gradcam"],
                "gradcam_node": s["gradcam_node"]}
