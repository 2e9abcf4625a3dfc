"""A generated set of simple outlines: what convolution filters and receptive fields
respond to, without a download.

Every shape is drawn as the union of straight strokes (or one ring), each pixel's
brightness falling off with its distance to the nearest stroke, so the whole set is
computed with array operations at once (no drawing loop per image). Position, size,
angle, stroke thickness and noise vary from image to image; the classes are balanced
and every split holds the same number of each class.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from engine.data.base import DATASETS, DataBundle, DatasetType
from engine.data.images import image_bundle
from engine.i18n import N_
from engine.params import Param

# Class names are data (kept in English in the bundle); marked so a page can show t(name).
CLASSES = (N_("horizontal bar"), N_("vertical bar"), N_("diagonal bar"), N_("cross"),
           N_("circle"), N_("square"), N_("triangle"))
STROKES = 4  # the most straight strokes one shape needs (the square)
CHUNK = 1024  # images drawn at once: bounds the [images, strokes, pixels] distance array


def _segments(label: np.ndarray, cx: np.ndarray, cy: np.ndarray, r: np.ndarray,
              rng: np.random.Generator) -> np.ndarray:
    """Stroke end points [N, STROKES, 2 ends, 2 (x, y)]; unused strokes are NaN."""
    n = len(label)
    seg = np.full((n, STROKES, 2, 2), np.nan)
    jitter = np.deg2rad(rng.uniform(-10, 10, n))
    base = np.select([label == 0, label == 1, label == 2],
                     [0.0, np.pi / 2, np.where(rng.random(n) < 0.5, np.pi / 4, 3 * np.pi / 4)],
                     0.0) + jitter
    centre = np.stack([cx, cy], -1)

    def stroke(i: np.ndarray, k: int, angle: np.ndarray, half: np.ndarray) -> None:
        d = np.stack([np.cos(angle), np.sin(angle)], -1) * half[:, None]
        seg[i, k, 0], seg[i, k, 1] = centre[i] - d, centre[i] + d

    bars = label <= 3
    stroke(np.flatnonzero(bars), 0, base[bars], r[bars])
    cross = np.flatnonzero(label == 3)
    stroke(cross, 1, base[cross] + np.pi / 2, r[cross])
    # Polygons: corners on a circle around the centre, joined in turn.
    for cls, corners, start, scale in ((5, 4, np.pi / 4, 1.0), (6, 3, -np.pi / 2, 1.1)):
        i = np.flatnonzero(label == cls)
        ang = start + jitter[i, None] + 2 * np.pi * np.arange(corners) / corners
        pts = centre[i, None] + np.stack([np.cos(ang), np.sin(ang)], -1) * (r[i] * scale)[:, None,
                                                                                           None]
        seg[i[:, None], np.arange(corners), 0] = pts
        seg[i[:, None], np.arange(corners), 1] = np.roll(pts, -1, axis=1)
    return seg


def _distance(seg: np.ndarray, ring: np.ndarray, cx: np.ndarray, cy: np.ndarray,
              radius: np.ndarray, size: int) -> np.ndarray:
    """Distance of every pixel centre to its image's shape [N, size * size]."""
    g = np.arange(size, dtype=np.float32) + 0.5
    px, py = (v.reshape(1, 1, -1) for v in np.meshgrid(g, g, indexing="xy"))
    # x and y as separate float32 arrays: a trailing axis of 2 is several times slower.
    seg = np.nan_to_num(seg, nan=-1e4).astype(np.float32)  # unused strokes: far away
    ax, ay, bx, by = (seg[:, :, i, j, None] for i, j in ((0, 0), (0, 1), (1, 0), (1, 1)))
    abx, aby = bx - ax, by - ay
    dx, dy = px - ax, py - ay
    h = np.clip((dx * abx + dy * aby) / np.maximum(abx * abx + aby * aby, 1e-9), 0, 1)
    dx -= h * abx
    dy -= h * aby
    d = np.sqrt((dx * dx + dy * dy).min(1))
    rx = px[0] - cx[:, None].astype(np.float32)
    ry = py[0] - cy[:, None].astype(np.float32)
    to_ring = np.abs(np.sqrt(rx * rx + ry * ry) - radius[:, None].astype(np.float32))
    return np.where(ring[:, None], to_ring, d)


def generate(n_per_class: int, size: int, colour: bool, noise: float,
             seed: int) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images [N, C, size, size] and labels, the classes interleaved (0, 1, ..., 0, ...)."""
    rng = np.random.default_rng(seed)
    label = np.tile(np.arange(len(CLASSES)), n_per_class)
    n = len(label)
    unit = size / 28
    r = rng.uniform(5.5, 10.0, n) * unit
    thick = rng.uniform(1.2, 2.8, n) * unit
    margin = r * 1.1 + thick
    cx, cy = (rng.uniform(margin, size - margin) for _ in range(2))
    seg = _segments(label, cx, cy, r, rng)
    channels = 3 if colour else 1
    if colour:
        # Foreground and background differ by at least 0.2 in every channel; half the
        # images swap them, so "bright shape on dark" is not a shortcut to learn.
        fg, bg = rng.uniform(0.6, 1.0, (n, 3)), rng.uniform(0.0, 0.4, (n, 3))
        swap = rng.random(n) < 0.5
        fg[swap], bg[swap] = bg[swap], fg[swap].copy()
    else:
        fg, bg = rng.uniform(0.7, 1.0, (n, 1)), rng.uniform(0.0, 0.15, (n, 1))
    out = np.empty((n, channels, size, size), np.uint8)
    for lo in range(0, n, CHUNK):
        s = slice(lo, lo + CHUNK)
        d = _distance(seg[s], label[s] == 4, cx[s], cy[s], r[s] * 0.9, size)
        alpha = np.clip(thick[s, None] / 2 + 0.5 - d, 0, 1)[:, None]  # [n, 1, pixels]
        img = bg[s, :, None] * (1 - alpha) + fg[s, :, None] * alpha
        if noise:
            img = img + rng.normal(0, noise, img.shape)
        out[s] = np.rint(np.clip(img, 0, 1) * 255).reshape(-1, channels, size, size)
    return out, label


def load(p: dict[str, Any], seed: int, features: Sequence[str] | None) -> DataBundle:
    x, y = generate(p["n_per_class"], p["size"], p["colour"], p["noise"], seed)
    # Labels are interleaved, so a cut at a multiple of the class count keeps both splits
    # exactly balanced; each image is independently random, so no shuffle is needed.
    k = len(CLASSES)
    cut = k * min(p["n_per_class"] - 1, max(1, round(p["n_per_class"] * p["train_ratio"])))
    return image_bundle(x[:cut], y[:cut], x[cut:], y[cut:], CLASSES)


DATASETS.register(DatasetType(
    "shapes", N_("Shapes (generated)"), "classification",
    N_("Bars, crosses, circles, squares and triangles at varied positions, sizes and angles: "
       "simple enough to see what each filter responds to."),
    (Param("n_per_class", int, 300, N_("Images of each shape (training and test together)."),
           min=10, max=5000),
     Param("size", int, 28, N_("Image side in pixels."), choices=(28, 32)),
     Param("colour", bool, False, N_("Random colours for shape and background (otherwise grey).")),
     Param("noise", float, 0.1, N_("Random noise added to every pixel (0 = clean)."), min=0.0,
           max=0.5),
     Param("train_ratio", float, 0.75, N_("Share of images used for training."), min=0.1, max=0.9)),
    load, "image"))
