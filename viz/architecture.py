"""The model graph drawn with networkx's layout and plotly: nodes by depth,
output shapes on the edges, parameter counts on hover, problems in red."""

from __future__ import annotations

import networkx as nx
import plotly.graph_objects as go

from engine.graph import INPUT, Plan

CATEGORY_COLOURS = {"core": "#1f77b4", "activation": "#2ca02c", "merge": "#9467bd",
                    "regularisation": "#8c564b", "convolution": "#ff7f0e", "input": "#7f7f7f"}


def architecture_figure(plan: Plan, categories: dict[str, str] | None = None,
                        problems: set[str] | None = None) -> go.Figure:
    categories, problems = categories or {}, problems or set()
    g = plan.graph
    depth = {n: 0 for n in g}
    for n in nx.topological_sort(g):
        for succ in g.successors(n):
            depth[succ] = max(depth[succ], depth[n] + 1)
    for n in g:
        g.nodes[n]["layer"] = depth[n]
    pos = nx.multipartite_layout(g, subset_key="layer", align="horizontal", scale=1)
    pos = {n: (x, -y) for n, (x, y) in pos.items()}  # input at the top
    infos = {n.id: n for n in plan.nodes}
    shape = {INPUT: plan.input_shape} | {n.id: n.out_shape for n in plan.nodes}

    fig = go.Figure()
    ex, ey, labels = [], [], []
    span = max(abs(x) for x, _ in pos.values()) or 1.0
    for a, b in g.edges:
        (x0, y0), (x1, y1) = pos[a], pos[b]
        # An edge that skips levels (residual, dense) bends aside instead of running
        # through the nodes it skips.
        skip = depth[b] - depth[a] - 1
        mx = (x0 + x1) / 2 - (0.25 + 0.1 * skip) * span * (skip > 0)
        my = (y0 + y1) / 2
        ex += [x0, mx, x1, None] if skip > 0 else [x0, x1, None]
        ey += [y0, my, y1, None] if skip > 0 else [y0, y1, None]
        labels.append(dict(x=mx, y=my, text="×".join(map(str, shape[a])), showarrow=False,
                           font=dict(size=10, color="#555"), bgcolor="rgba(255,255,255,0.8)"))
    fig.add_trace(go.Scatter(x=ex, y=ey, mode="lines", line=dict(color="#999", width=1.5),
                             hoverinfo="skip", showlegend=False))
    xs, ys, text, hover, colours = [], [], [], [], []
    for n in g:
        x, y = pos[n]
        xs.append(x)
        ys.append(y)
        info = infos.get(n)
        if info is None:
            text.append(f"<b>input</b><br>{'×'.join(map(str, plan.input_shape))}")
            hover.append("the data")
            colours.append(CATEGORY_COLOURS["input"])
            continue
        key = ", ".join(f"{k}={v}" for k, v in info.params.items() if k in
                        ("units", "activation", "filters", "kernel_size", "p"))
        text.append(f"<b>{n}</b><br>{info.type}" + (f"<br>{key}" if key else ""))
        hover.append(f"{n} ({info.type})<br>out {list(info.out_shape)}<br>"
                     f"{info.n_params:,} parameters")
        colours.append("#d62728" if n in problems else
                       CATEGORY_COLOURS.get(categories.get(info.type, "core"), "#1f77b4"))
    fig.add_trace(go.Scatter(
        x=xs, y=ys, mode="markers+text", text=text, textposition="middle right",
        hovertext=hover, hoverinfo="text", showlegend=False,
        marker=dict(size=18, color=colours, symbol="square", line=dict(width=1, color="#333"))))
    fig.update_layout(annotations=labels, height=max(300, 62 * (max(depth.values()) + 1)),
                      margin=dict(l=10, r=10, t=10, b=10), plot_bgcolor="white",
                      xaxis=dict(visible=False, range=[-1.6 * span - 0.5, 1.2 * span + 1.2]),
                      yaxis=dict(visible=False))
    return fig
