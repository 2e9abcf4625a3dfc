"""What differs between two experiments, in plain words.

Both are compared in their canonical full form, so a value left out of one file
and spelled out as its default in the other is no difference. Layers are matched
by id: "Layer 2 (h2), activation: sigmoid → ReLU", "Layer 4 (h3) added". The same
change made to several layers is said once for all of them. The name, notes and
the views recorded are not compared: they do not change what is learned.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from engine.data import DATASETS
from engine.i18n import N_, t
from engine.layers import LAYERS
from engine.names import shown
from engine.places import field_words, joined, place, setting
from engine.spec import Experiment

# What "not set" means where a setting may be left unset.
UNSET = {
    "train.epochs": N_("until paused"), "train.grad_clip": N_("off"),
    "train.task": N_("the data set's own"), "train.loss": N_("the task's usual"),
    "data.features": N_("the data set's own inputs"),
    "train.early_stopping.patience": N_("off"), "train.init_from": N_("fresh weights"),
    "node.init": N_("as the whole model"),
}
# Compared whole, never field by field.
WHOLE = ("train.init_from",)
LIST_AT_MOST = 4  # ids named in one line before the rest are counted


def differences(a: Experiment, b: Experiment) -> list[str]:
    """Each difference from ``a`` to ``b`` as one line of words, data first, then the
    model (layer by layer), then training."""
    da, db = a.to_dict(), b.to_dict()
    out = _data(da["data"], db["data"])
    out += _model(da["model"], db["model"])
    out += _flat_changes("train", da["train"], db["train"])
    return out


def change(path: str, old: Any, new: Any) -> str:  # noqa: ANN401
    """One setting's change: "Learning rate: 0.1 → 0.01"."""
    return said(setting(path), value_words(path, old), value_words(path, new))


def said(where: str, old: str, new: str) -> str:
    return t("{setting}: {old} → {new}", setting=where, old=old, new=new)


def value_words(path: str, value: Any) -> str:  # noqa: ANN401
    """A setting's value as a person reads it: words for names, few digits for numbers."""
    if value is None:
        return t(UNSET.get(path, N_("none")))
    if isinstance(value, bool):
        return t("on") if value else t("off")
    if isinstance(value, int | float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        return joined([value_words(path, v) for v in value]) if value else t("none")
    if isinstance(value, dict):
        if path == "train.init_from":
            frozen = value.get("freeze") or []
            return (t("saved run {run}, {nodes} frozen", run=value["run"],
                      nodes=", ".join(frozen)) if frozen
                    else t("saved run {run}", run=value["run"]))
        return joined([f"{field_words(k)} {value_words(path, v)}" for k, v in value.items()])
    if path == "data.name" and value in DATASETS:
        return t(DATASETS.get(value).title)
    if path.endswith("init.scheme") and value == "default":
        return t("PyTorch's default")
    return shown(value)


# data ---------------------------------------------------------------------------------
def _data(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    out = [change("data.name", a["name"], b["name"])] if a["name"] != b["name"] else []
    pa, pb = _with_defaults(_dataset_params(a["name"]), a["params"]), _with_defaults(
        _dataset_params(b["name"]), b["params"])
    same_set = a["name"] == b["name"]
    for key in dict.fromkeys([*pa, *pb]):
        # Parameters of another data set come with it: only shared ones are compared.
        if (same_set or (key in pa and key in pb)) and pa.get(key) != pb.get(key):
            out.append(change(f"data.params.{key}", pa.get(key), pb.get(key)))
    rest = {k: v for k, v in a.items() if k not in ("name", "params")}
    return out + _flat_changes("data", rest, {k: b[k] for k in rest})


def _dataset_params(name: str) -> dict[str, Any]:
    return {p.name: p.default for p in DATASETS.get(name).params} if name in DATASETS else {}


def _with_defaults(defaults: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    return {**defaults, **given}


# model --------------------------------------------------------------------------------
def _model(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    nodes_a = {n["id"]: (i, n) for i, n in enumerate(a["nodes"])}
    nodes_b = {n["id"]: (i, n) for i, n in enumerate(b["nodes"])}
    inputs_a, inputs_b = _resolved_inputs(a["nodes"]), _resolved_inputs(b["nodes"])
    removed = [i for i in nodes_a if i not in nodes_b]
    added = [i for i in nodes_b if i not in nodes_a]
    out = _listed(N_("Layer {n} ({id}) removed"),
                  N_("{count} layers removed ({kinds}): {ids}"), [nodes_a[i] for i in removed])
    out += _listed(N_("Layer {n} ({id}) added: {kind}"),
                   N_("{count} layers added ({kinds}): {ids}"), [nodes_b[i] for i in added])
    # (field words, old words, new words) -> the layers changed that way, by their place in
    # the first experiment.
    changes: dict[tuple[str, str, str], list[tuple[int, str]]] = {}
    for node_id, (pos, na) in nodes_a.items():
        if node_id not in nodes_b:
            continue
        for field, old, new in _node_changes(na, nodes_b[node_id][1]):
            changes.setdefault((field, old, new), []).append((pos, node_id))
        old_in, new_in = inputs_a[node_id], inputs_b[node_id]
        # Reading through layers put in between (a batch norm, a residual sum) or past
        # layers taken out is what the added and removed lines already say.
        was = set(_through(old_in, inputs_a, set(removed)))
        if was <= set(_through(new_in, inputs_b, set(added))) and was >= {
                n for n in new_in if n not in added}:
            continue
        key = (field_words("inputs"), joined(old_in), joined(new_in))
        changes.setdefault(key, []).append((pos, node_id))
    for (field, old, new), where in changes.items():
        out.append(said(joined([_layers(where), field]), old, new))
    return out + _flat_changes("model.init", a["init"], b["init"])


def _node_changes(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, str, str]]:
    out = []
    if a["type"] != b["type"]:
        out.append((field_words("type"), shown(a["type"]), shown(b["type"])))
    pa = _with_defaults(_layer_params(a["type"]), a["params"])
    pb = _with_defaults(_layer_params(b["type"]), b["params"])
    for key in dict.fromkeys([*pa, *pb]):
        if (a["type"] == b["type"] or (key in pa and key in pb)) and pa.get(key) != pb.get(key):
            out.append((field_words(key), value_words(key, pa.get(key)),
                        value_words(key, pb.get(key))))
    ia, ib = a.get("init"), b.get("init")
    if ia != ib:
        if ia is None or ib is None:
            out.append((t("initialisation"), _node_init_words(ia), _node_init_words(ib)))
        else:
            for key in ia:
                if ia[key] != ib[key]:
                    out.append((joined([t("initialisation"), field_words(key)]),
                                value_words(f"init.{key}", ia[key]),
                                value_words(f"init.{key}", ib[key])))
    return out


def _node_init_words(init: dict[str, Any] | None) -> str:
    return value_words("node.init", None) if init is None else value_words(
        "init.scheme", init["scheme"])


def _layer_params(kind: str) -> dict[str, Any]:
    return {p.name: p.default for p in LAYERS.get(kind).params} if kind in LAYERS else {}


def _resolved_inputs(nodes: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Each node's inputs, with "the previous node" (no inputs given) spelled out."""
    out, previous = {}, "input"
    for n in nodes:
        out[n["id"]] = list(n["inputs"]) if n.get("inputs") else [previous]
        previous = n["id"]
    return out


def _through(start: list[str], inputs: dict[str, list[str]], skip: set[str]) -> list[str]:
    """The nodes reached from ``start`` going back through ``skip`` nodes only."""
    reached, todo, seen = [], list(start), set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        if node in skip:
            todo.extend(inputs.get(node, []))
        else:
            reached.append(node)
    return reached


def _layers(where: list[tuple[int, str]]) -> str:
    """One layer by its place ("Layer 2 (h2)"), several at once ("Layers 1–9 (h1 … h9)")."""
    if len(where) == 1:
        pos, node = where[0]
        return place(f"model.nodes[{pos}] ({node})")
    positions = [p + 1 for p, _ in where]
    ids = [i for _, i in where]
    contiguous = positions == list(range(positions[0], positions[-1] + 1))
    if contiguous and len(where) > 2:
        return t("Layers {numbers} ({ids})", numbers=f"{positions[0]}–{positions[-1]}",
                 ids=f"{ids[0]} … {ids[-1]}")
    return t("Layers {numbers} ({ids})", numbers=", ".join(map(str, positions)),
             ids=", ".join(ids))


def _listed(one: str, many: str, items: list[tuple[int, dict[str, Any]]]) -> list[str]:
    """Added or removed layers: each on its own line, or one line when there are many."""
    if len(items) < LIST_AT_MOST:
        return [t(one, n=pos + 1, id=node["id"], kind=shown(node["type"]))
                for pos, node in items]
    ids = [node["id"] for _, node in items]
    kinds = Counter(shown(node["type"]) for _, node in items)
    return [t(many, count=len(ids), kinds=joined([f"{n} × {k}" for k, n in kinds.items()]),
              ids=", ".join(ids[:LIST_AT_MOST]) + (" …" if len(ids) > LIST_AT_MOST else ""))]


# any section, field by field ------------------------------------------------------------
def _flat_changes(prefix: str, a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    fa, fb = _flatten(prefix, a), _flatten(prefix, b)
    return [change(path, fa.get(path), fb.get(path))
            for path in dict.fromkeys([*fa, *fb]) if fa.get(path) != fb.get(path)]


def _flatten(prefix: str, value: Any) -> dict[str, Any]:  # noqa: ANN401
    if isinstance(value, dict) and prefix not in WHOLE:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out |= _flatten(f"{prefix}.{k}", v)
        return out
    return {prefix: value}
