"""The Playground's pictures: the network with each neuron's map of the input
plane, the output over the plane with the data points, and data thumbnails.

Colours follow TensorFlow Playground: orange for negative, blue for positive.
Maps are small PNG images placed on a plotly figure, which draws far faster
than one heatmap trace per neuron.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageDraw

ORANGE = np.array([245, 147, 34], float)
BLUE = np.array([8, 119, 189], float)
WHITE = np.array([232, 234, 235], float)
CLASS_COLOURS = np.array([[245, 147, 34], [8, 119, 189], [46, 160, 67], [214, 39, 40],
                          [148, 103, 189]], float)
MAX_DRAWN = 12  # neurons drawn per layer; the rest are summarised


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


def png_uri(rgb: np.ndarray) -> str:
    """An RGB image (row 0 = the top) as a data URI."""
    buf = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def plane_image(values: np.ndarray, scale: float | None = None) -> str:
    """A map over the plane (row 0 = the lowest y) as an image with high y at the top."""
    return png_uri(diverging(np.flipud(values), scale))


def _placed(uri: str, cx: float, cy: float, size: float) -> dict[str, Any]:
    return dict(source=uri, xref="x", yref="y", x=cx - size / 2, y=cy + size / 2,
                sizex=size, sizey=size, sizing="stretch", layer="above")


def network_figure(columns: list[tuple[str, list[str]]], maps: dict[str, np.ndarray],
                   weights: dict[str, np.ndarray], output_map: np.ndarray | None = None,
                   ) -> go.Figure:
    """``columns``: (node id, unit labels) from the input features to the output.
    ``maps``: node id -> [units, res, res]; ``weights``: node id -> [out, in]."""
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
    for c in range(1, len(columns)):
        w = weights.get(columns[c][0])
        if w is None or w.shape[1] < shown[c - 1]:
            continue
        scale = float(np.abs(w).max()) or 1.0
        for j in range(shown[c]):
            for i in range(shown[c - 1]):
                val = float(w[j, i])
                key = (int(val >= 0), min(int(abs(val) / scale * 4), 3))
                xs, ys = buckets.setdefault(key, ([], []))
                (x0, y0), (x1, y1) = pos[c - 1][i], pos[c][j]
                xs += [x0 + size / 2, x1 - size / 2, None]
                ys += [y0, y1, None]
                hx.append((x0 + x1) / 2)
                hy.append((y0 + y1) / 2)
                htext.append(f"{columns[c - 1][1][i]} → {columns[c][1][j]}: w = {val:.3f}")
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
                images.append(_placed(plane_image(node_maps[r], scale), x, y, size))
            if c == 0:
                annotations.append(dict(x=x - size / 2 - 0.08, y=y, text=labels[r],
                                        xanchor="right", showarrow=False, font=dict(size=11)))
        hidden = len(labels) - shown[c]
        title = nid if c else "input"
        more = f"<br>+{hidden} more" if hidden > 0 else ""
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
    fig.update_layout(images=images, annotations=annotations, height=max(260, 70 * rows + 90),
                      margin=dict(l=60, r=10, t=10, b=10), plot_bgcolor="white",
                      xaxis=dict(visible=False, range=[-gap_x * 0.55,
                                                        (len(columns) - 1) * gap_x + 0.6]),
                      yaxis=dict(visible=False, scaleanchor="x",
                                 range=[-(rows - 1) / 2 * gap_y - 0.6,
                                        (rows - 1) / 2 * gap_y + 1.1]),
                      hovermode="closest", uirevision="network")
    return fig


def output_figure(boundary: dict[str, Any], kind: str, points: np.ndarray, labels: np.ndarray,
                  test_points: np.ndarray | None = None, test_labels: np.ndarray | None = None,
                  discretize: bool = False) -> go.Figure:
    """The model's output over the plane with the data on top."""
    xs, ys, out = boundary["xs"], boundary["ys"], boundary["output"]
    if kind == "classification":
        rgb = class_mix(out, discretize)
    else:
        values = out[0]
        scale = float(np.abs(labels).max()) if len(labels) else 1.0
        if discretize:
            values = np.sign(values) * scale
        rgb = diverging(values, scale)
    fig = go.Figure()
    fig.add_layout_image(dict(source=png_uri(np.flipud(rgb)), xref="x", yref="y", x=xs[0],
                              y=ys[-1], sizex=xs[-1] - xs[0], sizey=ys[-1] - ys[0],
                              sizing="stretch", layer="below"))
    for pts, lab, outline, name in ((points, labels, "white", "train"),
                                    (test_points, test_labels, "black", "test")):
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
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=10, b=10), showlegend=False,
                      xaxis=dict(range=[xs[0], xs[-1]], showgrid=False, zeroline=False),
                      yaxis=dict(range=[ys[0], ys[-1]], showgrid=False, zeroline=False,
                                 scaleanchor="x"),
                      uirevision="output")
    return fig


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
