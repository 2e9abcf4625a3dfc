"""Text from a trained next-token model: sample one token at a time, feed it back.

The model maps ids [1, T] to logits [1, T, V]; the last position's logits give the next
token. Temperature divides the logits (below 1 sharper, above 1 flatter); top_k keeps only
the k likeliest tokens, so top_k = 1 (or temperature 0) is greedy decoding.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from engine.i18n import t


def model_max_length(model: nn.Module) -> int | None:
    """The sequence length a graph model was planned for (None: unknown)."""
    plan = getattr(model, "plan", None)
    shape = getattr(plan, "input_shape", None)
    return int(shape[0]) if shape is not None and len(shape) == 1 else None


def next_token(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
               generator: torch.Generator | None = None) -> int:
    """One token drawn from the logits [V] of the next position."""
    logits = logits.detach().float().cpu()
    if temperature <= 0 or top_k == 1:
        return int(logits.argmax())
    logits = logits / temperature
    if top_k is not None and top_k < len(logits):
        kth = torch.topk(logits, top_k).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=0)
    return int(torch.multinomial(probs, 1, generator=generator))


def generate(model: nn.Module, prompt: Sequence[int] | torch.Tensor, n: int,
             temperature: float = 1.0, top_k: int | None = None,
             generator: torch.Generator | None = None,
             max_length: int | None = None) -> list[int]:
    """``n`` new token ids after ``prompt``. The context is cropped to its last
    ``max_length`` ids (by default the length the model was planned for), since a model
    with learned positions knows no position beyond it."""
    ids = [int(i) for i in prompt]
    if not ids:
        raise ValueError(t("the prompt needs at least one token"))
    limit = max_length or model_max_length(model)
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    was_training = model.training
    model.train(False)  # eval mode: no dropout while writing
    out: list[int] = []
    try:
        with torch.no_grad():
            for _ in range(n):
                context = (ids + out)[-limit:] if limit else ids + out
                logits = model(torch.tensor([context], device=device))
                out.append(next_token(logits[0, -1], temperature, top_k, generator))
    finally:
        model.train(was_training)
    return out


def greedy_decode(model: torch.nn.Module, x: torch.Tensor,
                  target_part: tuple[int, int]) -> torch.Tensor:
    """The ids of ``greedy_logits``'s answer."""
    return greedy_logits(model, x, target_part).argmax(-1)


def greedy_logits(model: torch.nn.Module, x: torch.Tensor,
                  target_part: tuple[int, int]) -> torch.Tensor:
    """An encoder-decoder's answer without teacher forcing: the decoder's input span of
    ``x`` (``target_part`` of axis 1, its first token the start token) is filled one step
    at a time with the model's own previous outputs.

    The decoder's self-attention is causal, so the unfilled positions never reach the
    positions already decided. Returns the logits of the last pass [N, target length, K]."""
    a, b = target_part
    was = model.training
    model.train(False)
    x = x.clone()
    try:
        with torch.no_grad():
            for t in range(b - a):
                step = model(x)[:, t].argmax(-1)
                if a + t + 1 < b:
                    x[:, a + t + 1] = step
            return model(x)
    finally:
        model.train(was)
