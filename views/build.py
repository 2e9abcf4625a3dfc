"""Build: any model the engine can express, node by node, with its data and training.

Edits go to a draft of the spec. A draft that validates becomes the session's
experiment at once (undoable); one that does not is kept, with each problem
shown beside the node or field it concerns, and the experiment is unchanged.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pandas as pd
import streamlit as st

from engine.data import DATASETS
from engine.data.features import FEATURES
from engine.device import available_devices
from engine.errors import Issue, SpecError
from engine.i18n import t
from engine.layers import LAYERS
from engine.spec import Experiment, InitScheme, LossName, OptimizerName, ScheduleName
from engine.validate import check
from ui.forms import params_form
from ui.session import Session, current
from ui.uploads import save_upload
from viz.architecture import architecture_figure

Spec = dict[str, Any]
DRAFT, BASE, REV, ISSUES = "build-draft", "build-base", "build-rev", "build-issues"
SCHEMES: tuple[str, ...] = InitScheme.__args__  # type: ignore[attr-defined]


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
    st.rerun()


def k(name: str) -> str:
    """A widget key that changes with every committed edit, so widgets show the draft."""
    return f"b{st.session_state.get(REV, 0)}-{name}"


def issues_for(prefix: str) -> list[str]:
    return [m for p, m in st.session_state.get(ISSUES, []) if p.startswith(prefix)]


def new_id(spec: Spec, stem: str) -> str:
    taken = {n["id"] for n in spec["model"]["nodes"]}
    i = 1
    while f"{stem}{i}" in taken:
        i += 1
    return f"{stem}{i}"


# -- the node list ---------------------------------------------------------------------
def node_editor(session: Session, spec: Spec, i: int) -> None:
    nodes = spec["model"]["nodes"]
    node = nodes[i]
    problems = issues_for(f"model.nodes[{i}]")
    title = f"{i + 1}. {node['id']} · {node['type']}" + (" ⚠" if problems else "")
    with st.expander(title, expanded=bool(problems)):
        for p in problems:
            st.error(p)
        c = st.columns([2, 2, 3])
        new_name = c[0].text_input(t("id"), node["id"], key=k(f"{i}-id"))
        types = LAYERS.names()
        kind = c[1].selectbox(t("type"), types, index=types.index(node["type"])
                              if node["type"] in types else 0, key=k(f"{i}-type"),
                              format_func=lambda n: f"{LAYERS.get(n).category}: {n}")
        earlier = ["input", *(n["id"] for n in nodes[:i])]
        lt = LAYERS.get(kind)
        chosen = node.get("inputs")
        picked = c[2].multiselect(
            t("inputs (empty: the previous node)"), earlier + [x for x in chosen or []
                                                               if x not in earlier],
            default=chosen or [], key=k(f"{i}-inputs"),
            help=t("Merge nodes (add, concat, multiply) take two or more."))
        if kind != node["type"]:
            params: dict[str, Any] = {}  # the new type declares its own parameters
        else:
            params = params_form(lt.params, node.get("params", {}), k(f"{i}-p"))
        schemes = ["(model default)", *SCHEMES]
        init = (node.get("init") or {}).get("scheme", "(model default)")
        init = st.selectbox(t("initialisation"), schemes, index=schemes.index(init),
                            key=k(f"{i}-init"))
        edited = {"id": new_name.strip(), "type": kind, "params": params,
                  "inputs": picked or None,
                  "init": None if init == "(model default)" else {"scheme": init}}
        b = st.columns(5)
        if b[0].button("↑", key=k(f"{i}-up"), disabled=i == 0, help=t("Move up")):
            nodes[i - 1], nodes[i] = nodes[i], nodes[i - 1]
            commit(session, spec)
        if b[1].button("↓", key=k(f"{i}-down"), disabled=i == len(nodes) - 1,
                       help=t("Move down")):
            nodes[i + 1], nodes[i] = nodes[i], nodes[i + 1]
            commit(session, spec)
        if b[2].button(t("Duplicate"), key=k(f"{i}-dup")):
            twin = copy.deepcopy(node)
            twin["id"] = new_id(spec, node["id"].rstrip("0123456789") or "node")
            twin["inputs"] = None
            nodes.insert(i + 1, twin)
            commit(session, spec)
        if b[3].button(t("Delete"), key=k(f"{i}-del"), disabled=len(nodes) == 1):
            gone = nodes.pop(i)["id"]
            for n in nodes:  # readers of the deleted node read what it read
                if n.get("inputs") and gone in n["inputs"]:
                    n["inputs"] = [x for x in n["inputs"] if x != gone] or None
            commit(session, spec)
        with b[4].popover(t("Insert below")):
            choice = st.selectbox(t("Layer type"), types, key=k(f"{i}-new-type"))
            if st.button(t("Insert"), key=k(f"{i}-insert")):
                nodes.insert(i + 1, {"id": new_id(spec, choice.split("2d")[0][:6]),
                                     "type": choice, "params": {}})
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


def shapes_table(plan: Any) -> None:
    rows = [{"id": n.id, "type": n.type, "inputs": ", ".join(n.inputs),
             "output shape": "×".join(map(str, n.out_shape)), "parameters": n.n_params}
            for n in plan.nodes]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="build-table")
    st.caption(t("Total: {n} parameters", n=f"{plan.total_params:,}"))


# -- data and training -----------------------------------------------------------------
def data_section(session: Session, spec: Spec) -> None:
    d = spec["data"]
    names = DATASETS.names()
    c = st.columns([2, 1])
    name = c[0].selectbox(t("Data set"), names, index=names.index(d["name"]),
                          format_func=lambda n: f"{DATASETS.get(n).category}: "
                                                f"{DATASETS.get(n).title}", key=k("data"))
    seed = c[1].number_input(t("data seed"), 0, 2**31 - 1, d.get("seed", 0), key=k("dseed"))
    ds = DATASETS.get(name)
    st.caption(t(ds.help))
    if name == "csv":
        upload = st.file_uploader(t("Upload a CSV file"), type=["csv"], key="build-csv")
        if upload is not None:
            path = save_upload(upload)
            if d.get("params", {}).get("path") != path or d["name"] != "csv":
                spec["data"] = {**d, "name": "csv", "features": None,
                                "params": {"path": path, "target": ""}}
                commit(session, spec)
    params = params_form(ds.params, d.get("params", {}) if name == d["name"] else {},
                         k("dp"))
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
    new = {**d, "name": name, "params": params, "features": features, "seed": int(seed)}
    if new != d:
        spec["data"] = new
        commit(session, spec)


def train_section(session: Session, spec: Spec) -> None:
    tr = copy.deepcopy(spec["train"])
    o = tr["optimizer"]
    c = st.columns(4)
    losses: list[Any] = [None, *LossName.__args__]  # type: ignore[attr-defined]
    tr["loss"] = c[0].selectbox(t("Loss"), losses, index=losses.index(tr.get("loss")),
                                format_func=lambda v: t("task default") if v is None else v,
                                key=k("loss"))
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
    patience = c[3].number_input(t("Early stopping patience (0 = off)"), 0, 100000,
                                 tr["early_stopping"].get("patience") or 0, key=k("pat"))
    tr["early_stopping"]["patience"] = int(patience) or None
    c = st.columns(4)
    tr["epochs"] = int(c[0].number_input(t("Epochs"), 1, 1_000_000, tr["epochs"],
                                         key=k("epochs")))
    tr["seed"] = int(c[1].number_input(t("Seed"), 0, 2**31 - 1, tr["seed"], key=k("seed")))
    devices = ["auto", *available_devices()]
    tr["device"] = c[2].selectbox(t("Device"), devices, index=devices.index(tr["device"])
                                  if tr["device"] in devices else 0, key=k("device"))
    init = spec["model"]["init"]
    scheme = c[3].selectbox(t("Initialisation"), list(SCHEMES),
                            index=list(SCHEMES).index(init["scheme"]), key=k("init"))
    new_init = {**init, "scheme": scheme}
    if scheme == "normal":
        new_init["std"] = st.number_input(t("Standard deviation"), 1e-6, 100.0,
                                          float(init["std"]), format="%g", key=k("std"))
    if scheme == "uniform":
        new_init["range"] = st.number_input(t("Half-width"), 1e-6, 100.0,
                                            float(init["range"]), format="%g", key=k("rng"))
    for p in issues_for("train"):
        st.error(p)
    tr["batch_size"] = int(tr["batch_size"])
    if tr != spec["train"] or new_init != init:
        spec["train"], spec["model"]["init"] = tr, new_init
        commit(session, spec)


def main() -> None:
    session = current()
    spec = draft(session)
    st.title(t("Build"))
    c = st.columns([1, 1, 6])
    if c[0].button(t("Undo"), key="build-undo", disabled=not session.undo_stack):
        session.undo()
        st.rerun()
    if c[1].button(t("Redo"), key="build-redo", disabled=not session.redo_stack):
        session.redo()
        st.rerun()
    pending = st.session_state.get(ISSUES)
    if pending:
        c[2].warning(t("This draft has problems (shown below); the experiment keeps its last "
                       "valid version until they are fixed."))
    name = st.text_input(t("Experiment name"), spec["meta"]["name"], key=k("name"))
    if name != spec["meta"]["name"]:
        spec["meta"]["name"] = name
        commit(session, spec)

    left, right = st.columns([3, 2])
    with left:
        st.subheader(t("Layers"))
        for p in issues_for("model.nodes") + issues_for("model.init"):
            if not p.startswith("model.nodes["):
                st.error(p)
        for issue_path, message in st.session_state.get(ISSUES, []):
            if issue_path == "model.nodes":
                st.error(message)
        for i in range(len(spec["model"]["nodes"])):
            node_editor(session, spec, i)
    with right:
        st.subheader(t("Architecture"))
        try:
            _, plan = check(Experiment.model_validate(spec))
            problems = {n["id"] for i, n in enumerate(spec["model"]["nodes"])
                        if issues_for(f"model.nodes[{i}]")}
            cats = {lt.name: lt.category for lt in LAYERS}
            st.plotly_chart(architecture_figure(plan, cats, problems), key="build-arch")
            shapes_table(plan)
        except (SpecError, ValueError) as e:
            issues = e.issues if isinstance(e, SpecError) else [Issue("", str(e))]
            st.info(t("The graph is drawn once the draft is valid:") + "\n\n" +
                    "\n".join(f"- {i}" for i in issues))
    st.subheader(t("Data"))
    data_section(session, spec)
    st.subheader(t("Training"))
    train_section(session, spec)


main()
