"""Build: any model the engine can express, node by node, with its data and training.

Edits go through the session's draft: a valid edit becomes the experiment at
once; an invalid one is kept as the draft, with each problem shown once, at the
node or field it concerns, and the experiment (what Train runs) is unchanged.
Every edit, valid or not, is one undo step.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from engine.adapt import adapt_to_data, load_data_or_none
from engine.data import DATASETS, DataBundle
from engine.data.features import FEATURES
from engine.device import available_devices
from engine.errors import Issue, SpecError
from engine.graph import Plan
from engine.i18n import N_, t
from engine.layers import LAYERS
from engine.spec import InitScheme, OptimizerName, ScheduleName
from engine.tasks import TASKS
from engine.validate import check
from ui.augment_panel import augment_section
from ui.downloads import offer as offer_download
from ui.forms import FIELD, WIDE, params_form
from ui.image_upload import image_source
from ui.names import shown as choice_text
from ui.session import Session, current
from ui.uploads import csv_columns, save_upload
from ui.words import issue_text
from viz.architecture import architecture_figure, draft_figure

Spec = dict[str, Any]
REV, SEEN = "build-rev", "build-seen"
UPLOADED = "build-uploaded"  # (file id, stored path, the file's own name) of the last upload
SCHEMES: tuple[str, ...] = InitScheme.__args__  # type: ignore[attr-defined]
MODEL_DEFAULT = N_("(model default)")
FEATURE_WORDS = {"x1": "x₁", "x2": "x₂", "x1^2": "x₁²", "x2^2": "x₂²", "x1x2": "x₁x₂",
                 "sin_x1": "sin x₁", "sin_x2": "sin x₂"}
# Two panels side by side where both fit at PANEL px (a wide window), one above the other
# where they do not (a projector at 1024 px with the sidebar open). Streamlit has no
# responsive columns; its keyed containers carry a class (st-key-<key>) to size them by.
PANEL = 380
PANELS = {"build-top": ("layers", "arch"), "build-bottom": ("data", "train")}
PANELS_CSS = "<style>" + ", ".join(
    f".st-key-build-panel-{name}, .st-key-{row} > div:has(> .st-key-build-panel-{name})"
    for row, names in PANELS.items() for name in names) + (
    f" {{ flex: 1 1 0% !important; min-width: min({PANEL}px, 100%) !important; }}</style>")
# The layer-type box lists types by category, so related layers sit together.
TYPES = sorted(LAYERS.names(), key=lambda n: (LAYERS.get(n).category, n))


def fields() -> Any:
    """A row of fields that wraps onto more rows when the page is narrow."""
    return st.container(horizontal=True, vertical_alignment="bottom")


def state_of(session: Session) -> str:
    """A digest of what the page shows: the experiment and the pending draft."""
    shown = [session.exp.to_dict(), session.draft]
    return hashlib.sha1(json.dumps(shown, sort_keys=True, default=str).encode()).hexdigest()


def draft(session: Session) -> Spec:
    """The spec being edited: the pending draft, else the experiment. When either changed
    (an edit here, undo from the sidebar, a preset, another page) the widget keys change,
    so fresh widgets show it instead of stale ones reverting it."""
    seen = state_of(session)
    if st.session_state.get(SEEN) != seen:
        st.session_state[SEEN] = seen
        st.session_state[REV] = st.session_state.get(REV, 0) + 1
    if session.draft is not None:
        return copy.deepcopy(session.draft)
    return session.exp.to_dict()


def commit(session: Session, spec: Spec) -> None:
    """One edit, one undo step: valid, it becomes the experiment; invalid, the draft."""
    session.edit_draft(spec)
    st.session_state[REV] = st.session_state.get(REV, 0) + 1  # redraw even a no-op edit
    st.rerun()


def k(name: str) -> str:
    """A widget key that changes with every edit, so widgets show the current spec."""
    return f"b{st.session_state.get(REV, 0)}-{name}"


def pending(session: Session) -> list[Issue]:
    return list(session.draft_issues) if session.draft is not None else []


def issues_for(session: Session, *prefixes: str) -> list[Issue]:
    return [i for i in pending(session) if i.path.startswith(prefixes)]


def node_issues(session: Session, i: int) -> list[Issue]:
    # "model.nodes[1]" must not match "model.nodes[10]": the bracket closes the index.
    return issues_for(session, f"model.nodes[{i}]")


def problem_nodes(session: Session, spec: Spec) -> set[str]:
    return {n["id"] for i, n in enumerate(spec["model"]["nodes"]) if node_issues(session, i)}


def show_issues(issues: list[Issue]) -> None:
    for issue in issues:
        st.error(issue_text(issue))


def new_id(spec: Spec, stem: str) -> str:
    """The first free ``stem1``, ``stem2``, ...; the stem is the node's id without its
    number (hidden1 -> hidden2) or its type (conv2d -> conv1)."""
    stem = re.sub(r"[^A-Za-z_]", "", re.sub(r"([12]d|\d+)$", "", stem)) or "node"
    taken = {n["id"] for n in spec["model"]["nodes"]}
    i = 1
    while f"{stem}{i}" in taken:
        i += 1
    return f"{stem}{i}"


def type_label(name: str) -> str:
    return (f"{t(LAYERS.get(name).category)} · {choice_text(name)}" if name in LAYERS
            else name)


# -- the node list ---------------------------------------------------------------------
def init_form(node: Spec, i: int) -> dict[str, Any] | None:
    """The node's own initialisation, or None for the model-wide one."""
    own = node.get("init") or {}
    schemes = [MODEL_DEFAULT, *SCHEMES]
    c = fields()
    scheme = c.selectbox(t("Initialisation"), schemes,
                         index=schemes.index(own.get("scheme", MODEL_DEFAULT)),
                         format_func=choice_text, width=WIDE, key=k(f"{i}-init"),
                         help=t("Overrides the model-wide initialisation for this node."))
    if scheme == MODEL_DEFAULT:
        return None
    init = {**own, "scheme": scheme}
    if scheme == "normal":
        init["std"] = c.number_input(t("Standard deviation"), 1e-6, 100.0,
                                     float(own.get("std", 0.1)), format="%g", width=FIELD,
                                     key=k(f"{i}-init-std"))
    if scheme == "uniform":
        init["range"] = c.number_input(t("Half-width"), 1e-6, 100.0,
                                       float(own.get("range", 0.1)), format="%g", width=FIELD,
                                       key=k(f"{i}-init-range"))
    return init


def node_editor(session: Session, spec: Spec, i: int) -> None:
    nodes = spec["model"]["nodes"]
    node = nodes[i]
    problems = node_issues(session, i)
    title = f"{i + 1}. **{node['id']}** · {choice_text(node['type'])}"
    with st.expander(title, expanded=bool(problems), icon=":material/error:" if problems
                     else None):
        show_issues(problems)
        c = fields()
        new_name = c.text_input(t("Name"), node["id"], width=FIELD, key=k(f"{i}-id"))
        types = TYPES if node["type"] in TYPES else [node["type"], *TYPES]
        kind = c.selectbox(t("Type"), types, index=types.index(node["type"]), width=WIDE,
                           key=k(f"{i}-type"), format_func=type_label)
        lt = LAYERS.get(kind)
        chosen = node.get("inputs")
        if lt.is_merge or chosen:
            earlier = ["input", *(n["id"] for n in nodes[:i])]
            picked = c.multiselect(
                t("Reads"), earlier + [x for x in chosen or [] if x not in earlier],
                default=chosen or [], key=k(f"{i}-inputs"),  # stretch: room for chips
                placeholder=t("the previous node"),
                help=t("Merge nodes (add, concat, multiply) read two or more earlier nodes; "
                       "'input' is the data. Empty: the previous node."))
        else:
            picked = []
            c.caption(t("Reads {src}", src=nodes[i - 1]["id"] if i else t("the data")),
                      width="content")
        st.caption(t(lt.help))
        if kind != node["type"]:
            params: dict[str, Any] = {}  # the new type declares its own parameters
        else:
            params = params_form(lt.params, node.get("params", {}), k(f"{i}-p"))
        init = init_form(node, i)
        edited = {"id": new_name.strip(), "type": kind, "params": params,
                  "inputs": picked or None, "init": init}
        row = st.container(horizontal=True)  # wraps instead of cutting labels when narrow
        if row.button("↑", key=k(f"{i}-up"), disabled=i == 0, help=t("Move up")):
            nodes[i - 1], nodes[i] = nodes[i], nodes[i - 1]
            commit(session, spec)
        if row.button("↓", key=k(f"{i}-down"), disabled=i == len(nodes) - 1,
                       help=t("Move down")):
            nodes[i + 1], nodes[i] = nodes[i], nodes[i + 1]
            commit(session, spec)
        if row.button(t("Duplicate"), key=k(f"{i}-dup"), icon=":material/content_copy:"):
            twin = copy.deepcopy(node)
            twin["id"] = new_id(spec, node["id"])
            twin["inputs"] = None
            nodes.insert(i + 1, twin)
            commit(session, spec)
        if row.button(t("Delete"), key=k(f"{i}-del"), disabled=len(nodes) == 1,
                       icon=":material/delete:"):
            gone = nodes.pop(i)["id"]
            for n in nodes:  # readers of the deleted node read what it read
                if n.get("inputs") and gone in n["inputs"]:
                    n["inputs"] = [x for x in n["inputs"] if x != gone] or None
            commit(session, spec)
        with row.popover(t("Insert below"), icon=":material/add:"):
            choice = st.selectbox(t("Layer type"), TYPES, index=TYPES.index("linear"),
                                  format_func=type_label, key=k(f"{i}-new-type"))
            if st.button(t("Insert"), key=k(f"{i}-insert")):
                nodes.insert(i + 1, {"id": new_id(spec, choice), "type": choice,
                                     "params": {}})
                commit(session, spec)
        clean = {key: v for key, v in node.items() if v not in (None, {}, [])}
        if {key: v for key, v in edited.items() if v not in (None, {}, [])} != clean:
            if edited["id"] != node["id"]:  # renaming: readers follow
                for n in nodes:
                    if n.get("inputs"):
                        n["inputs"] = [edited["id"] if x == node["id"] else x
                                       for x in n["inputs"]]
            nodes[i] = edited
            commit(session, spec)


def shapes_table(plan: Plan) -> None:
    rows = [{t("Layer"): n.id, t("Type"): choice_text(n.type), t("Reads"): ", ".join(n.inputs),
             t("Output shape"): "×".join(map(str, n.out_shape)), t("Parameters"): n.n_params}
            for n in plan.nodes]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="build-table",
                 width="stretch")
    st.markdown(t("**Total: {n} parameters** · input {i} → output {o}",
                  n=f"{plan.total_params:,}", i="×".join(map(str, plan.input_shape)),
                  o="×".join(map(str, plan.output_shape))))


def architecture(session: Session, spec: Spec, plan: Plan | None) -> None:
    st.subheader(t("Architecture"))
    flow = st.segmented_control(t("Direction"), ["TB", "LR"], default="TB",
                                key="build-direction", label_visibility="collapsed",
                                format_func=lambda d: t("top to bottom") if d == "TB"
                                else t("left to right")) or "TB"
    if plan is not None:
        st.plotly_chart(architecture_figure(plan, direction=flow), key="build-arch",
                        config={"displayModeBar": False})
        shapes_table(plan)
        return
    st.plotly_chart(draft_figure(spec["model"]["nodes"], problems=problem_nodes(session, spec),
                                 direction=flow),
                    key="build-arch", config={"displayModeBar": False})
    # The problems themselves are shown once, where they are: at their node or field.
    st.caption(t("Shapes and parameter counts appear once the problems are fixed."))


# -- data and training -----------------------------------------------------------------
def with_data(spec: Spec, data: Spec) -> Spec:
    """The draft with other data, and what that data implies (output units, task, loss)
    changed in the same edit, so the user's choice is what trains."""
    return adapt_to_data({**spec, "data": data})


def file_name(path: str) -> str:
    """The name the user gave their file (the server keeps it under a content hash)."""
    seen = st.session_state.get(UPLOADED)
    return seen[2] if seen and seen[1] == path else Path(path).name


def csv_upload(session: Session, spec: Spec) -> None:
    """A new upload is stored by content and becomes the draft's data set."""
    upload = st.file_uploader(t("Upload a CSV file"), type=["csv"], key="build-csv",
                              help=t("The first line names the columns. Choose the target "
                                     "column and the task below."))
    if upload is None:
        return
    seen = st.session_state.get(UPLOADED)
    if seen and seen[0] == upload.file_id:
        # Already acted on: an undo or another page may have changed the data since, and a
        # file still sitting in the box must not change it back.
        return
    path = save_upload(upload)
    st.session_state[UPLOADED] = (upload.file_id, path, upload.name)
    commit(session, with_data(spec, {**spec["data"], "name": "csv", "features": None,
                                     "params": {"path": path}}))


def target_choice(values: Spec, columns: list[str]) -> tuple[Spec, list[str]]:
    """The target as a choice of the file's columns: an unset target shows as the last
    column (which it means), so the box never offers a blank."""
    if not columns:
        return values, []
    return {**values, "target": values.get("target") or columns[-1]}, columns


def data_section(session: Session, spec: Spec, bundle: DataBundle | None) -> None:
    d = spec["data"]
    names = DATASETS.names()
    c = fields()
    name = c.selectbox(t("Data set"), names, index=names.index(d["name"]), width=WIDE,
                       format_func=lambda n: f"{t(DATASETS.get(n).category)} · "
                                             f"{t(DATASETS.get(n).title)}", key=k("data"))
    seed = c.number_input(t("Data seed"), 0, 2**31 - 1, d.get("seed", 0), width=FIELD,
                          key=k("dseed"))
    ds = DATASETS.get(name)
    st.caption(t(ds.help))
    if offer_download(name, chosen=name != d["name"]):
        commit(session, spec)  # the files it lacked arrived: check the experiment again
    values = d.get("params", {}) if name == d["name"] else {}
    shown, options = values, {}
    if name == "csv":
        csv_upload(session, spec)
        if not values.get("path") and st.session_state.get(UPLOADED):
            values = {"path": st.session_state[UPLOADED][1]}  # back to the last upload
        shown = values
        if values.get("path"):
            st.caption(t("File: {f}", f=file_name(values["path"])))
            shown, columns = target_choice(values, csv_columns(values["path"]))
            if columns:
                options["target"] = columns
    elif name == "image_folder":
        values = shown = image_source(values)
    params = params_form(ds.params, shown, k("dp"), options=options,
                         hidden=("path",) if name in ("csv", "image_folder") else ())
    if shown is not values and params.get("target") == shown.get("target") \
            and not values.get("target"):
        params.pop("target")  # still the last column: the spec need not name it
        if "target" in values:
            params["target"] = values["target"]
    features = d.get("features")
    if ds.two_d:
        current_f = features or ["x1", "x2"]
        features = st.multiselect(t("Input features"), list(FEATURES), default=current_f,
                                  key=k("features"), format_func=lambda f: FEATURE_WORDS.get(f, f))
        if features == ["x1", "x2"] and d.get("features") is None:
            features = None  # the data set's own inputs, as the spec already says
    else:
        features = None
    augment = augment_section(d, name, ds.category == "image", bundle, k("aug"))
    show_issues(issues_for(session, "data"))
    if bundle is not None:
        what = (t("{n} classes: {names}", n=len(bundle.class_names),
                  names=", ".join(bundle.class_names[:10]))
                if bundle.kind == "classification" else t("regression"))
        st.caption(t("{tr} training and {te} test rows · input {shape} · {what}",
                     tr=len(bundle.x_train), te=len(bundle.x_test),
                     shape="×".join(map(str, bundle.input_shape)), what=what))
        for note in bundle.notes:
            st.caption(note)
    new = {**d, "name": name, "params": params, "features": features, "seed": int(seed)}
    if augment != d.get("augment", {}):
        new["augment"] = augment
    if new != d:
        commit(session, with_data(spec, new))


def task_of(spec: Spec, bundle: DataBundle | None) -> str:
    """The task the draft trains: the spec's, else its data's kind (from the loaded data
    when the draft is valid, else as the data set declares it)."""
    if spec["train"].get("task"):
        return spec["train"]["task"]
    if bundle is not None:
        return bundle.kind
    d = spec["data"]
    if d["name"] == "csv" and d.get("params", {}).get("task", "auto") != "auto":
        return d["params"]["task"]
    return DATASETS.get(d["name"]).kind if d["name"] in DATASETS else "classification"


def train_section(session: Session, spec: Spec, bundle: DataBundle | None) -> None:
    tr = copy.deepcopy(spec["train"])
    o = tr["optimizer"]
    c = fields()
    task = task_of(spec, bundle)
    losses: list[Any] = [None, *TASKS.get(task).losses]
    if tr.get("loss") not in losses:  # keep a wrong choice visible beside its error
        losses.append(tr["loss"])
    tr["loss"] = c.selectbox(t("Loss"), losses, index=losses.index(tr.get("loss")),
                             format_func=lambda v: t("the task's usual one") if v is None
                             else choice_text(v), width=WIDE, key=k("loss"),
                             help=t("The losses that fit {task}.", task=t(task)))
    opts = list(OptimizerName.__args__)  # type: ignore[attr-defined]
    o["name"] = c.selectbox(t("Optimizer"), opts, index=opts.index(o["name"]), width=WIDE,
                            key=k("opt"), format_func=choice_text)
    o["lr"] = c.number_input(t("Learning rate"), 1e-7, 1e4, float(o["lr"]), format="%g",
                             width=FIELD, key=k("lr"))
    tr["batch_size"] = int(c.number_input(t("Batch size"), 1, 65536, tr["batch_size"],
                                          width=FIELD, key=k("bs")))
    if o["name"] == "momentum":
        o["momentum"] = c.number_input(t("Momentum"), 0.0, 0.999, float(o["momentum"]),
                                       width=FIELD, key=k("mom"))
        o["nesterov"] = c.checkbox(t("Nesterov"), o["nesterov"], key=k("nest"))
    if o["name"] in ("adam", "adamw"):
        o["beta1"] = c.number_input("β1", 0.0, 0.999, float(o["beta1"]), width=FIELD,
                                    key=k("b1"))
        o["beta2"] = c.number_input("β2", 0.0, 0.9999, float(o["beta2"]), format="%g",
                                    width=FIELD, key=k("b2"))
    if o["name"] == "adamw":
        o["weight_decay"] = c.number_input(t("Weight decay"), 0.0, 10.0,
                                           float(o["weight_decay"]), format="%g", width=FIELD,
                                           key=k("wd"), help=t("Decoupled from the gradient "
                                                               "(AdamW)."))
    if o["name"] == "rmsprop":
        o["alpha"] = c.number_input("α", 0.0, 0.999, float(o["alpha"]), width=FIELD,
                                    key=k("alpha"))
    if o["name"] in ("adam", "adamw", "rmsprop", "adagrad"):
        o["eps"] = c.number_input("ε", 1e-12, 1.0, float(o["eps"]), format="%g", width=FIELD,
                                  key=k("eps"))
    c = fields()
    sch = tr["schedule"]
    names = list(ScheduleName.__args__)  # type: ignore[attr-defined]
    sch["name"] = c.selectbox(t("Learning-rate schedule"), names, width=WIDE,
                              index=names.index(sch["name"]), key=k("sched"),
                              format_func=choice_text)
    if sch["name"] == "step":
        sch["step_size"] = c.number_input(t("Epochs per drop"), 1, 100000, sch["step_size"],
                                          width=FIELD, key=k("ss"))
    if sch["name"] in ("step", "exponential"):
        sch["gamma"] = c.number_input(t("Factor"), 0.01, 1.0, float(sch["gamma"]),
                                      width=FIELD, key=k("gamma"))
    if sch["name"] == "one_cycle":
        sch["warmup"] = c.number_input(t("Warm-up share"), 0.0, 0.9, float(sch["warmup"]),
                                       width=FIELD, key=k("warm"))
    c = fields()
    reg = tr["regularization"]
    reg["l1"] = c.number_input(t("L1 rate"), 0.0, 10.0, float(reg["l1"]), format="%g",
                               width=FIELD, key=k("l1"))
    reg["l2"] = c.number_input(t("L2 rate"), 0.0, 10.0, float(reg["l2"]), format="%g",
                               width=FIELD, key=k("l2"))
    clip = c.number_input(t("Gradient clipping"), 0.0, 1e6, float(tr.get("grad_clip") or 0),
                          width=FIELD, key=k("clip"),
                          help=t("The largest gradient norm; 0 turns clipping off."))
    tr["grad_clip"] = clip or None
    es = tr["early_stopping"]
    patience = c.number_input(t("Early stopping"), 0, 100000, es.get("patience") or 0,
                              width=FIELD, key=k("pat"),
                              help=t("Stop after this many epochs without a better test "
                                     "loss; 0 turns it off."))
    es["patience"] = int(patience) or None
    if es["patience"]:
        es["min_delta"] = c.number_input(t("Smallest improvement"), 0.0, 1e6,
                                         float(es.get("min_delta", 0.0)), format="%g",
                                         width=FIELD, key=k("mind"))
    c = fields()
    epochs = c.number_input(t("Epochs"), 1, 1_000_000, tr.get("epochs"), width=FIELD,
                            key=k("epochs"), placeholder=t("no limit"),
                            help=t("Empty: train until stopped."))
    tr["epochs"] = None if epochs is None else int(epochs)
    tr["seed"] = int(c.number_input(t("Seed"), 0, 2**31 - 1, tr["seed"], width=FIELD,
                                    key=k("seed"),
                                    help=t("The initial weights and the batch order.")))
    devices = ["auto", *available_devices()]
    if tr["device"] not in devices:
        devices.append(tr["device"])
    tr["device"] = c.selectbox(t("Device"), devices, index=devices.index(tr["device"]),
                               width=FIELD, key=k("device"), format_func=choice_text,
                               help=t("auto: CUDA, then Apple MPS, then the CPU."))
    init = spec["model"]["init"]
    scheme = c.selectbox(t("Initialisation"), list(SCHEMES), width=WIDE,
                         index=list(SCHEMES).index(init["scheme"]), key=k("init"),
                         format_func=choice_text,
                         help=t("For every node without its own (set in the node's form)."))
    new_init = {**init, "scheme": scheme}
    if scheme == "normal":
        new_init["std"] = c.number_input(t("Standard deviation"), 1e-6, 100.0,
                                         float(init["std"]), format="%g", width=FIELD,
                                         key=k("std"))
    if scheme == "uniform":
        new_init["range"] = c.number_input(t("Half-width"), 1e-6, 100.0, float(init["range"]),
                                           format="%g", width=FIELD, key=k("rng"))
    show_issues(issues_for(session, "train", "model.init"))
    if tr != spec["train"] or new_init != init:
        loss_changed = tr.get("loss") != spec["train"].get("loss")
        spec["train"], spec["model"]["init"] = tr, new_init
        if loss_changed:  # binary cross-entropy takes one output unit, the others one a class
            spec = adapt_to_data(spec)
            spec["train"]["loss"] = tr["loss"]  # kept even where it does not fit: it says why
        commit(session, spec)


def plan_draft(session: Session, spec: Spec) -> tuple[DataBundle | None, Plan | None]:
    """The data and shapes the page shows: the experiment's, or a draft's data alone (its
    shapes are known once it validates)."""
    if session.draft is not None:
        return load_data_or_none(spec["data"]), None
    try:
        return check(session.exp)
    except SpecError:  # pragma: no cover - the experiment passed this check when set
        return None, None


def toolbar(session: Session) -> None:
    """Undo, redo, and a way out of a broken draft. (That edits are not applied is said
    by the app's banner, on this page as on every other.)"""
    row = st.container(horizontal=True, vertical_alignment="center")
    if row.button(t("Undo"), key="build-undo", icon=":material/undo:",
                  disabled=not session.can_undo, help=t("Undo the last edit.")):
        session.undo()
        st.rerun()
    if row.button(t("Redo"), key="build-redo", icon=":material/redo:",
                  disabled=not session.can_redo):
        session.redo()
        st.rerun()
    if session.draft is not None and row.button(
            t("Discard the edits"), key="build-discard", icon=":material/close:",
            help=t("Back to the last valid experiment (this too can be undone).")):
        session.discard_draft()
        st.rerun()


def main() -> None:
    session = current()
    spec = draft(session)
    st.html(PANELS_CSS)  # first, so the panels are laid out as they arrive
    st.title(t("Build"))
    toolbar(session)
    name = st.text_input(t("Experiment name"), spec["meta"]["name"], key=k("name"))
    if name != spec["meta"]["name"]:
        spec["meta"]["name"] = name
        commit(session, spec)
    show_issues([i for i in pending(session)
                 if not i.path.startswith(("model.nodes[", "data", "train", "model.init"))])

    bundle, plan = plan_draft(session, spec)
    top = st.container(horizontal=True, gap="medium", key="build-top")
    with top.container(key="build-panel-layers"):
        st.subheader(t("Layers"))
        for i in range(len(spec["model"]["nodes"])):
            node_editor(session, spec, i)
    with top.container(key="build-panel-arch"):
        architecture(session, spec, plan)
    st.divider()
    bottom = st.container(horizontal=True, gap="medium", key="build-bottom")
    with bottom.container(key="build-panel-data"):
        st.subheader(t("Data"))
        data_section(session, spec, bundle)
    with bottom.container(key="build-panel-train"):
        st.subheader(t("Training"))
        train_section(session, spec, bundle)

main()
