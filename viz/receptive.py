"""Receptive-field figures: the unit's box and its effective field over the image, the
field of every node, and how fields grow with depth, dilation and stride."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from engine.i18n import t
from engine.receptive import GROWTH, Field
from viz.axes import sig
from viz.style import styled

BOX = "#00b4d8"  # the theoretical box: a cool colour beside the warm heat
HEAT = [[0.0, "rgba(255,60,0,0)"], [0.05, "rgba(255,60,0,0.25)"], [1.0, "rgba(255,40,0,0.9)"]]
MARGIN = {"l": 8, "r": 8, "t": 48, "b": 8}
NODE_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                "#17becf", "#bcbd22", "#7f7f7f")


def _rgb(image: np.ndarray) -> np.ndarray:
    """[C, H, W] on the 0-1 scale to [H, W, 3] bytes (grey for one channel)."""
    img = np.clip(np.asarray(image, float), 0, 1)
    if img.shape[0] != 3:
        img = np.repeat(img[:1], 3, 0)
    return (img.transpose(1, 2, 0) * 255).round().astype(np.uint8)


def _picture(fig: go.Figure, image: np.ndarray, col: int) -> None:
    fig.add_trace(go.Image(z=_rgb(image), hoverinfo="skip"), 1, col)


def _box(fig: go.Figure, box: list[int], col: int | None = None, colour: str = BOX,
         width: float = 2.5) -> None:
    y0, x0, y1, x1 = box
    where = {} if col is None else {"row": 1, "col": col}
    fig.add_shape(type="rect", x0=x0 - 0.5, x1=x1 - 0.5, y0=y0 - 0.5, y1=y1 - 0.5,
                  line={"color": colour, "width": width}, **where)


def _square(fig: go.Figure, shape: tuple[int, int], cols: int) -> None:
    h, w = shape
    for c in range(1, cols + 1):
        anchor = "x" if c == 1 else f"x{c}"
        fig.update_xaxes(range=[-0.5, w - 0.5], showgrid=False, zeroline=False,
                         showticklabels=False, constrain="domain", row=1, col=c)
        # Pictures hang from the top, just under their titles, whatever the width.
        fig.update_yaxes(range=[h - 0.5, -0.5], showgrid=False, zeroline=False,
                         showticklabels=False, scaleanchor=anchor, constrain="domain",
                         constraintoward="top", row=1, col=c)


def field_figure(result: dict[str, Any], height: int = 360) -> go.Figure:
    """The image with the unit's box; then, at the start and now, how strongly each pixel
    moves the unit (each map scaled to its own largest value), over the image."""
    titles = (t("What the unit can see"), t("At the start"), t("Now (step {step})",
                                                                step=result["step"]))
    fig = make_subplots(1, 3, subplot_titles=titles, horizontal_spacing=0.03)
    _picture(fig, result["image"], 1)
    _box(fig, result["box"], 1)
    for col, key in ((2, "init"), (3, "now")):
        _picture(fig, result["image"], col)
        heat = np.asarray(result[key], float)
        top = float(heat.max())
        share = heat / top if top > 0 else heat
        fig.add_trace(go.Heatmap(
            z=share, zmin=0, zmax=1, colorscale=HEAT, showscale=False, customdata=heat,
            hovertemplate=t("row %{y}, column %{x}: %{z:.0%} of the strongest pixel")
            + "<extra></extra>"), 1, col)
        _box(fig, result["box"], col, width=1.5)
    _square(fig, np.asarray(result["image"]).shape[1:], 3)
    fig.update_layout(height=height, margin=MARGIN, showlegend=False)
    return styled(fig)


def _words(f: Field | None) -> tuple[str, str, str]:
    """Size, spacing and centre of the first unit, in words."""
    if f is None:
        return t("the whole input (no longer an image)"), "", ""
    if f.whole:
        return t("the whole image"), "", ""

    def pair(values: tuple[float, ...]) -> str:
        a, b = (sig(v) for v in values)
        return a if a == b else t("{rows} rows, {cols} columns", rows=a, cols=b)

    size = t("{n} × {m} pixels", n=f.size[0], m=f.size[1])
    if not f.exact:
        size = t("{size} (covers paths with different spacing)", size=size)
    return size, pair(f.jump), pair(f.start)


def field_table(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """One row per node for st.table: what a unit sees, the spacing of neighbouring units,
    and where the first unit's field is centred (rows and columns of the input)."""
    out = []
    for r in rows:
        size, jump, start = _words(r["field"])
        out.append({
            t("Node"): r["id"], t("Type"): r["type"],
            t("Output"): " × ".join(map(str, r["output_shape"])),
            t("One unit sees"): size,
            t("Neighbouring units are apart by (pixels)"): jump,
            t("First unit's field centred at (pixel)"): start,
        })
    return out


def growth_bars(rows: list[dict[str, Any]], image_hw: tuple[int, int],
                height: int = 320) -> go.Figure:
    """Field size per node, in network order: how the field grows with depth."""
    shown = [r for r in rows if r["field"] is not None]
    names = [r["id"] for r in shown]
    sizes = [r["field"].size[0] for r in shown]
    text = [t("whole image") if r["field"].whole else t("{n} px", n=r["field"].size[0])
            for r in shown]
    hover = [t("whole image") if r["field"].whole else
             t("{n} pixels, units {j} apart", n=r["field"].size[0], j=r["field"].jump[0])
             for r in shown]
    colours = ["#9e9e9e" if r["field"].whole else NODE_COLOURS[i % len(NODE_COLOURS)]
               for i, r in enumerate(shown)]
    fig = go.Figure(go.Bar(x=names, y=sizes, text=text, textposition="outside",
                           marker_color=colours, cliponaxis=False, textfont={"size": 12},
                           constraintext="none", customdata=hover,
                           hovertemplate="%{x}: %{customdata}<extra></extra>"))
    fig.add_hline(y=image_hw[0], line_dash="dot", line_color="#555",
                  annotation_text=t("image height ({n} px)", n=image_hw[0]),
                  annotation_position="top left")
    top = max([*sizes, image_hw[0]])
    fig.update_yaxes(title=t("field size (pixels per side)"), range=[0, top * 1.25],
                     rangemode="tozero")
    fig.update_xaxes(title=t("node, from input to output"))
    fig.update_layout(title=t("Field size per node"), height=height, margin=MARGIN)
    return styled(fig)


def nested_boxes(rows: list[dict[str, Any]], image: np.ndarray,
                 height: int = 360) -> go.Figure:
    """For each node, the field of its unit nearest the image centre, drawn on the image."""
    img = np.asarray(image)
    h, w = img.shape[1:]
    fig = make_subplots(1, 1)
    _picture(fig, img, 1)
    i = 0
    for r in rows:
        f = r["field"]
        if f is None or f.whole:
            continue
        _, oh, ow = r["output_shape"]
        # The unit whose field is centred nearest the middle of the image.
        uy = _nearest((h - 1) / 2, f.start[0], f.jump[0], oh)
        ux = _nearest((w - 1) / 2, f.start[1], f.jump[1], ow)
        y0, x0, y1, x1 = f.box(uy, ux, h, w)
        colour = NODE_COLOURS[i % len(NODE_COLOURS)]
        i += 1
        # A line trace, not a shape, so the box has a legend entry.
        fig.add_trace(go.Scatter(
            x=[x0 - 0.5, x1 - 0.5, x1 - 0.5, x0 - 0.5, x0 - 0.5],
            y=[y0 - 0.5, y0 - 0.5, y1 - 0.5, y1 - 0.5, y0 - 0.5], mode="lines",
            line={"color": colour, "width": 2}, name=r["id"],
            hovertemplate=t("{node}: {n} × {m} pixels", node=r["id"], n=y1 - y0, m=x1 - x0)
            + "<extra></extra>"))
    _square(fig, (h, w), 1)
    fig.update_layout(title=t("Fields of the central unit of each node"), height=height,
                      margin=MARGIN, legend={"orientation": "h", "y": -0.05})
    return styled(fig)


def _nearest(centre: float, start: float, jump: int, n: int) -> int:
    return 0 if jump == 0 else int(np.clip(round((centre - start) / jump), 0, n - 1))


def growth_lines(curves: dict[str, dict[str, list[int]]], height: int = 320) -> go.Figure:
    """Field size against depth for stacks that grow it differently."""
    fig = go.Figure()
    # Dilated and strided stacks grow alike: the dilated line is drawn wide beneath the
    # dotted strided one, so both stay visible.
    lines = {"plain": ("solid", 2), "dilated": ("solid", 7), "strided": ("dot", 2.5),
             "pooled": ("dashdot", 2)}
    for name, c in curves.items():
        depth = list(range(len(c["size"])))
        dash, width = lines.get(name, ("solid", 2))
        fig.add_trace(go.Scatter(
            x=depth, y=c["size"], mode="lines+markers", name=t(GROWTH[name]),
            line={"dash": dash, "width": width}, opacity=0.6 if name == "dilated" else 1.0,
            customdata=c["jump"],
            hovertemplate=t("after %{x} layers: %{y} pixels, units %{customdata} apart")
            + "<extra></extra>"))
    fig.update_yaxes(title=t("pixels per side (log scale)"), type="log",
                     tickvals=[1, 2, 5, 10, 20, 50, 100, 200])
    fig.update_xaxes(title=t("layers"), dtick=1)
    fig.update_layout(title=t("How the field grows with depth, dilation and stride"),
                      height=height, margin=MARGIN, legend={"orientation": "h", "y": -0.25})
    return styled(fig)
