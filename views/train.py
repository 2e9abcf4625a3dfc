"""Train: run any experiment and watch its curves live."""

from __future__ import annotations

import streamlit as st

from engine.i18n import t
from engine.trainer import Snapshot
from ui.controls import lr_control, progress, run_controls
from ui.live import cached_figure, live, refresh_picker
from ui.session import current
from viz.curves import (
    grad_figure,
    loss_figure,
    lr_figure,
    metric_figure,
    outcome_figure,
    schedule_curve,
)

session = current()
exp = session.exp
st.title(t("Train"))
st.caption(t("{name}: {data}, {params} parameters, {optimizer} at learning rate {lr}",
             name=exp.meta.name, data=exp.data.name,
             params=f"{session.get_trainer().plan.total_params:,}",
             optimizer=exp.train.optimizer.name, lr=exp.train.optimizer.lr))

run_controls(session, "train")
with st.expander(t("Options"), expanded=False):
    c = st.columns(4)
    with c[0]:
        lr_control(session, "train-lr")
    with c[1]:
        refresh_picker()
    log_axis = c[2].toggle(t("Log loss axis"), key="train-log")
    smoothing = c[3].slider(t("Smoothing"), 0.0, 0.99, 0.6, key="train-smooth")


def draw_curves(s: Snapshot) -> None:
    progress(s)
    v = s.version
    left, right = st.columns(2)
    left.plotly_chart(cached_figure(f"loss{log_axis}{smoothing}", v,
                                    lambda: loss_figure(s, log_axis, smoothing)),
                      key="train-loss")
    kind = session.get_trainer().task.kind
    right.plotly_chart(cached_figure("metric", v, lambda: metric_figure(s, kind)),
                       key="train-metric")


def draw_details(s: Snapshot) -> None:
    v = s.version
    left, right = st.columns(2)
    left.plotly_chart(cached_figure("grad", v, lambda: grad_figure(
        s.probes.get("gradient_flow"))), key="train-grad")
    right.plotly_chart(cached_figure("outcome", v, lambda: outcome_figure(
        s.probes.get("evaluation"))), key="train-outcome")
    schedule = session.get_trainer().exp.train.schedule
    st.plotly_chart(cached_figure("lr", v, lambda: lr_figure(s, schedule_curve(
        schedule, s.lr, s.steps_per_epoch, s.epochs))), key="train-lr-chart")


# The curves follow every refresh; the slower-moving views every third one.
live(session, draw_curves, "train-live")
live(session, draw_details, "train-details", slower=3)
