"""The one place a browser session's experiment and trainer live.

Pages read ``current()`` and change the experiment only through
``Session.apply``, which validates first (a bad edit changes nothing and
returns the problems), records undo, and keeps the URL's share string in
step. The trainer belongs to the session and ends when the session does.
"""

from __future__ import annotations

import json
import os
import threading
import time
import weakref
from typing import Any

import streamlit as st

from engine import Experiment, SpecError, Trainer, load_experiment
from engine.errors import Issue
from engine.limits import RunSlots
from engine.presets import canonical_json, decode_share, encode_share, load_preset

DEFAULT_PRESET = "spiral"
UNDO_DEPTH = 50
IDLE_TIMEOUT = float(os.environ.get("NP_IDLE_TIMEOUT", 30 * 60))  # seconds
# Fields a running trainer takes without being rebuilt.
LIVE_FIELDS = (("train", "optimizer", "lr"), ("train", "epochs"), ("meta",))


@st.cache_resource
def run_slots() -> RunSlots:
    """Server-wide: at most NP_MAX_TRAINERS (default: the cores) train at once."""
    return RunSlots(int(os.environ.get("NP_MAX_TRAINERS", "0")) or None)


_SESSIONS: weakref.WeakSet[Session] = weakref.WeakSet()


class Session:
    def __init__(self, exp: Experiment) -> None:
        self.exp = exp
        self.undo_stack: list[Experiment] = []
        self.redo_stack: list[Experiment] = []
        self.trainer: Trainer | None = None
        self._trainer_key: str | None = None
        self.notice: str | None = None  # shown once, e.g. why a link could not be opened
        self.last_seen = time.monotonic()
        self.lock = threading.RLock()
        _SESSIONS.add(self)

    # the experiment -------------------------------------------------------------------
    def apply(self, new: Experiment | dict[str, Any]) -> list[Issue]:
        """Make ``new`` the experiment if it is valid; otherwise change nothing."""
        try:
            exp = load_experiment(new)
        except SpecError as e:
            return e.issues
        with self.lock:
            if exp == self.exp:
                return []
            self.undo_stack = [*self.undo_stack, self.exp][-UNDO_DEPTH:]
            self.redo_stack = []
            self.exp = exp
            self._apply_live()
        return []

    def edit(self, path: tuple[str | int, ...], value: Any) -> list[Issue]:
        """Set one field of the spec by its path, e.g. ("train", "optimizer", "lr")."""
        d = self.exp.to_dict()
        target = d
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return self.apply(d)

    def undo(self) -> bool:
        with self.lock:
            if not self.undo_stack:
                return False
            self.redo_stack.append(self.exp)
            self.exp = self.undo_stack.pop()
            self._apply_live()
            return True

    def redo(self) -> bool:
        with self.lock:
            if not self.redo_stack:
                return False
            self.undo_stack.append(self.exp)
            self.exp = self.redo_stack.pop()
            self._apply_live()
            return True

    def share_string(self) -> str:
        return encode_share(self.exp)

    # the trainer ----------------------------------------------------------------------
    def get_trainer(self) -> Trainer:
        """The trainer for the current experiment, rebuilt only when it must be."""
        with self.lock:
            key = _structural_key(self.exp)
            if self.trainer is None or key != self._trainer_key:
                if self.trainer is not None:
                    self.trainer.stop()
                self.trainer = Trainer(self.exp, slots=run_slots())
                self._trainer_key = key
            return self.trainer

    def new_weights(self, seed: int) -> list[Issue]:
        """Reset with other initial weights: the seed is part of the experiment."""
        return self.edit(("train", "seed"), seed)

    def _apply_live(self) -> None:
        t = self.trainer
        if t is not None and _structural_key(self.exp) == self._trainer_key:
            t.set_lr(self.exp.train.optimizer.lr)
            t.set_epochs(self.exp.train.epochs)

    def touch(self) -> None:
        self.last_seen = time.monotonic()

    def close(self) -> None:
        with self.lock:
            if self.trainer is not None:
                self.trainer.stop()


def _structural_key(exp: Experiment) -> str:
    d = exp.to_dict()
    for path in LIVE_FIELDS:
        target = d
        for key in path[:-1]:
            target = target[key]
        target.pop(path[-1], None)
    return canonical_json(d)


def _release(session: Session) -> None:
    session.close()


@st.cache_resource(scope="session", on_release=_release)
def _session_resource() -> Session:
    return Session(_initial_experiment())


def _initial_experiment() -> Experiment:
    """The experiment a new session opens: from the link, else the default preset."""
    params = st.query_params
    notice = None
    try:
        if "s" in params:
            return load_experiment(decode_share(params["s"]))
        if "preset" in params:
            return load_preset(params["preset"])
    except SpecError as e:
        notice = str(e)
    exp = load_preset(DEFAULT_PRESET)
    if notice:
        st.session_state["_np_notice"] = notice
    return exp


def current() -> Session:
    """This browser session's state; call at the top of every page run."""
    s = _session_resource()
    s.touch()
    _start_reaper()
    notice = st.session_state.pop("_np_notice", None)
    if notice:
        s.notice = notice
    return s


def sync_url(s: Session) -> None:
    """Keep ``?s=`` equal to the experiment, so copying the address shares it."""
    share = s.share_string()
    if st.query_params.get("s") != share:
        st.query_params.clear()
        st.query_params["s"] = share


_reaper_started = threading.Event()


def _start_reaper() -> None:
    """A backstop for sessions whose release never came: stop idle trainers."""
    if _reaper_started.is_set():
        return
    _reaper_started.set()

    def reap() -> None:
        while True:
            time.sleep(min(60.0, IDLE_TIMEOUT / 2))
            now = time.monotonic()
            for s in list(_SESSIONS):
                if now - s.last_seen > IDLE_TIMEOUT:
                    s.close()

    threading.Thread(target=reap, name="np-idle-reaper", daemon=True).start()


def spec_json(exp: Experiment) -> str:
    return json.dumps(exp.to_dict(), indent=2, ensure_ascii=False)
