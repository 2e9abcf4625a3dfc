"""Fully connected layer, with an optional activation written on the same node."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from engine.i18n import N_, t
from engine.layers.activations import ACTIVATIONS, make_activation
from engine.layers.base import LAYERS, LayerType, Shape, ShapeError, one_input, whole_input
from engine.params import Param


class LinearAct(nn.Module):
    """Linear then activation; ``.linear`` and ``.act`` so probes can find each."""

    def __init__(self, linear: nn.Linear, act: nn.Module | None) -> None:
        super().__init__()
        self.linear = linear
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lin, act = self.linear, self.act
        if lin._forward_hooks or lin._forward_pre_hooks:  # a probe is watching: go by the modules
            x = lin(x)
            return x if act is None else act(x)
        # Calling the parameters directly skips two module dispatches per layer, which is
        # a fifth of a tiny network's step.
        x = F.linear(x, lin.weight, lin.bias)
        if act is None:
            return x
        return act(x) if act._forward_hooks or act._forward_pre_hooks else act.forward(x)


def _infer(p: dict[str, Any], shapes: list[Shape]) -> Shape:
    shape = one_input(shapes)
    if len(shape) == 2:  # a sequence [length, features]: the same layer at every position
        return (shape[0], p["units"])
    if len(shape) != 1:
        raise ShapeError(t("linear needs a flat input, got shape {shape}; add a flatten node "
                           "before it", shape=list(shape)))
    return (p["units"],)


def _build(p: dict[str, Any], shapes: list[Shape]) -> nn.Module:
    linear = nn.Linear(shapes[0][-1], p["units"], bias=p["bias"])
    act = p["activation"]
    return LinearAct(linear, None if act == "none" else make_activation(act))


LAYERS.register(LayerType(
    name="linear",
    help=N_("Fully connected: every output is a weighted sum of all inputs plus a bias."),
    params=(
        Param("units", int, 8, N_("Number of neurons (outputs)."), min=1, max=4096),
        Param("activation", str, "none", N_("Activation applied to the outputs."),
              choices=("none", *(a for a in ACTIVATIONS if a != "leaky_relu"), "leaky_relu")),
        Param("bias", bool, True, N_("Add a learned bias to each output.")),
    ),
    infer=_infer,
    build=_build,
    window=whole_input,
))
