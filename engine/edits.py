"""A lesson step's edit: spec paths to new values, applied to a spec dict.

A step's button says "switch to ReLU" and carries ``{"model.nodes.*.params.activation":
"relu"}``; this module turns such paths into a changed spec dict. It only edits: the
result is validated like any other edit by whoever applies it (the session's
``apply``), so a bad value changes nothing there.

Paths are dotted names through the full spec:

- ``train.optimizer.lr``, ``data.params.noise``, ``model.init.scheme``: a field.
- ``model.nodes.<id>.type``, ``model.nodes.<id>.params.<name>``: a node, by its id.
- ``model.nodes.*.params.<name>``: every node that already sets that parameter
  (``"relu"`` for every layer that names an activation, the output layer untouched).
- ``probes.<name>.every``: a probe, by its name; a number picks a list item by position.
- ``model.insert_after.<id>``: a node dict (or a list of them) placed after node ``<id>``;
  whatever read ``<id>`` reads the new node instead.
- ``model.remove.<id>``: ``true`` removes that node; whatever read it reads its input.

A path that names nothing is a SpecError naming the path and the fix.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from engine.errors import Issue, SpecError
from engine.i18n import t

WILDCARD = "*"
# Dicts whose keys are free (a layer's or a data set's parameters): a path may add a key
# there; anywhere else a key must already exist, so a typo is caught here, by name.
FREE_KEYS = ("params",)


def apply_edit(spec: Any, edit: Mapping[str, Any]) -> dict[str, Any]:  # noqa: ANN401
    """``spec`` (an Experiment or a spec dict, left unchanged) with ``edit`` applied, in
    order, as a new full spec dict. Raises SpecError for a path that names nothing."""
    data = spec.to_dict() if hasattr(spec, "to_dict") else copy.deepcopy(dict(spec))
    if not isinstance(edit, Mapping):
        raise SpecError(Issue("edit", t("an edit is a mapping of spec paths to values"),
                              "edit_form"))
    for path, value in edit.items():
        _apply_one(data, str(path), copy.deepcopy(value))
    return data


def check_edit(spec: Any, edit: Mapping[str, Any]) -> list[Issue]:  # noqa: ANN401
    """The problems of applying ``edit`` to ``spec`` and validating the result (none: it
    applies cleanly)."""
    from engine.validate import load_experiment

    try:
        load_experiment(apply_edit(spec, edit))
    except SpecError as e:
        return e.issues
    return []


def _fail(path: str, message: str, code: str = "edit_path") -> SpecError:
    return SpecError(Issue(path, message, code))


def _apply_one(data: dict[str, Any], path: str, value: Any) -> None:  # noqa: ANN401
    parts = path.split(".")
    if not path or any(p == "" for p in parts):
        raise _fail(path or "edit", t("an edit path is dotted names such as "
                                      "train.optimizer.lr"))
    if parts[:2] == ["model", "insert_after"] and len(parts) == 3:
        _insert_after(data, path, parts[2], value)
    elif parts[:2] == ["model", "remove"] and len(parts) == 3:
        if value is not True:
            raise _fail(path, t("to remove a node, set its path to true"))
        _remove(data, path, parts[2])
    elif parts[:3] == ["model", "nodes", WILDCARD]:
        if len(parts) < 4:
            raise _fail(path, t("name what to change in every node, e.g. "
                                "model.nodes.*.params.activation"))
        hits = 0
        for node in data["model"]["nodes"]:
            if _exists(node, parts[3:]):
                _set(node, parts[3:], value, path, "model.nodes." + node["id"])
                hits += 1
        if not hits:
            raise _fail(path, t("no node sets {what}: name a node by its id instead of *",
                                what=".".join(parts[3:])))
    else:
        _set(data, parts, value, path, "")


def _exists(target: Any, parts: list[str]) -> bool:  # noqa: ANN401
    for part in parts:
        if isinstance(target, dict) and part in target:
            target = target[part]
        else:
            return False
    return True


def _set(target: Any, parts: list[str], value: Any, path: str, where: str) -> None:  # noqa: ANN401
    """Walk ``parts`` from ``target`` (found at ``where``) and set the last one."""
    fresh = False  # inside an optional section this edit starts: any key may go there
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        here = f"{where}.{part}" if where else part
        if isinstance(target, list):
            index = _index(target, part, path, where)
            if last:
                target[index] = value
                return
            target = target[index]
        elif isinstance(target, dict):
            free = fresh or where.rsplit(".", 1)[-1] in FREE_KEYS
            if part not in target and not free:
                raise _fail(path, t("{where} has no {name} (it has: {known})",
                                    where=where or t("the spec"), name=part,
                                    known=", ".join(map(str, target)) or t("nothing")))
            if last:
                target[part] = value
                return
            if target.get(part) is None:
                target[part] = {}  # an unset optional section (a node's init) starts empty
                fresh = True
            target = target[part]
        else:
            raise _fail(path, t("{where} is a single value, not a section: end the path "
                                "there", where=where))
        where = here


def _index(items: list[Any], part: str, path: str, where: str) -> int:
    """A list item by its id (nodes), its name (probes) or its position."""
    for i, item in enumerate(items):
        if isinstance(item, dict) and part in (item.get("id"), item.get("name")):
            return i
    if part.isdigit() and int(part) < len(items):
        return int(part)
    names = [str(x.get("id") or x.get("name")) for x in items if isinstance(x, dict)]
    if where == "model.nodes":
        raise _fail(path, t("no node {id} (nodes: {ids})", id=part, ids=", ".join(names)),
                    "edit_node")
    raise _fail(path, t("{where} has no item {name} (items: {known})", where=where, name=part,
                        known=", ".join(names) or t("none")))


def _insert_after(data: dict[str, Any], path: str, node_id: str, value: Any) -> None:  # noqa: ANN401
    nodes: list[dict[str, Any]] = data["model"]["nodes"]
    new = value if isinstance(value, list) else [value]
    if not new or not all(isinstance(n, dict) and n.get("id") and n.get("type") for n in new):
        raise _fail(path, t("the new node needs an id and a type (for example the id bn1 and "
                            "the type batchnorm1d)"))
    at = _index(nodes, node_id, path, "model.nodes")
    taken = {n["id"] for n in nodes}
    for n in new:
        if n["id"] in taken:
            raise _fail(path, t("a node {id} exists already: give the new node another id",
                                id=n["id"]), "edit_node")
        taken.add(n["id"])
    chain = [{"params": {}, "inputs": None, "init": None, **n} for n in new]
    # Whatever read the node by name now reads the new one; the new node itself reads it as
    # the list's previous node, and so does the next node that named no inputs.
    last = chain[-1]["id"]
    for node in nodes:
        if node.get("inputs"):
            node["inputs"] = [last if i == node_id else i for i in node["inputs"]]
    nodes[at + 1:at + 1] = chain


def _remove(data: dict[str, Any], path: str, node_id: str) -> None:
    nodes: list[dict[str, Any]] = data["model"]["nodes"]
    at = _index(nodes, node_id, path, "model.nodes")
    if len(nodes) == 1:
        raise _fail(path, t("a model needs at least one node: add another before removing "
                            "{id}", id=node_id))
    gone = nodes.pop(at)
    # Whatever read the removed node reads what it read: its one input, or the list's
    # previous node.
    source = gone.get("inputs") or ([nodes[at - 1]["id"]] if at > 0 else ["input"])
    readers = [n for n in nodes if n.get("inputs") and node_id in n["inputs"]]
    implicit = at < len(nodes) and nodes[at].get("inputs") is None and gone.get("inputs")
    if (readers or implicit) and len(source) != 1:
        raise _fail(path, t("{id} joins several inputs; remove the nodes that read it first",
                            id=node_id))
    for node in readers:
        node["inputs"] = [source[0] if i == node_id else i for i in node["inputs"]]
    if implicit:
        nodes[at]["inputs"] = [source[0]]
