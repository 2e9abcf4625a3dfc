"""Pooling over images: fixed windows, a chosen output size, or the whole map."""

from __future__ import annotations

from typing import Any

from torch import nn

from engine.i18n import N_, t
from engine.layers.base import LAYERS, LayerType, Shape, ShapeError, Window, square, whole_input
from engine.layers.spatial import check_span, image_input, out_size
from engine.params import Param


def _stride(p: dict[str, Any]) -> int:
    return p["stride"] or p["kernel_size"]


def _pool_infer(name: str):  # noqa: ANN202
    def infer(p: dict[str, Any], shapes: list[Shape]) -> Shape:
        c, h, w = image_input(name, shapes)
        k, pad = p["kernel_size"], p["padding"]
        if pad > k // 2:  # PyTorch refuses it: a window could then hold only padding
            raise ShapeError(t("{name}: padding {pad} is more than half the kernel_size {k}; "
                               "use padding at most {most} (pooling pads at most half the "
                               "window) or a larger kernel_size", name=name, pad=pad, k=k,
                               most=k // 2))
        check_span(name, (h, w), k, pad)
        s = _stride(p)
        return (c, out_size(h, k, s, pad), out_size(w, k, s, pad))
    return infer


def _pool_window(p: dict[str, Any], shapes: list[Shape]) -> Window:
    return square(p["kernel_size"], _stride(p), p["padding"])


POOL_PARAMS = (
    Param("kernel_size", int, 2, N_("Window size."), min=1, max=15),
    Param("stride", int, 0, N_("Step between windows (0: the window size)."), min=0, max=15),
    Param("padding", int, 0, N_("Border added around the image, at most half the window."),
          min=0, max=7),
)

for _name, _cls, _help in (
        ("maxpool2d", nn.MaxPool2d, N_("Keeps the largest value of each window.")),
        ("avgpool2d", nn.AvgPool2d, N_("Averages each window."))):
    LAYERS.register(LayerType(
        name=_name, help=_help, category="convolution", params=POOL_PARAMS,
        infer=_pool_infer(_name), window=_pool_window,
        build=lambda p, s, c=_cls: c(p["kernel_size"], _stride(p), p["padding"]),
    ))


def _adaptive_infer(name: str):  # noqa: ANN202
    def infer(p: dict[str, Any], shapes: list[Shape]) -> Shape:
        c, _, _ = image_input(name, shapes)
        return (c, p["output_size"], p["output_size"])
    return infer


for _name, _cls, _help in (
    ("adaptive_avgpool2d", nn.AdaptiveAvgPool2d,
     N_("Averages windows sized so that any input gives maps of the chosen output size.")),
    ("adaptive_maxpool2d", nn.AdaptiveMaxPool2d,
     N_("Keeps the largest value of windows sized so that any input gives maps of the chosen "
        "output size.")),
):
    LAYERS.register(LayerType(
        name=_name, category="convolution", help=_help,
        params=(Param("output_size", int, 2, N_("Height and width of each output map."), min=1,
                      max=64),),
        infer=_adaptive_infer(_name), window=whole_input,
        build=lambda p, s, c=_cls: c(p["output_size"]),
    ))

LAYERS.register(LayerType(
    name="global_avgpool",
    help=N_("Averages each feature map to one number: [C, H, W] becomes [C]."),
    params=(), category="convolution", window=whole_input,
    infer=lambda p, shapes: (image_input("global_avgpool", shapes)[0],),
    build=lambda p, s: nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()),
))
