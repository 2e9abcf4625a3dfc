"""Figures of what an image model sees and says, from the vision probes' plain data.

Grids of small pictures are tiles of one chart (each tile a trace placed by its
offset, one pair of axes), not subplots: a 64-channel layer would otherwise need 128
axes, which plotly draws slowly. Pixels are square, rows run downwards as in the image,
and every tile's hover names what it is and its value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from engine.i18n import t
from viz.axes import HOVER, sig
from viz.style import styled

RIGHT, WRONG = "#2e7d32", "#c62828"
MAPS = "Viridis"  # feature maps: zero (often most of a ReLU map) is dark
WEIGHTS = "RdBu"  # filters: sign matters, zero is white
HEAT = "Hot"  # saliency over the image
GAP = 0.15  # space between tiles, as a share of a tile's side
MARGIN = dict(l=10, r=10, t=40, b=10)


def _empty(title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title=title, height=260, margin=MARGIN,
                      xaxis=dict(visible=False), yaxis=dict(visible=False),
                      annotations=[dict(text=message, showarrow=False, x=0.5, y=0.5,
                                        xref="paper", yref="paper")])
    return styled(fig)


def _tiled(fig: go.Figure, title: str, width: float, height: float, px: float) -> go.Figure:
    """Hidden axes over ``width`` x ``height`` image pixels of tiles (the first tile's
    first pixel centred at 0, 0): square pixels, rows downwards, ``px`` screen pixels per
    image pixel (the figure's height follows)."""
    fig.update_xaxes(visible=False, range=[-0.5, width - 0.5], constrain="domain")
    fig.update_yaxes(visible=False, range=[height - 0.5, -0.5], scaleanchor="x",
                     constrain="domain")
    screen = int(min(max(height * px + MARGIN["t"] + MARGIN["b"], 160), 1600))
    fig.update_layout(title=title, height=screen, margin=MARGIN, showlegend=False,
                      plot_bgcolor="white")
    return styled(fig)


def _pitch(side: int) -> float:
    """Distance between neighbouring tiles of this side: the side and a small gap."""
    return side * (1 + GAP)


def rgb(image: np.ndarray) -> np.ndarray:
    """An image [C, H, W] (uint8, or float on the 0-1 scale) as uint8 [H, W, 3]."""
    a = np.asarray(image)
    if a.dtype != np.uint8:
        a = (np.clip(a.astype(np.float64), 0, 1) * 255).round().astype(np.uint8)
    a = np.moveaxis(a, 0, -1)
    if a.shape[-1] == 1:
        a = np.repeat(a, 3, axis=-1)
    return a[..., :3]


# test images with their labels -----------------------------------------------------------

def image_grid(images: Sequence[np.ndarray] | np.ndarray, true: Sequence[int],
               pred: Sequence[int], class_names: Sequence[str],
               confidence: Sequence[float] | None = None, columns: int = 8,
               title: str | None = None) -> go.Figure:
    """Images [C, H, W] in a grid, each under its predicted class: green when right, red
    with the true class under it when wrong; the hover gives both and the confidence."""
    title = t("test images: predicted class (green right, red wrong)") if title is None \
        else title
    n = len(images)
    if n == 0:
        return _empty(title, t("No images to show."))
    cols = max(1, min(columns, n))
    rows = -(-n // cols)
    h, w = np.asarray(images[0]).shape[-2:]
    room = max(h * 0.6, 2.0)  # above each tile, for its label (two short lines)
    step_y = room + _pitch(h)
    fig = go.Figure()
    annotations = []
    for i in range(n):
        r, c = divmod(i, cols)
        x0, y0 = c * _pitch(w), r * step_y + room
        ok = int(true[i]) == int(pred[i])
        p_name, t_name = str(class_names[int(pred[i])]), str(class_names[int(true[i])])
        hover = t("true {true}<br>predicted {pred}", true=t_name, pred=p_name)
        if confidence is not None:
            hover += "<br>" + t("confidence {p}", p=confidence_text(float(confidence[i])))
        fig.add_trace(go.Image(z=rgb(images[i]), x0=x0, y0=y0, dx=1, dy=1,
                               hovertemplate=hover + "<extra></extra>"))
        label = p_name if ok else t("{pred}<br>true {true}", pred=p_name, true=t_name)
        annotations.append(dict(x=x0 + (w - 1) / 2, y=y0 - 0.5, text=label, showarrow=False,
                                yanchor="bottom", font=dict(size=11, color=RIGHT if ok
                                                            else WRONG)))
    fig.update_layout(annotations=annotations)
    return _tiled(fig, title, cols * _pitch(w), rows * step_y, max(2.0, 64 / max(h, w)))


def confusion_matrix(confusion: np.ndarray, class_names: Sequence[str],
                     title: str | None = None) -> go.Figure:
    """Counts, rows true and columns predicted, coloured by the share of each true class."""
    title = t("confusion matrix (test images)") if title is None else title
    cm = np.asarray(confusion)
    names = [str(c) for c in class_names]
    share = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    fig = go.Figure(go.Heatmap(
        z=share, x=names, y=names, text=cm, texttemplate="%{text}", colorscale="Blues",
        zmin=0, zmax=1, showscale=False, customdata=share * 100,
        hovertemplate=t("true {y}<br>predicted {x}<br>{n} images ({share}% of this class)",
                        y="%{y}", x="%{x}", n="%{text}", share="%{customdata:.3g}")
        + "<extra></extra>"))
    # Category axes: class names that look like numbers ("0".."9") must stay labels.
    fig.update_xaxes(type="category", title=t("predicted class"), side="bottom")
    fig.update_yaxes(type="category", title=t("true class"), autorange="reversed")
    side = max(300, min(40 * len(names) + 120, 700))
    fig.update_layout(title=title, height=side, margin=MARGIN)
    return styled(fig)


def probability_bars(probs: np.ndarray, class_names: Sequence[str], label: int | None = None,
                     title: str | None = None) -> go.Figure:
    """The probability of each class; the predicted one stands out, the true one is named."""
    title = t("class probabilities") if title is None else title
    p = np.asarray(probs, dtype=float)
    names = [str(c) for c in class_names]
    top = int(p.argmax()) if p.size else -1
    colours = ["#1565c0" if i == top else "#90a4ae" for i in range(len(p))]
    if label is not None and label != top:
        colours[label] = WRONG
    words = [t("true class") if i == label else "" for i in range(len(p))]
    fig = go.Figure(go.Bar(
        x=names, y=p, marker_color=colours, text=words, textposition="outside",
        hovertemplate=t("class {c}: {p}", c="%{x}", p="%{y:.1%}") + "<extra></extra>"))
    fig.update_xaxes(type="category", title=t("class"))
    fig.update_yaxes(range=[0, 1.15], tickformat=".0%", title=t("probability"))
    fig.update_layout(title=title, height=300, margin=MARGIN, showlegend=False)
    return styled(fig)


# feature maps and filters -----------------------------------------------------------------

def _positions(h: int, w: int) -> np.ndarray:
    """[h, w, 2] (row, column) of every pixel, for hover text."""
    return np.stack(np.meshgrid(np.arange(h), np.arange(w), indexing="ij"), -1)


def feature_map_grid(node: dict[str, Any], scale: str = "shared", columns: int = 8,
                     title: str | None = None) -> go.Figure:
    """One small heatmap per channel of a node's output ``{"id", "type", "maps": [C, h,
    w]}``. ``scale`` "shared": one colour scale for all channels (which channel responds
    most); "channel": each channel stretched over its own range (what each one finds)."""
    maps = np.asarray(node["maps"], dtype=float)
    title = t("{node}: {n} feature maps", node=node["id"], n=len(maps)) if title is None \
        else title
    if maps.ndim != 3 or len(maps) == 0:
        return _empty(title, t("This layer has no feature maps."))
    c, h, w = maps.shape
    cols = max(1, min(columns, c))
    rows = -(-c // cols)
    pos = _positions(h, w)
    shared = scale == "shared"
    lo, hi = float(np.nanmin(maps)), float(np.nanmax(maps))
    fig = go.Figure()
    for ch in range(c):
        r, col = divmod(ch, cols)
        z = maps[ch]
        hover = (t("channel {c}", c=ch) + "<br>" + t("row {y}, column {x}", y="%{customdata[0]}",
                                                     x="%{customdata[1]}")
                 + "<br>" + t("value {v}", v=f"%{{z:{HOVER}}}") + "<extra></extra>")
        colour = dict(coloraxis="coloraxis") if shared else dict(
            colorscale=MAPS, showscale=False, zmin=float(z.min()),
            zmax=float(z.max()) if z.max() > z.min() else float(z.min()) + 1e-6)
        fig.add_trace(go.Heatmap(z=z, x0=col * _pitch(w), dx=1, y0=r * _pitch(h), dy=1,
                                 customdata=pos, hovertemplate=hover, **colour))
    if shared:
        fig.update_layout(coloraxis=dict(colorscale=MAPS, cmin=lo,
                                         cmax=hi if hi > lo else lo + 1e-6,
                                         colorbar=dict(thickness=12, tickformat=HOVER)))
    return _tiled(fig, title, cols * _pitch(w), rows * _pitch(h), max(2.0, 64 / max(h, w)))


def _weight_colours(span: float) -> dict[str, Any]:
    """One symmetric diverging scale: zero white, negative red, positive blue."""
    return dict(colorscale=WEIGHTS, cmin=-span, cmax=span,
                colorbar=dict(thickness=12, tickformat=HOVER, title=t("weight")))


def filter_grid(node: dict[str, Any], colour: bool = True, max_inputs: int = 16,
                title: str | None = None) -> go.Figure:
    """A convolution's filters ``{"id", "weights": [out, in, kh, kw]}``. With three input
    channels and ``colour``, each filter is one RGB patch (a first layer's colour
    detectors); otherwise one row per filter, one patch per input channel (at most
    ``max_inputs``), red negative and blue positive on one symmetric scale."""
    wts = np.asarray(node["weights"], dtype=float)
    title = t("{node}: {n} filters", node=node["id"], n=len(wts)) if title is None else title
    if wts.ndim != 4 or len(wts) == 0:
        return _empty(title, t("This layer has no filters."))
    out, cin, kh, kw = wts.shape
    pos = _positions(kh, kw)
    fig = go.Figure()
    if cin == 1:  # one patch per filter, in a grid
        span = float(np.abs(wts).max()) or 1.0
        cols = min(8, out)
        for f in range(out):
            r, c = divmod(f, cols)
            fig.add_trace(go.Heatmap(
                z=wts[f, 0], x0=c * _pitch(kw), dx=1, y0=r * _pitch(kh), dy=1,
                coloraxis="coloraxis", customdata=pos,
                hovertemplate=t("filter {f}", f=f) + "<br>" + t(
                    "row {y}, column {x}", y="%{customdata[0]}", x="%{customdata[1]}")
                + "<br>" + t("weight {v}", v=f"%{{z:{HOVER}}}") + "<extra></extra>"))
        fig.update_layout(coloraxis=_weight_colours(span))
        return _tiled(fig, title, cols * _pitch(kw), -(-out // cols) * _pitch(kh),
                      max(6.0, 64 / max(kh, kw)))
    if colour and cin == 3:
        cols = min(8, out)
        for f in range(out):
            r, c = divmod(f, cols)
            patch = wts[f]
            span = float(np.abs(patch).max()) or 1.0
            # Zero weight is mid-grey: brighter channels push that colour, darker pull it.
            img = ((patch / span + 1) / 2 * 255).round().astype(np.uint8)
            fig.add_trace(go.Image(
                z=np.moveaxis(img, 0, -1), x0=c * _pitch(kw), y0=r * _pitch(kh),
                customdata=np.concatenate([pos, np.moveaxis(patch, 0, -1)], -1),
                hovertemplate=t("filter {f}", f=f) + "<br>" + t(
                    "row {y}, column {x}", y="%{customdata[0]}", x="%{customdata[1]}")
                + "<br>" + t("weights red {r}, green {g}, blue {b}",
                             r=f"%{{customdata[2]:{HOVER}}}", g=f"%{{customdata[3]:{HOVER}}}",
                             b=f"%{{customdata[4]:{HOVER}}}") + "<extra></extra>"))
        rows = -(-out // cols)
        return _tiled(fig, title, cols * _pitch(kw), rows * _pitch(kh),
                      max(6.0, 56 / max(kh, kw)))
    shown = min(cin, max_inputs)
    span = float(np.abs(wts[:, :shown]).max()) or 1.0
    for f in range(out):
        for c in range(shown):
            fig.add_trace(go.Heatmap(
                z=wts[f, c], x0=c * _pitch(kw), dx=1, y0=f * _pitch(kh), dy=1,
                coloraxis="coloraxis", customdata=pos,
                hovertemplate=t("filter {f}, input channel {c}", f=f, c=c) + "<br>" + t(
                    "row {y}, column {x}", y="%{customdata[0]}", x="%{customdata[1]}")
                + "<br>" + t("weight {v}", v=f"%{{z:{HOVER}}}") + "<extra></extra>"))
    fig.update_layout(coloraxis=_weight_colours(span))
    fig = _tiled(fig, title, shown * _pitch(kw), out * _pitch(kh), max(4.0, 48 / max(kh, kw)))
    if shown < cin:
        fig.update_layout(title=title + " " + t("(first {n} of {m} input channels)",
                                                 n=shown, m=cin))
    return styled(fig)


# saliency -----------------------------------------------------------------------------------------

def saliency_overlay(image: np.ndarray, heat: np.ndarray | None, title: str,
                     opacity: float = 0.55) -> go.Figure:
    """A heatmap ([H, W], e.g. the input gradient or Grad-CAM) over the image ([C, H, W],
    0-1): colour from none (transparent) to the map's largest value; hover gives the
    value and its share of the largest."""
    if heat is None:
        return _empty(title, t("Grad-CAM needs a convolution layer in the model."))
    img = rgb(image)
    h, w = img.shape[:2]
    z = np.asarray(heat, dtype=float)
    top = float(np.nanmax(z)) if z.size else 0.0
    share = z / top if top > 0 else np.zeros_like(z)
    # Low values are see-through, so the image shows where the map says nothing.
    scale = [[0.0, "rgba(0,0,0,0)"], [0.15, "rgba(120,0,0,0.35)"], [0.5, "rgba(230,60,0,0.8)"],
             [1.0, "rgba(255,255,120,1)"]]
    pos = _positions(h, w)
    fig = go.Figure([
        go.Image(z=img, hoverinfo="skip"),
        go.Heatmap(z=share, zmin=0, zmax=1, colorscale=scale, opacity=opacity,
                   customdata=np.concatenate([pos, z[..., None]], -1),
                   colorbar=dict(thickness=12, tickformat=".0%", title=t("of the largest")),
                   hovertemplate=t("row {y}, column {x}", y="%{customdata[0]}",
                                   x="%{customdata[1]}") + "<br>"
                   + t("value {v} ({share} of the largest)", v=f"%{{customdata[2]:{HOVER}}}",
                       share="%{z:.0%}") + "<extra></extra>")])
    fig.update_xaxes(visible=False, range=[-0.5, w - 0.5], constrain="domain")
    fig.update_yaxes(visible=False, range=[h - 0.5, -0.5], scaleanchor="x", constrain="domain")
    fig.update_layout(title=title, height=340, margin=MARGIN)
    if not top > 0:
        # Grad-CAM keeps only evidence for the class: all zero means none of the layer's
        # channels speaks for it here (common early in training).
        fig.add_annotation(text=t("zero everywhere: nothing here speaks for this class yet"),
                           x=0.5, y=0.02, xref="paper", yref="paper", showarrow=False,
                           bgcolor="rgba(255,255,255,0.85)")
    return styled(fig)


def saliency_figures(result: dict[str, Any] | None, image: np.ndarray,
                     class_names: Sequence[str]) -> tuple[go.Figure, go.Figure]:
    """The input gradient and Grad-CAM of a ``saliency`` result over ``image``."""
    if result is None:
        msg = t("Saliency needs an image classifier; start training to see it.")
        return (_empty(t("input gradient"), msg), _empty(t("Grad-CAM"), msg))
    name = class_names[result["target"]] if result["target"] < len(class_names) else \
        str(result["target"])
    grad = saliency_overlay(image, result["gradient"], t(
        "input gradient for class {c}", c=name))
    cam_title = t("Grad-CAM for class {c} on {node}", c=name,
                  node=result["gradcam_node"]) if result["gradcam_node"] else t("Grad-CAM")
    return grad, saliency_overlay(image, result["gradcam"], cam_title)


def confidence_text(p: float) -> str:
    """A probability as a teacher reads it: 92%, 0.3%."""
    pct = 100 * p
    # Two significant digits would print 99.7% as "1e+02%".
    return f"{pct:.0f}%" if pct >= 10 else f"{sig(pct, 2)}%"
