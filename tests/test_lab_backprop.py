"""Hand-written back-propagation against PyTorch autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.lab.backprop import (
    EXAMPLES,
    Node,
    autograd_gradients,
    backward_order,
    backward_steps,
    expression,
    forward,
    forward_steps,
    gradients,
    leaves,
    neuron,
    to_graph,
    two_relus,
    with_values,
)

SEEDS = [0, 1, 2, 3, 4]


def _leaf(values: dict, name: str) -> torch.Tensor:
    return torch.tensor(values[name], dtype=torch.float64, requires_grad=True)


def torch_neuron(v: dict) -> dict[str, torch.Tensor]:
    """The neuron written out directly in torch, independent of the module's op table."""
    t = {k: _leaf(v, k) for k in ("x1", "w1", "x2", "w2", "b", "y")}
    t["m1"] = t["w1"] * t["x1"]
    t["m2"] = t["w2"] * t["x2"]
    t["z"] = t["m1"] + t["m2"] + t["b"]
    t["a"] = 1 / (1 + torch.exp(-t["z"]))
    t["loss"] = (t["a"] - t["y"]) ** 2
    return t


def torch_two_relus(v: dict) -> dict[str, torch.Tensor]:
    t = {k: _leaf(v, k) for k in ("x", "w1", "b1", "w2", "b2", "v1", "v2", "y")}
    t["z1"] = torch.dot(t["w1"], t["x"]) + t["b1"]
    t["z2"] = torch.dot(t["w2"], t["x"]) + t["b2"]
    t["h1"] = torch.clamp(t["z1"], min=0)
    t["h2"] = torch.clamp(t["z2"], min=0)
    t["o1"] = t["v1"] * t["h1"]
    t["o2"] = t["v2"] * t["h2"]
    t["out"] = t["o1"] + t["o2"]
    t["loss"] = (t["out"] - t["y"]) ** 2
    return t


TORCH = {"neuron": torch_neuron, "two_relus": torch_two_relus}


def torch_grads(example: str, nodes: list[Node]) -> dict[str, np.ndarray]:
    t = TORCH[example]({n.id: n.value for n in leaves(nodes)})
    for v in t.values():
        if not v.is_leaf:
            v.retain_grad()
    t["loss"].backward()
    return {k: v.grad.numpy() for k, v in t.items()}


def randomised(nodes: list[Node], seed: int) -> list[Node]:
    rng = np.random.default_rng(seed)
    return with_values(nodes, {n.id: rng.normal(0, 1.5, np.shape(n.value)) if np.ndim(n.value)
                               else float(rng.normal(0, 1.5)) for n in leaves(nodes)})


def assert_same(ours: dict, theirs: dict) -> None:
    assert set(ours) == set(theirs)
    for k, v in ours.items():
        np.testing.assert_allclose(v, theirs[k], rtol=1e-6, atol=1e-6, err_msg=k)


@pytest.mark.parametrize("example", list(EXAMPLES))
def test_default_values_match_autograd(example: str) -> None:
    nodes = EXAMPLES[example]()
    assert_same(gradients(nodes), torch_grads(example, nodes))
    assert_same(autograd_gradients(nodes), torch_grads(example, nodes))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("example", list(EXAMPLES))
def test_random_values_match_autograd(example: str, seed: int) -> None:
    nodes = randomised(EXAMPLES[example](), seed)
    assert_same(gradients(nodes), torch_grads(example, nodes))


@pytest.mark.parametrize("example", list(EXAMPLES))
def test_forward_values_match_torch(example: str) -> None:
    nodes = randomised(EXAMPLES[example](), 7)
    t = TORCH[example]({n.id: n.value for n in leaves(nodes)})
    values = forward(nodes)
    for k, v in t.items():
        np.testing.assert_allclose(values[k], v.detach().numpy(), rtol=1e-12, err_msg=k)


@pytest.mark.parametrize("example", list(EXAMPLES))
def test_steps_walk_backwards_once_each(example: str) -> None:
    nodes = EXAMPLES[example]()
    g = to_graph(nodes)
    steps = backward_steps(nodes)
    order = [s.node for s in steps]
    assert order == backward_order(nodes)
    assert sorted(order) == sorted(n.id for n in nodes)
    assert order[0] == "loss" and steps[0].grad == 1.0
    seen = {nid: i for i, nid in enumerate(order)}
    for u, v in g.edges:  # a consumer is always visited before what it consumes
        assert seen[v] < seen[u]
    by_id = {n.id: n for n in nodes}
    for s in steps:
        assert len(s.local) == len(s.sent) == len(by_id[s.node].inputs)
        for d, sent in zip(s.local, s.sent, strict=True):
            np.testing.assert_allclose(sent, np.multiply(s.grad, d))


def test_a_shared_input_sums_what_each_consumer_sends() -> None:
    nodes = with_values(two_relus(), {"w2": [0.6, 0.9], "b2": 1.0})  # both units on
    steps = backward_steps(nodes)
    by_id = {n.id: n for n in nodes}
    sent_to_x = [s.sent[by_id[s.node].inputs.index("x")] for s in steps
                 if "x" in by_id[s.node].inputs]
    assert len(sent_to_x) == 2 and all(np.any(v != 0) for v in sent_to_x)
    grad_x = next(s.grad for s in steps if s.node == "x")
    np.testing.assert_allclose(grad_x, sent_to_x[0] + sent_to_x[1])


def test_a_relu_that_is_off_passes_no_gradient() -> None:
    grads = gradients(two_relus())  # z2 = -0.85 with the default values
    assert forward(two_relus())["z2"] < 0
    np.testing.assert_array_equal(grads["w2"], [0.0, 0.0])
    assert grads["b2"] == 0.0 and grads["v2"] == 0.0
    assert np.any(grads["w1"] != 0)


def test_tanh_node_and_vector_elementwise_ops() -> None:
    nodes = [
        Node("u", "input", value=[0.3, -1.2]), Node("k", "input", value=[2.0, 0.5]),
        Node("p", "mul", ("u", "k")), Node("h", "tanh", ("p",)),
        Node("s", "relu", ("h",)), Node("c", "input", value=0.7),
        Node("q", "add", ("h", "s")),
        Node("y", "const", value=[0.1, 0.2]), Node("loss", "sq_error", ("q", "y")),
    ]
    u, k = (torch.tensor(v, dtype=torch.float64, requires_grad=True)
            for v in ([0.3, -1.2], [2.0, 0.5]))
    y = torch.tensor([0.1, 0.2], dtype=torch.float64, requires_grad=True)
    h = torch.tanh(u * k)
    loss = ((h + torch.relu(h) - y) ** 2).sum()
    loss.backward()
    ours = gradients(nodes)
    np.testing.assert_allclose(ours["u"], u.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(ours["k"], k.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(ours["y"], y.grad.numpy(), rtol=1e-9)
    assert ours["c"] == 0.0  # not used: no gradient reaches it
    assert_same(ours, autograd_gradients(nodes))


def test_broadcast_scalar_collects_the_gradient_of_every_element() -> None:
    nodes = [Node("v", "input", value=[1.0, 2.0, 3.0]), Node("s", "input", value=0.5),
             Node("q", "add", ("v", "s")), Node("y", "const", value=[0.0, 0.0, 0.0]),
             Node("loss", "sq_error", ("q", "y"))]
    assert_same(gradients(nodes), autograd_gradients(nodes))
    assert np.ndim(gradients(nodes)["s"]) == 0


@pytest.mark.parametrize(("nodes", "message"), [
    ([Node("a", "input", value=1.0), Node("b", "cube", ("a",))], "unknown op"),
    ([Node("a", "input", value=1.0), Node("b", "sigmoid", ("zz",))], "unknown input"),
    ([Node("a", "input", value=1.0), Node("b", "mul", ("a",))], "takes 2"),
    ([Node("a", "input", value=1.0), Node("b", "add", ("a",))], "2 or more"),
    ([Node("a", "input")], "needs a value"),
    ([Node("a", "input", value=1.0), Node("a", "input", value=2.0)], "twice"),
    ([Node("a", "sigmoid", ("b",)), Node("b", "sigmoid", ("a",))], "cycle"),
])
def test_bad_graphs_are_refused(nodes: list[Node], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        forward(nodes)


def test_helpers() -> None:
    nodes = neuron()
    assert forward_steps(nodes) == ["m1", "m2", "z", "a", "loss"]
    assert forward(nodes)["loss"] == pytest.approx((1 / (1 + np.exp(-1.2)) - 1) ** 2)
    by_id = {n.id: n for n in nodes}
    assert expression(by_id["z"]) == "m1 + m2 + b"
    assert expression(by_id["a"]) == "σ(z)"
    assert expression(by_id["loss"]) == "(a − y)²"
    with pytest.raises(ValueError, match="not leaves"):
        with_values(nodes, {"z": 1.0})
    assert with_values(nodes, {"x1": 3.0})[0].value == 3.0 and nodes[0].value == 1.0
