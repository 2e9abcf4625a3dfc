"""Back-propagation by hand on a tiny computational graph.

No autograd here on purpose: every node knows its local derivative, and
``backward_steps`` walks the graph from the loss back to the inputs, one node
at a time, multiplying what arrives from above by what the node knows
locally. That walk is the chain rule, and a page can show it step by step.
``autograd_gradients`` asks PyTorch for the same numbers, so the page (and
the tests) can put the two side by side.

Values are floats, or 1-D numpy arrays for the vectors an affine node takes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import networkx as nx
import numpy as np
import torch

from engine.i18n import N_

Value = float | np.ndarray
LEAVES = ("input", "const")  # input: a value we want the gradient of; const: e.g. a target


@dataclass(frozen=True)
class Node:
    id: str
    op: str
    inputs: tuple[str, ...] = ()
    value: Value | None = None  # leaves only


@dataclass(frozen=True)
class Op:
    symbol: str
    arity: int | None  # None: two or more
    forward: Callable[..., Value]
    # d(out)/d(input_i) given the input values and the output; elementwise for vectors
    local: Callable[..., tuple[Value, ...]]
    torch_fn: Callable[..., torch.Tensor]
    formula: str


@dataclass(frozen=True)
class Step:
    node: str
    grad: Value  # dL/d(node): complete, since every consumer was visited before
    local: tuple[Value, ...]  # d(node)/d(input), one per entry of node.inputs
    sent: tuple[Value, ...]  # grad * local: what this node adds to each input's gradient


def _sigmoid(v: Value) -> Value:
    return 1.0 / (1.0 + np.exp(-v)) if isinstance(v, np.ndarray) else 1.0 / (1.0 + math.exp(-v))


def _scalar(v: Value) -> Value:
    # Keep scalars as Python floats so tables and labels print them plainly.
    return float(v) if np.ndim(v) == 0 else np.asarray(v, dtype=np.float64)


def _step01(v: Value) -> Value:
    # ReLU's derivative at exactly 0 is a convention; 0 is PyTorch's.
    return _scalar(np.where(np.asarray(v) > 0, 1.0, 0.0))


# How each operation is named for people (the keys are ids in the examples).
OP_NAMES = {"add": N_("add"), "mul": N_("multiply"), "affine": N_("affine (w·x+b)"),
            "sigmoid": N_("sigmoid"), "tanh": N_("tanh"), "relu": N_("ReLU"),
            "sq_error": N_("squared error"), "input": N_("input"), "const": N_("constant")}
OPS: dict[str, Op] = {
    "add": Op("+", None, lambda *v: _scalar(sum(v)), lambda *a: tuple(1.0 for _ in a[:-1]),
              lambda *v: sum(v), "a + b + ..."),
    "mul": Op("×", 2, lambda a, b: _scalar(a * b), lambda a, b, out: (b, a),
              lambda a, b: a * b, "a · b"),
    "affine": Op("w·x+b", 3, lambda w, x, b: _scalar(np.dot(w, x) + b),
                 lambda w, x, b, out: (x, w, 1.0),
                 lambda w, x, b: (w * x).sum() + b, "w · x + b"),
    "sigmoid": Op("σ", 1, _sigmoid, lambda v, out: (out * (1 - out),), torch.sigmoid,
                  "1 / (1 + e^-z)"),
    "tanh": Op("tanh", 1, lambda v: _scalar(np.tanh(v)), lambda v, out: (1 - out**2,),
               torch.tanh, "tanh z"),
    "relu": Op("ReLU", 1, lambda v: _scalar(np.maximum(v, 0.0)), lambda v, out: (_step01(v),),
               torch.relu, "max(0, z)"),
    "sq_error": Op("(a−y)²", 2, lambda a, y: _scalar(np.sum((a - y) ** 2)),
                   lambda a, y, out: (2 * (a - y), -2 * (a - y)),
                   lambda a, y: ((a - y) ** 2).sum(), "(a − y)²"),
}


def to_graph(nodes: Sequence[Node]) -> nx.DiGraph:
    """The nodes as a networkx graph (edge input -> consumer), after checking them."""
    g = nx.DiGraph()
    for i, n in enumerate(nodes):
        if n.id in g:
            raise ValueError(f"node {n.id!r} appears twice")
        g.add_node(n.id, index=i)
    for n in nodes:
        if n.op in LEAVES:
            if n.inputs or n.value is None:
                raise ValueError(f"leaf {n.id!r} needs a value and no inputs")
            continue
        if n.op not in OPS:
            raise ValueError(f"node {n.id!r}: unknown op {n.op!r}")
        arity = OPS[n.op].arity
        if (len(n.inputs) != arity) if arity else len(n.inputs) < 2:
            raise ValueError(f"node {n.id!r}: {n.op} takes {arity or '2 or more'} inputs")
        for src in n.inputs:
            if src not in g:
                raise ValueError(f"node {n.id!r}: unknown input {src!r}")
            g.add_edge(src, n.id)
    if not nx.is_directed_acyclic_graph(g):
        raise ValueError("the graph has a cycle")
    return g


def forward_order(nodes: Sequence[Node]) -> list[str]:
    """Topological order; among ready nodes, the one listed first goes first."""
    g = to_graph(nodes)
    return list(nx.lexicographical_topological_sort(g, key=lambda n: g.nodes[n]["index"]))


def forward_steps(nodes: Sequence[Node]) -> list[str]:
    """The nodes the forward pass computes, in order: leaves are given, not computed."""
    kinds = {n.id: n.op for n in nodes}
    return [nid for nid in forward_order(nodes) if kinds[nid] not in LEAVES]


def backward_order(nodes: Sequence[Node]) -> list[str]:
    """Reverse topological order; among ready nodes, the one listed last goes first, so a
    graph listed input-to-loss is walked back along its branches."""
    g = to_graph(nodes).reverse()
    return list(nx.lexicographical_topological_sort(g, key=lambda n: -g.nodes[n]["index"]))


def forward(nodes: Sequence[Node]) -> dict[str, Value]:
    """Every node's value, computed in topological order."""
    by_id = {n.id: n for n in nodes}
    values: dict[str, Value] = {}
    for nid in forward_order(nodes):
        n = by_id[nid]
        values[nid] = (_scalar(n.value) if n.op in LEAVES
                       else OPS[n.op].forward(*(values[i] for i in n.inputs)))
    return values


def _fit(g: Value, like: Value) -> Value:
    # A scalar that was broadcast against a vector collects the gradient of every element.
    return _scalar(np.sum(g)) if np.ndim(like) == 0 else _scalar(g)


def backward_steps(nodes: Sequence[Node], values: Mapping[str, Value] | None = None,
                   ) -> list[Step]:
    """The chain rule, one node per step, from the last node (the loss) back to the leaves.

    A node's gradient is final when it is visited: reverse topological order means
    every node that used it has already sent its share (shares add up, which is
    what happens when a value feeds two consumers)."""
    by_id = {n.id: n for n in nodes}
    values = values if values is not None else forward(nodes)
    order = backward_order(nodes)
    grads: dict[str, Value] = {nid: 0.0 for nid in order}
    grads[order[0]] = 1.0  # dL/dL
    steps = []
    for nid in order:
        n, grad = by_id[nid], grads[nid]
        if n.op in LEAVES:
            steps.append(Step(nid, grad, (), ()))
            continue
        ins = [values[i] for i in n.inputs]
        local = tuple(_scalar(d) for d in OPS[n.op].local(*ins, values[nid]))
        sent = tuple(_fit(np.multiply(grad, d), v) for d, v in zip(local, ins, strict=True))
        for src, s in zip(n.inputs, sent, strict=True):
            grads[src] = _scalar(grads[src] + s)
        steps.append(Step(nid, grad, local, sent))
    return steps


def gradients(nodes: Sequence[Node]) -> dict[str, Value]:
    """dL/d(node) for every node, from ``backward_steps``."""
    return {s.node: s.grad for s in backward_steps(nodes)}


def autograd_gradients(nodes: Sequence[Node]) -> dict[str, Value]:
    """The same gradients from PyTorch autograd (float64), to compare against."""
    by_id = {n.id: n for n in nodes}
    order = forward_order(nodes)
    t: dict[str, torch.Tensor] = {}
    for nid in order:
        n = by_id[nid]
        if n.op in LEAVES:
            t[nid] = torch.tensor(n.value, dtype=torch.float64, requires_grad=True)
        else:
            t[nid] = OPS[n.op].torch_fn(*(t[i] for i in n.inputs))
            t[nid].retain_grad()  # autograd keeps only leaf gradients unless asked
    t[order[-1]].backward()
    return {nid: _scalar(t[nid].grad.numpy()) if t[nid].grad is not None else 0.0
            for nid in order}


_SHOW = {"mul": "{0} · {1}", "affine": "{0} · {1} + {2}", "sigmoid": "σ({0})",
         "tanh": "tanh({0})", "relu": "max(0, {0})", "sq_error": "({0} − {1})²"}


def expression(node: Node) -> str:
    """What the node computes, in its inputs' names: "m1 + m2 + b", "σ(z)"."""
    if node.op in LEAVES:
        return node.id
    if node.op == "add":
        return " + ".join(node.inputs)
    return _SHOW[node.op].format(*node.inputs)


def leaves(nodes: Sequence[Node]) -> list[Node]:
    return [n for n in nodes if n.op in LEAVES]


def with_values(nodes: Sequence[Node], values: Mapping[str, Value]) -> list[Node]:
    """A copy of the graph with some leaves' values replaced."""
    unknown = set(values) - {n.id for n in leaves(nodes)}
    if unknown:
        raise ValueError(f"not leaves of this graph: {', '.join(sorted(unknown))}")
    return [replace(n, value=values[n.id]) if n.id in values else n for n in nodes]


def describe(v: Value, digits: int = 3) -> str:
    """A value as a short string: 0.123 or [0.1, -2]."""
    # + 0.0 turns -0.0 (a ReLU that is off, times a negative weight) into a plain 0.
    if np.ndim(v) == 0:
        return f"{float(v) + 0.0:.{digits}g}"
    return "[" + ", ".join(f"{float(x) + 0.0:.{digits}g}" for x in np.ravel(v)) + "]"


def neuron() -> list[Node]:
    """One sigmoid neuron with two inputs and a squared error, built from small nodes."""
    return [
        Node("x1", "input", value=1.0), Node("w1", "input", value=0.5),
        Node("m1", "mul", ("w1", "x1")),
        Node("x2", "input", value=-2.0), Node("w2", "input", value=-0.3),
        Node("m2", "mul", ("w2", "x2")),
        Node("b", "input", value=0.1),
        Node("z", "add", ("m1", "m2", "b")),
        Node("a", "sigmoid", ("z",)),
        Node("y", "const", value=1.0),
        Node("loss", "sq_error", ("a", "y")),
    ]


def two_relus() -> list[Node]:
    """Two ReLU units reading the same input vector, so x's gradient is the sum of two
    paths; with these values unit 2 is off and passes no gradient back."""
    return [
        Node("x", "input", value=np.array([1.0, -0.5])),
        Node("w1", "input", value=np.array([0.8, 0.4])), Node("b1", "input", value=0.1),
        Node("z1", "affine", ("w1", "x", "b1")), Node("h1", "relu", ("z1",)),
        Node("w2", "input", value=np.array([-0.6, 0.9])), Node("b2", "input", value=0.2),
        Node("z2", "affine", ("w2", "x", "b2")), Node("h2", "relu", ("z2",)),
        Node("v1", "input", value=1.5), Node("o1", "mul", ("v1", "h1")),
        Node("v2", "input", value=-1.0), Node("o2", "mul", ("v2", "h2")),
        Node("out", "add", ("o1", "o2")),
        Node("y", "const", value=0.5),
        Node("loss", "sq_error", ("out", "y")),
    ]


EXAMPLES: dict[str, Callable[[], list[Node]]] = {"neuron": neuron, "two_relus": two_relus}
