"""Inside training: gradient flow with verdicts and cures, activation health,
histograms over time, and the same network under each optimizer."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from engine.compare import ALL as ALL_OPTIMIZERS
from engine.compare import compare_optimizers
from engine.cures import CURE_ACTIONS
from engine.health import (
    CURES,
    DEAD_SHARE,
    EXPLODE_GROWTH,
    EXPLODE_RATIO,
    MIN_RECORDINGS,
    SATURATED_SHARE,
    VANISH_RATIO,
    WINDOW,
    Health,
    assess,
)
from engine.i18n import N_, t
from engine.lab.activations import ACTIVATIONS as CURVES
from engine.lab.activations import LABELS as CURVE_LABELS
from engine.lab.activations import curve, saturated_fraction
from engine.trainer import Snapshot
from ui.controls import run_controls
from ui.live import live
from ui.session import Session, current
from ui.words import issues_text
from viz.activations import activation_figure
from viz.compare import final_table, optimizer_name, overlaid_losses
from viz.gradient_flow import (
    METRICS,
    activation_stats,
    flow_bars,
    flow_heatmap,
    flow_lines,
    histogram_over_time,
)

RULE_TITLES = {"vanishing": N_("Vanishing"), "exploding": N_("Exploding"), "dead": N_("Dead"),
               "saturated": N_("Saturated")}
# A run's status as the caption says it.
STATUS_WORDS = {"ready": N_("ready"), "running": N_("running"), "paused": N_("paused"),
                "queued": N_("queued"), "finished": N_("finished"), "stopped": N_("stopped"),
                "failed": N_("failed")}
VERDICT_WORDS = {
    "healthy": N_("Healthy: gradients reach every layer at a useful size."),
    "vanishing": N_("Vanishing gradients: the first layers get gradients far smaller than the "
                 "last, so they barely learn."),
    "exploding": N_("Exploding gradients: updates are far too large and training diverges."),
    "dead": N_("Dead units: many ReLU units never fire, so no gradient flows through them."),
    "saturated": N_("Saturated units: most sigmoid/tanh outputs sit in the flat tails, where the "
                 "derivative is almost zero."),
}


def banner(session: Session, health: Health) -> None:
    if not health.measured:
        # The engine says when there is too little to judge; the page never guesses.
        st.info(t("Not measured yet: train a few steps. A verdict needs {need} recordings of "
                  "the gradients; this run has {have}.", need=MIN_RECORDINGS,
                  have=health.recordings))
        return
    say = {"healthy": st.success, "vanishing": st.warning, "saturated": st.warning,
           "dead": st.warning, "exploding": st.error}[health.verdict]
    lines = [t(VERDICT_WORDS[health.verdict])]
    for v in health.layers:
        if v.verdict != "healthy":
            lines.append(f"- **{v.node}**: {t(v.verdict)} ({t(v.reason)})")
    say("\n".join(lines))
    if not health.cures:
        return
    st.caption(t("Usual cures (each one is an edit you can undo):"))
    # Two to a row: four labels such as "Add residual connections" side by side would be
    # cut on a 1024-pixel projector.
    cols = st.columns(2)
    for i, key in enumerate(health.cures):
        col = cols[i % 2]
        label, cure = CURE_ACTIONS[key]
        if col.button(t(label), key=f"cure-{key}"):
            issues = session.apply(cure(session.exp.to_dict()))
            if issues:
                st.error(issues_text(issues))
            else:
                st.rerun()


def explain_thresholds() -> None:
    """The rules behind each verdict, with the engine's own numbers, and their cures."""
    rules = {
        "vanishing": t("a layer's gradient is under {r} of the output layer's.",
                       r=f"{VANISH_RATIO:g}"),
        "exploding": t("a gradient is not finite, grew more than {g:g}-fold since the start, "
                       "or is over {r:g} times the output layer's; or the loss diverged.",
                       g=EXPLODE_GROWTH, r=EXPLODE_RATIO),
        "dead": t("over {p:.0%} of a ReLU layer's units were silent on every recent batch.",
                  p=DEAD_SHARE),
        "saturated": t("over {p:.0%} of a sigmoid or tanh layer's outputs sit where the "
                       "derivative is under a tenth of its peak.", p=SATURATED_SHARE),
    }
    lines = [t("Each verdict uses the median of the last {w} recordings, so a run that "
               "recovers reads healthy again. No verdict is given before {n} recordings.",
               w=WINDOW, n=MIN_RECORDINGS)]
    for verdict, rule in rules.items():
        cures = ", ".join(t(CURE_ACTIONS[c][0]) for c in CURES[verdict])
        lines.append(t("- **{verdict}**: {rule} Cures: {cures}.", verdict=t(RULE_TITLES[verdict]),
                       rule=rule, cures=cures))
    st.markdown("\n".join(lines))


def live_views(snap: Snapshot) -> None:
    session = current()
    st.caption(t("Step {step}, epoch {epoch} of {epochs} ({status})",
                 status=t(STATUS_WORDS.get(snap.status, snap.status)),
                 epoch=snap.epoch, epochs=snap.epochs, step=snap.step))
    probes = snap.probes
    flow, acts = probes.get("gradient_flow"), probes.get("activations")
    if flow is None:
        st.info(t("This experiment does not record gradient flow. Record it to see these "
                  "views."))
        if st.button(t("Record gradient flow"), key="add-flow"):
            spec = session.exp.to_dict()
            spec["probes"].append({"name": "gradient_flow", "every": 20, "params": {}})
            spec["probes"].append({"name": "activations", "every": 100, "params": {}})
            session.apply(spec)
            st.rerun()
        return
    health = assess(probes, snap.nonfinite)
    banner(session, health)
    tab_flow, tab_acts, tab_hist, tab_curve = st.tabs([
        t("Gradient flow"), t("Activation health"), t("Histograms over time"),
        t("Where the units sit")])
    with tab_flow:
        metric = st.radio(t("Show"), list(METRICS), format_func=lambda m: t(METRICS[m]),
                          horizontal=True, key="flow-metric")
        st.plotly_chart(flow_heatmap(flow, metric), key="flow-heatmap")
        left, right = st.columns(2)
        left.plotly_chart(flow_lines(flow, metric), key="flow-lines")
        right.plotly_chart(flow_bars(flow, health, metric), key="flow-bars")
    with tab_acts:
        if acts is None or not acts["nodes"]:
            st.info(t("No activation layers are recorded in this experiment."))
        else:
            left, right = st.columns(2)
            left.plotly_chart(activation_stats(acts, "mean"), key="act-mean")
            right.plotly_chart(activation_stats(acts, "std"), key="act-std")
            left.plotly_chart(activation_stats(acts, "dead"), key="act-dead")
            right.plotly_chart(activation_stats(acts, "saturated"), key="act-sat")
    with tab_hist:
        kinds = {"activations": t("activations"), "weight": t("weights"), "grad": t("gradients")}
        kind = st.radio(t("Distribution of"), list(kinds), format_func=kinds.get,
                        horizontal=True, key="hist-kind")
        source = (acts or {}).get("histograms", {}) if kind == "activations" else (
            flow.get("histograms", {}).get(kind, {}))
        if not source:
            st.info(t("Histograms appear after a few recorded steps."))
        else:
            node = st.selectbox(t("Layer"), list(source), key="hist-node")
            st.plotly_chart(histogram_over_time(source.get(node), f"{kinds[kind]}: {node}"),
                            key="hist-chart")
    with tab_curve:
        units_on_the_curve(session, acts)


def activation_of(session: Session, node: str) -> str | None:
    """The activation function a node applies (its own type or its shorthand)."""
    spec = next(n for n in session.exp.model.nodes if n.id == node)
    name = spec.type if spec.type in CURVES else spec.params.get("activation")
    return name if name in CURVES else None


def units_on_the_curve(session: Session, acts: dict | None) -> None:
    """Each layer's activation and derivative, with its latest pre-activations beneath."""
    pre = (acts or {}).get("pre", {})
    if not pre:
        st.info(t("Pre-activations appear after a few recorded steps."))
        return
    node = st.selectbox(t("Layer"), list(pre), key="curve-node")
    name = activation_of(session, node)
    if name is None:
        st.info(t("No curve is drawn for this layer's activation."))
        return
    cv = curve(name)
    st.plotly_chart(activation_figure(cv, pre[node]), key="curve-fig")
    st.caption(t("{pct}% of {node}'s pre-activations sit where {name} is saturated.",
                 pct=f"{100 * saturated_fraction(cv, pre[node]):.0f}", node=node,
                 name=t(CURVE_LABELS[name])))


def optimizer_race_on_network(session: Session) -> None:
    st.subheader(t("The same network with each optimizer"))
    names = st.multiselect(t("Optimizers"), [*ALL_OPTIMIZERS, "momentum_nesterov"],
                           default=list(ALL_OPTIMIZERS), key="cmp-names",
                           format_func=optimizer_name)
    c = st.columns(3)
    epochs = c[0].number_input(t("Epochs"), 1, 500, min(session.exp.train.epochs, 30),
                               key="cmp-epochs")
    same = c[1].checkbox(t("One learning rate for all"), key="cmp-same")
    lr = c[2].number_input(t("Learning rate"), 1e-5, 10.0, session.exp.train.optimizer.lr,
                           format="%.5f", key="cmp-lr", disabled=not same)
    if st.button(t("Compare"), key="cmp-run") and names:
        bar = st.progress(0.0)
        runs = compare_optimizers(
            session.exp, names, epochs=int(epochs), lr=lr if same else None,
            progress=lambda name, i, n: bar.progress(i / n, t("Training with {name}",
                                                                  name=optimizer_name(name))))
        bar.progress(1.0, t("Done"))
        st.session_state["cmp-runs"] = runs
    runs = st.session_state.get("cmp-runs")
    if runs:
        st.plotly_chart(overlaid_losses(runs), key="cmp-chart")
        st.table(pd.DataFrame(final_table(runs)), hide_index=True)  # wraps, never cuts


def main() -> None:
    session = current()
    st.title(t("Inside training"))
    st.caption(t("Whether gradients reach the first layers, why not, and what cures it. "
                 "Experiment: {name}", name=session.title))
    run_controls(session, "inside")
    live(session, live_views, "inside-live")
    with st.expander(t("Thresholds behind the verdicts")):
        explain_thresholds()
    optimizer_race_on_network(session)


main()
