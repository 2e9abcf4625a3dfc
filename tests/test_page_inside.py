"""The Inside-training page through Streamlit's AppTest."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parent.parent / "views" / "inside.py")


def open_page(preset: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["preset"] = preset
    at.run()
    assert not at.exception, at.exception
    return at


def session_of(at: AppTest):  # noqa: ANN201
    from ui.session import _SESSIONS

    return max(_SESSIONS, key=lambda s: s.last_seen)


def train_until(at: AppTest, steps: int, timeout: float = 60) -> None:
    at.button(key="inside-train").click().run()
    trainer = session_of(at).get_trainer()
    end = time.monotonic() + timeout
    while trainer.snapshot().step < steps and time.monotonic() < end:
        time.sleep(0.1)
    trainer.pause()
    trainer.wait()
    at.run()  # AppTest does not fire run_every timers: redraw by hand


@pytest.mark.slow
def test_vanishing_preset_says_vanishing_and_offers_cures() -> None:
    at = open_page("vanishing_sigmoid")
    train_until(at, 150)
    assert not at.exception, at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "Vanishing gradients" in warnings and "hidden1" in warnings
    assert at.button(key="cure-relu") and at.button(key="cure-batchnorm")
    at.button(key="cure-relu").click().run()
    assert not at.exception, at.exception
    types = {n.params.get("activation") for n in session_of(at).exp.model.nodes}
    assert "sigmoid" not in types and "relu" in types
    # The cured network has not been trained yet: no verdict, neither old nor new.
    assert not at.success and not at.warning
    assert any(i.value.startswith("Not measured yet: train a few steps") for i in at.info)
    assert "cure-relu" not in [b.key for b in at.button]


@pytest.mark.slow
def test_healthy_preset_reads_healthy_and_histograms_render() -> None:
    at = open_page("vanishing_relu_he")
    train_until(at, 150)
    assert any("Healthy" in s.value for s in at.success)
    at.radio(key="hist-kind").set_value("grad").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="hist-node").options


def test_no_verdict_before_the_first_recordings() -> None:
    at = open_page("vanishing_relu_he")
    assert not at.success and not at.warning and not at.error
    assert any(i.value.startswith("Not measured yet: train a few steps") for i in at.info)
    at.button(key="inside-step").click().run()  # one step: one recording, still no verdict
    session_of(at).get_trainer().wait()
    at.run()
    assert not at.exception, at.exception
    assert not any("Healthy" in s.value for s in at.success)
    assert any("this run has 1." in i.value for i in at.info)


def test_optimizer_comparison_on_the_page() -> None:
    at = open_page("xor_hidden")
    at.multiselect(key="cmp-names").set_value(["sgd", "adam"])
    at.number_input(key="cmp-epochs").set_value(3)
    at.button(key="cmp-run").click().run()
    assert not at.exception, at.exception
    table = at.table[0].value
    assert list(table["Optimizer"]) == ["SGD", "Adam"]
    assert not any("_" in c for c in table.columns)  # words, not snake_case
    assert all(len(v.replace(".", "").lstrip("0")) <= 3 for v in table["Test loss"])


@pytest.mark.slow
def test_units_on_their_activation_curve() -> None:
    at = open_page("vanishing_sigmoid")
    train_until(at, 120)
    at.selectbox(key="curve-node").set_value("hidden3").run()
    assert not at.exception, at.exception
    assert any("hidden3's pre-activations sit where Sigmoid is saturated" in c.value
               for c in at.caption)
