"""The Playground as a user meets it, through AppTest: its pictures are there while a run
goes on and follow every edit at once, it takes the 1-D regressions, its controls do
what they say, and its words are words.

AppTest does not fire ``run_every`` timers: a refresh is an explicit ``at.run()``.
"""

from __future__ import annotations

import html
import json
import re
import time

import pytest
from streamlit.testing.v1 import AppTest

from tests import apptest
from tests.apptest import by_label, session


def open_app(preset: str = "spiral") -> AppTest:
    return apptest.open_app(preset)


def chart(at: AppTest, key: str) -> dict | None:
    """The plotly figure drawn under ``key``, as plotly JSON; None when it is not drawn."""
    found = [e for e in at.get("plotly_chart") if getattr(e, "key", None) == key]
    return json.loads(found[0].proto.spec) if found else None


def pictures(at: AppTest) -> tuple[str, str]:
    """The network drawing and the output map held still: pictures carried in the page
    (ui/inline_image.py), the drawing first, each with the words a pointer shows over it.
    Each as its markup, which changes with what it shows."""
    net, out = live_pictures(at)
    assert "<title>" in net and "<title>" in out, "a still picture has no words on hover"
    return net, out


def tips(markup: str) -> list[str]:
    """The words a pointer shows over a picture, shape by shape."""
    return [html.unescape(w) for w in re.findall(r"<title>(.*?)</title>", markup)]


def test_the_pictures_follow_each_kind_of_edit_before_any_training() -> None:
    at = open_app("spiral")
    # Which pictures each edit changes: (the network drawing, the output map). A new data
    # set over the same plane leaves the neurons' maps as they were (same initial weights).
    edits = {
        "data set": (lambda: at.button(key="pg-data-circle").click(), (False, True)),
        "features": (lambda: at.checkbox(key="pg-feature-x1^2-False").check(), (True, True)),
        "layers": (lambda: at.button(key="pg-add-layer").click(), (True, True)),
        "neurons": (lambda: at.button(key="pg-remove-0").click(), (True, True)),
        "activation": (lambda: by_label(at, "Activation").set_value("relu"), (True, True)),
    }
    before = pictures(at)
    for what, (edit, changes) in edits.items():
        edit().run()
        assert not at.exception, at.exception
        assert session().get_trainer().snapshot().step == 0  # no training happened
        now = pictures(at)
        for name, old, new, changed in zip(("network drawing", "output map"), before, now,
                                           changes, strict=True):
            if changed:
                assert new != old, f"the {name} did not follow the {what} edit"
        before = now


def live_pictures(at: AppTest) -> tuple[str, str]:
    """The network drawing and the output map, as ``pictures``; while a run goes on they
    carry no words (they would change before anyone could read them)."""
    shown = [m.value for m in at.main.markdown if 'src="data:image/png;base64,' in m.value]
    assert len(shown) == 2, f"{2 - len(shown)} of the two main pictures missing"
    return shown[0], shown[1]


def test_the_pictures_are_there_and_move_while_training() -> None:
    at = open_app("spiral")
    by_label(at, "Train for").set_value(0).run()  # until paused: it cannot end here
    by_label(at, "Speed").set_value(100).run()
    at.button(key="pg-train").click().run()
    trainer = session().get_trainer()
    seen = []
    end = time.monotonic() + 30
    while len(set(seen)) < 3 and time.monotonic() < end:
        time.sleep(0.4)
        at.run()
        assert not at.exception, at.exception
        assert trainer.snapshot().status in ("running", "queued")
        seen.append(live_pictures(at))  # asserts both are drawn at every refresh
        assert "<title>" not in seen[-1][0] + seen[-1][1], "words on a moving picture"
    assert len(set(seen)) >= 3, "the pictures did not change during the run"
    at.button(key="pg-pause").click().run()
    assert trainer.snapshot().status == "paused"
    net, out = pictures(at)  # held still: with the words a pointer shows again
    weights = [w for w in tips(net) if " → " in w]
    assert weights and all(re.fullmatch(r".+ → .+: w = -?\d+\.\d{3}", w) for w in weights)
    assert any(w.startswith("train (") for w in tips(out)), tips(out)[:3]


def test_a_queued_run_keeps_its_pictures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NP_MAX_TRAINERS", "1")
    at = open_app("spiral")
    from ui.session import run_slots

    holder = object()
    assert run_slots().acquire(holder)  # another user's run holds the only slot
    try:
        at.button(key="pg-train").click().run()
        assert session().get_trainer().snapshot().status == "queued"
        at.run()
        live_pictures(at)
    finally:
        run_slots().release(holder)
        session().get_trainer().stop()


def test_a_queued_page_looks_at_its_run_on_one_timer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every fragment run makes the browser render the whole page again: a queued page,
    whose three live views have nothing new to draw, sets one timer, at the chosen refresh
    (not the pictures' quicker one). Once the run has its slot, each view has its own."""
    import streamlit as st

    from ui import live

    monkeypatch.setenv("NP_MAX_TRAINERS", "1")
    monkeypatch.setattr(live, "FULL_PACE_SESSIONS", 100)  # no crowd: the chosen pace
    timers: list[float] = []
    real = st.fragment

    def counted(func=None, *, run_every=None):  # noqa: ANN001, ANN202
        if run_every is not None:
            timers.append(run_every)
        return real(func, run_every=run_every)

    monkeypatch.setattr(st, "fragment", counted)
    at = open_app("spiral")
    from ui.session import run_slots

    holder = object()
    assert run_slots().acquire(holder)
    try:
        at.button(key="pg-train").click().run()
        timers.clear()
        at.run()
        assert session().get_trainer().snapshot().status == "queued"
        assert timers == [live.DEFAULT_REFRESH]
    finally:
        run_slots().release(holder)
    try:
        trainer = session().get_trainer()
        deadline = time.monotonic() + 30
        while trainer.snapshot().status != "running" and time.monotonic() < deadline:
            time.sleep(0.05)
        timers.clear()
        at.run()
        pictures, scores = sorted(timers)[:2], sorted(timers)[2:]
        assert scores == [live.DEFAULT_REFRESH] and pictures[0] == pictures[1] < scores[0]
    finally:
        session().get_trainer().stop()


def test_choosing_a_penalty_starts_it_at_a_useful_rate() -> None:
    at = open_app("spiral")
    by_label(at, "Regularisation").set_value("l2").run()
    reg = session().exp.train.regularization
    assert (reg.l1, reg.l2) == (0.0, 0.001)
    assert by_label(at, "Regularisation rate").value == 0.001
    by_label(at, "Regularisation").set_value("l1").run()  # the rate carries over
    reg = session().exp.train.regularization
    assert (reg.l1, reg.l2) == (0.001, 0.0)
    by_label(at, "Regularisation").set_value("none").run()
    reg = session().exp.train.regularization
    assert (reg.l1, reg.l2) == (0.0, 0.0)


def test_the_playground_takes_a_1d_regression_and_draws_its_curve() -> None:
    at = open_app("spiral")
    by_label(at, "Problem type").set_value("regression").run()
    at.button(key="pg-data-sine").click().run()
    assert not at.exception, at.exception
    assert session().exp.data.name == "sine"
    assert not any("something else" in i.value for i in at.info)
    net, out = pictures(at)
    assert [w for w in tips(net) if w.startswith("input:")] == ["input: x"]  # one input
    assert len([w for w in tips(out) if w.startswith("network x = ")]) >= 20
    assert any(w.startswith("train x = ") for w in tips(out))
    # The noise the sine lesson asks to raise is there and does something.
    noise = next(s for s in at.slider if s.label == "Noise (%)")
    noise.set_value(30).run()
    assert session().exp.data.params["noise"] == 0.3
    curve = [w for w in tips(pictures(at)[1]) if w.startswith("network")]
    # A few steps move the fitted curve.
    at.button(key="pg-epoch").click().run()
    session().get_trainer().wait(10)
    at.run()
    assert [w for w in tips(pictures(at)[1]) if w.startswith("network")] != curve


def test_speed_is_a_viewing_choice_that_paces_the_run() -> None:
    at = open_app("spiral")
    by_label(at, "Speed").set_value(20).run()
    assert session().speed == 20
    exp = session().exp
    at.button(key="pg-train").click().run()
    trainer = session().get_trainer()
    time.sleep(2.0)
    steps = trainer.snapshot().step
    at.button(key="pg-pause").click().run()
    assert 10 <= steps <= 70, steps  # ~40 at 20 steps/s; full speed would be thousands
    assert session().exp == exp  # not part of the experiment (nor of its link)
    by_label(at, "Speed").set_value(0).run()
    assert session().speed is None


def test_train_until_paused_runs_without_a_budget() -> None:
    at = open_app("xor_hidden")
    by_label(at, "Train for").set_value(0).run()
    assert session().exp.train.epochs is None
    at.button(key="pg-train").click().run()
    trainer = session().get_trainer()
    time.sleep(1.5)
    at.run()
    snap = trainer.snapshot()
    assert snap.status == "running" and snap.epochs is None and snap.step > 0
    assert not at.exception, at.exception
    at.button(key="pg-pause").click().run()
    by_label(at, "Train for").set_value(100).run()
    assert session().exp.train.epochs == 100


def test_the_words_on_the_playground() -> None:
    at = open_app("spiral")
    at.button(key="pg-remove-layer").click().run()
    text = " ".join(m.value for m in at.markdown)
    assert "1 hidden layer**" in text and "1 hidden layers" not in text
    assert "Adam" in by_label(at, "Optimizer").options
    assert "cross-entropy" in by_label(at, "Loss").options
    main = [w for w in at.main.selectbox]
    for box in main:
        for option in box.options:
            assert "_" not in option and "e-" not in option, (box.label, option)
    # The loss chart says which line is which.
    loss = chart(at, "pg-loss-curve")
    assert loss["layout"].get("showlegend") is True


def test_the_playground_starts_at_a_speed_to_watch_until_the_user_chooses() -> None:
    at = open_app("spiral")
    assert session().speed == 100 and session().get_trainer().speed == 100
    assert by_label(at, "Speed").value == 100
    by_label(at, "Speed").set_value(0).run()
    at.run()  # the choice stays: the page's default does not come back
    assert session().speed is None


