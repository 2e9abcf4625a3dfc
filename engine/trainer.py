"""The trainer: owns model, optimizer and data for one experiment.

It runs synchronously (``run``) or in a background thread (``start``,
``pause``, ``resume``, ``step``, ``stop``, ``reset``, ``restart``), and publishes
immutable snapshots that any thread may read. Commands only set flags and
wake the thread, so a caller never waits for more than the current step.

Stop ends the run: the next start begins a new one from the initial weights.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import logging
import math
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.budget import eval_rows
from engine.cost import step_flops
from engine.device import choose_threads, resolve_device, trainer_cores, use_one_thread, use_threads
from engine.graph import GraphModel
from engine.history import History
from engine.i18n import language, t, using
from engine.init import init_model
from engine.limits import TRAINER_THREAD, RunSlots, name_os_thread
from engine.optim import NEEDS_RUN_LENGTH, lr_factor, make_optimizer
from engine.probes import PROBES, Probe, probe_specs
from engine.probes.base import EVENTS, STEP_EVENTS
from engine.spec import Experiment
from engine.tasks import TASKS
from engine.validate import check, load_experiment

log = logging.getLogger(__name__)
PUBLISH_EVERY = 0.1  # seconds between snapshots while running
RATE_WINDOW = 0.3  # seconds over which steps per second are measured
# A loss this many times its first value (or 1, if larger) has diverged, finite or not.
DIVERGE_FACTOR = 1e3
# A training set larger than this is gathered batch by batch rather than copied shuffled
# once per epoch: a big image set then costs each session nothing beyond its batches.
COPY_PER_EPOCH_BYTES = 16 * 2**20
TRAIN_EVAL_ROWS = 256  # enough for a toy set whole; a fair sample of a large one
PACE_SLICE = 0.02  # seconds; a slowed-down loop sleeps in slices this short to stay steerable
MAX_SPEED = 1e6  # steps per second; above any real rate, so the same as full speed
# One counter for every trainer of the process: a snapshot version never repeats, so a
# figure cached by version cannot show another (older or rebuilt) trainer's picture.
_VERSIONS = itertools.count(1)

READY, QUEUED, RUNNING, PAUSED, FINISHED, STOPPED, FAILED = (
    "ready", "queued", "running", "paused", "finished", "stopped", "failed")


@dataclass(frozen=True)
class Snapshot:
    """A copy of the trainer's progress: plain numbers and numpy arrays only."""

    status: str
    step: int
    epoch: int
    epochs: int | None  # None: no budget, the run goes on until paused or stopped
    steps_per_epoch: int
    lr: float
    steps_per_sec: float
    elapsed: float  # seconds spent training (pauses excluded)
    steps: dict[str, np.ndarray]  # per step: step, epoch, loss, lr
    evals: dict[str, np.ndarray]  # per evaluation: step, epoch, train_loss, test_loss, ...
    probes: dict[str, Any]
    version: int = 0  # grows with every publication, so readers can skip redraws
    stop_reason: str | None = None  # epochs, early_stopping, stopped, nonfinite, error
    error: str | None = None
    nonfinite: dict[str, Any] | None = None  # step, node, what
    seed: int = 0
    final: dict[str, float] = field(default_factory=dict)  # the latest evaluation
    cpu_seconds: float = 0.0  # CPU time the training thread has used
    speed: float | None = None  # the chosen steps per second; None is full speed

    @property
    def progress(self) -> float:
        """The share of the epoch budget done; 0.0 without a budget."""
        total = (self.epochs or 0) * self.steps_per_epoch
        return min(self.step / total, 1.0) if total else 0.0


class Trainer:
    def __init__(self, experiment: Experiment | dict[str, Any] | str | Path,
                 probes: Iterable[Probe] = (), slots: RunSlots | None = None,
                 needs: Iterable[str] = ()) -> None:
        """``needs`` names probes the caller's pages draw from: they are recorded whether or
        not the spec lists them (at their own cadence unless the spec sets one)."""
        self.exp = load_experiment(experiment)
        self.needs = tuple(needs)
        self.lang = language()  # the asker's; the training thread has no session to ask
        self._probe_specs = probe_specs(self.exp.probes, self.needs)  # unknown: ValueError
        self.data, self.plan = check(self.exp)
        self.device = resolve_device(self.exp.train.device)
        self.task = TASKS.get(self.exp.train.task or self.data.kind).make(self.exp.train,
                                                                          self.data)
        self.task.chunk = eval_rows(self.plan)
        self.extra_probes = list(probes)
        self._pub_lock = threading.Lock()
        self._cmd = threading.RLock()  # serialises commands; the training thread never takes it
        self.slots = slots  # shared with the other trainers of a server
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        # Live settings: a rebuild (reset, restart, a new run after stop) keeps them.
        self.lr = self.exp.train.optimizer.lr
        self.epochs: int | None = self.exp.train.epochs
        self.speed: float | None = None
        # What the vision views look at; see set_focus.
        self.focus: dict[str, Any] = {"index": 0, "image": None, "target": None, "unit": None,
                                      "temperature": None, "top_k": None}
        self._focus_dirty = False
        self._snapshot: Snapshot | None = None
        self._build(self.exp.train.seed)

    # set-up ---------------------------------------------------------------------------
    def _build(self, seed: int) -> None:
        tr = self.exp.train
        self.seed = seed
        use_one_thread()
        torch.manual_seed(seed)
        self.model = GraphModel(self.plan, image=self.data.image)
        init_model(self.model.layers, self.exp.model)
        self.init_report = None  # fine-tuning: what a saved run's weights copied and froze
        if tr.init_from is not None:  # before the parameters are collected: frozen stay out
            from engine.pretrained import start_from

            self.init_report = start_from(self.model.layers, tr.init_from)
        # Kept whole (not rebuilt on demand): building a model draws from torch's global
        # random state, which would change the dropout masks of the run being watched.
        self._pristine = copy.deepcopy(self.model)
        self.model.to(self.device).train()
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        # L1/L2 act on weights, not biases or normalisation scales.
        self.weights = [p for p in self.params if p.dim() > 1]
        self.optimizer = make_optimizer(tr.optimizer, self.params)
        d = self.data
        self.x_train, self.y_train = d.x_train.to(self.device), d.y_train.to(self.device)
        self.x_test, self.y_test = d.x_test.to(self.device), d.y_test.to(self.device)
        self.steps_per_epoch = math.ceil(len(self.x_train) / tr.batch_size)
        # Train metrics come from a fixed sample: scoring a large training set every epoch
        # would cost more than the epoch itself. The test split is always scored in full.
        pick = torch.randperm(len(self.x_train), generator=torch.Generator().manual_seed(seed))
        pick = pick[:TRAIN_EVAL_ROWS].to(self.device)
        self.x_train_eval, self.y_train_eval = self.x_train[pick], self.y_train[pick]
        self.shuffle = torch.Generator().manual_seed(seed)
        self._copy_per_epoch = (self.x_train.numel() * self.x_train.element_size()
                                <= COPY_PER_EPOCH_BYTES)
        self._order: torch.Tensor | None = None
        augment = self.exp.data.augment
        self.augment = augment if self.data.image is not None and augment.active else None
        # On the training device, so augmenting a batch never waits for the host.
        self._augment_gen = torch.Generator(device=self.device).manual_seed(seed)
        self.step = self.epoch = 0
        self._batch = 0  # index of the next batch within the epoch
        self._xs, self._ys = self.x_train, self.y_train  # this epoch's shuffled copy
        self._applied_lr = math.nan
        self.step_history, self.eval_history = History(), History()
        self._best, self._since_best = math.inf, 0
        self._diverge_at: float | None = None
        self.test_outputs: torch.Tensor | None = None  # raw outputs of the latest evaluation
        self._start_norms = self._node_norms()
        self.probes = [PROBES.get(p.name)(every=p.every, **p.params) for p in self._probe_specs]
        self.probes += self.extra_probes
        self._by_event = {e: [p for p in self.probes if p.handles(e)] for e in EVENTS}
        self.status, self.stop_reason = READY, None
        self.error: str | None = None
        self.nonfinite: dict[str, Any] | None = None
        self._stop = self._paused = False
        self._budget = 0
        self._elapsed = 0.0
        self.cpu_seconds = 0.0  # CPU time of the training thread (for speed per CPU-second)
        self._cpu_mark: tuple[float, float] | None = None
        self._logged_status: str | None = None
        self._rate = (0, time.perf_counter(), 0.0)  # step, time, steps per second
        self._run_started = self._sync = False
        self._publish()

    # commands (safe from any thread) ----------------------------------------------------
    def run(self, epochs: int | None = None) -> Snapshot:
        """Train in this thread until ``epochs`` (default: the spec's) are done."""
        if self.alive:
            raise RuntimeError("the trainer is already running in the background; stop it first")
        if self.status == STOPPED:
            self._build(self.seed)
        if epochs is not None:
            self.epochs = self.epoch + epochs if self._run_started else epochs
        if self.epochs is None:
            raise ValueError("this experiment has no epoch budget, so a run in this thread "
                             "would never end; pass epochs")
        self._paused = self._stop = False
        self.status = self._claim()
        self._sync = True
        try:
            self._loop()
        finally:
            self._sync = False
        return self.snapshot()

    def start(self) -> None:
        """Train in the background; if paused, resume; if stopped, a new run from the
        initial weights (the same seed; the live learning rate, budget and speed kept)."""
        with self._cmd:
            if self.status == STOPPED and not self.alive:
                self._build(self.seed)
            with self._wake:
                self._paused = False
                self._budget = 0
                if self.alive and self.status == PAUSED:
                    self.status = self._claim()  # published now, not when the thread wakes
                    self._publish()
                self._wake.notify_all()
            self._ensure_thread()

    def resume(self) -> None:
        self.start()

    def pause(self) -> None:
        with self._wake:
            self._paused = True
            self._budget = 0

    def step_n(self, n: int = 1) -> None:
        """Train ``n`` more steps in the background, then pause."""
        with self._cmd:
            if self.status == STOPPED and not self.alive:
                self._build(self.seed)
            with self._wake:
                self._paused = True
                self._budget += max(int(n), 0)
                self._wake.notify_all()
            self._ensure_thread()

    def step_epoch(self) -> None:
        """Train to the end of the current epoch, then pause."""
        self.step_n(self.steps_per_epoch - self._batch)

    def stop(self, timeout: float = 10.0) -> None:
        """End the run (the thread finishes its current step and exits); the next start
        begins a new run."""
        with self._cmd:
            with self._wake:
                self._stop = True
                self._wake.notify_all()
            t = self._thread
            if t is not None and t is not threading.current_thread():
                t.join(timeout)

    def reset(self, seed: int | None = None) -> None:
        """Back to step 0 with the same initial weights (or those of ``seed``)."""
        with self._cmd:
            self.stop()
            self._build(self.exp.train.seed if seed is None else seed)

    def restart(self) -> None:
        """Back to this run's initial weights (keeping the live learning rate, budget and
        speed) and train at once: the way on after a divergence."""
        with self._cmd:
            self.stop()
            self._build(self.seed)
            self.start()

    def set_lr(self, lr: float) -> None:
        """Change the base learning rate mid-run; the schedule keeps applying to it."""
        if not (isinstance(lr, int | float) and not isinstance(lr, bool) and 0 < lr <= 1e4):
            raise ValueError(f"train.optimizer.lr must be between 0 and 10000, got {lr!r}")
        self.lr = float(lr)
        self._republish()

    def set_epochs(self, epochs: int | None) -> None:
        """Change the epoch budget, live; None trains until paused or stopped."""
        if epochs is None and self.exp.train.schedule.name in NEEDS_RUN_LENGTH:
            raise ValueError(f"train.schedule: the {self.exp.train.schedule.name} schedule "
                             "needs an epoch budget")
        self.epochs = None if epochs is None else max(int(epochs), 1)
        self._republish()

    def set_speed(self, steps_per_sec: float | None) -> None:
        """About this many steps per second, live; None is full speed."""
        if steps_per_sec is not None and not (
                isinstance(steps_per_sec, int | float) and not isinstance(steps_per_sec, bool)
                and 0 < steps_per_sec <= MAX_SPEED):
            raise ValueError(f"speed must be between 0 and {MAX_SPEED:g} steps per second or "
                             f"None (full speed), got {steps_per_sec!r}")
        self.speed = None if steps_per_sec is None else float(steps_per_sec)
        self._republish()

    def set_focus(self, **changes: Any) -> None:
        """Choose what the vision views look at: ``index`` (a test image), ``image`` (uint8
        [C, H, W] shaped like the data, drawn or uploaded: it replaces the test image; None
        goes back to it), ``target`` (the class to explain; None: the predicted one) and
        ``unit`` ((node id, channel, y, x) or None), and how a language model's samples are
        drawn: ``temperature`` and ``top_k`` (None: the probe's own). Probes that observe the
        focus recompute at once when the loop is idle, else on the training thread before
        its next step (or as the run ends)."""
        unknown = set(changes) - set(self.focus)
        if unknown:
            raise ValueError(f"unknown focus setting {sorted(unknown)} (known: "
                             f"{', '.join(self.focus)})")
        focus = dict(self.focus) | changes
        n = len(self.x_test)
        if not isinstance(focus["index"], int) or not 0 <= focus["index"] < n:
            raise ValueError(f"the image index must be a whole number from 0 to {n - 1}")
        image = focus["image"]
        if image is not None:
            image = np.asarray(image)
            if image.dtype != np.uint8 or tuple(image.shape) != tuple(self.data.input_shape):
                raise ValueError(f"a chosen image must be uint8 of shape "
                                 f"{list(self.data.input_shape)}, got {image.dtype} "
                                 f"{list(image.shape)}")
            focus["image"] = image
        classes = len(self.data.class_names)
        if focus["target"] is not None and not (isinstance(focus["target"], int)
                                                and 0 <= focus["target"] < max(classes, 1)):
            raise ValueError(f"the class to explain must be from 0 to {classes - 1}")
        temp, top_k = focus["temperature"], focus["top_k"]
        if temp is not None and not (isinstance(temp, int | float) and 0.05 <= temp <= 5):
            raise ValueError("the sampling temperature must be from 0.05 to 5")
        if top_k is not None and not (isinstance(top_k, int) and 0 <= top_k <= 1000):
            raise ValueError("top-k must be a whole number from 0 (every token) to 1000")
        with self._cmd:
            self.focus = focus
            if self.alive and self.status in (RUNNING, QUEUED):
                self._focus_dirty = True  # the training thread owns the model now
                return
            self._emit("focus")
            self._publish()

    def focus_input(self) -> tuple[torch.Tensor, int | None]:
        """The focus image as model input [1, C, H, W] on the device, and its label (None
        for a drawn or uploaded image)."""
        if self.focus["image"] is not None:
            x = torch.from_numpy(self.focus["image"]).unsqueeze(0).to(self.device)
            return self.model.prepare(x), None
        i = self.focus["index"]
        return self.model.prepare(self.x_test[i:i + 1]), int(self.y_test[i])

    def initial_model(self) -> GraphModel:
        """A copy of the model with this run's initial weights, in eval mode."""
        return copy.deepcopy(self._pristine).to(self.device).train(False)

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until the background thread is idle (paused or ended)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self._thread is None or not self._thread.is_alive() or (
                    self.status == PAUSED and self._budget == 0):
                return True
            time.sleep(0.005)
        return False

    def _loop_thread(self) -> threading.Thread:
        """The thread running the loop: the background one, or the caller of run()."""
        return self._thread if self.alive and not self._sync else threading.current_thread()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def snapshot(self) -> Snapshot:
        return self._snapshot

    # the loop -----------------------------------------------------------------------------
    def _done(self) -> bool:
        return self.epochs is not None and self.epoch >= self.epochs

    def _claim(self) -> str:
        """RUNNING when a run slot is free (or none are shared), else QUEUED. Claimed before
        the status is published, so a free slot never shows as a queue, even for an instant."""
        return RUNNING if self.slots is None or self.slots.acquire(self) else QUEUED

    def _ensure_thread(self) -> None:
        if self.alive:
            return
        if self.status in (FINISHED, FAILED) and self._done():
            return
        self._stop = False
        # Running (or queued) from the moment start() returns: a reader never sees the old
        # status. The loop keeps this status; its first _next claims a slot if it has none.
        self.status = self._claim()
        self._publish()
        self._thread = threading.Thread(target=self._loop, name=TRAINER_THREAD, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        name_os_thread(TRAINER_THREAD)  # so a server's trainers can be counted from outside
        # Threads by the model's cost and the cores this trainer has: one for a toy net,
        # more for a CNN that gains from them (measured in engine/device.py).
        running = self.slots.in_use if self.slots is not None else 1
        use_threads(choose_threads(step_flops(self.plan, 1), self.exp.train.batch_size,
                                   trainer_cores(running)))
        self.error = None
        self.stop_reason = None
        self._rate = (self.step, time.perf_counter(), self._rate[2])
        self._cpu_mark = (time.thread_time(), self.cpu_seconds)
        try:
            self._emit("run_start")
            self._run_started = True
            self._publish()
            while self._next():
                if self._focus_dirty:
                    self._refocus()
                t0 = time.perf_counter()
                self._train_step()
                self._elapsed += time.perf_counter() - t0
                if t0 - self._published_at > PUBLISH_EVERY:
                    self._publish()
                if self.speed is not None:
                    self._pace(t0)
        except Exception as e:  # kept in the snapshot; the process lives on
            # The traceback is for whoever runs the server; the page gets one sentence.
            log.exception("trainer %x failed at step %d", id(self), self.step)
            self.status, self.stop_reason = FAILED, "error"
            with using(self.lang):
                self.error = t("the engine stopped at step {step} ({what}); change the "
                               "experiment and train again.", step=self.step, what=_cause(e))
        finally:
            try:
                if self._focus_dirty:  # asked for while running; the run ended first
                    self._refocus()
                self._emit("run_end")
            except Exception as e:
                log.exception("a probe of trainer %x failed at the run's end", id(self))
                with using(self.lang):
                    self.error = self.error or t("a view's measurement failed at the end "
                                                 "of the run ({what}).", what=_cause(e))
            for p in self.probes:
                p.remove_hooks()
            if self.slots is not None:
                self.slots.release(self)
            self._publish()

    def _pace(self, started: float) -> None:
        """Hold the loop so that a step takes 1/speed seconds. It sleeps with no lock held,
        in short slices, so pause, stop and a new speed act at once."""
        while True:
            speed = self.speed
            if speed is None or self._stop or (self._paused and not self._budget):
                return
            now = time.perf_counter()
            left = started + 1.0 / speed - now
            if left <= 0:
                return
            if (self._snapshot.step != self.step
                    and now - self._published_at > PUBLISH_EVERY / 2):
                self._publish()  # show the step now, not after the wait
                continue
            time.sleep(min(left, PACE_SLICE))

    def _next(self) -> bool:
        """Whether to take another step; waits here while paused."""
        if (self.status == RUNNING and not (self._stop or self._paused or self._budget)
                and (self.epochs is None or self.epoch < self.epochs)):
            return True  # the hot path: nothing was asked, so no lock is taken
        with self._wake:
            while True:
                if self._stop:
                    self.status, self.stop_reason = STOPPED, "stopped"
                    return False
                if self._done():
                    self.status, self.stop_reason = FINISHED, self.stop_reason or "epochs"
                    return False
                if self.status == FINISHED:  # early stopping
                    return False
                if not self._paused or self._budget > 0:
                    if self.slots is not None and not self.slots.acquire(self):
                        if self.status != QUEUED:
                            self.status = QUEUED
                            self._publish()
                        self._wake.wait(0.2)
                        continue
                    self._budget -= 1 if self._budget > 0 else 0
                    self.status = RUNNING
                    return True
                if self._focus_dirty:  # asked for while running, then the loop paused
                    self._refocus()
                    self._publish()
                if self.slots is not None:
                    self.slots.release(self)  # a paused trainer leaves its slot to others
                if self._sync:  # nobody could resume a synchronous run
                    return False
                if self.status != PAUSED:
                    self._emit("pause")  # before the status: wait() returns on PAUSED
                    self.status = PAUSED
                    self._publish()
                self._wake.wait(0.5)

    def _refocus(self) -> None:
        self._focus_dirty = False
        self._emit("focus")

    def _emit(self, event: str) -> None:
        probes = self._by_event[event]
        if event in STEP_EVENTS:
            # Both step events of one iteration see the same index, so a probe that pairs
            # them (before and after the update) fires on both or neither.
            for p in probes:
                if self._iteration % p.every == 0:
                    getattr(p, f"on_{event}")(self)
        else:
            for p in probes:
                getattr(p, f"on_{event}")(self)

    def _train_step(self) -> None:
        tr = self.exp.train
        bs = tr.batch_size
        self._iteration = self.step
        if self._batch == 0:
            order = torch.randperm(len(self.x_train), generator=self.shuffle).to(self.device)
            if self._copy_per_epoch:  # one gather per epoch; each batch is then a view
                self._xs, self._ys = self.x_train[order], self.y_train[order]
            else:
                self._order = order
            self._emit("epoch_start")
        lo = self._batch * bs
        if self._copy_per_epoch:
            xb, yb = self._xs[lo:lo + bs], self._ys[lo:lo + bs]
        else:
            idx = self._order[lo:lo + bs]
            xb, yb = self.x_train[idx], self.y_train[idx]
        if self.augment is not None:
            from engine.augment import augment_batch

            xb = augment_batch(self.model.prepare(xb), self.augment, self._augment_gen)

        for p in self.params:
            p.grad = None
        loss = self.task.loss(self.model, xb, yb)
        loss.backward()
        value = loss.item()
        if self._diverge_at is None:
            self._diverge_at = DIVERGE_FACTOR * max(value, 1.0)
        if not math.isfinite(value) or value > self._diverge_at:
            self._nonfinite(xb, value)
            return
        reg = tr.regularization
        if reg.l2 and self.weights:
            torch._foreach_add_([w.grad for w in self.weights], self.weights, alpha=reg.l2)
        if reg.l1 and self.weights:
            torch._foreach_add_([w.grad for w in self.weights],
                                torch._foreach_sign(self.weights), alpha=reg.l1)
        if tr.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.params, tr.grad_clip, foreach=True)
        self._emit("after_backward")

        lr = self.lr if tr.schedule.name == "constant" else self.lr * lr_factor(
            tr.schedule, self.step, self.steps_per_epoch,
            None if self.epochs is None else self.epochs * self.steps_per_epoch)
        if lr != self._applied_lr:
            for g in self.optimizer.param_groups:
                g["lr"] = lr
            self._applied_lr = lr
        self.optimizer.step()
        self.step += 1
        self._batch += 1
        self.step_history.append(step=self.step, epoch=self.epoch, loss=value, lr=lr)
        self._emit("batch_end")
        if self._batch >= self.steps_per_epoch:
            self._batch = 0
            self.epoch += 1
            if self.epoch % tr.eval_every == 0 or self._done():
                self._evaluate()
            self._emit("epoch_end")

    def _evaluate(self) -> None:
        self.model.train(False)  # eval mode
        with torch.no_grad():
            train, _ = self.task.evaluate(self.model, self.x_train_eval, self.y_train_eval)
            test, self.test_outputs = self.task.evaluate(self.model, self.x_test, self.y_test)
        self.model.train()
        row = {f"train_{k}": v for k, v in train.items()} | {f"test_{k}": v for k, v in
                                                               test.items()}
        self.eval_history.append(step=self.step, epoch=self.epoch, **row)
        es = self.exp.train.early_stopping
        if es.patience is not None:
            if test["loss"] < self._best - es.min_delta:
                self._best, self._since_best = test["loss"], 0
            else:
                self._since_best += self.exp.train.eval_every
                if self._since_best >= es.patience:
                    self.status, self.stop_reason = FINISHED, "early_stopping"

    def _node_norms(self) -> dict[str, float]:
        with torch.no_grad():
            return {nid: math.sqrt(sum(float(p.double().pow(2).sum()) for p in m.parameters()))
                    for nid, m in self.model.layers.items() if any(True for _ in m.parameters())}

    def _nonfinite(self, xb: torch.Tensor, value: float) -> None:
        """Pause, and name the node that blew up: the first (in graph order) whose
        weights or output are not finite, else the one whose weights grew most."""
        # ``what`` is a sentence template and ``what_args`` its values, so a page can say
        # it in its reader's language (engine.health.nonfinite_words).
        node, what, args = "loss", "the loss is {loss}", {"loss": f"{value:.4g}"}
        if math.isfinite(value):
            growth = {n: v / max(self._start_norms.get(n, 1.0), 1e-12)
                      for n, v in self._node_norms().items()}
            if growth:
                node = max(growth, key=growth.get)
                what = ("the loss rose to {loss} (over {factor} times its start); the weights "
                        "of {node} grew {growth}-fold")
                args = {"loss": f"{value:.4g}", "factor": f"{DIVERGE_FACTOR:.0f}",
                        "node": node, "growth": f"{growth[node]:.3g}"}
        with torch.no_grad():
            outs = self.model.sources(xb)
            for info in self.plan.nodes:
                module = self.model.layers[info.id]
                if any(not torch.isfinite(p).all() for p in module.parameters()):
                    node, what, args = info.id, "its weights are not finite", {}
                    break
                outs[info.id] = module(*[outs[s] for s in info.inputs])
                if not torch.isfinite(outs[info.id]).all():
                    node, what, args = info.id, "its output is not finite (overflow)", {}
                    break
        self.nonfinite = {"step": self.step, "node": node, "what": what, "what_args": args,
                          "loss": value}
        self.status, self.stop_reason = PAUSED, "nonfinite"
        self._paused, self._budget = True, 0
        self._publish()

    def _publish(self) -> None:
        with self._pub_lock:  # the training thread and a command may publish at once
            self._publish_now()

    def _publish_now(self) -> None:
        if self._cpu_mark is not None and threading.current_thread() is self._loop_thread():
            start, base = self._cpu_mark
            self.cpu_seconds = base + time.thread_time() - start
        if self.status != self._logged_status:
            self._logged_status = self.status
            log.info("trainer %x %s at step %d, t=%.6f, cpu=%.3f", id(self), self.status,
                     self.step, time.time(), self.cpu_seconds)
        now = self._published_at = time.perf_counter()
        last_step, last_t, rate = self._rate
        # Measured over a window of a few publications: a command publishing a moment after
        # the loop did would otherwise turn one step into thousands per second.
        if now - last_t >= RATE_WINDOW:
            if self.step > last_step:
                rate = (self.step - last_step) / (now - last_t)
            self._rate = (self.step, now, rate)
        evals = self.eval_history.arrays()
        final = {k: float(v[-1]) for k, v in evals.items() if len(v)}
        self._snapshot = Snapshot(
            status=self.status, step=self.step, epoch=self.epoch, epochs=self.epochs,
            steps_per_epoch=self.steps_per_epoch, lr=self.lr, steps_per_sec=rate,
            elapsed=self._elapsed, steps=self.step_history.arrays(), evals=evals,
            probes={p.name: p.result() for p in self.probes}, version=next(_VERSIONS),
            stop_reason=self.stop_reason, error=self.error, nonfinite=self.nonfinite,
            seed=self.seed, final=final, cpu_seconds=self.cpu_seconds, speed=self.speed)

    def _republish(self) -> None:
        """Publish a changed setting at once. It copies the last snapshot rather than reading
        the histories, which the training thread may be writing at this moment."""
        with self._pub_lock:
            if self._snapshot is not None:
                self._snapshot = dataclasses.replace(
                    self._snapshot, epochs=self.epochs, lr=self.lr, speed=self.speed,
                    version=next(_VERSIONS))


def _cause(error: BaseException, limit: int = 200) -> str:
    """An exception as one short line: its message's first line (a traceback or a tensor
    dump stays in the log), else its type's name."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    what = lines[0] if lines else type(error).__name__
    return what if len(what) <= limit else what[:limit - 1].rstrip() + "\u2026"
