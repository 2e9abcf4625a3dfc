"""Build: any model the engine can express, node by node, with its data and training.

Edits go to a draft of the spec. A draft that validates becomes the session's
experiment at once (undoable); one that does not is kept, with each problem
shown beside the node or field it concerns, and the experiment is unchanged.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from engine.data import DATASETS, DataBundle
from engine.data.features import FEATURES
from engine.device import available_devices
from engine.errors import SpecError
from engine.graph import Plan
from engine.i18n import t
from engine.layers import LAYERS
from engine.spec import Experiment, InitScheme, OptimizerName, ScheduleName
from engine.tasks import TASKS
from engine.validate import check, pydantic_issues
from ui.forms import params_form
from ui.session import Session, current
from ui.uploads import csv_columns, save_upload
from viz.architecture import architecture_figure, draft_figure

Spec = dict[str, Any]
DRAFT, BASE, REV, ISSUES = "build-draft", "build-base", "build-rev", "build-issues"
UPLOADED = "build-uploaded"  # (file id, stored path) of the last upload acted on
SCHEMES: tuple[str, ...] = InitScheme.__args__  # type: ignore[attr-defined]
MODEL_DEFAULT = "(model default)"
# The layer-type box lists types by category, so related layers sit together.
TYPES = sorted(LAYERS.names(), key=lambda n: (LAYERS.get(n).category, n))


def draft(session: Session) -> Spec:
    """The spec being edited: the experiment, unless an invalid edit is pending."""
    base = json.dumps(session.exp.to_dict(), sort_keys=True)
    if st.session_state.get(BASE) != base:  # undo, a preset or another page changed it
        st.session_state[BASE] = base
        st.session_state[DRAFT] = session.exp.to_dict()
        st.session_state[ISSUES] = []
        st.session_state[REV] = st.session_state.get(REV, 0) + 1  # fresh widgets show it
    return copy.deepcopy(st.session_state[DRAFT])


def commit(session: Session, spec: Spec) -> None:
    """Keep ``spec`` as the draft; make it the experiment if it is valid."""
    st.session_state[DRAFT] = spec
    st.session_state[REV] = st.session_state.get(REV, 0) + 1
    try:
        issues = session.apply(spec)
    except SpecError as e:  # pragma: no cover - apply returns issues
        issues = e.issues
    st.session_state[ISSUES] = [(i.path, i.message) for i in issues]
    if not issues:
        st.session_state[BASE] = json.dumps(session.exp.to_dict(), sort_keys=True)
        st.session_state[DRAFT] = session.exp.to_dict()
    st.rerun()


def discard_draft() -> None:
    """Forget an invalid draft: the page shows the experiment again."""
    st.session_state.pop(BASE, None)


def k(name: str) -> str:
    """A widget key that changes with every committed edit, so widgets show the draft."""
    return f"b{st.session_state.get(REV, 0)}-{name}"


def issues_for(prefix: str) -> list[str]:
    return [m for p, m in st.session_state.get(ISSUES, []) if p.startswith(prefix)]


def problem_nodes(spec: Spec) -> set[str]:
    return {n["id"] for i, n in enumerate(spec["model"]["nodes"])
            if issues_for(f"model.nodes[{i}]")}


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
    return f"{LAYERS.get(name).category} · {name}" if name in LAYERS else name


# -- the node list ---------------------------------------------------------------------
def init_form(node: Spec, i: int) -> dict[str, Any] | None:
    """The node's own initialisation, or None for the model-wide one."""
    own = node.get("init") or {}
    schemes = [MODEL_DEFAULT, *SCHEMES]
    c = st.columns(2)
    scheme = c[0].selectbox(t("initialisation"), schemes,
                            index=schemes.index(own.get("scheme", MODEL_DEFAULT)),
                            format_func=t, key=k(f"{i}-init"),
                            help=t("Overrides the model-wide initialisation for this node."))
    if scheme == MODEL_DEFAULT:
        return None
    init = {**own, "scheme": scheme}
    if scheme == "normal":
        init["std"] = c[1].number_input(t("standard deviation"), 1e-6, 100.0,
                                        float(own.get("std", 0.1)), format="%g",
                                        key=k(f"{i}-init-std"))
    if scheme == "uniform":
        init["range"] = c[1].number_input(t("half-width"), 1e-6, 100.0,
                                          float(own.get("range", 0.1)), format="%g",
                                          key=k(f"{i}-init-range"))
    return init


def node_editor(session: Session, spec: Spec, i: int) -> None:
    nodes = spec["model"]["nodes"]
    node = nodes[i]
    problems = issues_for(f"model.nodes[{i}]")
    title = f"{i + 1}. **{node['id']}** · {node['type']}"
    with st.expander(title, expanded=bool(problems), icon=":material/error:" if problems
                     else None):
        for p in problems:
            st.error(f"**{node['id']}**: {p}")
        c = st.columns([2, 2, 3])
        new_name = c[0].text_input(t("id"), node["id"], key=k(f"{i}-id"))
        types = TYPES if node["type"] in TYPES else [node["type"], *TYPES]
        kind = c[1].selectbox(t("type"), types, index=types.index(node["type"]),
                              key=k(f"{i}-type"), format_func=type_label)
        lt = LAYERS.get(kind)
        chosen = node.get("inputs")
        if lt.is_merge or chosen:
            earlier = ["input", *(n["id"] for n in nodes[:i])]
            picked = c[2].multiselect(
                t("inputs"), earlier + [x for x in chosen or [] if x not in earlier],
                default=chosen or [], key=k(f"{i}-inputs"),
                placeholder=t("the previous node"),
                help=t("Merge nodes (add, concat, multiply) read two or more earlier nodes; "
                       "'input' is the data. Empty: the previous node."))
        else:
            picked = []
            c[2].caption(t("reads {src}", src=nodes[i - 1]["id"] if i else "input"))
        st.caption(t(lt.help))
        if kind != node["type"]:
            params: dict[str, Any] = {}  # the new type declares its own parameters
        else:
            params = params_form(lt.params, node.get("params", {}), k(f"{i}-p"))
        init = init_form(node, i)
        edited = {"id": new_name.strip(), "type": kind, "params": params,
                  "inputs": picked or None, "init": init}
        b = st.columns([1, 1, 2, 2, 2])
        if b[0].button("↑", key=k(f"{i}-up"), disabled=i == 0, help=t("Move up")):
            nodes[i - 1], nodes[i] = nodes[i], nodes[i - 1]
            commit(session, spec)
        if b[1].button("↓", key=k(f"{i}-down"), disabled=i == len(nodes) - 1,
                       help=t("Move down")):
            nodes[i + 1], nodes[i] = nodes[i], nodes[i + 1]
            commit(session, spec)
        if b[2].button(t("Duplicate"), key=k(f"{i}-dup"), icon=":material/content_copy:"):
            twin = copy.deepcopy(node)
            twin["id"] = new_id(spec, node["id"])
            twin["inputs"] = None
            nodes.insert(i + 1, twin)
            commit(session, spec)
        if b[3].button(t("Delete"), key=k(f"{i}-del"), disabled=len(nodes) == 1,
                       icon=":material/delete:"):
            gone = nodes.pop(i)["id"]
            for n in nodes:  # readers of the deleted node read what it read
                if n.get("inputs") and gone in n["inputs"]:
                    n["inputs"] = [x for x in n["inputs"] if x != gone] or None
            commit(session, spec)
        with b[4].popover(t("Insert below"), icon=":material/add:"):
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
    rows = [{"id": n.id, "type": n.type, "inputs": ", ".join(n.inputs),
             "output shape": "×".join(map(str, n.out_shape)), "parameters": n.n_params}
            for n in plan.nodes]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="build-table",
                 width="stretch")
    st.markdown(t("**Total: {n} parameters** · input {i} → output {o}",
                  n=f"{plan.total_params:,}", i="×".join(map(str, plan.input_shape)),
                  o="×".join(map(str, plan.output_shape))))


def architecture(spec: Spec, plan: Plan | None, error: SpecError | None) -> None:
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
    st.plotly_chart(draft_figure(spec["model"]["nodes"], problems=problem_nodes(spec),
                                 direction=flow),
                    key="build-arch", config={"displayModeBar": False})
    if error is not None:
        st.info(t("Shapes and parameter counts appear once the draft is valid:") + "\n\n" +
                "\n".join(f"- `{i.path}`: {i.message}" for i in error.issues))


# -- data and training -----------------------------------------------------------------
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
    st.session_state[UPLOADED] = (upload.file_id, path)
    spec["data"] = {**spec["data"], "name": "csv", "features": None,
                    "params": {"path": path, "target": ""}}
    commit(session, spec)


def data_section(session: Session, spec: Spec, bundle: DataBundle | None) -> None:
    d = spec["data"]
    names = DATASETS.names()
    c = st.columns([2, 1])
    name = c[0].selectbox(t("Data set"), names, index=names.index(d["name"]),
                          format_func=lambda n: f"{DATASETS.get(n).category} · "
                                                f"{t(DATASETS.get(n).title)}", key=k("data"))
    seed = c[1].number_input(t("data seed"), 0, 2**31 - 1, d.get("seed", 0), key=k("dseed"))
    ds = DATASETS.get(name)
    st.caption(t(ds.help))
    values = d.get("params", {}) if name == d["name"] else {}
    options: dict[str, list[Any]] = {}
    if name == "csv":
        csv_upload(session, spec)
        if not values.get("path") and st.session_state.get(UPLOADED):
            values = {"path": st.session_state[UPLOADED][1]}  # back to the last upload
        if values.get("path"):
            st.caption(t("File: {f}", f=Path(values["path"]).name))
            options["target"] = ["", *csv_columns(values["path"])]
    params = params_form(ds.params, values, k("dp"), options=options,
                         formats={"target": lambda c: c or t("(the last column)")},
                         hidden=("path",) if name == "csv" else ())
    features = d.get("features")
    if ds.two_d:
        current_f = features or ["x1", "x2"]
        features = st.multiselect(t("Input features"), list(FEATURES), default=current_f,
                                  key=k("features"))
        if features == ["x1", "x2"] and d.get("features") is None:
            features = None  # the data set's own inputs, as the spec already says
    else:
        features = None
    for p in issues_for("data"):
        st.error(p)
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
    if new != d:
        spec["data"] = new
        commit(session, spec)


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
    c = st.columns(4)
    task = task_of(spec, bundle)
    losses: list[Any] = [None, *TASKS.get(task).losses]
    if tr.get("loss") not in losses:  # keep a wrong choice visible beside its error
        losses.append(tr["loss"])
    tr["loss"] = c[0].selectbox(t("Loss"), losses, index=losses.index(tr.get("loss")),
                                format_func=lambda v: t("task default") if v is None else v,
                                key=k("loss"), help=t("The losses that fit {task}.", task=task))
    opts = list(OptimizerName.__args__)  # type: ignore[attr-defined]
    o["name"] = c[1].selectbox(t("Optimizer"), opts, index=opts.index(o["name"]),
                               key=k("opt"))
    o["lr"] = c[2].number_input(t("Learning rate"), 1e-7, 1e4, float(o["lr"]), format="%g",
                                key=k("lr"))
    tr["batch_size"] = c[3].number_input(t("Batch size"), 1, 65536, tr["batch_size"],
                                         key=k("bs"))
    c = st.columns(4)
    if o["name"] == "momentum":
        o["momentum"] = c[0].number_input(t("Momentum"), 0.0, 0.999, float(o["momentum"]),
                                          key=k("mom"))
        o["nesterov"] = c[1].checkbox(t("Nesterov"), o["nesterov"], key=k("nest"))
    if o["name"] in ("adam", "adamw"):
        o["beta1"] = c[0].number_input("β1", 0.0, 0.999, float(o["beta1"]), key=k("b1"))
        o["beta2"] = c[1].number_input("β2", 0.0, 0.9999, float(o["beta2"]), format="%g",
                                       key=k("b2"))
    if o["name"] == "adamw":
        o["weight_decay"] = c[2].number_input(t("Decoupled weight decay"), 0.0, 10.0,
                                              float(o["weight_decay"]), format="%g",
                                              key=k("wd"))
    if o["name"] == "rmsprop":
        o["alpha"] = c[0].number_input("α", 0.0, 0.999, float(o["alpha"]), key=k("alpha"))
    if o["name"] in ("adam", "adamw", "rmsprop", "adagrad"):
        o["eps"] = c[3].number_input("ε", 1e-12, 1.0, float(o["eps"]), format="%g",
                                     key=k("eps"))
    c = st.columns(4)
    sch = tr["schedule"]
    names = list(ScheduleName.__args__)  # type: ignore[attr-defined]
    sch["name"] = c[0].selectbox(t("Learning-rate schedule"), names,
                                 index=names.index(sch["name"]), key=k("sched"))
    if sch["name"] == "step":
        sch["step_size"] = c[1].number_input(t("Epochs per drop"), 1, 100000,
                                             sch["step_size"], key=k("ss"))
    if sch["name"] in ("step", "exponential"):
        sch["gamma"] = c[2].number_input(t("Factor"), 0.01, 1.0, float(sch["gamma"]),
                                         key=k("gamma"))
    if sch["name"] == "one_cycle":
        sch["warmup"] = c[1].number_input(t("Warm-up share"), 0.0, 0.9, float(sch["warmup"]),
                                          key=k("warm"))
    c = st.columns(4)
    reg = tr["regularization"]
    reg["l1"] = c[0].number_input("L1", 0.0, 10.0, float(reg["l1"]), format="%g",
                                  key=k("l1"))
    reg["l2"] = c[1].number_input("L2", 0.0, 10.0, float(reg["l2"]), format="%g",
                                  key=k("l2"))
    clip = c[2].number_input(t("Clip gradient norm (0 = off)"), 0.0, 1e6,
                             float(tr.get("grad_clip") or 0), key=k("clip"))
    tr["grad_clip"] = clip or None
    es = tr["early_stopping"]
    patience = c[3].number_input(t("Early stopping patience (0 = off)"), 0, 100000,
                                 es.get("patience") or 0, key=k("pat"),
                                 help=t("Stop after this many epochs without a better test "
                                        "loss."))
    es["patience"] = int(patience) or None
    if es["patience"]:
        es["min_delta"] = c[3].number_input(t("Smallest improvement"), 0.0, 1e6,
                                            float(es.get("min_delta", 0.0)), format="%g",
                                            key=k("mind"))
    c = st.columns(4)
    tr["epochs"] = int(c[0].number_input(t("Epochs"), 1, 1_000_000, tr["epochs"],
                                         key=k("epochs")))
    tr["seed"] = int(c[1].number_input(t("Seed"), 0, 2**31 - 1, tr["seed"], key=k("seed"),
                                       help=t("The initial weights and the batch order.")))
    devices = ["auto", *available_devices()]
    if tr["device"] not in devices:
        devices.append(tr["device"])
    tr["device"] = c[2].selectbox(t("Device"), devices, index=devices.index(tr["device"]),
                                  key=k("device"),
                                  help=t("auto: CUDA, then Apple MPS, then the CPU."))
    init = spec["model"]["init"]
    scheme = c[3].selectbox(t("Initialisation"), list(SCHEMES),
                            index=list(SCHEMES).index(init["scheme"]), key=k("init"),
                            help=t("For every node without its own (set in the node's form)."))
    new_init = {**init, "scheme": scheme}
    if scheme == "normal":
        new_init["std"] = c[3].number_input(t("Standard deviation"), 1e-6, 100.0,
                                            float(init["std"]), format="%g", key=k("std"))
    if scheme == "uniform":
        new_init["range"] = c[3].number_input(t("Half-width"), 1e-6, 100.0,
                                              float(init["range"]), format="%g", key=k("rng"))
    for p in issues_for("train") + issues_for("model.init"):
        st.error(p)
    tr["batch_size"] = int(tr["batch_size"])
    if tr != spec["train"] or new_init != init:
        spec["train"], spec["model"]["init"] = tr, new_init
        commit(session, spec)


def plan_draft(spec: Spec) -> tuple[DataBundle | None, Plan | None, SpecError | None]:
    """The draft's data and shapes, or why there are none yet."""
    try:
        bundle, plan = check(Experiment.model_validate(spec))
    except ValidationError as e:
        return None, None, SpecError(pydantic_issues(e))
    except SpecError as e:
        return None, None, e
    return bundle, plan, None


def main() -> None:
    session = current()
    spec = draft(session)
    st.title(t("Build"))
    pending = st.session_state.get(ISSUES)
    c = st.columns([1, 1, 6])
    if c[0].button(t("Undo"), key="build-undo", icon=":material/undo:",
                   disabled=not (pending or session.undo_stack),
                   help=t("Undo the last edit (an unfinished draft first).")):
        if pending:
            discard_draft()
        else:
            session.undo()
        st.rerun()
    if c[1].button(t("Redo"), key="build-redo", icon=":material/redo:",
                   disabled=not session.redo_stack):
        session.redo()
        st.rerun()
    if pending:
        c[2].warning(t("This draft has problems (shown at the nodes and fields they concern); "
                       "the experiment keeps its last valid version until they are fixed."))
    name = st.text_input(t("Experiment name"), spec["meta"]["name"], key=k("name"))
    if name != spec["meta"]["name"]:
        spec["meta"]["name"] = name
        commit(session, spec)
    elsewhere = [(p, m) for p, m in pending or []
                 if not p.startswith(("model.nodes[", "data", "train", "model.init"))]
    for p, m in elsewhere:
        st.error(f"`{p}`: {m}")

    bundle, plan, error = plan_draft(spec)
    left, right = st.columns([5, 4], gap="large")
    with left:
        st.subheader(t("Layers"))
        for i in range(len(spec["model"]["nodes"])):
            node_editor(session, spec, i)
    with right:
        architecture(spec, plan, error)
    st.divider()
    left, right = st.columns([2, 3], gap="large")
    with left:
        st.subheader(t("Data"))
        data_section(session, spec, bundle)
    with right:
        st.subheader(t("Training"))
        train_section(session, spec, bundle)


main()
