"""The one place a browser session's experiment and trainer live.

Pages read ``current()`` and change the experiment only through
``Session.apply``, which validates first (a bad edit changes nothing and
returns the problems), records undo, and keeps the URL's share string in
step. Build's edits go through ``Session.edit_draft``: an invalid edit is kept
as the session's draft (every page says the experiment is not that draft) and
is an undo step like any other. The trainer belongs to the session, records
what the app's pages need, and ends when the session does.
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
from engine.i18n import t
from engine.limits import RunSlots
from engine.presets import canonical_json, decode_share, encode_share, load_preset
from engine.trainers import make_trainer
from ui.pages import NEEDED_PROBES
from ui.words import issues_text

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
# One undo step: the valid experiment, and the invalid draft pending on top of it (if any).
State = tuple[Experiment, dict[str, Any] | None]


class Session:
    def __init__(self, exp: Experiment) -> None:
        self.exp = exp
        self.draft: dict[str, Any] | None = None  # an invalid edit, kept so it is not lost
        self.draft_issues: list[Issue] = []
        self.undo_stack: list[State] = []
        self.redo_stack: list[State] = []
        self.origin = exp  # as opened (preset, link or file): "edited" is measured from it
        self.speed: float | None = None  # steps per second; None: full speed
        self.speed_chosen = False  # by the user (a page may start from its own default)
        self.trainer: Trainer | None = None
        self._trainer_key: str | None = None
        self.notice: str | None = None  # shown once, e.g. why a link could not be opened
        self.last_seen = time.monotonic()
        self.lock = threading.RLock()
        # Other parts' per-session state (comparison runs, the saved-runs owner...): anything
        # here with a ``stop()`` is stopped when the session ends.
        self.extras: dict[str, Any] = {}
        _SESSIONS.add(self)

    # the experiment -------------------------------------------------------------------
    def apply(self, new: Experiment | dict[str, Any]) -> list[Issue]:
        """Make ``new`` the experiment if it is valid; otherwise change nothing."""
        try:
            exp = load_experiment(new)
        except SpecError as e:
            return e.issues
        with self.lock:
            if exp == self.exp and self.draft is None:
                return []
            self._push()
            self._set(exp, None)
        return []

    def open(self, new: Experiment | dict[str, Any]) -> list[Issue]:
        """Like ``apply``, for a whole new experiment (a preset, a file, a link): the
        sidebar then names it, not the one it replaced."""
        issues = self.apply(new)
        if not issues:
            self.origin = self.exp
        return issues

    def edit_draft(self, new: dict[str, Any]) -> list[Issue]:
        """Build's edits: a valid one becomes the experiment; an invalid one is kept as
        the draft with its problems. Either way it is one undo step."""
        try:
            exp = load_experiment(new)
        except SpecError as e:
            with self.lock:
                if new != self.draft:
                    self._push()
                    self.draft = new
                self.draft_issues = e.issues
            return e.issues
        with self.lock:
            if exp != self.exp or self.draft is not None:
                self._push()
                self._set(exp, None)
        return []

    def discard_draft(self) -> None:
        with self.lock:
            if self.draft is not None:
                self._push()
                self._set(self.exp, None)

    @property
    def can_undo(self) -> bool:
        return bool(self.undo_stack)

    @property
    def can_redo(self) -> bool:
        return bool(self.redo_stack)

    @property
    def edited(self) -> bool:
        return self.exp != self.origin

    @property
    def title(self) -> str:
        """The experiment's name as the user knows it: a renamed experiment by its new
        name, an edited one as edited from the one opened."""
        name = self.exp.meta.name
        if self.edited and name == self.origin.meta.name:
            return t("Edited from {name}", name=t(name))
        return t(name)  # a preset's name has its translation; a name of the user's has not

    def _push(self) -> None:
        self.undo_stack = [*self.undo_stack, (self.exp, self.draft)][-UNDO_DEPTH:]
        self.redo_stack = []

    def _set(self, exp: Experiment, draft: dict[str, Any] | None) -> None:
        self.exp, self.draft = exp, draft
        self.draft_issues = [] if draft is None else _issues_of(draft)
        self._apply_live()

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
            self.redo_stack.append((self.exp, self.draft))
            self._set(*self.undo_stack.pop())
            return True

    def redo(self) -> bool:
        with self.lock:
            if not self.redo_stack:
                return False
            self.undo_stack.append((self.exp, self.draft))
            self._set(*self.redo_stack.pop())
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
                # In this process, or a Ray actor when NP_RAY_ADDRESS names a cluster.
                self.trainer = make_trainer(self.exp, slots=run_slots(), needs=NEEDED_PROBES)
                self.trainer.set_speed(self.speed)
                self._trainer_key = key
            return self.trainer

    def restart(self) -> None:
        """A new run of the current experiment from its initial weights, started now
        (after a divergence, with the settings the user changed)."""
        self.get_trainer().restart()

    def set_speed(self, steps_per_sec: float | None, chosen: bool = True) -> None:
        """A viewing choice, not part of the experiment: it is kept across rebuilds."""
        self.speed, self.speed_chosen = steps_per_sec, chosen or self.speed_chosen
        if self.trainer is not None:
            self.trainer.set_speed(steps_per_sec)

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
            for extra in self.extras.values():
                if callable(getattr(extra, "stop", None)):
                    extra.stop()


def _issues_of(draft: dict[str, Any]) -> list[Issue]:
    try:
        load_experiment(draft)
    except SpecError as e:
        return e.issues
    return []


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
        if "l" in params:  # a short link: its experiment, and its viewing choices
            from ui.share import open_short_link

            return open_short_link(params["l"])
        if "preset" in params:
            return load_preset(params["preset"])
    except SpecError as e:
        notice = issues_text(e.issues)
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


# Query parameters that are viewing choices beside the experiment, kept in the address:
# presentation mode, language, hidden controls, the lesson step reached.
VIEW_PARAMS = ("present", "lang", "hide", "step")


def sync_url(s: Session) -> None:
    """Keep ``?s=`` equal to the experiment, so copying the address shares it."""
    share = s.share_string()
    if st.query_params.get("s") != share:
        # The experiment is in s= now; the viewing choices stay.
        for key in [k for k in st.query_params if k not in VIEW_PARAMS]:
            del st.query_params[key]
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
