"""The convolution family: shapes as PyTorch gives them, errors that name the fix, windows
for receptive fields, each new layer trained one step, and the forms on the Build page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from streamlit.testing.v1 import AppTest
from torch import nn

from engine import SpecError
from engine.graph import GraphModel, Plan, plan_model
from engine.layers import LAYERS, Window
from engine.spec import ModelSpec
from tests.apptest import session
from ui.names import shown

IMAGE = (1, 12, 12)


def plan(nodes: list[dict], input_shape: tuple[int, ...] = IMAGE) -> Plan:
    return plan_model(ModelSpec.model_validate({"nodes": nodes}), input_shape)


def node(kind: str, nid: str = "n", **params: Any) -> dict:  # noqa: ANN401
    return {"id": nid, "type": kind, "params": params}


# Shapes -------------------------------------------------------------------------------------
# (layer type, its params, input shape, the same layer built directly in PyTorch)
CASES = [
    ("conv2d", {"filters": 6, "kernel_size": 3, "stride": 2, "padding": 1, "dilation": 1},
     (3, 13, 11), lambda: nn.Conv2d(3, 6, 3, 2, 1)),
    ("conv2d", {"filters": 4, "kernel_size": 5, "stride": 1, "padding": 0, "dilation": 2},
     (2, 12, 12), lambda: nn.Conv2d(2, 4, 5, 1, 0, 2)),
    ("conv2d", {"filters": 8, "kernel_size": 3, "stride": 3, "padding": 2, "groups": 4,
                "bias": False}, (4, 10, 9), lambda: nn.Conv2d(4, 8, 3, 3, 2, groups=4)),
    ("conv1d", {"filters": 5, "kernel_size": 4, "stride": 2, "padding": 1, "dilation": 1},
     (3, 20), lambda: nn.Conv1d(3, 5, 4, 2, 1)),
    ("conv1d", {"filters": 6, "kernel_size": 3, "stride": 1, "padding": 0, "dilation": 3,
                "groups": 3}, (3, 17), lambda: nn.Conv1d(3, 6, 3, 1, 0, 3, groups=3)),
    ("maxpool2d", {"kernel_size": 3, "stride": 2, "padding": 1}, (2, 11, 12),
     lambda: nn.MaxPool2d(3, 2, 1)),
    ("maxpool2d", {"kernel_size": 2}, (2, 9, 8), lambda: nn.MaxPool2d(2)),
    ("avgpool2d", {"kernel_size": 4, "stride": 3, "padding": 2}, (1, 12, 10),
     lambda: nn.AvgPool2d(4, 3, 2)),
    ("adaptive_avgpool2d", {"output_size": 5}, (3, 12, 11), lambda: nn.AdaptiveAvgPool2d(5)),
    ("adaptive_maxpool2d", {"output_size": 3}, (3, 7, 7), lambda: nn.AdaptiveMaxPool2d(3)),
    ("adaptive_avgpool2d", {"output_size": 4}, (2, 2, 3), lambda: nn.AdaptiveAvgPool2d(4)),
    ("upsample", {"mode": "nearest", "scale_factor": 3}, (2, 5, 4),
     lambda: nn.Upsample(scale_factor=3)),
    ("upsample", {"mode": "bilinear", "scale_factor": 2}, (2, 5, 7),
     lambda: nn.Upsample(scale_factor=2, mode="bilinear")),
    ("conv_transpose2d", {}, (3, 6, 5), lambda: nn.ConvTranspose2d(3, 8, 2, 2)),
    ("conv_transpose2d", {"filters": 4, "kernel_size": 3, "stride": 2, "padding": 1,
                          "output_padding": 1}, (3, 6, 5),
     lambda: nn.ConvTranspose2d(3, 4, 3, 2, 1, 1)),
    ("conv_transpose2d", {"filters": 2, "kernel_size": 4, "stride": 3, "padding": 3},
     (1, 4, 4), lambda: nn.ConvTranspose2d(1, 2, 4, 3, 3)),
    ("batchnorm2d", {}, (3, 5, 6), lambda: nn.BatchNorm2d(3)),
    ("dropout2d", {"p": 0.3}, (3, 5, 6), lambda: nn.Dropout2d(0.3)),
]


@pytest.mark.parametrize(("kind", "params", "shape", "reference"), CASES)
def test_output_shapes_are_what_pytorch_produces(kind: str, params: dict, shape: tuple,
                                                 reference: Any) -> None:  # noqa: ANN401
    p = plan([node(kind, **params)], shape)
    x = torch.randn(2, *shape)
    expected = tuple(reference()(x).shape[1:])
    assert p.output_shape == expected
    assert tuple(GraphModel(p)(x).shape[1:]) == expected  # the module built agrees


# Errors that say what to change ---------------------------------------------------------
# (layer, bad params, input shape, words the message must hold, params the message offers)
ERRORS = [
    ("conv2d", {"filters": 8, "groups": 3}, (4, 8, 8),
     ["groups 3", "use groups 1, 2 or 4"], {"filters": 8, "groups": 4}),
    ("conv2d", {"filters": 10, "groups": 4}, (4, 8, 8),
     ["groups 4", "filters a multiple of 4 (such as 8)"], {"filters": 8, "groups": 4}),
    ("conv2d", {"kernel_size": 7, "padding": 0}, (1, 5, 6),
     ["kernel_size at most 5", "padding at least 1"], {"kernel_size": 5, "padding": 0}),
    ("conv2d", {"kernel_size": 7, "padding": 0}, (1, 5, 6),
     ["padding at least 1"], {"kernel_size": 7, "padding": 1}),
    ("conv2d", {"kernel_size": 3, "dilation": 4, "padding": 0}, (1, 6, 6),
     ["dilation 4", "kernel_size at most 2", "padding at least 2"],
     {"kernel_size": 3, "dilation": 4, "padding": 2}),
    ("conv2d", {}, (12,), ["needs an image input", "before any flatten"], None),
    ("conv2d", {}, (3, 12), ["use conv1d"], None),
    ("conv1d", {"filters": 6, "groups": 4}, (2, 10), ["use groups 1 or 2"],
     {"filters": 6, "groups": 2}),
    ("conv1d", {"kernel_size": 9, "padding": 0}, (1, 6),
     ["kernel_size at most 6", "padding at least 2"], {"kernel_size": 6, "padding": 0}),
    ("conv1d", {}, (1, 8, 8), ["use conv2d"], None),
    ("maxpool2d", {"kernel_size": 3, "padding": 2}, (1, 8, 8),
     ["padding 2", "use padding at most 1", "half"], {"kernel_size": 3, "padding": 1}),
    ("avgpool2d", {"kernel_size": 6}, (1, 4, 5), ["kernel_size at most 4"], {"kernel_size": 4}),
    ("maxpool2d", {}, (16,), ["needs an image input"], None),
    ("adaptive_maxpool2d", {}, (16,), ["needs an image input"], None),
    ("batchnorm2d", {}, (16,), ["use batchnorm1d"], None),
    ("dropout2d", {}, (16,), ["use dropout"], None),
    ("upsample", {}, (3, 16), ["a sequence", "works on images only"], None),
    ("conv_transpose2d", {"stride": 2, "output_padding": 2}, (1, 4, 4),
     ["output_padding 2", "use output_padding at most 1", "stride of at least 3"],
     {"stride": 2, "output_padding": 1}),
    ("conv_transpose2d", {"kernel_size": 3, "stride": 1, "padding": 3}, (1, 2, 2),
     ["padding 3", "use padding at most 1"], {"kernel_size": 3, "stride": 1, "padding": 1}),
]


@pytest.mark.parametrize(("kind", "params", "shape", "words", "fixed"), ERRORS)
def test_each_shape_error_names_the_parameter_and_a_value_that_works(
        kind: str, params: dict, shape: tuple, words: list[str], fixed: dict | None) -> None:
    with pytest.raises(SpecError) as info:
        plan([node(kind, **params)], shape)
    (problem,) = info.value.issues
    assert problem.code == "shape"
    for w in words:
        assert w in problem.message, problem.message
    if fixed is not None:  # the value the message offers really works, in PyTorch too
        p = plan([node(kind, **fixed)], shape)
        assert tuple(GraphModel(p)(torch.randn(2, *shape)).shape[1:]) == p.output_shape


def same_verdict(kind: str, params: dict, shape: tuple, reference: nn.Module) -> None:
    """The plan accepts exactly what PyTorch runs, with PyTorch's output shape."""
    try:
        want = tuple(reference(torch.zeros(1, *shape)).shape[1:])
    except RuntimeError:
        want = None
    try:
        got = plan([node(kind, **params)], shape).output_shape
    except SpecError:
        got = None
    assert got == want, (kind, params, shape)


def test_the_pooling_padding_rule_is_pytorchs() -> None:
    """PyTorch refuses padding over half the kernel, and windows larger than the input."""
    for kind, cls in (("maxpool2d", nn.MaxPool2d), ("avgpool2d", nn.AvgPool2d)):
        for k in range(1, 7):
            for pad in range(0, 4):
                same_verdict(kind, {"kernel_size": k, "stride": 1, "padding": pad}, (1, 4, 5),
                             cls(k, 1, pad))


def test_the_convolution_window_rule_is_pytorchs() -> None:
    for k in (1, 3, 5):
        for pad in (0, 1, 2):
            for d in (1, 2, 3):
                params = {"filters": 2, "kernel_size": k, "padding": pad, "dilation": d}
                same_verdict("conv2d", params, (1, 4, 6), nn.Conv2d(1, 2, k, 1, pad, d))
                same_verdict("conv1d", params, (1, 5), nn.Conv1d(1, 2, k, 1, pad, d))


def test_the_transposed_convolution_rules_are_pytorchs() -> None:
    """output_padding below the stride; padding may crop all but at least one pixel."""
    for k in (1, 2, 3):
        for s in (1, 2, 3):
            for pad in range(0, 4):
                for extra in range(0, 3):
                    params = {"filters": 1, "kernel_size": k, "stride": s, "padding": pad,
                              "output_padding": extra}
                    same_verdict("conv_transpose2d", params, (1, 2, 2),
                                 nn.ConvTranspose2d(1, 1, k, s, pad, extra))


# Parameters: groups and bias ---------------------------------------------------------------
def test_groups_divide_the_parameter_count() -> None:
    counts = {}
    for g in (1, 2, 4):
        p = plan([node("conv2d", filters=8, kernel_size=3, groups=g)], (4, 6, 6))
        counts[g] = p.total_params
        conv = GraphModel(p).layers["n"].conv
        assert conv.weight.shape == (8, 4 // g, 3, 3)
    assert counts == {1: 8 * 4 * 9 + 8, 2: 8 * 2 * 9 + 8, 4: 8 * 1 * 9 + 8}


def test_depthwise_groups_keep_channels_apart() -> None:
    p = plan([node("conv2d", filters=2, kernel_size=3, groups=2, activation="none")], (2, 5, 5))
    model = GraphModel(p)
    x = torch.zeros(1, 2, 5, 5)
    x[0, 1] = torch.randn(5, 5)  # only channel 1 carries anything
    with torch.no_grad():
        out = model(x) - model(torch.zeros_like(x))
    assert out[0, 0].abs().max() == 0 and out[0, 1].abs().max() > 0


def test_bias_off_removes_the_bias() -> None:
    on = plan([node("conv2d", filters=3, activation="none")], (2, 6, 6))
    off = plan([node("conv2d", filters=3, activation="none", bias=False)], (2, 6, 6))
    assert on.total_params - off.total_params == 3
    model = GraphModel(off)
    assert model.layers["n"].conv.bias is None
    assert model(torch.zeros(1, 2, 6, 6)).abs().max() == 0  # no offset left anywhere
    assert GraphModel(on)(torch.zeros(1, 2, 6, 6)).abs().max() > 0
    conv1 = plan([node("conv1d", filters=3, bias=False)], (2, 9))
    assert GraphModel(conv1).layers["n"].conv.bias is None
    assert conv1.total_params == 3 * 2 * 3


def test_defaults_keep_todays_conv2d() -> None:
    p = plan([node("conv2d")], (3, 8, 8))
    conv = GraphModel(p).layers["n"].conv
    assert (conv.groups, conv.bias is not None, conv.kernel_size, conv.padding) == (
        1, True, (3, 3), (1, 1))
    assert p.total_params == 8 * 3 * 9 + 8


# Windows -------------------------------------------------------------------------------------
def window(kind: str, shape: tuple = (3, 12, 12), **params: Any) -> Window | None:  # noqa: ANN401
    p = plan([node(kind, **params)], shape).nodes[0]
    return LAYERS.get(kind).window(p.params, list(p.in_shapes))


def test_windows_of_convolution_and_pooling() -> None:
    assert window("conv2d", kernel_size=5, stride=2, padding=3, dilation=2) == Window(
        (5, 5), (2, 2), (3, 3), (2, 2))
    assert window("conv2d") == Window((3, 3), (1, 1), (1, 1), (1, 1))
    assert window("maxpool2d", kernel_size=3, padding=1) == Window((3, 3), (3, 3), (1, 1))
    assert window("avgpool2d", kernel_size=2, stride=1) == Window((2, 2), (1, 1), (0, 0))
    assert window("avgpool2d").dilation == (1, 1)


def test_layers_that_see_the_whole_input_or_are_pointwise() -> None:
    for kind in ("global_avgpool", "adaptive_avgpool2d", "adaptive_maxpool2d", "flatten",
                 "upsample", "conv_transpose2d"):
        assert LAYERS.get(kind).window is not None, kind
        assert window(kind) is None, kind
    assert window("conv1d", (2, 10)) is None
    assert window("linear", (10,)) is None
    for kind in ("batchnorm2d", "dropout2d", "relu", "softmax", "add", "concat", "dropout"):
        assert LAYERS.get(kind).window is None, kind  # the field passes through


# Each new layer in a graph: plans, runs forward and backward, and learns --------------------
GRAPHS = {
    "conv2d_groups_nobias": [node("conv2d", "c", filters=4, groups=1),
                             node("conv2d", "g", filters=4, groups=4, bias=False)],
    "conv1d": [node("conv1d", "c", filters=4, groups=1)],
    "batchnorm2d": [node("conv2d", "c", filters=4), node("batchnorm2d", "bn")],
    "dropout2d": [node("conv2d", "c", filters=4), node("dropout2d", "d", p=0.5)],
    "pool_padding": [node("conv2d", "c", filters=4),
                     node("maxpool2d", "m", kernel_size=3, stride=2, padding=1),
                     node("avgpool2d", "a", kernel_size=3, stride=1, padding=1)],
    "adaptive_avgpool2d": [node("conv2d", "c", filters=4),
                           node("adaptive_avgpool2d", "ap", output_size=3)],
    "adaptive_maxpool2d": [node("conv2d", "c", filters=4),
                           node("adaptive_maxpool2d", "ap", output_size=5)],
    "upsample_nearest": [node("conv2d", "c", filters=4), node("upsample", "u")],
    "upsample_bilinear": [node("conv2d", "c", filters=4),
                          node("upsample", "u", mode="bilinear", scale_factor=3)],
    "conv_transpose2d": [node("conv2d", "c", filters=4, stride=2),
                         node("conv_transpose2d", "t", filters=3, kernel_size=3, padding=1,
                              output_padding=1, activation="tanh")],
}


@pytest.mark.parametrize("name", list(GRAPHS))
def test_each_new_layer_plans_and_trains_one_step(name: str) -> None:
    torch.manual_seed(0)
    shape = (3, 12) if name == "conv1d" else IMAGE
    nodes = [*GRAPHS[name], node("flatten", "f"), node("linear", "out", units=3)]
    p = plan(nodes, shape)
    model = GraphModel(p)
    model.train()
    x, y = torch.randn(8, *shape), torch.randint(0, 3, (8,))
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    assert torch.isfinite(loss)
    for n, prm in model.named_parameters():
        assert prm.grad is not None and prm.grad.abs().sum() > 0, n
    opt.step()
    changed = [k for k, v in model.state_dict().items() if not torch.equal(v, before[k])]
    for n in p.nodes:  # every node with weights learned something
        if n.n_params:
            assert any(k.startswith(f"layers.{n.id}.") for k in changed), n.id
    model.eval()
    assert tuple(model(x).shape) == (8, 3)


# The Build page: forms generated from the new declarations -------------------------------
ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "views" / "build.py")
CNN = [{"id": "conv1", "type": "conv2d", "params": {"filters": 4}},
       {"id": "flat", "type": "flatten"},
       {"id": "out", "type": "linear", "params": {"units": 10}}]
NEW = ["conv_transpose2d", "upsample", "batchnorm2d", "dropout2d", "adaptive_avgpool2d",
       "adaptive_maxpool2d", "maxpool2d", "avgpool2d", "conv2d"]


def key(at: AppTest, name: str) -> str:
    rev = at.session_state["build-rev"] if "build-rev" in at.session_state else 0  # noqa: SIM401
    return f"b{rev}-{name}"


def open_cnn() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["preset"] = "xor_hidden"
    at.run()
    s = session()
    spec = s.exp.to_dict()
    spec["data"] = {"name": "digits", "params": {}}
    spec["model"]["nodes"] = CNN
    s.edit_draft(spec)  # as an edit made elsewhere would
    at.run()
    assert not at.exception, at.exception
    assert session().draft is None and session().exp.data.name == "digits"
    return at


def test_bool_and_choice_params_render_and_edit_the_experiment() -> None:
    at = open_cnn()
    bias = at.checkbox(key=key(at, "0-p-bias"))
    assert bias.label == "Bias" and bias.value is True
    bias.uncheck().run()
    assert not at.exception, at.exception
    assert session().exp.model.nodes[0].params["bias"] is False
    assert at.number_input(key=key(at, "0-p-groups")).value == 1
    at.selectbox(key=key(at, "0-new-type")).set_value("upsample")
    at.button(key=key(at, "0-insert")).click().run()
    assert not at.exception, at.exception
    nodes = session().exp.model.nodes
    assert [n.type for n in nodes] == ["conv2d", "upsample", "flatten", "linear"]
    mode = at.selectbox(key=key(at, "1-p-mode"))
    assert mode.options == ["nearest", "bilinear"] and mode.value == "nearest"
    mode.set_value("bilinear").run()
    assert not at.exception, at.exception
    assert session().exp.model.nodes[1].params == {"mode": "bilinear"}
    shapes = list(at.dataframe[0].value["Output shape"])
    assert shapes[:2] == ["4×8×8", "4×16×16"]


@pytest.mark.parametrize("kind", NEW)
def test_adding_each_new_layer_on_the_build_page(kind: str) -> None:
    at = open_cnn()
    at.selectbox(key=key(at, "0-new-type")).set_value(kind)
    at.button(key=key(at, "0-insert")).click().run()
    assert not at.exception, at.exception
    s = session()
    assert s.draft is None, s.draft  # valid at once with its defaults
    assert [n.type for n in s.exp.model.nodes][1] == kind
    lt = LAYERS.get(kind)
    for p in lt.params:  # one widget per declared parameter, labelled in words
        widget = at.get("number_input") + at.get("checkbox") + at.get("selectbox")
        found = [w for w in widget if w.key == key(at, f"1-p-{p.name}")]
        assert len(found) == 1, p.name
        assert "_" not in found[0].label
    (title,) = [e.label for e in at.expander if e.label.startswith("2. ")]
    assert title.endswith(f" · {shown(kind)}") and "_" not in shown(kind)  # words, not names
