"""The sequence layers: shapes and values as PyTorch's own modules give them, errors that
name the fix, what the recording switches keep (attention weights that sum to 1, respect the
causal mask and reproduce the output; recurrent states and gates equal to the fused
kernel's), one training step of each layer, a Transformer that learns to copy, and the
forms on the Build page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest
from torch import nn

from engine import SpecError
from engine.data.base import DATASETS, DataBundle, DatasetType
from engine.graph import GraphModel, Plan, plan_model
from engine.layers import LAYERS
from engine.layers.attention_core import Attention, MultiHeadAttention
from engine.layers.embedding import vocab_problem
from engine.layers.positional import sinusoidal
from engine.spec import ModelSpec
from tests.apptest import session
from ui.names import shown

T, V = 7, 11  # sequence length, vocabulary


def plan(nodes: list[dict], input_shape: tuple[int, ...] = (T,)) -> Plan:
    return plan_model(ModelSpec.model_validate({"nodes": nodes}), input_shape)


def node(type_: str, nid: str = "n", inputs: list[str] | None = None,
         **params: Any) -> dict:  # noqa: ANN401
    return {"id": nid, "type": type_, "params": params, "inputs": inputs}


def record(model: nn.Module, on: bool = True) -> None:
    """What the probes do: switch recording on every module that offers it."""
    for m in model.modules():
        for flag in ("keep_attention", "keep_states"):
            if hasattr(m, flag):
                setattr(m, flag, on)


def tokens(n: int = 4, length: int = T) -> torch.Tensor:
    return torch.randint(0, V, (n, length))


# Shapes and values against PyTorch ---------------------------------------------------------
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("output", ["sequence", "last", "mean"])
def test_recurrent_outputs_are_the_fused_kernels(kind: str, bidirectional: bool,
                                                 output: str) -> None:
    torch.manual_seed(0)
    p = plan([node(kind, hidden=5, layers=2, bidirectional=bidirectional, output=output)],
             (T, 3))
    layer = GraphModel(p).layers["n"]
    core = layer.core
    assert isinstance(core, {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind])
    assert (core.hidden_size, core.num_layers, core.bidirectional) == (5, 2, bidirectional)
    x = torch.randn(4, T, 3)
    seq, h_n = core(x)
    h_n = h_n[0] if kind == "lstm" else h_n
    last = torch.cat([h_n[-2], h_n[-1]], -1) if bidirectional else h_n[-1]
    want = {"sequence": seq, "last": last, "mean": seq.mean(1)}[output]
    got = layer(x)
    assert tuple(got.shape[1:]) == p.output_shape
    assert torch.allclose(got, want)
    record(layer)  # the step-by-step pass gives the same output, "last" included
    assert torch.allclose(layer(x), want, atol=1e-6)


def test_embedding_and_positional_encodings() -> None:
    p = plan([node("embedding", "e", vocab_size=V, dim=6), node("positional", "p")])
    assert [n.out_shape for n in p.nodes] == [(T, 6), (T, 6)]
    assert p.nodes[0].n_params == V * 6 and p.nodes[1].n_params == 0  # sinusoidal is fixed
    model = GraphModel(p)
    x = tokens()
    emb = model.layers["e"](x)
    assert torch.equal(emb, model.layers["e"].weight[x])
    pe = model(x) - emb
    for pos in (0, 3, 6):  # the textbook formula: sin at even features, cos at odd ones
        for i in range(3):
            angle = pos / 10000 ** (2 * i / 6)
            assert torch.allclose(pe[:, pos, 2 * i], torch.tensor(np.sin(angle)).float())
            assert torch.allclose(pe[:, pos, 2 * i + 1], torch.tensor(np.cos(angle)).float())
    assert sinusoidal(4, 5).shape == (4, 5)  # an odd width works too
    learned = plan([node("embedding", "e", vocab_size=V, dim=6),
                    node("positional", "p", kind="learned")])
    assert learned.nodes[1].n_params == T * 6  # one vector per position: length from the data


def copy_mha(ours: MultiHeadAttention, theirs: nn.MultiheadAttention, prefix: str = "") -> None:
    with torch.no_grad():
        w = torch.cat([ours.q_proj.weight, ours.k_proj.weight, ours.v_proj.weight])
        b = torch.cat([ours.q_proj.bias, ours.k_proj.bias, ours.v_proj.bias])
        theirs.in_proj_weight.copy_(w)
        theirs.in_proj_bias.copy_(b)
        theirs.out_proj.weight.copy_(ours.out_proj.weight)
        theirs.out_proj.bias.copy_(ours.out_proj.bias)


@pytest.mark.parametrize("causal", [False, True])
def test_multihead_attention_is_pytorchs(causal: bool) -> None:
    torch.manual_seed(0)
    p = plan([node("multihead_attention", heads=2, dim=8, causal=causal)], (T, 8))
    assert p.output_shape == (T, 8)
    ours = GraphModel(p).layers["n"]
    theirs = nn.MultiheadAttention(8, 2, batch_first=True)
    copy_mha(ours, theirs)
    x = torch.randn(3, T, 8)
    mask = nn.Transformer.generate_square_subsequent_mask(T) if causal else None
    want, want_w = theirs(x, x, x, attn_mask=mask, average_attn_weights=False)
    assert torch.allclose(ours(x), want, atol=1e-5)  # the fused path
    record(ours)
    assert torch.allclose(ours(x), want, atol=1e-5)  # the recording path
    assert torch.allclose(ours.attention_maps["self"], want_w, atol=1e-5)


@pytest.mark.parametrize("norm", ["post", "pre"])
def test_transformer_blocks_are_pytorchs(norm: str) -> None:
    torch.manual_seed(0)
    enc_p = plan([node("transformer_encoder", heads=2, feedforward=12, norm=norm)], (T, 8))
    dec_p = plan([node("linear", "mem", units=8),
                  node("transformer_decoder", "n", ["input", "mem"], heads=2, feedforward=12,
                       norm=norm)], (T, 8))
    assert enc_p.output_shape == dec_p.output_shape == (T, 8)
    enc, dec = GraphModel(enc_p).layers["n"], GraphModel(dec_p).layers["n"]
    pre = norm == "pre"
    t_enc = nn.TransformerEncoderLayer(8, 2, 12, dropout=0.0, batch_first=True, norm_first=pre)
    t_dec = nn.TransformerDecoderLayer(8, 2, 12, dropout=0.0, batch_first=True, norm_first=pre)
    for ours, theirs, attns in ((enc, t_enc, ("self_attn",)),
                                (dec, t_dec, ("self_attn", "multihead_attn"))):
        copy_mha(ours.self_attn, theirs.self_attn)
        if len(attns) > 1:
            copy_mha(ours.cross_attn, theirs.multihead_attn)
        with torch.no_grad():
            for i, lin in ((0, theirs.linear1), (3, theirs.linear2)):
                lin.weight.copy_(ours.ff[i].weight)
                lin.bias.copy_(ours.ff[i].bias)
            for i, ln in enumerate(ours.norms):
                getattr(theirs, f"norm{i + 1}").weight.copy_(ln.weight)
                getattr(theirs, f"norm{i + 1}").bias.copy_(ln.bias)
    x, mem = torch.randn(3, T, 8), torch.randn(3, 5, 8)
    assert torch.allclose(enc(x), t_enc(x), atol=1e-5)
    mask = nn.Transformer.generate_square_subsequent_mask(T)
    want = t_dec(x, mem, tgt_mask=mask, tgt_is_causal=True)
    assert torch.allclose(dec(x, mem), want, atol=1e-5)
    record(dec)
    assert torch.allclose(dec(x, mem), want, atol=1e-5)
    assert {k: tuple(v.shape) for k, v in dec.attention_maps.items()} == {
        "self": (3, 2, T, T), "cross": (3, 2, T, 5)}


def test_single_head_attention_shapes() -> None:
    p = plan([node("linear", "a", units=6), node("linear", "b", ["input"], units=3),
              node("attention", "n", ["a", "b"], scoring="additive", dim=5)], (T, 4))
    assert p.output_shape == (T, 5)
    self_p = plan([node("attention", dim=9)], (T, 4))
    assert self_p.output_shape == (T, 9)
    assert self_p.total_params == 3 * (4 * 9 + 9)  # queries, keys and values
    cross = plan([node("linear", "a", units=6), node("attention", "n", ["a", "input"])], (5, 4))
    x = torch.randn(2, 5, 4)
    assert GraphModel(cross)(x).shape == (2, 5, 32)


def test_linear_applies_at_every_position_of_a_sequence() -> None:
    p = plan([node("linear", units=3)], (T, 4))
    assert p.output_shape == (T, 3)
    model = GraphModel(p)
    x = torch.randn(2, T, 4)
    assert torch.allclose(model(x)[:, 2], model(x[:, 2]))


# Errors that say what to change --------------------------------------------------------------
ERRORS = [
    ("multihead_attention", {"dim": 30, "heads": 4}, (T, 8),
     ["dim 30 does not divide into 4 heads; use dim 32 or 3 heads"], {"dim": 32, "heads": 4}),
    ("transformer_encoder", {"heads": 4}, (T, 30),
     ["the input width 30 does not divide into 4 heads", "3 heads"], {"heads": 3}),
    ("lstm", {}, (T,), ["needs a sequence [length, features]", "embedding"], None),
    ("gru", {}, (1, 8, 8), ["use conv2d"], None),
    ("embedding", {}, (T, 4), ["token ids [length]", "feed it to rnn, lstm, gru or linear"],
     None),
    ("positional", {}, (T,), ["embedding"], None),
    ("attention", {}, (12,), ["needs a sequence"], None),
]


@pytest.mark.parametrize(("kind", "params", "shape", "words", "fixed"), ERRORS)
def test_each_shape_error_names_the_fix(kind: str, params: dict, shape: tuple,
                                        words: list[str], fixed: dict | None) -> None:
    with pytest.raises(SpecError) as info:
        plan([node(kind, **params)], shape)
    (problem,) = info.value.issues
    assert problem.code == "shape"
    for w in words:
        assert w in problem.message, problem.message
    if fixed is not None:  # the offered fix plans and runs
        p = plan([node(kind, **fixed)], shape)
        assert tuple(GraphModel(p)(torch.randn(2, *shape)).shape[1:]) == p.output_shape


def test_the_decoder_needs_its_second_input() -> None:
    with pytest.raises(SpecError) as info:
        plan([node("transformer_decoder")], (T, 8))
    assert "exactly 2 input(s)" in str(info.value)


def test_tokens_beyond_the_vocabulary_say_how_large_it_must_be() -> None:
    model = GraphModel(plan([node("embedding", vocab_size=5)]))
    with pytest.raises(IndexError, match="raise vocab_size to at least 9"):
        model(torch.full((1, T), 8))
    assert vocab_problem(64, 10) is None
    assert "at least 70" in vocab_problem(64, 70)


# Recording: attention weights ---------------------------------------------------------------
def attention_models() -> dict[str, tuple[nn.Module, tuple]]:
    """Each attention-bearing module, self and cross, with its inputs."""
    torch.manual_seed(1)
    x, mem = torch.randn(3, T, 8), torch.randn(3, 5, 6)
    enc = plan([node("transformer_encoder", heads=2, causal=True)], (T, 8))
    dec = plan([node("linear", "mem", units=6),
                node("transformer_decoder", "n", ["input", "mem"], heads=4, norm="pre")],
               (T, 8))
    return {
        "dot": (Attention(8, 8, 8, "dot", False, "self"), (x,)),
        "additive_cross": (Attention(8, 6, 4, "additive", False, "cross"), (x, mem)),
        "additive_causal": (Attention(8, 8, 4, "additive", True, "self"), (x,)),
        "mha": (MultiHeadAttention(8, 8, 8, 2, False, 0.0, "self"), (x,)),
        "mha_causal_cross": (MultiHeadAttention(8, 6, 12, 3, True, 0.0, "cross"), (x, mem)),
        "encoder_causal": (GraphModel(enc).layers["n"], (x,)),
        "decoder": (GraphModel(dec).layers["n"], (x, torch.randn(3, 5, 6))),
    }


@pytest.mark.parametrize("name", list(attention_models()))
def test_every_attention_row_sums_to_one_and_only_while_recording(name: str) -> None:
    module, inputs = attention_models()[name]
    module.eval()
    fused = module(*inputs)
    assert module.attention_maps == {}  # nothing kept unless asked
    record(module)
    with torch.no_grad():
        out = module(*inputs)
    assert torch.allclose(out, fused, atol=1e-5)  # recording changes nothing
    maps = module.attention_maps
    assert maps
    for w in maps.values():
        assert w.dim() == 4 and w.shape[0] == 3 and w.shape[2] == T
        assert torch.allclose(w.sum(-1), torch.ones(w.shape[:-1]), atol=1e-5)
        assert (w >= 0).all()


@pytest.mark.parametrize("name", ["additive_causal", "mha_causal_cross", "encoder_causal",
                                  "decoder"])
def test_a_causal_mask_leaves_nothing_above_the_diagonal(name: str) -> None:
    module, inputs = attention_models()[name]
    record(module)
    module(*inputs)
    w = module.attention_maps["self" if name != "mha_causal_cross" else "cross"]
    above = torch.ones(w.shape[-2:], dtype=torch.bool).triu(1)
    assert w[..., above].abs().max() == 0
    assert w[..., ~above].min() > 0  # and everything allowed gets some weight


@pytest.mark.parametrize("name", ["dot", "additive_cross", "mha", "mha_causal_cross"])
def test_recorded_weights_reproduce_the_output(name: str) -> None:
    module, inputs = attention_models()[name]
    record(module)
    with torch.no_grad():
        out = module(*inputs)
        (w,) = module.attention_maps.values()
        values = module.v_proj(inputs[-1])
        if isinstance(module, MultiHeadAttention):
            redone = module.merge(w @ module.split(values))
        else:
            redone = w[:, 0] @ values
    assert torch.allclose(redone, out, atol=1e-6)


def test_attention_dropout_only_while_training() -> None:
    torch.manual_seed(0)
    module = MultiHeadAttention(8, 8, 8, 2, False, 0.5, "self")
    x = torch.randn(2, T, 8)
    module.eval()
    assert torch.equal(module(x), module(x))
    module.train()
    assert not torch.allclose(module(x), module(x))


# Recording: recurrent states and gates -----------------------------------------------------
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_recorded_states_are_the_fused_kernels(kind: str, bidirectional: bool) -> None:
    torch.manual_seed(0)
    layer = GraphModel(plan([node(kind, hidden=6, layers=2, bidirectional=bidirectional)],
                            (T, 3))).layers["n"]
    x = torch.randn(4, T, 3)
    with torch.no_grad():
        fused, _ = layer.core(x)
    assert layer.states is None and layer.gates == {}
    record(layer)
    layer(x)
    width = 6 * (2 if bidirectional else 1)
    assert layer.states.shape == (4, T, width)
    assert torch.allclose(layer.states, fused, atol=1e-6)
    names = {"rnn": set(), "lstm": {"forget", "input", "output", "candidate"},
             "gru": {"reset", "update", "candidate"}}[kind]
    assert set(layer.gates) == names
    for g in layer.gates.values():
        assert g.shape == (4, T, width)
    h = layer.states
    prev = torch.zeros(4, T, width)  # the state each step started from, per direction
    prev[:, 1:, :6] = h[:, :-1, :6]
    if bidirectional:
        prev[:, :-1, 6:] = h[:, 1:, 6:]
    gates = layer.gates
    if kind == "lstm":  # h = o ⊙ tanh(c), c = f ⊙ c_prev + i ⊙ g
        c = layer.cells
        c_prev = torch.zeros_like(c)
        c_prev[:, 1:, :6] = c[:, :-1, :6]
        if bidirectional:
            c_prev[:, :-1, 6:] = c[:, 1:, 6:]
        assert torch.allclose(h, gates["output"] * torch.tanh(c), atol=1e-6)
        assert torch.allclose(c, gates["forget"] * c_prev + gates["input"] * gates["candidate"],
                              atol=1e-6)
        for g in ("forget", "input", "output"):
            assert gates[g].min() > 0 and gates[g].max() < 1
    if kind == "gru":  # h = (1 - z) ⊙ n + z ⊙ h_prev
        z = gates["update"]
        assert torch.allclose(h, (1 - z) * gates["candidate"] + z * prev, atol=1e-6)


def test_state_taps_give_the_gradient_of_the_loss_for_each_step() -> None:
    torch.manual_seed(0)
    layer = GraphModel(plan([node("lstm", hidden=4, output="last")], (T, 3))).layers["n"]
    record(layer)
    x = torch.randn(2, T, 3)
    out = layer(x)
    out.retain_grad()
    out.pow(2).sum().backward()
    g = layer.state_taps.grad
    assert g.shape == (2, T, 4)
    assert torch.allclose(g[:, -1], out.grad)  # the last state is the output
    assert (g[:, :-1].abs().sum(-1) > 0).all()  # earlier steps reach it through the cells
    with torch.no_grad():
        layer(x)
    assert layer.state_taps is None  # no gradients, no taps


def test_recording_pass_and_fused_pass_train_alike() -> None:
    """A backward pass through the step-by-step loop gives the fused kernel's gradients."""
    torch.manual_seed(0)
    layer = GraphModel(plan([node("gru", hidden=5, bidirectional=True, output="mean")],
                            (T, 3))).layers["n"]
    x = torch.randn(2, T, 3)
    grads = []
    for on in (False, True):
        record(layer, on)
        layer.zero_grad()
        layer(x).sum().backward()
        grads.append([p.grad.clone() for p in layer.parameters()])
    for a, b in zip(*grads, strict=True):
        assert torch.allclose(a, b, atol=1e-5)


# Each layer in a tiny graph: plans, trains one step -----------------------------------------
EMB = node("embedding", "e", vocab_size=V, dim=8)
GRAPHS = {
    "rnn": [EMB, node("rnn", "r", hidden=6, output="last", activation="relu")],
    "lstm": [EMB, node("lstm", "r", hidden=6, layers=2, output="mean")],
    "gru": [EMB, node("gru", "r", hidden=6, bidirectional=True), node("flatten", "f")],
    "positional": [EMB, node("positional", "p", kind="learned"), node("flatten", "f")],
    "attention": [EMB, node("attention", "a", scoring="additive", dim=6),
                  node("flatten", "f")],
    "attention_cross": [EMB, node("gru", "g", hidden=6),
                        node("attention", "a", ["e", "g"], dim=6), node("flatten", "f")],
    "multihead_attention": [EMB, node("multihead_attention", "m", heads=2, dim=8,
                                      causal=True), node("flatten", "f")],
    "transformer_encoder": [EMB, node("positional", "p"),
                            node("transformer_encoder", "t", heads=2, norm="pre",
                                 dropout=0.1, activation="gelu"), node("flatten", "f")],
    "transformer_decoder": [EMB, node("lstm", "g", hidden=8),
                            node("transformer_decoder", "t", ["e", "g"], heads=2),
                            node("flatten", "f")],
}


@pytest.mark.parametrize("name", list(GRAPHS))
def test_each_layer_plans_and_trains_one_step(name: str) -> None:
    torch.manual_seed(0)
    p = plan([*GRAPHS[name], node("linear", "out", units=3)])
    model = GraphModel(p)
    model.train()
    x, y = tokens(8), torch.randint(0, 3, (8,))
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    assert torch.isfinite(loss)
    for n, prm in model.named_parameters():
        assert prm.grad is not None and prm.grad.abs().sum() > 0, n
    opt.step()
    changed = [k for k, v in model.state_dict().items() if not torch.equal(v, before[k])]
    for n in p.nodes:
        if n.n_params:
            assert any(k.startswith(f"layers.{n.id}.") for k in changed), n.id
    model.eval()
    record(model)
    assert tuple(model(x).shape) == (8, 3)


# A 2-layer Transformer encoder learns to copy ---------------------------------------------
def test_a_two_layer_transformer_learns_to_copy() -> None:
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    length, vocab = 8, 10
    x_train = torch.randint(0, vocab, (2000, length), generator=gen)
    x_test = torch.randint(0, vocab, (300, length), generator=gen)
    p = plan([node("embedding", "e", vocab_size=vocab, dim=32), node("positional", "p"),
              node("transformer_encoder", "t1", heads=4, feedforward=64),
              node("transformer_encoder", "t2", heads=4, feedforward=64),
              node("linear", "head", units=vocab)], (length,))
    assert p.output_shape == (length, vocab)
    model = GraphModel(p)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(300):
        idx = torch.randint(0, len(x_train), (64,), generator=gen)
        xb = x_train[idx]
        loss = nn.functional.cross_entropy(model(xb).reshape(-1, vocab), xb.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(x_test).argmax(-1) == x_test).float().mean().item()
    assert accuracy > 0.9, accuracy


# The Build page ---------------------------------------------------------------------------
ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "views" / "build.py")
NEW = ["rnn", "lstm", "gru", "positional", "attention", "multihead_attention",
       "transformer_encoder", "transformer_decoder"]


def _test_tokens(p: dict, seed: int, features: Any) -> DataBundle:  # noqa: ANN401
    """Parity of a bit string, for when no token data set is registered."""
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(rng.integers(0, 2, (200, 8)))
    y = x.sum(1) % 2
    return DataBundle(x[:150], y[:150], x[150:], y[150:], "classification", ("even", "odd"),
                      vocab=("0", "1"))


if "parity" in DATASETS:
    TOKENS = "parity"
else:
    TOKENS = "test_tokens"
    if TOKENS not in DATASETS:
        DATASETS.register(DatasetType(TOKENS, "Parity", "classification", "Test tokens.", (),
                                      _test_tokens, "sequence"))

SEQ = [{"id": "emb", "type": "embedding", "params": {"vocab_size": 8}},
       {"id": "enc", "type": "gru", "params": {"hidden": 16}},
       {"id": "last", "type": "gru", "params": {"hidden": 16, "output": "last"}},
       {"id": "out", "type": "linear", "params": {"units": 2}}]


def key(at: AppTest, name: str) -> str:
    rev = at.session_state["build-rev"] if "build-rev" in at.session_state else 0  # noqa: SIM401
    return f"b{rev}-{name}"


def open_sequence_model() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["preset"] = "xor_hidden"
    at.run()
    spec = session().exp.to_dict()
    spec["data"] = {"name": TOKENS, "params": {}}
    spec["model"]["nodes"] = SEQ
    session().edit_draft(spec)
    at.run()
    assert not at.exception, at.exception
    assert session().draft is None, session().draft
    return at


def test_the_embedding_form_reads_in_words() -> None:
    at = open_sequence_model()
    vocab = at.number_input(key=key(at, "0-p-vocab_size"))
    assert vocab.label == "Vocabulary size" and vocab.value == 8
    assert at.number_input(key=key(at, "0-p-dim")).label == "Width"
    shapes = list(at.dataframe[0].value["Output shape"])
    assert shapes[:3] == ["8×32", "8×16", "16"]


@pytest.mark.parametrize("kind", NEW)
def test_adding_each_new_layer_on_the_build_page(kind: str) -> None:
    at = open_sequence_model()
    at.selectbox(key=key(at, "1-new-type")).set_value(kind)
    at.button(key=key(at, "1-insert")).click().run()
    assert not at.exception, at.exception
    s = session()
    if kind == "transformer_decoder":  # cross-attention needs its second input named
        assert s.draft is not None
        at.multiselect(key=key(at, "2-inputs")).set_value(["enc", "emb"]).run()
        assert not at.exception, at.exception
        s = session()
    assert s.draft is None, s.draft  # valid with its defaults
    assert [n.type for n in s.exp.model.nodes][2] == kind
    for p in LAYERS.get(kind).params:  # one widget per declared parameter, in words
        widget = at.get("number_input") + at.get("checkbox") + at.get("selectbox")
        found = [w for w in widget if w.key == key(at, f"2-p-{p.name}")]
        assert len(found) == 1, p.name
        assert "_" not in found[0].label
    (title,) = [e.label for e in at.expander if e.label.startswith("3. ")]
    assert title.endswith(f" · {shown(kind)}") and "_" not in shown(kind)
