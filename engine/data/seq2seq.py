"""Encoder-decoder data: the source and the shifted target travel as one tensor.

x packs ``source`` (the question, e.g. "123+456") and ``target_in`` (a start token, then
the answer shifted right by one: teacher forcing) side by side along the time axis, and
``DataBundle.parts`` names the two spans, so the graph's nodes read each by name and
batching, scoring and the probes see one tensor as for every other set. y is the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from engine.data.base import DATASETS, DataBundle, DatasetType
from engine.data.sequences import (
    ADD_DIGITS,
    DIGITS,
    N_SEQUENCES,
    TRAIN_RATIO,
    _split,
    addition_tokens,
)
from engine.i18n import N_

START = "<s>"
VOCAB = (*DIGITS, "+", START)  # source and target tokens share one vocabulary


def pack(source: np.ndarray, target: np.ndarray,
         start: int) -> tuple[np.ndarray, dict[str, tuple[int, int]]]:
    """x = [source | start, target[:-1]] and the spans of its two parts."""
    target_in = np.concatenate([np.full((len(target), 1), start, np.int64), target[:, :-1]], 1)
    s, t = source.shape[1], target.shape[1]
    return np.concatenate([source, target_in], 1), {"source": (0, s), "target_in": (s, s + t)}


def _load(p: dict[str, Any], seed: int, features: Sequence[str] | None) -> DataBundle:
    rng = np.random.default_rng(seed)
    top = 10 ** p["digits"]
    a = rng.integers(0, top, p["n_samples"], dtype=np.int64)
    b = rng.integers(0, top, p["n_samples"], dtype=np.int64)
    source, target = addition_tokens(a, b, p["digits"], "sum")
    x, parts = pack(source, target, VOCAB.index(START))
    return DataBundle(*_split(x, target, p, seed), "classification", DIGITS, vocab=VOCAB,
                      parts=parts)


DATASETS.register(DatasetType(
    "addition_seq2seq", N_("Addition, encoder-decoder"), "classification",
    N_("The encoder reads \"123+456\"; the decoder writes the sum \"0579\" one digit at a time, "
       "reading the digits before (the right ones while training: teacher forcing)."),
    (N_SEQUENCES, ADD_DIGITS, TRAIN_RATIO), _load, category="sequence"))
