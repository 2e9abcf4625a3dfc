"""Live redraws: a fragment that reads the latest snapshot on a timer.

The page never waits for the trainer: each tick takes the newest published
snapshot. Figures are rebuilt only when the snapshot changed (its version) or
the experiment did (the trainer drawn from: an edit that changes the model or
the data builds a new trainer, whose versions may start again from 0); in
between, the cached ones are sent again (an element a fragment run leaves out
would vanish). When training ends, one full rerun switches the timer off.
"""

from __future__ import annotations

import itertools
import os
import threading
import weakref
from collections.abc import Callable, Hashable

import streamlit as st

from engine.i18n import t
from engine.trainer import Snapshot, Trainer
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
        trainer = session.get_trainer()
        st.session_state[OWNER_KEY] = owner_token(trainer)
        snap = trainer.snapshot()
        was = st.session_state[f"{key}-active"]
        st.session_state[f"{key}-active"] = snap.status in ACTIVE
        draw(snap)
        if was and snap.status not in ACTIVE:
            st.rerun()  # training ended: redraw the whole page once, timer off

    st.fragment(tick, run_every=refresh_interval() * slower if running else None)()


_tokens: weakref.WeakKeyDictionary[Trainer, int] = weakref.WeakKeyDictionary()
_next_token = itertools.count(1)
_tokens_lock = threading.Lock()
OWNER_KEY = "np-figure-owner"


def owner_token(trainer: Trainer) -> int:
    """A number for this trainer object, never given to another one in this process (an
    object's id() can be reused once it is freed)."""
    with _tokens_lock:
        token = _tokens.get(trainer)
        if token is None:
            token = _tokens[trainer] = next(_next_token)
        return token


def cached_figure(key: str, version: Hashable, build: Callable[[], object]) -> object:
    """The figure for this snapshot version of the trainer being drawn, built once.

    Inside ``live`` the trainer is known, so a figure is never taken from another
    experiment's trainer at the same version number."""
    stamp = (st.session_state.get(OWNER_KEY), version)
    store = st.session_state.setdefault("np-figures", {})
    hit = store.get(key)
    if hit is None or hit[0] != stamp:
        hit = (stamp, build())
        store[key] = hit
    return hit[1]
