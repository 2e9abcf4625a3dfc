"""The session's comparison: two or more runs, each a label and its own trainer.

It lives in ``session.extras["comparison"]`` (the session stops it when it ends)
and is independent of the session's own trainer: comparing does not touch the
experiment being edited. Every run records what the pages draw (the same
``needs`` as the session's trainer) and takes a server run slot like any other
trainer, so a class comparing at once queues instead of overloading the server.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from engine.errors import Issue, SpecError
from engine.i18n import t
from engine.spec import Experiment
from engine.trainer import Snapshot
from engine.trainers import make_trainer
from ui.pages import NEEDED_PROBES
from ui.session import Session, run_slots

KEY = "comparison"
MAX_RUNS = 6  # each run holds its own model and data; a comparison of more is unreadable
ACTIVE = ("running", "queued")


@dataclass
class Run:
    label: str
    exp: Experiment
    trainer: Any  # a Trainer or a RemoteTrainer (make_trainer); None: a saved run
    saved: Snapshot | None = None

    def snapshot(self) -> Snapshot:
        return self.trainer.snapshot() if self.trainer is not None else self.saved

    @property
    def live(self) -> bool:
        return self.trainer is not None


class Comparison:
    def __init__(self) -> None:
        self.runs: list[Run] = []
        self.epochs: int | None = None  # one budget for every run; None: each its own
        self.lock = threading.RLock()

    def add(self, label: str, exp: Experiment) -> list[Issue]:
        """Add a run of ``exp`` (not started). Returns the problems instead when it
        cannot be built (too large for the server, a data set that will not load) or the
        comparison is full; nothing changes then."""
        if self.full:
            return [self._full_issue()]
        try:
            # As a session's own run: in this process, or on the Ray cluster when one is set.
            trainer = make_trainer(exp, slots=run_slots(), needs=NEEDED_PROBES)
        except SpecError as e:
            return e.issues
        except (ValueError, OSError) as e:
            return [Issue("", str(e), "run_not_built")]
        with self.lock:
            if self.epochs is not None:
                trainer.set_epochs(self.epochs)
            self.runs.append(Run(self._unique(label), exp, trainer))
        return []

    def add_saved(self, label: str, exp: Experiment, snapshot: Snapshot) -> list[Issue]:
        """Add a saved run as it ended: its curves are drawn from its record (saved runs
        keep no gradient flow, so its panel says so)."""
        if self.full:
            return [self._full_issue()]
        with self.lock:
            self.runs.append(Run(self._unique(label), exp, None, snapshot))
        return []

    @property
    def full(self) -> bool:
        return len(self.runs) >= MAX_RUNS

    @staticmethod
    def _full_issue() -> Issue:
        return Issue("", t("A comparison holds at most {n} runs: remove one first.",
                           n=MAX_RUNS), "comparison_full")

    def _unique(self, label: str) -> str:
        taken = {r.label for r in self.runs}
        if label not in taken:
            return label
        n = 2
        while f"{label} ({n})" in taken:
            n += 1
        return f"{label} ({n})"

    def remove(self, index: int) -> None:
        with self.lock:
            if 0 <= index < len(self.runs):
                gone = self.runs.pop(index)
                if gone.trainer is not None:
                    gone.trainer.stop()

    def clear(self) -> None:
        with self.lock:
            self.stop()
            self.runs = []

    def set_epochs(self, epochs: int) -> None:
        """The same epoch budget for every run, so their curves end together."""
        with self.lock:
            self.epochs = int(epochs)
            for trainer in self._trainers():
                trainer.set_epochs(self.epochs)

    def start(self) -> None:
        """Train every run at once (each in its own thread; "Train on" after a finish)."""
        with self.lock:
            for trainer in self._trainers():
                snap = trainer.snapshot()
                if snap.status == "finished" and snap.epochs is not None \
                        and snap.epoch >= snap.epochs:
                    continue  # done: its budget is used up
                trainer.start()

    def pause(self) -> None:
        with self.lock:
            for trainer in self._trainers():
                trainer.pause()
            for trainer in self._trainers():
                trainer.wait(2.0)

    def reset(self) -> None:
        """Every run back to step 0, with its initial weights."""
        with self.lock:
            for trainer in self._trainers():
                trainer.reset()

    def stop(self) -> None:
        """Called when the session ends: no run outlives the page that started it."""
        with self.lock:
            for trainer in self._trainers():
                trainer.stop()

    def _trainers(self) -> list[Any]:
        return [r.trainer for r in self.runs if r.trainer is not None]

    @property
    def active(self) -> bool:
        return any(r.snapshot().status in ACTIVE for r in self.runs)

    @property
    def finished(self) -> bool:
        return bool(self.runs) and all(r.snapshot().status == "finished" for r in self.runs)

    def snapshots(self) -> list[tuple[str, Snapshot]]:
        with self.lock:
            runs = list(self.runs)
        return [(r.label, r.snapshot()) for r in runs]


def comparison(session: Session) -> Comparison:
    """This session's comparison, made on first use."""
    with session.lock:
        found: Any = session.extras.get(KEY)
        if not isinstance(found, Comparison):
            found = session.extras[KEY] = Comparison()
        return found
