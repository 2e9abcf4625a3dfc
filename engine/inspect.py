"""What a small model computes over its input: per neuron and at the output.

2-D inputs are read over a grid of the plane (maps), 1-D inputs over a line (curves).

Call from the training thread (the boundary probe does) or while the trainer
is not running: it switches the model to eval mode for the duration.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from engine.data.features import apply_features
from engine.graph import GraphModel


def grid_points(domain: tuple[float, float, float, float],
                resolution: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The x and y ticks and the [res*res, 2] points of a grid over ``domain``
    (row-major: y varies slowest, so values reshape to [res, res] as an image)."""
    xmin, xmax, ymin, ymax = domain
    xs, ys = np.linspace(xmin, xmax, resolution), np.linspace(ymin, ymax, resolution)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float32)


class _Eval:
    def __init__(self, model: torch.nn.Module) -> None:
        self.model, self.was = model, model.training

    def __enter__(self) -> None:
        self.model.train(False)  # eval mode

    def __exit__(self, *exc: object) -> None:
        self.model.train(self.was)


def _device(model: torch.nn.Module) -> torch.device:
    return next((p.device for p in model.parameters()), torch.device("cpu"))


def _node_outputs(model: GraphModel, x: torch.Tensor) -> dict[str, torch.Tensor]:
    outs = model.sources(x)
    with _Eval(model), torch.no_grad():
        for info in model.plan.nodes:
            outs[info.id] = model.layers[info.id](*[outs[s] for s in info.inputs])
    return {k: v for k, v in outs.items() if v.dim() == 2}


def node_maps(model: GraphModel, features: Sequence[str] | None, points: np.ndarray,
              resolution: int) -> dict[str, np.ndarray]:
    """Every node's output over the plane, [units, res, res] each, plus one map per
    input feature under the key ``input``."""
    x = torch.from_numpy(apply_features(points, features)).to(_device(model))
    return {k: v.reshape(resolution, resolution, -1).permute(2, 0, 1).float().cpu().numpy()
            for k, v in _node_outputs(model, x).items()}


def line_points(lo: float, hi: float, resolution: int) -> np.ndarray:
    """``resolution`` evenly spaced inputs from ``lo`` to ``hi``, shape [res, 1]."""
    return np.linspace(lo, hi, resolution, dtype=np.float32)[:, None]


def node_curves(model: GraphModel, points: np.ndarray) -> dict[str, np.ndarray]:
    """Every node's response along a line of 1-D inputs ([N, 1]): [units, N] each, plus
    the input itself under the key ``input``."""
    x = torch.from_numpy(np.asarray(points, np.float32)).to(_device(model))
    return {k: v.T.float().cpu().numpy() for k, v in _node_outputs(model, x).items()}


def output_curve(model: GraphModel, task: object, points: np.ndarray) -> np.ndarray:
    """Predicted values (or class probabilities) along a line of 1-D inputs: [outputs, N]."""
    x = torch.from_numpy(np.asarray(points, np.float32)).to(_device(model))
    with _Eval(model), torch.no_grad():
        pred = task.predict(model, x)  # type: ignore[attr-defined]
    return pred.reshape(len(x), -1).T.float().cpu().numpy()


def output_map(model: GraphModel, task: object, features: Sequence[str] | None,
               points: np.ndarray, resolution: int) -> np.ndarray:
    """Class probabilities [classes, res, res], or predicted values [outputs, res, res]."""
    x = torch.from_numpy(apply_features(points, features)).to(_device(model))
    with _Eval(model), torch.no_grad():
        pred = task.predict(model, x)  # type: ignore[attr-defined]
    return pred.reshape(resolution, resolution, -1).permute(2, 0, 1).float().cpu().numpy()
