"""Gradient and weight norm per node, recorded at the probe's cadence."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from engine.history import History
from engine.i18n import N_
from engine.probes.base import Probe, register
from engine.probes.gradient_flow import node_params, per_node

if TYPE_CHECKING:
    from engine.trainer import Trainer


class _PerNodeNorm(Probe):
    """The L2 norm over each node's parameters, one row per recorded step."""

    def on_run_start(self, trainer: Trainer) -> None:
        if hasattr(self, "history"):
            return  # a resumed run keeps its history
        self.nodes, self.groups = node_params(trainer)
        self.flat = [p for g in self.groups for p in g]
        self.sizes = [len(g) for g in self.groups]
        self.history = History()

    def tensors(self) -> list[torch.Tensor]:
        raise NotImplementedError

    def record(self, trainer: Trainer) -> None:
        tensors = self.tensors()
        if not tensors:
            return
        # One fused norm and one transfer per recording; the per-node sums are a few floats.
        norms = per_node(torch.stack(torch._foreach_norm(tensors)).tolist(), self.sizes)
        self.history.append(step=trainer.step, **dict(zip(self.nodes, norms, strict=True)))

    def result(self) -> dict[str, Any]:
        if not hasattr(self, "history"):
            return {"nodes": [], "steps": np.zeros(0), "values": np.zeros((0, 0))}
        cols = self.history.arrays()
        steps = cols.get("step", np.zeros(0))
        values = np.stack([cols[n] for n in self.nodes], 1) if self.nodes and len(steps) else (
            np.zeros((len(steps), len(self.nodes))))
        return {"nodes": list(self.nodes), "steps": steps, "values": values}


@register
class GradNorm(_PerNodeNorm):
    name = "grad_norm"
    help = N_("Norm of each node's gradient: vanishing or exploding gradients show here.")

    def tensors(self) -> list[torch.Tensor]:
        grads = [p.grad for p in self.flat]
        return grads if all(g is not None for g in grads) else []

    def on_after_backward(self, trainer: Trainer) -> None:
        self.record(trainer)


@register
class WeightNorm(_PerNodeNorm):
    name = "weight_norm"
    help = N_("Norm of each node's weights.")

    def tensors(self) -> list[torch.Tensor]:
        return [p.detach() for p in self.flat]

    def on_batch_end(self, trainer: Trainer) -> None:
        self.record(trainer)
