"""scikit-learn's small tabular sets, shipped inside the package (no download).

Inputs are standardised with the training split's mean and spread only, so
nothing about the test split leaks into training.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from engine.data.base import DATASETS, TRAIN_RATIO, DataBundle, DatasetType, Kind, split
from engine.i18n import N_
from engine.params import Param

STANDARDIZE = Param("standardize", bool, True, N_("Scale each input to mean 0 and spread 1."))


def standardize(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, std = train.mean(0), train.std(0)
    std = np.where(std > 0, std, 1.0)
    return (train - mean) / std, (test - mean) / std


def _register(name: str, title: str, kind: Kind, help_: str, loader: Callable[[], Any]) -> None:
    def load(p: dict[str, Any], seed: int, features: Sequence[str] | None) -> DataBundle:
        raw = loader()
        x, y = np.asarray(raw.data, np.float64), np.asarray(raw.target)
        tr, te = split(len(x), p["train_ratio"], np.random.default_rng(seed))
        x_tr, x_te = x[tr], x[te]
        if p["standardize"]:
            x_tr, x_te = standardize(x_tr, x_te)
        if kind == "classification":
            y_tr = torch.from_numpy(y[tr].astype(np.int64))
            y_te = torch.from_numpy(y[te].astype(np.int64))
            classes = tuple(str(c) for c in raw.target_names)
        else:
            # The target is standardised too (on the training split), so MSE starts near 1.
            t_tr, t_te = standardize(y[tr].reshape(-1, 1), y[te].reshape(-1, 1))
            y_tr, y_te = (torch.from_numpy(t.astype(np.float32)) for t in (t_tr, t_te))
            classes = ()
        return DataBundle(torch.from_numpy(x_tr.astype(np.float32)), y_tr,
                          torch.from_numpy(x_te.astype(np.float32)), y_te, kind, classes,
                          tuple(str(f) for f in raw.feature_names))

    DATASETS.register(DatasetType(name, title, kind, help_, (TRAIN_RATIO, STANDARDIZE), load,
                                  "tabular"))


def _sk(name: str) -> Callable[[], Any]:
    def load() -> Any:
        import sklearn.datasets as d

        return getattr(d, f"load_{name}")()
    return load


_register("iris", N_("Iris flowers"), "classification",
          N_("150 flowers, 4 measurements, 3 species."), _sk("iris"))
_register("wine", N_("Wine"), "classification",
          N_("178 wines, 13 chemical measurements, 3 cultivars."), _sk("wine"))
_register("breast_cancer", N_("Breast cancer"), "classification",
          N_("569 tumours, 30 measurements, benign or malignant."), _sk("breast_cancer"))
_register("diabetes", N_("Diabetes"), "regression",
          N_("442 patients, 10 measurements, disease progression after a year."), _sk("diabetes"))
