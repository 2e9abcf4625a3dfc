"""What a data set implies for the rest of a spec: the task, the loss, the output units.

Changing the data set is one edit for the user; if the output layer kept the old
data set's units (2 for the spiral, where wine needs 3), the spec would be invalid
and nothing would train the data set they chose. ``adapt_to_data`` makes the
implied changes in the same edit, for any graph, and leaves the rest alone.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import ValidationError

from engine.data import DATASETS, DataBundle, load_data
from engine.errors import SpecError
from engine.layers import LAYERS
from engine.spec import DataSpec, TrainSpec
from engine.tasks import TASKS

Spec = dict[str, Any]
# Single-input layers that keep the shape: an output layer followed by them (a softmax, a
# dropout) still sets the model's output size.
SHAPE_KEEPING = ("activation", "regularisation")
OUTPUT_LAYERS = ("linear",)  # layers whose units are their output size


def output_node(nodes: list[Spec]) -> int | None:
    """The index of the node whose units set the model's output, or None.

    The model's output is the last node no other node reads (the engine's reading rule:
    a node without ``inputs`` reads the previous one); from there, shape-keeping layers
    are walked back to the linear layer before them."""
    if not nodes:
        return None
    ids = [n.get("id") for n in nodes]
    read = {src for i, n in enumerate(nodes)
            for src in (n.get("inputs") or ([ids[i - 1]] if i else []))}
    sinks = [i for i, nid in enumerate(ids) if nid not in read]
    if not sinks:
        return None
    i: int | None = sinks[-1]
    seen: set[int] = set()
    while i is not None and i not in seen:
        seen.add(i)
        node = nodes[i]
        kind = node.get("type")
        if kind in OUTPUT_LAYERS:
            return i
        if kind not in LAYERS or LAYERS.get(kind).category not in SHAPE_KEEPING:
            return None
        ins = node.get("inputs")
        if ins is None:
            i = i - 1 if i else None
        elif len(ins) == 1 and ins[0] in ids:
            i = ids.index(ins[0])
        else:
            return None
    return None


def load_data_or_none(data: Spec) -> DataBundle | None:
    """The data set a (possibly invalid) spec's ``data`` section loads, or None."""
    try:
        return load_data(DataSpec.model_validate(data))
    except (SpecError, ValidationError):
        return None  # the data's own problem is reported where it is checked


def _declared_kind(data: Spec) -> str | None:
    name = data.get("name")
    if name not in DATASETS:
        return None
    task = (data.get("params") or {}).get("task", "auto")
    return task if task in TASKS else DATASETS.get(name).kind


def _units_needed(train: Spec, bundle: DataBundle) -> int | None:
    """The units the output layer needs on this data: the last axis of the output shape the
    task wants (n or 1 units, or n per position of a sequence)."""
    try:
        task = TASKS.get(train.get("task") or bundle.kind).make(
            TrainSpec.model_validate(train), bundle)
    except (ValidationError, KeyError, ValueError):
        return None
    shape = getattr(task, "shape", None)
    if shape:
        return int(shape[-1])
    for units in dict.fromkeys((bundle.n_outputs, 1)):
        if task.output_problem((units,)) is None:
            return units
    return None


def adapt_to_data(spec: Spec) -> Spec:
    """``spec`` with its task, loss and output units following its data set.

    A task or loss that no longer fits the data falls back to the data's default
    (None); the output layer (see ``output_node``) gets the units the task needs. What
    cannot be adapted (a data set that does not load, a model whose last layer is not a
    linear one) is left as it is, for validation to explain."""
    s = copy.deepcopy(spec)
    train = s.setdefault("train", {})
    bundle = load_data_or_none(s.get("data") or {})
    kind = bundle.kind if bundle is not None else _declared_kind(s.get("data") or {})
    if kind is None:
        return s
    task = train.get("task")
    if task is not None and (task not in TASKS or kind not in TASKS.get(task).kinds):
        train["task"] = task = None
    loss = train.get("loss")
    task_type = TASKS.get(task or kind)
    if loss is not None and (loss not in task_type.losses or (
            loss == "bce" and bundle is not None and bundle.n_outputs != 2)):
        train["loss"] = None
    if bundle is None:
        return s
    nodes = (s.get("model") or {}).get("nodes") or []
    out = output_node(nodes)
    units = _units_needed(train, bundle)
    if out is not None and units is not None:
        node = nodes[out]
        node["params"] = {**(node.get("params") or {}), "units": units}
    return s
