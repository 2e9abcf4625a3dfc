"""What a small network draws: for a 2-D problem the output over the plane (the
decision boundary) and each neuron's map of it; for a 1-D problem the fitted curve
and each neuron's response curve.

Only the newest maps are kept. They are recorded at most every
``min_interval`` seconds (the pages redraw about twice a second), and always
at run start and end, so the first and last state are there to draw.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import torch

from engine.i18n import N_
from engine.inspect import (
    grid_points,
    line_points,
    node_curves,
    node_maps,
    output_curve,
    output_map,
)
from engine.params import Param
from engine.probes.base import Probe, register

if TYPE_CHECKING:
    from engine.trainer import Trainer


MAX_DRAWN_PARAMS = 20_000  # beyond this a network drawing is unreadable anyway


def small_weights(trainer: Trainer) -> dict[str, Any]:
    """Each linear node's weight matrix, for drawing edges; empty for large models."""
    if trainer.plan.total_params > MAX_DRAWN_PARAMS:
        return {}
    out = {}
    with torch.no_grad():
        for info in trainer.plan.nodes:
            lin = getattr(trainer.model.layers[info.id], "linear", None)
            if lin is not None:
                out[info.id] = lin.weight.detach().float().cpu().numpy().copy()
    return out


@register
class Boundary(Probe):
    name = "boundary"
    help = (N_("Output over the input plane and each neuron's map (2-D data sets), or the "
               "fitted curve and each neuron's response (1-D data sets)."))
    params = (
        Param("resolution", int, 50, N_("Grid points per side of the output map (points along the "
                                        "line for 1-D data)."), min=10, max=200),
        Param("neuron_resolution", int, 20, N_("Grid points per side of each neuron's map."),
              min=5, max=100),
        Param("min_interval", float, 0.2, N_("Seconds between recordings."), min=0.0, max=60.0),
    )

    def on_run_start(self, trainer: Trainer) -> None:
        self._last = 0.0
        self.record(trainer)

    def on_batch_end(self, trainer: Trainer) -> None:
        if time.perf_counter() - self._last >= self.options.get("min_interval", 0.2):
            self.record(trainer)

    def on_run_end(self, trainer: Trainer) -> None:
        self.record(trainer)

    def record(self, trainer: Trainer) -> None:
        self._last = time.perf_counter()
        data = trainer.data
        res = int(self.options.get("resolution", 50))
        if data.domain is not None:
            self._result = self._plane(trainer, res)
        elif data.input_shape == (1,):
            self._result = self._line(trainer, res)
        else:
            self._result = None

    def _plane(self, trainer: Trainer, res: int) -> dict[str, Any]:
        data = trainer.data
        features = trainer.exp.data.features
        nres = int(self.options.get("neuron_resolution", 20))
        xs, ys, pts = grid_points(data.domain, res)
        _, _, npts = grid_points(data.domain, nres)
        return {
            "step": trainer.step, "dims": 2, "xs": xs, "ys": ys,
            "output": output_map(trainer.model, trainer.task, features, pts, res),
            "nodes": node_maps(trainer.model, features, npts, nres),
            "weights": small_weights(trainer),
        }

    def _line(self, trainer: Trainer, res: int) -> dict[str, Any]:
        data = trainer.data
        seen = torch.cat([data.x_train[:, 0], data.x_test[:, 0]])
        lo, hi = float(seen.min()), float(seen.max())
        pts = line_points(lo, hi, res)
        return {
            "step": trainer.step, "dims": 1, "xs": pts[:, 0],
            "output": output_curve(trainer.model, trainer.task, pts),
            "nodes": node_curves(trainer.model, pts),
            "weights": small_weights(trainer),
        }

    def result(self) -> dict[str, Any] | None:
        return getattr(self, "_result", None)
