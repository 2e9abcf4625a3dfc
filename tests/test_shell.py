"""The app's shell and run controls, through Streamlit's AppTest: what the buttons
offer and say, the sidebar's names, the draft banner, presentation mode, the
order of the presets, the start-up warm-up.

AppTest does not fire ``run_every`` timers: refreshes are explicit reruns here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from engine.course import COURSE_FILE, course_order, presets_in_course_order
from engine.presets import PRESET_DIR, list_presets
from tests.apptest import open_app, session

ROOT = Path(__file__).resolve().parent.parent
TRAIN = str(ROOT / "views" / "train.py")
BUILD = str(ROOT / "views" / "build.py")






def until(at: AppTest, ok: Callable[[], bool], timeout: float = 30.0) -> None:
    """Rerun the page (as its refresh timer would) until ``ok()``."""
    end = time.monotonic() + timeout
    while not ok():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.1)
        at.run()
        assert not at.exception, at.exception
    at.run()  # the page as it is now


def keys(at: AppTest) -> set[str]:
    return {b.key for b in at.button}


def texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("caption", "error", "warning", "markdown")
                     for e in getattr(at, kind))


def progress_line(at: AppTest) -> str:
    bars = at.get("progress")
    return bars[0].proto.text if bars else " ".join(c.value for c in at.caption)


# Defect 4 ------------------------------------------------------------------------------
def test_a_diverged_run_offers_a_restart_that_trains_with_the_new_settings() -> None:
    at = open_app("lr_too_large")
    at.switch_page(TRAIN).run()
    at.button(key="train-train").click().run()
    trainer = session().get_trainer()
    until(at, lambda: trainer.snapshot().nonfinite is not None)
    # Going on from weights the loss ran away from makes no sense: not offered.
    assert {"train-train", "train-step", "train-epoch"}.isdisjoint(keys(at))
    assert {"train-restart", "train-undo"} <= keys(at)
    assert any("Restart with the new settings" in e.value for e in at.error)

    lr_box = next(w for w in at.number_input if w.label == "Learning rate")
    lr_box.set_value(0.03).run()
    assert session().exp.train.optimizer.lr == 0.03
    at.button(key="train-restart").click().run()
    trainer = session().get_trainer()
    until(at, lambda: trainer.snapshot().step >= 300 or not trainer.alive)
    s = trainer.snapshot()
    assert s.nonfinite is None and s.stop_reason != "nonfinite"
    loss = s.steps["loss"]
    assert np.isfinite(loss).all()
    assert np.mean(loss[-20:]) < 0.5 * np.mean(loss[:20]), "the loss did not go down"
    at.run()
    assert "train-restart" not in keys(at)  # an ordinary run again
    trainer.stop()


def test_undo_after_a_divergence_takes_back_the_last_edit() -> None:
    at = open_app("lr_too_large")
    at.switch_page(TRAIN).run()
    lr = session().exp.train.optimizer.lr
    session().edit(("train", "seed"), 7)
    at.run()
    at.button(key="train-train").click().run()
    trainer = session().get_trainer()
    until(at, lambda: trainer.snapshot().nonfinite is not None)
    at.button(key="train-undo").click().run()
    assert session().exp.train.seed != 7 and session().exp.train.optimizer.lr == lr


# Defect 8 ------------------------------------------------------------------------------
def test_stop_ends_the_run_and_train_starts_a_new_one_from_step_zero() -> None:
    at = open_app("spiral")
    at.switch_page(TRAIN).run()
    session().edit(("train", "epochs"), 100_000)
    session().set_speed(40)  # slow enough to catch it before it gets far
    at.run()
    stop = next(b for b in at.button if b.key == "train-stop")
    assert "new run from the initial weights" in stop.help
    at.button(key="train-train").click().run()
    trainer = session().get_trainer()
    until(at, lambda: trainer.snapshot().step >= 20)
    at.button(key="train-stop").click().run()
    stopped = trainer.snapshot().step
    assert trainer.snapshot().status == "stopped"
    assert (f"Stopped at step {stopped}. Train starts a new run from the initial weights."
            in texts(at))
    assert next(b for b in at.button if b.key == "train-train").label == "Train"

    at.button(key="train-train").click().run()
    s = session().get_trainer().snapshot()
    assert s.status == "running"  # a free slot: never "Waiting for a free slot"
    assert s.step < stopped, (s.step, stopped)
    assert "Waiting for a free slot" not in texts(at)
    session().get_trainer().stop()


def test_pause_keeps_the_run_and_the_button_says_resume() -> None:
    at = open_app("spiral")
    at.switch_page(TRAIN).run()
    session().edit(("train", "epochs"), 100_000)
    at.run()
    at.button(key="train-train").click().run()
    trainer = session().get_trainer()
    until(at, lambda: trainer.snapshot().step >= 10)
    at.button(key="train-pause").click().run()
    paused = trainer.snapshot().step
    assert f"Paused at step {paused}. Resume goes on from here." in texts(at)
    at.button(key="train-train").click().run()  # labelled Resume
    assert trainer.snapshot().step >= paused
    trainer.stop()


def test_the_progress_line_follows_a_new_budget_and_has_no_total_without_one() -> None:
    at = open_app("spiral")
    at.switch_page(TRAIN).run()
    assert "epoch 0 of 150 ·" in progress_line(at)
    session().edit(("train", "epochs"), 3000)
    at.run()
    assert "epoch 0 of 3000 ·" in progress_line(at)
    session().edit(("train", "epochs"), None)
    at.run()
    line = progress_line(at)
    assert "epoch 0 · step 0" in line and " of " not in line.split("·")[0]


# Defect 9 ------------------------------------------------------------------------------
@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The file names the page's download buttons offer, newest last."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    names: list[str] = []
    add = MediaFileManager.add

    def record(self, data, mimetype, coordinates, file_name=None, **kw):  # noqa: ANN001, ANN202
        if mimetype == "application/json":
            names.append(file_name)
        return add(self, data, mimetype, coordinates, file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add", record)
    return names


def test_the_sidebar_and_the_download_name_an_edited_experiment(downloads: list[str]) -> None:
    at = open_app("spiral")
    assert downloads[-1] == "spiral-tanh-mlp.json"
    at.button(key="pg-data-circle").click().run()
    at.run()
    sidebar = " ".join(m.value for m in at.sidebar.markdown)
    assert "Edited from Spiral, tanh MLP" in sidebar
    labels = [e.label for e in at.sidebar.expander]
    assert "Lesson of Spiral, tanh MLP (the experiment has been edited since)" in labels
    assert "Lesson: what to change, what to watch" not in labels
    assert downloads[-1] == "edited-from-spiral-tanh-mlp.json"

    session().edit(("meta", "name"), "My circle")
    at.run()
    assert "**My circle**" in [m.value for m in at.sidebar.markdown]
    assert downloads[-1] == "my-circle.json"


def test_opening_a_preset_names_it_and_its_own_lesson() -> None:
    at = open_app("spiral")
    at.button(key="pg-add-layer").click().run()
    at.sidebar.selectbox(key="np-preset").set_value("circle").run()
    at.sidebar.button(key="np-open-preset").click().run()
    assert "**Circle**" in [m.value for m in at.sidebar.markdown]
    assert "Lesson: what to change, what to watch" in [e.label for e in at.sidebar.expander]


# Defect 3 (the banner) -------------------------------------------------------------------
def test_every_page_says_when_build_holds_an_edit_that_is_not_applied() -> None:
    at = open_app("spiral")
    assert not at.warning
    bad = session().exp.to_dict()
    bad["model"]["nodes"][0]["params"]["units"] = 0
    session().edit_draft(bad)
    at.run()
    one = ("Your edits on Build are not applied: 1 problem. Train runs the last valid "
           "experiment.")
    assert [w.value for w in at.warning] == [one]
    links = [p.proto.label for p in at.get("page_link")]
    assert links.count("Fix them on Build") == 1, links
    bad["model"]["nodes"][1]["params"]["units"] = 0
    session().edit_draft(bad)
    at.switch_page(TRAIN).run()
    assert "Your edits on Build are not applied: 2 problems." in at.warning[0].value
    at.switch_page(BUILD).run()
    assert "Your edits on Build are not applied" in at.warning[0].value
    assert "Fix them on Build" not in [p.proto.label for p in at.get("page_link")]  # there
    session().discard_draft()
    at.switch_page(TRAIN).run()
    assert not any("not applied" in w.value for w in at.warning)


# Defect 13 (the shell's words) ------------------------------------------------------------
def test_presets_are_listed_in_course_order_each_exactly_once() -> None:
    order = course_order()
    assert sorted(order) == sorted(list_presets()), "presets/course.json must list each once"
    assert len(order) == len(set(order))
    for problem, cure in (("exploding_init", "exploding_clipped"),
                          ("vanishing_sigmoid", "vanishing_relu_he"),
                          ("overfitting", "overfitting_l2")):
        assert order.index(problem) < order.index(cure)
    at = open_app("spiral")
    assert at.sidebar.selectbox(key="np-preset").options[:1] == ["XOR with a single "
                                                                  "perceptron (fails)"]
    titles = at.sidebar.selectbox(key="np-preset").options
    assert titles.index("Exploding gradients: large initial weights") < titles.index(
        "Cure: gradient clipping")


def test_a_preset_the_course_does_not_list_comes_last_by_title(tmp_path: Path) -> None:
    for name, title in (("b", "Zebra"), ("c", "Alpha"), ("a", "Middle")):
        (tmp_path / f"{name}.json").write_text(json.dumps({"meta": {"name": title}}))
    (tmp_path / COURSE_FILE).write_text(json.dumps({"order": ["b", "gone"]}))
    assert presets_in_course_order(tmp_path) == ["b", "c", "a"]
    assert "course" not in list_presets(PRESET_DIR)


def test_a_bad_link_is_explained_without_internal_prefixes() -> None:
    at = open_app("spiral")
    at.sidebar.text_input(key="np-paste").input("https://x/?s=np1.garbage").run()
    at.sidebar.button(key="np-open-link").click().run()
    errors = [e.value for e in at.sidebar.error]
    assert errors and "damaged or incomplete" in errors[0]
    assert not errors[0].startswith("share")
    assert session().exp.meta.name == "Spiral, tanh MLP"


def test_the_share_link_is_one_line_with_a_copy_button() -> None:
    at = open_app("spiral")
    assert not at.sidebar.code  # no wall of text
    frames = [e for e in at.sidebar if getattr(e, "type", "") == "iframe"]
    assert len(frames) == 1
    page = frames[0].proto.srcdoc
    assert page.count("<input") == 1 and "readonly" in page and "Copy link" in page


# Presentation mode ----------------------------------------------------------------------
def test_presentation_mode_hides_the_sidebar_and_is_kept_in_the_url() -> None:
    at = open_app("spiral")
    at.switch_page(TRAIN).run()
    assert len(at.sidebar.button) > 0
    at.sidebar.toggle(key="np-present-switch").set_value(True).run()
    assert at.query_params.get("present") == "1"
    assert not at.sidebar.button and not at.sidebar.selectbox  # nothing drawn there
    # The switch stays reachable on the page itself, with only the main controls.
    assert at.toggle(key="np-present-switch").value is True
    lesson = {"lesson-back", "lesson-next"}  # the spiral's lesson steps, on top of the page
    assert {"train-train", "train-step", "train-reset"} | lesson == keys(at)
    assert "s" in at.query_params  # the experiment stays in the address too

    at.toggle(key="np-present-switch").set_value(False).run()
    assert "present" not in at.query_params
    assert "train-stop" in keys(at) and len(at.sidebar.button) > 0


def test_a_link_with_present_opens_in_presentation_mode() -> None:
    at = open_app("spiral", present=True)
    assert not at.sidebar.button
    assert at.toggle(key="np-present-switch").value is True
    assert any("font-size" in h.proto.body for h in at.get("html"))


# Cold start -----------------------------------------------------------------------------
def test_the_warm_up_trains_and_draws_what_the_first_pages_draw() -> None:
    from engine.presets import load_preset
    from engine.trainer import Trainer
    from ui import warmup
    from ui.pages import NEEDED_PROBES
    from ui.warmup import STEPS, _figures, warm_up

    open_app("spiral")
    assert warmup._started.locked()  # the app started it (once for the whole process)
    assert warm_up() < 30
    trainer = Trainer(load_preset("spiral"), needs=NEEDED_PROBES)
    trainer.step_n(STEPS)
    trainer.wait(30)
    trainer.stop()
    figs = _figures(trainer)
    # The curves and the confusion matrix; the network drawing and the output map, each a
    # picture and the words over it.
    charts = [f for f in figs if hasattr(f, "layout")]
    assert len(charts) == 4 and all(f.layout.height or f.data for f in charts)
    pictures = [f for f in figs if isinstance(f, bytes)]
    assert len(pictures) == 2 and all(p.startswith(b"\x89PNG") for p in pictures)
    tips = [f for f in figs if isinstance(f, list)]
    assert len(tips) == 2 and all(tips)


def test_what_lives_on_after_the_warm_up_is_out_of_the_collectors_reach() -> None:
    import gc

    from ui.warmup import freeze_what_lives_on

    class Loaded:  # as a module's object, alive as long as the process
        pass

    kept = Loaded()
    assert any(o is kept for o in gc.get_objects())  # a full collection walks it
    freeze_what_lives_on()
    assert not any(o is kept for o in gc.get_objects()), "still walked by every collection"


def _page_where_the_run_pauses_while_it_is_drawn() -> None:
    """Run buttons drawn for a run under way; the run then pauses before the page run
    ends, as a Pause slow to take effect on a crowded server does."""
    import streamlit as st

    from ui.controls import redraw_if_the_run_moved_on, run_controls
    from ui.session import current

    session = current()
    trainer = session.get_trainer()
    first = "np-test-first" not in st.session_state
    st.session_state["np-test-first"] = False
    if first:
        trainer.set_epochs(None)
        trainer.start()
    run_controls(session, "x")
    if first:
        trainer.pause()
        assert trainer.wait(10.0)
    redraw_if_the_run_moved_on(session)


def test_buttons_drawn_for_a_run_that_paused_meanwhile_are_drawn_again() -> None:
    at = AppTest.from_function(_page_where_the_run_pauses_while_it_is_drawn,
                               default_timeout=60).run()
    assert not at.exception, at.exception
    try:
        # Drawn again after the pause: Resume, not the Pause of the first drawing.
        assert "x-pause" not in keys(at), keys(at)
        assert at.button(key="x-train").label == "Resume"
    finally:
        session().get_trainer().stop()
