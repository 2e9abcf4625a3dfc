"""A preset's lesson in steps, beside the plots: what to read, a button that makes the
step's change (an ordinary edit: undo takes it back), and the chart to watch.

The steps sit in the sidebar under the experiment's name, and at the top of the page in
presentation mode. The step reached is kept in the address (``?step=2``), so a link
opens the class at the same step.
"""

from __future__ import annotations

import hashlib
import json
import re

import streamlit as st

from engine.edits import apply_edit
from engine.errors import SpecError
from engine.i18n import N_, t
from engine.spec import LessonStep
from engine.validate import load_experiment
from ui.pages import PAGES
from ui.session import Session
from ui.words import issues_text

PARAM = "step"  # the query parameter (1 = the first step); ui/session.sync_url keeps it
STATE = "np-step"  # (which lesson, the step's index)
ERROR = "np-step-error"  # why the last step's button changed nothing
HIGHLIGHT = "outline: 3px solid #f0a020; outline-offset: 4px; border-radius: 0.5rem;"

# The charts a step can point at, by their Streamlit key (a step's ``watch`` is
# "<page path>/<chart key>", e.g. "inside/flow-heatmap").
CHARTS = {
    "flow-heatmap": N_("Gradient flow"),
    "flow-lines": N_("Gradient flow over time"),
    "flow-bars": N_("Gradient flow by layer"),
    "act-mean": N_("Activation means"),
    "act-std": N_("Activation spread"),
    "act-dead": N_("Dead units"),
    "act-sat": N_("Saturated units"),
    "train-loss": N_("Loss curves"),
    "train-metric": N_("Accuracy curves"),
    "train-grad": N_("Gradient norm per layer"),
    "train-outcome": N_("Predictions"),
    "pg-output": N_("Decision boundary"),
    "pg-network": N_("The network"),
    "pg-loss-curve": N_("Loss curve"),
}


def lesson_steps(session: Session) -> list[LessonStep]:
    """The steps of the lesson in use (an edited experiment keeps its lesson's steps)."""
    return list(session.exp.meta.steps or session.origin.meta.steps)


def _lesson_key(steps: list[LessonStep]) -> str:
    raw = json.dumps([s.model_dump() for s in steps], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def step_index(steps: list[LessonStep]) -> int:
    """The step reached (from 0): from the address on a session's first look, from 0 for
    a lesson opened later."""
    key = _lesson_key(steps)
    state = st.session_state.get(STATE)
    if state is None:
        raw = str(st.query_params.get(PARAM) or "1")
        index = int(raw) - 1 if raw.isdigit() else 0
    elif state[0] != key:
        index = 0
    else:
        index = state[1]
    index = max(0, min(index, len(steps) - 1))
    st.session_state[STATE] = (key, index)
    return index


def _move(to: int) -> None:
    key, _ = st.session_state[STATE]
    st.session_state[STATE] = (key, to)
    st.session_state.pop(ERROR, None)


def _apply(session: Session, step: LessonStep) -> None:
    try:
        issues = session.apply(apply_edit(session.exp, step.edit))
    except SpecError as e:
        issues = e.issues
    if issues:
        st.session_state[ERROR] = t("This step's change cannot be made; nothing was "
                                    "changed:") + "\n\n" + issues_text(issues)
    else:
        st.session_state.pop(ERROR, None)


def applied(session: Session, step: LessonStep) -> bool:
    """Whether the experiment already has the step's change."""
    try:
        return load_experiment(apply_edit(session.exp, step.edit)) == session.exp
    except SpecError:
        return False


def watch_target(watch: str) -> tuple[str | None, str | None, str]:
    """A step's ``watch`` as (page file, page title, chart name); parts it does not name
    are None ("" for no chart)."""
    page_path, _, chart = watch.partition("/")
    page = next((p for p in PAGES if p.path == page_path), None)
    name = t(CHARTS[chart]) if chart in CHARTS else ""
    if page is None:
        return None, None, name
    return f"views/{page.file}", t(page.title), name


def _watch(step: LessonStep) -> None:
    if not step.watch:
        return
    file, title, chart = watch_target(step.watch)
    # A step may come from anyone's link: only a key's own characters reach the style.
    chart_key = re.sub(r"[^A-Za-z0-9_-]", "-", step.watch.partition("/")[2])
    if chart_key:
        # The chart to watch is framed wherever it is drawn, while this step is shown.
        st.html(f"<style>.st-key-{chart_key} {{ {HIGHLIGHT} }}</style>")
    if file is None:
        return
    # The chart's name wraps in a caption; the link itself stays as short as a page title,
    # so nothing is cut in a narrow sidebar.
    if chart:
        st.caption(":material/visibility: " + t("Watch: {chart}", chart=chart))
    st.page_link(file, label=title, icon=":material/arrow_forward:")


def keep_in_url(steps: list[LessonStep], index: int) -> None:
    value = str(index + 1) if steps else None
    if value and st.query_params.get(PARAM) != value:
        st.query_params[PARAM] = value
    elif not value and PARAM in st.query_params:
        del st.query_params[PARAM]


def lesson_panel(session: Session, top: bool = False) -> None:
    """The lesson's steps: in the sidebar, or (``top``) across the top of a presented page.
    Keeps ``?step=`` in the address; draws nothing for a lesson without steps."""
    steps = lesson_steps(session)
    if not steps:
        keep_in_url(steps, 0)
        return
    i = step_index(steps)
    keep_in_url(steps, i)
    step = steps[i]
    box = st.container(border=True, key="lesson-top" if top else "lesson-side")
    with box:
        st.markdown(f"**{t('Step {n} of {total}', n=i + 1, total=len(steps))}** · "
                    f"{t(step.text)}")
        row = st.container(horizontal=True, vertical_alignment="center")
        if step.button and step.edit:
            done = applied(session, step)
            row.button(t(step.button), key="lesson-apply", type="primary", disabled=done,
                       on_click=_apply, args=(session, step),
                       help=t("Done: Undo takes it back.") if done else
                       t("Makes this change to the experiment (Undo takes it back)."))
        row.button(t("Back"), key="lesson-back", disabled=i == 0, on_click=_move,
                   args=(i - 1,), icon=":material/chevron_left:")
        row.button(t("Next"), key="lesson-next", disabled=i == len(steps) - 1,
                   on_click=_move, args=(i + 1,), icon=":material/chevron_right:")
        _watch(step)
        error = st.session_state.get(ERROR)
        if error:
            st.error(error)
