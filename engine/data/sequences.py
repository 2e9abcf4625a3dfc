"""Generated, seeded sequence sets whose right answer is known.

Token sets give x as int64 ids [N, T] and ``vocab`` (id -> token); aligned many-to-many
targets are ids [N, T'] whose class names are the output tokens, many-to-one targets are
one class per row. The adding problem and sine forecasting are regressions on float
sequences [N, T, features].
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from engine.data.base import DATASETS, DataBundle, DatasetType, split
from engine.i18n import N_
from engine.params import Param

SYMBOLS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = tuple("0123456789")

N_SEQUENCES = Param("n_samples", int, 2000, N_("Number of sequences."), min=10, max=100_000)
TRAIN_RATIO = Param("train_ratio", float, 0.8, N_("Share of sequences used for training."),
                    min=0.1, max=0.9)
LENGTH = Param("length", int, 8, N_("Tokens per sequence."), min=2, max=64)
VOCAB_SIZE = Param("vocab_size", int, 10, N_("How many different symbols (digits first, then "
                                             "letters)."), min=2, max=len(SYMBOLS))

Make = Callable[[dict[str, Any], np.random.Generator], tuple[np.ndarray, np.ndarray]]


def _split(x: np.ndarray, y: np.ndarray, p: dict[str, Any], seed: int) -> tuple:
    tr, te = split(len(x), p["train_ratio"], np.random.default_rng(seed + 1))
    xt, yt = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(y))
    return xt[tr], yt[tr], xt[te], yt[te]


def _register(name: str, title: str, help_: str, params: tuple[Param, ...], make: Make,
              vocab: Callable[[dict[str, Any]], tuple[str, ...]],
              classes: Callable[[dict[str, Any]], tuple[str, ...]]) -> None:
    def load(p: dict[str, Any], seed: int, features: Sequence[str] | None) -> DataBundle:
        x, y = make(p, np.random.default_rng(seed))
        parts = _split(x.astype(np.int64), y.astype(np.int64), p, seed)
        return DataBundle(*parts, "classification", classes(p), vocab=vocab(p))

    DATASETS.register(DatasetType(name, title, "classification", help_,
                                  (N_SEQUENCES, *params, TRAIN_RATIO), load, category="sequence"))


def _symbols(p: dict[str, Any]) -> tuple[str, ...]:
    return tuple(SYMBOLS[:p["vocab_size"]])


def _random_tokens(p: dict[str, Any], rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, p["vocab_size"], (p["n_samples"], p["length"]))


def _aligned(name: str, title: str, help_: str,
             target: Callable[[np.ndarray], np.ndarray]) -> None:
    def make(p: dict[str, Any], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        x = _random_tokens(p, rng)
        return x, target(x)

    _register(name, title, help_, (LENGTH, VOCAB_SIZE), make, _symbols, _symbols)


_aligned("copy", N_("Copy"), N_("Output each input token at its own position."), lambda x: x.copy())
_aligned("reverse", N_("Reverse"), N_("Output the input sequence backwards: position t gets the "
                                      "token at position T - 1 - t."),
         lambda x: x[:, ::-1].copy())
_aligned("sort", N_("Sort"), N_("Output the input tokens in ascending order (digits before "
                                "letters)."), lambda x: np.sort(x, axis=1))


def _parity(p: dict[str, Any], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = rng.integers(0, 2, (p["n_samples"], p["length"]))
    return x, x.sum(1) % 2


_register("parity", N_("Parity"), N_("Is the number of 1s in a sequence of 0s and 1s even or "
                                     "odd? One answer per sequence."),
          (LENGTH,), _parity, lambda p: ("0", "1"),
          lambda p: (N_("even"), N_("odd")))


def _count(p: dict[str, Any], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = _random_tokens(p, rng)
    return x, (x == 1).sum(1)


_register("count", N_("Count"), N_("How many times the symbol 1 appears in the sequence. One "
                                   "answer per sequence, from 0 to the length."),
          (LENGTH, VOCAB_SIZE), _count, _symbols,
          lambda p: tuple(str(i) for i in range(p["length"] + 1)))

ADD_DIGITS = Param("digits", int, 3, N_("Digits of each number (written with leading zeros)."),
                   min=1, max=8)
ADD_ALIGN = Param("target_length", str, "input", N_("input: the sum's digits right-aligned under "
                                                    "the whole input (leading zeros), one output "
                                                    "per input token; sum: only the digits + 1 "
                                                    "places of the sum."), choices=("input", "sum"))


def addition_tokens(a: np.ndarray, b: np.ndarray, digits: int,
                    target_length: str = "input") -> tuple[np.ndarray, np.ndarray]:
    """Ids of "a+b" (zero-padded to ``digits``) and of the sum's digits, most significant
    first, zero-padded to the input's length or to digits + 1."""
    def to_digits(v: np.ndarray, width: int) -> np.ndarray:
        powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
        return (v[:, None] // powers) % 10

    plus = np.full((len(a), 1), len(DIGITS), dtype=np.int64)  # "+" follows the ten digits
    x = np.concatenate([to_digits(a, digits), plus, to_digits(b, digits)], axis=1)
    width = x.shape[1] if target_length == "input" else digits + 1
    return x, to_digits(a + b, width)


def _addition(p: dict[str, Any], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    top = 10 ** p["digits"]
    a = rng.integers(0, top, p["n_samples"], dtype=np.int64)
    b = rng.integers(0, top, p["n_samples"], dtype=np.int64)
    return addition_tokens(a, b, p["digits"], p["target_length"])


_register("addition", N_("Multi-digit addition"),
          N_("Input \"123+456\" as tokens; output the sum's digits (\"0579\"), one digit per "
             "output position."), (ADD_DIGITS, ADD_ALIGN),
          _addition, lambda p: (*DIGITS, "+"), lambda p: DIGITS)


def _regression(name: str, title: str, help_: str, params: tuple[Param, ...],
                make: Make, features: tuple[str, ...]) -> None:
    def load(p: dict[str, Any], seed: int, _f: Sequence[str] | None) -> DataBundle:
        x, y = make(p, np.random.default_rng(seed))
        parts = _split(x.astype(np.float32), y.astype(np.float32), p, seed)
        return DataBundle(*parts, "regression", (), features)

    DATASETS.register(DatasetType(name, title, "regression", help_,
                                  (N_SEQUENCES, *params, TRAIN_RATIO), load, category="sequence"))


def _adding(p: dict[str, Any], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n, t = p["n_samples"], p["length"]
    values = rng.uniform(0, 1, (n, t))
    # One marker in each half (Hochreiter and Schmidhuber's set-up), so at least one marked
    # value lies about T / 2 steps back from the end.
    half = t // 2
    first = rng.integers(0, half, n)
    second = rng.integers(half, t, n)
    markers = np.zeros((n, t))
    rows = np.arange(n)
    markers[rows, first] = markers[rows, second] = 1.0
    y = values[rows, first] + values[rows, second]
    return np.stack([values, markers], axis=2), y[:, None]


_regression("adding", N_("Adding problem"), N_("Each step has a value in [0, 1] and a marker (0 or "
                                               "1); two steps are marked, one in each half. Output "
                                               "the sum of the two marked values. Always answering "
                                               "1 gives a mean squared error of about 0.167."),
            (Param("length", int, 50, N_("Steps per sequence: longer means remembering further "
                                         "back."), min=4, max=200),), _adding, ("value", "marker"))

FORECAST_NOISE = Param("noise", float, 0.1, N_("Noise added to the observed values."),
                       min=0.0, max=1.0)


def _forecast(p: dict[str, Any], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n, t, h = p["n_samples"], p["length"], p["horizon"]
    # A random phase and a period between 12 and 28 steps: the model has to read both from
    # the window instead of memorising one curve.
    period = rng.uniform(12, 28, (n, 1))
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    steps = np.arange(t + h)[None, :]
    wave = np.sin(2 * np.pi * steps / period + phase)
    seen = wave[:, :t] + rng.normal(0, 1, (n, t)) * p["noise"]
    return seen[:, :, None], wave[:, t:]


_regression("sine_forecast", N_("Sine forecasting"), N_("A noisy sine wave (random period and "
                                                        "phase) seen for a number of steps; "
                                                        "predict the clean wave's next steps."),
            (Param("length", int, 30, N_("Steps the model sees."), min=4, max=200),
             Param("horizon", int, 5, N_("Steps ahead to predict."), min=1, max=50),
             FORECAST_NOISE), _forecast, ("value",))
