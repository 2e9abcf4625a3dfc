"""Transposed convolution: learned upsampling (decoders, autoencoders)."""

from __future__ import annotations

from typing import Any

from torch import nn

from engine.i18n import N_, t
from engine.layers.activations import ACTIVATIONS
from engine.layers.base import LAYERS, LayerType, Shape, ShapeError, whole_input
from engine.layers.spatial import ConvAct, image_input, with_activation
from engine.params import Param


def _out(size: int, k: int, stride: int, pad: int, extra: int) -> int:
    return (size - 1) * stride - 2 * pad + (k - 1) + extra + 1


def _infer(p: dict[str, Any], shapes: list[Shape]) -> Shape:
    _, h, w = image_input("conv_transpose2d", shapes)
    k, s, pad, extra = p["kernel_size"], p["stride"], p["padding"], p["output_padding"]
    if extra >= s:  # PyTorch refuses it: the extra row would be no filter position's output
        raise ShapeError(t("conv_transpose2d: output_padding {extra} must be smaller than the "
                           "stride {stride}; use output_padding at most {most} or a stride of "
                           "at least {least}", extra=extra, stride=s, most=s - 1,
                           least=extra + 1))
    out = (_out(h, k, s, pad, extra), _out(w, k, s, pad, extra))
    if min(out) < 1:
        most = (_out(min(h, w), k, s, 0, extra) - 1) // 2
        raise ShapeError(t("conv_transpose2d: padding {pad} crops away the whole output; use "
                           "padding at most {most}", pad=pad, most=most))
    return (p["filters"], *out)


def _build(p: dict[str, Any], shapes: list[Shape]) -> ConvAct:
    conv = nn.ConvTranspose2d(shapes[0][0], p["filters"], p["kernel_size"], p["stride"],
                              p["padding"], p["output_padding"])
    return with_activation(conv, p["activation"])


LAYERS.register(LayerType(
    name="conv_transpose2d",
    help=N_("Spreads each input pixel over a window of the larger output: a learned upsampling "
            "(stride 2 doubles the size)."),
    params=(
        Param("filters", int, 8, N_("Number of output channels (feature maps)."), min=1, max=1024),
        Param("kernel_size", int, 2, N_("Width and height of each filter."), min=1, max=15),
        Param("stride", int, 2, N_("How far apart the input pixels land on the output."), min=1,
              max=8),
        Param("padding", int, 0, N_("Rows and columns cropped from each border of the output."),
              min=0, max=8),
        Param("output_padding", int, 0, N_("Extra rows and columns added on one side, to reach an "
                                           "exact size; smaller than the stride."), min=0, max=7),
        Param("activation", str, "relu", N_("Activation applied to the feature maps."),
              choices=("none", *ACTIVATIONS)),
    ),
    # Its output positions step a fraction of an input pixel: no whole-pixel window.
    infer=_infer, build=_build, window=whole_input, category="convolution",
))
