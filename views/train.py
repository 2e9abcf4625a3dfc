"""Train: run any experiment and watch its curves live."""

from __future__ import annotations

import streamlit as st

from engine.data import DATASETS
from engine.i18n import t
from engine.trainer import Snapshot
from ui.controls import lr_control, progress, run_controls, speed_control
from ui.live import cached_figure, live, refresh_picker
from ui.present import figure_height, presenting
from ui.runs_panel import save_run_button
from ui.session import current
from viz.compare import optimizer_name
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
big = presenting()
st.title(t("Train"))
st.caption(t("{name}: {data}, {params} parameters, {optimizer} at learning rate {lr:g}",
             name=session.title, data=t(DATASETS.get(exp.data.name).title),
             params=f"{session.get_trainer().plan.total_params:,}",
             optimizer=optimizer_name(exp.train.optimizer.name), lr=exp.train.optimizer.lr))

run_controls(session, "train")
if big:  # at the front of a class: the learning rate is the one setting a lesson changes
    lr_control(session, "train-lr")
    log_axis, smoothing = False, 0.6
else:
    with st.expander(t("Options"), expanded=False):
        c = st.columns(4)
        with c[0]:
            lr_control(session, "train-lr")
            speed_control(session, st)
        with c[1]:
            refresh_picker()
        log_axis = c[2].toggle(t("Log loss axis"), key="train-log")
        smoothing = c[3].slider(t("Smoothing"), 0.0, 0.99, 0.6, key="train-smooth")
    # The whole page is drawn again when a run ends, so the button follows the run's state.
    save_run_button(session, key="train-save-run")


def sized(fig: object) -> object:
    """Taller while presenting; the figure keeps its own height otherwise."""
    if big:
        fig.update_layout(height=figure_height(fig.layout.height or 300))  # type: ignore[attr-defined]
    return fig


def draw_curves(s: Snapshot) -> None:
    progress(s)
    v = s.version
    left, right = st.columns(2)
    left.plotly_chart(cached_figure(f"loss{log_axis}{smoothing}{big}", v,
                                    lambda: sized(loss_figure(s, log_axis, smoothing))),
                      key="train-loss")
    kind = session.get_trainer().task.kind
    right.plotly_chart(cached_figure(f"metric{big}", (s.evals, kind),
                                     lambda: sized(metric_figure(s, kind))), key="train-metric")


def draw_details(s: Snapshot) -> None:
    # Each probe records on its own cadence: its figure is built again when it did.
    flow, ev = s.probes.get("gradient_flow"), s.probes.get("evaluation")
    left, right = st.columns(2)
    left.plotly_chart(cached_figure(f"grad{big}", flow, lambda: sized(grad_figure(flow))),
                      key="train-grad")
    right.plotly_chart(cached_figure(f"outcome{big}", ev, lambda: sized(outcome_figure(ev))),
                       key="train-outcome")
    if big:
        return
    schedule = session.get_trainer().exp.train.schedule
    # Without an epoch budget there is no whole run to plan the schedule over.
    planned = None if s.epochs is None else schedule_curve(schedule, s.lr, s.steps_per_epoch,
                                                           s.epochs)
    st.plotly_chart(cached_figure("lr", s.version, lambda: lr_figure(s, planned)),
                    key="train-lr-chart")


# The curves follow every refresh; the slower-moving views every third one.
live(session, draw_curves, "train-live")
live(session, draw_details, "train-details", slower=3)
