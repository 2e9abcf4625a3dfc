"""What a data set declares, and the tensors every loader returns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch

from engine.data.images import ImageInfo
from engine.i18n import N_
from engine.params import Param
from engine.registry import Registry

Kind = Literal["classification", "regression"]


@dataclass(frozen=True)
class DataBundle:
    """Train and test tensors plus what the pages need to draw them.

    Classification targets are class indices (long, shape [N]); regression
    targets are float with shape [N, outputs].
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    kind: Kind
    class_names: tuple[str, ...] = ()
    feature_names: tuple[str, ...] = ()
    # 2-D toy sets keep their raw points so the pages can draw the input plane.
    points_train: np.ndarray | None = None
    points_test: np.ndarray | None = None
    domain: tuple[float, float, float, float] | None = None  # xmin, xmax, ymin, ymax
    notes: tuple[str, ...] = field(default=())  # e.g. missing values that were dropped
    # Image sets store uint8 [N, C, H, W]; the model prepares each batch with these statistics.
    image: ImageInfo | None = None
    # Token sets store int64 ids [N, T]; vocab[id] is the token a page shows (never the id).
    vocab: tuple[str, ...] = ()
    # Named inputs packed side by side along axis 1 of x (name -> (start, stop)): an
    # encoder-decoder's source and shifted target travel as one tensor and the graph's nodes
    # read each by name. Empty: the whole x is the one input.
    parts: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def n_outputs(self) -> int:
        if self.kind == "classification":
            return len(self.class_names)
        return int(self.y_train.shape[1])


@dataclass(frozen=True)
class DatasetType:
    name: str
    title: str
    kind: Kind
    help: str
    params: tuple[Param, ...]
    # load(params, seed, features) -> DataBundle; features only for 2-D sets
    load: Callable[[dict[str, Any], int, Sequence[str] | None], DataBundle]
    category: str = "toy"  # toy, tabular, file, image
    two_d: bool = False  # takes the TensorFlow-Playground input features


DATASETS: Registry[DatasetType] = Registry(N_("data set"))
# The categories' names as the pages show them (``t(ds.category)``).
CATEGORIES = (N_("toy"), N_("tabular"), N_("file"), N_("image"), N_("sequence"), N_("text"))

# The parameters every generated set shares.
N_SAMPLES = Param("n_samples", int, 500, N_("Number of points."), min=10, max=100_000)
NOISE = Param("noise", float, 0.0, N_("Noise added to each point (0 = clean)."), min=0.0, max=1.0)
TRAIN_RATIO = Param("train_ratio", float, 0.5, N_("Share of points used for training."),
                    min=0.1, max=0.9)
COMMON = (N_SAMPLES, NOISE, TRAIN_RATIO)


def split(n: int, train_ratio: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled train and test indices."""
    order = rng.permutation(n)
    cut = max(1, min(n - 1, round(n * train_ratio)))
    return order[:cut], order[cut:]
