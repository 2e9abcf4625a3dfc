"""Compare runs: two or more runs trained side by side, their curves overlaid, their
gradient flows next to each other, and what differs between them said in words."""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from engine.errors import Issue, SpecError
from engine.health import assess
from engine.i18n import t
from engine.spec_diff import differences
from engine.trainer import Snapshot
from engine.variants import VARIANTS, applicable, label, vary
from ui.comparison import Comparison, comparison
from ui.controls import diverged, progress_text, status_text
from ui.live import cached_figure, live_interval
from ui.present import figure_height, presenting
from ui.session import Session, current
from ui.words import issues_text
from viz.compare import (
    ending_table,
    flow_panels,
    flow_profile,
    overlaid_curves,
    run_colour,
)
from viz.gradient_flow import METRICS

DEFAULT_EPOCHS = 30  # for experiments that train until paused: a comparison needs an end
P = "compare"  # widget key prefix


def show(issues: list[Issue]) -> None:
    if issues:
        st.error(issues_text(issues))


# starting and adding runs ---------------------------------------------------------------
def start_panel(session: Session, comp: Comparison) -> None:
    exp = session.exp
    title = t("Start a comparison from {name}", name=t(session.title))
    with st.expander(title, expanded=not comp.runs):
        keys = applicable(exp)
        row = st.container(horizontal=True, gap="small", vertical_alignment="bottom")
        key = row.selectbox(t("Change one setting"), keys, key=f"{P}-setting", width=300,
                            format_func=lambda k: t(VARIANTS[k].title))
        variant = VARIANTS[key]
        value = row.selectbox(t("To"), variant.choices(exp), key=f"{P}-value-{key}",
                              width=300, format_func=variant.words,
                              help=t("Now: {value}", value=label(exp, key)))
        go = row.button(t("Train both side by side"), type="primary", key=f"{P}-start",
                        width="content", help=t("Replaces the runs below with two: the "
                                                "experiment as it is, and with this change."))
        if go:
            start_comparison(session, comp, key, value)
        extra = st.container(horizontal=True, gap="small", vertical_alignment="bottom")
        if extra.button(t("Add the current experiment"), key=f"{P}-add-current",
                        width="content", disabled=comp.full,
                        help=t("Another run of the experiment as it is now on the other "
                               "pages.")):
            show(comp.add(t(session.title), exp))  # a preset's name has its translation
        saved_run_chooser(session, comp, extra)


def start_comparison(session: Session, comp: Comparison, key: str, value: object) -> None:
    exp = session.exp
    try:
        changed = vary(exp, key, value)
    except SpecError as e:
        show(e.issues)  # the runs already there stay as they were
        return
    comp.clear()
    comp.set_epochs(exp.train.epochs or DEFAULT_EPOCHS)
    issues = comp.add(label(exp, key), exp) or comp.add(label(exp, key, value), changed)
    show(issues)
    if not issues:
        comp.start()


def saved_run_chooser(session: Session, comp: Comparison, where: DeltaGenerator) -> None:
    """A saved run (from the Saved runs page) beside the others, as it ended."""
    owner = session.extras.get("owner")
    try:
        from engine.runs import RunError, default_store
    except ImportError:  # the saved-runs part is not installed
        return
    store = default_store()
    runs = store.list(owner) if isinstance(owner, str) else []
    if not runs:
        where.caption(t("Runs you save on the Saved runs page can be added here too."))
        return
    names = {r.id: r.name for r in runs}
    chosen = where.selectbox(t("Saved run"), list(names), format_func=names.get,
                             key=f"{P}-saved", width=260)
    if where.button(t("Add the saved run"), key=f"{P}-add-saved", width="content",
                    disabled=comp.full):
        try:
            saved = store.load(chosen, owner)
        except (RunError, SpecError) as e:
            st.error(str(e))
            return
        show(comp.add_saved(saved.info.name, saved.spec, saved.snapshot()))


# the runs -------------------------------------------------------------------------------
def controls(comp: Comparison) -> None:
    snaps = [s for _, s in comp.snapshots()]
    row = st.container(horizontal=True, gap="small", vertical_alignment="bottom")
    if comp.active:
        row.button(t("Pause all"), key=f"{P}-pause", type="primary", width="content",
                   on_click=comp.pause, help=t("Pause every run: Resume all goes on from "
                                               "where each one is."))
    elif comp.finished:
        row.button(t("Train all again"), key=f"{P}-again", type="primary", width="content",
                   on_click=restart, args=(comp,),
                   help=t("Every run back to its initial weights, then trained again."))
    else:
        started = any(s.step for s in snaps)
        row.button(t("Resume all") if started else t("Train all"), key=f"{P}-train",
                   type="primary", width="content", on_click=comp.start,
                   help=t("Every run trains at the same time, each in its own thread."))
    row.button(t("Reset all"), key=f"{P}-reset", width="content", on_click=comp.reset,
               help=t("Every run back to step 0 with its initial weights."))
    with row.popover(t("Remove a run"), width="content"):
        for i, run in enumerate(list(comp.runs)):
            st.button(run.label, key=f"{P}-remove-{i}", icon=":material/close:",
                      on_click=comp.remove, args=(i,), width="stretch",
                      help=t("Take this run out of the comparison."))
        st.button(t("Remove all"), key=f"{P}-clear", on_click=comp.clear, width="stretch")
    now = comp.epochs or DEFAULT_EPOCHS
    epochs = row.number_input(t("Epochs for every run"), 1, 100_000, now, key=f"{P}-epochs-{now}",
                              width=170, help=t("One budget for all, so the curves end "
                                                "together."))
    if epochs != now:
        comp.set_epochs(int(epochs))
        comp.start()
        st.rerun()


def restart(comp: Comparison) -> None:
    comp.reset()
    comp.start()


def what_differs(comp: Comparison) -> None:
    """Every other run against the first one, in words."""
    if len(comp.runs) < 2:
        return
    base = comp.runs[0]
    for run in comp.runs[1:]:
        lines = differences(base.exp, run.exp)
        if not lines:
            st.markdown(t("**{run}** is the same experiment as **{base}** (only its name or "
                          "notes differ).", run=run.label, base=base.label))
            continue
        st.markdown(t("**{run}** differs from **{base}** in:", run=run.label, base=base.label)
                    + "\n" + "\n".join(f"- {line}" for line in lines))


# live -----------------------------------------------------------------------------------
def sized(fig: object) -> object:
    if presenting():
        fig.update_layout(height=figure_height(fig.layout.height or 300))  # type: ignore[attr-defined]
    return fig


def where_words(comp: Comparison, i: int, s: Snapshot) -> str:
    """Where a run is: its progress while training, else how far it got and its state."""
    if not comp.runs[i].live:
        return t("saved run, as it ended at epoch {e}", e=s.epoch)
    if s.status in ("running", "queued"):
        return progress_text(s)
    at = (t("epoch {e} of {E} · step {step}", e=s.epoch, E=s.epochs, step=s.step) if s.epochs
          else t("epoch {e} · step {step}", e=s.epoch, step=s.step))
    health = assess(s.probes, s.nonfinite) if s.probes.get("gradient_flow") else None
    if health is None or not health.measured:
        return f"{at} · {t(s.status)}"
    # The Inside-training page's verdict, so the panels below are read the same way.
    return f"{at} · {t(s.status)} · " + t("gradients: {verdict}", verdict=t(health.verdict))


def run_rows(comp: Comparison, runs: list[tuple[str, Snapshot]]) -> None:
    """Each run in its colour in the charts, and where it is (one line each)."""
    lines = [f'<span style="color:{run_colour(i)};font-size:1.2em">■</span> '
             f"**{html.escape(name)}** · {html.escape(where_words(comp, i, s))}"
             for i, (name, s) in enumerate(runs)]
    st.markdown("  \n".join(lines), unsafe_allow_html=True)
    for name, s in runs:
        if s.error or diverged(s):
            st.error(f"{name}: {status_text(s)}")


def draw(comp: Comparison, runs: list[tuple[str, Snapshot]], metric: str) -> None:
    run_rows(comp, runs)
    if comp.active:
        st.progress(min(s.progress for _, s in runs if s.epochs) if any(
            s.epochs for _, s in runs) else 0.0, text=t("Training every run at once…"))
    what_differs(comp)
    versions = tuple(s.version for _, s in runs)
    evals = [(label_, s.evals) for label_, s in runs]
    score = "r2" if any("test_r2" in ev for _, ev in evals) and not any(
        "test_accuracy" in ev for _, ev in evals) else "accuracy"
    left, right = st.columns(2)
    left.plotly_chart(cached_figure("compare-loss", versions,
                                    lambda: sized(overlaid_curves(evals, "loss"))),
                      key=f"{P}-loss")
    right.plotly_chart(cached_figure("compare-score", versions,
                                     lambda: sized(overlaid_curves(evals, score))),
                       key=f"{P}-score")
    flows = [(label_, s.probes.get("gradient_flow")) for label_, s in runs]
    if any(f is None for _, f in flows):
        st.caption(t("Saved runs keep their curves, not their gradient flow: their panels "
                     "stay empty."))
    st.radio(t("Gradient flow shows"), list(METRICS), horizontal=True,
             format_func=lambda m: t(METRICS[m]), key=f"{P}-metric",
             label_visibility="collapsed")
    st.plotly_chart(cached_figure(f"compare-flow-{metric}", versions,
                                  lambda: sized(flow_panels(flows, metric))), key=f"{P}-flow")
    st.plotly_chart(cached_figure(f"compare-profile-{metric}", versions,
                                  lambda: sized(flow_profile(flows, metric))),
                    key=f"{P}-profile")
    st.table(pd.DataFrame(ending_table(runs)), hide_index=True)


def live_charts(comp: Comparison) -> None:
    active = comp.active
    st.session_state[f"{P}-active"] = active

    def tick() -> None:
        was = st.session_state.get(f"{P}-active", False)
        st.session_state[f"{P}-active"] = comp.active
        draw(comp, comp.snapshots(), st.session_state.get(f"{P}-metric", "grad"))
        if was and not st.session_state[f"{P}-active"]:
            st.rerun()  # every run ended: redraw the page once, timer off

    with st.container():  # one slot in the page, whatever a tick draws (ui/live.py)
        st.fragment(tick, run_every=live_interval() if active else None)()


def main() -> None:
    session = current()
    comp = comparison(session)
    st.title(t("Compare runs"))
    st.caption(t("Train two or more runs at the same time and see what one change does: "
                 "their loss and accuracy overlaid, their gradient flow side by side, and "
                 "what differs between them in words."))
    start_panel(session, comp)
    if not comp.runs:
        st.info(t("No runs yet. Choose a setting to change and press Train both side by "
                  "side; the current experiment is run beside the changed one."))
        return
    controls(comp)
    live_charts(comp)


main()
