"""Live redraws: a fragment that reads the latest snapshot on a timer.

The page never waits for the trainer: each tick takes the newest published
snapshot. Figures are rebuilt only when the snapshot's version changed (versions
never repeat within a process, so a new trainer after an edit never hits an old
figure); in between, the cached ones are sent again (an element a fragment run leaves out
would vanish). When training ends, one full rerun switches the timer off.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import streamlit as st

from engine.i18n import language, t
from engine.trainer import Snapshot
from ui.session import Session

REFRESH_CHOICES = (0.25, 0.5, 1.0, 2.0)
DEFAULT_REFRESH = float(os.environ.get("NP_REFRESH", "0.5"))  # seconds; a server setting
ACTIVE = ("running", "queued")


def refresh_interval() -> float:
    return float(st.session_state.get("np-refresh", DEFAULT_REFRESH))


def refresh_picker() -> None:
    choices = sorted({*REFRESH_CHOICES, refresh_interval()})
    st.select_slider(t("Refresh every (s)"), choices, value=refresh_interval(), key="np-refresh")


def live(session: Session, draw: Callable[[Snapshot], None], key: str,
         slower: float = 1.0) -> None:
    """Call ``draw(snapshot)`` now, and again on a timer while the trainer runs.

    ``slower`` stretches the interval for views that change less than the loss curve,
    so each refresh only redraws what is worth redrawing."""
    running = session.get_trainer().snapshot().status in ACTIVE
    # What this page run drew the controls for: a run that ends (or diverges) before the
    # first tick must still bring the full redraw, whatever an earlier tick had seen.
    st.session_state[f"{key}-active"] = running

    def tick() -> None:
        snap = session.get_trainer().snapshot()
        was = st.session_state[f"{key}-active"]
        st.session_state[f"{key}-active"] = snap.status in ACTIVE
        draw(snap)
        if was and snap.status not in ACTIVE:
            st.rerun()  # training ended: redraw the whole page once, timer off

    st.fragment(tick, run_every=refresh_interval() * slower if running else None)()


def cached_figure(key: str, version: int, build: Callable[[], object]) -> object:
    """The figure for this snapshot version, built once. Versions never repeat within a
    process, so a figure is never taken from another experiment's trainer."""
    store = st.session_state.setdefault("np-figures", {})
    hit = store.get(key)
    # A figure's words are in the language it was built in: a switch builds it again.
    stamp = (version, language())
    if hit is None or hit[0] != stamp:
        hit = (stamp, build())
        store[key] = hit
    return hit[1]
