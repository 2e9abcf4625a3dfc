"""The trainer: accuracy on the presets, determinism, steering from another thread,
snapshots, divergence, failures, regularisation, clipping, schedules, optimizers, slots."""

from __future__ import annotations

import copy
import dataclasses
import math
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from engine import Trainer, load_experiment
from engine.limits import RunSlots
from engine.presets import PRESET_DIR
from engine.probes import PROBES, Probe

ROOT = Path(__file__).resolve().parent.parent
STATUSES = {"ready", "queued", "running", "paused", "finished", "stopped", "failed"}


def until(pred: Callable[[], bool], timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.005)
    return pred()


def long_spec(spec, **train: Any) -> dict:  # noqa: ANN001
    """A spiral run long enough that it never ends by itself during a test."""
    return spec(data="spiral", data_params={"n_samples": 200}, epochs=100_000, **train)


def mlp(*units: int, act: str = "tanh", classes: int = 2) -> list[dict]:
    nodes = [{"id": f"h{i + 1}", "type": "linear", "params": {"units": u, "activation": act}}
             for i, u in enumerate(units)]
    return [*nodes, {"id": "out", "type": "linear", "params": {"units": classes}}]


def weights(t: Trainer) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in t.model.state_dict().items()}


# Reaching the promised accuracy ---------------------------------------------------------------

@pytest.mark.slow
def test_spiral_preset_reaches_95_percent_in_the_background() -> None:
    # What `python -m engine run presets/spiral.json` does: start, watch, read the snapshot.
    t = Trainer(load_experiment(PRESET_DIR / "spiral.json"))
    t0 = time.monotonic()
    t.start()
    assert until(lambda: not t.alive, timeout=60)
    snap = t.snapshot()
    assert snap.status == "finished" and snap.stop_reason == "epochs", snap.error
    assert snap.final["test_accuracy"] >= 0.95, snap.final
    assert time.monotonic() - t0 < 30
    assert snap.epoch == snap.epochs and snap.progress == 1.0


@pytest.mark.slow
@pytest.mark.parametrize(("preset", "low", "high"), [
    ("xor_hidden", 0.97, 1.0),
    ("xor_perceptron", 0.0, 0.70),
    ("spiral_linear", 0.0, 0.70),
])
def test_preset_accuracy(preset: str, low: float, high: float) -> None:
    snap = Trainer(load_experiment(PRESET_DIR / f"{preset}.json")).run()
    assert snap.status == "finished", snap.error
    assert low <= snap.final["test_accuracy"] < high or snap.final["test_accuracy"] == high


# Determinism ------------------------------------------------------------------------------------

def test_same_spec_and_seed_give_the_same_loss_history(spec) -> None:
    s = spec(epochs=4, probes=[{"name": "grad_norm", "every": 1}])
    a, b = Trainer(s).run(), Trainer(s).run()
    assert len(a.steps["loss"]) == 4 * 5
    assert np.array_equal(a.steps["loss"], b.steps["loss"])
    for key in a.evals:
        assert np.array_equal(a.evals[key], b.evals[key]), key
    other = Trainer(spec(epochs=4, seed=1)).run()
    assert not np.array_equal(a.steps["loss"], other.steps["loss"])
    assert other.seed == 1 and a.seed == 0


def test_stepping_in_pieces_gives_the_same_history_as_one_run(spec) -> None:
    s = spec(epochs=6)
    whole = Trainer(s).run()
    t = Trainer(s)
    for n in (1, 3, 7, 2, 5):  # pauses across batch and epoch boundaries
        t.step_n(n)
        assert until(lambda t=t: t.snapshot().status == "paused" and t._budget == 0)
    t.start()
    assert until(lambda: not t.alive)
    piece = t.snapshot()
    assert piece.status == "finished"
    assert np.array_equal(whole.steps["loss"], piece.steps["loss"])
    assert np.array_equal(whole.evals["test_loss"], piece.evals["test_loss"])


def test_run_continues_where_it_stopped(spec) -> None:
    t = Trainer(spec(epochs=10))
    first = t.run(epochs=3)
    assert (first.epoch, first.status, first.stop_reason) == (3, "finished", "epochs")
    second = t.run(epochs=2)
    assert second.epoch == 5 and second.step == 25
    assert np.array_equal(second.steps["step"], np.arange(1, 26))


# Steering from another thread -----------------------------------------------------------------

def test_pause_holds_the_step_count(spec) -> None:
    t = Trainer(long_spec(spec))
    t.start()
    assert until(lambda: t.snapshot().step > 20)
    assert t.snapshot().status == "running" and t.alive
    t.pause()
    assert t.wait(5)
    assert until(lambda: t.snapshot().status == "paused")
    held = t.snapshot().step
    time.sleep(0.3)
    assert t.snapshot().step == held and t.step == held
    assert t.alive  # paused, not ended
    t.resume()
    assert until(lambda: t.snapshot().step > held + 10)
    t.stop()
    assert not t.alive


def test_step_n_advances_exactly_n_steps(spec) -> None:
    t = Trainer(long_spec(spec))
    t.step_n(5)
    assert until(lambda: t.snapshot().status == "paused" and t.snapshot().step == 5)
    time.sleep(0.3)
    assert t.snapshot().step == 5
    t.start()
    assert until(lambda: t.snapshot().step > 40)
    t.pause()
    assert until(lambda: t.snapshot().status == "paused")
    held = t.snapshot().step
    t.step_n(5)
    assert until(lambda: t.snapshot().step == held + 5 and t.snapshot().status == "paused")
    time.sleep(0.3)
    assert t.snapshot().step == held + 5
    t.step_epoch()
    assert until(lambda: t.snapshot().status == "paused" and t._budget == 0)
    snap = t.snapshot()
    assert snap.step % snap.steps_per_epoch == 0 and snap.step > held + 5
    t.stop()


def test_stop_ends_the_thread(spec) -> None:
    t = Trainer(long_spec(spec))
    t.start()
    assert until(lambda: t.snapshot().step > 5)
    t.stop()
    assert not t.alive
    snap = t.snapshot()
    assert (snap.status, snap.stop_reason) == ("stopped", "stopped")
    t.stop()  # twice is harmless
    t.pause()
    t.stop()


def test_reset_returns_to_step_0_with_the_same_initial_weights(spec) -> None:
    t = Trainer(long_spec(spec))
    initial = weights(t)
    t.start()
    assert until(lambda: t.snapshot().step > 30)
    t.reset()
    assert not t.alive
    snap = t.snapshot()
    assert (snap.status, snap.step, snap.epoch) == ("ready", 0, 0)
    assert all(len(v) == 0 for v in snap.steps.values())
    now = weights(t)
    assert all(torch.equal(initial[k], now[k]) for k in initial)
    t.reset(seed=5)
    assert t.snapshot().seed == 5
    assert not torch.equal(weights(t)["layers.h1.linear.weight"],
                           initial["layers.h1.linear.weight"])
    t.reset()
    assert all(torch.equal(initial[k], v) for k, v in weights(t).items())


def test_reset_then_the_same_run_again(spec) -> None:
    t = Trainer(spec(epochs=3))
    a = t.run()
    t.reset()
    b = t.run()
    assert np.array_equal(a.steps["loss"], b.steps["loss"])


def test_commands_at_arbitrary_moments_from_another_thread(spec) -> None:
    t = Trainer(long_spec(spec, batch_size=5))
    rng = random.Random(0)
    errors: list[BaseException] = []
    hooks: list[Any] = []
    old_hook = threading.excepthook
    threading.excepthook = lambda args: hooks.append(args)

    def commander() -> None:
        try:
            for _ in range(250):
                cmd = rng.choice(["start", "pause", "resume", "step_n", "stop", "reset",
                                  "step_epoch", "set_lr", "snapshot", "start", "start"])
                if cmd == "step_n":
                    t.step_n(rng.randint(0, 4))
                elif cmd == "set_lr":
                    t.set_lr(rng.choice([0.001, 0.03, 0.3]))
                elif cmd == "reset":
                    t.reset(seed=rng.choice([None, 1]))
                else:
                    getattr(t, cmd)()
                snap = t.snapshot()
                assert snap.status in STATUSES
                assert snap.error is None, snap.error
                time.sleep(rng.random() * 0.004)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    try:
        th = threading.Thread(target=commander)
        th.start()
        th.join(60)
        assert not th.is_alive()
    finally:
        threading.excepthook = old_hook
    assert not errors, errors
    assert not hooks, hooks
    # Still fully steerable afterwards.
    t.reset()
    t.step_n(7)
    assert until(lambda: t.snapshot().step == 7 and t.snapshot().status == "paused")
    t.stop()
    assert not t.alive and t.snapshot().error is None


TWO_COMMANDERS = """
import random, sys, threading, time
sys.path.insert(0, "tests")
from conftest import build_spec
from engine import Trainer

problems = []
threading.excepthook = lambda args: problems.append(f"thread died: {args.exc_value!r}")
spec = build_spec(data="spiral", data_params={"n_samples": 200}, epochs=100_000, batch_size=5)
for round_ in range(4):
    t = Trainer(spec)

    def commander(seed):
        rng = random.Random(seed)
        try:
            for _ in range(300):
                cmd = rng.choice(["start", "pause", "step_n", "stop", "reset", "step_epoch",
                                  "start"])
                t.step_n(rng.randint(0, 4)) if cmd == "step_n" else getattr(t, cmd)()
                if t.snapshot().error:
                    problems.append(f"training failed: {t.snapshot().error}")
                loops = sum(th.name == "np-trainer" and th.is_alive()
                            for th in threading.enumerate())
                if loops > 1:
                    problems.append(f"{loops} training threads at once")
                time.sleep(rng.random() * 0.003)
        except Exception as e:
            problems.append(f"{cmd}() raised {e!r}")

    threads = [threading.Thread(target=commander, args=(10 * round_ + i,)) for i in range(2)]
    [th.start() for th in threads]
    [th.join() for th in threads]
    t.stop()
print("\\n".join(sorted(set(p[:160] for p in problems))) or "OK")
"""


def test_commands_from_two_threads_at_once() -> None:
    # Two threads steering one trainer (say two reruns of a page) must not start two
    # training loops. Run in a child process: the race has crashed the interpreter.
    r = subprocess.run([sys.executable, "-c", TWO_COMMANDERS], cwd=ROOT, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, f"exit {r.returncode}: {r.stdout[-2000:]} {r.stderr[-2000:]}"
    assert r.stdout.strip() == "OK", r.stdout


def test_run_refuses_while_the_thread_runs(spec) -> None:
    t = Trainer(long_spec(spec))
    t.start()
    try:
        with pytest.raises(RuntimeError):
            t.run(epochs=1)
    finally:
        t.stop()


def test_set_epochs_while_paused_ends_the_run_there(spec) -> None:
    t = Trainer(long_spec(spec))
    t.step_n(45)
    assert until(lambda: t.snapshot().step == 45 and t.snapshot().status == "paused")
    epoch = t.snapshot().epoch
    t.set_epochs(epoch + 2)
    t.start()
    assert until(lambda: not t.alive)
    snap = t.snapshot()
    assert (snap.status, snap.epoch, snap.epochs) == ("finished", epoch + 2, epoch + 2)
    t.start()  # a finished run does not start again
    assert not t.alive and t.snapshot().step == snap.step


# Snapshots -------------------------------------------------------------------------------------

def walk_plain(x: Any, where: str = "snapshot") -> None:
    """Fail on anything but plain numbers, text, numpy arrays and containers of them."""
    assert not isinstance(x, torch.Tensor), f"{where} is a torch tensor"
    if isinstance(x, np.ndarray):
        assert x.dtype != object, f"{where} is an object array"
    elif isinstance(x, dict):
        for k, v in x.items():
            assert isinstance(k, str | int), f"{where} has key {k!r}"
            walk_plain(v, f"{where}[{k!r}]")
    elif isinstance(x, list | tuple):
        for i, v in enumerate(x):
            walk_plain(v, f"{where}[{i}]")
    else:
        assert isinstance(x, int | float | str | bool | np.generic | type(None)), (
            f"{where} is a {type(x).__name__}")


def same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(
            a, b, equal_nan=a.dtype.kind == "f")
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return a == b


def test_snapshot_is_plain_immutable_data(spec) -> None:
    probes = [{"name": name, "every": 3} for name in PROBES.names()]
    t = Trainer(long_spec(spec, probes=probes))
    t.step_n(60)
    assert until(lambda: t.snapshot().status == "paused" and t.snapshot().step == 60)
    snap = t.snapshot()
    assert set(snap.probes) == set(PROBES.names())
    for f in dataclasses.fields(snap):
        walk_plain(getattr(snap, f.name), f"snapshot.{f.name}")
    assert snap.steps["loss"].dtype == np.float64 and len(snap.steps["loss"]) == 60
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.step = 0  # type: ignore[misc]

    frozen = copy.deepcopy({f.name: getattr(snap, f.name) for f in dataclasses.fields(snap)})
    t.step_n(80)
    assert until(lambda: t.snapshot().step == 140 and t.snapshot().status == "paused")
    later = t.snapshot()
    assert later.version > snap.version
    for name, value in frozen.items():
        assert same(value, getattr(snap, name)), f"training changed the earlier {name}"
    # Scribbling on a snapshot's arrays does not reach the trainer.
    later.steps["loss"][:] = -1
    t.step_n(1)
    assert until(lambda: t.snapshot().step == 141)
    assert (t.snapshot().steps["loss"] >= 0).all()
    t.stop()


# The learning rate ----------------------------------------------------------------------------

def test_lr_changed_while_running_takes_effect_without_reset(spec) -> None:
    t = Trainer(long_spec(spec, optimizer={"name": "sgd", "lr": 0.05}))
    t.start()
    assert until(lambda: t.snapshot().step > 30)
    t.set_lr(0.002)
    changed_at = t.snapshot().step
    assert until(lambda: t.snapshot().step > changed_at + 60)
    t.pause()
    assert until(lambda: t.snapshot().status == "paused")
    snap = t.snapshot()
    lr, steps = snap.steps["lr"], snap.steps["step"]
    assert lr[0] == 0.05 and lr[-1] == 0.002 and snap.lr == 0.002
    switch = int(np.argmax(lr == 0.002))
    assert (lr[:switch] == 0.05).all() and (lr[switch:] == 0.002).all()
    # No reset: one run, its steps in order (older rows may be thinned on a fast machine).
    assert steps[0] == 1 and (np.diff(steps) > 0).all() and steps[-1] == snap.step
    assert snap.step > changed_at
    assert t.optimizer.param_groups[0]["lr"] == 0.002
    t.stop()
    with pytest.raises(ValueError, match="train.optimizer.lr"):
        t.set_lr(0)
    with pytest.raises(ValueError):
        t.set_lr(float("nan"))


def test_a_learning_rate_of_1000_pauses_and_names_step_and_node(spec) -> None:
    s = spec(mlp(32, 32), data="spiral", data_params={"n_samples": 500}, epochs=20,
             optimizer={"name": "sgd", "lr": 1000})
    snap = Trainer(s).run()
    assert (snap.status, snap.stop_reason) == ("paused", "nonfinite")
    nf = snap.nonfinite
    assert nf is not None and isinstance(nf["step"], int) and 0 <= nf["step"] < 50
    assert nf["node"] in {"h1", "h2", "out"}, nf
    assert nf["what"] and snap.step == nf["step"]
    assert snap.error is None

    t = Trainer(s)
    t.start()
    assert until(lambda: t.snapshot().status == "paused")
    snap = t.snapshot()
    assert snap.stop_reason == "nonfinite" and snap.nonfinite["node"] in {"h1", "h2", "out"}
    held = snap.step
    time.sleep(0.2)
    assert t.snapshot().step == held  # it waits for the user
    t.stop()
    assert not t.alive


# Failures ---------------------------------------------------------------------------------------

class Boom(Probe):
    name = "boom"

    def __init__(self, at: int = 3, event: str = "batch_end") -> None:
        super().__init__(every=1)
        self.at, self.event = at, event

    def on_batch_end(self, trainer: Trainer) -> None:
        if self.event == "batch_end" and trainer.step == self.at:
            raise RuntimeError(f"boom at step {trainer.step}")

    def on_run_end(self, trainer: Trainer) -> None:
        if self.event == "run_end":
            raise RuntimeError("boom at the end")


def test_an_exception_in_the_thread_is_kept_in_the_snapshot(spec) -> None:
    seen: list[Any] = []
    old_hook = threading.excepthook
    threading.excepthook = lambda args: seen.append(args)
    try:
        t = Trainer(long_spec(spec), probes=[Boom(3)])
        t.start()
        assert until(lambda: not t.alive)
    finally:
        threading.excepthook = old_hook
    snap = t.snapshot()
    assert (snap.status, snap.stop_reason) == ("failed", "error")
    assert snap.error == ("the engine stopped at step 3 (boom at step 3); change the "
                          "experiment and train again.")
    assert snap.step == 3 and not seen
    t.reset()  # the trainer is usable again
    assert t.snapshot().status == "ready" and t.snapshot().error is None


def test_an_exception_in_a_synchronous_run_is_kept_too(spec) -> None:
    snap = Trainer(spec(epochs=2), probes=[Boom(4)]).run()
    assert snap.status == "failed" and "(boom at step 4)" in snap.error
    snap = Trainer(spec(epochs=2), probes=[Boom(event="run_end")]).run()
    assert snap.status == "finished"
    assert snap.error == "a view's measurement failed at the end of the run (boom at the end)."


# Early stopping, regularisation, clipping ------------------------------------------------------

def test_early_stopping_ends_before_the_epoch_budget(spec) -> None:
    # No later epoch can beat the first by 10, so patience 2 ends the run at epoch 3.
    snap = Trainer(spec(epochs=50, early_stopping={"patience": 2, "min_delta": 10})).run()
    assert (snap.status, snap.stop_reason, snap.epoch) == ("finished", "early_stopping", 3)
    snap = Trainer(spec(epochs=50, eval_every=2,
                        early_stopping={"patience": 4, "min_delta": 10})).run()
    assert (snap.stop_reason, snap.epoch) == ("early_stopping", 6)
    assert list(snap.evals["epoch"]) == [2, 4, 6]


def test_early_stopping_waits_while_the_test_loss_improves(spec) -> None:
    snap = Trainer(spec(epochs=8, early_stopping={"patience": 3},
                        optimizer={"name": "adam", "lr": 0.01})).run()
    assert snap.stop_reason == "epochs" and snap.epoch == 8


def _flat_weights(t: Trainer) -> np.ndarray:
    return torch.cat([w.detach().flatten() for w in t.weights]).numpy()


def test_l1_and_l2_change_the_weights(spec) -> None:
    def train(l1: float, l2: float) -> Trainer:
        t = Trainer(spec(mlp(32), data_params={"n_samples": 200}, epochs=30,
                         optimizer={"name": "sgd", "lr": 0.1},
                         regularization={"l1": l1, "l2": l2}))
        t.run()
        return t

    none, l1, l2 = train(0, 0), train(0.01, 0), train(0, 0.01)
    w0, w1, w2 = _flat_weights(none), _flat_weights(l1), _flat_weights(l2)
    assert not np.allclose(w0, w1) and not np.allclose(w0, w2)
    near_zero = [float((np.abs(w) < 0.01).mean()) for w in (w0, w1, w2)]
    assert near_zero[1] > near_zero[0] + 0.15, near_zero  # L1 drives weights to zero
    assert near_zero[1] > near_zero[2], near_zero
    assert np.linalg.norm(w2) < 0.95 * np.linalg.norm(w0)  # L2 shrinks them
    # Biases are not penalised: a bias-only comparison would not show L1's zeros.
    b1 = l1.model.layers["h1"].linear.bias.detach().numpy()
    assert float((np.abs(b1) < 0.01).mean()) < near_zero[1]


def _total_grad_norms(snap) -> np.ndarray:  # noqa: ANN001
    values = snap.probes["grad_norm"]["values"]
    return np.sqrt((values ** 2).sum(axis=1))


def test_grad_clipping_bounds_the_recorded_grad_norm(spec) -> None:
    def run(clip: float | None):  # noqa: ANN202
        return Trainer(spec(mlp(16, 16), data="spiral", epochs=4, grad_clip=clip,
                            optimizer={"name": "sgd", "lr": 0.1},
                            probes=[{"name": "grad_norm", "every": 1}])).run()

    free, clipped = _total_grad_norms(run(None)), _total_grad_norms(run(0.05))
    assert len(free) == len(clipped) == 20
    assert free.max() > 0.2  # without clipping the bound would be broken
    assert clipped.max() <= 0.05 * (1 + 1e-4), clipped.max()
    assert clipped.max() > 0.049  # clipped to the bound, not to zero


# Learning-rate schedules ----------------------------------------------------------------------

def lr_curve(spec, schedule: dict, epochs: int = 20) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    # 50 training points in batches of 10: 5 steps per epoch.
    snap = Trainer(spec(epochs=epochs, optimizer={"name": "sgd", "lr": 0.1},
                        schedule=schedule)).run()
    assert snap.steps_per_epoch == 5
    return snap.steps["lr"], snap.steps["step"]


def test_constant_schedule(spec) -> None:
    lr, _ = lr_curve(spec, {"name": "constant"})
    assert (lr == 0.1).all() and len(lr) == 100


def test_step_schedule_drops_by_gamma_every_step_size_epochs(spec) -> None:
    lr, steps = lr_curve(spec, {"name": "step", "step_size": 5, "gamma": 0.5})
    epoch = (steps - 1) // 5
    np.testing.assert_allclose(lr, 0.1 * 0.5 ** (epoch // 5), rtol=1e-12)
    assert sorted(set(np.round(lr, 8)), reverse=True) == [0.1, 0.05, 0.025, 0.0125]


def test_exponential_schedule_decays_by_gamma_per_epoch(spec) -> None:
    lr, steps = lr_curve(spec, {"name": "exponential", "gamma": 0.9})
    np.testing.assert_allclose(lr, 0.1 * 0.9 ** ((steps - 1) / 5), rtol=1e-9)
    assert (np.diff(lr) < 0).all()


def test_cosine_schedule_falls_from_lr_to_zero(spec) -> None:
    lr, steps = lr_curve(spec, {"name": "cosine"})
    assert lr[0] == pytest.approx(0.1)
    assert (np.diff(lr) <= 0).all()
    assert lr[50] == pytest.approx(0.05, rel=0.01)
    assert lr[-1] < 0.001
    np.testing.assert_allclose(lr, 0.05 * (1 + np.cos(np.pi * (steps - 1) / 100)), rtol=1e-9)


def test_one_cycle_warms_up_then_anneals(spec) -> None:
    lr, _ = lr_curve(spec, {"name": "one_cycle", "warmup": 0.3})
    peak = int(np.argmax(lr))
    assert lr[0] == pytest.approx(0.1 / 25)
    assert peak in (29, 30, 31) and lr[peak] == pytest.approx(0.1, rel=0.01)
    assert (np.diff(lr[:peak + 1]) > 0).all() and (np.diff(lr[peak:]) < 0).all()
    assert lr[-1] < 0.1 * 0.01


def test_a_schedule_applies_to_a_learning_rate_changed_mid_run(spec) -> None:
    t = Trainer(spec(epochs=20, optimizer={"name": "sgd", "lr": 0.1},
                     schedule={"name": "step", "step_size": 5, "gamma": 0.5}))
    t.run(epochs=10)  # epochs 10-14 are the third level: factor 0.25
    t.set_lr(1.0)
    snap = t.run(epochs=1)
    assert snap.steps["lr"][-1] == pytest.approx(0.25)


# Optimizers ------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize(("name", "lr", "extra"), [
    ("sgd", 0.3, {}),
    ("momentum", 0.05, {}),
    ("momentum", 0.05, {"nesterov": True}),
    ("adagrad", 0.3, {}),
    ("rmsprop", 0.01, {}),
    ("adam", 0.03, {}),
    ("adamw", 0.03, {"weight_decay": 0.01}),
])
def test_every_optimizer_learns_xor(spec, name: str, lr: float, extra: dict) -> None:
    t = Trainer(spec(data_params={"n_samples": 200}, epochs=30,
                     optimizer={"name": name, "lr": lr, **extra}))
    snap = t.run()
    assert snap.final["test_accuracy"] > 0.8, (name, snap.final)
    assert type(t.optimizer).__name__.lower().replace("plain", "") in {
        "sgd", "adagrad", "rmsprop", "adam", "adamw"}


# Run slots ------------------------------------------------------------------------------------

def test_a_second_trainer_queues_until_the_first_pauses(spec) -> None:
    slots = RunSlots(1)
    first = Trainer(long_spec(spec), slots=slots)
    second = Trainer(long_spec(spec), slots=slots)
    try:
        first.start()
        assert until(lambda: first.snapshot().status == "running" and first.snapshot().step > 0)
        second.start()
        assert until(lambda: second.snapshot().status == "queued")
        time.sleep(0.3)
        assert second.snapshot().step == 0 and second.snapshot().status == "queued"
        assert slots.in_use == 1

        first.pause()
        assert until(lambda: second.snapshot().status == "running"
                     and second.snapshot().step > 0)
        assert first.snapshot().status == "paused"
        first.resume()  # now the first waits its turn
        assert until(lambda: first.snapshot().status == "queued")
        second.stop()
        assert until(lambda: first.snapshot().status == "running")
    finally:
        first.stop()
        second.stop()
    assert not first.alive and not second.alive
    assert slots.in_use == 0


# What the pages need is recorded whatever the spec lists (issue 7, defect 1) -----------------

def test_probe_specs_add_what_the_pages_need_at_the_probes_own_cadence() -> None:
    from engine.probes import probe_specs
    from engine.spec import DEFAULT_PROBES, ProbeSpec

    assert {p.name: p.every for p in DEFAULT_PROBES} == {
        p.name: PROBES.get(p.name).default_every for p in DEFAULT_PROBES}
    assert probe_specs([], ["boundary", "gradient_flow"]) == [
        ProbeSpec(name="boundary", every=10), ProbeSpec(name="gradient_flow", every=20)]
    # The spec's entry tunes the cadence and parameters; the spec's extras stay.
    tuned = ProbeSpec(name="boundary", every=3, params={"resolution": 20})
    extra = ProbeSpec(name="weight_norm", every=7)
    assert probe_specs([extra, tuned], ["boundary", "evaluation", "boundary"]) == [
        extra, tuned, ProbeSpec(name="evaluation", every=1)]
    with pytest.raises(ValueError, match="unknown probe 'boundry'; did you mean boundary"):
        probe_specs([], ["boundry"])


def test_a_trainer_records_the_probes_its_pages_need(spec) -> None:
    # The presets list no boundary probe, and the Playground's pictures come from it.
    t = Trainer(spec(data_params={"n_samples": 100}, epochs=3), needs=["boundary"])
    assert [(p.name, p.every) for p in t.probes] == [("boundary", 10)]
    snap = t.run()
    assert snap.probes["boundary"] is not None and snap.probes["boundary"]["step"] == snap.step
    tuned = spec(probes=[{"name": "boundary", "every": 4}, {"name": "weight_norm"}])
    t = Trainer(tuned, needs=["boundary", "evaluation"])
    assert [(p.name, p.every) for p in t.probes] == [
        ("boundary", 4), ("weight_norm", 10), ("evaluation", 1)]
    t.reset()  # a rebuild keeps them
    assert [p.name for p in t.probes] == ["boundary", "weight_norm", "evaluation"]
    with pytest.raises(ValueError):
        Trainer(spec(), needs=["no_such_probe"])


# Snapshot versions never repeat (defect 2) ----------------------------------------------------

def test_snapshot_versions_never_repeat_across_trainers_and_resets(spec) -> None:
    first = Trainer(spec(epochs=2))
    seen = [first.snapshot().version, first.run().version]
    first.reset()
    seen.append(first.snapshot().version)  # a reset used to start again at 1
    second = Trainer(spec(epochs=2))  # so did a new trainer for an edited experiment
    seen += [second.snapshot().version, second.run().version]
    assert len(set(seen)) == len(seen) and seen == sorted(seen), seen


# Stop ends the run; restart; no queue with a free slot (defects 4 and 8) ----------------------

def test_start_after_stop_begins_a_new_run_from_the_initial_weights(spec) -> None:
    fresh = Trainer(long_spec(spec))
    fresh.step_n(5)
    assert until(lambda: fresh.snapshot().status == "paused" and fresh.snapshot().step == 5)
    fresh.stop()

    t = Trainer(long_spec(spec))
    initial = weights(t)
    t.set_lr(0.05)
    t.step_n(20)
    assert until(lambda: t.snapshot().status == "paused" and t.snapshot().step == 20)
    t.stop()
    snap = t.snapshot()
    assert (snap.status, snap.step) == ("stopped", 20)
    t.step_n(5)  # as start() would, but stopping at a known step
    assert until(lambda: t.snapshot().status == "paused" and t.snapshot().step == 5)
    snap = t.snapshot()
    assert snap.steps["step"].tolist() == [1, 2, 3, 4, 5]  # a new history, not 21..25
    assert snap.seed == fresh.snapshot().seed and snap.lr == 0.05  # the live lr is kept
    t.stop()
    t.reset()
    assert all(torch.equal(initial[k], v) for k, v in weights(t).items())

    # start() itself: the thread starts again at step 0, not at the stopped step.
    t = Trainer(long_spec(spec))
    t.start()
    assert until(lambda: t.snapshot().step > 200)
    t.stop()
    stopped_at = t.snapshot().step
    t.start()
    assert t.snapshot().step < stopped_at and t.snapshot().status == "running"
    assert until(lambda: t.snapshot().step > 0)
    first_logged = t.snapshot().steps["step"][0]
    t.stop()
    assert first_logged == 1
    assert t.run(epochs=1).steps["step"][0] == 1  # a run in this thread starts afresh too


def test_restart_after_a_divergence_trains_from_the_start_with_the_new_lr(spec) -> None:
    t = Trainer(spec(mlp(32, 32), data="spiral", data_params={"n_samples": 500}, epochs=200,
                     optimizer={"name": "sgd", "lr": 1000}))
    initial = weights(t)
    t.start()
    assert until(lambda: t.snapshot().stop_reason == "nonfinite")
    t.set_lr(0.03)
    t.set_epochs(300)
    t.start()  # resuming keeps the blown-up weights: it diverges again at once
    assert until(lambda: t.snapshot().status == "paused")
    assert t.snapshot().stop_reason == "nonfinite"
    t.pause()
    t.restart()
    snap = t.snapshot()
    assert snap.status in ("running", "paused", "finished") and snap.nonfinite is None
    assert until(lambda: t.snapshot().step > 200)
    t.pause()
    assert until(lambda: t.snapshot().status == "paused")
    snap = t.snapshot()
    assert snap.stop_reason is None and snap.nonfinite is None, snap.nonfinite
    assert (snap.lr, snap.epochs) == (0.03, 300)
    loss = snap.steps["loss"]
    assert np.isfinite(loss).all() and loss[-20:].mean() < loss[:20].mean()
    t.stop()
    t.reset()
    assert all(torch.equal(initial[k], v) for k, v in weights(t).items())


def watch_statuses(t: Trainer) -> list[str]:
    """Every status the trainer publishes, from now on."""
    seen: list[str] = []
    publish = t._publish_now

    def recording() -> None:
        publish()
        seen.append(t._snapshot.status)

    t._publish_now = recording
    return seen


def test_starting_with_a_free_slot_never_shows_a_queue(spec) -> None:
    slots = RunSlots(1)
    t = Trainer(long_spec(spec), slots=slots)
    seen = watch_statuses(t)
    try:
        t.start()
        assert t.snapshot().status == "running"  # at once, not after the thread claims it
        assert until(lambda: t.snapshot().step > 20)
        t.stop()
        t.start()  # Stop then Train: nothing else is training
        assert until(lambda: t.snapshot().step > 20)
        t.pause()
        assert until(lambda: t.snapshot().status == "paused")
        t.start()
        assert until(lambda: t.snapshot().step > 40)
        t.restart()
        assert until(lambda: t.snapshot().step > 20)
    finally:
        t.stop()
    assert "queued" not in seen, seen
    assert slots.in_use == 0


def test_resume_with_the_slot_taken_shows_the_queue_at_once(spec) -> None:
    slots = RunSlots(1)
    first, second = Trainer(long_spec(spec), slots=slots), Trainer(long_spec(spec), slots=slots)
    try:
        first.step_n(3)
        assert until(lambda: first.snapshot().status == "paused")
        second.start()
        assert until(lambda: second.snapshot().step > 0)
        seen = watch_statuses(first)
        first.start()
        assert first.snapshot().status == "queued"
        time.sleep(0.2)
        assert first.snapshot().step == 3 and "running" not in seen, seen
    finally:
        first.stop()
        second.stop()


# Settings published at once; no epoch budget (defects 8 and 12) -------------------------------

def test_set_epochs_and_set_lr_publish_at_once(spec) -> None:
    t = Trainer(spec(epochs=150))
    before = t.snapshot()
    t.set_epochs(3000)
    snap = t.snapshot()
    assert (snap.epochs, snap.status) == (3000, "ready") and snap.version > before.version
    t.set_lr(0.5)
    assert t.snapshot().lr == 0.5 and t.snapshot().version > snap.version
    # While running too, without waiting for the next publication of the thread.
    t = Trainer(long_spec(spec))
    t.start()
    assert until(lambda: t.snapshot().step > 5)
    t.set_epochs(123_456)
    assert t.snapshot().epochs == 123_456
    t.stop()


def test_without_an_epoch_budget_it_trains_until_stopped(spec) -> None:
    t = Trainer(spec(epochs=None))  # 10 steps per epoch
    assert t.snapshot().epochs is None and t.snapshot().progress == 0.0
    t.start()
    assert until(lambda: t.snapshot().epoch > 12)
    snap = t.snapshot()
    assert snap.status == "running" and snap.progress == 0.0 and snap.epochs is None
    # A budget set live ends the run there (ahead of the live epoch: the snapshot lags).
    t.set_epochs(t.epoch + 100)
    assert until(lambda: not t.alive)
    snap = t.snapshot()
    assert (snap.status, snap.stop_reason, snap.epoch) == ("finished", "epochs", snap.epochs)
    t.set_epochs(None)
    t.start()  # and removing it trains on
    assert until(lambda: t.snapshot().epoch > snap.epoch + 2)
    t.stop()
    with pytest.raises(ValueError, match="pass epochs"):
        Trainer(spec(epochs=None)).run()
    assert Trainer(spec(epochs=None)).run(epochs=2).epoch == 2


def test_no_budget_is_refused_with_a_schedule_that_needs_the_run_length(spec) -> None:
    t = Trainer(spec(epochs=10, schedule={"name": "one_cycle"}))
    with pytest.raises(ValueError, match="train.schedule"):
        t.set_epochs(None)
    assert t.snapshot().epochs == 10
    t = Trainer(spec(epochs=None, schedule={"name": "exponential", "gamma": 0.9}))
    assert t.run(epochs=2).steps["lr"][-1] < 0.03


# Speed (defect 12) ------------------------------------------------------------------------------

def test_a_chosen_speed_is_kept_and_stop_stays_instant(spec) -> None:
    t = Trainer(long_spec(spec))
    t.set_speed(20)
    assert t.snapshot().speed == 20
    t.start()
    assert until(lambda: t.snapshot().step >= 2)
    s0, t0 = t.snapshot().step, time.perf_counter()
    time.sleep(1.5)
    rate = (t.snapshot().step - s0) / (time.perf_counter() - t0)
    assert 12 <= rate <= 24, rate
    assert 12 <= t.snapshot().steps_per_sec <= 24, t.snapshot().steps_per_sec

    t.set_speed(1)  # live
    time.sleep(0.3)
    held = t.snapshot().step
    time.sleep(1.1)
    assert t.snapshot().step - held <= 2
    t0 = time.perf_counter()
    t.pause()
    assert until(lambda: t.snapshot().status == "paused", timeout=1)
    assert time.perf_counter() - t0 < 0.2
    t.start()
    time.sleep(0.3)
    t0 = time.perf_counter()
    t.stop()
    assert time.perf_counter() - t0 < 0.2 and not t.alive
    assert t.snapshot().status == "stopped"

    t.set_speed(None)  # full speed again
    t.start()
    assert until(lambda: t.snapshot().step > 200, timeout=10)
    t.stop()
    for bad in (0, -1, float("nan"), True, "fast"):
        with pytest.raises(ValueError):
            t.set_speed(bad)


def test_the_shown_speed_is_the_real_one_while_commands_publish(spec) -> None:  # noqa: ANN001
    """Commands publish too (a new learning rate, a budget); a publication a moment after
    the loop's must not turn one step into thousands per second, or a tenth of them."""
    tr = Trainer(spec(epochs=None))
    tr.start()
    try:
        time.sleep(0.5)
        shown = []
        for i in range(40):
            tr.set_lr(0.03 + i * 1e-4)
            time.sleep(0.011)
            shown.append(tr.snapshot().steps_per_sec)
        step0, t0 = tr.snapshot().step, time.perf_counter()
        time.sleep(1.0)
        real = (tr.snapshot().step - step0) / (time.perf_counter() - t0)
    finally:
        tr.stop()
    assert real > 0
    off = [s for s in shown if not real / 3 < s < real * 3]
    assert not off, (real, off[:5])
