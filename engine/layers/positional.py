"""Positional encodings: attention alone cannot tell positions apart, so each position's
vector gets a signature added, fixed (sinusoidal) or learned."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from engine.i18n import N_
from engine.layers.base import LAYERS, LayerType, Shape, whole_input
from engine.layers.sequence_shape import sequence
from engine.params import Param


def sinusoidal(length: int, width: int) -> torch.Tensor:
    """[length, width]: sin at even features, cos at odd ones, wavelengths 2π to 10000·2π."""
    pos = torch.arange(length, dtype=torch.float32).unsqueeze(1)
    rate = torch.exp(torch.arange(0, width, 2, dtype=torch.float32)
                     * (-math.log(10000.0) / width))
    pe = torch.zeros(length, width)
    pe[:, 0::2] = torch.sin(pos * rate)
    pe[:, 1::2] = torch.cos(pos * rate)[:, : width // 2]
    return pe


class Positional(nn.Module):
    def __init__(self, length: int, width: int, kind: str) -> None:
        super().__init__()
        self.kind = kind
        if kind == "learned":
            self.table = nn.Parameter(torch.randn(length, width) * 0.02)
        else:  # a buffer, so it follows the model to its device but is never trained
            self.register_buffer("table", sinusoidal(length, width), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.table[: x.shape[1]]


def _infer(p: dict[str, Any], shapes: list[Shape]) -> Shape:
    sequence("positional", shapes[0])
    return shapes[0]


LAYERS.register(LayerType(
    name="positional",
    help=N_("Adds to each position a vector that tells where it is in the sequence, so attention "
            "can use order."),
    params=(Param("kind", str, "sinusoidal", N_("Sinusoidal: fixed waves of many wavelengths; "
                                                "learned: one trained vector per position."),
                  choices=("sinusoidal", "learned")),),
    infer=_infer,
    build=lambda p, shapes: Positional(*sequence("positional", shapes[0]), p["kind"]),
    window=whole_input, category="sequence",
))
