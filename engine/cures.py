"""One-click cures: each turns an experiment spec (a dict) into a changed copy.

They are plain spec edits, so a cure can be undone like any other edit and
travels in a share link like any other experiment.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from engine.i18n import N_

Spec = dict[str, Any]
SATURATING = ("sigmoid", "tanh")


def _hidden(spec: Spec) -> list[dict[str, Any]]:
    """Every node but the last (the output layer keeps its own activation)."""
    return spec["model"]["nodes"][:-1]


def _swap_activation(spec: Spec, new: str, old: tuple[str, ...]) -> Spec:
    s = copy.deepcopy(spec)
    for node in _hidden(s):
        p = node.setdefault("params", {})
        if node["type"] in ("linear", "conv2d") and p.get("activation") in old:
            p["activation"] = new
        elif node["type"] in old:
            node["type"], node["params"] = new, {}
    return s


def to_relu(spec: Spec) -> Spec:
    return _swap_activation(spec, "relu", SATURATING)


def to_leaky_relu(spec: Spec) -> Spec:
    return _swap_activation(spec, "leaky_relu", ("relu", *SATURATING))


def _init(spec: Spec, scheme: str) -> Spec:
    s = copy.deepcopy(spec)
    s["model"]["init"] = {**s["model"].get("init", {}), "scheme": scheme}
    for node in s["model"]["nodes"]:
        node["init"] = None  # the model-wide scheme now applies everywhere
    return s


def he_init(spec: Spec) -> Spec:
    return _init(spec, "he_normal")


def xavier_init(spec: Spec) -> Spec:
    return _init(spec, "xavier_normal")


def clip(spec: Spec, max_norm: float = 1.0) -> Spec:
    s = copy.deepcopy(spec)
    s["train"]["grad_clip"] = max_norm
    return s


def lower_lr(spec: Spec, factor: float = 0.1) -> Spec:
    s = copy.deepcopy(spec)
    s["train"]["optimizer"]["lr"] = s["train"]["optimizer"].get("lr", 0.03) * factor
    return s


def _rename_inputs(nodes: list[dict[str, Any]], old: str, new: str) -> None:
    for n in nodes:
        if n.get("inputs"):
            n["inputs"] = [new if i == old else i for i in n["inputs"]]


def batchnorm(spec: Spec) -> Spec:
    """Linear(act) becomes Linear -> BatchNorm -> act in every hidden layer."""
    s = copy.deepcopy(spec)
    out: list[dict[str, Any]] = []
    nodes = s["model"]["nodes"]
    for i, node in enumerate(nodes):
        act = node.get("params", {}).get("activation", "none")
        follows_bn = i + 1 < len(nodes) and nodes[i + 1]["type"] == "batchnorm1d"
        if i == len(nodes) - 1 or node["type"] != "linear" or follows_bn:
            out.append(node)
            continue
        node["params"]["activation"] = "none"
        out.append(node)
        out.append({"id": f"{node['id']}_bn", "type": "batchnorm1d", "params": {},
                    "inputs": [node["id"]]})
        last = f"{node['id']}_bn"
        if act != "none":
            out.append({"id": f"{node['id']}_act", "type": act, "params": {},
                        "inputs": [last]})
            last = f"{node['id']}_act"
        _rename_inputs(nodes[i + 1:], node["id"], last)
        if i + 1 < len(nodes) and nodes[i + 1].get("inputs") is None:
            nodes[i + 1]["inputs"] = [last]
    s["model"]["nodes"] = out
    return s


def residual(spec: Spec) -> Spec:
    """x + f(x) around every hidden linear layer whose input and output widths match."""
    from engine.validate import check, load_experiment

    s = copy.deepcopy(spec)
    _, plan = check(load_experiment(s))
    nodes = s["model"]["nodes"]
    out: list[dict[str, Any]] = []
    for i, node in enumerate(nodes):
        out.append(node)
        info = plan.by_id(node["id"])
        if (i == len(nodes) - 1 or node["type"] != "linear" or len(info.inputs) != 1
                or info.in_shapes[0] != info.out_shape):
            continue
        add_id = f"{node['id']}_res"
        # The node's input as it reads now (an earlier residual may have renamed it).
        src = node["inputs"][0] if node.get("inputs") else (
            out[-2]["id"] if len(out) > 1 else "input")
        out.append({"id": add_id, "type": "add", "params": {}, "inputs": [src, node["id"]]})
        _rename_inputs(nodes[i + 1:], node["id"], add_id)
        if nodes[i + 1].get("inputs") is None:
            nodes[i + 1]["inputs"] = [add_id]
    s["model"]["nodes"] = out
    return s


CURE_ACTIONS: dict[str, tuple[str, Callable[[Spec], Spec]]] = {
    "relu": (N_("Switch to ReLU"), to_relu),
    "leaky_relu": (N_("Switch to leaky ReLU"), to_leaky_relu),
    "he_init": (N_("He initialisation"), he_init),
    "xavier_init": (N_("Xavier initialisation"), xavier_init),
    "batchnorm": (N_("Add batch normalisation"), batchnorm),
    "residual": (N_("Add residual connections"), residual),
    "clip": (N_("Clip gradients (norm 1)"), clip),
    "lower_lr": (N_("Lower the learning rate 10x"), lower_lr),
}
