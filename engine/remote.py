"""A session's trainer as a Ray actor, behind the interface of ``engine.trainer.Trainer``.

``RemoteTrainer`` keeps the cheap parts here (the experiment, its data, plan and task) and
sends the training to a ``TrainerActor`` on the cluster named by ``NP_RAY_ADDRESS``; the
actor owns a real ``Trainer``. Snapshots come back only when their version changed and
never carry the model's weights: ``model`` and ``initial_model()`` fetch a state dict on
demand (once per snapshot version) into a model built here.

The actor is created on the first command that needs it (Train, Step, a focus to show), so
a page opened and never trained costs the cluster nothing, and it is killed by stop, reset
and restart, so a stopped run or a closed session holds no cluster resources. While Ray
cannot place it (no free CPU or GPU), commands wait here in order and the status reads
"queued". Ray is imported only here, and only once a command needs the cluster.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import logging
import math
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import torch

from engine.budget import eval_rows
from engine.cost import step_flops
from engine.graph import GraphModel
from engine.i18n import t
from engine.init import init_model
from engine.probes import PROBES, probe_specs
from engine.spec import Experiment
from engine.tasks import TASKS
from engine.trainer import (
    _VERSIONS,
    FAILED,
    QUEUED,
    READY,
    STOPPED,
    Snapshot,
    Trainer,
)
from engine.validate import check, load_experiment

log = logging.getLogger(__name__)
ADDRESS_ENV = "NP_RAY_ADDRESS"
CPUS_ENV, GPUS_ENV = "NP_RAY_CPUS", "NP_RAY_GPUS"
# Runs whose training step costs at least this many operations ask for NP_RAY_GPUS GPUs;
# lighter ones (a toy net gains nothing from a GPU) take only CPUs. 0: every run.
GPU_FLOPS_ENV = "NP_RAY_GPU_MIN_FLOPS"
SHIP_ENV = "NP_RAY_SHIP_CODE"  # "1": send the project to the workers with the job
NAMESPACE = "neural-playground"
ROOT = Path(__file__).resolve().parent.parent
CACHE_S = 0.1  # a page asks for the snapshot many times per run: one fetch serves them all
WAIT_QUEUED = 0.02  # seconds a snapshot waits for an actor not yet placed: the page goes on
WAIT_LIVE = 0.5  # ... for a live actor's answer before showing the one it has
CALL_TIMEOUT = 60.0  # a command's answer (stop joins the training thread, up to 10 s)
CONNECT_TIMEOUT = 3.0  # seconds to reach the cluster's port before saying it is down
ACTOR_CONCURRENCY = 4  # polls and waits are answered while a command (stop) is in progress
# What the project's workers need not receive when the code is shipped with the job.
SHIP_EXCLUDES = ["cache/", "artifacts/", ".git/", "**/__pycache__/", "tests/", "docs/"]


class TrainerActor:
    """Runs on a Ray worker: one session's ``Trainer`` and the few calls the proxy makes."""

    def __init__(self, spec: dict[str, Any], needs: tuple[str, ...], seed: int,
                 settings: dict[str, Any], cpus: float, gpus: float) -> None:
        # The actor's own cores, not the node's: torch would otherwise take them all.
        os.environ["NP_CORES"] = str(max(1, int(cpus)))
        if not gpus and spec["train"].get("device", "auto") == "auto":
            # Ray reserved no GPU for this run: a GPU on the node belongs to other actors.
            spec = {**spec, "train": {**spec["train"], "device": "cpu"}}
        self.trainer = Trainer(spec, needs=needs)  # no RunSlots: Ray's queue is the limit
        if seed != self.trainer.seed:
            self.trainer.reset(seed)
        self.trainer.set_lr(settings["lr"])
        self.trainer.set_epochs(settings["epochs"])
        self.trainer.set_speed(settings["speed"])
        if settings.get("focus"):
            self.trainer.set_focus(**settings["focus"])

    def poll(self, version: int) -> tuple[bool, Snapshot | None]:
        """Whether the training thread lives, and the snapshot if it is not ``version``."""
        s = self.trainer.snapshot()
        return self.trainer.alive, (None if s.version == version else s)

    def call(self, name: str, *args: Any, **kwargs: Any) -> None:
        getattr(self.trainer, name)(*args, **kwargs)

    def wait(self, timeout: float) -> bool:
        return self.trainer.wait(timeout)

    def weights(self) -> tuple[int, dict[str, torch.Tensor]]:
        """The snapshot version and the model's weights now, on the CPU."""
        version = self.trainer.snapshot().version
        state = {k: v.detach().cpu().clone() for k, v in self.trainer.model.state_dict().items()}
        return version, state

    def final(self) -> tuple[Snapshot, dict[str, torch.Tensor]]:
        """The ended run's last snapshot and weights (taken before the actor is killed)."""
        return self.trainer.snapshot(), self.weights()[1]


class RemoteTrainer:
    """``Trainer``'s interface for the pages; the training runs in a Ray actor."""

    def __init__(self, experiment: Experiment | dict[str, Any] | str | Path,
                 needs: tuple[str, ...] | list[str] = (), address: str | None = None) -> None:
        self.address = address or os.environ.get(ADDRESS_ENV, "")
        self.exp = load_experiment(experiment)
        self.needs = tuple(needs)
        self._probe_specs = probe_specs(self.exp.probes, self.needs)  # unknown: ValueError now
        self.data, self.plan = check(self.exp)
        self.device = torch.device("cpu")  # where this side's models and tensors live
        self.task = TASKS.get(self.exp.train.task or self.data.kind).make(self.exp.train,
                                                                          self.data)
        self.task.chunk = eval_rows(self.plan)
        self.x_train, self.y_train = self.data.x_train, self.data.y_train
        self.x_test, self.y_test = self.data.x_test, self.data.y_test
        self.steps_per_epoch = math.ceil(len(self.x_train) / self.exp.train.batch_size)
        self.seed = self.exp.train.seed
        self.lr = self.exp.train.optimizer.lr
        self.epochs: int | None = self.exp.train.epochs
        self.speed: float | None = None
        self.focus: dict[str, Any] = {"index": 0, "image": None, "target": None, "unit": None,
                                      "temperature": None, "top_k": None}
        self.test_outputs = None  # the actor's; the pages read predictions from the probes
        self._cmd = threading.RLock()  # Trainer.set_focus takes it; so does every command here
        self._focus_dirty = False
        self._actor: Any = None
        self._answered = False  # the actor has been placed and has answered once
        self._waiting: list[tuple[str, tuple, dict]] = []  # commands for an unplaced actor
        self._pending: tuple[Any, float] | None = None  # the poll in flight, and when sent
        self._changed_at = 0.0  # when the last command was answered
        self._remote_version = -1
        self._alive = False
        self._snap_at = 0.0
        self._weights: tuple[int, GraphModel] | None = None  # (remote version, model)
        self._pristine: tuple[int, GraphModel, Any] | None = None  # (seed, model, report)
        self._focus_probes: list[Any] | None = None  # recording here while there is no actor
        self._snap = self._fresh()

    # what the pages read ----------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        with self._cmd:
            if self._actor is not None and time.monotonic() - self._snap_at >= CACHE_S:
                self._refresh(WAIT_LIVE if self._answered else WAIT_QUEUED)
            return self._snap

    @property
    def status(self) -> str:
        return self.snapshot().status

    @property
    def step(self) -> int:
        return self.snapshot().step

    @property
    def epoch(self) -> int:
        return self.snapshot().epoch

    @property
    def alive(self) -> bool:
        self.snapshot()
        return self._alive or any(name in _RUNS for name, _, _ in self._waiting)

    @property
    def model(self) -> GraphModel:
        """The model with the run's weights now: fetched once per snapshot version."""
        with self._cmd:
            self.snapshot()
            if self._actor is None or not self._answered:
                if self._weights is not None and self._snap.status != READY:
                    return self._weights[1]  # the ended run's, kept when its actor went
                return self._initial()[1]
            if self._weights is not None and self._weights[0] == self._remote_version:
                return self._weights[1]
            try:
                version, state = self._get(self._actor.weights.remote())
            except _Lost:
                return self._initial()[1] if self._weights is None else self._weights[1]
            model = copy.deepcopy(self._initial()[1])
            model.load_state_dict(state)
            self._weights = (version, model)
            return model

    def initial_model(self) -> GraphModel:
        """A copy of the model with this run's initial weights, in eval mode. Built here:
        the same seed gives the same weights as the actor's."""
        return copy.deepcopy(self._initial()[1]).train(False)

    @property
    def init_report(self) -> Any:  # noqa: ANN401  # engine.pretrained.InitReport or None
        return self._initial()[2]

    def focus_input(self) -> tuple[torch.Tensor, int | None]:
        """The focus image as model input [1, C, H, W], and its label (None for a drawn or
        uploaded image)."""
        model = self.model
        if self.focus["image"] is not None:
            return model.prepare(torch.from_numpy(self.focus["image"]).unsqueeze(0)), None
        i = self.focus["index"]
        return model.prepare(self.x_test[i:i + 1]), int(self.y_test[i])

    # commands -----------------------------------------------------------------------------
    def run(self, epochs: int | None = None) -> Snapshot:
        """Train until ``epochs`` (default: the spec's) are done, and return the snapshot;
        the caller waits, as with ``Trainer.run``."""
        if self.alive:
            raise RuntimeError("the trainer is already running in the background; stop it first")
        if epochs is not None:
            s = self.snapshot()
            self.set_epochs(s.epoch + epochs if s.step and s.status != STOPPED else epochs)
        if self.epochs is None:
            raise ValueError("this experiment has no epoch budget, so the run would never "
                             "end; pass epochs")
        self.start()
        while not self.wait(60.0):
            pass
        return self.snapshot()

    def start(self) -> None:
        self._send("start")

    def resume(self) -> None:
        self.start()

    def pause(self) -> None:
        if self._actor is not None:
            self._send("pause")

    def step_n(self, n: int = 1) -> None:
        self._send("step_n", n)

    def step_epoch(self) -> None:
        self._send("step_epoch")

    def stop(self, timeout: float = 10.0) -> None:
        """End the run and free its place on the cluster: the last snapshot and weights are
        kept here, and the next start begins a new run from the initial weights."""
        with self._cmd:
            if self._actor is None:
                return
            if not self._answered:  # never placed: nothing ran
                self._end(dataclasses.replace(self._fresh(), status=STOPPED,
                                              stop_reason="stopped"), None)
                return
            try:
                self._get(self._actor.call.remote("stop", timeout))
                snap, state = self._get(self._actor.final.remote())
            except _Lost:
                return
            model = copy.deepcopy(self._initial()[1])
            model.load_state_dict(state)
            self._end(dataclasses.replace(snap, version=next(_VERSIONS)), model)

    def close(self) -> None:
        self.stop()

    def reset(self, seed: int | None = None) -> None:
        """Back to step 0 with the same initial weights (or those of ``seed``)."""
        with self._cmd:
            self._end(None, None)
            self.seed = self.exp.train.seed if seed is None else seed
            self._snap = self._fresh()

    def restart(self) -> None:
        """Back to this run's initial weights, keeping the live settings, and train."""
        with self._cmd:
            self._end(None, None)
            self._snap = self._fresh()
            self.start()

    def set_lr(self, lr: float) -> None:
        Trainer.set_lr(self, lr)  # the same checks; it calls our _republish
        self._tell("set_lr", self.lr)

    def set_epochs(self, epochs: int | None) -> None:
        Trainer.set_epochs(self, epochs)
        self._tell("set_epochs", self.epochs)

    def set_speed(self, steps_per_sec: float | None) -> None:
        Trainer.set_speed(self, steps_per_sec)
        self._tell("set_speed", self.speed)

    def set_focus(self, **changes: Any) -> None:
        """As ``Trainer.set_focus``. With no actor (nothing trained yet, or the run ended)
        the focus probes record here, on the model a view would fetch anyway, as an idle
        Trainer's do: browsing the Vision page costs the cluster nothing."""
        with self._cmd:
            Trainer.set_focus(self, **changes)  # checks and keeps it; calls _emit when idle
            if self._actor is not None:
                self._send("set_focus", **self.focus)

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until the run is idle (paused or ended), as ``Trainer.wait``."""
        end = time.monotonic() + timeout
        while self._actor is not None and not self._answered and time.monotonic() < end:
            with self._cmd:
                self._refresh(0.1)
        with self._cmd:
            actor = self._actor
        if actor is None:
            return True
        if not self._answered:
            return False
        left = max(end - time.monotonic(), 0.0)
        try:
            idle = bool(self._get(actor.wait.remote(left), timeout=left + CALL_TIMEOUT))
        except _Lost:
            return True
        with self._cmd:
            self._changed_at = time.monotonic()
            if self._actor is not None:
                # The caller waited for the idle run: it must see it, however busy Ray is.
                self._refresh(CALL_TIMEOUT)
        return idle

    # Trainer's checks call these on us ----------------------------------------------------
    def _republish(self) -> None:
        self._snap = dataclasses.replace(self._snap, epochs=self.epochs, lr=self.lr,
                                         speed=self.speed, version=next(_VERSIONS))

    def _emit(self, event: str) -> None:
        """Only "focus" comes here. With an actor, its own probes record it."""
        if self._actor is not None:
            return
        if self._focus_probes is None:
            self._focus_probes = [PROBES.get(p.name)(every=p.every, **p.params)
                                  for p in self._probe_specs if PROBES.get(p.name).handles(event)]
        for probe in self._focus_probes:
            probe.on_focus(self)

    def _publish(self) -> None:
        """What the focus probes recorded here, into the snapshot."""
        if self._actor is None and self._focus_probes:
            probes = self._snap.probes | {p.name: p.result() for p in self._focus_probes}
            self._snap = dataclasses.replace(self._snap, probes=probes,
                                             version=next(_VERSIONS))

    # the actor ----------------------------------------------------------------------------
    def _send(self, name: str, *args: Any, **kwargs: Any) -> None:
        """A command in order: to the actor (created if need be), or kept until it is
        placed when Ray is still looking for room."""
        with self._cmd:
            if self._actor is None and not self._create():
                return
            if not self._answered:
                self._refresh(WAIT_QUEUED)
            if not self._answered:
                self._waiting.append((name, args, kwargs))
                if name in _RUNS and self._snap.status != QUEUED:
                    self._snap = dataclasses.replace(self._snap, status=QUEUED,
                                                     version=next(_VERSIONS))
                return
            try:
                self._get(self._actor.call.remote(name, *args, **kwargs))
            except _Lost:
                return
            self._changed_at = time.monotonic()
            self._refresh(WAIT_LIVE)

    def _tell(self, name: str, *args: Any) -> None:
        """A live setting: to the actor if there is one; a new actor is given it at birth."""
        if self._actor is not None:
            self._send(name, *args)

    def _create(self) -> bool:
        ray = _connect(self.address)
        if ray is None:
            self._fail(t("The Ray cluster at {address} (NP_RAY_ADDRESS) cannot be reached or "
                         "refused this server: start it, give this server its token "
                         "(RAY_AUTH_MODE and RAY_AUTH_TOKEN), or unset NP_RAY_ADDRESS to train "
                         "in the app's own process.", address=self.address))
            return False
        cpus, gpus = _resources()
        if self.exp.train.device == "cpu" or step_flops(
                self.plan, self.exp.train.batch_size) < _number(GPU_FLOPS_ENV, 0.0):
            gpus = 0.0
        settings = {"lr": self.lr, "epochs": self.epochs, "speed": self.speed,
                    "focus": self.focus if self.focus != _NO_FOCUS else None}
        self._actor = _actor_class(ray).options(
            num_cpus=cpus, num_gpus=gpus, max_concurrency=ACTOR_CONCURRENCY,
            namespace=NAMESPACE).remote(self.exp.to_dict(), self.needs, self.seed, settings,
                                        cpus, gpus)
        self._answered, self._pending, self._remote_version = False, None, -1
        self._waiting = []
        return True

    def _refresh(self, wait: float) -> None:
        """Take the actor's newest snapshot if it answers within ``wait`` seconds. A poll
        sent before the last command answers for the time before it: it is taken (it is
        newer than what we have) and another is sent, so a page never sees a paused run
        as running after Pause returned."""
        ray = _ray()
        end = time.monotonic() + wait
        while True:
            if self._pending is None:
                self._pending = (self._actor.poll.remote(self._remote_version),
                                 time.monotonic())
            ref, sent = self._pending
            ready, _ = ray.wait([ref], timeout=max(end - time.monotonic(), 0.0))
            self._snap_at = time.monotonic()
            if not ready:
                return
            self._pending = None
            try:
                alive, snap = self._get(ref)
            except _Lost:
                return
            self._alive = alive
            if snap is not None:
                self._remote_version = snap.version
                # Each actor counts versions from 1: ours never repeat, as pages' caches assume.
                self._snap = dataclasses.replace(snap, version=next(_VERSIONS))
            if not self._answered:
                self._answered = True
                waiting, self._waiting = self._waiting, []
                for name, args, kwargs in waiting:
                    try:
                        self._get(self._actor.call.remote(name, *args, **kwargs))
                    except _Lost:
                        return
                if waiting:
                    self._changed_at = time.monotonic()
            if sent >= self._changed_at or time.monotonic() >= end:
                return

    def _get(self, ref: Any, timeout: float = CALL_TIMEOUT) -> Any:  # noqa: ANN401
        """The answer to a call; the actor's own errors (a bad value) are raised as they
        were, a lost actor or cluster ends the run as failed."""
        ray = _ray()
        try:
            return ray.get(ref, timeout=timeout)
        except ray.exceptions.RayTaskError as e:
            raise (e.cause if isinstance(e.cause, Exception) else e) from None
        except (ray.exceptions.RayError, ConnectionError, OSError) as e:
            log.warning("Ray actor lost (NP_RAY_ADDRESS=%s): %s", self.address, e)
            self._fail(t("The run on the Ray cluster at {address} (NP_RAY_ADDRESS) was lost: "
                         "press Train to start again, and if it fails again check the "
                         "cluster or unset NP_RAY_ADDRESS.", address=self.address))
            raise _Lost from None

    def _fail(self, why: str) -> None:
        self._end(dataclasses.replace(self._snap, status=FAILED, stop_reason="error",
                                      error=why, version=next(_VERSIONS)), None)

    def _end(self, snap: Snapshot | None, model: GraphModel | None) -> None:
        """Kill the actor (if any) and keep ``snap`` and ``model`` as the run's last."""
        actor, self._actor = self._actor, None
        if actor is not None:
            with contextlib.suppress(Exception):  # already gone with its cluster
                _ray().kill(actor)
        self._answered, self._pending, self._alive, self._waiting = False, None, False, []
        self._weights = None if model is None else (-1, model)
        self._focus_probes = None
        if snap is not None:
            self._snap = snap

    # built here ---------------------------------------------------------------------------
    def _fresh(self) -> Snapshot:
        """What a new Trainer publishes before its first step: nothing measured yet."""
        probes = {p.name: PROBES.get(p.name)(every=p.every, **p.params).result()
                  for p in self._probe_specs}
        return Snapshot(status=READY, step=0, epoch=0, epochs=self.epochs,
                        steps_per_epoch=self.steps_per_epoch, lr=self.lr, steps_per_sec=0.0,
                        elapsed=0.0, steps={}, evals={}, probes=probes,
                        version=next(_VERSIONS), seed=self.seed, speed=self.speed)

    def _initial(self) -> tuple[int, GraphModel, Any]:
        """The model with the initial weights of ``seed``, built as Trainer builds it."""
        if self._pristine is None or self._pristine[0] != self.seed:
            with torch.random.fork_rng(devices=[]):  # the app's own random state is kept
                torch.manual_seed(self.seed)
                model = GraphModel(self.plan, image=self.data.image)
                init_model(model.layers, self.exp.model)
                report = None
                if self.exp.train.init_from is not None:
                    from engine.pretrained import start_from

                    report = start_from(model.layers, self.exp.train.init_from)
            self._pristine = (self.seed, model.train(), report)
        return self._pristine


_RUNS = frozenset({"start", "step_n", "step_epoch"})
_NO_FOCUS = {"index": 0, "image": None, "target": None, "unit": None, "temperature": None,
             "top_k": None}


class _Lost(Exception):
    """The actor or the cluster went away; the snapshot says so already."""


_lock = threading.Lock()
_state: dict[str, Any] = {}


def _ray() -> Any:  # noqa: ANN401
    import ray

    return ray


def _number(name: str, default: float) -> float:
    try:
        return max(float(os.environ.get(name, default)), 0.0)
    except ValueError:
        log.warning("%s=%r is not a number; using %g", name, os.environ.get(name), default)
        return default


def _resources() -> tuple[float, float]:
    """CPUs and GPUs per actor: NP_RAY_CPUS (default 1) and NP_RAY_GPUS (default 0)."""
    return _number(CPUS_ENV, 1.0) or 1.0, _number(GPUS_ENV, 0.0)


def reachable(address: str) -> bool:
    """Whether the cluster's port answers: Ray's own connect retries for minutes."""
    if address in ("", "auto", "local"):
        return True
    parts = urlsplit(address if "://" in address else f"ray://{address}")
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379),
                                      timeout=CONNECT_TIMEOUT):
            return True
    except OSError:
        return False


def _connect(address: str) -> Any:  # noqa: ANN401
    """Ray, connected to ``address`` once per process; None when it cannot be reached."""
    with _lock:
        ray = _ray()
        if ray.is_initialized():
            return ray
        if not reachable(address):
            log.warning("Ray cluster at %s (NP_RAY_ADDRESS): no answer on its port", address)
            return None
        runtime_env = None
        if os.environ.get(SHIP_ENV) == "1":
            runtime_env = {"working_dir": str(ROOT), "excludes": SHIP_EXCLUDES}
        try:
            ray.init(address=address or "auto", namespace=NAMESPACE, log_to_driver=False,
                     runtime_env=runtime_env, ignore_reinit_error=True)
        except (ConnectionError, RuntimeError, ValueError, OSError) as e:
            log.warning("Ray cluster at %s (NP_RAY_ADDRESS): %s", address, e)
            return None
        return ray


def _actor_class(ray: Any) -> Any:  # noqa: ANN401
    if "actor" not in _state:
        _state["actor"] = ray.remote(TrainerActor)
    return _state["actor"]
