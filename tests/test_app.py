"""The whole app through Streamlit's AppTest: every page, every preset, the controls.

AppTest does not fire ``run_every`` timers, so live refreshes are driven here
with explicit reruns; the timers themselves are proven in tests/browser.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from engine.presets import list_presets
from tests.apptest import by_label, open_app, session
from tests.preset_families import the_others

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(p.name for p in (ROOT / "views").glob("*.py"))








@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(page: str) -> None:
    at = open_app("spiral")
    at.switch_page(str(ROOT / "views" / page)).run()
    assert not at.exception, at.exception


@pytest.mark.parametrize("preset", list_presets())
def test_every_preset_opens_on_the_playground_and_train_pages(preset: str) -> None:
    at = open_app(preset)
    assert session().exp.meta.name in " ".join(m.value for m in at.sidebar.markdown)
    at.switch_page(str(ROOT / "views" / "train.py")).run()
    assert not at.exception, at.exception


# The browser trains one preset of each family (tests/browser/test_live.py); these are
# the rest, trained from the same page here.
@pytest.mark.parametrize("preset", the_others())
def test_the_other_presets_train_and_stop_from_the_train_page(preset: str) -> None:
    at = open_app(preset)
    at.switch_page(str(ROOT / "views" / "train.py")).run()
    at.button(key="train-train").click().run()
    trainer = session().get_trainer()
    end = time.monotonic() + 30
    while trainer.snapshot().step == 0 and time.monotonic() < end:
        time.sleep(0.1)
    at.run()  # a refresh, as the fragment's timer would do
    assert not at.exception, at.exception
    assert trainer.snapshot().step > 0, f"{preset} did not start: {trainer.snapshot().status}"
    stop = [b for b in at.button if b.key == "train-stop"]
    if stop:
        stop[0].click().run()
        assert not trainer.alive
    else:  # a run that diverges ends itself and offers a restart instead
        assert trainer.snapshot().status not in ("running", "queued")
    assert not at.exception, at.exception


def test_train_grows_the_history_and_stop_stops() -> None:
    at = open_app("spiral")
    at.switch_page(str(ROOT / "views" / "train.py")).run()
    # Every chart is on the page before training starts (plotly's code comes with the first).
    assert len(at.get("plotly_chart")) >= 5
    at.button(key="train-train").click().run()
    trainer = session().get_trainer()
    trainer.set_epochs(100_000)  # so the run cannot end on its own during the test
    sizes = []
    end = time.monotonic() + 30
    while len(sizes) < 3 and time.monotonic() < end:
        time.sleep(0.3)
        at.run()  # a refresh, as the fragment's timer would do
        assert not at.exception, at.exception
        steps = trainer.snapshot().steps["step"]  # bounded: its length is not, its end is
        sizes.append(int(steps[-1]) if len(steps) else 0)
    assert sizes == sorted(sizes) and sizes[-1] > sizes[0] > 0, sizes
    # Another page and back: the same run goes on, not a second one.
    at.switch_page(str(ROOT / "views" / "playground.py")).run()
    at.switch_page(str(ROOT / "views" / "train.py")).run()
    assert session().get_trainer() is trainer and trainer.alive
    at.button(key="train-stop").click().run()
    assert not trainer.alive
    stopped = trainer.snapshot().step
    time.sleep(0.3)
    assert trainer.snapshot().step == stopped
    assert trainer.snapshot().status == "stopped"
    assert not at.exception, at.exception


def test_a_step_sends_again_only_the_charts_whose_data_changed() -> None:
    """A chart sent again unchanged is one the browser keeps; a changed one it draws anew,
    which is most of what a click costs a class's browsers. After one Step the figures of
    data that did not change (the evaluations, the gradient probe's record, a long run's
    loss curve on its grid, the learning rate over its planned run) are the same ones."""
    import numpy as np

    from viz.curves import thin

    at = open_app("spiral")
    at.switch_page(str(ROOT / "views" / "train.py")).run()
    at.button(key="train-train").click().run()
    trainer = session().get_trainer()
    trainer.set_epochs(100_000)
    end = time.monotonic() + 30
    while trainer.snapshot().step < 1500 and time.monotonic() < end:  # a grid cell of 2+
        time.sleep(0.1)
    at.button(key="train-pause").click().run()
    assert trainer.wait() and trainer.snapshot().status == "paused"
    at.run()
    charts = ("loss", "metric", "grad", "outcome", "lr")

    def seen() -> tuple[object, dict[str, str], dict[str, object]]:
        snap = trainer.snapshot()
        specs = dict(zip(charts, (c.proto.spec for c in at.get("plotly_chart")), strict=True))
        store = at.session_state["np-figures"]  # by key: the chart's name, then its options
        built = {name: next(v.figure for k, v in store.items() if k.startswith(name))
                 for name in charts}
        return snap, specs, built

    same = {name: 0 for name in charts}
    before = seen()
    plan = trainer.snapshot().epochs * trainer.snapshot().steps_per_epoch
    for _ in range(6):
        at.button(key="train-step").click().run()
        assert not at.exception, at.exception
        after = seen()
        (s0, spec0, built0), (s1, spec1, built1) = before, after
        assert s1.step == s0.step + 1
        unchanged = {
            "metric": np.array_equal(s0.evals["step"], s1.evals["step"]),
            "outcome": s0.probes["evaluation"]["step"] == s1.probes["evaluation"]["step"],
            "grad": np.array_equal(s0.probes["gradient_flow"]["steps"],
                                   s1.probes["gradient_flow"]["steps"]),
            "loss": np.array_equal(thin(s0.steps["step"])[0], thin(s1.steps["step"])[0])
            and len(s0.evals["step"]) == len(s1.evals["step"]),
            # Drawn over the planned run: a step is far less than a cell of its axis.
            "lr": np.array_equal(*(thin(s.steps["step"], span=plan)[0] for s in (s0, s1))),
        }
        for name, still in unchanged.items():
            assert (spec0[name] == spec1[name]) == still, (name, s0.step)
            if still and name not in ("loss", "lr"):  # the run's own curves follow its version
                assert built1[name] is built0[name], name  # not built again
            same[name] += still
        before = after
    # Epochs of 25 steps, the gradient probe every 20, grid cells of 2 or more steps: in
    # six steps each of these holds still at least twice.
    assert all(same[name] >= 2 for name in ("metric", "outcome", "grad", "loss")), same
    assert same["lr"] == 6, same
    at.button(key="train-stop").click().run()


def test_learning_rate_control_changes_the_spec_and_a_running_trainer() -> None:
    at = open_app("spiral")
    at.switch_page(str(ROOT / "views" / "train.py")).run()
    at.number_input(key="train-lr-0.01").set_value(0.05).run()
    assert session().exp.train.optimizer.lr == 0.05
    assert session().get_trainer().lr == 0.05
    at.run()  # the sidebar was drawn before the edit; now it offers undo
    at.sidebar.button(key="np-undo").click().run()  # undo is not undone by the stale box
    at.run()
    assert session().exp.train.optimizer.lr == 0.01


def test_playground_controls_edit_the_experiment() -> None:
    at = open_app("spiral")
    before = [n.params["units"] for n in session().exp.model.nodes[:-1]]
    at.button(key="pg-add-layer").click().run()
    assert [n.params["units"] for n in session().exp.model.nodes[:-1]] == [*before, before[-1]]
    at.button(key="pg-remove-0").click().run()
    assert session().exp.model.nodes[0].params["units"] == before[0] - 1
    at.button(key="pg-data-circle").click().run()
    assert session().exp.data.name == "circle"
    by_label(at, "Activation").set_value("relu").run()
    assert session().exp.model.nodes[0].params["activation"] == "relu"
    by_label(at, "Problem type").set_value("regression").run()
    exp = session().exp
    assert exp.data.name in ("plane", "multi_gaussian")
    assert exp.model.nodes[-1].params["units"] == 1
    assert not at.exception, at.exception


def test_a_broken_link_is_explained_and_the_default_opens() -> None:
    at = open_app(share="np1.garbage")
    assert any("damaged or incomplete" in w.value for w in at.warning)
    assert session().exp.meta.name == "Spiral, tanh MLP"


def test_undo_restores_a_playground_edit() -> None:
    at = open_app("xor_hidden")
    at.button(key="pg-add-layer").click().run()
    assert len(session().exp.model.nodes) == 3
    at.sidebar.button(key="np-undo").click().run()
    assert len(session().exp.model.nodes) == 2


def test_switching_pages_neither_stops_nor_duplicates_a_run() -> None:
    import threading

    at = open_app("spiral")
    at.switch_page(str(ROOT / "views" / "train.py")).run()
    session().edit(("train", "epochs"), 5000)  # long enough to outlast the page switches
    at.run()
    at.button(key="train-train").click().run()
    trainer = session().get_trainer()
    assert trainer.alive
    for page in ("playground.py", "inside.py", "build.py", "train.py"):
        at.switch_page(str(ROOT / "views" / page)).run()
        assert not at.exception, at.exception
        assert session().get_trainer() is trainer and trainer.alive
    assert sum(t.name == "np-trainer" for t in threading.enumerate()) == 1
    trainer.stop()


@pytest.mark.parametrize("preset", list_presets())
def test_opening_a_page_never_edits_the_experiment(preset: str) -> None:
    at = open_app(preset)
    before = session().exp
    for page in PAGES:
        at.switch_page(str(ROOT / "views" / page)).run()
        assert session().exp == before, page
    assert not session().undo_stack


def test_the_app_confines_csv_reads_to_its_uploads() -> None:
    from engine.data import csv_file
    from ui.uploads import UPLOADS

    open_app("spiral")
    assert csv_file.ALLOWED_DIRS == [UPLOADS]


def test_playground_sets_an_activation_per_layer() -> None:
    at = open_app("spiral")
    at.selectbox(key="pg-act-1-tanh").set_value("relu").run()
    assert [n.params["activation"] for n in session().exp.model.nodes] == [
        "tanh", "relu", "none"]
    at.button(key="pg-add-layer").click().run()  # a new layer takes the last one's
    assert [n.params["activation"] for n in session().exp.model.nodes] == [
        "tanh", "relu", "relu", "none"]
