"""Generated 1-D regression sets: one input, one target."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from engine.data.base import COMMON, DATASETS, DataBundle, DatasetType, split
from engine.params import Param


def _bundle(x: np.ndarray, y: np.ndarray, p: dict[str, Any], seed: int) -> DataBundle:
    tr, te = split(len(x), p["train_ratio"], np.random.default_rng(seed + 1))
    xt = torch.from_numpy(x.astype(np.float32).reshape(-1, 1))
    yt = torch.from_numpy(y.astype(np.float32).reshape(-1, 1))
    return DataBundle(xt[tr], yt[tr], xt[te], yt[te], "regression", (), ("x",))


def _register(name: str, title: str, help_: str, extra: tuple[Param, ...],
              target: Callable[[np.ndarray, dict[str, Any]], np.ndarray]) -> None:
    def load(p: dict[str, Any], seed: int, features: Sequence[str] | None) -> DataBundle:
        rng = np.random.default_rng(seed)
        x = rng.uniform(-1, 1, p["n_samples"])
        y = target(x, p) + rng.normal(0, 1, len(x)) * p["noise"]
        return _bundle(x * np.pi, y, p, seed)

    DATASETS.register(DatasetType(name, title, "regression", help_, COMMON + extra, load))


_register("sine", "Sine wave", "y = sin(x) over a chosen number of periods, plus noise.",
          (Param("periods", float, 1.0, "Periods across the input range.", min=0.25, max=5),),
          lambda x, p: np.sin(x * np.pi * p["periods"]))
# Fixed coefficients (not drawn from the seed), so the curve is the same in every preset.
_COEFFS = (0.2, -0.8, 0.5, 1.0, -0.6)
_register("polynomial", "Polynomial", "A fixed polynomial of the chosen degree, plus noise.",
          (Param("degree", int, 3, "Degree of the polynomial.", min=1, max=5),),
          lambda x, p: sum(c * x ** (k + 1) for k, c in enumerate(_COEFFS[:p["degree"]])))
