"""The server's part of a click's wait, as bench/load.py reads it (NP_ANSWER_LOG)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.apptest import ROOT, open_app, session


def test_each_run_button_click_is_timed_to_the_end_of_its_page_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "answers.tsv"
    monkeypatch.setenv("NP_ANSWER_LOG", str(log))
    at = open_app("spiral")
    at.switch_page(str(ROOT / "views" / "train.py")).run()
    assert not log.exists()  # opening a page is not a click
    at.button(key="train-train").click().run()
    trainer = session().get_trainer()
    trainer.set_epochs(100_000)
    time.sleep(0.3)
    at.run()  # a refresh: nothing more to time
    at.button(key="train-pause").click().run()
    at.button(key="train-step").click().run()
    at.button(key="train-train").click().run()  # Resume
    at.button(key="train-stop").click().run()  # Stop is not timed: it has no answer to wait for
    rows = [line.split("\t") for line in log.read_text(encoding="utf-8").splitlines()]
    assert [name for name, _ in rows] == ["Train", "Pause", "Step", "Resume"]
    # Each waits for the trainer to take the order (at most 2 s), then the page is drawn.
    assert all(0 < float(secs) < 30 for _, secs in rows), rows


def test_nothing_is_written_without_the_setting(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    monkeypatch.delenv("NP_ANSWER_LOG", raising=False)
    monkeypatch.chdir(tmp_path)
    at = open_app("spiral")
    at.switch_page(str(ROOT / "views" / "train.py")).run()
    at.button(key="train-train").click().run()
    at.button(key="train-stop").click().run()
    assert not at.exception
    assert list(tmp_path.iterdir()) == []
