"""The model graph drawn with networkx's layout and plotly.

Nodes sit in layers by their depth (the longest path from the data), output
shapes are written on the edges, parameter counts appear on hover, merge nodes
are diamonds, and nodes with a problem are red. A draft that does not validate
has no shapes yet, so ``draft_figure`` draws its structure alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import networkx as nx
import plotly.graph_objects as go

from engine.graph import INPUT, Plan, part_shape
from engine.i18n import N_, t
from engine.layers import LAYERS
from engine.names import shown
from viz.style import styled

Direction = Literal["TB", "LR"]
CATEGORY_COLOURS = {"core": "#1f77b4", "activation": "#2ca02c", "merge": "#9467bd",
                    "regularisation": "#8c564b", "convolution": "#ff7f0e", "input": "#7f7f7f"}
PROBLEM = "#d62728"


@dataclass(frozen=True)
class Box:
    """What the picture needs to know about one node."""

    label: str
    hover: str
    category: str
    problem: bool = False


def shape_text(shape: Sequence[int]) -> str:
    return "×".join(map(str, shape))


def depths(g: nx.DiGraph, order: Sequence[str]) -> dict[str, int]:
    """Longest distance from the data; a graph with a cycle falls back to list order."""
    if not nx.is_directed_acyclic_graph(g):
        return {n: (0 if n == INPUT else order.index(n) + 1) for n in g}
    depth = {n: 0 for n in g}
    for n in nx.topological_sort(g):
        for succ in g.successors(n):
            depth[succ] = max(depth[succ], depth[n] + 1)
    return depth


def layer_categories() -> dict[str, str]:
    return {lt.name: lt.category for lt in LAYERS}


KEY_WORDS = {"units": N_("{v} units"), "filters": N_("{v} filters"),
             "kernel_size": N_("kernel {v}"), "stride": N_("stride {v}"), "p": N_("drop {v}"),
             "negative_slope": N_("slope {v}")}


def _key_params(params: Mapping[str, Any]) -> str:
    """The parameters worth reading on the picture, short: "32 units, tanh"."""
    if params.get("stride") == 0:  # pooling's stride 0 means "the window size": show that
        params = {**params, "stride": params.get("kernel_size", 0)}
    return ", ".join(_key_word(k, v) for k, v in params.items()
                     if (k in KEY_WORDS or k == "activation") and v not in (None, "none"))


def _key_word(name: str, value: Any) -> str:
    if name == "activation":
        return shown(value)
    return t(KEY_WORDS[name], v=value)


def graph_figure(g: nx.DiGraph, boxes: Mapping[str, Box], edge_text: Mapping[str, str],
                 order: Sequence[str], direction: Direction = "TB") -> go.Figure:
    """Draw ``g``: ``boxes`` by node, ``edge_text`` by source node (its output shape)."""
    depth = depths(g, order)
    for n in g:
        g.nodes[n]["layer"] = depth[n]
    # multipartite puts each layer on a line; "horizontal" lines stack top to bottom.
    raw = nx.multipartite_layout(g, subset_key="layer", scale=1,
                                 align="horizontal" if direction == "TB" else "vertical")
    # (along, across): along grows with depth, across spreads a layer's nodes.
    flow = {n: (y, x) if direction == "TB" else (x, y) for n, (x, y) in raw.items()}
    data = INPUT if INPUT in flow else min(flow, key=lambda n: depth[n])  # or a named input
    start = flow[data][0]
    if len(flow) > 1 and start > min(a for a, _ in flow.values()):
        flow = {n: (-a, c) for n, (a, c) in flow.items()}  # the data comes first
    start = flow[data][0]
    flow = {n: (a - start, c) for n, (a, c) in flow.items()}
    span = max((abs(c) for _, c in flow.values()), default=0.0) or 0.5

    def xy(along: float, across: float) -> tuple[float, float]:
        return (across, -along) if direction == "TB" else (along, across)

    ex: list[float | None] = []
    ey: list[float | None] = []
    labels = []
    for a, b in g.edges:
        (a0, c0), (a1, c1) = flow[a], flow[b]
        # An edge that skips layers (residual, dense) bends aside instead of running
        # through the nodes it skips.
        skip = depth[b] - depth[a] - 1
        mid = ((a0 + a1) / 2, (c0 + c1) / 2 - (0.5 + 0.15 * skip) * span * (skip > 0))
        pts = [flow[a], mid, flow[b]] if skip > 0 else [flow[a], flow[b]]
        for p in pts:
            x, y = xy(*p)
            ex.append(x)
            ey.append(y)
        ex.append(None)
        ey.append(None)
        if edge_text.get(a):
            x, y = xy(*mid)
            labels.append(dict(x=x, y=y, text=edge_text[a], showarrow=False,
                               font=dict(size=10, color="#444"),
                               bgcolor="rgba(255,255,255,0.85)"))
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=ex, y=ey, mode="lines", line=dict(color="#aaa", width=1.5),
                             hoverinfo="skip", showlegend=False, name="edges"))
    merge = [n for n in g if boxes[n].category == "merge"]
    for name, members, symbol in (("nodes", [n for n in g if n not in merge], "square"),
                                  ("merge nodes", merge, "diamond")):
        if not members:
            continue
        pts = [xy(*flow[n]) for n in members]
        fig.add_trace(go.Scatter(
            x=[p[0] for p in pts], y=[p[1] for p in pts], mode="markers+text", name=name,
            text=[boxes[n].label for n in members], hovertext=[boxes[n].hover for n in members],
            hoverinfo="text", showlegend=False, customdata=members,
            textposition="middle right" if direction == "TB" else "bottom center",
            textfont=dict(color=[PROBLEM if boxes[n].problem else "#222" for n in members]),
            marker=dict(symbol=symbol, size=24 if symbol == "diamond" else 18,
                        color=[PROBLEM if boxes[n].problem else
                               CATEGORY_COLOURS.get(boxes[n].category, "#1f77b4")
                               for n in members],
                        line=dict(width=[3 if boxes[n].problem else 1 for n in members],
                                  color=[PROBLEM if boxes[n].problem else "#333"
                                         for n in members]))))
    layers = max(depth.values(), default=0) + 1
    axis = dict(visible=False, fixedrange=True)
    if direction == "TB":
        fig.update_layout(height=max(300, 80 * layers),
                          # the labels sit right of their nodes: room for them there
                          xaxis=axis | dict(range=[-span * 1.3 - 0.2, span + 2.4]),
                          yaxis=axis | dict(range=[-max(a for a, _ in flow.values()) - 0.15,
                                                   0.15]))
    else:
        fig.update_layout(height=max(300, 140 * (span + 1)), xaxis=axis, yaxis=axis)
    fig.update_layout(annotations=labels, margin=dict(l=10, r=10, t=10, b=10),
                      plot_bgcolor="white", dragmode=False)
    return styled(fig)


def architecture_figure(plan: Plan, categories: Mapping[str, str] | None = None,
                        problems: set[str] | None = None,
                        direction: Direction = "TB") -> go.Figure:
    """A validated model: each edge carries its source's output shape."""
    categories, problems = categories or layer_categories(), problems or set()
    g = plan.graph.copy()
    shapes = {INPUT: plan.input_shape} | {
        name: part_shape(plan.input_shape, span) for name, span in plan.parts.items()}
    if plan.parts and g.out_degree(INPUT) == 0:
        g.remove_node(INPUT)  # the data is read only through its named parts
        del shapes[INPUT]
    boxes = {name: Box(f"<b>{name}</b><br>{shape_text(shape)}",
                       t("the data<br>shape {shape}", shape=list(shape)), "input")
             for name, shape in shapes.items()}
    for n in plan.nodes:
        key = _key_params(n.params)
        boxes[n.id] = Box(f"<b>{n.id}</b> · {n.type}" + (f"<br>{key}" if key else ""),
                          f"<b>{n.id}</b> ({n.type})<br>" + t(
                              "in {inputs}<br>out {shape}<br>{n} parameters",
                              inputs=", ".join(map(str, n.inputs)), shape=list(n.out_shape),
                              n=f"{n.n_params:,}"),
                          categories.get(n.type, "core"), n.id in problems)
    edge_text = {name: shape_text(shape) for name, shape in shapes.items()} | {
        n.id: shape_text(n.out_shape) for n in plan.nodes}
    order = [n.id for n in sorted(plan.nodes, key=lambda n: n.index)]
    return graph_figure(g, boxes, edge_text, order, direction)


def draft_graph(nodes: Sequence[Mapping[str, Any]]) -> nx.DiGraph:
    """The structure of a node list that may not validate: the engine's reading rule
    (no ``inputs``: the previous node), with inputs that name no node left out."""
    g = nx.DiGraph()
    g.add_node(INPUT)
    ids = [str(n.get("id", "")) for n in nodes]
    g.add_nodes_from(ids)  # in list order, so a layer's nodes keep it
    for i, n in enumerate(nodes):
        ins = n.get("inputs") or [ids[i - 1] if i else INPUT]
        for src in ins:
            if src in g and src != ids[i]:
                g.add_edge(src, ids[i])
    return g


def draft_figure(nodes: Sequence[Mapping[str, Any]], categories: Mapping[str, str] | None = None,
                 problems: set[str] | None = None, direction: Direction = "TB") -> go.Figure:
    """A draft's structure, without shapes (they are only known once it validates)."""
    categories, problems = categories or layer_categories(), problems or set()
    g = draft_graph(nodes)
    boxes = {INPUT: Box(f"<b>{INPUT}</b>", t("the data"), "input")}
    for n in nodes:
        nid, kind = str(n.get("id", "")), str(n.get("type", ""))
        key = _key_params(n.get("params") or {})
        boxes.setdefault(nid, Box(f"<b>{nid}</b> · {kind}" + (f"<br>{key}" if key else ""),
                                  f"<b>{nid}</b> ({kind})", categories.get(kind, "core"),
                                  nid in problems))
    order = list(dict.fromkeys(str(n.get("id", "")) for n in nodes))
    return graph_figure(g, boxes, {}, order, direction)
