"""The Playground's pictures: the network with each neuron's map of the input
plane (or its response curve, for 1-D data), the output over the plane (or the
fitted curve over the points) with the data, and data thumbnails.

Colours follow TensorFlow Playground: orange for negative, blue for positive.

Each picture is one PNG image (``network_png``, ``output_png``), with the words a pointer
shows over its weights, neurons and points given apart as tips (``network_tips``,
``output_tips``). A browser swaps an image in place; with the two pictures as plotly
charts, a Step on the Playground cost its browser 0.40-0.58 s of CPU instead of 0.24-0.32 s,
and a class's pages share the server's cores (bench/load.py).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from engine.i18n import t
from viz.axes import sig

ORANGE = np.array([245, 147, 34], float)
BLUE = np.array([8, 119, 189], float)
WHITE = np.array([232, 234, 235], float)
CLASS_COLOURS = np.array([[245, 147, 34], [8, 119, 189], [46, 160, 67], [214, 39, 40],
                          [148, 103, 189]], float)
MAX_DRAWN = 8  # neurons drawn per layer, as TensorFlow Playground; the rest are summarised
CURVE_PX = 40  # side of a neuron's response-curve image
INK = (60, 60, 60)


def diverging(values: np.ndarray, scale: float | None = None) -> np.ndarray:
    """Values to RGB: orange below zero, white at zero, blue above (scaled to +-scale)."""
    scale = scale or float(np.nanmax(np.abs(values))) or 1.0
    v = np.clip(np.nan_to_num(values / scale), -1, 1)[..., None]
    rgb = np.where(v < 0, WHITE + (ORANGE - WHITE) * -v, WHITE + (BLUE - WHITE) * v)
    return rgb.astype(np.uint8)


def class_mix(probs: np.ndarray, discretize: bool = False) -> np.ndarray:
    """Class probabilities [k, h, w] to RGB, paler where the model is unsure."""
    k = probs.shape[0]
    if discretize:
        probs = np.eye(k)[probs.argmax(0)].transpose(2, 0, 1)
    colours = CLASS_COLOURS[np.arange(k) % len(CLASS_COLOURS)]
    mixed = np.einsum("khw,kc->hwc", probs, colours)
    confidence = (probs.max(0)[..., None] - 1 / k) / (1 - 1 / k)
    return (WHITE + (mixed - WHITE) * np.clip(confidence, 0, 1)).astype(np.uint8)


def png_bytes(pixels: np.ndarray) -> bytes:
    """An 8-bit grey or RGB image (row 0 = the top) as a PNG file."""
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


def curve_picture(values: np.ndarray, scale: float | None = None) -> Image.Image:
    """A response along a line (1-D input) as a small image: the curve over columns
    tinted by its sign, paler than a plane map so the line reads first."""
    v = np.asarray(values, float)
    scale = scale or float(np.nanmax(np.abs(v))) or 1.0
    cols = np.linspace(0, len(v) - 1, CURVE_PX)
    sampled = np.interp(cols, np.arange(len(v)), np.nan_to_num(v))
    tint = WHITE + (diverging(sampled, scale).astype(float) - WHITE) * 0.45
    img = Image.fromarray(np.repeat(tint[None], CURVE_PX, 0).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    mid = (CURVE_PX - 1) / 2
    draw.line([(0, mid), (CURVE_PX - 1, mid)], fill=(200, 200, 200), width=1)
    ys = mid - np.clip(sampled / scale, -1, 1) * (mid - 2)
    draw.line(list(zip(range(CURVE_PX), ys.tolist(), strict=True)), fill=INK, width=2)
    return img


def unit_picture(values: np.ndarray, scale: float | None = None) -> Image.Image:
    """One neuron's picture: a map of the plane (row 0 = the lowest y, drawn at the bottom),
    or a curve along the line."""
    if np.ndim(values) == 1:
        return curve_picture(values, scale)
    return Image.fromarray(diverging(np.flipud(values), scale), "RGB")


def drawn_edges(columns: list[tuple[str, list[str]]], weights: dict[str, np.ndarray],
                shown: list[int], pos: list[list[tuple[float, float]]],
                ) -> Iterator[tuple[float, float, tuple[float, float], tuple[float, float],
                                    tuple[str, str]]]:
    """Each drawn edge: its weight, the weight against its layer's largest, where it starts
    and ends, and the names of the two units it joins."""
    for c in range(1, len(columns)):
        w = weights.get(columns[c][0])
        if w is None or w.shape[1] < shown[c - 1]:
            continue
        scale = float(np.abs(w).max()) or 1.0
        for j in range(shown[c]):
            for i in range(shown[c - 1]):
                val = float(w[j, i])
                yield (val, abs(val) / scale, pos[c - 1][i], pos[c][j],
                       (columns[c - 1][1][i], columns[c][1][j]))


def network_height(columns: list[tuple[str, list[str]]], scale: float = 1.0) -> int:
    """Pixels a network drawing needs: enough per drawn neuron, within a screen's reach."""
    rows = max((min(len(labels), MAX_DRAWN) for _, labels in columns), default=1)
    return int(min(max(240, 52 * rows + 80), 460) * scale)


def map_colours(boundary: dict[str, Any], kind: str, labels: np.ndarray,
                discretize: bool = False) -> np.ndarray:
    """The output map as RGB pixels: classes mixed by probability, or a regression's
    value on a diverging scale set by the targets."""
    out = boundary["output"]
    if kind == "classification":
        return class_mix(out, discretize)
    values = out[0]
    scale = float(np.abs(labels).max()) if len(labels) else 1.0
    if discretize:
        values = np.sign(values) * scale
    return diverging(values, scale)


def thumbnail(points: np.ndarray, labels: np.ndarray, kind: str,
              domain: tuple[float, float, float, float], size: int = 72) -> bytes:
    """A small PNG of a data set's points, for the data-set picker."""
    img = Image.new("RGB", (size, size), tuple(int(v) for v in WHITE))
    draw = ImageDraw.Draw(img)
    xmin, xmax, ymin, ymax = domain
    if kind == "classification":
        colours = CLASS_COLOURS[np.asarray(labels, int) % len(CLASS_COLOURS)]
    else:
        colours = diverging(np.asarray(labels, float).ravel())
    for (x, y), col in zip(points, colours, strict=False):
        px = (x - xmin) / (xmax - xmin) * (size - 1)
        py = (ymax - y) / (ymax - ymin) * (size - 1)
        draw.ellipse([px - 1.2, py - 1.2, px + 1.2, py + 1.2], fill=tuple(int(v) for v in col))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


# The pictures as PNG images, and what a pointer shows over them ----------------------------
FONT_FILE = "DejaVuSans.ttf"
# Chinese words need a font with their glyphs (Debian's fonts-noto-cjk, or the others'
# usual ones); Pillow finds a bare file name in the system's font folders.
CJK_FONT_FILES = ("NotoSansCJK-Regular.ttc", "NotoSansSC-Regular.otf", "wqy-microhei.ttc",
                  "msyh.ttc", "PingFang.ttc")


def _font(px: int, text: str = "") -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    files = (*CJK_FONT_FILES, FONT_FILE) if any(ord(ch) > 0x2E7F for ch in text) else (
        FONT_FILE,)
    for file in files:
        try:
            return ImageFont.truetype(file, px)
        except OSError:  # not on this machine: the next one, at last Pillow's own font
            continue
    return ImageFont.load_default(px)


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


Tip = tuple[str, tuple[float, ...], str]  # "line", "rect" or "circle"; its pixels; words


class _Layout(NamedTuple):
    """Where the network drawing puts each neuron, in the picture's pixels."""
    width: int
    height: int
    unit: float  # pixels per unit of the drawing's own coordinates
    x0: float
    y1: float
    shown: list[int]  # neurons drawn per column
    pos: list[list[tuple[float, float]]]  # each drawn neuron's centre, in drawing units

    def px(self, x: float, y: float) -> tuple[float, float]:
        return (x - self.x0) * self.unit, (self.y1 - y) * self.unit


GAP_X, GAP_Y, BOX = 1.7, 1.0, 0.72  # between columns, between neurons; a neuron's side


def _layout(columns: list[tuple[str, list[str]]], height: int | None) -> _Layout:
    shown = [min(len(labels), MAX_DRAWN) for _, labels in columns]
    rows = max(shown) if shown else 1
    height = height or network_height(columns)
    x0, x1 = -GAP_X * 0.55, (len(columns) - 1) * GAP_X + 0.6
    # Room at the top for a column's three lines of title (name, size, "+n more").
    y0, y1 = -(rows - 1) / 2 * GAP_Y - 0.5, (rows - 1) / 2 * GAP_Y + 1.5
    unit = height / (y1 - y0)
    pos = [[(c * GAP_X, (n - 1) / 2 * GAP_Y - r * GAP_Y) for r in range(n)]
           for c, n in enumerate(shown)]
    return _Layout(int((x1 - x0) * unit), height, unit, x0, y1, shown, pos)


def network_tips(columns: list[tuple[str, list[str]]], weights: dict[str, np.ndarray],
                 height: int | None = None) -> list[Tip]:
    """What a pointer shows over ``network_png``'s drawing: each drawn weight's value and
    each neuron's name."""
    lay = _layout(columns, height)
    tips: list[Tip] = []
    for val, _, (ax, ay), (bx, by), names in drawn_edges(columns, weights, lay.shown, lay.pos):
        tips.append(("line", (*lay.px(ax + BOX / 2, ay), *lay.px(bx - BOX / 2, by)),
                     f"{names[0]} → {names[1]}: w = {val:.3f}"))
    side = BOX * lay.unit
    for c, (nid, labels) in enumerate(columns):
        for r, (x, y) in enumerate(lay.pos[c]):
            left, top = lay.px(x - BOX / 2, y + BOX / 2)
            tips.append(("rect", (left, top, side, side), f"{nid}: {labels[r]}"))
    return tips


def network_png(columns: list[tuple[str, list[str]]], maps: dict[str, np.ndarray],
                weights: dict[str, np.ndarray], output_map: np.ndarray | None = None,
                height: int | None = None) -> bytes:
    """``columns``: (node id, unit labels) from the input features to the output.
    ``maps``: node id -> [units, res, res] (a plane) or [units, res] (a line);
    ``weights``: node id -> [out, in]. ``height`` in pixels, by default
    ``network_height``. Up to ``MAX_DRAWN`` neurons of a layer are drawn, the rest
    counted under its name."""
    lay = _layout(columns, height)
    unit, size, pos, shown, px = lay.unit, BOX, lay.pos, lay.shown, lay.px
    img = Image.new("RGBA", (lay.width, lay.height), (255, 255, 255, 255))

    edges = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(edges)
    for val, rel, (ax, ay), (bx, by), _ in drawn_edges(columns, weights, shown, pos):
        strength = min(rel, 1.0)
        colour = tuple(int(v) for v in (BLUE if val >= 0 else ORANGE))
        draw.line([px(ax + size / 2, ay), px(bx - size / 2, by)],
                  fill=(*colour, int(70 + 150 * strength)),
                  width=max(1, round(unit * (0.015 + 0.05 * strength))))
    img = Image.alpha_composite(img, edges)
    draw = ImageDraw.Draw(img)
    font = _font(max(9, round(unit * 0.2)), "".join(c for c, _ in columns))
    box = round(size * unit)
    for c, (nid, labels) in enumerate(columns):
        last = c == len(columns) - 1 and output_map is not None
        node_maps = output_map if last else maps.get(nid)
        for r, (x, y) in enumerate(pos[c]):
            left, top = px(x - size / 2, y + size / 2)
            if node_maps is not None and r < len(node_maps):
                pic = unit_picture(node_maps[r], 1.0 if last else None)
                img.paste(pic.resize((box, box), Image.Resampling.BILINEAR),
                          (round(left), round(top)))
            if c == 0:
                draw.text(px(x - size / 2 - 0.08, y), labels[r], fill=INK, font=font,
                          anchor="rm")
        hidden = len(labels) - shown[c]
        top = max(y for _, y in pos[c]) if pos[c] else 0
        lines = [nid, str(len(labels))] + ([t("+{n} more", n=hidden)] if hidden > 0 else [])
        draw.multiline_text(px(c * GAP_X, top + size / 2 + 0.12), "\n".join(lines), fill=INK,
                            font=font, anchor="md", align="center", spacing=1)
    return _png(img.convert("RGB"))


def _value_range(values: np.ndarray, test_values: np.ndarray | None) -> tuple[float, float]:
    """The targets' span with a margin: a 1-D regression's vertical axis."""
    seen = np.concatenate([np.asarray(values, float).ravel(),
                           np.asarray(test_values if test_values is not None else [], float)
                           .ravel()])
    lo, hi = (float(seen.min()), float(seen.max())) if seen.size else (-1.0, 1.0)
    pad = (hi - lo) * 0.15 or 1.0
    return lo - pad, hi + pad


def _placer(boundary: dict[str, Any], labels: np.ndarray, test_labels: np.ndarray | None,
            size: int) -> Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Where a point of the output picture falls, in its pixels: on a plane (x1, x2); for
    1-D data, (x, value), with values beyond the targets' span held at its edge."""
    xs = np.asarray(boundary["xs"], float)
    line = boundary.get("dims") == 1
    lo, hi = (_value_range(labels, test_labels) if line
              else (float(boundary["ys"][0]), float(boundary["ys"][-1])))

    def px(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y = np.clip(np.asarray(y, float), lo, hi) if line else np.asarray(y, float)
        return ((np.asarray(x, float) - xs[0]) / ((xs[-1] - xs[0]) or 1.0) * (size - 1),
                (hi - y) / ((hi - lo) or 1.0) * (size - 1))
    return px


def _data_sets(boundary: dict[str, Any], points: np.ndarray, labels: np.ndarray,
               test_points: np.ndarray | None, test_labels: np.ndarray | None,
               ) -> Iterator[tuple[str, tuple[int, int, int], np.ndarray, np.ndarray,
                                   np.ndarray]]:
    """The data drawn over the output: (name, outline, x, y, label) for train and test. On
    a plane a point is at its two inputs; over a line, at its input and its target."""
    for pts, lab, outline, name in ((points, labels, (255, 255, 255), t("train")),
                                    (test_points, test_labels, (0, 0, 0), t("test"))):
        if pts is None or lab is None or not len(pts):
            continue
        pts, lab = np.asarray(pts, float), np.asarray(lab).ravel()
        y = lab.astype(float) if boundary.get("dims") == 1 else pts[:, 1]
        yield name, outline, pts[:, 0], y, lab


def output_tips(boundary: dict[str, Any], kind: str, points: np.ndarray, labels: np.ndarray,
                test_points: np.ndarray | None = None, test_labels: np.ndarray | None = None,
                size: int = 300) -> list[Tip]:
    """What a pointer shows over ``output_png``'s picture: each data point, and for 1-D data
    the network's output along its curve."""
    px = _placer(boundary, labels, test_labels, size)
    dot = max(2.5, size / 110) + 1
    line = boundary.get("dims") == 1
    tips: list[Tip] = []
    for name, _, x, y, lab in _data_sets(boundary, points, labels, test_points, test_labels):
        for cx, cy, xv, yv, lv in zip(*px(x, y), x, y, lab, strict=True):
            words = (f"{name} x = {sig(xv)}, y = {sig(yv)}" if line else
                     f"{name} ({xv:.2f}, {yv:.2f}): "
                     + (str(int(lv)) if kind == "classification" else sig(lv)))
            tips.append(("circle", (float(cx), float(cy), dot), words))
    if line:
        xs, out = np.asarray(boundary["xs"], float), np.asarray(boundary["output"][0], float)
        pick = np.unique(np.linspace(0, len(xs) - 1, min(len(xs), 40)).round().astype(int))
        for cx, cy, xv, yv in zip(*px(xs[pick], out[pick]), xs[pick], out[pick], strict=True):
            tips.append(("circle", (float(cx), float(cy), dot + 1),
                         t("network") + f" x = {sig(xv)}: {sig(yv)}"))
    return tips


def output_png(boundary: dict[str, Any], kind: str, points: np.ndarray, labels: np.ndarray,
               test_points: np.ndarray | None = None, test_labels: np.ndarray | None = None,
               discretize: bool = False, size: int = 300) -> bytes:
    """The model's output over the plane with the data on top, as one square picture; for
    1-D data (points of shape [N, 1]) the fitted curve over the points."""
    px = _placer(boundary, labels, test_labels, size)
    line = boundary.get("dims") == 1
    if line:
        img = Image.new("RGB", (size, size), (255, 255, 255))
    else:
        rgb = map_colours(boundary, kind, labels, discretize)
        img = Image.fromarray(np.flipud(rgb), "RGB").resize((size, size),
                                                            Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(img)
    xs = np.asarray(boundary["xs"], float)
    if line:
        zero = px(xs[[0, -1]], np.zeros(2))
        if 0 < zero[1][0] < size - 1:  # the zero line, when it is within the span
            draw.line(list(zip(*zero, strict=True)), fill=(221, 221, 221), width=1)
    dot = max(2.5, size / 110)
    for _, outline, x, y, lab in _data_sets(boundary, points, labels, test_points,
                                            test_labels):
        if line:
            colours = np.tile(BLUE, (len(lab), 1))
        elif kind == "classification":
            colours = CLASS_COLOURS[lab.astype(int) % len(CLASS_COLOURS)]
        else:
            colours = diverging(lab.astype(float), float(np.abs(labels).max()) or 1.0)
        for cx, cy, col in zip(*px(x, y), colours, strict=True):
            draw.ellipse([cx - dot, cy - dot, cx + dot, cy + dot],
                         fill=tuple(int(v) for v in col), outline=outline)
    if line:
        curve = px(xs, np.asarray(boundary["output"][0], float))
        draw.line(list(zip(*(c.tolist() for c in curve), strict=True)), fill=(245, 147, 34),
                  width=max(2, size // 100), joint="curve")
    return _png(img)
