"""The Sequences page through Streamlit's AppTest, on real small sequence models trained a
few steps."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest import session
from tests.test_probes_sequence import counting_model

PAGE = str(Path(__file__).resolve().parent.parent / "views" / "sequences.py")


def open_page(preset: str = "spiral") -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["preset"] = preset
    at.run()
    assert not at.exception, at.exception
    return at


def charts(at: AppTest) -> set[str]:
    return {getattr(el.proto, "id", "") or "" for el in at.get("plotly_chart")}


def texts(at: AppTest) -> str:
    return " ".join(e.value for e in [*at.markdown, *at.caption, *at.info, *at.error,
                                      *at.success])


def test_a_model_without_sequences_says_why() -> None:
    at = open_page("spiral")
    reason = " ".join(i.value for i in at.info)
    assert "are not sequences" in reason and "Spiral" in reason
    assert not at.get("plotly_chart") and not at.tabs


def test_every_view_of_a_trained_transformer_and_lstm_renders() -> None:
    from views.sequences import VIEWS

    at = open_page()
    assert not session().open(counting_model())
    session().get_trainer().run(epochs=2)
    at.run()
    assert not at.exception, at.exception
    assert len(at.tabs) == len(VIEWS)
    seen: dict[str, set[str]] = {}
    words = {}
    for view in VIEWS:
        at.session_state["seq-tab"] = view
        at.run()
        assert not at.exception, (view, at.exception)
        seen[view], words[view] = charts(at), texts(at)
    step = session().get_trainer().step
    assert any("seq-attention-enc-1" in k for k in seen["Attention"])  # head 2 of "enc"
    assert f"At step {step}" in words["Attention"]
    assert any("seq-states-lstm" in k for k in seen["Hidden states"])
    assert any("seq-gates-lstm" in k for k in seen["Gates"])
    assert any("seq-time-grad" in k for k in seen["Gradient over time"])
    assert any("seq-pred" in k for k in seen["Predictions"])
    assert "tokens right" in words["Predictions"]
    assert "does not predict the next token" in words["Samples"]
    # Every head at once, in one chart.
    at.session_state["seq-tab"] = "Attention"
    at.session_state["seq-show"] = "grid"
    at.run()
    assert not at.exception, at.exception
    assert any("seq-attention-grid" in k for k in charts(at))


def test_choosing_another_sequence_refocuses_the_trainer() -> None:
    at = open_page()
    assert not session().open(counting_model())
    at.run()
    trainer = session().get_trainer()
    at.number_input(key="seq-index").set_value(5).run()
    assert not at.exception, at.exception
    assert trainer.focus["index"] == 5
    found = trainer.snapshot().probes["attention"]
    assert found["index"] == 5  # recorded at once, with the weights as they are
    vocab = trainer.data.vocab
    assert " ".join(vocab[i] for i in trainer.data.x_test[5]) in texts(at)


def test_samples_follow_the_chosen_temperature_and_top_k() -> None:
    at = open_page("seq_text_gru")
    trainer = session().get_trainer()
    trainer.run(epochs=1)
    at.session_state["seq-tab"] = "Samples"
    at.run()
    assert not at.exception, at.exception
    assert "temperature 0.8" in texts(at)
    at.slider(key="seq-temperature").set_value(0.3).run()
    at.number_input(key="seq-top-k").set_value(5).run()
    assert not at.exception, at.exception
    assert (trainer.focus["temperature"], trainer.focus["top_k"]) == (0.3, 5)
    newest = trainer.snapshot().probes["samples"]["history"][-1]
    assert (newest["temperature"], newest["top_k"]) == (0.3, 5)  # sampled again at once
    assert "temperature 0.3, from the 5 likeliest tokens" in texts(at)
    # The course notes' baseline beside the model, on the same test windows: the GRU has
    # had one epoch, and already beats the best n-gram (a trigram at about 8.2).
    metrics = {m.label: float(m.value) for m in at.metric}
    model = metrics["This model's test perplexity"]
    ngram = metrics["Best n-gram's test perplexity (n = 3)"]
    assert ngram == pytest.approx(8.19, abs=0.01)
    assert model == pytest.approx(math.exp(trainer.snapshot().final["test_loss"]), abs=0.01)


def test_an_encoder_decoder_shows_its_answers_on_its_own_beside_teacher_forcing() -> None:
    at = open_page("seq2seq_addition")
    session().get_trainer().run(epochs=1)
    at.session_state["seq-tab"] = "Predictions"
    at.run()
    assert not at.exception, at.exception
    assert "On its own" in texts(at) and "teacher forcing" in texts(at)
    assert sum("tokens right" in c.value for c in at.caption) == 2
