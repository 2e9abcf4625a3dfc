"""The computational graph of engine.lab.backprop, drawn left to right.

One figure serves the whole walk-through: during the forward pass the values
appear node by node; during the backward pass each visited node shows its
gradient dL/d(node), the current node is ringed, and the edges into it carry
the local derivatives the chain rule multiplies by.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import networkx as nx
import plotly.graph_objects as go

from engine.i18n import t
from engine.lab.backprop import (
    LEAVES,
    OP_NAMES,
    OPS,
    Node,
    Step,
    Value,
    describe,
    forward_steps,
    to_graph,
)
from viz.style import styled

WAITING, VALUED, GRADED, CURRENT = "#eeeeee", "#d6e9f8", "#fde0c5", "#e4572e"
NODE_SIZE = 46  # pixels; arrows stop this far from the centres
LABEL_OFFSET = 0.36  # nodes in a column are 1 apart; labels sit above and below
ROW_PIXELS = 115  # figure height per node of the tallest column


def positions(nodes: Sequence[Node]) -> dict[str, tuple[float, float]]:
    """Columns by topological depth; a leaf sits just left of its first consumer, so a
    target y is drawn next to the loss rather than beside the inputs."""
    g = to_graph(nodes)
    depth: dict[str, int] = {}
    for nid in nx.topological_sort(g):
        preds = list(g.predecessors(nid))
        depth[nid] = 1 + max(depth[p] for p in preds) if preds else 0
    for n in nodes:
        if n.op in LEAVES and g.out_degree(n.id):
            depth[n.id] = min(depth[c] for c in g.successors(n.id)) - 1
    # Within a column, list order from top to bottom (networkx's multipartite layout
    # reorders nodes, which scrambles a graph listed with care).
    columns: dict[int, list[str]] = {}
    for n in nodes:
        columns.setdefault(depth[n.id], []).append(n.id)
    pos = {}
    for d, col in columns.items():
        for rank, nid in enumerate(col):
            pos[nid] = (float(d), (len(col) - 1) / 2 - rank)
    return pos


def graph_figure(nodes: Sequence[Node], values: Mapping[str, Value],
                 steps: Sequence[Step] = (), *, forward_upto: int | None = None,
                 step: int | None = None, height: int | None = None) -> go.Figure:
    """The graph at one moment of the walk-through.

    ``forward_upto=k``: the forward pass has computed the first k of ``forward_steps``
    (k=0: only the leaves' given values are known).
    ``step=i``: the backward pass is at ``steps[i]`` (all values known).
    Neither: all values, no gradients."""
    by_id = {n.id: n for n in nodes}
    pos = positions(nodes)
    order = forward_steps(nodes)
    given = {n.id for n in nodes if n.op in LEAVES}
    known = given | set(order if forward_upto is None else order[:forward_upto])
    current: str | None = None
    graded: dict[str, Value] = {}
    active: dict[str, Value] = {}  # input id -> local derivative, for edges into current
    if step is not None and steps:
        step = max(0, min(step, len(steps) - 1))
        known = set(by_id)
        graded = {s.node: s.grad for s in steps[:step + 1]}
        cur = steps[step]
        current = cur.node
        active = dict(zip(by_id[current].inputs, cur.local, strict=True))
    elif forward_upto:
        current = order[min(forward_upto, len(order)) - 1]

    fig = go.Figure()
    ann = []
    for n in nodes:
        for src in n.inputs:
            (x0, y0), (x1, y1) = pos[src], pos[n.id]
            hot = n.id == current
            ann.append({"x": x1, "y": y1, "ax": x0, "ay": y0, "xref": "x", "yref": "y",
                        "axref": "x", "ayref": "y", "showarrow": True, "arrowhead": 2,
                        "arrowsize": 1.2, "arrowwidth": 3 if hot else 1.2,
                        "arrowcolor": CURRENT if hot else "#999999",
                        "standoff": NODE_SIZE / 2, "startstandoff": NODE_SIZE / 2, "text": ""})
            if hot and src in active:
                ann.append({"x": (x0 + x1) / 2, "y": (y0 + y1) / 2, "showarrow": False,
                            "text": f"∂{n.id}/∂{src} = {describe(active[src])}",
                            "font": {"size": 11, "color": CURRENT}, "bgcolor": "white",
                            "bordercolor": CURRENT, "borderwidth": 1})
    ids = [n.id for n in nodes]
    xs, ys = [pos[i][0] for i in ids], [pos[i][1] for i in ids]
    fill = [GRADED if i in graded else VALUED if i in known else WAITING for i in ids]
    hover = []
    for n in nodes:
        lines = [f"<b>{n.id}</b>: {t(OP_NAMES.get(n.op, n.op))}"]
        if n.op in OPS:
            lines.append(f"{n.id} = {OPS[n.op].formula}  ({', '.join(n.inputs)})")
        if n.id in known:
            lines.append(f"{t('value')} = {describe(values[n.id])}")
        if n.id in graded:
            lines.append(f"∂L/∂{n.id} = {describe(graded[n.id])}")
        hover.append("<br>".join(lines))
    fig.add_trace(go.Scatter(
        x=xs, y=ys, mode="markers+text", name=t("nodes"),
        text=[OPS[n.op].symbol if n.op in OPS else n.id for n in nodes],
        textfont={"size": 11}, hovertext=hover, hoverinfo="text",
        marker={"size": NODE_SIZE, "color": fill,
                "symbol": ["square" if n.op in LEAVES else "circle" for n in nodes],
                "line": {"color": [CURRENT if i == current else "#555555" for i in ids],
                         "width": [4 if i == current else 1 for i in ids]}},
    ))
    fig.add_trace(go.Scatter(
        # Offsets in data units, not textposition: a text-only trace does not know how
        # big the markers are, so "top center" would land on them.
        x=xs, y=[y + LABEL_OFFSET for y in ys], mode="text", name=t("values"), hoverinfo="skip",
        text=[f"{i} = {describe(values[i])}" if i in known else f"{i} = ?" for i in ids],
        textfont={"size": 12, "color": "#1f4e79"},
    ))
    fig.add_trace(go.Scatter(
        x=xs, y=[y - LABEL_OFFSET for y in ys], mode="text", name=t("gradients"),
        hoverinfo="skip",
        text=[f"∂L/∂{i} = {describe(graded[i])}" if i in graded else "" for i in ids],
        textfont={"size": 12, "color": "#b34700"},
    ))
    xmin, xmax = min(xs), max(xs)
    ymin, ymax = min(ys), max(ys)
    pad_y = 0.65  # room for the value above the top node and the gradient below the last
    height = height or int(ROW_PIXELS * (ymax - ymin + 2 * pad_y))
    fig.update_layout(
        annotations=ann, height=height, showlegend=False, plot_bgcolor="white",
        margin={"l": 10, "r": 10, "t": 10, "b": 10}, uirevision="backprop",
        xaxis={"visible": False, "range": [xmin - 0.5, xmax + 0.5]},
        yaxis={"visible": False, "range": [ymin - pad_y, ymax + pad_y]},
    )
    return styled(fig)
