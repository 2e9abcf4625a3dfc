"""Figures of what a sequence model does, from the sequence probes' plain data: attention
heatmaps (queries against keys, with the tokens on the axes), a grid of every head, the
hidden state and the gates over time, the gradient over time, predictions per token.

Token axes are numeric with the tokens as tick labels: a category axis would merge two
equal tokens ("1" twice in "1 0 1") into one column.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from engine.i18n import N_, t
from viz.axes import HOVER, log_range, sig, span_decades
from viz.style import styled

MARGIN = dict(l=10, r=10, t=40, b=10)
WEIGHTS = "Blues"  # attention weights, 0 (white) to 1
SIGNED = "RdBu"  # hidden states and candidates: sign matters, zero is white
GATE = "Viridis"  # gates, 0 (closed) to 1 (open)
RIGHT, WRONG, TARGET = "#2e7d32", "#c62828", "#eceff1"
MAX_TICKS = 40  # above this many steps the axis shows numbers, not every token
GAP = 0.2  # between tiles of the grid, as a share of a tile's side
GATE_WORDS = {"forget": N_("forget gate"), "input": N_("input gate"),
              "output": N_("output gate"), "candidate": N_("candidate"),
              "reset": N_("reset gate"), "update": N_("update gate")}


def empty(title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title=title, height=240, margin=MARGIN,
                      xaxis=dict(visible=False), yaxis=dict(visible=False),
                      annotations=[dict(text=message, showarrow=False, x=0.5, y=0.5,
                                        xref="paper", yref="paper")])
    return styled(fig)


def shown(tokens: Sequence[str]) -> list[str]:
    """Tokens as tick labels: a space or a line break is invisible on an axis."""
    return [{" ": "␣", "\n": "↵", "\t": "⇥", "": "∅"}.get(str(s), str(s)) for s in tokens]


def token_axis(tokens: Sequence[str], title: str) -> dict:
    """A numeric axis labelled with the tokens (every one while they fit)."""
    n = len(tokens)
    axis = dict(title=title, range=[-0.5, n - 0.5], showgrid=False, zeroline=False)
    if n <= MAX_TICKS:
        axis |= dict(tickmode="array", tickvals=list(range(n)), ticktext=shown(tokens))
    return axis


def _hover_pairs(queries: Sequence[str], keys: Sequence[str]) -> np.ndarray:
    q, k = shown(queries), shown(keys)
    return np.array([[f"{q[i]} ({i + 1}) → {k[j]} ({j + 1})" for j in range(len(k))]
                     for i in range(len(q))], dtype=object)


# attention ------------------------------------------------------------------------------------

def attention_heatmap(weights: np.ndarray, queries: Sequence[str], keys: Sequence[str],
                      title: str, height: int | None = None) -> go.Figure:
    """One head's weights [queries, keys]: each row is where that query looks (it sums to
    1). The colour scale is fixed from 0 to 1, so two moments of a run compare."""
    w = np.asarray(weights, dtype=float)
    fig = go.Figure(go.Heatmap(
        z=w, zmin=0, zmax=1, colorscale=WEIGHTS, customdata=_hover_pairs(queries, keys),
        colorbar=dict(thickness=10, title=dict(text=t("weight"), side="right")),
        hovertemplate=t("{pair}<br>weight {w}", pair="%{customdata}", w=f"%{{z:{HOVER}}}")
        + "<extra></extra>"))
    fig.update_xaxes(**token_axis(keys, t("keys (looked at)")), side="top")
    fig.update_yaxes(**token_axis(queries, t("queries (looking)")), autorange="reversed")
    side = height or int(min(max(26 * len(queries) + 120, 260), 620))
    fig.update_layout(title=dict(text=title, y=0.98), height=side,
                      margin=dict(l=10, r=10, t=80, b=10))
    return styled(fig)


def head_title(name: str, head: int, heads: int) -> str:
    return t("{layer}, head {h}", layer=name, h=head + 1) if heads > 1 else name


def attention_grid(result: dict[str, Any], columns: int | None = None) -> go.Figure:
    """Every head of every attention layer, small, in one chart: a row per layer, a tile per
    head (the hover names the tokens). Tiles are traces placed by offset, not subplots."""
    title = t("every head at once (rows: layers; columns: heads)")
    maps = result.get("weights") or {}
    if not maps:
        return empty(title, t("This model has no attention layer."))
    heads = max(np.asarray(w).shape[0] for w in maps.values())
    cols = columns or heads
    fig = go.Figure()
    annotations = []
    y = 0.0
    width = 0.0
    for name, w in maps.items():
        w = np.asarray(w, dtype=float)
        nh, nq, nk = w.shape
        axes = result.get("axes", {}).get(name, {})
        pairs = _hover_pairs(axes.get("queries", [str(i + 1) for i in range(nq)]),
                             axes.get("keys", [str(i + 1) for i in range(nk)]))
        room = max(nq * 0.35, 1.5)  # above each row of tiles, for its label
        for h in range(nh):
            r, c = divmod(h, cols)
            x0, y0 = c * nk * (1 + GAP), y + room + r * (nq * (1 + GAP) + room)
            fig.add_trace(go.Heatmap(
                z=w[h], x0=x0, dx=1, y0=y0, dy=1, zmin=0, zmax=1, colorscale=WEIGHTS,
                showscale=False, customdata=pairs,
                hovertemplate=head_title(name, h, nh) + "<br>" + t(
                    "{pair}<br>weight {w}", pair="%{customdata}", w=f"%{{z:{HOVER}}}")
                + "<extra></extra>"))
            annotations.append(dict(x=x0 - 0.5, y=y0 - 0.5, xanchor="left", yanchor="bottom",
                                    text=head_title(name, h, nh), showarrow=False,
                                    font=dict(size=11)))
            width = max(width, x0 + nk)
        rows = -(-nh // cols)
        y += rows * (nq * (1 + GAP) + room)
    fig.update_xaxes(visible=False, range=[-0.5, width], constrain="domain")
    fig.update_yaxes(visible=False, range=[y, -0.5], scaleanchor="x", constrain="domain")
    px = max(6.0, min(24.0, 700 / max(width, 1)))
    fig.update_layout(title=title, annotations=annotations, margin=MARGIN, showlegend=False,
                      plot_bgcolor="white",
                      height=int(min(max(y * px + MARGIN["t"] + MARGIN["b"], 200), 1600)))
    return styled(fig)


def focus_share(weights: np.ndarray) -> float:
    """The largest share of attention any one key gets, averaged over the queries: near
    1 / keys when a head looks everywhere, near 1 when each query picks one key."""
    w = np.asarray(weights, dtype=float)
    return float(w.max(axis=-1).mean()) if w.size else 0.0


# hidden states and gates ----------------------------------------------------------------------

def _time_heatmap(z: np.ndarray, tokens: Sequence[str], colorscale: str, zmin: float,
                  zmax: float, what: str) -> go.Heatmap:
    units = z.shape[0]
    return go.Heatmap(
        z=z, zmin=zmin, zmax=zmax, colorscale=colorscale, zmid=0 if zmin < 0 else None,
        customdata=np.array([[shown(tokens)[j] for j in range(z.shape[1])]] * units,
                            dtype=object),
        colorbar=dict(thickness=10),
        hovertemplate=t("{what}, unit {u}, step {s} ({tok}): {v}", what=what, u="%{y}",
                        s="%{x}", tok="%{customdata}", v=f"%{{z:{HOVER}}}")
        + "<extra></extra>")


def states_heatmap(states: np.ndarray, tokens: Sequence[str], title: str) -> go.Figure:
    """A recurrent layer's hidden state [T, units] as units (rows) against time steps."""
    s = np.asarray(states, dtype=float)
    if s.size == 0:
        return empty(title, t("No hidden state recorded."))
    top = float(np.nanmax(np.abs(s))) or 1.0
    fig = go.Figure(_time_heatmap(s.T, tokens, SIGNED, -top, top, t("state")))
    fig.update_xaxes(**token_axis(tokens, t("time step (token)")))
    fig.update_yaxes(title=t("unit"), autorange="reversed", showgrid=False)
    fig.update_layout(title=title, height=int(min(max(8 * s.shape[1] + 140, 260), 640)),
                      margin=MARGIN)
    return styled(fig)


def gates_figure(gates: dict[str, np.ndarray], tokens: Sequence[str], title: str) -> go.Figure:
    """Each gate [T, units] as units against time steps, one panel per gate: sigmoid gates
    from 0 (closed) to 1 (open), the candidate from -1 to 1."""
    if not gates:
        return empty(title, t("This layer has no gates."))
    names = list(gates)
    fig = make_subplots(rows=len(names), cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=[t(GATE_WORDS.get(n, n)) for n in names])
    for i, name in enumerate(names, start=1):
        g = np.asarray(gates[name], dtype=float)
        signed = name == "candidate"
        trace = _time_heatmap(g.T, tokens, SIGNED if signed else GATE, -1 if signed else 0, 1,
                              t(GATE_WORDS.get(name, name)))
        trace.update(showscale=i <= 2 and (signed or i == 1),
                     colorbar=dict(thickness=10, len=0.45, y=0.78 if not signed else 0.22))
        fig.add_trace(trace, row=i, col=1)
        fig.update_yaxes(autorange="reversed", showgrid=False, row=i, col=1)
    fig.update_xaxes(**token_axis(tokens, t("time step (token)")), row=len(names), col=1)
    units = np.asarray(gates[names[0]]).shape[1]
    fig.update_layout(title=title, margin=dict(l=10, r=10, t=60, b=10),
                      height=int(min(max(len(names) * (5 * units + 60) + 80, 360), 1400)))
    return styled(fig)


# the gradient over time -----------------------------------------------------------------------

def time_gradient_figure(nodes: dict[str, np.ndarray], tokens: Sequence[str]) -> go.Figure:
    """|dL/dh_t| per recurrent layer against the time step, on a log axis when it spans
    decades (a plain RNN's fades by many)."""
    title = t("how much the loss depends on each step's hidden state")
    if not nodes:
        return empty(title, t("This model has no recurrent layer."))
    fig = go.Figure()
    values = np.concatenate([np.asarray(v, dtype=float).ravel() for v in nodes.values()])
    for name, g in nodes.items():
        g = np.asarray(g, dtype=float)
        fig.add_trace(go.Scatter(
            x=np.arange(len(g)), y=g, mode="lines+markers", name=name,
            customdata=shown(tokens) if len(tokens) == len(g) else None,
            hovertemplate=t("{node}, step {s}: {v}", node=name, s="%{x}",
                            v=f"%{{y:{HOVER}}}") + "<extra></extra>"))
    n = max(len(np.asarray(v)) for v in nodes.values())
    fig.update_xaxes(**token_axis(tokens if len(tokens) == n else
                                  [str(i + 1) for i in range(n)], t("time step (token)")))
    if span_decades(values) >= 1:
        fig.update_yaxes(type="log", range=log_range(values), exponentformat="power",
                         hoverformat=HOVER, title=t("gradient size (log scale)"))
    else:
        fig.update_yaxes(rangemode="tozero", hoverformat=HOVER, title=t("gradient size"))
    fig.update_layout(title=title, height=360, margin=MARGIN,
                      legend=dict(orientation="h", y=-0.25))
    return styled(fig)


def fade_words(g: np.ndarray) -> str:
    """How much smaller the gradient is at the first step than at the last, in words."""
    g = np.asarray(g, dtype=float)
    if g.size < 2 or not np.isfinite(g).all() or g[-1] <= 0:
        return ""
    ratio = g[0] / g[-1]
    if ratio <= 0:
        return t("Nothing reaches the first step.")
    return t("At the first step it is {r} times its size at the last.", r=sig(ratio))


# predictions ------------------------------------------------------------------------------------

def predictions_figure(rows: list[dict[str, Any]]) -> go.Figure:
    """Per test row, the right tokens (grey) over the model's (green right, red wrong), one
    column per position; the hover gives the model's confidence."""
    title = t("right answer (grey) and the model's (green right, red wrong)")
    if not rows:
        return empty(title, t("Nothing predicted yet."))
    width = max(len(r["predicted"]) for r in rows)
    z, text, hover, labels = [], [], [], []
    for r in rows:
        n = len(r["predicted"])
        pad = [None] * (width - n)
        z.append([0.5] * n + pad)
        text.append(shown(r["targets"]) + [""] * (width - n))
        hover.append([t("row {i}: right answer {tok}", i=r["index"], tok=s)
                      for s in shown(r["targets"])] + [""] * (width - n))
        z.append([1.0 if ok else 0.0 for ok in r["correct"]] + pad)
        text.append(shown(r["predicted"]) + [""] * (width - n))
        hover.append([t("row {i}: the model says {tok} (sure to {p})", i=r["index"], tok=s,
                        p=f"{float(c):.0%}") for s, c in zip(shown(r["predicted"]),
                                                         r["confidence"], strict=True)]
                     + [""] * (width - n))
        labels += [t("No. {i} right", i=r["index"]), t("No. {i} model", i=r["index"])]
    fig = go.Figure(go.Heatmap(
        z=z, zmin=0, zmax=1, text=text, texttemplate="%{text}", customdata=hover,
        colorscale=[[0, WRONG], [0.49, WRONG], [0.5, TARGET], [0.51, RIGHT], [1, RIGHT]],
        showscale=False, xgap=2, ygap=2, hovertemplate="%{customdata}<extra></extra>"))
    fig.update_yaxes(tickmode="array", tickvals=list(range(len(labels))), ticktext=labels,
                     autorange="reversed", showgrid=False)
    fig.update_xaxes(title=t("position"), tickmode="array", tickvals=list(range(width)),
                     ticktext=[str(i + 1) for i in range(width)], showgrid=False)
    fig.update_layout(title=title, height=int(min(max(22 * len(labels) + 110, 240), 900)),
                      margin=MARGIN)
    return styled(fig)


def values_figure(row: dict[str, Any]) -> go.Figure:
    """A regression's targets and predictions for one row, output by output."""
    title = t("right values and the model's (test row {i})", i=row["index"])
    target, pred = np.asarray(row["targets"], float), np.asarray(row["predicted"], float)
    x = np.arange(1, len(target) + 1)
    fig = go.Figure([
        go.Scatter(x=x, y=target, mode="lines+markers", name=t("right value"),
                   hovertemplate=f"%{{y:{HOVER}}}<extra></extra>"),
        go.Scatter(x=x, y=pred, mode="lines+markers", name=t("the model's"),
                   hovertemplate=f"%{{y:{HOVER}}}<extra></extra>")])
    fig.update_xaxes(title=t("output"), dtick=1)
    fig.update_layout(title=title, height=320, margin=MARGIN,
                      legend=dict(orientation="h", y=-0.25))
    return styled(fig)
