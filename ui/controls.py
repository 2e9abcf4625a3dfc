"""Run controls and run status, shared by every page that trains."""

from __future__ import annotations

import math
import random

import streamlit as st

from engine.i18n import t
from engine.trainer import Snapshot
from ui.session import Session

STATUS_WORDS = {
    "ready": "Ready: press Train.",
    "queued": "Waiting for a free slot: the server is training as many networks as it has "
              "cores. Yours starts as soon as one finishes or pauses.",
    "running": "Training…",
    "paused": "Paused.",
    "finished": "Finished.",
    "stopped": "Stopped.",
    "failed": "Training failed.",
}
REASONS = {
    "epochs": "the epoch budget is used up",
    "early_stopping": "the test loss stopped improving (early stopping)",
}


def run_controls(session: Session, prefix: str) -> None:
    """Train, Pause, Step, Stop, Reset and New weights, bound to the session's trainer."""
    trainer = session.get_trainer()
    snap = trainer.snapshot()
    running = snap.status in ("running", "queued")
    # Callbacks run before the rest of the script, so Pause and Stop act at once.
    c = st.columns([1.1, 1, 1.2, 1, 1, 1.4])
    if running:
        c[0].button(t("Pause"), key=f"{prefix}-pause", type="primary", width="stretch",
                    on_click=_pause, args=(trainer,))
    else:
        label = t("Resume") if snap.status == "paused" else t("Train")
        c[0].button(label, key=f"{prefix}-train", type="primary", width="stretch",
                    on_click=_train, args=(session,))
    c[1].button(t("Step"), key=f"{prefix}-step", help=t("Train one step, then pause."),
                width="stretch", on_click=trainer.step_n, args=(1,))
    c[2].button(t("Step epoch"), key=f"{prefix}-epoch", width="stretch",
                help=t("Train to the end of this epoch, then pause."),
                on_click=trainer.step_epoch)
    c[3].button(t("Stop"), key=f"{prefix}-stop", width="stretch", on_click=trainer.stop)
    c[4].button(t("Reset"), key=f"{prefix}-reset", width="stretch", on_click=trainer.reset,
                help=t("Back to step 0 with the same initial weights."))
    c[5].button(t("New weights"), key=f"{prefix}-seed", width="stretch",
                help=t("Reset with other initial weights (seed {seed}).",
                       seed=session.exp.train.seed),
                on_click=lambda: session.new_weights(random.randrange(1, 10_000)))


def _pause(trainer: object) -> None:
    trainer.pause()  # type: ignore[attr-defined]
    trainer.wait(2.0)  # type: ignore[attr-defined]  # the page then shows "paused"


def _train(session: Session) -> None:
    trainer = session.get_trainer()
    snap = trainer.snapshot()
    if snap.status == "finished" and snap.epoch >= snap.epochs:
        trainer.set_epochs(snap.epochs + session.exp.train.epochs)  # train on for another budget
    trainer.start()


def lr_control(session: Session, key: str) -> None:
    """The learning rate, applied to a running trainer without a reset."""
    now = float(session.exp.train.optimizer.lr)
    # The key carries the value, so undo or another page's edit re-draws the box.
    lr = st.number_input(t("Learning rate"), min_value=1e-6, max_value=10_000.0, value=now,
                         format="%g", key=f"{key}-{now}",
                         help=t("Takes effect at once, even while training."))
    if lr != session.exp.train.optimizer.lr:
        show_issues(session.edit(("train", "optimizer", "lr"), lr))


def show_issues(issues: list) -> None:  # noqa: ANN001
    for issue in issues:
        st.error(str(issue))


def status_text(s: Snapshot) -> str:
    words = t(STATUS_WORDS.get(s.status, s.status))
    if s.status == "finished" and s.stop_reason in REASONS:
        words += " " + t("Training stopped because {why}.", why=t(REASONS[s.stop_reason]))
    if s.nonfinite:
        words = nonfinite_text(s.nonfinite)
    if s.error:
        words = t("Training failed: {error}", error=s.error)
    return words


def nonfinite_text(n: dict) -> str:
    """Why a run paused on a non-finite or exploding loss, and what to try."""
    what = t(n["what"])
    if n["node"] != "loss" and "loss" not in n["what"]:
        loss = n.get("loss")
        what = t("the loss became {loss}; in node {node}, {what}",
                 loss=f"{loss:.4g}" if isinstance(loss, float) else loss, node=n["node"],
                 what=what)
    return t("Paused at step {step}: {what}. The updates are too large: lower the learning "
             "rate, clip gradients, or use smaller initial weights.", step=n["step"], what=what)


def progress(s: Snapshot) -> None:
    """Progress bar with epoch, step, speed and time left; the status in words."""
    left = ""
    if s.steps_per_sec > 0 and s.status == "running":
        remaining = max(s.epochs * s.steps_per_epoch - s.step, 0) / s.steps_per_sec
        left = " · " + t("about {secs} s left", secs=math.ceil(remaining))
    st.progress(s.progress, text=t("epoch {e}/{E} · step {step} · {rate} steps/s", e=s.epoch,
                                   E=s.epochs, step=s.step, rate=f"{s.steps_per_sec:,.0f}")
                + left)
    say = st.error if (s.error or s.nonfinite) else st.caption
    say(status_text(s))
