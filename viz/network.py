"""The Playground's pictures: the network with each neuron's map of the input
plane (or its response curve, for 1-D data), the output over the plane (or the
fitted curve over the points) with the data, and data thumbnails.

Colours follow TensorFlow Playground: orange for negative, blue for positive.
Maps are small PNG images placed on a plotly figure, which draws far faster
than one heatmap trace per neuron.

While a run goes on the same pictures are drawn as plain PNG images
(``network_png``, ``output_png``): the browser swaps an image in place, where a
plotly chart whose figure changed is mounted again and is blank meanwhile.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageDraw, ImageFont

from engine.i18n import t
from viz.style import styled

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


def png_uri(rgb: np.ndarray) -> str:
    """An RGB image (row 0 = the top) as a data URI."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(rgb)).decode("ascii")


def plane_image(values: np.ndarray, scale: float | None = None) -> str:
    """A map over the plane (row 0 = the lowest y) as an image with high y at the top."""
    return png_uri(diverging(np.flipud(values), scale))


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


def unit_image(values: np.ndarray, scale: float | None = None) -> str:
    """``unit_picture`` as a data URI, for a plotly figure."""
    if np.ndim(values) != 1:
        return plane_image(values, scale)
    buf = io.BytesIO()
    curve_picture(values, scale).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


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


def _placed(uri: str, cx: float, cy: float, size: float) -> dict[str, Any]:
    return dict(source=uri, xref="x", yref="y", x=cx - size / 2, y=cy + size / 2,
                sizex=size, sizey=size, sizing="stretch", layer="above")


def network_figure(columns: list[tuple[str, list[str]]], maps: dict[str, np.ndarray],
                   weights: dict[str, np.ndarray], output_map: np.ndarray | None = None,
                   height: int | None = None) -> go.Figure:
    """``columns``: (node id, unit labels) from the input features to the output.
    ``maps``: node id -> [units, res, res] (a plane) or [units, res] (a line);
    ``weights``: node id -> [out, in]. ``height`` in pixels, by default
    ``network_height``."""
    gap_x, gap_y, size = 1.7, 1.0, 0.72
    pos: list[list[tuple[float, float]]] = []
    shown: list[int] = []
    for c, (_, labels) in enumerate(columns):
        n = min(len(labels), MAX_DRAWN)
        shown.append(n)
        pos.append([(c * gap_x, (n - 1) / 2 * gap_y - r * gap_y) for r in range(n)])
    fig = go.Figure()
    images, annotations = [], []

    # Edges, bucketed by sign and width so a big layer is a handful of traces.
    buckets: dict[tuple[int, int], tuple[list, list]] = {}
    hx, hy, htext = [], [], []
    for val, rel, (x0, y0), (x1, y1), names in drawn_edges(columns, weights, shown, pos):
        key = (int(val >= 0), min(int(rel * 4), 3))
        xs, ys = buckets.setdefault(key, ([], []))
        xs += [x0 + size / 2, x1 - size / 2, None]
        ys += [y0, y1, None]
        hx.append((x0 + x1) / 2)
        hy.append((y0 + y1) / 2)
        htext.append(f"{names[0]} → {names[1]}: w = {val:.3f}")
    for (positive, width), (xs, ys) in sorted(buckets.items()):
        colour = "rgb(8,119,189)" if positive else "rgb(245,147,34)"
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", hoverinfo="skip",
                                 line=dict(color=colour, width=0.6 + 1.6 * width),
                                 opacity=0.35 + 0.15 * width, showlegend=False))
    fig.add_trace(go.Scatter(x=hx, y=hy, mode="markers", marker=dict(size=7, opacity=0),
                             text=htext, hovertemplate="%{text}<extra></extra>",
                             showlegend=False, name="weights"))

    for c, (nid, labels) in enumerate(columns):
        node_maps = output_map if (c == len(columns) - 1 and output_map is not None) else (
            maps.get(nid))
        for r, (x, y) in enumerate(pos[c]):
            if node_maps is not None and r < len(node_maps):
                scale = 1.0 if node_maps is output_map else None
                images.append(_placed(unit_image(node_maps[r], scale), x, y, size))
            if c == 0:
                annotations.append(dict(x=x - size / 2 - 0.08, y=y, text=labels[r],
                                        xanchor="right", showarrow=False, font=dict(size=11)))
        hidden = len(labels) - shown[c]
        title = nid  # the page names the inputs' column in the reader's language
        more = "<br>" + t("+{n} more", n=hidden) if hidden > 0 else ""
        top = max(y for _, y in pos[c]) if pos[c] else 0
        annotations.append(dict(x=c * gap_x, y=top + size / 2 + 0.15, yanchor="bottom",
                                text=f"<b>{title}</b><br>{len(labels)}{more}",
                                showarrow=False, font=dict(size=11)))
    # Invisible node markers carry each neuron's name on hover.
    nx_, ny_, nt = [], [], []
    for c, (nid, labels) in enumerate(columns):
        for r, (x, y) in enumerate(pos[c]):
            nx_.append(x)
            ny_.append(y)
            nt.append(f"{nid}: {labels[r]}")
    fig.add_trace(go.Scatter(x=nx_, y=ny_, mode="markers", text=nt,
                             marker=dict(size=28, opacity=0, symbol="square"),
                             hovertemplate="%{text}<extra></extra>", showlegend=False))
    rows = max(shown) if shown else 1
    fig.update_layout(images=images, annotations=annotations,
                      height=height or network_height(columns),
                      margin=dict(l=60, r=10, t=10, b=10), plot_bgcolor="white",
                      xaxis=dict(visible=False, range=[-gap_x * 0.55,
                                                        (len(columns) - 1) * gap_x + 0.6]),
                      yaxis=dict(visible=False, scaleanchor="x",
                                 range=[-(rows - 1) / 2 * gap_y - 0.6,
                                        (rows - 1) / 2 * gap_y + 1.5]),
                      hovermode="closest", uirevision="network")
    return styled(fig)


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


def output_figure(boundary: dict[str, Any], kind: str, points: np.ndarray, labels: np.ndarray,
                  test_points: np.ndarray | None = None, test_labels: np.ndarray | None = None,
                  discretize: bool = False, height: int = 420) -> go.Figure:
    """The model's output over the plane with the data on top; for 1-D data (points of
    shape [N, 1]) the fitted curve over the points."""
    if boundary.get("dims") == 1:
        return curve_figure(boundary, points, labels, test_points, test_labels, height)
    xs, ys = boundary["xs"], boundary["ys"]
    rgb = map_colours(boundary, kind, labels, discretize)
    fig = go.Figure()
    fig.add_layout_image(dict(source=png_uri(np.flipud(rgb)), xref="x", yref="y", x=xs[0],
                              y=ys[-1], sizex=xs[-1] - xs[0], sizey=ys[-1] - ys[0],
                              sizing="stretch", layer="below"))
    for pts, lab, outline, name in ((points, labels, "white", t("train")),
                                    (test_points, test_labels, "black", t("test"))):
        if pts is None or lab is None or not len(pts):
            continue
        if kind == "classification":
            colours = [f"rgb{tuple(int(v) for v in CLASS_COLOURS[int(c) % 5])}" for c in lab]
        else:
            colours = [f"rgb{tuple(int(v) for v in col)}" for col in
                       diverging(np.asarray(lab).ravel(), float(np.abs(labels).max()) or 1.0)]
        fig.add_trace(go.Scatter(
            x=pts[:, 0], y=pts[:, 1], mode="markers", name=name,
            marker=dict(size=6, color=colours, line=dict(width=1, color=outline)),
            text=[str(v) for v in np.asarray(lab).ravel()],
            hovertemplate=f"{name} (%{{x:.2f}}, %{{y:.2f}}): %{{text}}<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), showlegend=False,
                      xaxis=dict(range=[xs[0], xs[-1]], showgrid=False, zeroline=False),
                      yaxis=dict(range=[ys[0], ys[-1]], showgrid=False, zeroline=False,
                                 scaleanchor="x"),
                      uirevision="output")
    return styled(fig)


def curve_figure(boundary: dict[str, Any], points: np.ndarray, values: np.ndarray,
                 test_points: np.ndarray | None = None, test_values: np.ndarray | None = None,
                 height: int = 420) -> go.Figure:
    """A 1-D regression: the data as points and the network's output as a curve over them
    (TensorFlow Playground draws its regression output the same way)."""
    xs, out = boundary["xs"], boundary["output"]
    fig = go.Figure()
    for pts, val, outline, name in ((points, values, "white", t("train")),
                                    (test_points, test_values, "black", t("test"))):
        if pts is None or val is None or not len(pts):
            continue
        fig.add_trace(go.Scatter(
            x=np.asarray(pts)[:, 0], y=np.asarray(val).ravel(), mode="markers", name=name,
            marker=dict(size=6, color="rgb(8,119,189)", opacity=0.75,
                        line=dict(width=1, color=outline)),
            hovertemplate=f"{name} x = %{{x:.3g}}, y = %{{y:.3g}}<extra></extra>"))
    fig.add_trace(go.Scatter(x=xs, y=out[0], mode="lines", name=t("network"),
                             line=dict(color="rgb(245,147,34)", width=3),
                             hovertemplate="x = %{x:.3g}: %{y:.3g}<extra></extra>"))
    seen = np.concatenate([np.asarray(values, float).ravel(),
                           np.asarray(test_values if test_values is not None else [], float)
                           .ravel()])
    lo, hi = (float(seen.min()), float(seen.max())) if seen.size else (-1.0, 1.0)
    pad = (hi - lo) * 0.15 or 1.0
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), showlegend=False,
                      plot_bgcolor="white",
                      xaxis=dict(range=[float(xs[0]), float(xs[-1])], showgrid=False,
                                 zeroline=False),
                      yaxis=dict(range=[lo - pad, hi + pad], showgrid=False, zerolinecolor="#ddd"),
                      uirevision="output")
    return styled(fig)


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


# The same pictures as plain PNG images, for a run in progress ------------------------------
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


def network_png(columns: list[tuple[str, list[str]]], maps: dict[str, np.ndarray],
                weights: dict[str, np.ndarray], output_map: np.ndarray | None = None,
                height: int | None = None) -> bytes:
    """``network_figure`` as one PNG image (same layout, no hover)."""
    gap_x, gap_y, size = 1.7, 1.0, 0.72
    shown = [min(len(labels), MAX_DRAWN) for _, labels in columns]
    rows = max(shown) if shown else 1
    height = height or network_height(columns)
    x0, x1 = -gap_x * 0.55, (len(columns) - 1) * gap_x + 0.6
    # Room at the top for a column's three lines of title (name, size, "+n more").
    y0, y1 = -(rows - 1) / 2 * gap_y - 0.5, (rows - 1) / 2 * gap_y + 1.5
    unit = height / (y1 - y0)
    width = int((x1 - x0) * unit)
    img = Image.new("RGBA", (width, height), (255, 255, 255, 255))

    def px(x: float, y: float) -> tuple[float, float]:
        return (x - x0) * unit, (y1 - y) * unit

    pos = [[(c * gap_x, (n - 1) / 2 * gap_y - r * gap_y) for r in range(n)]
           for c, n in enumerate(shown)]
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
        draw.multiline_text(px(c * gap_x, top + size / 2 + 0.12), "\n".join(lines), fill=INK,
                            font=font, anchor="md", align="center", spacing=1)
    return _png(img.convert("RGB"))


def output_png(boundary: dict[str, Any], kind: str, points: np.ndarray, labels: np.ndarray,
               test_points: np.ndarray | None = None, test_labels: np.ndarray | None = None,
               discretize: bool = False, size: int = 300) -> bytes:
    """``output_figure`` as one square PNG image (no axes, no hover)."""
    if boundary.get("dims") == 1:
        return _curve_png(boundary, points, labels, test_points, test_labels, size)
    xs, ys = boundary["xs"], boundary["ys"]
    rgb = map_colours(boundary, kind, labels, discretize)
    img = Image.fromarray(np.flipud(rgb), "RGB").resize((size, size), Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(img)
    span_x, span_y = float(xs[-1] - xs[0]) or 1.0, float(ys[-1] - ys[0]) or 1.0
    dot = max(2.5, size / 110)
    for pts, lab, outline in ((points, labels, (255, 255, 255)),
                              (test_points, test_labels, (0, 0, 0))):
        if pts is None or lab is None or not len(pts):
            continue
        if kind == "classification":
            colours = CLASS_COLOURS[np.asarray(lab, int) % len(CLASS_COLOURS)]
        else:
            colours = diverging(np.asarray(lab, float).ravel(),
                                float(np.abs(labels).max()) or 1.0)
        for (x, y), col in zip(pts, colours, strict=False):
            cx = (x - xs[0]) / span_x * (size - 1)
            cy = (ys[-1] - y) / span_y * (size - 1)
            draw.ellipse([cx - dot, cy - dot, cx + dot, cy + dot],
                         fill=tuple(int(v) for v in col), outline=outline)
    return _png(img)


def _curve_png(boundary: dict[str, Any], points: np.ndarray, values: np.ndarray,
               test_points: np.ndarray | None, test_values: np.ndarray | None,
               size: int) -> bytes:
    xs, out = np.asarray(boundary["xs"], float), np.asarray(boundary["output"][0], float)
    seen = np.concatenate([np.asarray(values, float).ravel(),
                           np.asarray(test_values if test_values is not None else [], float)
                           .ravel()])
    lo, hi = (float(seen.min()), float(seen.max())) if seen.size else (-1.0, 1.0)
    pad = (hi - lo) * 0.15 or 1.0
    lo, hi = lo - pad, hi + pad
    img = Image.new("RGB", (size, size), (255, 255, 255))
    draw = ImageDraw.Draw(img)

    def px(x: np.ndarray, y: np.ndarray) -> list[tuple[float, float]]:
        cx = (np.asarray(x, float) - xs[0]) / ((xs[-1] - xs[0]) or 1.0) * (size - 1)
        cy = (hi - np.clip(np.asarray(y, float), lo, hi)) / (hi - lo) * (size - 1)
        return list(zip(cx.tolist(), cy.tolist(), strict=True))

    if lo < 0 < hi:
        draw.line(px(xs[[0, -1]], np.zeros(2)), fill=(221, 221, 221), width=1)
    dot = max(2.5, size / 110)
    for pts, val, outline in ((points, values, (255, 255, 255)),
                              (test_points, test_values, (0, 0, 0))):
        if pts is None or val is None or not len(pts):
            continue
        for cx, cy in px(np.asarray(pts)[:, 0], np.asarray(val).ravel()):
            draw.ellipse([cx - dot, cy - dot, cx + dot, cy + dot], fill=(8, 119, 189),
                         outline=outline)
    draw.line(px(xs, out), fill=(245, 147, 34), width=max(2, size // 100), joint="curve")
    return _png(img)
