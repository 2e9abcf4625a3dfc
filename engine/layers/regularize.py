"""Dropout and normalisation layers."""

from __future__ import annotations

from typing import Any

from torch import nn

from engine.i18n import N_, t
from engine.layers.base import LAYERS, LayerType, Shape, ShapeError, one_input, whole_input
from engine.layers.batch_norm import BatchNorm1d
from engine.params import Param


def _features(name: str, shape: Shape) -> int:
    if len(shape) != 1:
        raise ShapeError(t("{name} needs a flat input, got shape {shape}; add a flatten node "
                           "before it", name=name, shape=list(shape)))
    return shape[0]


def _flat(name: str):  # noqa: ANN202
    def infer(p: dict[str, Any], shapes: list[Shape]) -> Shape:
        _features(name, one_input(shapes))
        return one_input(shapes)
    return infer


LAYERS.register(LayerType(
    name="dropout",
    help=N_("Zeroes each input with probability p while training, scaling the rest by 1/(1-p)."),
    params=(Param("p", float, 0.5, N_("Probability of dropping a unit."), min=0.0, max=0.95),),
    infer=lambda p, shapes: one_input(shapes),
    build=lambda p, shapes: nn.Dropout(p["p"]),
    category="regularisation",
))

LAYERS.register(LayerType(
    name="batchnorm1d",
    help=N_("Normalises each feature over the batch, then scales and shifts it."),
    params=(Param("momentum", float, 0.1, N_("Running-statistics update rate."), min=0.0,
                  max=1.0),),
    infer=_flat("batchnorm1d"),
    build=lambda p, shapes: BatchNorm1d(shapes[0][0], momentum=p["momentum"]),
    category="regularisation",
))

LAYERS.register(LayerType(
    name="layernorm",
    help=N_("Normalises each sample over its features, then scales and shifts it."),
    params=(),
    infer=lambda p, shapes: one_input(shapes),
    build=lambda p, shapes: nn.LayerNorm(shapes[0][-1]),
    # Over an image it normalises along each row, so a unit depends on its whole row.
    window=whole_input,
    category="regularisation",
))
