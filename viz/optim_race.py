"""The optimizer race: paths over a contour map, revealed step by step, and loss curves.

Contours are drawn on log10(f - f*), because plotly only spaces contour levels
evenly: evenly spaced in the log means the floor of Rosenbrock's valley gets as
many lines as its walls, which are thousands of times higher.

Both pictures keep to the surface's own range: a path that diverges is drawn to the
edge of the map and marked "diverged at step N", so its 1e300 does not stretch the
axes until every other path is a flat line.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

from engine.i18n import t
from engine.lab.optim_race import LABELS, OPTIMIZERS, Run, diverged_at
from engine.lab.surfaces import Surface, ceiling, grid
from viz.axes import log_range
from viz.style import styled

COLOURS = dict(zip(OPTIMIZERS, ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                "#8c564b", "#e377c2"), strict=True))
MAX_FRAMES = 60  # every frame carries every path so far: keep the figure light
GAP_FLOOR = 1e-12  # converged runs reach 1e-30; below this the log axis only wastes room


def _colour(name: str) -> str:
    return COLOURS.get(name, "#333333")


def _label(run: Run, gone: int | None) -> str:
    name = t(LABELS.get(run.name, run.name))
    return f"{name} ({t('diverged')})" if gone is not None else name


def frame_steps(runs: Mapping[str, Run], max_frames: int = MAX_FRAMES) -> list[int]:
    """The step numbers the animation stops at: evenly spread, first and last included."""
    last = max((len(r.path) - 1 for r in runs.values()), default=0)
    return sorted(set(np.linspace(0, last, min(max_frames, last + 1)).round().astype(int)))


def _path_trace(run: Run, gone: int | None, upto: int | None = None) -> go.Scatter:
    # float32: plenty for drawing, and it halves what every frame sends to the browser.
    # A diverging path can be finite in float64 and not in float32, so clip first: a
    # point a billion units off the map is drawn in the same direction.
    path = run.path if upto is None else run.path[:upto + 1]
    path = np.clip(path, -1e9, 1e9).astype(np.float32)
    return go.Scatter(x=path[:, 0], y=path[:, 1], mode="lines+markers", name=_label(run, gone),
                      line={"color": _colour(run.name), "width": 2},
                      marker={"size": 4, "color": _colour(run.name)},
                      legendgroup=run.name,
                      hovertemplate=f"{t(LABELS.get(run.name, run.name))}<br>x=%{{x:.3g}}"
                                    f"<br>y=%{{y:.3g}}<extra></extra>")


def _contour(surface: Surface, n: int) -> go.Contour:
    x, y, z = grid(surface, n)
    gap = z - surface.fmin
    floor = max(float(gap.max()) * 1e-6, 1e-12)  # a few decades below the highest point
    logz = np.log10(np.maximum(gap, 0) + floor)
    lo, hi = float(logz.min()), float(logz.max())
    ticks = np.arange(np.ceil(lo), np.floor(hi) + 1)
    return go.Contour(
        x=x, y=y, z=logz.astype(np.float32), colorscale="Viridis", reversescale=True, opacity=0.75,
        contours={"start": lo, "end": hi, "size": (hi - lo) / 30, "coloring": "heatmap"},
        line={"width": 0.5, "color": "rgba(255,255,255,0.5)"},
        colorbar={"title": {"text": "f − f*"}, "tickvals": ticks,
                  "ticktext": [f"1e{int(v)}" for v in ticks], "thickness": 12},
        customdata=gap.astype(np.float32),
        hovertemplate="x=%{x:.3g}<br>y=%{y:.3g}<br>f − f*=%{customdata:.3g}<extra></extra>",
        showlegend=False,
    )


def race_figure(surface: Surface, runs: Mapping[str, Run], resolution: int = 150,
                max_frames: int = MAX_FRAMES, height: int = 600) -> go.Figure:
    """Contour map with every optimizer's path, and frames that replay the race.

    The figure opens showing the whole race, so it reads without pressing Play;
    Play replays it from the start, and the slider scrubs to any step."""
    start = surface.start if not runs else next(iter(runs.values())).path[0]
    mx, my = zip(*surface.minima, strict=True)
    traces: list[go.BaseTraceType] = [
        _contour(surface, resolution),
        go.Scatter(x=mx, y=my, mode="markers", name=t("minimum"),
                   marker={"symbol": "star", "size": 14, "color": "gold",
                           "line": {"color": "black", "width": 1}}),
        go.Scatter(x=[start[0]], y=[start[1]], mode="markers", name=t("start"),
                   marker={"symbol": "circle-open", "size": 14, "color": "black",
                           "line": {"width": 2}}),
    ]
    first_path = len(traces)
    top = ceiling(surface, resolution)
    gone = {n: diverged_at(r, surface.fmin, top) for n, r in runs.items()}
    traces += [_path_trace(r, gone[n]) for n, r in runs.items()]
    fig = go.Figure(traces)
    steps = frame_steps(runs, max_frames)
    path_ids = list(range(first_path, len(traces)))
    fig.frames = [go.Frame(name=str(k), traces=path_ids,
                           data=[_path_trace(r, gone[n], k) for n, r in runs.items()])
                  for k in steps]
    still = {"mode": "immediate", "frame": {"duration": 0, "redraw": False},
             "transition": {"duration": 0}}
    play = {"frame": {"duration": 80, "redraw": False}, "transition": {"duration": 0},
            "fromcurrent": False}
    xmin, xmax, ymin, ymax = surface.bounds
    fig.update_layout(
        title={"text": t(surface.title), "y": 0.99, "yanchor": "top"}, height=height,
        margin={"l": 10, "r": 10, "t": 120, "b": 10}, uirevision=surface.name,
        xaxis={"range": [xmin, xmax], "title": "x"}, yaxis={"range": [ymin, ymax], "title": "y"},
        # Above the map: below it are the Play button and the slider.
        legend={"orientation": "h", "x": 0, "y": 1.01, "yanchor": "bottom"},
        updatemenus=[{
            "type": "buttons", "direction": "left", "x": 0.0, "y": -0.12, "xanchor": "left",
            "yanchor": "top", "showactive": False, "pad": {"r": 10, "t": 10},
            "buttons": [
                {"label": t("Play"), "method": "animate", "args": [None, play]},
                {"label": t("Pause"), "method": "animate", "args": [[None], still]},
            ],
        }],
        sliders=[{
            "active": len(steps) - 1, "x": 0.15, "len": 0.85, "y": -0.08, "yanchor": "top",
            "currentvalue": {"prefix": t("step") + " "}, "pad": {"t": 10}, "font": {"size": 9},
            "steps": [{"label": str(k), "method": "animate", "args": [[str(k)], still]}
                      for k in steps],
        }],
    )
    return styled(fig)


def loss_figure(runs: Mapping[str, Run], fmin: float = 0.0, height: int = 600,
                top: float = math.inf) -> go.Figure:
    """f − f* against step, one line per optimizer, on a log axis (so 1e-2 and 1e-8 are
    both readable). ``top`` is the highest gap on the map (``surfaces.ceiling``): a run
    that leaves it for good is drawn up to that height and marked "diverged at step N"."""
    fig = go.Figure()
    drawn = []
    for r in runs.values():
        gone = diverged_at(r, fmin, top)
        gap = np.maximum(r.loss - fmin, GAP_FLOOR)
        if gone is not None:
            edge = min(top, float(np.max(gap[:gone + 1], initial=GAP_FLOOR)))
            gap = np.minimum(gap[:gone + 1], edge)
        drawn.append(gap)
        fig.add_trace(go.Scatter(x=np.arange(len(gap)), y=gap, mode="lines",
                                 name=_label(r, gone), legendgroup=r.name,
                                 line={"color": _colour(r.name), "width": 2},
                                 hovertemplate="%{y:.3g}<extra>%{fullData.name}</extra>"))
        if gone is not None:
            words = t("diverged at step {n}", n=gone)
            fig.add_trace(go.Scatter(x=[len(gap) - 1], y=[gap[-1]], mode="markers+text",
                                     marker={"symbol": "x", "size": 12, "color": _colour(r.name)},
                                     text=[words], textposition="middle right",
                                     textfont={"color": _colour(r.name)},
                                     showlegend=False, legendgroup=r.name,
                                     hovertemplate=f"{words}<extra></extra>"))
    # One legend row at full width: a smaller top margin than the map's two rows.
    fig.update_layout(title={"text": t("Loss gap to the minimum"), "y": 0.99, "yanchor": "top"},
                      height=height, margin={"l": 10, "r": 10, "t": 80, "b": 10},
                      legend={"orientation": "h", "x": 0, "y": 1.01, "yanchor": "bottom"})
    fig.update_xaxes(title=t("step"))
    fig.update_yaxes(title="f − f*", type="log", exponentformat="power",
                     range=log_range(np.concatenate(drawn)) if drawn else None)
    return styled(fig)
