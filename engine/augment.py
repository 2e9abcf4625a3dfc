"""Random changes to each training batch of images, made on the batch's device.

Everything acts on prepared (normalised) input, so "zero" is the training split's mean
colour: shifted-in borders and cutout squares are then neutral to the first layer, as in
the Cutout paper. Each random draw is one tensor for the whole batch (no loop per
image), taken from the caller's generator: the same generator state gives the same batch.
The order is flip, shift and rotation (one resampling), noise, cutout, so a cutout
square is exactly zero.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from engine.data.images import prepare, unprepare


def active(spec: Any) -> bool:
    """Whether ``spec`` (an AugmentSpec) changes anything."""
    return bool(spec.flip or spec.shift or spec.rotate or spec.noise or spec.cutout)


def _uniform(shape: tuple[int, ...], gen: torch.Generator, device: torch.device
             ) -> torch.Tensor:
    # Drawn where the generator lives (a CUDA generator for CUDA batches), then moved:
    # torch refuses a generator on another device.
    return torch.rand(shape, generator=gen, device=gen.device).to(device)


def _flip(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    mirror = _uniform((len(x),), gen, x.device) < 0.5
    return torch.where(mirror.view(-1, 1, 1, 1), x.flip(-1), x)


def _shift_rotate(x: torch.Tensor, shift: int, degrees: float, gen: torch.Generator
                  ) -> torch.Tensor:
    """One resampling for both: whole-pixel shifts (exact) and a small rotation about the
    centre; pixels from outside the image are zero."""
    b, _, h, w = x.shape
    dx = dy = torch.zeros(b, device=x.device)
    if shift:
        steps = torch.floor(_uniform((2, b), gen, x.device) * (2 * shift + 1)) - shift
        dx, dy = steps[0], steps[1]
    angle = torch.zeros(b, device=x.device)
    if degrees:
        angle = (_uniform((b,), gen, x.device) * 2 - 1) * math.radians(degrees)
    cos, sin = torch.cos(angle), torch.sin(angle)
    # affine_grid maps each output position to where it reads the input, in -1..1 units
    # per axis; the h / w factors keep the rotation a rotation on non-square images, and
    # reading at p - d moves the content by +d pixels.
    theta = torch.stack([
        torch.stack([cos, -sin * h / w, -2 * dx / w], -1),
        torch.stack([sin * w / h, cos, -2 * dy / h], -1)], 1)
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def _cutout(x: torch.Tensor, side: int, gen: torch.Generator) -> torch.Tensor:
    """Zero one square per image, wholly inside it (so each image loses the same area)."""
    b, _, h, w = x.shape
    sy, sx = min(side, h), min(side, w)
    corner = _uniform((2, b), gen, x.device)
    y0 = torch.floor(corner[0] * (h - sy + 1)).view(-1, 1, 1)
    x0 = torch.floor(corner[1] * (w - sx + 1)).view(-1, 1, 1)
    rows = torch.arange(h, device=x.device).view(1, -1, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, -1)
    hole = (rows >= y0) & (rows < y0 + sy) & (cols >= x0) & (cols < x0 + sx)
    return x.masked_fill(hole.unsqueeze(1), 0.0)


def augment_batch(x: torch.Tensor, spec: Any, gen: torch.Generator) -> torch.Tensor:
    """A randomly changed copy of the prepared batch ``x`` [B, C, H, W] (never changed in
    place); ``x`` itself when ``spec`` changes nothing."""
    if not active(spec) or x.ndim != 4 or len(x) == 0:
        return x
    if spec.flip:
        x = _flip(x, gen)
    if spec.shift or spec.rotate:
        x = _shift_rotate(x, int(spec.shift), float(spec.rotate), gen)
    if spec.noise:
        noise = torch.randn(x.shape, generator=gen, device=gen.device, dtype=x.dtype)
        x = x + noise.to(x.device) * float(spec.noise)
    if spec.cutout:
        x = _cutout(x, int(spec.cutout), gen)
    return x


def preview(bundle: Any, spec: Any, n: int = 16, seed: int = 0) -> np.ndarray:
    """``n`` training images as the model would see them under ``spec``, back on the
    0-255 pixel scale: uint8 [n, C, H, W] (the same image set each time; the changes
    depend on ``seed``)."""
    x = bundle.x_train[:n]
    info = bundle.image
    gen = torch.Generator().manual_seed(seed)
    out = unprepare(augment_batch(prepare(x, info), spec, gen), info)
    return (out * 255).round().to(torch.uint8).cpu().numpy()
