"""Playground: the quick path for small problems, after TensorFlow Playground: 2-D
problems drawn over the plane, 1-D regressions drawn as a curve over the points.

Every control edits the session's experiment (so undo, share links and the
other pages see the same thing); the pictures come from the boundary probe,
which the session's trainer always records for this page. The layout is made
for a projector: at 1024×768 with the sidebar open the output map is on screen
without scrolling, and no label, value or button is cut.
"""

from __future__ import annotations

import copy
import random
import weakref
from typing import Any

import numpy as np
import streamlit as st

from engine.data import DATASETS, load_data
from engine.data.features import FEATURES
from engine.i18n import N_, t
from engine.mlp import (
    activation,
    activations,
    drawable,
    hidden_units,
    is_line,
    is_mlp,
    penalty,
    playground_sets,
    with_dataset,
    with_layers,
    with_penalty,
)
from engine.probes.boundary import Boundary
from engine.spec import DataSpec
from engine.trainer import Snapshot
from ui.controls import WATCH_SPEED, progress, run_controls, speed_control
from ui.inline_image import inline_image
from ui.live import ACTIVE, cached_figure, live
from ui.names import SHORT_TITLES
from ui.names import shown as word
from ui.present import figure_height, presenting
from ui.session import Session, current
from ui.words import issue_text
from viz.axes import sig
from viz.curves import confusion_figure, loss_figure
from viz.network import (
    network_height,
    network_png,
    network_tips,
    output_png,
    output_tips,
    thumbnail,
)

LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
PENALTY_RATES = (0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
ACTIVATIONS = ("relu", "tanh", "sigmoid", "identity", "leaky_relu", "elu", "gelu", "silu")
OPTIMIZERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw")
LOSSES = {"classification": ("cross_entropy", "bce", "mse"),
          "regression": ("mse", "mae", "huber")}
# In the drop-downs 0 stands for None (until paused): widgets and their tests handle a
# None option as "nothing chosen".
UNTIL_PAUSED = 0
# The two pictures are what a class watches: at the default refresh (0.5 s) they are
# redrawn every 0.2 s, as often as the probe records them, and cost little to draw; the
# scores and the loss chart keep the slower pace, which keeps the training thread's share.
PICTURE_PACE = 0.4
EPOCH_CHOICES = (UNTIL_PAUSED, 10, 30, 100, 300, 1000, 3000)
FEATURE_LABELS = {"x1": "x₁", "x2": "x₂", "x1^2": "x₁²", "x2^2": "x₂²", "x1x2": "x₁x₂",
                  "sin_x1": "sin(x₁)", "sin_x2": "sin(x₂)"}
MAX_LAYER_UNITS = 64
MAX_LAYERS = 10
LAYERS_PER_ROW = 2  # per-layer controls side by side; more would cut their words at 1024 px
DATA_PER_ROW = 4
MAP_SIDE = 260  # pixels; the output map is square, and fits under the controls at 768 px


def apply(session: Session, spec: dict[str, Any]) -> None:
    issues = session.apply(spec)
    if issues:
        st.session_state["pg-issues"] = [issue_text(i) for i in issues]
    st.rerun()


def _set(spec: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    s = copy.deepcopy(spec)
    target = s
    for k in path[:-1]:
        target = target.setdefault(k, {})
    target[path[-1]] = value
    return s


def plural(n: int, one: str, many: str, **kw: object) -> str:
    """``one`` or ``many`` (each a t() key with ``{n}``) by the count."""
    return t(one if n == 1 else many, n=n, **kw)


def number(x: float) -> str:
    """A rate as written by a person: 0.00001, 0.003, 3 (never 1e-05 or 3.0)."""
    return np.format_float_positional(float(x), trim="-")


def percent(x: float) -> str:
    return f"{100 * x:.3g}%"


# the controls ----------------------------------------------------------------------------
@st.cache_data(max_entries=64)
def thumb(name: str, noise: float) -> bytes:
    data = load_data(DataSpec(name=name, params={"n_samples": 300, "noise": noise}))
    if data.points_train is not None:
        labels = (data.y_train.numpy() if data.kind == "classification"
                  else data.y_train[:, 0].numpy())
        return thumbnail(data.points_train, labels, data.kind, data.domain)
    # A 1-D set: its points (x, y) on the plane, coloured by y.
    x, y = data.x_train[:, 0].numpy(), data.y_train[:, 0].numpy()
    pad = 0.1 * (float(y.max() - y.min()) or 1.0)
    domain = (float(x.min()), float(x.max()), float(y.min()) - pad, float(y.max()) + pad)
    return thumbnail(np.stack([x, y], 1), y, "regression", domain)


def settings(session: Session, spec: dict[str, Any]) -> None:
    """The run's settings in three rows of three, so each value is whole at 1024 px."""
    rows = [st.columns(3) for _ in range(3)]
    c = [cell for row in rows for cell in row]
    lr = spec["train"]["optimizer"]["lr"]
    rates = sorted({*LEARNING_RATES, lr})
    new_lr = c[0].selectbox(t("Learning rate"), rates, index=rates.index(lr),
                            format_func=number, key=f"pg-lr-{lr}")
    act_now = activation(spec)
    acts = ACTIVATIONS if act_now in ACTIVATIONS else (*ACTIVATIONS, act_now)
    act = c[1].selectbox(t("Activation"), acts, index=acts.index(act_now),
                         format_func=word, key=f"pg-activation-{act_now}",
                         help=t("Every hidden layer's activation; each layer can have its own "
                                "below the network."))
    speed_control(session, c[2])

    kind_now, rate_now = penalty(spec)
    kinds = ("none", "l1", "l2")
    kind = c[3].selectbox(t("Regularisation"), kinds, index=kinds.index(kind_now or "none"),
                          format_func=lambda k: t("none") if k == "none" else k.upper(),
                          key=f"pg-penalty-{kind_now}")
    kind = None if kind == "none" else kind
    if kind_now is None:
        c[4].selectbox(t("Regularisation rate"), (t("off"),), disabled=True,
                       key="pg-penalty-rate-off")
        rate = rate_now
    else:
        rates_r = sorted({*PENALTY_RATES, rate_now})
        rate = c[4].selectbox(t("Regularisation rate"), rates_r, index=rates_r.index(rate_now),
                              format_func=number, key=f"pg-penalty-rate-{rate_now}")
    epochs_control(session, spec, c[5])

    problem_now = DATASETS.get(spec["data"]["name"]).kind
    problems = ("classification", "regression")
    problem = c[6].selectbox(t("Problem type"), problems, index=problems.index(problem_now),
                             format_func=word, key=f"pg-problem-{problem_now}")
    opt_now = spec["train"]["optimizer"]["name"]
    opt = c[7].selectbox(t("Optimizer"), OPTIMIZERS, index=OPTIMIZERS.index(opt_now),
                         format_func=word, key=f"pg-optimizer-{opt_now}")
    losses = LOSSES[problem_now]
    loss_now = spec["train"].get("loss") or losses[0]
    loss = c[8].selectbox(t("Loss"), losses, index=losses.index(loss_now)
                          if loss_now in losses else 0, format_func=word,
                          key=f"pg-loss-{loss_now}")

    if problem != problem_now:
        apply(session, with_dataset(spec, playground_sets(problem)[0]))
    new = _set(spec, ("train", "optimizer", "lr"), new_lr)
    new = _set(new, ("train", "optimizer", "name"), opt)
    if (kind, rate) != (kind_now, rate_now):
        new = with_penalty(new, kind, rate)
    if loss != loss_now:
        new = _set(new, ("train", "loss"), loss)
        new = with_layers(new, hidden_units(new))  # bce needs one output unit
    if act != act_now:
        new = with_layers(new, hidden_units(new), act)
    if new != spec:
        apply(session, new)


def epochs_control(session: Session, spec: dict[str, Any], where: Any) -> None:
    now = spec["train"]["epochs"] or UNTIL_PAUSED
    choices = EPOCH_CHOICES if now in EPOCH_CHOICES else (
        UNTIL_PAUSED, *sorted({*EPOCH_CHOICES[1:], now}))
    epochs = where.selectbox(
        t("Train for"), choices, index=choices.index(now), key=f"pg-epochs-{now}",
        format_func=lambda e: t("until paused") if e == UNTIL_PAUSED else plural(
            e, N_("{n} epoch"), N_("{n} epochs")),
        help=t("Until paused: training goes on until you press Pause or Stop."))
    if epochs != now:
        apply(session, _set(spec, ("train", "epochs"), epochs or None))


def data_panel(session: Session, spec: dict[str, Any]) -> None:
    name = spec["data"]["name"]
    params = spec["data"].get("params", {})
    st.markdown(f"**{t('Data')}**")
    choices = playground_sets(DATASETS.get(name).kind)
    for start in range(0, len(choices), DATA_PER_ROW):
        cols = st.columns(DATA_PER_ROW)
        for col, d in zip(cols, choices[start:start + DATA_PER_ROW], strict=False):
            with col:
                st.image(thumb(d, float(params.get("noise", 0.0))), width=64)
                chosen = d == name
                title = DATASETS.get(d).title
                if st.button(t(SHORT_TITLES.get(d, title)), key=f"pg-data-{d}", help=t(title),
                             type="primary" if chosen else "secondary", disabled=chosen,
                             width="stretch"):
                    apply(session, with_dataset(spec, d))
    c = st.columns(3)
    share_now, noise_now = round(params.get("train_ratio", 0.5) * 100), round(
        params.get("noise", 0.0) * 100)
    ratio = c[0].slider(t("Training share (%)"), 10, 90, share_now, step=10,
                        key=f"pg-ratio-{share_now}")
    noise = c[1].slider(t("Noise (%)"), 0, 50, noise_now, step=5, key=f"pg-noise-{noise_now}")
    batch = c[2].slider(t("Batch size"), 1, max(30, spec["train"]["batch_size"]),
                        spec["train"]["batch_size"], key=f"pg-batch-{spec['train']['batch_size']}")
    # Only a control the user moved is written: a parameter left to its data set's default
    # stays out of the spec, so opening the page never edits the experiment.
    new = spec
    if ratio != share_now:
        new = _set(new, ("data", "params", "train_ratio"), ratio / 100)
    if noise != noise_now:
        new = _set(new, ("data", "params", "noise"), noise / 100)
    if batch != spec["train"]["batch_size"]:
        new = _set(new, ("train", "batch_size"), batch)
    if new != spec:
        apply(session, new)
    if st.button(t("Regenerate"), key="pg-regen", help=t("New random points (data seed).")):
        apply(session, _set(spec, ("data", "seed"), random.randrange(1, 10_000)))
    features_panel(session, spec)


def features_panel(session: Session, spec: dict[str, Any]) -> None:
    st.markdown(f"**{t('Features')}**")
    if is_line(spec["data"]["name"]):
        st.caption(t("One input, x: the network learns y from x alone."))
        return
    chosen = spec["data"].get("features") or ["x1", "x2"]
    cols = st.columns(4)
    # The key carries the box's state, so an outside edit (undo) re-draws it.
    picked = [f for i, f in enumerate(FEATURES)
              if cols[i % 4].checkbox(FEATURE_LABELS[f], f in chosen,
                                      key=f"pg-feature-{f}-{f in chosen}")]
    if picked and picked != chosen:
        apply(session, with_layers(_set(spec, ("data", "features"), picked),
                                   hidden_units(spec)))
    elif not picked:
        st.warning(t("Choose at least one input feature."))


def layer_controls(session: Session, spec: dict[str, Any]) -> None:
    units = hidden_units(spec)
    c = st.columns([1, 1, 3], vertical_alignment="center")
    if c[0].button("+", key="pg-add-layer", help=t("Add a hidden layer"),
                   disabled=len(units) >= MAX_LAYERS, width="stretch"):
        apply(session, with_layers(spec, [*units, units[-1] if units else 4]))
    if c[1].button("−", key="pg-remove-layer", help=t("Remove the last hidden layer"),
                   disabled=not units, width="stretch"):
        apply(session, with_layers(spec, units[:-1]))
    c[2].markdown("**" + plural(len(units), N_("{n} hidden layer"), N_("{n} hidden layers")) + "**")
    acts = activations(spec)
    for start in range(0, len(units), LAYERS_PER_ROW):
        cols = st.columns(LAYERS_PER_ROW)
        for col, i in zip(cols, range(start, min(start + LAYERS_PER_ROW, len(units))),
                          strict=False):
            with col:
                layer_control(session, spec, units, acts, i)


def layer_control(session: Session, spec: dict[str, Any], units: list[int], acts: list[str],
                  i: int) -> None:
    n = units[i]
    a, b = st.columns(2)
    if a.button("+", key=f"pg-add-{i}", disabled=n >= MAX_LAYER_UNITS, width="stretch",
                help=t("One more neuron in hidden layer {k}", k=i + 1)):
        apply(session, with_layers(spec, units[:i] + [n + 1] + units[i + 1:]))
    if b.button("−", key=f"pg-remove-{i}", disabled=n <= 1, width="stretch",
                help=t("One neuron fewer in hidden layer {k}", k=i + 1)):
        apply(session, with_layers(spec, units[:i] + [n - 1] + units[i + 1:]))
    options = ACTIVATIONS if acts[i] in ACTIVATIONS else (*ACTIVATIONS, acts[i])
    # The key carries the current value, so an edit elsewhere (the global activation,
    # undo) re-draws this box instead of fighting it.
    chosen = st.selectbox(plural(n, N_("Layer {k}: 1 neuron"), N_("Layer {k}: {n} neurons"),
                                 k=i + 1),
                          options,
                          key=f"pg-act-{i}-{acts[i]}", index=options.index(acts[i]),
                          format_func=word)
    if chosen != acts[i]:
        apply(session, with_layers(spec, units, acts[:i] + [chosen] + acts[i + 1:]))


def stop_conditions(session: Session, spec: dict[str, Any]) -> None:
    c = st.columns(2)
    now = spec["train"]["epochs"]
    until_paused = c[0].toggle(t("Train until paused"), now is None, key=f"pg-unbudgeted-{now}",
                               help=t("No epoch budget: training goes on until you press "
                                      "Pause or Stop."))
    epochs = c[0].number_input(t("Epoch budget"), 1, 1_000_000, now or 100,
                               disabled=until_paused, key=f"pg-budget-{now}")
    patience_now = spec["train"]["early_stopping"].get("patience") or 0
    patience = c[1].number_input(t("Early stopping patience (0 = off)"), 0, 10_000,
                                 patience_now, key=f"pg-patience-{patience_now}")
    new = _set(spec, ("train", "epochs"), None if until_paused else int(epochs))
    new = _set(new, ("train", "early_stopping", "patience"), int(patience) or None)
    if new != spec:
        apply(session, new)


# the pictures ----------------------------------------------------------------------------
def boundary_of(session: Session, s: Snapshot) -> dict[str, Any] | None:
    """The newest pictures' data, never nothing while there was something: from the probe
    while training; computed here when the trainer holds still and the probe's pictures
    are older than its weights (a fresh or reset trainer, a pause after Step: the probe
    records at most every 0.2 s); else (a run about to start) the last one this trainer
    had. A paused trainer's thread waits, and a Playground model has only linear layers
    (eval and train mode compute the same), so reading it here is safe."""
    trainer = session.get_trainer()
    found = s.probes.get("boundary")
    still = not trainer.alive or s.status == "paused"
    if still and (found is None or found.get("step") != s.step):
        made = st.session_state.get("pg-made")
        if made is not None and made[0] == s.version:
            found = made[1]
        else:
            probe = Boundary(every=1)
            probe.record(trainer)
            found = probe.result()
            st.session_state["pg-made"] = (s.version, found)
    last = st.session_state.get("pg-last-boundary")
    if found is not None:
        # Held weakly: a trainer replaced by an edit is not kept alive by its picture.
        st.session_state["pg-last-boundary"] = (weakref.ref(trainer), found)
        return found
    return last[1] if last is not None and last[0]() is trainer else None


def columns_of(session: Session) -> list[tuple[str, list[str]]]:
    trainer = session.get_trainer()
    if trainer.data.points_train is None:
        inputs = ["x"]
    else:
        inputs = [FEATURE_LABELS.get(f, f) for f in session.exp.data.features or ["x1", "x2"]]
    cols = [(t("input"), inputs)]
    for info in trainer.plan.nodes:
        cols.append((info.id, [f"#{k + 1}" for k in range(info.out_shape[0])]))
    return cols


def scale() -> float:
    return figure_height(100) / 100


def scores(s: Snapshot) -> None:
    """The latest losses and accuracy as one or two short lines (metrics would cut)."""
    f = s.final
    if "test_loss" not in f:
        st.markdown(t("Test loss **–** · train **–**"))
        return
    lines = [t("Test loss **{test}** · train **{train}**", test=sig(f["test_loss"]),
               train=sig(f["train_loss"]))]
    if "test_accuracy" in f:
        lines.append(t("Test accuracy **{test}** · train **{train}**",
                       test=percent(f["test_accuracy"]), train=percent(f["train_accuracy"])))
    st.markdown("  \n".join(lines))


def main() -> None:
    session = current()
    if not session.speed_chosen:  # the Playground is for watching: a run lasts a while
        session.set_speed(WATCH_SPEED, chosen=False)
    spec = session.exp.to_dict()
    if not (drawable(spec["data"]["name"]) and is_mlp(spec)):
        st.title(t("Playground"))
        st.info(t("The Playground shows small problems (a 2-D plane or a 1-D curve) learned by "
                  "a plain stack of layers. This experiment ({name}) is something else: train "
                  "it on the Train page, or open the Playground's default.",
                  name=session.title))
        if st.button(t("Open the spiral"), key="pg-open-default"):
            from engine.presets import load_preset

            apply(session, load_preset("spiral").to_dict())
        return
    for message in st.session_state.pop("pg-issues", []):
        st.error(message)

    run_controls(session, "pg")
    if not presenting():
        settings(session, spec)
    else:
        speed_control(session, st)
    net_col, out_col = st.columns([1.25, 1])
    data = session.get_trainer().data
    columns = columns_of(session)
    kind = data.kind
    line = data.points_train is None

    # The two pictures are images carried in the page: the browser swaps an image in
    # place (ui/inline_image.py), where a plotly chart given a new figure is mounted again,
    # blank meanwhile and at a greater cost (viz/network.py; a class's pages share the
    # server's cores). Held still, they carry the words a pointer shows over each weight,
    # neuron and point; while a run goes on those would be gone before anyone could read
    # them.
    def draw_network(s: Snapshot) -> None:
        b = boundary_of(session, s)
        if b is None:
            return
        out = b["output"]
        single = out[1] - out[0] if kind == "classification" and len(out) == 2 else (
            out[0] if kind == "regression" else None)
        single = None if single is None else single[None]
        height = network_height(columns, scale())
        weights = b.get("weights", {})
        png = cached_figure(f"pg-net-png-{height}", (columns, b), lambda: network_png(
            columns, b["nodes"], weights, single, height=height))
        tips = () if s.status in ACTIVE else cached_figure(
            f"pg-net-tips-{height}", (columns, b),
            lambda: network_tips(columns, weights, height=height))
        # The key names the picture for a lesson's frame and the browser tests.
        inline_image(png, key="pg-network", alt=t("The network"), tips=tips)

    def draw_map(s: Snapshot) -> None:
        # The map goes first in its column, so it is on screen at 1024×768; its switches
        # (read now, drawn under it) and the scores follow.
        show_test = bool(st.session_state.get("pg-show-test", False))
        discretize = bool(st.session_state.get("pg-discretize", False)) and not line
        b = boundary_of(session, s)
        if b is None:
            return
        if line:
            pts, test_pts = data.x_train.numpy(), data.x_test.numpy()
        else:
            pts, test_pts = data.points_train, data.points_test
        labels = data.y_train.numpy() if kind == "classification" else (
            data.y_train[:, 0].numpy())
        test_labels = data.y_test.numpy() if kind == "classification" else (
            data.y_test[:, 0].numpy())
        shown = (b, kind, pts, labels, test_pts if show_test else None,
                 test_labels if show_test else None)
        side = figure_height(MAP_SIDE)
        png = cached_figure(f"pg-out-png{side}", (*shown, discretize),
                            lambda: output_png(*shown, discretize=discretize, size=side))
        tips = () if s.status in ACTIVE else cached_figure(
            f"pg-out-tips{side}", shown, lambda: output_tips(*shown, size=side))
        inline_image(png, key="pg-output", width=side, alt=t("Decision boundary"), tips=tips)

    def draw_scores(s: Snapshot) -> None:
        v = s.version
        scores(s)
        progress(s)
        st.plotly_chart(cached_figure("pg-loss", v, lambda: _small(loss_figure(s), legend=True)),
                        key="pg-loss-curve", config={"displayModeBar": False})
        ev = s.probes.get("evaluation")
        if ev is not None and ev.get("kind") == "classification":
            st.plotly_chart(cached_figure("pg-cm", ev, lambda: _small(confusion_figure(ev))),
                            key="pg-confusion", config={"displayModeBar": False})

    # Each live area is a fragment inside its own column: a fragment may only redraw
    # what it owns, or its elements would pile up in the outer column.
    with net_col:
        live(session, draw_network, "pg-live-net", slower=PICTURE_PACE)
        # Under the drawing, so both pictures are on screen at 1024×768.
        layer_controls(session, spec)
    with out_col:
        live(session, draw_map, "pg-live-map", slower=PICTURE_PACE)
        # One above the other: side by side their words are cut at 1024 px.
        st.toggle(t("Show test data"), key="pg-show-test")
        if not line:
            st.toggle(t("Discretize"), key="pg-discretize",
                      help=t("Show each point's class only, not how sure the network is."))
        live(session, draw_scores, "pg-live-out")
    if presenting():
        return
    data_panel(session, spec)
    with st.expander(t("Stop conditions and seed")):
        stop_conditions(session, spec)
        st.caption(t("Initial weights come from seed {seed}; Reset keeps them, New weights "
                     "draws others.", seed=session.exp.train.seed))


def _small(fig: Any, legend: bool = False) -> Any:
    """A chart for a narrow column. With ``legend`` (which line is train, which test) the
    legend takes the title's place at the top, where it overlaps no axis."""
    fig.update_layout(height=figure_height(260 if legend else 240),
                      margin=dict(l=10, r=10, t=10 if legend else 30, b=10))
    if legend:
        fig.update_layout(title=None, showlegend=True,
                          legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom"))
    return fig


main()
