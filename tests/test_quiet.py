"""The room that lets a test that measures the machine run alone (tests/quiet.py)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.quiet import ROOM_ENV, room


def test_a_lone_test_waits_for_a_shared_one_and_then_keeps_new_ones_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ROOM_ENV, str(tmp_path))  # a room of its own: this test holds the run's
    events: list[str] = []
    inside, leave = threading.Event(), threading.Event()

    def shared(name: str, hold: threading.Event | None) -> None:
        with room(alone=False):
            events.append(f"{name} in")
            inside.set()
            if hold is not None:
                hold.wait(5)
            events.append(f"{name} out")

    first = threading.Thread(target=shared, args=("first", leave))
    first.start()
    assert inside.wait(5)

    def lone() -> None:
        with room(alone=True):
            events.append("lone in")
            time.sleep(0.3)
            events.append("lone out")

    alone = threading.Thread(target=lone)
    alone.start()
    time.sleep(0.3)  # the lone test now waits at the gate
    late = threading.Thread(target=shared, args=("late", None))
    late.start()
    time.sleep(0.3)
    assert events == ["first in"], events  # neither the lone test nor a new one got in
    leave.set()
    for t in (first, alone, late):
        t.join(10)
    assert events == ["first in", "first out", "lone in", "lone out", "late in", "late out"]
