"""Layers that only change the shape."""

from __future__ import annotations

import math

from torch import nn

from engine.i18n import N_
from engine.layers.base import LAYERS, LayerType, one_input, whole_input

LAYERS.register(LayerType(
    name="flatten",
    help=N_("Turns each sample into one flat vector (for a fully connected head)."),
    params=(),
    infer=lambda p, shapes: (math.prod(one_input(shapes)),),
    build=lambda p, shapes: nn.Flatten(),
    window=whole_input,
))
