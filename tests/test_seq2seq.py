"""Named inputs: an encoder-decoder reads the source and the shifted target by name, trains
with teacher forcing, and decodes greedily from its own outputs."""

from __future__ import annotations

import pytest
import torch

from engine import Trainer
from engine.data import load_data
from engine.errors import SpecError
from engine.generate import greedy_decode
from engine.presets import load_preset
from engine.spec import DataSpec
from engine.validate import load_experiment


def test_the_packed_parts_are_the_question_and_the_shifted_answer() -> None:
    d = load_data(DataSpec(name="addition_seq2seq", params={"digits": 2}))
    a, b = d.parts["target_in"]
    assert d.parts["source"] == (0, 5) and (a, b) == (5, 8)
    assert (d.x_train[:, a] == d.vocab.index("<s>")).all()  # the start token
    assert torch.equal(d.x_train[:, a + 1:b], d.y_train[:, :-1])  # the answer, shifted right
    x = d.x_train[0]
    left, right = ("".join(d.vocab[i] for i in x[:5].tolist())).split("+")
    assert int(left) + int(right) == int("".join(d.class_names[i] for i in d.y_train[0]))


def test_a_node_can_read_only_a_known_input() -> None:
    spec = load_preset("seq2seq_addition").to_dict()
    spec["model"]["nodes"][0]["inputs"] = ["question"]
    with pytest.raises(SpecError, match="input 'question' does not exist.*source, target_in"):
        load_experiment(spec)


@pytest.mark.slow
def test_greedy_decoding_agrees_with_teacher_forcing_on_a_trained_model() -> None:
    tr = Trainer(load_preset("seq2seq_addition"), needs=("token_predictions",))
    snap = tr.run()
    assert snap.final["test_sequence_accuracy"] > 0.95
    model, x, y = tr.model, tr.x_test, tr.y_test
    with torch.no_grad():
        model.eval()
        forced = model(x).argmax(-1)
    greedy = greedy_decode(model, x, tr.data.parts["target_in"])
    right = (forced == y).all(1)
    # Where teacher forcing is right at every step, the decoder's own digits are the true
    # ones, so greedy decoding reads exactly what teacher forcing read.
    assert right.float().mean() > 0.95
    assert torch.equal(greedy[right], forced[right])
    assert (greedy == y).all(1).float().mean() > 0.95
    # The Sequences page shows the same decoding for the chosen rows, beside teacher forcing.
    tr.set_focus(index=3)
    found = tr.snapshot().probes["token_predictions"]
    rows = found["greedy"]
    assert [r["index"] for r in rows] == [r["index"] for r in found["rows"]]
    for r in rows:
        want = [tr.data.class_names[int(i)] for i in greedy[r["index"]]]
        assert r["predicted"] == want
        assert list(r["correct"]) == [a == b for a, b in zip(want, r["targets"], strict=True)]


def test_the_attention_axes_show_the_part_each_side_reads() -> None:
    tr = Trainer(load_preset("seq2seq_addition"), needs=("attention",))
    tr.run(epochs=1)
    res = tr.snapshot().probes["attention"]
    row = tr.x_test[res["index"]].tolist()
    question = [tr.data.vocab[i] for i in row[:5]]
    answer_in = [tr.data.vocab[i] for i in row[5:]]
    assert res["axes"]["encoder"] == {"queries": question, "keys": question}
    assert res["axes"]["decoder/cross"] == {"queries": answer_in, "keys": question}
    assert res["axes"]["decoder/self"] == {"queries": answer_in, "keys": answer_in}
    assert res["weights"]["decoder/cross"].shape == (4, 3, 5)
