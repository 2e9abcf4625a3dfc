"""What a layer keeps inside itself while training, measured rather than declared.

A node's output is only part of what a training step holds: a Transformer block keeps its
feed-forward hidden layer (often 4 to 64 times wider than its output), projections and
norms; a block of several modules keeps each one's output. The budget must count them, or
a spec estimated to fit can take gigabytes. Each node is run once on PyTorch's meta device
(shapes only: no memory, no arithmetic) and the output of every module inside it is
tallied, so a new layer type is counted without a rule of its own. (Forward hooks, not a
dispatch mode: those import TorchDynamo, two seconds on the first check of a process.)
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from typing import Any

import torch
from torch import nn

from engine.layers import LAYERS, Shape

ROWS = 2  # a batch of two: per-sample sizes without batch-of-one special cases


def _bytes(value: Any) -> int:  # noqa: ANN401 - a module's output: a tensor or a nest of them
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(value, tuple | list):
        return sum(_bytes(v) for v in value)
    return 0


def inner_floats(layer_type: str, params: dict[str, Any], in_shapes: list[Shape]) -> int:
    """Floats (4 bytes each) that one sample's forward pass makes inside the node: the
    outputs of its modules, its own output included; 0 when meta cannot run it."""
    return _inner(layer_type, json.dumps(params, sort_keys=True), tuple(map(tuple, in_shapes)))


@lru_cache(maxsize=1024)
def _inner(layer_type: str, params_json: str, in_shapes: tuple[Shape, ...]) -> int:
    params = json.loads(params_json)
    total = 0
    # A module handing on its last part's output makes nothing new. The outputs are kept
    # (meta tensors hold no memory) so that no id is reused while counting.
    kept: list[Any] = []

    def count(module: nn.Module, args: Any, out: Any) -> None:  # noqa: ANN401
        nonlocal total
        if all(out is not k for k in kept):
            kept.append(out)
            total += _bytes(out)

    try:
        with torch.device("meta"):
            module = LAYERS.get(layer_type).build(params, list(in_shapes)).train()
            leaves = [m for m in module.modules() if next(m.children(), None) is None]
            hooks = [m.register_forward_hook(count) for m in leaves]
            out = module(*[torch.empty(ROWS, *s) for s in in_shapes])
            for h in hooks:
                h.remove()
    except Exception:  # noqa: BLE001 - a measurement: a layer meta cannot run costs its output
        return 0
    count(module, (), out)  # what a block computes between its modules ends in its output
    return math.ceil(total / 4 / ROWS)
