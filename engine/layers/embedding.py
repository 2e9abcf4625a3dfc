"""Token embedding: each token id [length] becomes a learned vector [length, dim]."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from engine.i18n import N_, t
from engine.layers.base import LAYERS, LayerType, Shape, ShapeError, one_input, whole_input
from engine.params import Param


class Embedding(nn.Embedding):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        try:
            return F.embedding(x.long(), self.weight)
        except IndexError:
            # PyTorch's own words ("index out of range in self") name neither cause nor fix.
            raise IndexError(vocab_problem(self.num_embeddings, int(x.max()) + 1)) from None


def vocab_problem(vocab_size: int, tokens: int) -> str | None:
    """What to change when the data has more tokens than the embedding has rows."""
    if tokens <= vocab_size:
        return None
    return t("the data has {tokens} different tokens but the embedding's vocab_size is "
             "{vocab_size}; raise vocab_size to at least {tokens}", tokens=tokens,
             vocab_size=vocab_size)


def _infer(p: dict[str, Any], shapes: list[Shape]) -> Shape:
    shape = one_input(shapes)
    if len(shape) != 1:
        raise ShapeError(t("embedding reads token ids [length], got {shape}; this input holds "
                           "numbers already: feed it to rnn, lstm, gru or linear directly",
                           shape=list(shape)))
    return (shape[0], p["dim"])


LAYERS.register(LayerType(
    name="embedding",
    help=N_("Turns each token (a character, a digit, a word) into a learned vector."),
    params=(
        Param("vocab_size", int, 64, N_("How many different tokens it knows (rows of its table); "
                                        "at least the data's vocabulary."), min=2, max=100_000),
        Param("dim", int, 32, N_("Length of each token's vector."), min=1, max=4096),
    ),
    infer=_infer,
    build=lambda p, shapes: Embedding(p["vocab_size"], p["dim"]),
    window=whole_input, category="sequence",
))
