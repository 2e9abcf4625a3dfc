"""1-D convolution over sequences shaped [channels, length]."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from torch import nn

from engine.i18n import N_, t
from engine.layers.base import LAYERS, LayerType, Shape, ShapeError, one_input, whole_input
from engine.layers.conv import CONV_PARAMS
from engine.layers.spatial import ConvAct, check_groups, check_span, out_size, with_activation


def _sequence(shapes: list[Shape]) -> Shape:
    shape = one_input(shapes)
    if len(shape) == 2:
        return shape
    if len(shape) == 3:
        raise ShapeError(t("conv1d needs a sequence input [channels, length], got {shape}; for "
                           "an image [channels, height, width], use conv2d", shape=list(shape)))
    raise ShapeError(t("conv1d needs a sequence input [channels, length], got {shape}; a flat "
                       "vector has no channels: read a data set of sequences, or use linear",
                       shape=list(shape)))


def _infer(p: dict[str, Any], shapes: list[Shape]) -> Shape:
    c, length = _sequence(shapes)
    k, s, pad, d = p["kernel_size"], p["stride"], p["padding"], p["dilation"]
    check_span("conv1d", (length,), k, pad, d)
    check_groups(c, p["filters"], p["groups"])
    return (p["filters"], out_size(length, k, s, pad, d))


def _build(p: dict[str, Any], shapes: list[Shape]) -> ConvAct:
    conv = nn.Conv1d(shapes[0][0], p["filters"], p["kernel_size"], p["stride"], p["padding"],
                     p["dilation"], groups=p["groups"], bias=p["bias"])
    return with_activation(conv, p["activation"])


LAYERS.register(LayerType(
    name="conv1d",
    help=N_("Slides filters along a sequence: shared weights, local connections in time."),
    params=tuple(replace(p, help=N_("Length of each filter.")) if p.name == "kernel_size" else p
                 for p in CONV_PARAMS),
    # Receptive fields are drawn over images; a sequence counts as seen whole.
    infer=_infer, build=_build, window=whole_input, category="convolution",
))
