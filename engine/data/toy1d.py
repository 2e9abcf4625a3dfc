"""Generated 1-D regression sets: one input x in [-pi, pi], one target.

Noise is Gaussian with standard deviation ``noise``, added to the target only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from engine.data.base import COMMON, DATASETS, DataBundle, DatasetType, split
from engine.i18n import N_
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
        # Targets are written on t in [-1, 1]; the network sees x = pi * t.
        t = rng.uniform(-1, 1, p["n_samples"])
        y = target(t, p) + rng.normal(0, 1, len(t)) * p["noise"]
        return _bundle(t * np.pi, y, p, seed)

    DATASETS.register(DatasetType(name, title, "regression", help_, COMMON + extra, load))


_register("sine", N_("Sine wave"), N_("y = sin(periods * x) for x in [-pi, pi], plus noise."),
          (Param("periods", float, 1.0, N_("Periods across the input range."), min=0.25, max=5),),
          lambda t, p: np.sin(t * np.pi * p["periods"]))


def polynomial(t: np.ndarray, degree: int) -> np.ndarray:
    """The Chebyshev polynomial T_degree(t): fixed (not seeded), so a preset always shows the
    same curve, with degree - 1 bends and values in [-1, 1] whatever the degree."""
    return np.polynomial.chebyshev.Chebyshev.basis(degree)(t)


_register("polynomial", N_("Polynomial"),
          N_("y = T_degree(x / pi), the Chebyshev polynomial (T1 = t, T2 = 2t^2 - 1, "
             "T3 = 4t^3 - 3t, ...), plus noise."),
          (Param("degree", int, 3, N_("Degree of the polynomial (its curve has degree - 1 bends)."),
                 min=1, max=5),),
          lambda t, p: polynomial(t, p["degree"]))
