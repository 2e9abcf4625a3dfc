"""An activation function and its derivative, with saturated stretches shaded.

An optional histogram of pre-activations (what a layer actually feeds the
function) goes underneath: mass sitting in a shaded stretch is mass whose
gradient is (almost) gone.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from engine.i18n import t
from engine.lab.activations import LABELS, Curve, ranges
from viz.style import styled

CURVE, DERIV, SHADE, HIST = "#1f77b4", "#d62728", "rgba(239,108,0,0.13)", "rgba(120,120,120,0.35)"


def activation_figure(c: Curve, preacts: np.ndarray | None = None, bins: int = 60,
                      height: int = 380) -> go.Figure:
    """f(x) and f'(x) on one axis; the histogram, if any, on a second axis at the right.

    Plotly draws an overlaying axis's traces on top of the base axis's, so the
    histogram takes the base axis (y) and the curves the overlaying one (y2): that
    keeps the bars underneath the lines."""
    fig = go.Figure()
    label = t(LABELS.get(c.name, c.name))
    curves_axis = "y"
    if preacts is not None and len(preacts):
        inside = preacts[(preacts >= c.x[0]) & (preacts <= c.x[-1])]
        fig.add_trace(go.Histogram(x=inside, nbinsx=bins, name=t("pre-activations"),
                                   marker_color=HIST, yaxis="y", hoverinfo="skip"))
        curves_axis = "y2"
    fig.add_trace(go.Scatter(x=c.x, y=c.y, mode="lines", name=f"{label}(x)",
                             line={"color": CURVE, "width": 3}, yaxis=curves_axis))
    fig.add_trace(go.Scatter(x=c.x, y=c.dy, mode="lines", name=f"{label}′(x)",
                             line={"color": DERIV, "width": 2, "dash": "dash"}, yaxis=curves_axis,
                             connectgaps=False))
    for a, b in ranges(c.x, c.saturated):
        fig.add_vrect(x0=a, x1=b, fillcolor=SHADE, line_width=0, layer="below")
    fig.update_layout(title={"text": label, "y": 0.97, "yanchor": "top"}, height=height,
                      margin={"l": 10, "r": 10, "t": 40, "b": 10}, bargap=0.02,
                      legend={"orientation": "h", "x": 0, "y": -0.22}, uirevision=c.name,
                      xaxis={"title": "x", "range": [float(c.x[0]), float(c.x[-1])]})
    if curves_axis == "y2":
        fig.update_layout(
            yaxis={"title": t("count"), "side": "right", "showgrid": False, "rangemode": "tozero"},
            yaxis2={"title": t("value"), "side": "left", "overlaying": "y", "tickmode": "auto"})
    else:
        fig.update_layout(yaxis={"title": t("value")})
    return styled(fig)
