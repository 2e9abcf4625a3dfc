"""Character-level text: windows of a shipped public-domain text or of the user's own.

Each row is a window of ``length`` characters and its targets are the same window shifted
by one (the next character at every position). The text is split by position, the first
part for training and the rest for testing, so no test window overlaps a training one.
Characters beyond ``max_vocab`` (the rarest) become one unknown token, shown as UNKNOWN.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.data.base import DATASETS, DataBundle, DatasetType
from engine.errors import Issue, SpecError
from engine.i18n import N_, t
from engine.params import Param

TEXT_DIR = Path(__file__).with_name("texts")
# source -> file; each file's first line names its source and is not part of the text.
TEXTS = {"aesop": "aesop_en.txt", "daodejing": "daodejing_zh.txt", "lunyu": "lunyu_zh.txt"}
OWN = "own"
MAX_OWN_CHARS = 200_000  # a few hundred kilobytes: enough for a lesson, small for a link
UNKNOWN = "□"  # what classical Chinese editions print for a character that cannot be read
# How a whitespace token is drawn on an axis or in a table, where the real one is invisible.
LABELS = {"\n": "⏎", " ": "␣", "\t": "⇥"}


def _fail(message: str, code: str) -> SpecError:
    return SpecError(Issue("data.params", message, code))


@lru_cache(maxsize=8)
def shipped_text(source: str) -> str:
    """A shipped text without its source line."""
    raw = (TEXT_DIR / TEXTS[source]).read_text(encoding="utf-8")
    return raw.split("\n", 1)[1].strip() + "\n"


def source_line(source: str) -> str:
    """The shipped text's first line: where it comes from."""
    with (TEXT_DIR / TEXTS[source]).open(encoding="utf-8") as f:
        return f.readline().strip()


def build_vocab(text: str, max_vocab: int) -> tuple[str, ...]:
    """The characters of ``text`` in code-point order; when there are more than
    ``max_vocab``, the most frequent max_vocab - 1 and UNKNOWN last."""
    counts = Counter(text)
    counts.pop(UNKNOWN, None)  # a literal UNKNOWN in the text reads as the unknown token
    if len(counts) + (UNKNOWN in text) <= max_vocab:
        kept = sorted(counts)
        return (*kept, UNKNOWN) if UNKNOWN in text else tuple(kept)
    common = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:max_vocab - 1]
    return (*sorted(c for c, _ in common), UNKNOWN)


def encode(text: str, vocab: Sequence[str]) -> np.ndarray:
    """Ids of each character; a character outside ``vocab`` gets UNKNOWN's id."""
    index = {c: i for i, c in enumerate(vocab)}
    unknown = index.get(UNKNOWN, -1)
    ids = np.fromiter((index.get(c, unknown) for c in text), dtype=np.int64, count=len(text))
    if (ids < 0).any():
        raise ValueError(t("the text has characters outside the vocabulary, which has no "
                           "unknown token"))
    return ids


def decode(ids: Sequence[int] | np.ndarray | torch.Tensor, vocab: Sequence[str]) -> str:
    """The text of token ids."""
    return "".join(vocab[int(i)] for i in ids)


def token_label(token: str) -> str:
    """A token as an axis label: whitespace made visible."""
    return LABELS.get(token, token)


@dataclass(frozen=True)
class Corpus:
    """A text's training and test parts as ids, and its vocabulary."""

    train: np.ndarray
    test: np.ndarray
    vocab: tuple[str, ...]
    merged: int = 0  # distinct characters that became UNKNOWN


def corpus(p: dict[str, Any]) -> Corpus:
    """The text the parameters name, split by position and encoded."""
    if p["source"] == OWN:
        text = p["text"].replace("\r\n", "\n").replace("\r", "\n")
        if not text.strip():
            raise _fail(t("no text given; paste your text or choose a shipped one"),
                        "text_missing")
        if len(text) > MAX_OWN_CHARS:
            raise _fail(t("your text has {n} characters; the limit is {most}, so use a part of "
                          "it", n=f"{len(text):,}", most=f"{MAX_OWN_CHARS:,}"), "text_too_long")
    else:
        text = shipped_text(p["source"])
    length = p["length"]
    cut = round(len(text) * p["train_ratio"])
    need = int(np.ceil((length + 1) / min(p["train_ratio"], 1 - p["train_ratio"])))
    if min(cut, len(text) - cut) < length + 1:
        raise _fail(t("the text has {n} characters; windows of {length} with a {share} training "
                      "share need at least {need}, so use a longer text or shorter windows",
                      n=f"{len(text):,}", length=length, share=f"{p['train_ratio']:g}",
                      need=f"{need:,}"), "text_too_short")
    vocab = build_vocab(text, p["max_vocab"])
    ids = encode(text, vocab)
    merged = len(set(text) - set(vocab)) if vocab[-1] == UNKNOWN else 0
    return Corpus(ids[:cut], ids[cut:], vocab, merged)


def windows(ids: np.ndarray, length: int, n: int,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random windows of ``length`` ids and their next-id targets."""
    starts = rng.integers(0, len(ids) - length, n)
    cols = starts[:, None] + np.arange(length)[None, :]
    return ids[cols], ids[cols + 1]


def _load(p: dict[str, Any], seed: int, features: Sequence[str] | None) -> DataBundle:
    c = corpus(p)
    n_train = max(1, min(p["n_samples"] - 1, round(p["n_samples"] * p["train_ratio"])))
    rng = np.random.default_rng(seed)
    parts = [torch.from_numpy(a) for a in (*windows(c.train, p["length"], n_train, rng),
                                           *windows(c.test, p["length"],
                                                    p["n_samples"] - n_train, rng))]
    notes = ()
    if c.merged:
        notes = (t("the text has {n} different characters; the {rare} rarest are shown as "
                   "{unknown} (raise max_vocab to keep them)",
                   n=f"{c.merged + len(c.vocab) - 1:,}", rare=f"{c.merged:,}", unknown=UNKNOWN),)
    return DataBundle(*parts, "classification", c.vocab, vocab=c.vocab, notes=notes)


DATASETS.register(DatasetType(
    "text", N_("Character-level text"), "classification",
    N_("Predict the next character at every position of a window of text: a shipped "
       "public-domain text (Aesop's fables in English, the Daodejing or the Analects in "
       "Chinese) or your own."),
    (Param("source", str, "aesop", N_("Which text: aesop (English), daodejing or lunyu (Chinese), "
                                      "or own (the text below)."), choices=(*TEXTS, OWN)),
     # The page translates help with t(help): the numbers are spelled out in the literal.
     Param("text", str, "", N_("Your own text (any language, at most 200,000 characters); "
                               "used when the source is own."), multiline=True),
     Param("length", int, 32, N_("Characters per window."), min=2, max=256),
     Param("n_samples", int, 4000, N_("Number of windows."), min=10, max=100_000),
     Param("max_vocab", int, 1000, N_("Most different characters kept; the rarest beyond it "
                                      "become □."), min=2, max=5000),
     Param("train_ratio", float, 0.9, N_("Share of the text used for training (its start)."),
           min=0.1, max=0.9)),
    _load, category="text"))
