"""Merge nodes: several inputs in, one out (residual, dense, inception)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from engine.i18n import N_, t
from engine.layers.base import LAYERS, LayerType, Shape, ShapeError


class Add(nn.Module):
    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Multiply(nn.Module):
    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out


class Concat(nn.Module):
    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, dim=1)  # channels for images, features for vectors


def _same(name: str):  # noqa: ANN202
    def infer(p: dict[str, Any], shapes: list[Shape]) -> Shape:
        for s in shapes[1:]:
            if s != shapes[0]:
                raise ShapeError(t("{name} needs inputs of one shape, got {shapes}", name=name,
                                   shapes=t(" and ").join(str(list(s)) for s in shapes)))
        return shapes[0]
    return infer


def _concat(p: dict[str, Any], shapes: list[Shape]) -> Shape:
    rest = {s[1:] for s in shapes}
    if len({len(s) for s in shapes}) != 1 or len(rest) != 1:
        raise ShapeError(t("concat needs inputs that differ only in their first dimension, got "
                           "{shapes}", shapes=t(" and ").join(str(list(s)) for s in shapes)))
    return (sum(s[0] for s in shapes), *shapes[0][1:])


for _name, _cls, _help in (
    ("add", Add, N_("Adds its inputs element-wise: a residual connection x + f(x).")),
    ("multiply", Multiply, N_("Multiplies its inputs element-wise (gating).")),
):
    LAYERS.register(LayerType(name=_name, help=_help, params=(), infer=_same(_name),
                              build=lambda p, s, c=_cls: c(), min_inputs=2, max_inputs=None,
                              category="merge"))

LAYERS.register(LayerType(
    name="concat",
    help=N_("Stacks its inputs along features or channels (DenseNet, inception)."),
    params=(), infer=_concat, build=lambda p, s: Concat(), min_inputs=2, max_inputs=None,
    category="merge",
))
