"""Generated 2-D sets, after TensorFlow Playground (points in [-6, 6]^2).

Each is seeded, so a preset always shows the same points.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from engine.data.base import COMMON, DATASETS, DataBundle, DatasetType, Kind, split
from engine.data.features import apply_features
from engine.i18n import N_
from engine.params import Param

RADIUS = 5.0
DOMAIN = (-6.0, 6.0, -6.0, 6.0)
Points = tuple[np.ndarray, np.ndarray]
Generator = Callable[[int, float, np.random.Generator, dict[str, Any]], Points]


def _bundle(points: np.ndarray, labels: np.ndarray, kind: Kind, p: dict[str, Any], seed: int,
            features: Sequence[str] | None, class_names: tuple[str, ...]) -> DataBundle:
    tr, te = split(len(points), p["train_ratio"], np.random.default_rng(seed + 1))
    x = torch.from_numpy(apply_features(points, features))
    if kind == "classification":
        y = torch.from_numpy(labels.astype(np.int64))
    else:
        y = torch.from_numpy(labels.astype(np.float32).reshape(-1, 1))
    names = tuple(features) if features else ("x1", "x2")
    return DataBundle(x[tr], y[tr], x[te], y[te], kind, class_names, names,
                      points[tr].astype(np.float32), points[te].astype(np.float32), DOMAIN)


def _register(name: str, title: str, kind: Kind, help_: str, gen: Generator,
              extra: tuple[Param, ...] = (), classes: int | str = 2) -> None:
    def load(p: dict[str, Any], seed: int, features: Sequence[str] | None) -> DataBundle:
        rng = np.random.default_rng(seed)
        points, labels = gen(p["n_samples"], p["noise"], rng, p)
        k = p["classes"] if classes == "param" else classes
        names = tuple(f"class {i}" for i in range(k)) if kind == "classification" else ()
        return _bundle(points, labels, kind, p, seed, features, names)

    DATASETS.register(DatasetType(name, title, kind, help_, COMMON + extra, load, "toy", True))


def _circle(n: int, noise: float, rng: np.random.Generator, p: dict) -> tuple:
    half = n // 2
    r = np.concatenate([rng.uniform(0, RADIUS * 0.5, half), rng.uniform(RADIUS * 0.7, RADIUS,
                                                                         n - half)])
    angle = rng.uniform(0, 2 * np.pi, n)
    pts = np.stack([r * np.sin(angle), r * np.cos(angle)], 1)
    pts += rng.uniform(-RADIUS, RADIUS, (n, 2)) * noise
    labels = (np.hypot(pts[:, 0], pts[:, 1]) < RADIUS * 0.5).astype(int)
    return pts, labels


def _xor(n: int, noise: float, rng: np.random.Generator, p: dict) -> tuple:
    pts = rng.uniform(-5, 5, (n, 2))
    pts += np.where(pts > 0, 0.3, -0.3)  # keep points off the axes so the classes are clean
    labels = (pts[:, 0] * pts[:, 1] >= 0).astype(int)
    pts += rng.uniform(-5, 5, (n, 2)) * noise
    return pts, labels


def _gaussian(n: int, noise: float, rng: np.random.Generator, p: dict) -> tuple:
    std = np.sqrt(0.5 + noise * 7)  # TF Playground's variance 0.5..4 over its noise range
    half = n // 2
    pts = np.concatenate([rng.normal(2, std, (half, 2)), rng.normal(-2, std, (n - half, 2))])
    labels = np.concatenate([np.ones(half, int), np.zeros(n - half, int)])
    return pts, labels


def _spiral_arms(n: int, noise: float, rng: np.random.Generator, arms: int) -> tuple:
    per = np.array_split(np.arange(n), arms)
    pts, labels = [], []
    for k, idx in enumerate(per):
        i = np.arange(len(idx)) / max(len(idx), 1)
        r = i * RADIUS
        t = 1.75 * i * 2 * np.pi + 2 * np.pi * k / arms
        xy = np.stack([r * np.sin(t), r * np.cos(t)], 1)
        pts.append(xy + rng.uniform(-1, 1, xy.shape) * noise * RADIUS / 2)
        labels.append(np.full(len(idx), k))
    return np.concatenate(pts), np.concatenate(labels)


def _moons(n: int, noise: float, rng: np.random.Generator, p: dict) -> tuple:
    half = n // 2
    t1, t2 = rng.uniform(0, np.pi, half), rng.uniform(0, np.pi, n - half)
    upper = np.stack([np.cos(t1), np.sin(t1)], 1)
    lower = np.stack([1 - np.cos(t2), 0.5 - np.sin(t2)], 1)
    pts = (np.concatenate([upper, lower]) - [0.5, 0.25]) * 3.2
    pts += rng.normal(0, 1, pts.shape) * noise * 2
    return pts, np.concatenate([np.zeros(half, int), np.ones(n - half, int)])


def _blobs(n: int, noise: float, rng: np.random.Generator, p: dict) -> tuple:
    k = p["classes"]
    centres = 3.5 * np.stack([np.cos(2 * np.pi * np.arange(k) / k),
                              np.sin(2 * np.pi * np.arange(k) / k)], 1)
    labels = np.arange(n) % k
    pts = centres[labels] + rng.normal(0, 0.6 + noise * 3, (n, 2))
    return pts, labels


def _plane(n: int, noise: float, rng: np.random.Generator, p: dict) -> tuple:
    pts = rng.uniform(-RADIUS, RADIUS, (n, 2))
    labels = (pts[:, 0] + pts[:, 1]) / (2 * RADIUS)
    return pts + rng.uniform(-RADIUS, RADIUS, (n, 2)) * noise, labels


def _multi_gaussian(n: int, noise: float, rng: np.random.Generator, p: dict) -> tuple:
    pts = rng.uniform(-RADIUS, RADIUS, (n, 2))
    bumps = [(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1),
             (4, -2.5, -1)]
    labels = np.zeros(n)
    for cx, cy, sign in bumps:
        labels += sign * np.exp(-((pts[:, 0] - cx) ** 2 + (pts[:, 1] - cy) ** 2) / 2)
    return pts + rng.uniform(-RADIUS, RADIUS, (n, 2)) * noise, np.clip(labels, -1, 1)


CLASSES = Param("classes", int, 3, N_("Number of classes."), min=3, max=5)

_register("circle", N_("Circle"), "classification", N_("One class inside a ring of the other."),
          _circle)
_register("xor", N_("Exclusive or"), "classification", N_("Opposite quadrants share a class."),
          _xor)
_register("gaussian", N_("Two Gaussians"), "classification", N_("Two overlapping clouds."),
          _gaussian)
_register("spiral", N_("Spiral"), "classification", N_("Two interleaved spirals."),
          lambda n, noise, rng, p: _spiral_arms(n, noise, rng, 2))
_register("moons", N_("Two moons"), "classification", N_("Two interleaving half circles."), _moons)
_register("spiral_multi", N_("Multi-class spiral"), "classification",
          N_("Three to five interleaved spiral arms."),
          lambda n, noise, rng, p: _spiral_arms(n, noise, rng, p["classes"]), (CLASSES,), "param")
_register("blobs", N_("Blobs"), "classification", N_("Three to five Gaussian clouds in a ring."),
          _blobs, (CLASSES,), "param")
_register("plane", N_("Plane"), "regression", N_("The target rises evenly along x1 + x2."), _plane)
_register("multi_gaussian", N_("Multi Gaussian"), "regression",
          N_("Bumps and dips of six Gaussians."), _multi_gaussian)
