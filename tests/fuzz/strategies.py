"""Experiment specs for fuzzing, drawn from the registries and from the presets.

Two families: ``well_formed_specs`` builds specs the way a user of the Build page would
(registered layer types, data sets, probes, optimizers and schedules, parameters mostly
inside their declared ranges but now and then just outside or of the wrong kind), and
``mutated_specs`` damages a preset the way a hand-edited file or a doctored link would
(any value replaced by arbitrary JSON, keys removed or invented, nodes repeated).
"""

from __future__ import annotations

import copy
import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from engine.data import DATASETS
from engine.layers import LAYERS
from engine.params import Param
from engine.probes import PROBES
from engine.spec import DataSpec

PRESETS = Path(__file__).resolve().parents[2] / "presets"
# Data sets whose files come from the user or a download: the fuzz test places a small file
# for the first two and keeps the network away from the others (offline message).
FILE_SETS = ("csv", "image_folder")
DOWNLOADED = ("mnist", "fashion_mnist", "cifar10")
# Parameters that size the data: kept small most of the time, so a case costs milliseconds;
# the declared maximum still comes up now and then (the budget must refuse what is too big).
SIZE_PARAMS = {"n_samples": 200, "n_per_class": 20, "per_class": 20, "max_per_class": 20,
               "length": 16, "max_rows": 200}
FLAT, IMAGE, SEQUENCE = "flat", "image", "sequence"
FAMILY_LAYERS = {
    FLAT: ("linear", "dropout", "batchnorm1d", "layernorm", "relu", "tanh", "sigmoid", "elu",
           "gelu", "silu", "softplus", "leaky_relu", "identity", "softmax", "sign"),
    IMAGE: ("conv2d", "maxpool2d", "avgpool2d", "batchnorm2d", "dropout2d", "upsample",
            "conv_transpose2d", "adaptive_avgpool2d", "adaptive_maxpool2d", "relu", "tanh"),
    SEQUENCE: ("embedding", "positional", "rnn", "lstm", "gru", "conv1d", "attention",
               "multihead_attention", "transformer_encoder", "layernorm", "linear", "relu",
               "dropout"),
}
# What turns a family's shape into a flat vector before the head.
TO_FLAT = {FLAT: (), IMAGE: ("flatten", "global_avgpool"), SEQUENCE: ("flatten",)}
MERGES = ("add", "concat", "multiply")
OPTIMIZERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw")
SCHEDULES = ("constant", "step", "exponential", "cosine", "one_cycle")
LOSSES = ("cross_entropy", "bce", "mse", "mae", "huber")
INIT_SCHEMES = ("default", "xavier_uniform", "xavier_normal", "he_uniform", "he_normal",
                "normal", "uniform", "zeros")

# Values that have broken parsers before: wrong kinds, edges, non-finite and huge numbers.
NASTY = st.sampled_from([
    None, True, False, 0, -1, 1, 2**31, 2**63, -(2**63), 10**30, 0.5, -0.0, 1e-320, 1e308,
    math.inf, -math.inf, math.nan, "", " ", "0", "1e9", "NaN", "x" * 300, "input", "∞", [], {},
    [1, 2], {"a": 1}, [None], "../../etc/passwd", "/dev/zero",
]).map(copy.deepcopy)  # a fresh copy: a later mutation must not change the constant
JSON_LEAF = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
             | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20) | NASTY)
JSON = st.recursive(JSON_LEAF, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)


def chance(draw: st.DrawFn, p: float) -> bool:
    """True with probability about ``p``; shrinks towards False (the simpler spec)."""
    return draw(st.integers(0, 999)) >= 1000 * (1 - p)


# -- declared parameters -------------------------------------------------------------------
def in_range(p: Param) -> st.SearchStrategy[Any]:
    """A value the declaration accepts (sizes biased small, the extremes included)."""
    if p.choices is not None:
        return st.sampled_from(p.choices)
    if p.kind is bool:
        return st.booleans()
    if p.kind is str:  # free text (a CSV's target column, own text): the default or anything
        return st.one_of(st.just(p.default), st.just(p.default), st.text(max_size=40))
    lo = p.min if p.min is not None else -1e6
    hi = p.max if p.max is not None else 1e6
    if p.kind is int:
        lo, hi = int(math.ceil(lo)), int(math.floor(hi))
        small = min(hi, max(lo, SIZE_PARAMS.get(p.name, 16)))
        return st.one_of(st.integers(lo, small), st.integers(lo, small),
                         st.integers(lo, small), st.sampled_from([lo, hi]))
    return st.one_of(st.floats(lo, hi, allow_nan=False), st.sampled_from([lo, hi]))


def out_of_range(p: Param) -> st.SearchStrategy[Any]:
    """A value the declaration refuses: past an end, of the wrong kind, or non-finite."""
    edges = []
    if p.kind in (int, float):
        step = 1 if p.kind is int else 1e-3
        edges += [p.min - step] if p.min is not None else []
        edges += [p.max + step] if p.max is not None else []
        edges += [math.nan, math.inf, "3", True] + ([2.5] if p.kind is int else [])
    elif p.kind is bool:
        edges += [0, 1, "true", None]
    else:
        edges += [3, None, ["x"]]
        if p.choices is not None:
            edges.append(f"{p.choices[0]}_not")
    return st.sampled_from(edges) if edges else NASTY


def param_values(decl: tuple[Param, ...], bad: float = 0.08) -> st.SearchStrategy[dict]:
    """Parameters for ``decl``: each left out, valid, or (rarely) invalid; now and then an
    unknown key."""

    @st.composite
    def draw_params(draw: st.DrawFn) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for p in decl:
            roll = draw(st.integers(0, 999))
            if roll < 350:
                continue
            out[p.name] = draw(out_of_range(p) if roll >= 1000 * (1 - bad) else in_range(p))
        if chance(draw, bad / 2):
            out[draw(st.sampled_from(["unit", "size", "p", "kernel", "zz"]))] = draw(JSON_LEAF)
        return out

    return draw_params()


# -- data -----------------------------------------------------------------------------------
@lru_cache(maxsize=256)
def data_facts(spec_json: str) -> tuple[str, tuple[int, ...], int, int] | None:
    """(family, input shape, outputs, vocabulary size) of a data spec that loads, else None:
    lets a drawn model end in a head that fits (more specs get as far as a training step)."""
    from engine.data import load_data
    from engine.errors import SpecError

    try:
        d = load_data(DataSpec.model_validate(json.loads(spec_json)))
    except (SpecError, ValueError):
        return None
    family = IMAGE if d.image is not None else SEQUENCE if d.vocab or d.kind == "sequence" \
        or len(d.input_shape) == 2 else FLAT
    return family, tuple(d.input_shape), int(d.n_outputs), len(d.vocab or ())


@st.composite
def data_sections(draw: st.DrawFn, files: dict[str, str] | None = None) -> dict[str, Any]:
    names = [d.name for d in DATASETS if d.name not in DOWNLOADED]
    if files is None:
        names = [n for n in names if n not in FILE_SETS]
    name = draw(st.sampled_from([*names, *DOWNLOADED]) if chance(draw, 0.03)
                else st.sampled_from(names))
    params = draw(param_values(DATASETS.get(name).params, bad=0.04))
    if name in FILE_SETS and files and chance(draw, 0.9):
        params["path"] = files[name]
    if name == "text" and params.get("source") == "own" and "text" not in params:
        params["text"] = draw(st.text(min_size=0, max_size=300))
    out: dict[str, Any] = {"name": name, "params": params}
    if chance(draw, 0.2):
        out["seed"] = draw(st.integers(0, 2**31 - 1))
    if chance(draw, 0.1):
        out["features"] = draw(st.lists(st.sampled_from(
            ["x1", "x2", "x1^2", "x2^2", "x1x2", "sin_x1", "sin_x2", "x3"]), max_size=7))
    if chance(draw, 0.1):
        out["augment"] = {"flip": draw(st.booleans()), "shift": draw(st.integers(0, 8)),
                          "rotate": draw(st.floats(0, 45)), "noise": draw(st.floats(0, 1)),
                          "cutout": draw(st.integers(0, 32))}
    return out


# -- the model graph --------------------------------------------------------------------------
def layer_node(draw: st.DrawFn, node_id: str, type_: str, bad: float) -> dict[str, Any]:
    node: dict[str, Any] = {"id": node_id, "type": type_,
                            "params": draw(param_values(LAYERS.get(type_).params, bad))}
    if chance(draw, 0.05):
        node["init"] = {"scheme": draw(st.sampled_from(INIT_SCHEMES)),
                        "std": draw(st.floats(1e-3, 100)), "range": draw(st.floats(1e-3, 100))}
    return node


@st.composite
def model_sections(draw: st.DrawFn, facts: tuple | None) -> dict[str, Any]:
    """A graph for the data's family (or, now and then, any registered type anywhere), with
    merges reading earlier nodes, ending in a head sized for the data when it is known."""
    family, _, n_out, vocab = facts or (draw(st.sampled_from([FLAT, IMAGE, SEQUENCE])), (), 2, 0)
    bad = draw(st.sampled_from([0.0, 0.0, 0.05, 0.2]))
    anything = chance(draw, 0.1)
    nodes: list[dict[str, Any]] = []
    if family == SEQUENCE and vocab and chance(draw, 0.8):
        node = layer_node(draw, "embed", "embedding", bad)
        node["params"]["vocab_size"] = vocab
        nodes.append(node)
    for i in range(draw(st.integers(0, 5))):
        if anything:
            type_ = draw(st.sampled_from(LAYERS.names()))
        else:
            type_ = draw(st.sampled_from(FAMILY_LAYERS[family] + MERGES[:1] * 2 + MERGES))
        node = layer_node(draw, f"n{i}", type_, bad)
        lt = LAYERS.get(type_)
        if lt.min_inputs > 1 or (lt.is_merge and chance(draw, 0.3)):
            earlier = ["input", *(n["id"] for n in nodes)]
            node["inputs"] = draw(st.lists(st.sampled_from(earlier), min_size=lt.min_inputs,
                                           max_size=max(lt.min_inputs, 3)))
            if nodes and nodes[-1]["id"] not in node["inputs"]:
                node["inputs"].append(nodes[-1]["id"])  # keeps the previous node in use
        nodes.append(node)
    if chance(draw, 0.8):
        for type_ in TO_FLAT[family][:1] if draw(st.booleans()) else TO_FLAT[family][1:]:
            nodes.append({"id": "to_flat", "type": type_})
    head = {"id": "out", "type": "linear", "params": {"units": n_out}}
    if chance(draw, 0.15):
        head["params"]["units"] = draw(st.integers(1, 12))
    nodes.append(head)
    if chance(draw, 0.05):  # a damaged graph: a repeated id, a cycle, a dangling read
        victim = draw(st.sampled_from(nodes))
        how = draw(st.sampled_from(["repeat", "cycle", "dangling", "reserved"]))
        if how == "repeat":
            nodes.insert(draw(st.integers(0, len(nodes))), dict(victim))
        elif how == "cycle":
            victim["inputs"] = [nodes[-1]["id"]]
        elif how == "dangling":
            victim["inputs"] = ["nowhere"]
        else:
            victim["id"] = "input"
    model: dict[str, Any] = {"nodes": nodes}
    if chance(draw, 0.1):
        model["init"] = {"scheme": draw(st.sampled_from(INIT_SCHEMES))}
    return model


# -- training and probes ------------------------------------------------------------------------
@st.composite
def train_sections(draw: st.DrawFn) -> dict[str, Any]:
    def maybe(strategy: st.SearchStrategy[Any], p: float = 0.3) -> Any:
        return draw(strategy) if chance(draw, p) else None

    opt: dict[str, Any] = {"name": draw(st.sampled_from(OPTIMIZERS))}
    for key, strategy in (("lr", st.floats(1e-6, 10000)), ("momentum", st.floats(0, 0.999)),
                          ("alpha", st.floats(0, 0.999)), ("nesterov", st.booleans()),
                          ("beta1", st.floats(0, 0.999)), ("beta2", st.floats(0, 0.9999)),
                          ("eps", st.floats(1e-12, 1)), ("weight_decay", st.floats(0, 10))):
        value = maybe(strategy)
        if value is not None:
            opt[key] = value
    train: dict[str, Any] = {
        "device": draw(st.sampled_from(["cpu"] * 8 + ["auto", "cuda", "mps"])),
        "optimizer": opt,
        "batch_size": draw(st.one_of(st.integers(1, 64), st.integers(1, 65536))),
        "epochs": draw(st.one_of(st.none(), st.integers(1, 5), st.just(1_000_000))),
        "seed": draw(st.integers(0, 2**31 - 1)),
    }
    extras = {
        "task": st.sampled_from(["classification", "regression"]),
        "loss": st.sampled_from(LOSSES),
        "schedule": st.fixed_dictionaries({"name": st.sampled_from(SCHEDULES)}, optional={
            "step_size": st.integers(1, 100000), "gamma": st.floats(1e-6, 1),
            "warmup": st.floats(0, 0.999)}),
        "regularization": st.fixed_dictionaries({}, optional={"l1": st.floats(0, 10),
                                                              "l2": st.floats(0, 10)}),
        "grad_clip": st.floats(1e-6, 1e6),
        "early_stopping": st.fixed_dictionaries({}, optional={
            "patience": st.integers(1, 100000), "min_delta": st.floats(0, 1e6)}),
        "eval_every": st.integers(1, 10000),
    }
    for key, strategy in extras.items():
        value = maybe(strategy)
        if value is not None:
            train[key] = value
    return train


@st.composite
def probe_sections(draw: st.DrawFn) -> list[dict[str, Any]] | None:
    if chance(draw, 0.3):
        return None  # the defaults
    names = [p.name for p in PROBES]
    out = []
    for name in draw(st.lists(st.sampled_from(names), max_size=5, unique=True)):
        out.append({"name": name, "every": draw(st.integers(1, 5)),
                    "params": draw(param_values(PROBES.get(name).params))})
    if chance(draw, 0.03):
        out.append({"name": draw(st.sampled_from(["gradient_flo", "loss", ""]))})
    return out


@st.composite
def well_formed_specs(draw: st.DrawFn, files: dict[str, str] | None = None) -> dict[str, Any]:
    """A spec a user could build on the pages, mostly valid."""
    data = draw(data_sections(files))
    facts = data_facts(json.dumps({k: v for k, v in data.items() if k != "augment"},
                                  sort_keys=True, default=str))
    spec: dict[str, Any] = {"schema": 1, "data": data, "model": draw(model_sections(facts)),
                            "train": draw(train_sections())}
    probes = draw(probe_sections())
    if probes is not None:
        spec["probes"] = probes
    if chance(draw, 0.05):
        spec["meta"] = {"name": draw(st.text(max_size=130)),
                        "description": draw(st.text(max_size=50))}
    return spec


# -- damaged presets -------------------------------------------------------------------------
@lru_cache(maxsize=1)
def preset_dicts() -> tuple[str, ...]:
    files = sorted(p for p in PRESETS.glob("*.json") if p.stem not in ("curriculum", "course",
                                                                       "schema"))
    return tuple(p.read_text(encoding="utf-8") for p in files)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in a JSON tree (the root included)."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _get(tree: Any, path: tuple) -> Any:
    for part in path:
        tree = tree[part]
    return tree


@st.composite
def mutated_specs(draw: st.DrawFn) -> Any:
    """A preset with one to four places damaged (usually still a dict, not always)."""
    spec = json.loads(draw(st.sampled_from(preset_dicts())))
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(spec)
        # Lesson texts are most of a preset's places; the damage that matters is elsewhere.
        # Deepest first: the draw's simplest choice is then a layer's parameter, not the
        # schema number.
        working = sorted((p for p in paths[1:] if p[0] != "meta"), key=len, reverse=True)
        path = draw(st.sampled_from(working if working and not chance(draw, 0.1)
                                    else paths[1:] or paths))
        how = draw(st.sampled_from(["replace", "replace", "nasty", "delete", "add", "copy"]))
        if not path:
            spec = draw(JSON)
            continue
        parent, key = _get(spec, path[:-1]), path[-1]
        if how == "replace":
            parent[key] = draw(JSON)
        elif how == "nasty":
            parent[key] = draw(NASTY)
        elif how == "delete":
            del parent[key]
        elif how == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "params", "inputs", "id", "type", "every",
                                         "name"]))] = draw(JSON)
        elif how == "add":
            parent.insert(key, draw(JSON))
        else:  # a copy of another place: a node repeated, a section where a number goes
            parent[key] = json.loads(json.dumps(_get(spec, draw(st.sampled_from(paths)))))
    return spec
