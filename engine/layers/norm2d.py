"""Normalisation and dropout over image channels."""

from __future__ import annotations

from typing import Any

from torch import nn

from engine.i18n import N_, t
from engine.layers.base import LAYERS, LayerType, Shape, ShapeError, one_input
from engine.layers.batch_norm import BatchNorm2d
from engine.params import Param


def _channels(name: str, flat: str):  # noqa: ANN202
    def infer(p: dict[str, Any], shapes: list[Shape]) -> Shape:
        shape = one_input(shapes)
        if len(shape) != 3:
            raise ShapeError(t("{name} needs an image input [channels, height, width], got "
                               "{shape}; use {flat} for it", name=name, shape=list(shape),
                               flat=flat))
        return shape
    return infer


LAYERS.register(LayerType(
    name="batchnorm2d",
    help=N_("Normalises each channel over the batch and all positions, then scales and shifts "
            "it."),
    params=(Param("momentum", float, 0.1, N_("Running-statistics update rate."), min=0.0,
                  max=1.0),),
    infer=_channels("batchnorm2d", "batchnorm1d"),
    build=lambda p, shapes: BatchNorm2d(shapes[0][0], momentum=p["momentum"]),
    category="regularisation",
))

LAYERS.register(LayerType(
    name="dropout2d",
    help=N_("Zeroes whole feature maps with probability p while training, scaling the rest by "
            "1/(1-p)."),
    params=(Param("p", float, 0.2, N_("Probability of dropping a channel."), min=0.0, max=0.95),),
    infer=_channels("dropout2d", "dropout"),
    build=lambda p, shapes: nn.Dropout2d(p["p"]),
    category="regularisation",
))
