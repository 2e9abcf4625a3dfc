"""Pictures for the convolution lab: scikit-learn's two sample photos and images from the
offline image data sets, as float arrays on the 0-1 scale.

Only sets that need no download are offered (a lab page should never start one).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from engine.i18n import N_

PHOTOS = {"china": (N_("A temple in China (photo)"), "china.jpg"),
          "flower": (N_("A flower (photo)"), "flower.jpg")}
# Image sets that load without a download, with the parameters the lab shows them at.
IMAGE_SETS = {"digits": (N_("Handwritten digits"), {"size": 28}),
              "shapes": (N_("Generated shapes"), {})}
LUMA = (0.299, 0.587, 0.114)  # how much red, green and blue count in perceived brightness


@lru_cache(maxsize=2)
def _photo(file: str) -> np.ndarray:
    from sklearn.datasets import load_sample_image

    return load_sample_image(file)


@lru_cache(maxsize=16)
def photo(name: str, size: int, grey: bool = True) -> np.ndarray:
    """The photo with its long side ``size`` pixels: [H, W] grey, or [3, H, W] colour."""
    from PIL import Image

    raw = _photo(PHOTOS[name][1])
    h, w = raw.shape[:2]
    scale = size / max(h, w)
    shape = (max(1, round(w * scale)), max(1, round(h * scale)))
    # Box filtering averages every source pixel, so a strong reduction does not alias.
    small = np.asarray(Image.fromarray(raw).resize(shape, Image.Resampling.BOX), np.float64)
    small = small / 255.0
    if grey:
        return small @ np.array(LUMA)
    return small.transpose(2, 0, 1)


def set_size(name: str) -> int:
    """How many test images the lab can show from this set."""
    return len(_set(name)[0])


@lru_cache(maxsize=4)
def _set(name: str) -> tuple[np.ndarray, tuple[str, ...], np.ndarray]:
    from engine.data import load_data
    from engine.spec import DataSpec

    bundle = load_data(DataSpec(name=name, params=IMAGE_SETS[name][1]))
    return bundle.x_test.numpy(), bundle.class_names, bundle.y_test.numpy()


def set_image(name: str, index: int) -> tuple[np.ndarray, str]:
    """Test image ``index`` of the set in grey [H, W] 0-1, and its class name."""
    x, classes, y = _set(name)
    img = x[index % len(x)].astype(np.float64) / 255.0
    grey = img[0] if img.shape[0] == 1 else np.tensordot(np.array(LUMA), img[:3], 1)
    return grey, classes[int(y[index % len(x)])]
