"""Convolution and pooling over images shaped [channels, height, width]."""

from __future__ import annotations

from typing import Any

from torch import nn

from engine.layers.activations import ACTIVATIONS, make_activation
from engine.layers.base import LAYERS, LayerType, Shape, ShapeError, one_input
from engine.params import Param


def _image(name: str, shapes: list[Shape]) -> Shape:
    shape = one_input(shapes)
    if len(shape) != 3:
        raise ShapeError(f"{name} needs an image input [channels, height, width], got "
                         f"{list(shape)}")
    return shape


def _out(size: int, k: int, stride: int, pad: int, dilation: int = 1) -> int:
    return (size + 2 * pad - dilation * (k - 1) - 1) // stride + 1


def _conv_infer(p: dict[str, Any], shapes: list[Shape]) -> Shape:
    c, h, w = _image("conv2d", shapes)
    k, s, pad, d = p["kernel_size"], p["stride"], p["padding"], p["dilation"]
    span = d * (k - 1) + 1
    if span > h + 2 * pad or span > w + 2 * pad:
        raise ShapeError(f"kernel_size {k} (dilation {d}) is larger than the {h}x{w} input "
                         f"plus padding {pad}; use a smaller kernel or more padding")
    return (p["filters"], _out(h, k, s, pad, d), _out(w, k, s, pad, d))


class ConvAct(nn.Module):
    def __init__(self, conv: nn.Conv2d, act: nn.Module | None) -> None:
        super().__init__()
        self.conv, self.act = conv, act

    def forward(self, x):  # noqa: ANN001, ANN201
        x = self.conv(x)
        return x if self.act is None else self.act(x)


def _conv_build(p: dict[str, Any], shapes: list[Shape]) -> nn.Module:
    conv = nn.Conv2d(shapes[0][0], p["filters"], p["kernel_size"], p["stride"], p["padding"],
                     p["dilation"])
    return ConvAct(conv, None if p["activation"] == "none" else make_activation(p["activation"]))


LAYERS.register(LayerType(
    name="conv2d",
    help="Slides filters over the image: shared weights, local connections.",
    params=(
        Param("filters", int, 8, "Number of output channels (feature maps).", min=1, max=1024),
        Param("kernel_size", int, 3, "Width and height of each filter.", min=1, max=15),
        Param("stride", int, 1, "Step between filter positions.", min=1, max=8),
        Param("padding", int, 1, "Zeros added around the border.", min=0, max=8),
        Param("dilation", int, 1, "Spacing between filter taps.", min=1, max=8),
        Param("activation", str, "relu", "Activation applied to the feature maps.",
              choices=("none", *ACTIVATIONS)),
    ),
    infer=_conv_infer, build=_conv_build, category="convolution",
))


def _pool_infer(name: str):  # noqa: ANN202
    def infer(p: dict[str, Any], shapes: list[Shape]) -> Shape:
        c, h, w = _image(name, shapes)
        k, s = p["kernel_size"], p["stride"] or p["kernel_size"]
        if k > h or k > w:
            raise ShapeError(f"kernel_size {k} is larger than the {h}x{w} input")
        return (c, _out(h, k, s, 0), _out(w, k, s, 0))
    return infer


for _name, _cls, _help in (("maxpool2d", nn.MaxPool2d, "Keeps the largest value of each window."),
                           ("avgpool2d", nn.AvgPool2d, "Averages each window.")):
    LAYERS.register(LayerType(
        name=_name, help=_help, category="convolution",
        params=(Param("kernel_size", int, 2, "Window size.", min=1, max=15),
                Param("stride", int, 0, "Step between windows (0: the window size).", min=0,
                      max=15)),
        infer=_pool_infer(_name),
        build=lambda p, s, c=_cls: c(p["kernel_size"], p["stride"] or p["kernel_size"]),
    ))

LAYERS.register(LayerType(
    name="global_avgpool",
    help="Averages each feature map to one number: [C, H, W] becomes [C].",
    params=(), category="convolution",
    infer=lambda p, shapes: (_image("global_avgpool", shapes)[0],),
    build=lambda p, s: nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()),
))
