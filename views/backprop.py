"""Back-propagation, one node at a time: forward values, then the chain rule backwards."""

from __future__ import annotations

import streamlit as st

from engine.i18n import N_, t
from engine.lab.backprop import (
    EXAMPLES,
    OP_NAMES,
    autograd_gradients,
    backward_steps,
    describe,
    expression,
    forward,
    forward_steps,
    leaves,
    with_values,
)
from viz.backprop import graph_figure

TITLES = {"neuron": N_("One sigmoid neuron"), "two_relus": N_("Two ReLU units sharing an input")}

st.title(t("Back-propagation"))
st.caption(t("The forward pass computes every node's value from left to right. The backward "
             "pass then starts from the loss (whose gradient with respect to itself is 1) and "
             "walks back: each node multiplies the gradient it received by its local "
             "derivative and passes the product to its inputs. That is the chain rule."))

example = st.selectbox(t("Example"), list(EXAMPLES), key="bp-example",
                       format_func=lambda n: t(TITLES.get(n, n)))
base = EXAMPLES[example]()

with st.expander(t("Input values"), expanded=False):
    edited = {}
    given = leaves(base)
    cols = st.columns(min(len(given), 4))
    for i, leaf in enumerate(given):
        col = cols[i % len(cols)]
        if isinstance(leaf.value, float | int):
            edited[leaf.id] = col.number_input(leaf.id, value=float(leaf.value), step=0.1,
                                               format="%.3f", key=f"bp-{example}-{leaf.id}")
        else:
            edited[leaf.id] = [
                col.number_input(f"{leaf.id}[{j}]", value=float(v), step=0.1, format="%.3f",
                                 key=f"bp-{example}-{leaf.id}-{j}")
                for j, v in enumerate(leaf.value)]
nodes = with_values(base, edited)
by_id = {n.id: n for n in nodes}
values = forward(nodes)
steps = backward_steps(nodes, values)
reference = autograd_gradients(nodes)
fwd = forward_steps(nodes)
last = len(fwd) + len(steps)  # 0: nothing computed; then forward steps; then backward steps
key = f"bp-step-{example}"


def move(delta: int) -> None:
    st.session_state[key] = max(0, min(last, st.session_state.get(key, 0) + delta))


c = st.columns([1, 1, 2])  # wide enough for "◀ Previous" on a 1024-pixel projector
c[0].button(t("◀ Previous"), on_click=move, args=(-1,), key="bp-prev")
c[1].button(t("Next ▶"), on_click=move, args=(1,), key="bp-next")
st.session_state.setdefault(key, 0)  # the buttons set it too, so no default on the slider
pos = c[2].slider(t("Step"), 0, last, key=key, label_visibility="collapsed")

if pos <= len(fwd):
    fig = graph_figure(nodes, values, steps, forward_upto=pos)
    if pos == 0:
        st.info(t("Start: only the given inputs are known. Press Next to run the forward "
                  "pass."))
    else:
        n = by_id[fwd[pos - 1]]
        st.info(t("Forward {i}/{n}: {node} = {formula} = {value}", i=pos, n=len(fwd),
                  node=n.id, formula=expression(n), value=describe(values[n.id])))
    visited = set()
    known = {n.id for n in leaves(nodes)} | set(fwd[:pos])
else:
    i = pos - len(fwd) - 1
    fig = graph_figure(nodes, values, steps, step=i)
    s = steps[i]
    n = by_id[s.node]
    if not n.inputs:
        st.info(t("Backward {i}/{n}: {node} is a leaf; its gradient is final: "
                  "∂L/∂{node} = {grad}", i=i + 1, n=len(steps), node=n.id,
                  grad=describe(s.grad)))
    else:
        parts = "; ".join(f"∂L/∂{src} += {describe(s.grad)} × {describe(d)} = {describe(g)}"
                          for src, d, g in zip(n.inputs, s.local, s.sent, strict=True))
        st.info(t("Backward {i}/{n}: at {node}, ∂L/∂{node} = {grad}. Sent to its inputs: "
                  "{parts}", i=i + 1, n=len(steps), node=n.id, grad=describe(s.grad),
                  parts=parts))
    visited = {x.node for x in steps[:i + 1]}
    known = set(by_id)

st.plotly_chart(fig, key="bp-graph")

local = {s.node: s for s in steps}
# A static table wraps long cells; a data grid would cut them at a projector's width.
st.table(
    [{t("Node"): n.id, t("Operation"): t(OP_NAMES.get(n.op, n.op)),
      t("Value"): describe(values[n.id]) if n.id in known else "",
      t("Local gradients"): ", ".join(
          f"∂{n.id}/∂{src} = {describe(d)}"
          for src, d in zip(n.inputs, local[n.id].local, strict=True)),
      t("Accumulated ∂L/∂node"): describe(local[n.id].grad) if n.id in visited else "",
      t("Autograd"): describe(reference[n.id])}
     for n in nodes],
    hide_index=True,
)
