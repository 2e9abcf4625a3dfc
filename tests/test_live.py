"""The live views' pace on a shared server: stretched by the sessions watching a run, so
their ticks together stay within what the server's cores can draw."""

from __future__ import annotations

import pytest

from ui import live


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server of two cores that nobody is watching yet."""
    monkeypatch.setattr(live, "FULL_PACE_SESSIONS", 2)
    monkeypatch.setattr(live, "_watching", {})


def test_one_watcher_per_core_keeps_the_chosen_pace(server: None) -> None:
    live.watch("a", now=100.0)
    live.watch("b", now=100.0)
    assert live.watched(now=100.5) == 2
    assert live.crowding(now=100.5) == 1.0


def test_a_class_stretches_the_pace_by_sessions_per_core(server: None) -> None:
    for i in range(8):
        live.watch(f"s{i}", now=100.0)
    live.watch("s0", now=101.0)  # a session ticking again is still one session
    assert live.crowding(now=101.0) == 4.0


def test_the_stretch_has_a_limit_and_ends_when_sessions_stop_watching(server: None) -> None:
    for i in range(60):
        live.watch(f"s{i}", now=100.0)
    assert live.crowding(now=100.0) == live.MOST_STRETCH
    live.watch("last", now=100.0 + live.WATCHING_WINDOW)
    # The others have not ticked for longer than the window: only the last one watches.
    assert live.watched(now=100.1 + live.WATCHING_WINDOW) == 1
    assert live.crowding(now=100.1 + live.WATCHING_WINDOW) == 1.0


def test_a_slowed_session_stays_counted_between_its_ticks(server: None) -> None:
    # Ten sessions on two cores tick every few seconds; between two ticks they still watch,
    # or the crowd would seem to leave and come back, and the pace swing with it.
    every = 4.0
    live.watch("slow", now=100.0, every=every)
    assert live.watched(now=100.0 + live.WATCHING_WINDOW + 1) == 1
    assert live.watched(now=100.0 + 2 * every + 0.1) == 0
