"""The sequence presets of the course: each is complete and sits in the course, and each
shows what its lesson says, from real training runs."""

from __future__ import annotations

import math
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from engine import Trainer
from engine.course import course_order
from engine.data.base import DATASETS
from engine.data.text import corpus
from engine.generate import generate
from engine.ngram import NGram
from engine.params import resolve_params
from engine.presets import PRESET_DIR, list_presets, load_preset

ROOT = Path(__file__).resolve().parent.parent
REVERSAL = "seq_reverse_transformer"
ADDING = ("seq_adding_rnn", "seq_adding_lstm", "seq_adding_gru")
TEXT = "seq_text_gru"
SEQUENCE = (*ADDING, TEXT, REVERSAL)


@pytest.mark.parametrize("name", SEQUENCE)
def test_every_sequence_preset_is_complete_and_in_the_course(name: str) -> None:
    exp = load_preset(name)
    assert exp.meta.name and exp.meta.description and exp.meta.lesson
    assert name in course_order()
    assert exp.train.epochs is not None


def test_the_course_lists_them_after_the_vision_presets() -> None:
    order = course_order()
    assert order.index("seq_adding_rnn") > order.index("cnn_lenet")
    assert [order.index(n) for n in ADDING] == list(range(order.index(ADDING[0]),
                                                          order.index(ADDING[0]) + 3))


def test_the_sequences_page_offers_the_reversal_preset() -> None:
    from views.sequences import LESSON_PRESET

    assert LESSON_PRESET == REVERSAL and LESSON_PRESET in list_presets()


def test_the_adding_presets_differ_only_in_the_recurrent_layer() -> None:
    specs = [load_preset(n).to_dict() for n in ADDING]
    kinds = [s["model"]["nodes"][0]["type"] for s in specs]
    assert kinds == ["rnn", "lstm", "gru"]
    for s in specs:
        s["model"]["nodes"][0]["type"] = "any"
        s.pop("meta")
    assert specs[0] == specs[1] == specs[2]
    assert specs[0]["data"]["params"]["length"] == 50


def anti_diagonal_share(weights: np.ndarray) -> np.ndarray:
    """Per head, the mean attention a query at t gives the key at T - 1 - t."""
    t = np.arange(weights.shape[-1])
    return weights[:, t, t[::-1]].mean(-1)


@pytest.mark.slow
def test_the_command_line_run_of_the_reversal_preset_reaches_99_percent_within_60_s() -> None:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "engine", "run",
                           str(PRESET_DIR / f"{REVERSAL}.json")], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    wall = time.perf_counter() - start
    assert done.returncode == 0, done.stdout + done.stderr
    found = re.search(r"^\s*test_accuracy\s+([\d.]+)", done.stdout, re.MULTILINE)
    assert found, done.stdout
    assert float(found.group(1)) >= 0.99
    assert wall < 60, wall


@pytest.mark.slow
def test_the_reversal_transformer_attends_along_the_anti_diagonal() -> None:
    snap = Trainer(load_preset(REVERSAL), needs=("attention",)).run()
    assert snap.status == "finished", snap.error
    assert snap.final["test_accuracy"] >= 0.99
    weights = snap.probes["attention"]["weights"]
    best = max(float(anti_diagonal_share(w).max()) for w in weights.values())
    assert best >= 0.8, {k: anti_diagonal_share(w) for k, w in weights.items()}


@pytest.mark.slow
def test_on_the_adding_problem_the_lstm_remembers_what_the_plain_rnn_forgets() -> None:
    loss = {}
    for name in ADDING:
        snap = Trainer(load_preset(name)).run()
        assert snap.status == "finished", (name, snap.error)
        loss[name] = snap.final["test_loss"]
    rnn, lstm, gru = (loss[n] for n in ADDING)
    assert lstm * 5 <= rnn, loss
    assert gru * 5 <= rnn, loss
    assert rnn > 0.1, loss  # chance (always answering 1) is about 0.167


def training_text(trainer: Trainer) -> np.ndarray:
    """The ids of the text's training part (the windows' source)."""
    spec = trainer.exp.data
    return corpus(resolve_params(DATASETS.get(spec.name).params, spec.params)[0]).train


def best_ngram_perplexity(trainer: Trainer) -> float:
    """The strongest n-gram baseline on the model's own test windows: the lowest
    perplexity over n, counted on the training windows or on the training text."""
    data, vocab = trainer.data, len(trainer.data.vocab)
    text = training_text(trainer)
    return min(min(NGram(n, vocab).fit(data.x_train, data.y_train).perplexity(
        data.x_test, data.y_test), NGram(n, vocab).fit_stream(text).perplexity(
        data.x_test, data.y_test)) for n in range(1, 6))


def known_word_share(trainer: Trainer, words: set[str]) -> float:
    """The share of the words in a fixed-seed sample that occur in the text."""
    vocab = trainer.data.vocab
    ids = generate(trainer.model, trainer.data.x_test[0][:8], 400, temperature=0.8,
                   generator=torch.Generator().manual_seed(0))
    written = re.findall(r"[a-z]+", "".join(vocab[i] for i in ids).lower())
    return sum(w in words for w in written) / max(len(written), 1)


@pytest.mark.slow
def test_the_character_model_beats_the_ngram_baseline_and_writes_more_real_words() -> None:
    exp = load_preset(TEXT)
    trainer = Trainer(exp)
    words = set(re.findall(r"[a-z]+", "".join(
        trainer.data.vocab[i] for i in training_text(trainer)).lower()))
    trainer.run(epochs=1)
    early = known_word_share(trainer, words)
    snap = trainer.run(epochs=exp.train.epochs - 1)
    assert snap.status == "finished", snap.error
    late = known_word_share(trainer, words)
    assert late > early + 0.1, (early, late)

    baseline = best_ngram_perplexity(trainer)
    model = math.exp(snap.final["test_loss"])
    assert model < baseline * 0.9, (model, baseline)
    # The lesson names the baseline's figure, rounded as people read it.
    assert f"about {baseline:.1f}" in exp.meta.lesson, baseline


PAIRS = {"seq_reverse_gru": "seq_reverse_bigru", "seq_attention_dot": "seq_attention_additive"}
EXTRA = ("seq_sort_transformer", *PAIRS, *PAIRS.values())


@pytest.mark.parametrize("name", EXTRA)
def test_the_contrast_presets_are_complete_and_sit_beside_their_twin(name: str) -> None:
    exp = load_preset(name)
    assert exp.meta.name and exp.meta.description and exp.meta.lesson
    order = course_order()
    assert name in order
    for a, b in PAIRS.items():
        assert order.index(b) == order.index(a) + 1


def _accuracy(name: str) -> float:
    return Trainer(load_preset(name)).run().final["test_accuracy"]


def _stated(name: str) -> float:
    """The first 'about N%' of the lesson."""
    return float(re.search(r"about (\d+)%", load_preset(name).meta.lesson).group(1)) / 100


@pytest.mark.slow
def test_a_one_way_gru_cannot_reverse_and_a_two_way_one_can() -> None:
    one, two = _accuracy("seq_reverse_gru"), _accuracy("seq_reverse_bigru")
    assert one < 0.65  # the first half of the outputs needs inputs it has not read
    assert two >= _stated("seq_reverse_bigru") - 0.03 and two > one + 0.3


@pytest.mark.slow
@pytest.mark.parametrize("name", ["seq_attention_dot", "seq_attention_additive",
                                  "seq_sort_transformer"])
def test_the_attention_presets_reach_what_their_lessons_state(name: str) -> None:
    assert _accuracy(name) >= _stated(name) - 0.03
