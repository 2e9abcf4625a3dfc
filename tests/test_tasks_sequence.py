"""Sequence recipes: the supervised task on [N, T, classes] outputs, the n-gram baseline,
sampling from a next-token model, and real training runs on sequence data."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from engine import Trainer
from engine.data import load_data
from engine.data.base import DataBundle
from engine.data.text import corpus, decode
from engine.errors import SpecError
from engine.generate import generate, next_token
from engine.ngram import NGram
from engine.spec import DataSpec, TrainSpec
from engine.tasks import TASKS
from engine.validate import check


def seq_task(n_classes: int = 3, positions: int = 2, loss: str | None = None):  # noqa: ANN201
    y = torch.zeros(4, positions, dtype=torch.int64)
    data = DataBundle(y, y, y, y, "classification", tuple("abc"[:n_classes]))
    return TASKS.get("classification").make(TrainSpec(loss=loss), data)


class Fixed(nn.Module):
    def __init__(self, out: torch.Tensor) -> None:
        super().__init__()
        self.out = out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out[:len(x)]


def test_loss_and_accuracies_on_sequence_outputs_match_a_hand_computation() -> None:
    task = seq_task()
    out = torch.tensor([[[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
                        [[0.0, 0.0, 3.0], [1.0, 1.0, 0.5]]])
    y = torch.tensor([[0, 1], [2, 2]])
    metrics, raw = task.evaluate(Fixed(out), torch.zeros(2, 2), y)

    def nll(row: list[float], k: int) -> float:
        return -(row[k] - math.log(sum(math.exp(v) for v in row)))

    hand = (nll([2, 0, 0], 0) + nll([0, 1, 0], 1) + nll([0, 0, 3], 2) + nll([1, 1, .5], 2)) / 4
    assert metrics["loss"] == pytest.approx(hand, rel=1e-6)
    assert float(task.loss(Fixed(out), torch.zeros(2, 2), y)) == pytest.approx(hand, rel=1e-6)
    # Predictions: row 0 all right; row 1 right at its first token only.
    assert metrics["accuracy"] == pytest.approx(3 / 4)
    assert metrics["sequence_accuracy"] == pytest.approx(1 / 2)
    probs = task.outputs_to_predictions(raw)
    assert probs.shape == (2, 2, 3) and torch.allclose(probs.sum(-1), torch.ones(2, 2))


def test_one_class_per_row_keeps_its_old_behaviour() -> None:
    y = torch.tensor([0, 1, 1])
    data = DataBundle(y, y, y, y, "classification", ("a", "b"))
    task = TASKS.get("classification").make(TrainSpec(), data)
    out = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0]])
    metrics, _ = task.evaluate(Fixed(out), torch.zeros(3, 1), y)
    assert metrics["accuracy"] == pytest.approx(2 / 3) and "sequence_accuracy" not in metrics
    assert task.output_problem((2,)) is None and task.output_problem((2, 2)) is not None


def test_output_problem_names_the_positions_and_classes() -> None:
    task = seq_task(n_classes=3, positions=5)
    assert task.output_problem((5, 3)) is None
    msg = task.output_problem((3,))
    assert msg is not None and "[5, 3]" in msg and "5 positions" in msg
    assert task.output_problem((4, 3)) is not None


def reverse_spec(units: int = 10, **train: Any) -> dict:
    return {"schema": 1,
            "data": {"name": "reverse", "params": {"length": 6, "n_samples": 1500}},
            "model": {"nodes": [
                {"id": "emb", "type": "embedding", "params": {"vocab_size": 10, "dim": 16}},
                {"id": "rnn", "type": "gru", "params": {"hidden": 32, "bidirectional": True}},
                {"id": "out", "type": "linear", "params": {"units": units}}]},
            "train": {"epochs": 25, "batch_size": 64,
                      "optimizer": {"name": "adam", "lr": 0.01}} | train}


def test_validation_refuses_a_sequence_model_with_the_wrong_classes() -> None:
    from engine.validate import load_experiment

    with pytest.raises(SpecError, match=r"\[6, 10\]"):
        check(load_experiment(reverse_spec(units=7)))


def test_a_bidirectional_gru_learns_to_reverse() -> None:
    snap = Trainer(reverse_spec()).run()
    assert snap.final["test_accuracy"] >= 0.9
    assert 0 < snap.final["test_sequence_accuracy"] <= snap.final["test_accuracy"]
    # The default confusion matrix counts every position of every test sequence.
    cm = snap.probes["evaluation"]["confusion"]
    assert cm.shape == (10, 10) and cm.sum() == 300 * 6
    assert np.trace(cm) / cm.sum() == pytest.approx(snap.final["test_accuracy"], abs=1e-6)


# The n-gram baseline --------------------------------------------------------------------------

def test_bigram_perplexity_matches_a_hand_computation() -> None:
    # Text "abab a" over the vocabulary {a, b}: ids 0 1 0 1 0. Bigrams after a: a->b twice;
    # after b: b->a twice. Laplace: P(b|a) = (2+1)/(2+2) = 3/4, P(a|a) = 1/4, same for b.
    model = NGram(2, 2).fit_stream(np.array([0, 1, 0, 1, 0]))
    assert model.distribution([0]) == pytest.approx([1 / 4, 3 / 4])
    assert model.distribution([1, 1]) == pytest.approx([3 / 4, 1 / 4])
    # Test "a a b": P(a|a) = 1/4, P(b|a) = 3/4 -> perplexity (1/4 * 3/4) ** -1/2.
    assert model.perplexity_stream(np.array([0, 0, 1])) == pytest.approx((3 / 16) ** -0.5)


def test_trigram_pads_the_start_and_smooths_unseen_contexts() -> None:
    model = NGram(3, 3).fit_stream(np.array([0, 1, 2, 0, 1, 2]))
    # Contexts: (start, 0)->1, (0, 1)->2, (1, 2)->0, (2, 0)->1, (0, 1)->2.
    assert model.distribution([0, 1]) == pytest.approx([1 / 5, 1 / 5, 3 / 5])
    assert model.distribution([0]) == pytest.approx([1 / 4, 2 / 4, 1 / 4])  # (start, 0)
    assert model.distribution([2, 2]) == pytest.approx([1 / 3] * 3)  # never seen: uniform
    unigram = NGram(1, 3).fit_stream(np.array([0, 0, 1]))
    assert unigram.distribution([2]) == pytest.approx([2 / 5, 2 / 5, 1 / 5])


def test_windows_and_a_stream_count_alike() -> None:
    ids = np.array([2, 0, 1, 1, 0, 2, 2, 1])
    a = NGram(3, 3).fit_stream(ids)
    b = NGram(3, 3).fit(ids[None, :-1], ids[None, 1:])
    test = np.array([[1, 0, 2]]), np.array([[0, 2, 1]])
    assert a.perplexity(*test) == b.perplexity(*test)


def test_ngram_on_the_shipped_text_beats_uniform() -> None:
    params = {"source": "aesop", "text": "", "length": 32, "n_samples": 100,
              "max_vocab": 1000, "train_ratio": 0.9}
    c = corpus(params)
    v = len(c.vocab)
    ppl = {n: NGram(n, v).fit_stream(c.train).perplexity_stream(c.test) for n in (1, 2, 3)}
    assert ppl[3] < ppl[2] < ppl[1] < v
    rng = np.random.default_rng(0)
    text = decode(NGram(3, v).fit_stream(c.train).sample([c.vocab.index("T")], 40, rng),
                  c.vocab)
    assert len(text) == 40


# Sampling -------------------------------------------------------------------------------------

class Counter(nn.Module):
    """Logits that favour (last id + 1) mod V, recording every input length."""

    def __init__(self, vocab: int = 5) -> None:
        super().__init__()
        self.vocab, self.lengths = vocab, []
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.lengths.append(x.shape[1])
        nxt = (x + 1) % self.vocab
        return torch.nn.functional.one_hot(nxt, self.vocab).float() * 3.0 + self.w


def test_top_k_1_is_greedy_and_the_context_is_cropped() -> None:
    model = Counter()
    ids = generate(model, [3], 7, temperature=2.0, top_k=1, max_length=4)
    assert ids == [4, 0, 1, 2, 3, 4, 0]
    assert max(model.lengths) == 4 and model.lengths[:4] == [1, 2, 3, 4]
    assert generate(Counter(), [1], 3, temperature=0) == [2, 3, 4]


def test_sampling_is_seeded_and_top_k_limits_the_choices() -> None:
    def draw(seed: int, top_k: int | None) -> list[int]:
        g = torch.Generator().manual_seed(seed)
        return generate(Counter(), [0], 200, temperature=5.0, top_k=top_k, generator=g)

    assert draw(1, None) == draw(1, None) and draw(1, None) != draw(2, None)
    assert len(set(draw(1, None))) == 5
    logits = torch.tensor([0.0, 5.0, 4.0, -1.0])
    g = torch.Generator().manual_seed(0)
    picks = {next_token(logits, 10.0, 2, g) for _ in range(200)}
    assert picks == {1, 2}


def test_a_trained_char_model_generates_from_its_vocabulary() -> None:
    spec = {"schema": 1,
            "data": {"name": "text", "params": {"source": "aesop", "length": 24,
                                                "n_samples": 600}},
            "model": {"nodes": [
                {"id": "emb", "type": "embedding", "params": {"vocab_size": 70, "dim": 16}},
                {"id": "rnn", "type": "gru", "params": {"hidden": 64}},
                {"id": "out", "type": "linear", "params": {"units": 62}}]},
            "train": {"epochs": 3, "batch_size": 32, "optimizer": {"name": "adam",
                                                                     "lr": 0.01}}}
    t = Trainer(spec)
    snap = t.run()
    data = load_data(DataSpec.model_validate(spec["data"]))
    assert len(data.vocab) == 62
    # Trained a little, the model already beats a uniform guess over the characters.
    assert math.exp(snap.final["test_loss"]) < len(data.vocab) / 2
    prompt = data.x_test[0].tolist()
    ids = generate(t.model, prompt, 30, temperature=0.8, top_k=5,
                   generator=torch.Generator().manual_seed(0))
    assert len(ids) == 30 and all(0 <= i < len(data.vocab) for i in ids)
    assert isinstance(decode(ids, data.vocab), str)


def test_an_embedding_smaller_than_the_vocabulary_is_refused_by_name() -> None:
    from engine.errors import SpecError
    from engine.validate import load_experiment

    spec = {"schema": 1, "data": {"name": "reverse", "params": {"vocab_size": 20}},
            "model": {"nodes": [
                {"id": "emb", "type": "embedding", "params": {"vocab_size": 10, "dim": 8}},
                {"id": "out", "type": "linear", "params": {"units": 20}}]}}
    with pytest.raises(SpecError) as e:
        load_experiment(spec)
    assert any(i.path.endswith("(emb)") and "raise vocab_size to at least 20" in i.message
               for i in e.value.issues)
