"""Attention layers: one head with additive or scaled dot-product scoring, and multi-head
attention. One input attends to itself; a second input supplies the keys and values."""

from __future__ import annotations

from typing import Any

from torch import nn

from engine.i18n import N_
from engine.layers.attention_core import Attention, MultiHeadAttention
from engine.layers.base import LAYERS, LayerType, Shape, whole_input
from engine.layers.sequence_shape import check_heads, sequence
from engine.params import Param

DIM = Param("dim", int, 32, N_("Width of the queries, keys and values (and of the output)."),
            min=1, max=4096)
CAUSAL = Param("causal", bool, False, N_("Hide later positions: each query reads only keys up to "
                                         "its own position (a language model must not see the "
                                         "future)."))


def _shapes(name: str, shapes: list[Shape]) -> tuple[int, int, int]:
    """(query length, query features, key features)."""
    tq, fq = sequence(name, shapes[0])
    fk = sequence(name, shapes[1])[1] if len(shapes) > 1 else fq
    return tq, fq, fk


def _key(shapes: list[Shape]) -> str:
    return "cross" if len(shapes) > 1 else "self"


def _infer_single(p: dict[str, Any], shapes: list[Shape]) -> Shape:
    tq, _, _ = _shapes("attention", shapes)
    return (tq, p["dim"])


def _build_single(p: dict[str, Any], shapes: list[Shape]) -> nn.Module:
    _, fq, fk = _shapes("attention", shapes)
    return Attention(fq, fk, p["dim"], p["scoring"], p["causal"], _key(shapes))


def _infer_multi(p: dict[str, Any], shapes: list[Shape]) -> Shape:
    tq, _, _ = _shapes("multihead_attention", shapes)
    check_heads("multihead_attention", p["dim"], p["heads"])
    return (tq, p["dim"])


def _build_multi(p: dict[str, Any], shapes: list[Shape]) -> nn.Module:
    _, fq, fk = _shapes("multihead_attention", shapes)
    return MultiHeadAttention(fq, fk, p["dim"], p["heads"], p["causal"], p["dropout"],
                              _key(shapes))


LAYERS.register(LayerType(
    name="attention",
    help=N_("One attention head: each position takes a weighted mean of the values, weighted by "
            "how well its query matches each key. A second input supplies the keys and values."),
    params=(
        Param("scoring", str, "dot", N_("How a query is matched with a key: scaled dot "
                                        "product q·k/√d, or additive (Bahdanau) vᵀ tanh(W q + "
                                        "U k)."),
              choices=("dot", "additive")),
        DIM, CAUSAL,
    ),
    infer=_infer_single, build=_build_single, max_inputs=2, window=whole_input,
    category="attention",
))

LAYERS.register(LayerType(
    name="multihead_attention",
    help=N_("Several attention heads side by side, each with its own queries, keys and values, "
            "merged by a linear layer. A second input supplies the keys and values."),
    params=(
        Param("heads", int, 4, N_("Number of heads; they split the width between them."),
              min=1, max=64),
        DIM, CAUSAL,
        Param("dropout", float, 0.0, N_("Probability of dropping an attention weight while "
                                        "training."), min=0.0, max=0.9),
    ),
    infer=_infer_multi, build=_build_multi, max_inputs=2, window=whole_input,
    category="attention",
))
