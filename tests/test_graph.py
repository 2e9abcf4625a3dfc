"""The model graph: checks, shapes, parameter counts, modules by id, initialisation."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from engine import SpecError, Trainer
from engine.graph import INPUT, GraphModel, Plan, plan_model
from engine.init import init_model, init_module
from engine.layers.linear import LinearAct
from engine.spec import InitSpec, ModelSpec


def plan(nodes: list[dict], input_shape: tuple[int, ...] = (2,)) -> Plan:
    return plan_model(ModelSpec.model_validate({"nodes": nodes}), input_shape)


def lin(nid: str, units: int, act: str = "none", inputs: list[str] | None = None) -> dict:
    return {"id": nid, "type": "linear", "params": {"units": units, "activation": act},
            "inputs": inputs}


def issue(nodes: list[dict]) -> tuple[str, str]:
    with pytest.raises(SpecError) as info:
        plan(nodes)
    assert len(info.value.issues) == 1, str(info.value)
    return str(info.value), info.value.code


def counts_match(p: Plan) -> GraphModel:
    """Build the model and check the plan's counts against the real parameters."""
    model = GraphModel(p)
    for n in p.nodes:
        assert n.n_params == sum(t.numel() for t in model.layers[n.id].parameters()), n.id
    assert p.total_params == sum(t.numel() for t in model.parameters())
    return model


def test_plain_stack() -> None:
    p = plan([lin("h1", 8, "tanh"), lin("h2", 4, "relu"), lin("out", 2)])
    assert [n.id for n in p.nodes] == ["h1", "h2", "out"]
    assert [n.out_shape for n in p.nodes] == [(8,), (4,), (2,)]
    assert [n.in_shapes for n in p.nodes] == [((2,),), ((8,),), ((4,),)]
    assert [n.inputs for n in p.nodes] == [(INPUT,), ("h1",), ("h2",)]
    assert [n.n_params for n in p.nodes] == [2 * 8 + 8, 8 * 4 + 4, 4 * 2 + 2]
    assert p.total_params == 70
    assert p.output_id == "out" and p.output_shape == (2,)
    assert set(p.graph.nodes) == {INPUT, "h1", "h2", "out"}
    assert set(p.graph.edges) == {(INPUT, "h1"), ("h1", "h2"), ("h2", "out")}
    assert [n.path for n in p.nodes][1] == "model.nodes[1] (h2)"

    model = counts_match(p)
    h1 = model.layers["h1"]
    assert isinstance(h1, LinearAct) and isinstance(h1.act, nn.Tanh)
    assert h1.linear.in_features == 2 and h1.linear.out_features == 8
    assert model.layers["out"].act is None
    x = torch.randn(5, 2)
    expected = model.layers["out"].linear(torch.relu(model.layers["h2"].linear(
        torch.tanh(h1.linear(x)))))
    torch.testing.assert_close(model(x), expected)


def test_bias_free_linear_and_shape_only_layers() -> None:
    p = plan([
        {"id": "h1", "type": "linear", "params": {"units": 6, "bias": False}},
        {"id": "bn", "type": "batchnorm1d"},
        {"id": "ln", "type": "layernorm"},
        {"id": "act", "type": "leaky_relu", "params": {"negative_slope": 0.2}},
        {"id": "drop", "type": "dropout", "params": {"p": 0.3}},
        {"id": "flat", "type": "flatten"},
        lin("out", 2),
    ])
    assert [n.n_params for n in p.nodes] == [12, 12, 12, 0, 0, 0, 14]
    assert all(n.out_shape == (6,) for n in p.nodes[:-1])
    model = counts_match(p)
    assert model.layers["act"].negative_slope == 0.2
    assert model.layers["drop"].p == 0.3
    assert model(torch.randn(4, 2)).shape == (4, 2)


def test_residual_adds_two_paths() -> None:
    p = plan([
        lin("h1", 8, "relu"),
        lin("f1", 8, "relu"),
        lin("f2", 8),
        {"id": "res", "type": "add", "inputs": ["h1", "f2"]},
        lin("out", 2),
    ])
    res = p.by_id("res")
    assert res.in_shapes == ((8,), (8,)) and res.out_shape == (8,) and res.n_params == 0
    assert p.by_id("out").inputs == ("res",)
    assert p.total_params == (2 * 8 + 8) + 2 * (8 * 8 + 8) + (8 * 2 + 2)
    model = counts_match(p)
    x = torch.randn(3, 2)
    L = model.layers
    h = L["h1"](x)
    torch.testing.assert_close(model(x), L["out"](h + L["f2"](L["f1"](h))))


def test_dense_connection_concatenates_the_input_and_a_layer() -> None:
    p = plan([
        lin("h1", 8, "tanh"),
        {"id": "cat", "type": "concat", "inputs": ["input", "h1"]},
        lin("h2", 4, "tanh"),
        {"id": "cat2", "type": "concat", "inputs": ["cat", "h2"]},
        lin("out", 2),
    ])
    assert p.by_id("cat").out_shape == (10,)
    assert p.by_id("cat2").out_shape == (14,)
    assert p.by_id("h2").n_params == 10 * 4 + 4
    assert p.by_id("out").n_params == 14 * 2 + 2
    model = counts_match(p)
    x = torch.randn(3, 2)
    L = model.layers
    c = torch.cat([x, L["h1"](x)], 1)
    torch.testing.assert_close(model(x), L["out"](torch.cat([c, L["h2"](c)], 1)))


def test_inception_like_four_parallel_paths() -> None:
    p = plan([
        lin("p1", 4, "relu", ["input"]),
        lin("p2a", 3, "relu", ["input"]),
        lin("p2b", 5, "relu", ["p2a"]),
        lin("p3", 6, "tanh", ["input"]),
        {"id": "p4", "type": "identity", "inputs": ["input"]},
        {"id": "mix", "type": "concat", "inputs": ["p1", "p2b", "p3", "p4"]},
        lin("out", 2),
    ])
    mix = p.by_id("mix")
    assert mix.in_shapes == ((4,), (5,), (6,), (2,)) and mix.out_shape == (17,)
    expected = {"p1": 12, "p2a": 9, "p2b": 20, "p3": 18, "p4": 0, "mix": 0, "out": 36}
    assert {n.id: n.n_params for n in p.nodes} == expected
    assert p.total_params == sum(expected.values())
    assert p.graph.in_degree("mix") == 4 and p.graph.out_degree(INPUT) == 4
    order = [n.id for n in p.nodes]
    assert order.index("p2a") < order.index("p2b") < order.index("mix") < order.index("out")
    model = counts_match(p)
    x = torch.randn(3, 2)
    L = model.layers
    cat = torch.cat([L["p1"](x), L["p2b"](L["p2a"](x)), L["p3"](x), x], 1)
    torch.testing.assert_close(model(x), L["out"](cat))


def test_nodes_may_be_listed_before_the_nodes_they_read() -> None:
    p = plan([
        {"id": "sum", "type": "add", "inputs": ["a", "b"]},
        lin("a", 4, inputs=["input"]),
        lin("b", 4, inputs=["input"]),
        lin("out", 2, inputs=["sum"]),
    ])
    assert [n.id for n in p.nodes] == ["a", "b", "sum", "out"]
    assert p.by_id("sum").index == 0  # the index still points at the spec's list
    assert counts_match(p)(torch.randn(2, 2)).shape == (2, 2)


def test_multiply_gates_element_wise() -> None:
    p = plan([lin("a", 4, inputs=["input"]), lin("g", 4, "sigmoid", ["input"]),
              {"id": "gate", "type": "multiply", "inputs": ["a", "g"]}, lin("out", 2)])
    model = counts_match(p)
    x = torch.randn(3, 2)
    L = model.layers
    torch.testing.assert_close(model(x), L["out"](L["a"](x) * L["g"](x)))


def test_an_unused_node() -> None:
    line, code = issue([lin("h1", 8), lin("dead", 4, inputs=["input"]),
                        lin("out", 2, inputs=["h1"])])
    assert code == "unused_node"
    assert line.startswith("model.nodes[1] (dead): its output is never used"), line


def test_a_duplicate_id() -> None:
    line, code = issue([lin("h1", 8), lin("h1", 4), lin("out", 2)])
    assert code == "duplicate_id"
    assert line.startswith("model.nodes[1] (h1): id 'h1' is already used by model.nodes[0]")


def test_input_is_reserved() -> None:
    line, code = issue([lin("input", 8), lin("out", 2)])
    assert code == "reserved_id"
    assert line.startswith("model.nodes[0] (input): 'input' is reserved"), line


def test_several_inputs_into_a_node_that_takes_one() -> None:
    line, code = issue([lin("a", 4, inputs=["input"]), lin("b", 4, inputs=["input"]),
                        lin("out", 2, inputs=["a", "b"])])
    assert code == "input_count"
    assert line == ("model.nodes[2] (out): linear takes exactly 1 input(s), got 2; "
                    "set its inputs")


def test_a_merge_needs_at_least_two_inputs() -> None:
    line, code = issue([lin("a", 4), {"id": "sum", "type": "add", "inputs": ["a"]},
                        lin("out", 2)])
    assert code == "input_count"
    assert line.startswith("model.nodes[1] (sum): add takes at least 2 input(s), got 1")


def test_merge_shape_error_names_node_and_both_shapes() -> None:
    line, code = issue([lin("a", 8, inputs=["input"]), lin("b", 3, inputs=["input"]),
                        {"id": "sum", "type": "add", "inputs": ["a", "b"]}, lin("out", 2)])
    assert code == "shape"
    assert line == ("model.nodes[2] (sum): add needs inputs of one shape, got [8] and [3] "
                    "(inputs: a [8], b [3])")


def test_a_linear_on_an_image_asks_for_flatten() -> None:
    with pytest.raises(SpecError) as info:
        plan([lin("h1", 8), lin("out", 2)], input_shape=(1, 4, 4))
    assert str(info.value).startswith("model.nodes[0] (h1): linear needs a flat input, got "
                                      "shape [1, 4, 4]; add a flatten node before it")
    p = plan([{"id": "flat", "type": "flatten"}, lin("out", 2)], input_shape=(1, 4, 4))
    assert p.by_id("flat").out_shape == (16,) and p.total_params == 34


def test_problems_in_several_nodes_are_all_reported() -> None:
    with pytest.raises(SpecError) as info:
        plan([lin("h1", 0), {"id": "h2", "type": "nope"}, lin("out", 2, inputs=["zz"])])
    assert [i.code for i in info.value.issues] == ["bad_param", "unknown_layer",
                                                   "unknown_input"]
    assert [i.path for i in info.value.issues] == [
        "model.nodes[0] (h1)", "model.nodes[1] (h2)", "model.nodes[2] (out)"]



def test_an_unused_node_does_not_hide_a_shape_mismatch() -> None:
    with pytest.raises(SpecError) as info:
        plan([lin("a", 8, inputs=["input"]), lin("b", 3, inputs=["input"]),
              {"id": "sum", "type": "add", "inputs": ["a", "b"]},
              lin("dead", 4, inputs=["input"]), lin("out", 2, inputs=["sum"])])
    issues = info.value.issues
    assert [(i.path, i.code) for i in issues] == [
        ("model.nodes[2] (sum)", "shape"), ("model.nodes[3] (dead)", "unused_node")]
    assert len({i.message for i in issues}) == 2


def test_independent_shape_problems_are_all_reported_without_their_consequences() -> None:
    with pytest.raises(SpecError) as info:
        plan([lin("a", 4, inputs=["input"]), {"id": "c", "type": "conv2d", "inputs": ["input"]},
              {"id": "p", "type": "maxpool2d", "inputs": ["c"]},  # after a problem: skipped
              lin("b", 0, inputs=["input"]), lin("d", 4, inputs=["b"]),
              {"id": "cat", "type": "concat", "inputs": ["a", "p", "d"]}, lin("out", 2)])
    assert [(i.path, i.code) for i in info.value.issues] == [
        ("model.nodes[1] (c)", "shape"), ("model.nodes[3] (b)", "bad_param")]


def test_an_unknown_input_does_not_call_the_node_it_may_mean_unused() -> None:
    line, code = issue([lin("h1", 8), lin("h2", 4, inputs=["input"]),
                        lin("out", 2, inputs=["h9"])])
    assert code == "unknown_input"

# Initialisation ------------------------------------------------------------------------------

FAN_IN, FAN_OUT = 400, 300


def big_layer(init: dict | None) -> nn.Linear:
    spec = ModelSpec.model_validate({"nodes": [lin("big", FAN_OUT)], **(
        {"init": init} if init else {})})
    torch.manual_seed(0)
    model = GraphModel(plan_model(spec, (FAN_IN,)))
    init_model(model.layers, spec)
    return model.layers["big"].linear


def stats(w: torch.Tensor) -> tuple[float, float, float]:
    w = w.detach().double()
    return w.mean().item(), w.std().item(), w.abs().max().item()


def test_xavier_uniform_stays_within_its_bound() -> None:
    layer = big_layer({"scheme": "xavier_uniform"})
    bound = math.sqrt(6 / (FAN_IN + FAN_OUT))
    mean, std, top = stats(layer.weight)
    assert top <= bound and top > 0.99 * bound
    assert std == pytest.approx(bound / math.sqrt(3), rel=0.02)
    assert abs(mean) < 0.01 * bound
    assert torch.count_nonzero(layer.bias) == 0


def test_xavier_normal_std() -> None:
    mean, std, _ = stats(big_layer({"scheme": "xavier_normal"}).weight)
    assert std == pytest.approx(math.sqrt(2 / (FAN_IN + FAN_OUT)), rel=0.02)


def test_he_normal_std() -> None:
    layer = big_layer({"scheme": "he_normal"})
    mean, std, _ = stats(layer.weight)
    assert std == pytest.approx(math.sqrt(2 / FAN_IN), rel=0.02)
    assert abs(mean) < 0.01 * std
    assert torch.count_nonzero(layer.bias) == 0


def test_he_uniform_bound() -> None:
    _, std, top = stats(big_layer({"scheme": "he_uniform"}).weight)
    bound = math.sqrt(6 / FAN_IN)
    assert 0.99 * bound < top <= bound
    assert std == pytest.approx(bound / math.sqrt(3), rel=0.02)


def test_normal_with_a_chosen_std() -> None:
    mean, std, _ = stats(big_layer({"scheme": "normal", "std": 0.37}).weight)
    assert std == pytest.approx(0.37, rel=0.02) and abs(mean) < 0.01


def test_uniform_in_a_chosen_range() -> None:
    w = big_layer({"scheme": "uniform", "range": 0.2}).weight
    assert w.min().item() >= -0.2 and w.max().item() <= 0.2
    assert w.min().item() < -0.198 and w.max().item() > 0.198
    assert stats(w)[1] == pytest.approx(0.2 / math.sqrt(3), rel=0.02)


def test_zeros() -> None:
    layer = big_layer({"scheme": "zeros"})
    assert torch.count_nonzero(layer.weight) == 0 and torch.count_nonzero(layer.bias) == 0


def test_default_leaves_pytorch_init() -> None:
    spec = ModelSpec.model_validate({"nodes": [lin("h1", 16, "tanh"), lin("out", 3)]})
    torch.manual_seed(7)
    model = GraphModel(plan_model(spec, (5,)))
    init_model(model.layers, spec)
    torch.manual_seed(7)
    ref1, ref2 = nn.Linear(5, 16), nn.Linear(16, 3)
    for got, ref in ((model.layers["h1"].linear, ref1), (model.layers["out"].linear, ref2)):
        assert torch.equal(got.weight, ref.weight) and torch.equal(got.bias, ref.bias)
    assert torch.count_nonzero(ref1.bias) > 0  # the default does not zero biases
    w = big_layer(None).weight
    assert w.abs().max().item() <= 1 / math.sqrt(FAN_IN)  # Kaiming-uniform, a=sqrt(5)


def test_a_node_override_wins_over_the_model_scheme() -> None:
    spec = ModelSpec.model_validate({
        "init": {"scheme": "zeros"},
        "nodes": [{**lin("h1", 300, "relu"), "init": {"scheme": "normal", "std": 0.5}},
                  lin("h2", 200, "relu"), {**lin("out", 2), "init": {"scheme": "default"}}]})
    torch.manual_seed(0)
    model = GraphModel(plan_model(spec, (200,)))
    init_model(model.layers, spec)
    assert stats(model.layers["h1"].linear.weight)[1] == pytest.approx(0.5, rel=0.03)
    assert torch.count_nonzero(model.layers["h2"].linear.weight) == 0
    out = model.layers["out"].linear
    assert torch.count_nonzero(out.weight) == out.weight.numel()  # PyTorch's own, untouched
    assert torch.count_nonzero(out.bias) > 0


def test_init_reaches_weights_inside_a_module_and_skips_norm_layers() -> None:
    bn = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
    init_module(bn, InitSpec(scheme="zeros"))
    assert torch.count_nonzero(bn[0].weight) == 0
    assert torch.equal(bn[1].weight, torch.ones(4))  # a scale of 1 stays 1


def test_the_trainer_applies_the_spec_init(spec) -> None:
    s = spec()
    s["model"]["init"] = {"scheme": "uniform", "range": 0.05}
    s["model"]["nodes"][1]["init"] = {"scheme": "zeros"}
    t = Trainer(s)
    w = t.model.layers["h1"].linear.weight
    assert w.abs().max().item() <= 0.05 and torch.count_nonzero(w) == w.numel()
    assert torch.count_nonzero(t.model.layers["out"].linear.weight) == 0
