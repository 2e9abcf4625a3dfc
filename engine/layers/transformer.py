"""Transformer blocks. Encoder: self-attention then a feed-forward network, each wrapped in
a residual connection and layer norm. Decoder: masked self-attention, cross-attention to a
second input (the encoder's output), then the feed-forward network.

A block's ``keep_attention`` switches its attention parts; its ``attention_maps`` holds
theirs: {"self": ..., "cross": ...}, each [batch, heads, queries, keys].
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from engine.i18n import N_
from engine.layers.attention_core import MultiHeadAttention
from engine.layers.base import LAYERS, LayerType, Shape, whole_input
from engine.layers.sequence_shape import check_heads, sequence
from engine.params import Param


class Block(nn.Module):
    def __init__(self, width: int, memory: int | None, p: dict[str, Any]) -> None:
        super().__init__()
        self.pre = p["norm"] == "pre"
        heads, drop = p["heads"], p["dropout"]
        self.self_attn = MultiHeadAttention(width, width, width, heads, p["causal"], drop,
                                            "self")
        self.cross_attn = (None if memory is None else
                           MultiHeadAttention(width, memory, width, heads, False, drop, "cross"))
        act = nn.GELU() if p["activation"] == "gelu" else nn.ReLU()
        self.ff = nn.Sequential(nn.Linear(width, p["feedforward"]), act, nn.Dropout(drop),
                                nn.Linear(p["feedforward"], width))
        self.norms = nn.ModuleList(nn.LayerNorm(width) for _ in range(2 + (memory is not None)))
        self.drop = nn.Dropout(drop)

    @property
    def parts(self) -> list[MultiHeadAttention]:
        return [self.self_attn] + ([self.cross_attn] if self.cross_attn is not None else [])

    @property
    def keep_attention(self) -> bool:
        return self.self_attn.keep_attention

    @keep_attention.setter
    def keep_attention(self, on: bool) -> None:
        for part in self.parts:
            part.keep_attention = on

    @property
    def attention_maps(self) -> dict[str, torch.Tensor]:
        return {k: v for part in self.parts for k, v in part.attention_maps.items()}

    def _sub(self, x: torch.Tensor, i: int, f: Any) -> torch.Tensor:  # noqa: ANN401
        """x + f(x) with its layer norm before f (pre-norm) or after the sum (post-norm)."""
        if self.pre:
            return x + self.drop(f(self.norms[i](x)))
        return self.norms[i](x + self.drop(f(x)))

    def forward(self, x: torch.Tensor, memory: torch.Tensor | None = None) -> torch.Tensor:
        x = self._sub(x, 0, self.self_attn)
        if self.cross_attn is not None:
            x = self._sub(x, 1, lambda h: self.cross_attn(h, memory))
        return self._sub(x, len(self.norms) - 1, self.ff)


def _widths(name: str, p: dict[str, Any], shapes: list[Shape]) -> tuple[int, int | None]:
    length, width = sequence(name, shapes[0])
    check_heads(name, width, p["heads"], N_("the input width"))
    return width, sequence(name, shapes[1])[1] if len(shapes) > 1 else None


def _params(causal: bool) -> tuple[Param, ...]:
    return (
        Param("heads", int, 4, N_("Attention heads; they split the width between them."),
              min=1, max=64),
        Param("feedforward", int, 64, N_("Width of the hidden layer of the feed-forward network."),
              min=1, max=16384),
        Param("dropout", float, 0.0, N_("Dropout on attention weights and on each part's output "
                                        "while training."), min=0.0, max=0.9),
        Param("norm", str, "post", N_("Layer norm after each residual sum (post, the original "
                                      "Transformer) or before each part (pre, steadier when "
                                      "deep)."),
              choices=("post", "pre")),
        Param("activation", str, "relu", N_("Activation of the feed-forward network."),
              choices=("relu", "gelu")),
        Param("causal", bool, causal, N_("Mask the self-attention so each position sees only "
                                         "itself and earlier positions.")),
    )


for _name, _help, _causal, _inputs in (
    ("transformer_encoder", N_("A Transformer encoder block: self-attention and a "
                               "feed-forward network, each with a residual connection and "
                               "layer norm."), False, (1, 1)),
    ("transformer_decoder", N_("A Transformer decoder block: masked self-attention, "
                               "cross-attention to the second input (the encoder's output) and a "
                               "feed-forward network."),
     True, (2, 2)),
):
    LAYERS.register(LayerType(
        name=_name, help=_help, params=_params(_causal),
        infer=lambda p, shapes, n=_name: (_widths(n, p, shapes), shapes[0])[1],
        build=lambda p, shapes, n=_name: Block(*_widths(n, p, shapes), p),
        min_inputs=_inputs[0], max_inputs=_inputs[1], window=whole_input,
        category="attention",
    ))
