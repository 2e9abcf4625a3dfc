"""One setting changed: the experiments a comparison of runs starts from.

Each variant names a setting a lesson varies (the hidden layers' activation, the
optimizer, the learning rate, ...), the values worth trying from a given
experiment, and the spec edit that applies one. The edit changes that setting
only, so whatever the runs then do differently is that setting's doing.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, get_args

from engine.cures import CURE_ACTIONS
from engine.data import DATASETS
from engine.errors import Issue, SpecError
from engine.i18n import N_, t
from engine.layers.activations import ACTIVATIONS
from engine.names import shown
from engine.presets import list_presets, load_preset, preset_path
from engine.spec import Experiment, InitScheme, OptimizerName
from engine.spec_diff import value_words
from engine.validate import load_experiment

Spec = dict[str, Any]
HIDDEN_ACTIVATIONS = ("relu", "leaky_relu", "elu", "gelu", "silu", "tanh", "sigmoid",
                      "identity")
BATCH_SIZES = (1, 4, 8, 16, 32, 64, 128, 256)
RATES = (0.0, 0.0001, 0.001, 0.01, 0.1)
NOISES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)
WIDTHS = (2, 4, 8, 16, 32, 64, 128)
LR_FACTORS = (0.01, 0.1, 0.3, 3.0, 10.0)
MAX_DEPTH = 12
SEEDS = (1, 2, 3, 4, 5)
# What the "add to every hidden layer" variant adds ("": nothing, the experiment as it is).
STRUCTURES = {"": N_("nothing"), "batchnorm": N_("batch normalisation"),
              "residual": N_("residual connections")}


@dataclass(frozen=True)
class Variant:
    key: str
    title: str  # in the chooser: "Activation of the hidden layers"
    short: str  # in a run's label: "Activation"
    choices: Callable[[Experiment], list[Any]]  # values to try, the current one left out
    current: Callable[[Experiment], Any]  # None: the experiment has no single value
    apply: Callable[[Spec, Any], Spec]
    words: Callable[[Any], str]


# the hidden layers --------------------------------------------------------------------
def _hidden(spec: Spec) -> list[Spec]:
    """Every node but the last (the output layer keeps its own activation)."""
    return spec["model"]["nodes"][:-1]


def _activation_of(node: Spec) -> str | None:
    if node["type"] in ACTIVATIONS:
        return node["type"]
    act = node.get("params", {}).get("activation")
    return act if act not in (None, "none") else None


def _activations(exp: Experiment) -> list[str]:
    return [a for n in _hidden(exp.to_dict()) if (a := _activation_of(n))]


def _set_activation(spec: Spec, value: str) -> Spec:
    s = copy.deepcopy(spec)
    for node in _hidden(s):
        if node["type"] in ACTIVATIONS and node["type"] != "softmax":
            node["type"], node["params"] = value, {}
        elif _activation_of(node):
            node["params"]["activation"] = value
    return s


def _mlp(exp: Experiment) -> bool:
    """A plain stack of linear layers: depth and width are then one number each."""
    nodes = exp.model.nodes
    return len(nodes) >= 2 and all(n.inputs is None for n in nodes) and all(
        n.type == "linear" for n in nodes[:-1])


def _depth(exp: Experiment) -> int | None:
    return len(exp.model.nodes) - 1 if _mlp(exp) else None


def _set_depth(spec: Spec, value: int) -> Spec:
    s = copy.deepcopy(spec)
    hidden, out = s["model"]["nodes"][:-1], s["model"]["nodes"][-1]
    taken = {n["id"] for n in s["model"]["nodes"]}
    while len(hidden) < value:
        new = copy.deepcopy(hidden[-1])
        new["id"] = _next_id(hidden[-1]["id"], taken)
        taken.add(new["id"])
        hidden.append(new)
    s["model"]["nodes"] = [*hidden[:value], out]
    return s


def _next_id(last: str, taken: set[str]) -> str:
    m = re.match(r"^(.*?)(\d+)$", last)
    stem, n = (m.group(1), int(m.group(2))) if m else (f"{last}_", 1)
    while f"{stem}{n}" in taken:
        n += 1
    return f"{stem}{n}"


def _width(exp: Experiment) -> int | None:
    units = {n.params.get("units") for n in exp.model.nodes[:-1]} if _mlp(exp) else set()
    return units.pop() if len(units) == 1 else None


def _set_width(spec: Spec, value: int) -> Spec:
    s = copy.deepcopy(spec)
    for node in _hidden(s):
        node["params"]["units"] = value
    return s


# a field ------------------------------------------------------------------------------
def _get(path: str) -> Callable[[Experiment], Any]:
    def read(exp: Experiment) -> Any:  # noqa: ANN401
        value: Any = exp.to_dict()
        for key in path.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        return value
    return read


def _set(path: str) -> Callable[[Spec, Any], Spec]:
    def write(spec: Spec, value: Any) -> Spec:  # noqa: ANN401
        s = copy.deepcopy(spec)
        *head, last = path.split(".")
        target = s
        for key in head:
            target = target.setdefault(key, {})
        target[last] = value
        return s
    return write


def _init(spec: Spec, scheme: str) -> Spec:
    s = _set("model.init.scheme")(spec, scheme)
    for node in s["model"]["nodes"]:
        node["init"] = None  # the model-wide scheme now applies everywhere
    return s


def _noise_choices(exp: Experiment) -> list[float]:
    params = {p.name: p for p in DATASETS.get(exp.data.name).params}
    p = params.get("noise")
    if p is None:
        return []
    now = exp.data.params.get("noise", p.default)
    return [v for v in NOISES if (p.min is None or v >= p.min) and (p.max is None or v <= p.max)
            and v != now]


def _lr_choices(exp: Experiment) -> list[float]:
    lr = exp.train.optimizer.lr
    return [v for f in LR_FACTORS if 0 < (v := float(f"{lr * f:.3g}")) <= 10_000]


def _others(values: tuple[Any, ...], current: Callable[[Experiment], Any],
            ) -> Callable[[Experiment], list[Any]]:
    return lambda exp: [v for v in values if v != current(exp)]


def _field(key: str, title: str, short: str, path: str, values: tuple[Any, ...],
           ) -> Variant:
    current = _get(path)
    return Variant(key, title, short, _others(values, current), current, _set(path),
                   lambda v: value_words(path, v))


def _preset_name(name: str) -> str:
    return t(_raw_preset_name(name))


@cache
def _raw_preset_name(name: str) -> str:
    """The preset's own name, read without building its data (a chooser lists them all)."""
    meta = json.loads(preset_path(name).read_text(encoding="utf-8")).get("meta", {})
    return meta.get("name", name)


def _only_activation(exp: Experiment) -> str | None:
    acts = set(_activations(exp))
    return acts.pop() if len(acts) == 1 else None


VARIANTS: dict[str, Variant] = {v.key: v for v in (
    Variant("activation", N_("Activation of the hidden layers"), N_("Activation"),
            lambda e: [a for a in HIDDEN_ACTIVATIONS if a != _only_activation(e)]
            if _activations(e) else [], _only_activation, _set_activation, shown),
    _field("optimizer", N_("Optimizer"), N_("Optimizer"), "train.optimizer.name",
           get_args(OptimizerName)),
    Variant("lr", N_("Learning rate"), N_("Learning rate"), _lr_choices,
            _get("train.optimizer.lr"), _set("train.optimizer.lr"),
            lambda v: value_words("train.optimizer.lr", v)),
    Variant("init", N_("Initialisation"), N_("Initialisation"),
            _others(get_args(InitScheme), _get("model.init.scheme")), _get("model.init.scheme"),
            _init, lambda v: value_words("model.init.scheme", v)),
    _field("batch_size", N_("Batch size"), N_("Batch size"), "train.batch_size", BATCH_SIZES),
    _field("l2", N_("L2 regularisation"), N_("L2"), "train.regularization.l2", RATES),
    _field("l1", N_("L1 regularisation"), N_("L1"), "train.regularization.l1", RATES),
    Variant("noise", N_("Data noise"), N_("Noise"), _noise_choices, _get("data.params.noise"),
            _set("data.params.noise"), lambda v: value_words("data.params.noise", v)),
    Variant("depth", N_("Number of hidden layers"), N_("Hidden layers"),
            lambda e: [n for n in range(1, MAX_DEPTH + 1) if n != _depth(e)]
            if _depth(e) else [], _depth, _set_depth, str),
    Variant("width", N_("Neurons per hidden layer"), N_("Neurons"),
            lambda e: [w for w in WIDTHS if w != _width(e)] if _mlp(e) else [], _width,
            _set_width, str),
    Variant("structure", N_("Added to every hidden layer"), N_("Added"),
            lambda e: [k for k in STRUCTURES if k] if any(
                n.type == "linear" for n in e.model.nodes[:-1]) else [],
            lambda e: "", lambda s, v: CURE_ACTIONS[v][1](s) if v else s,
            lambda v: t(STRUCTURES[v])),
    _field("seed", N_("Initial weights (seed)"), N_("Seed"), "train.seed", SEEDS),
    Variant("preset", N_("Another preset"), N_("Preset"), lambda e: list_presets(),
            lambda e: None, lambda s, v: load_preset(v).to_dict(), _preset_name),
)}


def applicable(exp: Experiment) -> list[str]:
    """The variants that have at least one value to try on ``exp``."""
    return [k for k, v in VARIANTS.items() if v.choices(exp)]


def vary(exp: Experiment, key: str, value: Any) -> Experiment:  # noqa: ANN401
    """``exp`` with one setting changed. Raises SpecError naming the setting when the
    change is not valid here, or changes nothing."""
    variant = VARIANTS[key]
    try:
        new = load_experiment(variant.apply(exp.to_dict(), value))
    except SpecError as e:
        raise SpecError([Issue(i.path, t("{setting} {value}: {message}",
                                         setting=t(variant.title), value=variant.words(value),
                                         message=i.message), i.code) for i in e.issues]) from e
    if new == exp:
        raise SpecError(Issue("", t("{setting} is already {value} here: choose another value.",
                                    setting=t(variant.title), value=variant.words(value)),
                              "no_change"))
    return new


def label(exp: Experiment, key: str, value: Any = None) -> str:  # noqa: ANN401
    """A run's name in a legend: "Activation: ReLU"; without ``value``, ``exp``'s own
    value of that setting ("Activation: sigmoid"), or its name when it has none."""
    variant = VARIANTS[key]
    if value is None:
        value = variant.current(exp)
        if value is None:
            return t(exp.meta.name)  # a preset's name has its translation
    if key == "preset":
        return variant.words(value)
    return f"{t(variant.short)}: {variant.words(value)}"
