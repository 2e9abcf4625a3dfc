"""The n-gram language model: the baseline a neural next-token model has to beat.

P(w | the n - 1 tokens before it) = (count(context, w) + 1) / (count(context) + V), Laplace
("add one") smoothing, so a pair never seen still gets a little probability. A position with
fewer than n - 1 tokens before it (the start of a text or a window) pads its context with a
start marker, both when counting and when scoring.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from engine.i18n import t


def _array(a: np.ndarray | torch.Tensor) -> np.ndarray:
    return a.cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)


class NGram:
    def __init__(self, n: int, vocab_size: int) -> None:
        if n < 1:
            raise ValueError(t("an n-gram model needs n of at least 1"))
        if vocab_size < 1:
            raise ValueError(t("the vocabulary is empty"))
        # Keys pack a context and the next token into one int64; refuse what would overflow.
        if (n - 1) * math.log2(vocab_size + 1) + math.log2(vocab_size) >= 62:
            raise ValueError(t("a {n}-gram over {vocab} tokens is too large; lower n", n=n,
                               vocab=vocab_size))
        self.n, self.vocab_size = n, vocab_size
        self._keys = np.zeros(0, np.int64)  # sorted (context, next) keys
        self._counts = np.zeros(0, np.int64)
        self._ctx_keys = np.zeros(0, np.int64)  # sorted context keys
        self._ctx_counts = np.zeros(0, np.int64)

    # counting -------------------------------------------------------------------------
    def _contexts(self, x: np.ndarray) -> np.ndarray:
        """Context keys [N, T]: for position t, the n - 1 tokens up to and including x[t]
        (the model predicts what follows x[t]), padded on the left with the start marker."""
        k, v = self.n - 1, self.vocab_size
        keys = np.zeros(x.shape, np.int64)
        if k == 0:
            return keys
        padded = np.concatenate([np.full((len(x), k - 1), v, np.int64), x.astype(np.int64)],
                                axis=1)
        for j in range(k):
            keys = keys * (v + 1) + padded[:, j:j + x.shape[1]]
        return keys

    def fit(self, x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor) -> NGram:
        """Count next-token pairs of aligned windows: y[:, t] follows x[:, :t + 1]."""
        x, y = _array(x), _array(y)
        ctx = self._contexts(x).ravel()
        full = ctx * self.vocab_size + y.astype(np.int64).ravel()
        self._keys, self._counts = np.unique(full, return_counts=True)
        self._ctx_keys, self._ctx_counts = np.unique(ctx, return_counts=True)
        return self

    def fit_stream(self, ids: np.ndarray | torch.Tensor) -> NGram:
        """Count a whole text (ids [L]): every token after the first is a target."""
        ids = _array(ids)
        return self.fit(ids[None, :-1], ids[None, 1:])

    # scoring --------------------------------------------------------------------------
    @staticmethod
    def _lookup(keys: np.ndarray, counts: np.ndarray, q: np.ndarray) -> np.ndarray:
        at = np.clip(np.searchsorted(keys, q), 0, max(len(keys) - 1, 0))
        if not len(keys):
            return np.zeros(q.shape, np.int64)
        return np.where(keys[at] == q, counts[at], 0)

    def log_probs(self, x: np.ndarray | torch.Tensor,
                  y: np.ndarray | torch.Tensor) -> np.ndarray:
        """Natural log of P(y[:, t] | context) for every position."""
        x, y = _array(x), _array(y)
        ctx = self._contexts(x)
        pair = self._lookup(self._keys, self._counts, ctx * self.vocab_size + y)
        total = self._lookup(self._ctx_keys, self._ctx_counts, ctx)
        return np.log(pair + 1.0) - np.log(total + float(self.vocab_size))

    def perplexity(self, x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor) -> float:
        """exp(mean negative log-likelihood per token): comparable with exp of a neural
        model's cross-entropy on the same targets."""
        return float(np.exp(-self.log_probs(x, y).mean()))

    def perplexity_stream(self, ids: np.ndarray | torch.Tensor) -> float:
        ids = _array(ids)
        return self.perplexity(ids[None, :-1], ids[None, 1:])

    def distribution(self, context: np.ndarray | list[int]) -> np.ndarray:
        """P(next token) over the vocabulary after ``context`` (its last n - 1 tokens)."""
        ctx = np.asarray(context, np.int64)[None, :]
        if ctx.shape[1] == 0:
            ctx = np.full((1, 1), self.vocab_size, np.int64)  # only the start marker
        key = self._contexts(ctx)[0, -1]
        pair = self._lookup(self._keys, self._counts,
                            key * self.vocab_size + np.arange(self.vocab_size))
        return (pair + 1.0) / (pair.sum() + self.vocab_size)

    def sample(self, context: list[int], n: int, generator: np.random.Generator) -> list[int]:
        """``n`` tokens drawn one at a time after ``context``."""
        out = list(context)
        for _ in range(n):
            out.append(int(generator.choice(self.vocab_size, p=self.distribution(out))))
        return out[len(context):]


def best_baseline(x_train: np.ndarray | torch.Tensor, y_train: np.ndarray | torch.Tensor,
                  x_test: np.ndarray | torch.Tensor, y_test: np.ndarray | torch.Tensor,
                  vocab_size: int, orders: range = range(1, 6)) -> tuple[NGram, float]:
    """The strongest n-gram on these windows, as the course notes build it: counted on the
    training windows, the n with the lowest test perplexity (more context is not always
    better: longer contexts are seen too rarely to count)."""
    fitted = [NGram(n, vocab_size).fit(x_train, y_train) for n in orders]
    scored = [(m.perplexity(x_test, y_test), m) for m in fitted]
    perplexity, model = min(scored, key=lambda s: s[0])
    return model, perplexity
