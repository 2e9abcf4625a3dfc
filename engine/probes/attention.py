"""Attention weights of the focus row: for every attention node (and every attention inside
a Transformer block), where each query looks, per head, with the tokens on both axes.

The attention layers keep the weights their output used (``attention_maps``) only while
their ``keep_attention`` switch is on; this probe turns it on for one forward pass of one
row, so training never pays for it. The result is the API of issue 9:
``snapshot.probes["attention"]["weights"][node]`` is an array [heads, queries, keys].
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import networkx as nx
import torch
from torch import nn

from engine.graph import Plan
from engine.i18n import N_
from engine.probes.base import register
from engine.probes.sequence_base import (
    axis_tokens,
    focus_row,
    looking,
    numpy32,
    run_model,
    switchable,
    switched_on,
    token_labels,
    vocab_of,
)
from engine.probes.vision_base import FocusProbe, min_interval

if TYPE_CHECKING:
    from engine.trainer import Trainer

SWITCH = "keep_attention"


def map_names(found: list[tuple[str, str, str, torch.Tensor]]) -> list[str]:
    """A name per map (node id, path inside it, map name, weights): the node id alone when
    the node holds one map; else node/map ("dec/self", "dec/cross"), with the path inside
    the node where two of its modules name their maps alike."""
    names = []
    for node, path, name, _ in found:
        mine = [(p, n) for nd, p, n, _ in found if nd == node]
        if len(mine) == 1:
            names.append(node)
        elif sum(n == name for _, n in mine) == 1:
            names.append(f"{node}/{name}")
        else:
            names.append(f"{node}/{path or 'block'}.{name}")
    return names


def collect(model: nn.Module, forward: Any) -> dict[str, torch.Tensor]:  # noqa: ANN401
    """Every attention map of one forward pass (``forward()``), by name (see ``map_names``):
    weights [batch, heads, queries, keys]."""
    holders = switchable(model, SWITCH)
    if not holders:
        return {}
    with torch.no_grad(), switched_on([m for _, _, m in holders], SWITCH):
        forward()
        found = [(node, path, name, w) for node, path, m in holders
                 for name, w in (getattr(m, "attention_maps", None) or {}).items()]
    return dict(zip(map_names(found), (w for *_, w in found), strict=True))


def query_input(trainer: Trainer, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The row the queries of a second input read (an encoder-decoder's shifted target),
    when the task names one; else the input itself."""
    second = getattr(trainer.task, "query_row", None)
    return second(x, y) if callable(second) else x


def part_reader(plan: Plan, row: torch.Tensor,
                vocab: Sequence[str]) -> Callable[[str], list[str]] | None:
    """For a graph reading named inputs (an encoder-decoder's source and shifted target):
    node id -> the tokens of the one part its path starts from (all tokens when it reads
    several). None for a graph with one input."""
    if not plan.parts:
        return None

    def read(node: str) -> list[str]:
        found = [p for p in plan.parts if p == node or p in nx.ancestors(plan.graph, node)]
        if len(found) != 1:
            return token_labels(row, vocab)
        a, b = plan.parts[found[0]]
        return token_labels(row[a:b], vocab)
    return read


@register
class Attention(FocusProbe):
    name = "attention"
    help = (N_("For the chosen sequence: where each position looks in every attention layer and "
               "head, queries against keys, with the tokens on the axes."))
    default_every = 20
    params = (min_interval(0.25),)

    def compute(self, trainer: Trainer) -> dict[str, Any] | None:
        if not switchable(trainer.model, SWITCH):
            return None
        index, x, y = focus_row(trainer)
        with looking(trainer):
            maps = collect(trainer.model, lambda: run_model(trainer, x, y))
        if not maps:
            return None
        vocab = vocab_of(trainer)
        keys = token_labels(x[0], vocab)
        queries = token_labels(query_input(trainer, x, y)[0], vocab)
        weights, axes = {}, {}
        read = part_reader(trainer.plan, x[0], vocab)
        for name, w in maps.items():
            w = w[0] if w.dim() == 4 else w  # [heads, queries, keys] for the one row
            if w.dim() == 2:
                w = w.unsqueeze(0)
            weights[name] = numpy32(w)
            _, nq, nk = w.shape
            # Self-attention over the input reads the input's tokens on both axes; a
            # cross-attention's queries come from the second input.
            cross = name.endswith("cross") or nq != len(keys)
            q = queries if cross and len(queries) == nq else keys
            k = keys
            if read is not None:  # named inputs: each axis shows the part its path reads
                ins = trainer.plan.by_id(name.split("/")[0]).inputs
                second = name.endswith("cross") and len(ins) > 1
                q, k = read(ins[0]), read(ins[1] if second else ins[0])
            axes[name] = {"queries": axis_tokens(q, nq), "keys": axis_tokens(k, nk)}
        return {"step": trainer.step, "index": index, "tokens": keys, "query_tokens": queries,
                "weights": weights, "axes": axes}
