"""scikit-learn's 8x8 handwritten digits: the offline image set (shipped with scikit-learn).

Pixels are 0-16 in the original; they are rescaled to 0-255 so every image set shares
one storage format. ``size`` upscales with bilinear interpolation, for showing the
digits larger and for networks whose pooling needs more than 8x8 pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import torch

from engine.data.base import DATASETS, DataBundle, DatasetType, split
from engine.data.images import PER_CLASS, first_per_class, image_bundle
from engine.i18n import N_
from engine.params import Param

SIZE = Param("size", int, 8, N_("Image side in pixels (8 is the original; 16 and 28 are upscaled "
                                "smoothly)."), choices=(8, 16, 28))
TRAIN_RATIO = Param("train_ratio", float, 0.75, N_("Share of images used for training."),
                    min=0.1, max=0.9)


@lru_cache(maxsize=1)
def _raw() -> tuple[np.ndarray, np.ndarray]:
    import sklearn.datasets as d

    raw = d.load_digits()
    x = np.rint(raw.images * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)
    return x[:, None], np.asarray(raw.target, np.int64)


def upscale(x: np.ndarray, size: int) -> np.ndarray:
    """uint8 [N, C, h, w] to uint8 [N, C, size, size], bilinear."""
    if x.shape[-1] == size and x.shape[-2] == size:
        return x
    t = torch.nn.functional.interpolate(torch.from_numpy(x).float(), size=(size, size),
                                        mode="bilinear", align_corners=False)
    return t.round().clamp(0, 255).to(torch.uint8).numpy()


def load(p: dict[str, Any], seed: int, features: Sequence[str] | None) -> DataBundle:
    x, y = _raw()
    tr, te = split(len(x), p["train_ratio"], np.random.default_rng(seed))
    tr = tr[first_per_class(y[tr], p["per_class"])]
    x = upscale(x, p["size"])
    return image_bundle(x[tr], y[tr], x[te], y[te], tuple(str(i) for i in range(10)))


DATASETS.register(DatasetType(
    "digits", N_("Handwritten digits (8x8)"), "classification",
    N_("1797 small grey images of the digits 0 to 9, shipped with scikit-learn (no download)."),
    (SIZE, TRAIN_RATIO, PER_CLASS), load, "image"))
