"""Run controls and run status, shared by every page that trains.

What the buttons say and what the trainer does agree: Pause keeps the run
(Resume goes on from that step), Stop ends it (the next Train starts a new run
from the initial weights), Reset goes back to step 0 without training. A
diverged run cannot be resumed into: it offers a restart with the settings the
user has since changed, or undo.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterable

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from engine.errors import Issue
from engine.health import nonfinite_words
from engine.i18n import N_, t, using
from engine.trainer import Snapshot
from engine.trainers import ray_address
from ui.answer_log import clicked
from ui.live import ACTIVE
from ui.present import presenting
from ui.session import Session
from ui.words import issue_text
from viz.axes import sig

REASONS = {
    "epochs": N_("Finished at step {step}: the epoch budget is used up."),
    "early_stopping": N_("Finished at step {step}: the test loss stopped improving "
                      "(early stopping)."),
}


# Steps per second to train at (0: as fast as the machine goes). At 100 steps/s the
# spiral's boundary takes shape over some 10-20 s: slow enough to follow, fast enough to
# wait for; 5 steps/s lets a class follow single updates.
FULL_SPEED = 0
SPEEDS = (5, 20, 100, FULL_SPEED)
WATCH_SPEED = 100.0  # where the Playground starts, until the user chooses


def speed_control(session: Session, where: DeltaGenerator) -> None:
    """How fast to train, to watch the boundary form: a viewing choice, kept across edits
    and not part of the experiment (so not in the link)."""
    now = session.speed or FULL_SPEED
    choices = SPEEDS if now in SPEEDS else tuple(sorted({*SPEEDS[:-1], now})) + (FULL_SPEED,)
    speed = where.selectbox(
        t("Speed"), choices, index=choices.index(now), key=f"np-speed-{now}",
        format_func=lambda v: t("full speed") if v == FULL_SPEED else t("{n} steps/s",
                                                                         n=sig(v)),
        help=t("Slow the training down to watch the pictures change; full speed trains as "
               "fast as the server can."))
    if speed != now:
        session.set_speed(speed or None)


def diverged(s: Snapshot) -> bool:
    """A run the loss ran away from: going on from its weights makes no sense."""
    return bool(s.nonfinite) or s.stop_reason == "nonfinite"


def run_controls(session: Session, prefix: str) -> None:
    """Train, Pause, Step, Stop, Reset and New weights, bound to the session's trainer."""
    trainer = session.get_trainer()
    snap = trainer.snapshot()
    if diverged(snap) and snap.status not in ACTIVE:
        _diverged_controls(session, prefix)
        return
    running = snap.status in ACTIVE
    st.session_state[_DRAWN_FOR_A_RUN] = running
    few = presenting()  # at the front of a class: only what a lesson needs
    row = _row()
    # Callbacks run before the rest of the script, so Pause and Stop act at once.
    if running:
        row.button(t("Pause"), key=f"{prefix}-pause", type="primary", width="content",
                   help=t("Pause here: Resume goes on from this step."),
                   on_click=_pause, args=(trainer,))
    else:
        label, why = _train_words(snap)
        row.button(label, key=f"{prefix}-train", type="primary", width="content", help=why,
                   on_click=_train, args=(session,))
    row.button(t("Step"), key=f"{prefix}-step", help=t("Train one step, then pause."),
               width="content", on_click=_advance, args=("Step", trainer, trainer.step_n, 1))
    if few:
        row.button(t("Reset"), key=f"{prefix}-reset", width="content", on_click=trainer.reset,
                   help=t("Back to step 0 with the same initial weights."))
        return
    row.button(t("Step epoch"), key=f"{prefix}-epoch", width="content",
               help=t("Train to the end of this epoch, then pause."),
               on_click=_advance, args=("Step epoch", trainer, trainer.step_epoch))
    row.button(t("Stop"), key=f"{prefix}-stop", width="content", on_click=trainer.stop,
               help=t("End this run: Train then starts a new run from the initial weights."))
    row.button(t("Reset"), key=f"{prefix}-reset", width="content", on_click=trainer.reset,
               help=t("Back to step 0 with the same initial weights."))
    _new_weights(row, session, prefix)


def _new_weights(row: DeltaGenerator, session: Session, prefix: str) -> None:
    row.button(t("New weights"), key=f"{prefix}-seed", width="content",
               help=t("Reset with other initial weights (now seed {seed}).",
                      seed=session.exp.train.seed),
               on_click=lambda: session.new_weights(random.randrange(1, 10_000)))


def _row() -> DeltaGenerator:
    """One row of buttons, each as wide as its words: columns of fixed shares cut "Step
    epoch" to "Step ep…" on a projector's 1024 pixels. A row too narrow wraps instead."""
    return st.container(horizontal=True, gap="small")


def _train_words(s: Snapshot) -> tuple[str, str]:
    """The main button's label and help when nothing is training."""
    if s.status == "paused":
        return t("Resume"), t("Go on from step {step}.", step=s.step)
    if s.status == "finished":
        return t("Train on"), t("Go on training from step {step}.", step=s.step)
    if s.status == "stopped":
        return t("Train"), t("Start a new run from the initial weights.")
    return t("Train"), t("Start training from step {step}.", step=s.step)


_DRAWN_FOR_A_RUN = "np-controls-drawn-running"  # what this page run drew the buttons for


def redraw_if_the_run_moved_on(session: Session) -> None:
    """At the end of a page run: draw the page again if its run buttons no longer fit the
    run. They are drawn from the run as it was then; a Pause that takes effect later in the
    page run (a trainer slow to answer on a crowded server) would leave Pause beside
    "Paused at step N", with no live timer left to redraw it."""
    drawn = st.session_state.pop(_DRAWN_FOR_A_RUN, None)
    if drawn is not None and drawn != (session.get_trainer().snapshot().status in ACTIVE):
        st.rerun()


def _diverged_controls(session: Session, prefix: str) -> None:
    """After a divergence: a fresh run with the settings as they are now, or undo."""
    row = _row()
    row.button(t("Restart with the new settings"), key=f"{prefix}-restart", type="primary",
               width="content", on_click=session.restart,
               help=t("A new run from the initial weights, with the settings as they are "
                      "now (change the learning rate first, for example)."))
    row.button(t("Undo"), key=f"{prefix}-undo", width="content", on_click=session.undo,
               disabled=not session.can_undo, help=t("Take back the last edit."))
    _new_weights(row, session, prefix)


def _pause(trainer: object) -> None:
    clicked("Pause")
    trainer.pause()  # type: ignore[attr-defined]
    trainer.wait(2.0)  # type: ignore[attr-defined]  # the page then shows "paused"


def _advance(name: str, trainer: object, order: Callable[..., None], *args: object) -> None:
    """Step and Step epoch: the rerun after the click must not draw the page before the
    trainer has taken the order, or it shows the old step with no timer left to catch up
    (seen with 20 sessions on two cores). A step taken, a run under way or a place in
    the queue all show; a long epoch then goes on under the live timer."""
    clicked(name)
    before = trainer.snapshot()  # type: ignore[attr-defined]
    order(*args)
    _until(trainer, lambda s: s.step != before.step or s.status in (*ACTIVE, "failed",
                                                                  "stopped"))


def _until(trainer: object, seen: Callable[[Snapshot], bool], limit: float = 2.0) -> None:
    end = time.monotonic() + limit
    while not seen(trainer.snapshot()) and time.monotonic() < end:  # type: ignore[attr-defined]
        time.sleep(0.01)


def _train(session: Session) -> None:
    trainer = session.get_trainer()
    snap = trainer.snapshot()
    with using("en"):  # the log names the button as the bench reads it
        clicked(_train_words(snap)[0])
    budget = session.exp.train.epochs
    if snap.status == "finished" and snap.epochs is not None and snap.epoch >= snap.epochs:
        # "Train on": another budget from here (or without one when the spec has none).
        trainer.set_epochs(None if budget is None else snap.epochs + budget)
    # Running or queued when this returns. A run that ends at once (diverged at step 2) is
    # drawn again as ended: by the page run's end (redraw_if_the_run_moved_on) or, after it,
    # by the live views' next tick. So the click is answered without waiting for steps.
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


def show_issues(issues: Iterable[Issue]) -> None:
    for issue in issues:
        st.error(issue_text(issue))


def status_text(s: Snapshot) -> str:
    """The run's state in one or two sentences, with what the buttons will do next."""
    if s.error:
        return t("Training failed: {error}", error=s.error)
    if diverged(s) and s.nonfinite:
        return nonfinite_text(s.nonfinite)
    if s.status == "paused":
        return t("Paused at step {step}. Resume goes on from here.", step=s.step)
    if s.status == "stopped":
        return t("Stopped at step {step}. Train starts a new run from the initial weights.",
                 step=s.step)
    if s.status == "finished":
        return t(REASONS.get(s.stop_reason or "", N_("Finished at step {step}.")), step=s.step)
    if s.status == "ready":
        return t("Ready: press Train.")
    if s.status == "queued":
        if ray_address():
            return t("Waiting for a free slot: the training cluster is busy with other runs. "
                     "Yours starts as soon as it has room.")
        return t("Waiting for a free slot: the server is already training as many networks "
                 "at once as it can. Yours starts as soon as one finishes or pauses.")
    if s.status == "running":
        return t("Training…")
    return t("Training failed.") if s.status == "failed" else s.status


def nonfinite_text(n: dict) -> str:
    """Why a run stopped on a non-finite or exploding loss, and what to do next."""
    what = nonfinite_words(n)
    if n["node"] != "loss" and "loss" not in n["what"]:
        loss = n.get("loss")
        what = t("the loss became {loss}; in node {node}, {what}",
                 loss=f"{loss:.4g}" if isinstance(loss, float) else loss, node=n["node"],
                 what=what)
    return t("Stopped at step {step}: {what}. The updates are too large: lower the learning "
             "rate, clip gradients, or use smaller initial weights, then press Restart with "
             "the new settings.", step=n["step"], what=what)


def progress_text(s: Snapshot) -> str:
    """Epoch (of the budget, when there is one), step, speed and time left."""
    rate = f"{s.steps_per_sec:,.0f}"
    if s.epochs is None:  # no budget: trains until paused
        return t("epoch {e} · step {step} · {rate} steps/s", e=s.epoch, step=s.step, rate=rate)
    text = t("epoch {e} of {E} · step {step} · {rate} steps/s", e=s.epoch, E=s.epochs,
             step=s.step, rate=rate)
    if s.steps_per_sec > 0 and s.status == "running":
        remaining = max(s.epochs * s.steps_per_epoch - s.step, 0) / s.steps_per_sec
        text += " · " + t("about {secs} s left", secs=math.ceil(remaining))
    return text


def progress(s: Snapshot) -> None:
    """Progress bar (when the run has a budget) and the status in words."""
    if s.epochs is None:
        st.caption(progress_text(s))
    else:
        st.progress(s.progress, text=progress_text(s))
    say = st.error if (s.error or diverged(s)) else st.caption
    say(status_text(s))
