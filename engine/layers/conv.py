"""2-D convolution over images shaped [channels, height, width]."""

from __future__ import annotations

from typing import Any

from torch import nn

from engine.i18n import N_
from engine.layers.activations import ACTIVATIONS
from engine.layers.base import LAYERS, LayerType, Shape, Window, square
from engine.layers.spatial import (
    ConvAct,
    check_groups,
    check_span,
    image_input,
    out_size,
    with_activation,
)
from engine.params import Param

__all__ = ["CONV_PARAMS", "ConvAct"]

# What every convolution over a grid declares (conv1d shares them).
CONV_PARAMS = (
    Param("filters", int, 8, N_("Number of output channels (feature maps)."), min=1, max=1024),
    Param("kernel_size", int, 3, N_("Width and height of each filter."), min=1, max=15),
    Param("stride", int, 1, N_("Step between filter positions."), min=1, max=8),
    Param("padding", int, 1, N_("Zeros added around the border."), min=0, max=8),
    Param("dilation", int, 1, N_("Spacing between filter taps."), min=1, max=8),
    Param("groups", int, 1, N_("Splits the channels into this many groups, each filtered on its "
                               "own (groups = channels: depthwise). Must divide the input channels "
                               "and the filters."), min=1, max=1024),
    Param("bias", bool, True, N_("Add a learned bias to each feature map.")),
    Param("activation", str, "relu", N_("Activation applied to the feature maps."),
          choices=("none", *ACTIVATIONS)),
)


def _infer(p: dict[str, Any], shapes: list[Shape]) -> Shape:
    c, h, w = image_input("conv2d", shapes, on_sequence=N_("use conv1d for it"))
    k, s, pad, d = p["kernel_size"], p["stride"], p["padding"], p["dilation"]
    check_span("conv2d", (h, w), k, pad, d)
    check_groups(c, p["filters"], p["groups"])
    return (p["filters"], out_size(h, k, s, pad, d), out_size(w, k, s, pad, d))


def _build(p: dict[str, Any], shapes: list[Shape]) -> ConvAct:
    conv = nn.Conv2d(shapes[0][0], p["filters"], p["kernel_size"], p["stride"], p["padding"],
                     p["dilation"], groups=p["groups"], bias=p["bias"])
    return with_activation(conv, p["activation"])


def _window(p: dict[str, Any], shapes: list[Shape]) -> Window:
    return square(p["kernel_size"], p["stride"], p["padding"], p["dilation"])


LAYERS.register(LayerType(
    name="conv2d",
    help=N_("Slides filters over the image: shared weights, local connections."),
    params=CONV_PARAMS, infer=_infer, build=_build, window=_window, category="convolution",
))
