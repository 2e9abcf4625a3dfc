"""Starting from a saved run's weights: fine-tuning.

A model's node ``id`` owns the state-dict entries ``layers.<id>.<name>`` (see
``GraphModel``). A node whose id is in the saved run, with the same entries of the same
shapes, takes the saved values (parameters and buffers such as batch-norm statistics);
every other node keeps its fresh initial weights, and the report says why. Frozen nodes
get ``requires_grad = False`` before the trainer collects its parameters, so the optimizer
never holds them and neither weight decay nor L1/L2 can move them. A frozen node's
batch-norm statistics still follow the new data, as in the usual recipe.

Who may start from a run: the run id in ``train.init_from.run`` is the capability (see
``engine.runs``); it is unguessable, and it gives the weights only, not the run's
experiment, curves or name.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from engine.errors import Issue
from engine.i18n import t
from engine.spec import InitFrom

PREFIX = "layers."


@dataclass(frozen=True)
class InitReport:
    """What starting from a saved run did to each node."""

    run: str
    copied: list[str] = field(default_factory=list)  # node ids that took the saved weights
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (node id, why), fresh
    frozen: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)  # saved nodes this model lacks

    def lines(self) -> list[str]:
        """The report in sentences, for the page."""
        out = []
        if self.copied:
            out.append(t("Copied from the saved run: {nodes}.", nodes=", ".join(self.copied)))
        for node, why in self.skipped:
            out.append(t("{node} starts fresh: {why}.", node=node, why=why))
        if self.frozen:
            out.append(t("Frozen (not trained): {nodes}.", nodes=", ".join(self.frozen)))
        if self.unused:
            out.append(t("In the saved run but not in this model: {nodes}.",
                         nodes=", ".join(self.unused)))
        return out


def by_node(weights: Mapping[str, torch.Tensor]) -> dict[str, dict[str, torch.Tensor]]:
    """A GraphModel state dict grouped by node id: id -> {entry name: tensor}."""
    out: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in weights.items():
        if key.startswith(PREFIX) and "." in key[len(PREFIX):]:
            node, name = key[len(PREFIX):].split(".", 1)
            out.setdefault(node, {})[name] = value
    return out


def _shape(x: torch.Tensor) -> str:
    return "×".join(str(d) for d in x.shape) or t("a single number")


def apply_weights(layers: nn.ModuleDict, weights: Mapping[str, torch.Tensor],
                  freeze: Iterable[str] = (), run: str = "") -> InitReport:
    """Copy matching nodes' saved weights into ``layers`` (a GraphModel's ``layers``), freeze
    the nodes named in ``freeze``, and report per node."""
    saved = by_node(weights)
    report = InitReport(run)
    for node, module in layers.items():
        mine = module.state_dict()
        if not mine:
            continue  # nothing to copy (an activation, a pooling)
        theirs = saved.get(node)
        if theirs is None:
            report.skipped.append((node, t("the saved run has no node with this id")))
            continue
        if set(theirs) != set(mine):
            report.skipped.append((node, t("its weights are of another kind in the saved run")))
            continue
        diff = next((k for k in mine if theirs[k].shape != mine[k].shape), None)
        if diff is not None:
            report.skipped.append((node, t(
                "{entry} is {here} here but {there} in the saved run", entry=diff,
                here=_shape(mine[diff]), there=_shape(theirs[diff]))))
            continue
        with torch.no_grad():
            module.load_state_dict({k: v.to(mine[k].dtype) for k, v in theirs.items()})
        report.copied.append(node)
    report.unused.extend(n for n in saved if n not in layers)
    for node in dict.fromkeys(freeze):
        if node in layers:
            for p in layers[node].parameters():
                p.requires_grad_(False)
            report.frozen.append(node)
    return report


def init_issues(init: InitFrom, node_ids: Iterable[str]) -> list[Issue]:
    """Problems with ``train.init_from`` that validation reports: an unknown run, a frozen
    node the model lacks. Only the database is read, not the weights."""
    from engine.runs import RunError, default_store

    issues = []
    try:
        store = default_store()
        known = store.exists(init.run)
        # A damaged weights file is found here, not when the trainer is built for a page.
        damaged = known and store.weights_problem(init.run)
    except RunError as e:
        issues.append(Issue("train.init_from.run", str(e), "runs_unreadable"))
    else:
        if damaged:
            issues.append(Issue("train.init_from.run", damaged, "run_unreadable"))
        elif not known:
            issues.append(Issue("train.init_from.run", t(
                "there is no saved run {id}; choose one from the Saved runs page, or remove "
                "train.init_from to start from fresh weights", id=init.run), "unknown_run"))
    ids = set(node_ids)
    for i, node in enumerate(init.freeze):
        if node not in ids:
            issues.append(Issue(f"train.init_from.freeze[{i}]", t(
                "the model has no node {node} to freeze; remove it from the list",
                node=node), "unknown_node"))
    return issues


def start_from(layers: nn.ModuleDict, init: InitFrom) -> InitReport:
    """The trainer's hook: load run ``init.run`` from the default store and apply it."""
    from engine.errors import SpecError
    from engine.runs import RunError, default_store

    try:
        weights = default_store().weights_by_id(init.run)
    except RunError as e:  # a damaged file: named where the experiment points at it
        raise SpecError(Issue("train.init_from.run", str(e), "run_unreadable")) from None
    return apply_weights(layers, weights, init.freeze, init.run)


def trainable_nodes(spec: Mapping[str, Any]) -> list[str]:
    """Ids of the spec's nodes that have weights (the ones worth copying or freezing)."""
    from engine.validate import check, load_experiment

    _, plan = check(load_experiment(dict(spec)))
    return [n.id for n in plan.nodes if n.n_params]


def fine_tune_spec(spec: Mapping[str, Any], run: str, data: str | None = None,
                   freeze: Iterable[str] = (), name: str | None = None) -> dict[str, Any]:
    """A new experiment from a saved run's: on data set ``data`` (None: the same), starting
    from run ``run``'s weights with ``freeze`` frozen. The data set's parameters that the
    new set also declares (the image size...) are kept; the output layer, task and loss
    follow the new data (``engine.adapt``), so a new number of classes gets a fresh layer."""
    from engine.adapt import adapt_to_data
    from engine.data import DATASETS

    out = copy.deepcopy(dict(spec))
    if data is not None and data != out["data"]["name"]:
        declared = {p.name: p for p in DATASETS.get(data).params} if data in DATASETS else {}
        kept = {}
        for key, value in (out["data"].get("params") or {}).items():
            if key in declared:
                try:
                    kept[key] = declared[key].check(value)
                except ValueError:
                    continue  # this set does not take that value: its default instead
        out["data"] = {**out["data"], "name": data, "params": kept, "features": None}
        out = adapt_to_data(out)
    out["train"] = {**out["train"], "init_from": {"run": run, "freeze": list(freeze)}}
    if name:
        out["meta"] = {**out.get("meta", {}), "name": name[:120], "steps": []}
    return out
