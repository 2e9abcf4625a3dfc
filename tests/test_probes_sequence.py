"""The sequence probes (attention, hidden states, gates, gradient over time, answers per token,
samples) on real small models trained a few steps, and their figures."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from engine.probes.attention import collect, map_names
from engine.probes.recurrent import time_gradients, unrolled
from engine.trainer import Trainer

SEQUENCE_PROBES = ("attention", "hidden_states", "gates", "time_gradients",
                   "token_predictions", "samples")


def experiment(data: str, params: dict[str, Any], nodes: list[dict[str, Any]],
               epochs: int = 2) -> dict[str, Any]:
    return {"schema": 1, "meta": {"name": "sequence probes"},
            "data": {"name": data, "params": params, "seed": 0},
            "model": {"nodes": [{"params": {}, **n} for n in nodes]},
            "train": {"epochs": epochs, "batch_size": 32,
                      "optimizer": {"name": "adam", "lr": 0.003}}}


def counting_model() -> dict[str, Any]:
    """Count the 1s among 16 symbols (digits and letters): a Transformer block, an LSTM."""
    return experiment("count", {"n_samples": 200, "length": 6, "vocab_size": 16}, [
        {"id": "emb", "type": "embedding", "params": {"vocab_size": 16, "dim": 16}},
        {"id": "pos", "type": "positional"},
        {"id": "enc", "type": "transformer_encoder", "params": {"heads": 2}},
        {"id": "att", "type": "attention", "params": {"scoring": "additive", "dim": 8}},
        {"id": "lstm", "type": "lstm", "params": {"hidden": 8}},
        {"id": "flat", "type": "flatten"},
        {"id": "out", "type": "linear", "params": {"units": 7}}])


@pytest.fixture(scope="module")
def counted() -> Trainer:
    trainer = Trainer(counting_model(), needs=SEQUENCE_PROBES)
    trainer.run(epochs=2)
    return trainer


def test_attention_result_has_every_head_as_heads_queries_keys_with_rows_summing_to_one(
        counted: Trainer) -> None:
    found = counted.snapshot().probes["attention"]
    assert found["step"] == counted.step and found["index"] == 0
    assert set(found["weights"]) == {"enc", "att"}  # the block speaks for its parts
    assert found["weights"]["enc"].shape == (2, 6, 6)
    assert found["weights"]["att"].shape == (1, 6, 6)
    for w in found["weights"].values():
        assert w.dtype == np.float32 and not w.flags.writeable  # shared by every reader
        np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-5)
        assert (w >= 0).all()
    assert found["axes"]["enc"] == {"queries": found["tokens"], "keys": found["tokens"]}


def test_tokens_are_the_vocabulary_s_tokens_not_ids(counted: Trainer) -> None:
    found = counted.snapshot().probes["attention"]
    vocab = counted.data.vocab
    assert "A" in vocab  # 16 symbols: the digits, then letters
    row = counted.data.x_test[0].tolist()
    assert found["tokens"] == [vocab[i] for i in row]
    assert found["query_tokens"] == found["tokens"]
    for name in ("hidden_states", "gates", "time_gradients"):
        assert counted.snapshot().probes[name]["tokens"] == found["tokens"]


def test_recording_switches_are_off_again_so_training_runs_the_fast_path(
        counted: Trainer) -> None:
    for module in counted.model.modules():
        assert not getattr(module, "keep_attention", False)
        assert not getattr(module, "keep_states", False)


def test_hidden_states_gates_and_gradients_per_recurrent_node(counted: Trainer) -> None:
    probes = counted.snapshot().probes
    states = probes["hidden_states"]["nodes"]
    assert list(states) == ["lstm"] and states["lstm"].shape == (6, 8)  # [T, units]
    assert np.abs(states["lstm"]).max() <= 1  # h = o * tanh(c)
    gates = probes["gates"]["nodes"]["lstm"]
    assert gates["kind"] == "lstm"
    assert set(gates["gates"]) == {"forget", "input", "output", "candidate"}
    for name, g in gates["gates"].items():
        assert g.shape == (6, 8)
        if name != "candidate":
            assert g.min() >= 0 and g.max() <= 1
    grads = probes["time_gradients"]["nodes"]["lstm"]
    assert grads.shape == (6,) and (grads > 0).all()


def test_predictions_per_token_name_the_classes(counted: Trainer) -> None:
    found = counted.snapshot().probes["token_predictions"]
    assert found["kind"] == "tokens" and len(found["rows"]) == 8
    row = found["rows"][0]
    assert row["index"] == 0
    assert row["targets"] == [counted.data.class_names[int(counted.data.y_test[0])]]
    assert row["predicted"][0] in counted.data.class_names
    assert row["correct"][0] == (row["predicted"] == row["targets"])
    assert 0 < row["confidence"][0] <= 1
    assert row["inputs"] == counted.snapshot().probes["attention"]["tokens"]


def test_a_new_focus_records_that_sequence(counted: Trainer) -> None:
    counted.set_focus(index=3)
    try:
        found = counted.snapshot().probes["attention"]
        assert found["index"] == 3
        assert found["tokens"] == [counted.data.vocab[i] for i in counted.data.x_test[3]]
    finally:
        counted.set_focus(index=0)


def test_a_model_without_sequences_records_none() -> None:
    trainer = Trainer("presets/spiral.json", needs=SEQUENCE_PROBES)
    snap = trainer.run(epochs=1)
    for name in SEQUENCE_PROBES:
        assert snap.probes[name] is None, name


# the recurrence run step by step --------------------------------------------------------------

@pytest.mark.parametrize(("cls", "kw"), [
    (nn.RNN, {}), (nn.RNN, {"nonlinearity": "relu", "num_layers": 2}), (nn.LSTM, {}),
    (nn.GRU, {}), (nn.LSTM, {"num_layers": 2, "bidirectional": True}),
    (nn.GRU, {"bidirectional": True, "batch_first": True})])
def test_the_unrolled_recurrence_equals_pytorch_s_fused_kernel(cls: type, kw: dict) -> None:
    torch.manual_seed(0)
    rnn = cls(3, 5, **kw).eval()
    x = torch.randn(2, 7, 3) if rnn.batch_first else torch.randn(7, 2, 3)
    width = 5 * (2 if rnn.bidirectional else 1)
    want, got = rnn(x), unrolled(rnn, x, None, [torch.zeros(2, width)] * 7)
    torch.testing.assert_close(got[0], want[0], atol=1e-5, rtol=1e-4)
    h_want = want[1][0] if isinstance(want[1], tuple) else want[1]
    h_got = got[1][0] if isinstance(got[1], tuple) else got[1]
    torch.testing.assert_close(h_got, h_want, atol=1e-5, rtol=1e-4)


class LastStep(nn.Module):
    """A many-to-one model: the loss reads only the last hidden state."""

    def __init__(self, cls: type) -> None:
        super().__init__()
        self.rnn, self.out = cls(2, 8, batch_first=True), nn.Linear(8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.rnn(x)[0][:, -1])


def test_the_gradient_over_time_counts_every_path_and_matches_a_finite_difference() -> None:
    torch.manual_seed(1)
    model = LastStep(nn.RNN).double()
    x = torch.randn(1, 5, 2, dtype=torch.float64)
    grads = time_gradients(model, lambda: model(x).pow(2).sum())["model"]
    # Only the last state feeds the output directly: the earlier ones reach the loss
    # through the recurrence alone, which a gradient with respect to the stacked output
    # would miss.
    assert (grads > 0).all()
    # Nudge the hidden state of step 2 along a unit direction: the loss moves by the
    # gradient's size along it.
    nudges = [torch.zeros(1, 8, dtype=torch.float64) for _ in range(5)]
    nudges[2] = torch.zeros(1, 8, dtype=torch.float64, requires_grad=True)
    loss = model.out(unrolled(model.rnn, x, None, nudges)[0][:, -1]).pow(2).sum()
    (g,) = torch.autograd.grad(loss, nudges[2])
    direction, eps = g / g.norm(), 1e-6
    nudges[2] = eps * direction
    moved = model.out(unrolled(model.rnn, x, None, nudges)[0][:, -1]).pow(2).sum()
    assert float((moved - loss).detach() / eps) == pytest.approx(float(grads[2]), rel=1e-4)


def test_the_gradient_over_time_leaves_the_parameter_gradients_alone() -> None:
    model = LastStep(nn.LSTM)
    x = torch.randn(1, 5, 2)
    time_gradients(model, lambda: model(x).pow(2).sum())
    assert all(p.grad is None for p in model.parameters())
    assert not model.rnn._forward_hooks  # the step-by-step pass is gone again


# attention maps read off any module with the switch -------------------------------------------

class Looks(nn.Module):
    """Exposes the recording contract: maps only while ``keep_attention`` is on."""

    def __init__(self, maps: dict[str, int]) -> None:
        super().__init__()
        self.keep_attention, self.attention_maps, self.maps = False, {}, maps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.keep_attention:
            self.attention_maps = {
                name: torch.softmax(torch.randn(len(x), heads, 3, 4), -1)
                for name, heads in self.maps.items()}
        return x


def test_maps_are_named_by_node_and_kept_only_while_recording() -> None:
    model = nn.Module()
    model.layers = nn.ModuleDict({"enc": Looks({"self": 2}),
                                  "dec": nn.Sequential(Looks({"self": 1}), Looks({"cross": 1}))})
    maps = collect(model, lambda: [m(torch.zeros(1, 3)) for m in model.layers["dec"]]
                   + [model.layers["enc"](torch.zeros(1, 3))])
    assert set(maps) == {"enc", "dec/self", "dec/cross"}
    assert maps["enc"].shape == (1, 2, 3, 4)
    assert all(not m.keep_attention for m in model.modules() if isinstance(m, Looks))
    twice = [("dec", "0", "self", None), ("dec", "1", "self", None)]
    assert map_names(twice) == ["dec/0.self", "dec/1.self"]


# a language model ----------------------------------------------------------------------------

def test_a_language_model_writes_samples_in_its_vocabulary_and_keeps_the_newest() -> None:
    from engine.data import DATASETS

    params = {"length": 12, "n_samples": 300}
    vocab = DATASETS.get("text").load(
        {p.name: p.default for p in DATASETS.get("text").params} | params, 0, None).vocab
    exp = experiment("text", params, [
        {"id": "emb", "type": "embedding", "params": {"vocab_size": len(vocab), "dim": 16}},
        {"id": "pos", "type": "positional"},
        {"id": "dec", "type": "transformer_encoder", "params": {"heads": 2, "causal": True}},
        {"id": "out", "type": "linear", "params": {"units": len(vocab)}}], epochs=1)
    exp["probes"] = [{"name": "samples", "params": {"min_interval": 0.0, "length": 20,
                                                    "kept": 2}}]
    trainer = Trainer(exp, needs=SEQUENCE_PROBES)
    trainer.run(epochs=1)
    trainer.run(epochs=2)  # a second run on: the history keeps the newest samples
    found = trainer.snapshot().probes["samples"]
    assert found["step"] == trainer.step and len(found["text"]) == 20
    assert set(found["text"]) <= set(vocab)
    assert found["prompt"] == "".join(vocab[i] for i in trainer.data.x_test[0][:8])
    assert len(found["history"]) == 2 and found["history"][-1]["text"] == found["text"]
    weights = trainer.snapshot().probes["attention"]["weights"]["dec"]
    assert np.allclose(np.triu(weights, 1), 0)  # causal: nothing above the diagonal
    rows = trainer.snapshot().probes["token_predictions"]["rows"]
    assert len(rows[0]["predicted"]) == 12 and set(rows[0]["targets"]) <= set(vocab)
