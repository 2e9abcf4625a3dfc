"""Reading and editing a spec as a plain multilayer perceptron (the Playground's view):
hidden linear layers that share one activation, then a linear output layer, trained on
a generated data set the Playground can draw (a 2-D plane or a 1-D line)."""

from __future__ import annotations

import copy
from typing import Any

from engine.adapt import adapt_to_data
from engine.data import DATASETS, load_data
from engine.spec import DataSpec

Spec = dict[str, Any]
TOY_PARAMS = ("n_samples", "noise", "train_ratio")
# The rate a penalty starts at when it is switched on: a penalty of 0 would do nothing.
DEFAULT_PENALTY = 0.001
PENALTIES = ("l1", "l2")


def is_line(name: str) -> bool:
    """A generated 1-D set (one input x, one target): drawn as a curve over the points.
    Generated sets that do not take the 2-D features are the 1-D ones (engine/data/toy1d)."""
    d = DATASETS.get(name)
    return d.category == "toy" and not d.two_d


def drawable(name: str) -> bool:
    """Data sets the Playground draws: the 2-D planes and the 1-D lines."""
    return DATASETS.get(name).two_d or is_line(name)


def playground_sets(kind: str) -> list[str]:
    """The Playground's data sets of one kind (classification or regression), 2-D first."""
    found = [d for d in DATASETS if d.kind == kind and drawable(d.name)]
    return [d.name for d in sorted(found, key=lambda d: not d.two_d)]


def penalty(spec: Spec) -> tuple[str | None, float]:
    """The weight penalty in use ("l1", "l2" or None) and its rate."""
    reg = spec["train"].get("regularization", {})
    for name in PENALTIES:
        if reg.get(name):
            return name, float(reg[name])
    return None, 0.0


def with_penalty(spec: Spec, name: str | None, rate: float) -> Spec:
    """The same spec with one penalty (or none). Switching a penalty on at rate 0 would
    change nothing, so it starts at ``DEFAULT_PENALTY``."""
    s = copy.deepcopy(spec)
    if name is not None and not rate:
        rate = DEFAULT_PENALTY
    reg = s["train"].setdefault("regularization", {})
    for p in PENALTIES:
        reg[p] = float(rate) if p == name else 0.0
    return s


def is_mlp(spec: Spec) -> bool:
    nodes = spec["model"]["nodes"]
    return bool(nodes) and all(n["type"] == "linear" and not n.get("inputs") for n in nodes)


def hidden_units(spec: Spec) -> list[int]:
    return [int(n.get("params", {}).get("units", 8)) for n in spec["model"]["nodes"][:-1]]


def activation(spec: Spec) -> str:
    hidden = spec["model"]["nodes"][:-1]
    return hidden[0].get("params", {}).get("activation", "tanh") if hidden else "tanh"


def outputs_needed(spec: Spec) -> int:
    data = load_data(DataSpec.model_validate(spec["data"]))
    loss = spec["train"].get("loss")
    return 1 if loss == "bce" else data.n_outputs


def activations(spec: Spec) -> list[str]:
    """Each hidden layer's activation."""
    return [n.get("params", {}).get("activation", "tanh") for n in spec["model"]["nodes"][:-1]]


def with_layers(spec: Spec, units: list[int], act: str | list[str] | None = None) -> Spec:
    """The same spec with these hidden layers. ``act``: one activation for all, one per
    layer, or None to keep each layer's (a new layer takes the last one's)."""
    s = copy.deepcopy(spec)
    if isinstance(act, str):
        acts = [act] * len(units)
    else:
        old = act or activations(spec) or [activation(spec)]
        acts = [old[i] if i < len(old) else old[-1] for i in range(len(units))]
    nodes = [{"id": f"hidden{i + 1}", "type": "linear",
              "params": {"units": int(u), "activation": a}}
             for i, (u, a) in enumerate(zip(units, acts, strict=True))]
    nodes.append({"id": "output", "type": "linear",
                  "params": {"units": outputs_needed(s), "activation": "none"}})
    s["model"]["nodes"] = nodes
    return s


def with_dataset(spec: Spec, name: str) -> Spec:
    """Switch data set, keeping the shared toy parameters; the output layer, task and
    loss follow the new data set."""
    s = copy.deepcopy(spec)
    old = s["data"].get("params", {})
    declared = {p.name for p in DATASETS.get(name).params}
    s["data"] = {**s["data"], "name": name,
                 "params": {k: v for k, v in old.items() if k in TOY_PARAMS and k in declared}}
    if not DATASETS.get(name).two_d:
        s["data"]["features"] = None
    return adapt_to_data(s)
