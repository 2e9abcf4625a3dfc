"""Gradient flow: per node, the gradient norm, the weight norm and the size of
the update relative to the weights, recorded at the probe's cadence.

The update is measured, not inferred from the learning rate, so it is right
for Adam and momentum too: the weights are copied after backward and
compared after the optimizer step of the same iteration.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from engine.history import History
from engine.i18n import N_
from engine.probes.base import Probe, register

BINS = 30
HIST_EVERY = 5  # recordings between weight/gradient histograms

if TYPE_CHECKING:
    from engine.trainer import Trainer


def node_params(trainer: Trainer) -> tuple[list[str], list[list[torch.nn.Parameter]]]:
    """Nodes that have trainable parameters, in graph order, with their parameters."""
    nodes, groups = [], []
    for info in trainer.plan.nodes:
        params = [p for p in trainer.model.layers[info.id].parameters() if p.requires_grad]
        if params:
            nodes.append(info.id)
            groups.append(params)
    return nodes, groups


def per_node(norms: list[float], sizes: list[int]) -> list[float]:
    """Combine per-tensor L2 norms into per-node L2 norms."""
    out, i = [], 0
    for size in sizes:
        out.append(math.sqrt(sum(n * n for n in norms[i:i + size])))
        i += size
    return out


@register
class GradientFlow(Probe):
    name = "gradient_flow"
    default_every = 20
    help = N_("Per layer: gradient norm, weight norm and update/weight ratio over time.")

    def on_run_start(self, trainer: Trainer) -> None:
        if hasattr(self, "history"):
            return  # a resumed run keeps its history
        self.nodes, groups = node_params(trainer)
        self.sizes = [len(g) for g in groups]
        self.flat = [p for g in groups for p in g]
        self.history = History()
        self.hists = {kind: {n: History(cap=400, recent=100) for n in self.nodes}
                      for kind in ("weight", "grad")}
        self._groups = groups
        self._records = 0
        self._before: list[torch.Tensor] | None = None
        self._grad: list[float] = []

    def on_after_backward(self, trainer: Trainer) -> None:
        grads = [p.grad for p in self.flat]
        if not self.flat or any(g is None for g in grads):
            self._before = None
            return
        # Norms of grads and weights in one transfer; weights copied to measure the update.
        with torch.no_grad():
            both = torch.stack(torch._foreach_norm(grads) + torch._foreach_norm(self.flat))
            self._before = torch._foreach_mul([p.detach() for p in self.flat], 1.0)
        self._norms = both.tolist()
        if self._records % HIST_EVERY == 0:
            self._histograms(trainer.step)
        self._records += 1

    def _histograms(self, step: int) -> None:
        with torch.no_grad():
            for node, group in zip(self.nodes, self._groups, strict=True):
                for kind, tensors in (("weight", [p.detach() for p in group]),
                                      ("grad", [p.grad for p in group])):
                    flat = torch.cat([t.flatten() for t in tensors]).float()
                    lo, hi = torch.stack([flat.amin(), flat.amax()]).tolist()
                    if not (math.isfinite(lo) and math.isfinite(hi)):
                        continue
                    hi = hi if hi > lo else lo + 1e-12
                    counts = torch.histc(flat, BINS, lo, hi)
                    density = (counts / counts.sum().clamp_min(1)).tolist()
                    self.hists[kind][node].append(
                        step=step, lo=lo, hi=hi, **{f"b{i}": d for i, d in enumerate(density)})

    def on_batch_end(self, trainer: Trainer) -> None:
        if self._before is None:
            return
        with torch.no_grad():
            delta = torch._foreach_sub([p.detach() for p in self.flat], self._before)
            upd = torch.stack(torch._foreach_norm(delta)).tolist()
        self._before = None
        n = len(self.flat)
        grad = per_node(self._norms[:n], self.sizes)
        weight = per_node(self._norms[n:], self.sizes)
        update = per_node(upd, self.sizes)
        row: dict[str, float] = {"step": trainer.step}
        for i, node in enumerate(self.nodes):
            row[f"g:{node}"] = grad[i]
            row[f"w:{node}"] = weight[i]
            row[f"u:{node}"] = update[i] / weight[i] if weight[i] > 0 else math.nan
        self.history.append(**row)

    def result(self) -> dict[str, Any]:
        if not hasattr(self, "history") or not len(self.history):
            nodes = getattr(self, "nodes", [])
            empty = np.zeros((0, len(nodes)))
            return {"nodes": list(nodes), "steps": np.zeros(0), "grad": empty,
                    "weight": empty, "update_ratio": empty, "histograms": {}}
        cols = self.history.arrays()
        stack = lambda prefix: np.stack([cols[f"{prefix}:{n}"] for n in self.nodes], 1)  # noqa: E731
        return {"nodes": list(self.nodes), "steps": cols["step"], "grad": stack("g"),
                "weight": stack("w"), "update_ratio": stack("u"),
                "histograms": {kind: {n: histogram_arrays(h) for n, h in per.items() if len(h)}
                               for kind, per in self.hists.items()}}


def histogram_arrays(h: History) -> dict[str, np.ndarray]:
    """A histogram history as arrays: steps, lo, hi and density [records, BINS]."""
    c = h.arrays()
    return {"steps": c["step"], "lo": c["lo"], "hi": c["hi"],
            "density": np.stack([c[f"b{i}"] for i in range(BINS)], 1)}
