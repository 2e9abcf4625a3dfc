"""A preset's card picture: its own data on the left (2-D points coloured by class, a 1-D
curve's points, a few images, a strip of tokens or a sequence's values) and a sketch of its
layer stack on the right (one bar per node, coloured by kind, taller for wider layers).

Drawn with Pillow as a small PNG: a gallery of ~45 cards must open in a moment, and a plotly
chart per card would not. The data comes from the engine's own loaders (cached there), so
the picture is what the preset trains on.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from engine.data import DataBundle, load_data
from engine.data.download import SOURCES
from engine.errors import SpecError
from engine.presets import write_atomic
from engine.spec import Experiment
from viz.network import CLASS_COLOURS, WHITE, _font, diverging

WIDTH, HEIGHT = 240, 120
PAD = 6
BACKGROUND = (250, 250, 251)
PANEL = tuple(int(v) for v in WHITE)
INK = (90, 90, 90)
# Bar colours by kind of layer: the sketch tells a CNN from an MLP from a Transformer.
KINDS = (
    (("conv2d", "conv1d", "conv_transpose2d"), (46, 160, 67)),
    (("maxpool2d", "avgpool2d", "adaptive_avgpool2d", "adaptive_maxpool2d", "global_avgpool",
      "flatten", "upsample"), (170, 170, 170)),
    (("rnn", "lstm", "gru"), (148, 103, 189)),
    (("attention", "multihead_attention", "transformer_encoder", "transformer_decoder",
      "positional"), (245, 147, 34)),
    (("embedding",), (214, 39, 40)),
    (("add", "multiply", "concat"), (120, 120, 120)),
    (("dropout", "dropout2d", "batchnorm1d", "batchnorm2d", "layernorm"), (200, 205, 210)),
)
DENSE = (8, 119, 189)
MAX_POINTS = 300
# Pictures already drawn, by their data and model: a fresh server opens the gallery without
# loading every preset's data again. Bump VERSION when the drawing changes.
CACHE_DIR = Path(__file__).resolve().parent.parent / "cache" / "thumbnails"
VERSION = 1


def colour_of(layer_type: str) -> tuple[int, int, int]:
    for types, colour in KINDS:
        if layer_type in types:
            return colour
    return DENSE


def thumbnail_key(exp: Experiment) -> str:
    """What the picture depends on (data and model, not the lesson) as a short hash."""
    drawn = {"v": VERSION, "data": exp.data.model_dump(mode="json"),
             "model": exp.model.model_dump(mode="json")}
    text = json.dumps(drawn, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def cached_thumbnail(exp: Experiment, folder: Path | None = None) -> bytes:
    """``preset_thumbnail``, kept on disk by ``thumbnail_key`` (a cache that cannot be
    written, a read-only checkout say, only costs the drawing)."""
    path = (folder or CACHE_DIR) / f"{thumbnail_key(exp)}.png"
    try:
        return path.read_bytes()
    except OSError:
        pass
    png = preset_thumbnail(exp)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, png)
    except OSError:
        pass
    return png


def preset_thumbnail(exp: Experiment) -> bytes:
    """The card picture of ``exp`` as PNG bytes (data panel, then the layer sketch)."""
    img = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(img)
    side = HEIGHT - 2 * PAD
    box = (PAD, PAD, PAD + side, PAD + side)
    draw.rectangle(box, fill=PANEL)
    bundle = _data(exp)
    if bundle is not None:
        _draw_data(img, draw, bundle, box)
    _draw_layers(draw, exp, (box[2] + 2 * PAD, PAD, WIDTH - PAD, HEIGHT - PAD))
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _data(exp: Experiment) -> DataBundle | None:
    """The preset's data, unless it has to be downloaded or read from a user's file first
    (a card must never wait for the network; it shows the layer sketch alone then)."""
    if exp.data.name in SOURCES or "path" in exp.data.params:
        return None
    try:
        return load_data(exp.data)
    except (SpecError, OSError, ValueError):
        return None


def _draw_data(img: Image.Image, draw: ImageDraw.ImageDraw, b: DataBundle,
               box: tuple[int, int, int, int]) -> None:
    x = b.x_train
    if b.points_train is not None and b.domain is not None:
        _points(draw, b.points_train, b.y_train.numpy(), b.kind, b.domain, box)
    elif b.image is not None:
        _images(img, b, box)
    elif b.vocab:
        _tokens(draw, x.numpy(), b.vocab, box)
    elif x.ndim == 2 and x.shape[1] == 1 and b.kind == "regression":
        pts = np.column_stack([x[:, 0].numpy(), b.y_train[:, 0].numpy()])
        _points(draw, pts, np.zeros(len(pts)), "classification", _domain(pts), box,
                one_colour=True)
    elif x.ndim == 3:
        _series(draw, x[0].numpy(), box)
    elif x.ndim == 2 and x.shape[1] >= 2:
        pts = x[:, :2].numpy()
        _points(draw, pts, b.y_train.numpy(), b.kind, _domain(pts), box)


def _domain(pts: np.ndarray) -> tuple[float, float, float, float]:
    lo, hi = pts.min(0), pts.max(0)
    span = np.maximum(hi - lo, 1e-9) * 0.08
    return float(lo[0] - span[0]), float(hi[0] + span[0]), float(lo[1] - span[1]), float(
        hi[1] + span[1])


def _points(draw: ImageDraw.ImageDraw, pts: np.ndarray, labels: np.ndarray, kind: str,
            domain: tuple[float, float, float, float], box: tuple[int, int, int, int],
            one_colour: bool = False) -> None:
    step = max(1, len(pts) // MAX_POINTS)
    pts, labels = pts[::step], labels[::step]
    if one_colour:
        colours = np.repeat(CLASS_COLOURS[1:2], len(pts), axis=0)
    elif kind == "classification":
        colours = CLASS_COLOURS[np.asarray(labels, int) % len(CLASS_COLOURS)]
    else:
        colours = diverging(np.asarray(labels, float).ravel())
    xmin, xmax, ymin, ymax = domain
    x0, y0, x1, y1 = box
    for (px, py), col in zip(pts, colours, strict=False):
        u = x0 + (px - xmin) / (xmax - xmin) * (x1 - x0)
        v = y1 - (py - ymin) / (ymax - ymin) * (y1 - y0)
        draw.ellipse([u - 1.6, v - 1.6, u + 1.6, v + 1.6], fill=tuple(int(c) for c in col))


def _images(img: Image.Image, b: DataBundle, box: tuple[int, int, int, int]) -> None:
    """A 2x2 grid of training images, from different classes where there are several."""
    y = b.y_train.numpy()
    picks: list[int] = []
    for cls in range(len(b.class_names) or 1):
        hits = np.flatnonzero(y == cls)
        if hits.size:
            picks.append(int(hits[0]))
        if len(picks) == 4:
            break
    picks += list(range(len(y)))[: 4 - len(picks)]
    x0, y0, x1, _ = box
    cell = (x1 - x0) // 2
    for i, idx in enumerate(picks[:4]):
        a = b.x_train[idx].numpy()  # uint8 [C, H, W]
        pic = Image.fromarray(a[0] if a.shape[0] == 1 else np.moveaxis(a[:3], 0, -1))
        pic = pic.convert("RGB").resize((cell - 2, cell - 2), Image.Resampling.NEAREST)
        img.paste(pic, (x0 + (i % 2) * cell + 1, y0 + (i // 2) * cell + 1))


def _tokens(draw: ImageDraw.ImageDraw, ids: np.ndarray, vocab: tuple[str, ...],
            box: tuple[int, int, int, int]) -> None:
    """A few sequences as rows of cells, one colour per token, the token written in."""
    x0, y0, x1, y1 = box
    rows = ids[:6, :12]
    n_rows, n_cols = rows.shape
    cw, ch = (x1 - x0) / n_cols, min((y1 - y0) / n_rows, (x1 - x0) / n_cols * 1.4)
    font = _font(max(7, int(min(cw, ch) * 0.6)))
    top = y0 + ((y1 - y0) - ch * n_rows) / 2
    for r in range(n_rows):
        for c in range(n_cols):
            tok = int(rows[r, c])
            hue = CLASS_COLOURS[tok % len(CLASS_COLOURS)]
            fill = tuple(int(v) for v in WHITE + (hue - WHITE) * (0.35 + 0.3 * (tok % 3) / 2))
            cell = [x0 + c * cw + 0.5, top + r * ch + 0.5, x0 + (c + 1) * cw - 0.5,
                    top + (r + 1) * ch - 0.5]
            draw.rectangle(cell, fill=fill)
            text = vocab[tok] if tok < len(vocab) else ""
            if 0 < len(text) <= 2 and text.isprintable() and text.strip():
                draw.text(((cell[0] + cell[2]) / 2, (cell[1] + cell[3]) / 2), text, fill=INK,
                          font=font, anchor="mm")


def _series(draw: ImageDraw.ImageDraw, seq: np.ndarray, box: tuple[int, int, int, int]) -> None:
    """One sequence's channels as lines over time (values scaled to the panel)."""
    x0, y0, x1, y1 = box
    t_len = len(seq)
    for ch in range(min(seq.shape[1], len(CLASS_COLOURS))):
        v = seq[:, ch].astype(float)
        lo, hi = float(v.min()), float(v.max())
        scale = (hi - lo) or 1.0
        band = (y1 - y0) / max(1, min(seq.shape[1], len(CLASS_COLOURS)))
        top = y0 + ch * band
        line = [(x0 + 2 + i / max(1, t_len - 1) * (x1 - x0 - 4),
                 top + band - 3 - (v[i] - lo) / scale * (band - 6)) for i in range(t_len)]
        draw.line(line, fill=tuple(int(c) for c in CLASS_COLOURS[ch + 1 if ch < 4 else 0]),
                  width=1)


def _width_of(node: Any) -> int:
    p = node.params
    for key in ("units", "filters", "hidden", "dim", "feedforward"):
        if isinstance(p.get(key), int | float) and p[key] > 0:
            return int(p[key])
    return 0


def _draw_layers(draw: ImageDraw.ImageDraw, exp: Experiment,
                 box: tuple[int, int, int, int]) -> None:
    """One bar per node in the spec's order: colour by kind, height by log width (nodes
    without a width, such as pooling, a short bar)."""
    nodes = exp.model.nodes[:40]
    x0, y0, x1, y1 = box
    n = len(nodes)
    slot = (x1 - x0) / max(n, 1)
    bar = max(1.5, min(10.0, slot * 0.7))
    widths = [_width_of(nd) for nd in nodes]
    top = max([math.log2(w + 1) for w in widths] + [1.0])
    mid = (y0 + y1) / 2
    for i, (nd, w) in enumerate(zip(nodes, widths, strict=True)):
        share = 0.25 if not w else 0.3 + 0.7 * math.log2(w + 1) / top
        half = (y1 - y0) * share / 2
        cx = x0 + slot * (i + 0.5)
        draw.rounded_rectangle([cx - bar / 2, mid - half, cx + bar / 2, mid + half],
                               radius=min(2.0, bar / 2), fill=colour_of(nd.type))
