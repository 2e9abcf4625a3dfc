"""The effective receptive field of the focus unit: how strongly each input pixel of the
focus image moves that unit (|d unit / d input|, the largest over colour channels), for
the network as it started and as it is now, beside the theoretical box.

The unit is taken before its own activation (a conv's built-in one, or activation nodes
that follow it): a ReLU at zero would otherwise pass no gradient and show an empty map.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from engine.graph import INPUT, GraphModel, Plan
from engine.i18n import N_, t
from engine.probes.base import register
from engine.probes.vision_base import FocusProbe, min_interval
from engine.receptive import has_convolution, receptive_fields
from engine.vision import evaluating

if TYPE_CHECKING:
    from engine.trainer import Trainer

Unit = tuple[str, int, int, int]  # node id, channel, y, x


def check_unit(plan: Plan, unit: Any) -> str | None:  # noqa: ANN401 - any user value
    """Why ``unit`` names no unit of an image node of ``plan`` (None when it does)."""
    try:
        node, ch, y, x = unit
        info = plan.by_id(node)
    except (TypeError, ValueError, StopIteration):
        return t("{unit} is not (node, channel, y, x) of a node of this model", unit=repr(unit))
    if len(info.out_shape) != 3:
        return t("{node} does not output an image", node=node)
    c, h, w = info.out_shape
    if not (0 <= ch < c and 0 <= y < h and 0 <= x < w):
        return t("{node} has {c} channels of {h}x{w}; ({ch}, {y}, {x}) is outside", node=node,
                 c=c, h=h, w=w, ch=ch, y=y, x=x)
    return None


def _source(plan: Plan, node: str) -> str:
    """The node whose output feeds the unit's activation: activation nodes are stepped back
    over, since they act on each position on its own."""
    from engine.layers import LAYERS

    info = plan.by_id(node)
    while LAYERS.get(info.type).category == "activation" and info.inputs[0] != INPUT:
        info = plan.by_id(info.inputs[0])
    return info.id


def effective_field(model: GraphModel, x: torch.Tensor, unit: Unit) -> np.ndarray:
    """|d unit / d x| for one prepared input x [1, C, H, W], the largest over channels:
    float32 [H, W]. Runs in eval mode (dropout off, batch norm on its running statistics)
    and leaves no gradient on the weights."""
    plan = model.plan
    node, ch, y, xx = unit
    target = _source(plan, node)
    with evaluating(model), torch.enable_grad():
        inp = x.detach().clone().requires_grad_(True)
        outs = model.sources(inp)
        for info in plan.nodes:
            args = [outs[s] for s in info.inputs]
            module = model.layers[info.id]
            if info.id == target:
                conv = getattr(module, "conv", None)
                # The pre-activation of a conv with a built-in activation.
                out = conv(*args) if isinstance(conv, nn.Module) else module(*args)
                break
            outs[info.id] = module(*args)
        (grad,) = torch.autograd.grad(out[0, ch, y, xx], inp, allow_unused=True)
    if grad is None:  # the unit does not depend on the input at all
        return np.zeros(tuple(x.shape[-2:]), np.float32)
    return grad[0].abs().amax(0).float().cpu().numpy()


def default_unit(plan: Plan) -> Unit | None:
    """The centre unit, channel 0, of the last convolution whose field is still a patch of
    the image: the widest such field. A convolution's unit (taken before its activation)
    responds to any image; a pooled one after ReLUs may be silent."""
    if not has_convolution(plan):
        return None
    fields = receptive_fields(plan)
    patches = [n for n in plan.nodes if fields.get(n.id) is not None and not fields[n.id].whole]
    learned = [n for n in patches if "filters" in n.params]
    if not patches:
        return None
    best = (learned or patches)[-1]
    _, h, w = best.out_shape
    return (best.id, 0, h // 2, w // 2)


def _pixels(trainer: Trainer, x: torch.Tensor) -> np.ndarray:
    """The model input back on the 0-1 pixel scale, for drawing."""
    image = getattr(trainer.data, "image", None)
    if image is not None:
        from engine.data.images import unprepare

        return unprepare(x.detach(), image)[0].float().cpu().numpy()
    v = x.detach()[0].float()
    return ((v - v.min()) / (v.max() - v.min()).clamp_min(1e-12)).cpu().numpy()


@register
class ReceptiveField(FocusProbe):
    name = "receptive_field"
    # One forward and backward pass of one image, at most twice a second while training.
    default_every = 25
    params = (min_interval(0.5),)
    help = (N_("The chosen unit's receptive field: its box, and how much each pixel moves it "
               "(input gradient) at the start and now."))

    def compute(self, trainer: Trainer) -> dict[str, Any] | None:
        unit = trainer.focus.get("unit")
        plan = trainer.plan
        if unit is None or not has_convolution(plan) or check_unit(plan, unit):
            return None
        unit = (str(unit[0]), int(unit[1]), int(unit[2]), int(unit[3]))
        x, _ = trainer.focus_input()
        image = trainer.focus.get("image")
        # The initial network never changes within a run: its map only follows the focus.
        key = (unit, trainer.focus.get("index"), None if image is None else image.tobytes())
        cached = getattr(self, "_init", None)
        if cached is None or cached[0] != key:
            cached = self._init = (key, effective_field(trainer.initial_model(), x, unit))
        y0, x0, y1, x1 = receptive_fields(plan)[unit[0]].box(unit[2], unit[3], *x.shape[-2:])
        return {"step": trainer.step, "unit": list(unit), "box": [y0, x0, y1, x1],
                "now": effective_field(trainer.model, x, unit), "init": cached[1],
                "index": self.focus_index(trainer), "image": _pixels(trainer, x)}
