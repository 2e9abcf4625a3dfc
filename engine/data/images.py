"""What every image data set shares: compact storage, per-channel statistics, subsets.

Images are stored as uint8 [N, C, H, W], one copy per process (the data cache
serves every session), and become float model input only per batch, on the
training device: CIFAR-10 as float32 would cost about 600 MB per session.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from engine.i18n import N_
from engine.params import Param

PER_CLASS = Param("per_class", int, 0,
                  N_("Use only the first N training images of each class (0: all of them), so "
                     "a classroom laptop trains in seconds."), min=0,
                  max=100_000)

STATS_CHUNK = 1 << 20  # pixels per pass when counting pixel levels


@dataclass(frozen=True)
class ImageInfo:
    """Per-channel mean and spread of the training split, on the 0-1 pixel scale."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    @property
    def channels(self) -> int:
        return len(self.mean)


def prepare(x: torch.Tensor, info: ImageInfo) -> torch.Tensor:
    """Stored images (uint8) to model input: 0-1 scale, then each channel normalised with
    the training split's statistics. Float input is taken as already prepared."""
    if x.dtype != torch.uint8:
        return x
    mean = torch.tensor(info.mean, device=x.device).view(1, -1, 1, 1)
    std = torch.tensor(info.std, device=x.device).view(1, -1, 1, 1)
    return normalise(x, mean, std)


def normalise(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """uint8 pixels to the 0-1 scale, then standardised per channel ([1, C, 1, 1] stats)."""
    return (x.float() / 255.0 - mean) / std


def unprepare(x: torch.Tensor, info: ImageInfo) -> torch.Tensor:
    """Model input back to the 0-1 pixel scale (for drawing what the model saw)."""
    mean = torch.tensor(info.mean, device=x.device).view(1, -1, 1, 1)
    std = torch.tensor(info.std, device=x.device).view(1, -1, 1, 1)
    return (x * std + mean).clamp(0, 1)


def channel_stats(x_train: np.ndarray) -> ImageInfo:
    """Mean and spread per channel of uint8 images [N, C, H, W], on the 0-1 scale.

    Computed from a count of the 256 pixel levels, taken a chunk of images at a time: a
    float copy of one CIFAR-10 channel would cost 400 MB (and its spread as much again)."""
    n, c = x_train.shape[:2]
    levels = np.arange(256) / 255.0
    step = max(1, STATS_CHUNK // max(1, int(np.prod(x_train.shape[2:]))))
    mean, std = [], []
    for ch in range(c):
        counts = np.zeros(256, np.int64)
        for start in range(0, n, step):  # bincount copies its input as integers: keep it small
            counts += np.bincount(x_train[start:start + step, ch].ravel(), minlength=256)
        share = counts / max(int(counts.sum()), 1)
        m = float(share @ levels)
        mean.append(m)
        std.append(max(float(share @ (levels - m) ** 2) ** 0.5, 1e-3))
    return ImageInfo(tuple(mean), tuple(std))


def first_per_class(y: np.ndarray, n: int) -> np.ndarray:
    """Indices of the first ``n`` samples of each class, in their original order
    (0: every index)."""
    if n <= 0:
        return np.arange(len(y))
    keep = np.zeros(len(y), bool)
    for cls in np.unique(y):
        keep[np.flatnonzero(y == cls)[:n]] = True
    return np.flatnonzero(keep)


def image_bundle(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                 y_test: np.ndarray, class_names: tuple[str, ...],
                 notes: tuple[str, ...] = ()):  # noqa: ANN201 - DataBundle (import cycle)
    """A classification DataBundle of uint8 images [N, C, H, W] with the training split's
    per-channel statistics."""
    from engine.data.base import DataBundle

    for name, x in (("training", x_train), ("test", x_test)):
        if x.dtype != np.uint8 or x.ndim != 4:
            raise ValueError(f"{name} images must be uint8 [N, C, H, W], got {x.dtype} "
                             f"{list(x.shape)}")
    return DataBundle(
        torch.from_numpy(np.ascontiguousarray(x_train)),
        torch.from_numpy(np.asarray(y_train, np.int64)),
        torch.from_numpy(np.ascontiguousarray(x_test)),
        torch.from_numpy(np.asarray(y_test, np.int64)),
        "classification", tuple(class_names), image=channel_stats(x_train), notes=notes)
