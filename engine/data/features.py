"""TensorFlow Playground's input features, computed from a 2-D point."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

FEATURES = {
    "x1": lambda x, y: x,
    "x2": lambda x, y: y,
    "x1^2": lambda x, y: x * x,
    "x2^2": lambda x, y: y * y,
    "x1x2": lambda x, y: x * y,
    "sin_x1": lambda x, y: np.sin(x),
    "sin_x2": lambda x, y: np.sin(y),
}
DEFAULT_FEATURES = ("x1", "x2")


def apply_features(points: np.ndarray, names: Sequence[str] | None) -> np.ndarray:
    """Map points of shape [N, 2] to the chosen features, shape [N, len(names)]."""
    names = names or DEFAULT_FEATURES
    x, y = points[:, 0], points[:, 1]
    return np.stack([FEATURES[n](x, y) for n in names], axis=1).astype(np.float32)
