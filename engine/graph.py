"""The model graph: checked, shape-inferred and built from ``model.nodes``.

A node without ``inputs`` reads the previous node (the first reads the data),
so a plain stack is a plain list; merge nodes name several inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import torch
from torch import nn

from engine.data.images import ImageInfo, normalise
from engine.errors import Issue, SpecError
from engine.i18n import t
from engine.layers import LAYERS, Shape, ShapeError
from engine.params import resolve_params
from engine.spec import ModelSpec

INPUT = "input"


@dataclass(frozen=True)
class NodeInfo:
    index: int
    id: str
    type: str
    params: dict[str, Any]
    inputs: tuple[str, ...]
    in_shapes: tuple[Shape, ...]
    out_shape: Shape
    n_params: int

    @property
    def path(self) -> str:
        return node_path(self.index, self.id)


@dataclass(frozen=True)
class Plan:
    """A model graph that passed every check, in topological order."""

    nodes: tuple[NodeInfo, ...]
    input_shape: Shape
    output_id: str
    graph: nx.DiGraph
    # Named inputs a recipe packs into the data along the time axis (an encoder-decoder's
    # source and shifted target): name -> (start, stop). Nodes read them like ``input``.
    parts: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def output_shape(self) -> Shape:
        return self.by_id(self.output_id).out_shape

    @property
    def total_params(self) -> int:
        return sum(n.n_params for n in self.nodes)

    def by_id(self, node_id: str) -> NodeInfo:
        return next(n for n in self.nodes if n.id == node_id)


def node_path(index: int, node_id: str) -> str:
    return f"model.nodes[{index}] ({node_id})"


def part_shape(input_shape: Shape, span: tuple[int, int]) -> Shape:
    return (span[1] - span[0], *input_shape[1:])


def plan_model(model: ModelSpec, input_shape: Shape,
               parts: dict[str, tuple[int, int]] | None = None) -> Plan:
    """Check the graph and infer every shape; raise SpecError naming each problem.

    ``parts`` are the data's named inputs besides ``input`` (see Plan.parts)."""
    parts = dict(parts or {})
    sources = {INPUT, *parts}
    issues: list[Issue] = []
    specs = list(model.nodes)
    index = {}
    for i, n in enumerate(specs):
        if n.id in sources:
            issues.append(Issue(node_path(i, n.id), t("{id} is reserved for the data; rename "
                                                      "this node", id=repr(n.id)),
                                "reserved_id"))
        elif n.id in index:
            issues.append(Issue(node_path(i, n.id), t("id {id} is already used by "
                                                      "model.nodes[{index}]; give each node its "
                                                      "own id", id=repr(n.id),
                                                      index=index[n.id]), "duplicate_id"))
        else:
            index[n.id] = i
    if issues:
        raise SpecError(issues)

    g = nx.DiGraph()
    g.add_nodes_from(sources)
    inputs: dict[str, tuple[str, ...]] = {}
    params: dict[str, dict[str, Any]] = {}
    broken: set[str] = set()  # nodes whose own problem leaves their shape unknown
    for i, n in enumerate(specs):
        path = node_path(i, n.id)
        g.add_node(n.id)
        ins = tuple(n.inputs) if n.inputs is not None else (specs[i - 1].id if i else INPUT,)
        inputs[n.id] = ins
        if n.type not in LAYERS:
            issues.append(Issue(path, LAYERS.unknown(n.type), "unknown_layer"))
        else:
            lt = LAYERS.get(n.type)
            values, problems = resolve_params(lt.params, n.params)
            issues += [Issue(path, p, "bad_param") for p in problems]
            params[n.id] = values
            if len(ins) < lt.min_inputs or (lt.max_inputs is not None
                                            and len(ins) > lt.max_inputs):
                want = (t("{type} takes at least {n} input(s), got {got}; set its inputs",
                          type=n.type, n=lt.min_inputs, got=len(ins)) if lt.max_inputs is None
                        else t("{type} takes exactly {n} input(s), got {got}; set its inputs",
                               type=n.type, n=lt.min_inputs, got=len(ins)))
                issues.append(Issue(path, want, "input_count"))
        for src in ins:
            if src not in sources and src not in index:
                known = ", ".join([INPUT, *parts, *index])
                issues.append(Issue(path, t("input {src} does not exist (known ids: {known})",
                                            src=repr(src), known=known), "unknown_input"))
            else:
                g.add_edge(src, n.id)
        if issues and issues[-1].path == path:
            broken.add(n.id)

    try:
        cycle = nx.find_cycle(g)
        ids = " -> ".join([e[0] for e in cycle] + [cycle[0][0]])
        raise SpecError([*issues, Issue("model.nodes", t(
            "the nodes {ids} form a cycle; a node may only read nodes that come before it",
            ids=ids), "cycle")])
    except nx.NetworkXNoCycle:
        pass

    # The problems below are independent of each other and of those above: all are
    # reported, and shapes are still checked wherever a node's inputs are known.
    sinks = [n.id for n in specs if g.out_degree(n.id) == 0]
    # An input that names no node may be meant for a node that now looks unused.
    dangling = any(i.code == "unknown_input" for i in issues)
    for sid in [] if dangling else sinks[:-1]:
        issues.append(Issue(node_path(index[sid], sid), t("its output is never used; feed it "
                                                          "into a later node or remove it"),
                            "unused_node"))
    if all(g.out_degree(s) == 0 for s in sources):
        issues.append(Issue("model.nodes", t("no node reads the input"), "no_input"))

    shapes: dict[str, Shape] = {INPUT: tuple(input_shape)} | {
        name: part_shape(tuple(input_shape), span) for name, span in parts.items()}
    infos: list[NodeInfo] = []
    for nid in nx.lexicographical_topological_sort(g, key=lambda k: index.get(k, -1)):
        if nid in sources or nid in broken or any(s not in shapes for s in inputs[nid]):
            continue  # a node after a problem: its shape follows once that is fixed
        i, spec = index[nid], specs[index[nid]]
        in_shapes = [shapes[s] for s in inputs[nid]]
        lt = LAYERS.get(spec.type)
        try:
            out = tuple(int(d) for d in lt.infer(params[nid], in_shapes))
        except ShapeError as e:
            got = ", ".join(f"{s} {list(shapes[s])}" for s in inputs[nid])
            issues.append(Issue(node_path(i, nid), t("{problem} (inputs: {inputs})",
                                                     problem=e, inputs=got), "shape"))
            continue
        if any(d < 1 for d in out):
            issues.append(Issue(node_path(i, nid), t("output shape {shape} is empty; the input "
                                                     "is too small for this layer",
                                                     shape=list(out)), "shape"))
            continue
        shapes[nid] = out
        with torch.device("meta"):
            n_params = sum(p.numel() for p in lt.build(params[nid], in_shapes).parameters())
        infos.append(NodeInfo(i, nid, spec.type, params[nid], inputs[nid], tuple(in_shapes),
                              out, n_params))
    if issues:
        order = {node_path(i, n.id): i for i, n in enumerate(specs)}
        raise SpecError(sorted(issues, key=lambda x: order.get(x.path, len(specs))))
    return Plan(tuple(infos), tuple(input_shape), sinks[-1], g, parts)


class GraphModel(nn.Module):
    """Runs the nodes in topological order; ``layers[id]`` is each node's module.

    With ``image`` statistics it takes stored images (uint8) and prepares them itself, so
    every caller (training, evaluation, probes) feeds the data exactly as stored."""

    def __init__(self, plan: Plan, image: ImageInfo | None = None) -> None:
        super().__init__()
        self.plan = plan
        self.image = image
        if image is not None:  # buffers, so they follow the model to its device
            self.register_buffer("_mean", torch.tensor(image.mean).view(1, -1, 1, 1), False)
            self.register_buffer("_std", torch.tensor(image.std).view(1, -1, 1, 1), False)
        self.layers = nn.ModuleDict({
            n.id: LAYERS.get(n.type).build(n.params, list(n.in_shapes)) for n in plan.nodes})
        self._order = [(n.id, n.inputs) for n in plan.nodes]
        # A plain stack runs as a chain: no dictionary of outputs on the hot path.
        self._chain = None
        prev = INPUT
        for nid, ins in self._order:
            if ins != (prev,):
                break
            prev = nid
        else:
            self._chain = list(self.layers.values())

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """Stored images (uint8) to model input; anything else is taken as prepared."""
        if x.dtype != torch.uint8 or self.image is None:
            return x
        return normalise(x, self._mean, self._std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype == torch.uint8:
            x = self.prepare(x)
        if self._chain is not None:
            for m in self._chain:
                # Module.__call__ costs microseconds that matter on tiny nets; skip it unless a
                # probe has hooked the node.
                x = m(x) if m._forward_hooks or m._forward_pre_hooks else m.forward(x)
            return x
        outs = self.sources(x)
        for nid, ins in self._order:
            outs[nid] = self.layers[nid](*[outs[s] for s in ins])
        return outs[self.plan.output_id]

    def sources(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """What nodes can read before any node runs: the (prepared) data and its parts."""
        x = self.prepare(x)
        return {INPUT: x} | {name: x[:, a:b] for name, (a, b) in self.plan.parts.items()}
