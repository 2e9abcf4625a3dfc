"""Figures for the convolution lab: pictures before and after a kernel, and small grids of
numbers where the window slides one output cell at a time."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from engine.i18n import t
from engine.lab.convolution import Cell, factor, num
from viz.style import styled

WINDOW, CURRENT = "#e4572e", "#e4572e"
PAD_BG = "#e6e6e6"  # padding cells and output cells not computed yet
GREY = [[0, "black"], [1, "white"]]
SIGNED = "RdBu_r"  # negative blue, zero white, positive red
SMALL = [[0, "#f7fbff"], [1, "#9ecae1"]]  # light, so black numbers stay readable
MARGIN = {"l": 8, "r": 8, "t": 36, "b": 8}


def _square_axes(fig: go.Figure, height: int, shape: tuple[int, int]) -> go.Figure:
    """Pixels square, row 0 at the top, as images are drawn; the axes end at the picture's
    edges, so the grey behind it only shows through cells left empty."""
    h, w = shape
    fig.update_layout(height=height, margin=MARGIN, plot_bgcolor="white",
                      title={"y": 0.98, "yanchor": "top", "font": {"size": 14}})
    fig.update_xaxes(showgrid=False, zeroline=False, constrain="domain", range=[-0.5, w - 0.5])
    fig.update_yaxes(showgrid=False, zeroline=False, range=[h - 0.5, -0.5], scaleanchor="x",
                     constrain="domain")
    return styled(fig)


def image_figure(img: np.ndarray, title: str, height: int = 360) -> go.Figure:
    """A grey picture. Values with both signs (an edge kernel's output) get a diverging
    scale centred on zero, so "no change" is white and the two directions have colours;
    values of one sign are drawn in grey from darkest to brightest."""
    img = np.asarray(img, float)
    lo, hi = float(np.nanmin(img)), float(np.nanmax(img))
    signed = lo < 0 < hi
    if signed:
        m = max(-lo, hi)
        scale = {"colorscale": SIGNED, "zmin": -m, "zmax": m}
    else:
        scale = {"colorscale": GREY, "zmin": min(lo, 0.0) if hi <= 1 and lo >= 0 else lo,
                 "zmax": max(hi, 1.0) if hi <= 1 and lo >= 0 else hi}
        if scale["zmin"] == scale["zmax"]:
            scale["zmax"] = scale["zmin"] + 1
    fig = go.Figure(go.Heatmap(
        z=img, **scale, colorbar={"thickness": 10, "len": 0.9},
        hovertemplate=t("row %{y}, column %{x}: %{z:.3g}") + "<extra></extra>"))
    fig.update_layout(title={"text": title})
    return _square_axes(fig, height, img.shape)


def rgb_figure(img: np.ndarray, title: str, height: int = 360) -> go.Figure:
    """A colour picture from [3, H, W] on the 0-1 scale."""
    z = (np.clip(np.asarray(img, float), 0, 1).transpose(1, 2, 0) * 255).round()
    fig = go.Figure(go.Image(z=z, hovertemplate=t("row %{y}, column %{x}: red %{z[0]}, "
                                                  "green %{z[1]}, blue %{z[2]}")
                             + "<extra></extra>"))
    fig.update_layout(title={"text": title})
    return _square_axes(fig, height, z.shape[:2])


def _grid(z: np.ndarray, text: list[list[str]], title: str, height: int,
          colorscale: list | str = SMALL, zrange: tuple[float, float] | None = None,
          ) -> go.Figure:
    h, w = z.shape
    lo, hi = zrange or (float(np.nanmin(z)) if np.isfinite(z).any() else 0.0,
                        float(np.nanmax(z)) if np.isfinite(z).any() else 1.0)
    empty = ~np.isfinite(z)
    font = {"size": 12, "color": "black"}
    # Each trace writes only its own cells' text: plotly writes text on empty cells too,
    # and two traces writing the same cell make it look bold.
    mine = [[[v if e == want else "" for v, e in zip(row, erow, strict=True)]
             for row, erow in zip(text, empty, strict=True)] for want in (True, False)]
    # Empty cells (padding, outputs not computed yet) are a grey trace of their own
    # underneath, so the grey ends exactly at the grid's edge.
    fig = go.Figure(go.Heatmap(
        z=np.where(empty, 0.0, np.nan), text=mine[0], texttemplate="%{text}", textfont=font,
        colorscale=[[0, PAD_BG], [1, PAD_BG]], showscale=False, xgap=1, ygap=1,
        hoverinfo="skip"))
    fig.add_trace(go.Heatmap(
        z=z, text=mine[1], texttemplate="%{text}", textfont=font,
        colorscale=colorscale, zmin=lo, zmax=hi if hi > lo else lo + 1, showscale=False,
        xgap=1, ygap=1, hoverinfo="skip"))
    fig.update_layout(title={"text": title})
    fig = _square_axes(fig, height, (h, w))
    fig.update_xaxes(showticklabels=False, ticks="")
    fig.update_yaxes(showticklabels=False, ticks="")
    return styled(fig)


def _outline(fig: go.Figure, cells: list[tuple[int, int]], color: str, width: int = 3) -> None:
    for r, c in cells:
        fig.add_shape(type="rect", x0=c - 0.5, x1=c + 0.5, y0=r - 0.5, y1=r + 0.5,
                      line={"color": color, "width": width})


def window_figure(x: np.ndarray, padding: int, cell: Cell, title: str, height: int = 340,
                  pad_text: str = "0") -> go.Figure:
    """The small input with its padding around it (grey), the window's positions outlined
    and, for a convolution, each covered cell's weight written under its value."""
    n_r, n_c = x.shape
    z = np.full((n_r + 2 * padding, n_c + 2 * padding), np.nan)
    z[padding:padding + n_r, padding:padding + n_c] = x
    text = [[num(v) if np.isfinite(v) else pad_text for v in row] for row in z]
    for (r, c), w in zip(zip(cell.rows.ravel(), cell.cols.ravel(), strict=True),
                         (cell.weights.ravel() if cell.weights is not None
                          else [None] * cell.rows.size), strict=True):
        if w is not None:
            text[r][c] += f"<br><span style='font-size:9px'>×{factor(w)}</span>"
    fig = _grid(z, text, title, height, zrange=(float(np.nanmin(x)), float(np.nanmax(x))))
    _outline(fig, list(zip(cell.rows.ravel(), cell.cols.ravel(), strict=True)), WINDOW)
    return styled(fig)


def kernel_figure(kernel: np.ndarray, title: str, height: int = 220) -> go.Figure:
    """The kernel's weights as numbers, negative blue and positive red."""
    k = np.asarray(kernel, float)
    m = float(np.abs(k).max()) or 1.0
    text = [[num(v) for v in row] for row in k]
    return _grid(k, text, title, height, colorscale=[[0, "#9ecae1"], [0.5, "#f4f4f4"],
                                                     [1, "#fcae91"]], zrange=(-m, m))


def output_figure(out: np.ndarray, upto: int, title: str, height: int = 340) -> go.Figure:
    """The output grid with the first ``upto`` cells (row by row) filled in and the last of
    them outlined; the rest wait in grey."""
    h, w = out.shape
    z = np.full(out.shape, np.nan)
    flat = z.reshape(-1)
    flat[:upto] = out.reshape(-1)[:upto]
    text = [[num(v) if np.isfinite(v) else "" for v in row] for row in z]
    shown = out[np.isfinite(out)]
    fig = _grid(z, text, title, height,
                zrange=(float(shown.min()), float(shown.max())) if shown.size else None)
    if upto:
        _outline(fig, [divmod(upto - 1, w)], CURRENT)
    return styled(fig)
