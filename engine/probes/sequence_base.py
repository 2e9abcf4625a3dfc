"""What the sequence probes share: the focus row, its tokens, one recording forward pass.

A sequence probe looks at one test row (``trainer.focus["index"]``), like the vision
probes look at one image, and records on the same cadence (``FocusProbe``: run start, every
few steps but at most every ``min_interval`` seconds, pause, run end, a new focus). Each
recording is one forward pass (at most one backward) of that one row in eval mode, with
the layers' recording switches (``keep_attention``, ``keep_states``) on for that pass only,
so training itself always runs the fast path.

Tokens are shown as the data set's vocabulary (characters, digits, "<s>"), never as ids;
a sequence of numbers (sine forecasting) is labelled by its time steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from engine.vision import evaluating

if TYPE_CHECKING:
    from engine.trainer import Trainer


def switchable(model: nn.Module, switch: str) -> list[tuple[str, str, nn.Module]]:
    """(node id, path inside the node, module) of every outermost module that has the
    recording ``switch`` (``keep_attention`` or ``keep_states``), in graph order. ``model`` is a
    GraphModel (its ``layers`` are keyed by node id) or any module (one node, "model")."""
    layers = getattr(model, "layers", None)
    nodes = layers.items() if isinstance(layers, nn.ModuleDict) else [("model", model)]
    found = [(node, path, m) for node, module in nodes for path, m in module.named_modules()
             if hasattr(m, switch)]
    # A block that switches its parts speaks for them (its maps are theirs): keep only
    # the outermost module with the switch.
    return [(node, path, m) for node, path, m in found
            if not any(n == node and q != path and (q == "" or path.startswith(q + "."))
                       for n, q, _ in found)]


@contextmanager
def switched_on(modules: list[nn.Module], switch: str) -> Iterator[None]:
    """``switch`` True on every module for the duration, then False again whatever happens:
    a switch left on would slow every training step after it."""
    for m in modules:
        setattr(m, switch, True)
    try:
        yield
    finally:
        for m in modules:
            setattr(m, switch, False)


def is_sequence_data(trainer: Trainer) -> bool:
    """Token data (a vocabulary) or a time series [T, features]."""
    return bool(vocab_of(trainer)) or len(tuple(trainer.plan.input_shape)) == 2 and \
        trainer.data.image is None


def vocab_of(trainer: Trainer) -> tuple[str, ...]:
    return tuple(getattr(trainer.data, "vocab", ()) or ())


def token_labels(row: Any, vocab: tuple[str, ...]) -> list[str]:  # noqa: ANN401
    """One row of the data as the tokens a person reads: ids through the vocabulary, or the
    time steps (1, 2, ...) of a sequence of numbers."""
    a = row.detach().cpu().numpy() if isinstance(row, torch.Tensor) else np.asarray(row)
    if vocab and a.ndim == 1 and np.issubdtype(a.dtype, np.integer):
        return [vocab[int(i)] if 0 <= int(i) < len(vocab) else "?" for i in a]
    return positions(len(a))


def positions(n: int) -> list[str]:
    return [str(i + 1) for i in range(n)]


def axis_tokens(tokens: list[str], n: int) -> list[str]:
    """``tokens`` when they label an axis of length ``n``, else the positions: a layer after
    a pooling or a convolution no longer has one step per token."""
    return list(tokens) if len(tokens) == n else positions(n)


def focus_row(trainer: Trainer) -> tuple[int, torch.Tensor, torch.Tensor]:
    """The test row in focus: its index, input [1, ...] and target [1, ...]."""
    i = int(trainer.focus["index"])
    return i, trainer.x_test[i:i + 1], trainer.y_test[i:i + 1]


def run_model(trainer: Trainer, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The model's outputs for ``x`` as the task computes them: a recipe with several
    named inputs (an encoder-decoder's source and shifted target) says how through its
    ``outputs(model, x, y)``; any other runs the model on ``x``."""
    outputs = getattr(trainer.task, "outputs", None)
    if callable(outputs):
        return outputs(trainer.model, x, y)
    return trainer.model(x)


def loss_of(trainer: Trainer, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The task's training loss on one row (gradients flow)."""
    return trainer.task.loss(trainer.model, x, y)


@contextmanager
def looking(trainer: Trainer) -> Iterator[None]:
    """Eval mode for one recording (dropout off), restored after."""
    with evaluating(trainer.model):
        yield


def numpy32(t: torch.Tensor) -> np.ndarray:
    return t.detach().float().cpu().numpy()
