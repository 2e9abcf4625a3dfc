"""What a sequence model answers, token by token: predictions against targets for the focus
row and the few test rows after it, and generated text samples of a language model.

Predictions are one forward pass of a few rows; samples (several forward passes each) are
drawn at most every few seconds, with a fixed seed so two samples differ only because the
model changed.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from engine.generate import greedy_logits
from engine.i18n import N_
from engine.ngram import best_baseline
from engine.params import Param
from engine.probes.base import register
from engine.probes.sequence_base import (
    is_sequence_data,
    looking,
    run_model,
    token_labels,
    vocab_of,
)
from engine.probes.vision_base import FocusProbe, min_interval

if TYPE_CHECKING:
    from engine.trainer import Trainer

COST_SHARE = 30  # seconds of training per second spent generating samples
ROWS = 8  # test rows shown with their predictions: the focus row and the ones after it


def answers(out: torch.Tensor, y: torch.Tensor, class_names: tuple[str, ...],
            task_kind: str) -> list[dict[str, Any]]:
    """Per row: the targets and the predictions (tokens for a classifier, numbers for a
    regression), how sure the model is of each prediction and whether it is right.
    ``out`` is [N, K] or [N, T', K] (classes last), ``y`` [N] or [N, T'] (or values)."""
    rows = []
    if task_kind == "classification" and out.dim() >= 2 and out.shape[-1] > 1:
        probs = torch.softmax(out.float(), dim=-1)
        conf, pred = probs.max(dim=-1)
        if pred.dim() == 1:  # many-to-one: one answer per row
            pred, conf, y = pred[:, None], conf[:, None], y[:, None]
        for p, c, t in zip(pred.cpu().numpy(), conf.cpu().numpy(), y.cpu().numpy(),
                           strict=True):
            rows.append({"targets": [class_names[int(i)] for i in t],
                         "predicted": [class_names[int(i)] for i in p],
                         "confidence": c.astype(np.float32), "correct": p == t})
        return rows
    o, t = out.detach().float().cpu().numpy(), y.detach().float().cpu().numpy()
    for p, v in zip(o.reshape(len(o), -1), t.reshape(len(t), -1), strict=True):
        rows.append({"targets": v.astype(np.float32), "predicted": p.astype(np.float32),
                     "error": np.abs(p - v).astype(np.float32)})
    return rows


@register
class TokenPredictions(FocusProbe):
    name = "token_predictions"
    help = (N_("For the chosen sequence and the few after it: the model's answer at each position "
               "against the right one."))
    default_every = 20
    params = (min_interval(0.5),)

    def compute(self, trainer: Trainer) -> dict[str, Any] | None:
        if not is_sequence_data(trainer):
            return None
        n = len(trainer.x_test)
        start = int(trainer.focus["index"])
        pick = torch.arange(start, start + min(ROWS, n), device=trainer.x_test.device) % n
        x, y = trainer.x_test[pick], trainer.y_test[pick]
        with looking(trainer), torch.no_grad():
            out = run_model(trainer, x, y)
        vocab = vocab_of(trainer)
        rows = answers(out, y, tuple(trainer.data.class_names), trainer.task.kind)
        for i, row in zip(pick.tolist(), rows, strict=True):
            row["index"] = i
            row["inputs"] = token_labels(trainer.x_test[i], vocab)
        kind = "tokens" if "correct" in rows[0] else "values"
        found = {"step": trainer.step, "index": start, "kind": kind, "rows": rows}
        span = trainer.data.parts.get("target_in") if trainer.data.parts else None
        if span and kind == "tokens":
            # An encoder-decoder on its own: each answer token fed back in, no teacher.
            with looking(trainer), torch.no_grad():
                out = greedy_logits(trainer.model, x, span)
            found["greedy"] = answers(out, y, tuple(trainer.data.class_names), trainer.task.kind)
            for i, row in zip(pick.tolist(), found["greedy"], strict=True):
                row["index"] = i
        return found


def generator() -> Any:  # noqa: ANN401
    """engine.generate's ``generate``, or None where it is not there."""
    try:
        from engine import generate
    except ImportError:
        return None
    return getattr(generate, "generate", None)


@register
class Samples(FocusProbe):
    """Text the language model writes, now and at earlier steps (the newest few kept)."""

    name = "samples"
    help = N_("Text a language model writes from a prompt, as training goes on.")
    default_every = 50
    params = (min_interval(3.0),
              Param("length", int, 80, N_("Tokens generated per sample."), min=1, max=1000),
              Param("temperature", float, 0.8, N_("Sampling temperature."), min=0.05, max=5.0),
              Param("top_k", int, 0, N_("Sample only from the k likeliest tokens (0: all)."),
                    min=0, max=1000),
              Param("kept", int, 6, N_("Samples kept, newest last."), min=1, max=50))

    def on_batch_end(self, trainer: Trainer) -> None:
        # Generating costs many forward passes: wait long enough that it takes at most
        # about 3% of the training time, however large the model.
        wait = max(float(self.options.get("min_interval", self.params[0].default)),
                   COST_SHARE * getattr(self, "_cost", 0.0))
        if time.perf_counter() - self._last >= wait:
            self.record(trainer)

    def compute(self, trainer: Trainer) -> dict[str, Any] | None:
        generate = generator()
        if generate is None or not language_model(trainer):
            return None
        opts = {p.name: self.options.get(p.name, p.default) for p in self.params}
        for name in ("temperature", "top_k"):  # the page's choice, when it made one
            if trainer.focus.get(name) is not None:
                opts[name] = trainer.focus[name]
        prompt = trainer.x_test[int(trainer.focus["index"])][:8]
        start = time.perf_counter()
        vocab = vocab_of(trainer)
        # The same seed each time: two samples differ only because the model changed.
        seed = torch.Generator().manual_seed(trainer.exp.train.seed)
        ids = generate(trainer.model, prompt, int(opts["length"]),
                       temperature=float(opts["temperature"]), top_k=int(opts["top_k"]) or None,
                       generator=seed)
        text = "".join(vocab[i] for i in ids)
        self._cost = time.perf_counter() - start
        previous = (getattr(self, "_result", None) or {}).get("history", [])
        kept = int(opts["kept"])
        history = [s for s in previous if s["step"] != trainer.step][-(kept - 1):] \
            if kept > 1 else []
        sample = {"step": trainer.step, "prompt": "".join(token_labels(prompt, vocab_of(
            trainer))), "text": text, "temperature": float(opts["temperature"]),
                  "top_k": int(opts["top_k"])}
        return {"step": trainer.step, "index": int(trainer.focus["index"]), **sample,
                "history": [*history, sample],
                "baseline": self._baseline(trainer, prompt, int(opts["length"]))}

    def _baseline(self, trainer: Trainer, prompt: torch.Tensor, length: int) -> dict[str, Any]:
        """The n-gram model the neural one has to beat, counted once per data set: its test
        perplexity and a text it writes from the same prompt."""
        key = (id(trainer.data), [int(i) for i in prompt], length)
        cached = getattr(self, "_ngram", None)
        if cached is None or cached[0] != key:
            vocab = vocab_of(trainer)
            data = trainer.data
            model, perplexity = best_baseline(data.x_train, data.y_train, data.x_test,
                                              data.y_test, len(vocab))
            rng = np.random.default_rng(trainer.exp.train.seed)
            ids = model.sample([int(i) for i in prompt], length, rng)
            cached = (key, {"n": model.n, "perplexity": perplexity,
                            "text": "".join(vocab[i] for i in ids)})
            self._ngram = cached
        return cached[1]


def language_model(trainer: Trainer) -> bool:
    """Next-token prediction: targets are the input shifted by one token."""
    task = getattr(trainer.task, "name", "") or getattr(trainer.exp.train, "task", "") or ""
    if "language" in str(task):
        return True
    x, y = trainer.x_test[:4], trainer.y_test[:4]
    return bool(vocab_of(trainer)) and x.shape == y.shape and x.dim() == 2 and bool(
        (x[:, 1:] == y[:, :-1]).all())
