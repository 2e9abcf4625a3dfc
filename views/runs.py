"""Saved runs: keep the session's run, list, reopen, rename, delete, and fine-tune.

Runs belong to this browser session's owner key (ui/runs_panel.py); the key can be
copied to another session to reach the same runs there.
"""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from engine.data import DATASETS
from engine.i18n import t
from engine.pretrained import fine_tune_spec, trainable_nodes
from engine.runs import RunError, RunInfo, SavedRun, default_store
from ui.runs_panel import owner, save_run_button, set_owner
from ui.session import current
from ui.words import issues_text
from viz.curves import loss_figure, metric_figure

session = current()
store = default_store()
st.title(t("Saved runs"))
st.caption(t("A saved run keeps the experiment, its curves and its trained weights. Reopen "
             "it, or start a new experiment from its weights: fine-tuning."))


def number(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:.0%}" if percent else f"{value:.3g}"


def when(created: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(created))


def table(runs: list[RunInfo]) -> pd.DataFrame:
    return pd.DataFrame([{
        t("Name"): r.name, t("Saved"): when(r.created), t("Experiment"): r.experiment,
        t("Steps"): int(r.figure("step") or 0), t("Test loss"): number(r.figure("test_loss")),
        t("Test accuracy"): number(r.figure("test_accuracy"), percent=True)} for r in runs])


def starting_weights() -> None:
    """What the current experiment's starting weights did, when it starts from a run."""
    init = session.exp.train.init_from
    if init is None:
        return
    st.subheader(t("Starting weights"))
    try:
        report = session.get_trainer().init_report
    except (RunError, ValueError) as e:
        st.error(str(e), icon=":material/error:")
        return
    if report is not None:
        st.markdown("\n".join(f"- {line}" for line in report.lines()))


# saving -------------------------------------------------------------------------------
with st.container(horizontal=True, vertical_alignment="center"):
    st.markdown(t("**Current run:** {name}", name=session.title))
    save_run_button(session, key="runs-save")
starting_weights()

try:
    runs, problems = store.scan(owner(session))
except RunError as e:
    st.error(str(e), icon=":material/error:")
    st.stop()
for line in problems:
    st.warning(line, icon=":material/report:")

st.subheader(t("Your runs"))
if not runs:
    st.info(t("No saved runs yet. Train an experiment, then press \u201cSave this run\u201d "
              "here or on the Train page."), icon=":material/inventory_2:")
else:
    st.table(table(runs), hide_index=True)

with st.expander(t("Your saved-runs key"), expanded=False):
    st.caption(t("Saved runs belong to this browser session. Copy this key to reach them "
                 "from another session, or paste a key you kept."))
    st.code(owner(session), language=None)
    with st.form("runs-key-form", border=False, clear_on_submit=True):
        typed = st.text_input(t("Use a key"), key="runs-key")
        if st.form_submit_button(t("Use this key")):
            problem = set_owner(session, typed)
            if problem:
                st.error(problem)
            else:
                st.rerun()

if not runs:
    st.stop()

by_id = {r.id: r for r in runs}
pick = st.session_state.get("runs-pick")
if pick not in by_id:
    st.session_state["runs-pick"] = runs[0].id
run_id = st.selectbox(t("Run"), list(by_id), key="runs-pick",
                      format_func=lambda i: f"{by_id[i].name} ({when(by_id[i].created)})")
info = by_id[run_id]

try:
    saved: SavedRun = store.load(run_id, owner(session))
except RunError as e:
    st.error(str(e), icon=":material/error:")
    st.stop()

# reopen, rename, delete -----------------------------------------------------------------
left, name_col, rename_col, right = st.columns([2, 3, 1.2, 1.2], vertical_alignment="bottom")
if left.button(t("Open this experiment"), key="runs-open", icon=":material/open_in_new:",
               help=t("Make it the current experiment, to train it again or change it.")):
    issues = session.open(saved.spec)
    if issues:
        st.error(issues_text(issues))
    else:
        st.success(t("\u201c{name}\u201d is the current experiment; its curves are below.",
                     name=info.name))
new_name = name_col.text_input(t("New name"), value=info.name, key=f"runs-name-{run_id}",
                               max_chars=120)
if rename_col.button(t("Rename"), key="runs-rename", icon=":material/edit:"):
    try:
        store.rename(run_id, owner(session), new_name)
    except RunError as e:
        st.error(str(e))
    else:
        st.rerun()
confirm = st.session_state.get("runs-confirm") == run_id
if not confirm and right.button(t("Delete"), key="runs-delete", icon=":material/delete:"):
    st.session_state["runs-confirm"] = run_id
    st.rerun()
if confirm:
    st.warning(t("Delete \u201c{name}\u201d and its weights for good?", name=info.name))
    yes, no = st.columns(2)
    if yes.button(t("Yes, delete it"), key="runs-delete-yes", type="primary"):
        st.session_state.pop("runs-confirm", None)
        try:
            store.delete(run_id, owner(session))
        except RunError as e:
            st.error(str(e))
        else:
            st.rerun()
    if no.button(t("Keep it"), key="runs-delete-no"):
        st.session_state.pop("runs-confirm", None)
        st.rerun()

# its curves ---------------------------------------------------------------------------
snap = saved.snapshot()
a, b = st.columns(2)
a.plotly_chart(loss_figure(snap), key="runs-loss")
b.plotly_chart(metric_figure(snap), key="runs-metric")

# fine-tuning ------------------------------------------------------------------------------
st.subheader(t("Fine-tune from this run"))
st.caption(t("A new experiment starts from this run's weights: nodes with the same name and "
             "shape are copied, frozen nodes are not trained, and the output layer adapts to "
             "the new data set's classes."))
spec = saved.spec.to_dict()
category = DATASETS.get(spec["data"]["name"]).category
choices = [d.name for d in DATASETS if d.category == category]
data = st.selectbox(t("Data set"), choices, index=choices.index(spec["data"]["name"]),
                    format_func=lambda n: t(DATASETS.get(n).title), key="runs-ft-data")
nodes = trainable_nodes(spec)
freeze = st.multiselect(t("Frozen nodes"), nodes, default=nodes[:-1], key="runs-ft-freeze",
                        help=t("Their weights stay as saved; usually every layer but the "
                               "last."))
if st.button(t("Start fine-tuning"), key="runs-ft-start", type="primary",
             icon=":material/model_training:"):
    name = t("{name}, fine-tuned on {data}", name=saved.spec.meta.name,
             data=t(DATASETS.get(data).title))
    issues = session.open(fine_tune_spec(spec, run_id, data, freeze, name=name))
    if issues:
        st.error(issues_text(issues))
    else:
        st.success(t("The new experiment is ready: train it on the Train page."),
                   icon=":material/check_circle:")
        starting_weights()
