"""The Playground's pictures and the words a pointer shows over them: every tip lies on
what it names in the picture, so a student pointing at a weight, a neuron or a point
reads that one's value."""

from __future__ import annotations

import io
import re

import numpy as np
from PIL import Image

from ui.inline_image import png_size, tip_layer
from viz.network import (
    CLASS_COLOURS,
    ORANGE,
    network_png,
    network_tips,
    output_png,
    output_tips,
)

RES = 24


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), int)


def _around(pixels: np.ndarray, x: float, y: float) -> np.ndarray:
    """The 3 × 3 pixels around (x, y): a thin line is drawn within a pixel of its course."""
    r, c = round(y), round(x)
    return pixels[max(r - 1, 0):r + 2, max(c - 1, 0):c + 2].reshape(-1, 3)


def _network() -> tuple[list, dict, dict]:
    rng = np.random.default_rng(0)
    columns = [("input", ["x1", "x2"]), ("hidden1", ["#1", "#2", "#3"]),
               ("output", ["#1", "#2"])]
    weights = {"hidden1": rng.normal(size=(3, 2)), "output": rng.normal(size=(2, 3))}
    maps = {"input": rng.normal(size=(2, RES, RES)), "hidden1": rng.normal(size=(3, RES, RES)),
            "output": rng.normal(size=(2, RES, RES))}
    return columns, weights, maps


def test_each_weight_and_neuron_of_the_drawing_has_its_words_where_it_is_drawn() -> None:
    columns, weights, maps = _network()
    png = network_png(columns, maps, weights, height=300)
    tips = network_tips(columns, weights, height=300)
    width, height = png_size(png)
    pixels = _pixels(png)
    lines = [(at, words) for shape, at, words in tips if shape == "line"]
    rects = [(at, words) for shape, at, words in tips if shape == "rect"]
    assert len(lines) == 2 * 3 + 3 * 2 and len(rects) == 2 + 3 + 2
    assert [w for _, w in rects][:3] == ["input: x1", "input: x2", "hidden1: #1"]
    for (left, top, w, h), _ in rects:
        assert left >= 0 and left + w <= width and top >= 0 and top + h <= height
        # Each neuron's map is drawn in its box: not the page's white.
        assert pixels[int(top + h / 2), int(left + w / 2)].tolist() != [255, 255, 255]
    boxes = {(round(left + w, 1), round(top + h / 2, 1)) for (left, top, w, h), _ in rects}
    starts = {(round(left, 1), round(top + h / 2, 1)) for (left, top, w, h), _ in rects}
    values = {f"{a} → {b}": v for (a, b), v in [
        (("x1", "#1"), weights["hidden1"][0, 0]), (("#3", "#2"), weights["output"][1, 2])]}
    for (x1, y1, x2, y2), words in lines:
        # From the right edge of one neuron's box to the left edge of the next one's.
        assert (round(x1, 1), round(y1, 1)) in boxes and (round(x2, 1), round(y2, 1)) in starts
        found = re.fullmatch(r"(.+ → .+): w = (-?\d+\.\d{3})", words)
        assert found, words
        if found.group(1) in values:
            assert float(found.group(2)) == round(values[found.group(1)], 3)
        # The weight's line is drawn where its words are: coloured, not white.
        mid = _around(pixels, (x1 + x2) / 2, (y1 + y2) / 2)
        assert (mid < 250).any(), words


def test_each_point_of_the_map_has_its_words_on_its_dot() -> None:
    xs = ys = np.linspace(-6, 6, RES)
    boundary = {"xs": xs, "ys": ys, "dims": 2, "output": np.full((2, RES, RES), 0.5)}
    points = np.array([[-3.0, 3.0], [3.0, -3.0], [4.5, 4.5]])
    labels = np.array([0, 1, 1])
    test_points, test_labels = np.array([[-4.0, -4.0]]), np.array([0])
    size = 200
    png = output_png(boundary, "classification", points, labels, test_points, test_labels,
                     size=size)
    tips = output_tips(boundary, "classification", points, labels, test_points, test_labels,
                       size=size)
    assert [w for _, _, w in tips] == ["train (-3.00, 3.00): 0", "train (3.00, -3.00): 1",
                                       "train (4.50, 4.50): 1", "test (-4.00, -4.00): 0"]
    pixels = _pixels(png)
    for (shape, (cx, cy, r), _), label in zip(tips, [*labels, *test_labels], strict=True):
        assert shape == "circle" and 0 < cx < size and 0 < cy < size and r >= 2
        assert np.abs(pixels[round(cy), round(cx)] - CLASS_COLOURS[label]).max() < 40
    # Up is up: the first point (y = 3) is above the second (y = -3).
    assert tips[0][1][1] < tips[1][1][1]


def test_a_curve_has_words_along_it_and_on_each_point() -> None:
    xs = np.linspace(-1, 1, 100)
    boundary = {"xs": xs, "dims": 1, "output": np.sin(3 * xs)[None]}
    points, values = np.array([[-0.5], [0.5]]), np.array([1.0, -1.0])
    size = 200
    png = output_png(boundary, "regression", points, values, size=size)
    tips = output_tips(boundary, "regression", points, values, size=size)
    words = [w for _, _, w in tips]
    assert words[:2] == ["train x = -0.5, y = 1", "train x = 0.5, y = -1"]
    along = [(at, w) for _, at, w in tips if w.startswith("network x = ")]
    assert len(along) == 40
    pixels = _pixels(png)
    for (cx, cy, _), words in along:
        assert (np.abs(_around(pixels, cx, cy) - ORANGE).max(axis=1) < 60).any(), words


def test_the_words_are_text_in_shapes_over_the_picture() -> None:
    layer = tip_layer([("line", (1, 2, 3, 4), "a <b> & c"), ("rect", (0, 0, 5, 5), "n"),
                       ("circle", (2, 2, 3), "p")], 40, 30)
    assert layer.startswith('<svg viewBox="0 0 40 30"')
    assert "<title>a &lt;b&gt; &amp; c</title>" in layer
    assert re.findall(r"<(line|rect|circle) ", layer) == ["line", "rect", "circle"]
    assert tip_layer([], 40, 30) == ""
