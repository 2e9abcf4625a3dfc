"""Activation functions: each curve with its derivative, and where its gradient dies."""

from __future__ import annotations

import streamlit as st

from engine.i18n import t
from engine.lab.activations import (
    ACTIVATIONS,
    LABELS,
    SATURATION,
    curve,
    preactivations,
    saturated_fraction,
)
from viz.activations import activation_figure

st.title(t("Activation functions"))
st.caption(t("Solid: the function. Dashed: its derivative, which is what back-propagation "
             "multiplies by. Shaded: where the derivative is below {pct}% of its peak, so "
             "almost no gradient gets through.", pct=round(SATURATION * 100)))

c = st.columns([3, 2])
names = c[0].multiselect(t("Activations"), list(ACTIVATIONS), default=["sigmoid", "relu"],
                         key="act-names", format_func=lambda n: t(LABELS[n]))
lo, hi = c[1].slider(t("x range"), -10.0, 10.0, (-6.0, 6.0), 0.5, key="act-range")
c = st.columns(2)
show_hist = c[0].toggle(t("Show pre-activations"), value=False, key="act-hist",
                        help=t("A normal sample of inputs to the activation, as a layer "
                               "would produce it. Mass in a shaded stretch learns slowly."))
std = c[1].slider(t("Their spread (standard deviation)"), 0.1, 5.0, 1.0,
                  0.1, key="act-std", disabled=not show_hist)

if not names:
    st.info(t("Pick at least one activation."))
    st.stop()
if hi <= lo:
    st.warning(t("The x range is empty."))
    st.stop()

sample = preactivations(std) if show_hist else None
cols = st.columns(2)
for i, name in enumerate(names):
    cv = curve(name, lo, hi)
    with cols[i % 2]:
        st.plotly_chart(activation_figure(cv, sample), key=f"act-fig-{name}")
        st.caption(t(cv.note))
        if sample is not None:
            st.caption(t("{pct}% of these pre-activations fall where {name} is saturated.",
                         pct=f"{100 * saturated_fraction(cv, sample):.0f}",
                         name=t(LABELS[name])))
