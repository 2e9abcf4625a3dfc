"""Playground: the quick path for 2-D problems, after TensorFlow Playground.

Every control edits the session's experiment (so undo, share links and the
other pages see the same thing); the pictures come from the boundary probe.
"""

from __future__ import annotations

import random
from typing import Any

import streamlit as st

from engine.data import DATASETS, load_data
from engine.data.features import FEATURES
from engine.i18n import t
from engine.mlp import (
    activation,
    activations,
    hidden_units,
    is_mlp,
    with_dataset,
    with_layers,
)
from engine.probes.boundary import Boundary
from engine.spec import DataSpec
from engine.trainer import Snapshot
from ui.controls import progress, run_controls
from ui.live import cached_figure, live
from ui.session import Session, current
from viz.curves import confusion_figure, loss_figure
from viz.network import network_figure, output_figure, thumbnail

LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
REG_RATES = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
ACTIVATIONS = ("relu", "tanh", "sigmoid", "identity", "leaky_relu", "elu", "gelu", "silu")
FEATURE_LABELS = {"x1": "x₁", "x2": "x₂", "x1^2": "x₁²", "x2^2": "x₂²", "x1x2": "x₁x₂",
                  "sin_x1": "sin(x₁)", "sin_x2": "sin(x₂)"}
MAX_LAYER_UNITS = 64
MAX_LAYERS = 10


def apply(session: Session, spec: dict[str, Any]) -> None:
    issues = session.apply(spec)
    if issues:
        st.session_state["pg-issues"] = [str(i) for i in issues]
    st.rerun()


@st.cache_data(max_entries=64)
def thumb(name: str, noise: float) -> bytes:
    data = load_data(DataSpec(name=name, params={"n_samples": 300, "noise": noise}))
    labels = data.y_train.numpy() if data.kind == "classification" else data.y_train[:, 0].numpy()
    return thumbnail(data.points_train, labels, data.kind, data.domain)


def data_panel(session: Session, spec: dict[str, Any]) -> None:
    st.markdown(f"**{t('Data')}**")
    kind = DATASETS.get(spec["data"]["name"]).kind
    choices = [d for d in DATASETS if d.two_d and d.kind == kind]
    params = spec["data"].get("params", {})
    cols = st.columns(2)
    for i, d in enumerate(choices):
        with cols[i % 2]:
            st.image(thumb(d.name, float(params.get("noise", 0.0))), width=72)
            chosen = d.name == spec["data"]["name"]
            if st.button(("✓ " if chosen else "") + t(d.title), key=f"pg-data-{d.name}",
                         disabled=chosen, width="stretch"):
                apply(session, with_dataset(spec, d.name))
    ratio = st.slider(t("Training share (%)"), 10, 90, round(params.get("train_ratio", 0.5) * 100),
                      step=10)
    noise = st.slider(t("Noise (%)"), 0, 50, round(params.get("noise", 0.0) * 100), step=5)
    batch = st.slider(t("Batch size"), 1, max(30, spec["train"]["batch_size"]),
                      spec["train"]["batch_size"])
    new = _set(spec, ("data", "params", "train_ratio"), ratio / 100)
    new = _set(new, ("data", "params", "noise"), noise / 100)
    new = _set(new, ("train", "batch_size"), batch)
    if new != spec:
        apply(session, new)
    if st.button(t("Regenerate"), key="pg-regen", help=t("New random points (data seed).")):
        apply(session, _set(spec, ("data", "seed"), random.randrange(1, 10_000)))
    st.markdown(f"**{t('Features')}**")
    chosen = spec["data"].get("features") or ["x1", "x2"]
    picked = [f for f in FEATURES if st.checkbox(FEATURE_LABELS[f], f in chosen)]
    if picked and picked != chosen:
        apply(session, with_layers(_set(spec, ("data", "features"), picked),
                                   hidden_units(spec)))
    elif not picked:
        st.warning(t("Choose at least one input feature."))


def _set(spec: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    import copy

    s = copy.deepcopy(spec)
    target = s
    for k in path[:-1]:
        target = target.setdefault(k, {})
    target[path[-1]] = value
    return s


def layer_buttons(session: Session, spec: dict[str, Any]) -> None:
    units = hidden_units(spec)
    c = st.columns([1, 1, 4])
    if c[0].button("+", key="pg-add-layer", help=t("Add a hidden layer"),
                   disabled=len(units) >= MAX_LAYERS):
        apply(session, with_layers(spec, [*units, units[-1] if units else 4]))
    if c[1].button("−", key="pg-remove-layer", help=t("Remove the last hidden layer"),
                   disabled=not units):
        apply(session, with_layers(spec, units[:-1]))
    c[2].markdown(t("**{n} hidden layers**", n=len(units)))
    if units:
        cols = st.columns(len(units))
        for i, (col, n) in enumerate(zip(cols, units, strict=True)):
            with col:
                a, b = st.columns(2)
                if a.button("+", key=f"pg-add-{i}", disabled=n >= MAX_LAYER_UNITS):
                    apply(session, with_layers(spec, units[:i] + [n + 1] + units[i + 1:]))
                if b.button("−", key=f"pg-remove-{i}", disabled=n <= 1):
                    apply(session, with_layers(spec, units[:i] + [n - 1] + units[i + 1:]))
                st.caption(t("{n} neurons", n=n))
                acts = activations(spec)
                # The key carries the current value, so an edit elsewhere (the global
                # activation, undo) re-draws this box instead of fighting it.
                chosen = st.selectbox(t("activation"), ACTIVATIONS, key=f"pg-act-{i}-{acts[i]}",
                                      index=ACTIVATIONS.index(acts[i])
                                      if acts[i] in ACTIVATIONS else 0,
                                      label_visibility="collapsed")
                if chosen != acts[i]:
                    apply(session, with_layers(spec, units, acts[:i] + [chosen] + acts[i + 1:]))


def top_controls(session: Session, spec: dict[str, Any]) -> None:
    c = st.columns(7)
    lr = spec["train"]["optimizer"]["lr"]
    rates = sorted({*LEARNING_RATES, lr})
    new_lr = c[0].selectbox(t("Learning rate"), rates, index=rates.index(lr))
    act = c[1].selectbox(t("Activation"), ACTIVATIONS,
                         index=ACTIVATIONS.index(activation(spec))
                         if activation(spec) in ACTIVATIONS else 0)
    reg = spec["train"]["regularization"]
    kind_now = "L1" if reg.get("l1") else ("L2" if reg.get("l2") else "none")
    kind = c[2].selectbox(t("Regularisation"), ("none", "L1", "L2"),
                          index=("none", "L1", "L2").index(kind_now))
    rate_now = reg.get("l1") or reg.get("l2") or 0.0
    rates_r = sorted({*REG_RATES, rate_now})
    rate = c[3].selectbox(t("Regularisation rate"), rates_r, index=rates_r.index(rate_now),
                          disabled=kind == "none")
    problem_now = DATASETS.get(spec["data"]["name"]).kind
    problem = c[4].selectbox(t("Problem type"), ("classification", "regression"),
                             index=("classification", "regression").index(problem_now),
                             format_func=t)
    optimizers = ("sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw")
    opt = c[5].selectbox(t("Optimizer"), optimizers,
                         index=optimizers.index(spec["train"]["optimizer"]["name"]))
    losses = (("cross_entropy", "bce", "mse") if problem_now == "classification"
              else ("mse", "mae", "huber"))
    loss_now = spec["train"].get("loss") or losses[0]
    loss = c[6].selectbox(t("Loss"), losses, index=losses.index(loss_now)
                          if loss_now in losses else 0)

    if problem != problem_now:
        target = next(d.name for d in DATASETS if d.two_d and d.kind == problem)
        apply(session, with_dataset(spec, target))
    new = _set(spec, ("train", "optimizer", "lr"), new_lr)
    new = _set(new, ("train", "optimizer", "name"), opt)
    new = _set(new, ("train", "regularization"),
               {"l1": rate if kind == "L1" else 0.0, "l2": rate if kind == "L2" else 0.0})
    if loss != loss_now:
        new = _set(new, ("train", "loss"), loss)
        new = with_layers(new, hidden_units(new))  # bce needs one output unit
    if act != activation(spec):
        new = with_layers(new, hidden_units(new), act)
    if new != spec:
        apply(session, new)


def stop_conditions(session: Session, spec: dict[str, Any]) -> None:
    c = st.columns(2)
    epochs = c[0].number_input(t("Epoch budget"), 1, 100_000, spec["train"]["epochs"])
    patience = c[1].number_input(t("Early stopping patience (0 = off)"), 0, 10_000,
                                 spec["train"]["early_stopping"].get("patience") or 0)
    new = _set(spec, ("train", "epochs"), int(epochs))
    new = _set(new, ("train", "early_stopping", "patience"), int(patience) or None)
    if new != spec:
        apply(session, new)


def boundary_of(session: Session, s: Snapshot) -> dict[str, Any] | None:
    """The newest maps: from the probe while training, else computed here (the
    trainer is idle, so reading its model is safe)."""
    found = s.probes.get("boundary")
    trainer = session.get_trainer()
    if found is None and not trainer.alive:
        probe = Boundary(every=1)
        probe.record(trainer)
        found = probe.result()
    return found


def columns_of(session: Session) -> list[tuple[str, list[str]]]:
    plan = session.get_trainer().plan
    feats = session.exp.data.features or ["x1", "x2"]
    cols = [("input", [FEATURE_LABELS.get(f, f) for f in feats])]
    for info in plan.nodes:
        cols.append((info.id, [f"#{k + 1}" for k in range(info.out_shape[0])]))
    return cols


def main() -> None:
    session = current()
    spec = session.exp.to_dict()
    st.title(t("Playground"))
    if not (DATASETS.get(spec["data"]["name"]).two_d and is_mlp(spec)):
        st.info(t("The Playground shows 2-D problems learned by a plain stack of layers. This "
                  "experiment ({name}) is something else: train it on the Train page, or open "
                  "the Playground's default.", name=session.exp.meta.name))
        if st.button(t("Open the spiral"), key="pg-open-default"):
            from engine.presets import load_preset

            apply(session, load_preset("spiral").to_dict())
        return
    for message in st.session_state.pop("pg-issues", []):
        st.error(message)

    run_controls(session, "pg")
    top_controls(session, spec)
    left, middle, right = st.columns([1.1, 2.2, 1.6])
    with left:
        data_panel(session, spec)
    with middle:
        layer_buttons(session, spec)
    with right:
        show_test = st.toggle(t("Show test data"), key="pg-show-test")
        discretize = st.toggle(t("Discretize output"), key="pg-discretize")
    data = session.get_trainer().data
    columns = columns_of(session)
    kind = data.kind

    def draw_network(s: Snapshot) -> None:
        b = boundary_of(session, s)
        if b is None:
            return
        out = b["output"]
        single = out[1] - out[0] if kind == "classification" and len(out) == 2 else (
            out[0] if kind == "regression" else None)
        st.plotly_chart(cached_figure("pg-net", s.version, lambda: network_figure(
            columns, b["nodes"], b.get("weights", {}), None if single is None else single[None])),
            key="pg-network", config={"displayModeBar": False})

    def draw_output(s: Snapshot) -> None:
        b = boundary_of(session, s)
        v = s.version
        progress(s)
        tr, te = s.final.get("train_loss"), s.final.get("test_loss")
        c = st.columns(2)
        c[0].metric(t("Train loss"), "–" if tr is None else f"{tr:.3f}")
        c[1].metric(t("Test loss"), "–" if te is None else f"{te:.3f}")
        if b is not None:
            labels = data.y_train.numpy() if kind == "classification" else (
                data.y_train[:, 0].numpy())
            test_labels = data.y_test.numpy() if kind == "classification" else (
                data.y_test[:, 0].numpy())
            st.plotly_chart(cached_figure(f"pg-out{show_test}{discretize}", v, lambda: (
                output_figure(b, kind, data.points_train, labels,
                              data.points_test if show_test else None,
                              test_labels if show_test else None, discretize))),
                key="pg-output", config={"displayModeBar": False})
        st.plotly_chart(cached_figure("pg-loss", v, lambda: _small(loss_figure(s))),
                        key="pg-loss-curve", config={"displayModeBar": False})
        if "train_accuracy" in s.final:
            c = st.columns(2)
            c[0].metric(t("Train accuracy"), f"{s.final['train_accuracy']:.1%}")
            c[1].metric(t("Test accuracy"), f"{s.final['test_accuracy']:.1%}")
        ev = s.probes.get("evaluation")
        if ev is not None and ev.get("kind") == "classification":
            st.plotly_chart(cached_figure("pg-cm", v, lambda: _small(confusion_figure(ev))),
                            key="pg-confusion", config={"displayModeBar": False})

    # Each live area is a fragment inside its own column: a fragment may only redraw
    # what it owns, or its elements would pile up in the outer column.
    with middle:
        live(session, draw_network, "pg-live-net")
    with right:
        live(session, draw_output, "pg-live-out")
    with st.expander(t("Stop conditions and seed")):
        stop_conditions(session, spec)
        st.caption(t("Initial weights come from seed {seed}; Reset keeps them, New weights "
                     "draws others.", seed=session.exp.train.seed))


def _small(fig: Any) -> Any:
    fig.update_layout(height=240, margin=dict(l=10, r=10, t=30, b=10), showlegend=False)
    return fig


main()
