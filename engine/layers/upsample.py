"""Upsampling: a larger image by repeating or interpolating pixels, nothing learned."""

from __future__ import annotations

from typing import Any

from torch import nn

from engine.i18n import N_
from engine.layers.base import LAYERS, LayerType, Shape, whole_input
from engine.layers.spatial import image_input
from engine.params import Param


def _infer(p: dict[str, Any], shapes: list[Shape]) -> Shape:
    c, h, w = image_input("upsample", shapes)
    f = p["scale_factor"]
    return (c, h * f, w * f)


def _build(p: dict[str, Any], shapes: list[Shape]) -> nn.Module:
    if p["mode"] == "nearest":
        return nn.Upsample(scale_factor=p["scale_factor"], mode="nearest")
    return nn.Upsample(scale_factor=p["scale_factor"], mode="bilinear", align_corners=False)


LAYERS.register(LayerType(
    name="upsample",
    help=N_("Makes each feature map larger by a whole factor: nearest repeats each pixel, "
            "bilinear blends its neighbours."),
    params=(
        Param("mode", str, "nearest", N_("How new pixels get their values."),
              choices=("nearest", "bilinear")),
        Param("scale_factor", int, 2, N_("How many times taller and wider."), min=1, max=8),
    ),
    # Output positions step a fraction of an input pixel: no whole-pixel window.
    infer=_infer, build=_build, window=whole_input, category="convolution",
))
