"""The live views' pace on a shared server: stretched by the sessions watching a run, so
their ticks together stay within what the server's cores can draw. And their figure
cache: a figure is built again only when what it shows changed, told apart by content
when the objects are new."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from ui import live
from ui.live import digest


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


def test_a_digest_tells_content_apart_and_same_content_alike() -> None:
    a = {"step": np.arange(5.0), "names": ["x", "y"], "k": 3}
    assert digest(a) == digest({"step": np.arange(5.0), "names": ["x", "y"], "k": 3})
    for other in ({**a, "k": 4}, {**a, "step": np.arange(5.0) + 1e-12},
                  {**a, "step": np.arange(5, dtype=np.float32)},
                  {**a, "step": np.arange(5.0).reshape(5, 1)}, {**a, "names": ["x", "z"]},
                  {**a, "extra": None}):
        assert digest(other) != digest(a), other
    assert digest((1, "1")) != digest(("1", 1))
    assert digest([1.0]) != digest([1])
    assert digest(np.array(["a", None], dtype=object)) != digest(np.array(["b", None],
                                                                         dtype=object))


def _page() -> None:
    import streamlit as st

    from ui.live import cached_figure

    built = st.session_state.setdefault("built", [])
    shown = cached_figure("f", st.session_state["shows"], lambda: f"figure {len(built)}")
    if shown == f"figure {len(built)}":
        built.append(shown)
    st.write(shown)


def test_a_figure_is_built_again_only_when_what_it_shows_changed() -> None:
    at = AppTest.from_function(_page, default_timeout=30)
    at.session_state["shows"] = data = {"a": np.arange(3)}
    at.run()
    at.run()  # the same objects: nothing to build
    at.session_state["shows"] = (data, 7)
    at.run()
    at.session_state["shows"] = ({"a": np.arange(3)}, 7)  # new objects, the same content
    at.run()
    assert at.session_state["built"] == ["figure 0", "figure 1"]
    at.session_state["shows"] = ({"a": np.arange(4)}, 7)
    at.run()
    assert at.session_state["built"] == ["figure 0", "figure 1", "figure 2"]
    assert at.markdown[0].value == "figure 2" and not at.exception
