"""Activation health: per activation layer, over time, the mean and spread of
its outputs, the share of dead ReLU units and of saturated sigmoid/tanh
values, a histogram of the outputs, and the latest pre-activation sample.

Hooks are armed only for the one forward pass after each recording step and
removed as soon as they fire, so the steps in between run hook-free.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from engine.history import History
from engine.i18n import N_
from engine.probes.base import Probe, register
from engine.probes.gradient_flow import BINS, histogram_arrays

if TYPE_CHECKING:
    from engine.trainer import Trainer

DEAD_WINDOW = 5  # recorded batches a unit must stay silent on to count as dead
SAMPLE = 1000  # pre-activation values kept for the activation-curve view
# Where the derivative is below a tenth of its peak: the flat tails.
SATURATED = {nn.Sigmoid: lambda y: (y < 0.026) | (y > 0.974), nn.Tanh: lambda y: y.abs() > 0.949}


def activation_targets(trainer: Trainer) -> list[tuple[str, nn.Module]]:
    """(node id, activation module) for every node that applies an activation."""
    from engine.layers.activations import ACTIVATIONS

    out = []
    for info in trainer.plan.nodes:
        module = trainer.model.layers[info.id]
        act = getattr(module, "act", None)
        if act is not None:
            out.append((info.id, act))
        elif info.type in ACTIVATIONS:
            out.append((info.id, module))
    return out


def kind_of(act: nn.Module) -> str:
    if type(act) is nn.ReLU:
        return "relu"
    if type(act) in SATURATED:
        return "saturating"
    return "other"


@register
class Activations(Probe):
    name = "activations"
    default_every = 100
    help = N_("Per activation layer: mean, spread, dead and saturated units, histograms.")

    def on_run_start(self, trainer: Trainer) -> None:
        if not hasattr(self, "history"):
            self.targets = activation_targets(trainer)
            self.kinds = {nid: kind_of(act) for nid, act in self.targets}
            self.history = History()
            self.hists: dict[str, History] = {nid: History(cap=400, recent=100)
                                              for nid, _ in self.targets}
            self.pre: dict[str, np.ndarray] = {}
            self._row: dict[str, float] = {}
            self._fired: dict[str, deque[np.ndarray]] = {}
        self._arm(trainer)

    def on_batch_end(self, trainer: Trainer) -> None:
        if self._row:
            self.history.append(step=trainer.step, **self._row)
            self._row = {}
        self._arm(trainer)

    def _arm(self, trainer: Trainer) -> None:
        self.remove_hooks()
        for nid, act in self.targets:
            self.keep_hook(act.register_forward_hook(self._hook(nid, trainer)))

    def _hook(self, nid: str, trainer: Trainer):  # noqa: ANN202
        def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
            if not module.training:
                return  # an evaluation pass, not a training batch
            self._record(nid, module, inputs[0].detach(), out.detach(), trainer.step)
            handle = next((h for h in self._handles if h.id in module._forward_hooks), None)
            if handle is not None:
                handle.remove()
                self._handles.remove(handle)
        return hook

    def _record(self, nid: str, act: nn.Module, pre: torch.Tensor, y: torch.Tensor,
                step: int) -> None:
        with torch.no_grad():
            flat = y.float().flatten()
            units = y.transpose(0, 1).reshape(y.shape[1], -1) if y.dim() > 1 else y[None]
            fired = units.amax(1) > 0
            stats = [flat.mean(), flat.std() if flat.numel() > 1 else flat.new_zeros(()),
                     flat.new_zeros(()), flat.amin(), flat.amax()]
            sat = SATURATED.get(type(act))
            stats.append(sat(flat).float().mean() if sat else flat.new_zeros(()))
            mean, std, _, lo, hi, saturated = torch.stack(stats).tolist()
            # Dead: silent on every one of the recent recorded batches, not just this one
            # (on a small batch many healthy units happen to stay silent).
            recent = self._fired.setdefault(nid, deque(maxlen=DEAD_WINDOW))
            recent.append(fired.cpu().numpy())
            dead = 1.0 - float(np.mean(np.logical_or.reduce(list(recent))))
            hi = hi if hi > lo else lo + 1e-6
            counts = torch.histc(flat, BINS, lo, hi).tolist()
        self._row |= {f"mean:{nid}": mean, f"std:{nid}": std,
                      f"dead:{nid}": dead if self.kinds[nid] == "relu" else np.nan,
                      f"saturated:{nid}": saturated if self.kinds[nid] == "saturating" else np.nan}
        total = max(sum(counts), 1.0)
        self.hists[nid].append(step=step, lo=lo, hi=hi,
                               **{f"b{i}": c / total for i, c in enumerate(counts)})
        p = pre.flatten()
        if p.numel() > SAMPLE:
            p = p[torch.linspace(0, p.numel() - 1, SAMPLE, device=p.device).long()]
        self.pre[nid] = p.float().cpu().numpy()

    def result(self) -> dict[str, Any]:
        if not hasattr(self, "history"):
            return {"nodes": [], "kinds": {}, "steps": np.zeros(0), "series": {},
                    "histograms": {}, "pre": {}}
        cols = self.history.arrays()
        nodes = [nid for nid, _ in self.targets]
        series = {stat: {n: cols.get(f"{stat}:{n}", np.zeros(0)) for n in nodes}
                  for stat in ("mean", "std", "dead", "saturated")}
        hists = {n: histogram_arrays(h) for n, h in self.hists.items() if len(h)}
        return {"nodes": nodes, "kinds": dict(self.kinds), "steps": cols.get("step", np.zeros(0)),
                "series": series, "histograms": hists, "pre": {k: v.copy() for k, v in
                                                               self.pre.items()}}
