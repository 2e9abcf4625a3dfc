"""Trainers on a Ray cluster (NP_RAY_ADDRESS): a real local Ray instance, started once for
this module, runs each RemoteTrainer's actor; the same commands on an in-process Trainer
give the same statuses, steps and accuracy."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
import torch

from engine.remote import NAMESPACE, RemoteTrainer, reachable
from engine.trainer import Trainer
from engine.trainers import ADDRESS_ENV, make_trainer
from tests.conftest import build_spec

# One Ray instance for the module: with `--dist loadgroup` its tests share one xdist worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ray")]
NEEDS = ("boundary", "gradient_flow", "activations", "evaluation")


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A local Ray instance with two CPUs: room for two actors of one CPU each."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, namespace=NAMESPACE)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


def until(pred: Callable[[], bool], timeout: float = 60.0) -> bool:
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def spec(**train: Any) -> dict:  # noqa: ANN401
    return build_spec(data_params={"n_samples": 200}, probes=[], batch_size=8,
                      optimizer={"name": "adam", "lr": 0.05}, **train)


def test_the_option_picks_the_trainer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ADDRESS_ENV, raising=False)
    assert type(make_trainer(spec())) is Trainer
    monkeypatch.setenv(ADDRESS_ENV, "127.0.0.1:1")
    remote = make_trainer(spec(), needs=NEEDS)  # nothing reaches the cluster before Train
    assert isinstance(remote, RemoteTrainer) and remote.snapshot().status == "ready"
    assert remote.plan is not None and len(remote.x_test) > 0 and remote.model is not None


def test_a_remote_run_matches_in_process_and_ships_no_weights(cluster: str) -> None:
    import ray

    nodes = [{"id": "h1", "type": "linear", "params": {"units": 160, "activation": "tanh"}},
             {"id": "h2", "type": "linear", "params": {"units": 160, "activation": "tanh"}},
             {"id": "out", "type": "linear", "params": {"units": 2}}]
    exp = build_spec(nodes, data_params={"n_samples": 200}, batch_size=8, epochs=4,
                     optimizer={"name": "adam", "lr": 0.01})
    local = Trainer(exp, needs=NEEDS)
    want = local.run()
    remote = RemoteTrainer(exp, needs=NEEDS, address=cluster)
    remote.start()
    assert remote.wait(90), "the remote run did not end"
    got = remote.snapshot()
    assert got.status == want.status == "finished" and got.step == want.step
    assert want.final["test_accuracy"] > 0.8
    assert got.final["test_accuracy"] == pytest.approx(want.final["test_accuracy"], abs=0.02)

    # Compact: plain data, no weight matrix (this net is too large to be drawn with its
    # edges, so none is needed); pictures of each neuron's map are fine.
    shapes = {tuple(p.shape) for p in local.model.parameters() if p.dim() > 1}
    walk(got, lambda a: tuple(a.shape) not in shapes)
    # Unchanged version: the actor sends nothing, and the page's snapshot is the same object.
    assert ray.get(remote._actor.poll.remote(remote._remote_version)) == (False, None)
    time.sleep(0.15)
    assert remote.snapshot() is got

    # The weights come only when a view asks, once per version, and are the run's own.
    model = remote.model
    assert remote.model is model
    for (name, a), b in zip(model.state_dict().items(), local.model.state_dict().values(),
                            strict=True):
        assert torch.allclose(a, b, atol=1e-5), name
    old = remote._actor
    remote.stop()  # frees its place on the cluster: no actor is left behind
    with pytest.raises(ray.exceptions.RayActorError):
        ray.get(old.poll.remote(0), timeout=30)
    assert remote.snapshot().status == "finished" and remote.model.state_dict().keys()


def walk(value: Any, ok: Callable[[np.ndarray], bool], where: str = "snapshot") -> None:  # noqa: ANN401
    if isinstance(value, torch.Tensor):
        pytest.fail(f"{where} holds a tensor")
    if isinstance(value, np.ndarray):
        assert ok(value), f"{where} holds an array of {value.shape}: the weights?"
    elif isinstance(value, dict):
        for k, v in value.items():
            walk(v, ok, f"{where}[{k!r}]")
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            walk(v, ok, f"{where}[{i}]")
    elif hasattr(value, "__dataclass_fields__"):
        for k in value.__dataclass_fields__:
            walk(getattr(value, k), ok, f"{where}.{k}")


def drive(tr: Any) -> list[tuple[str, int | None]]:  # noqa: ANN401
    """The same commands, and what the snapshot says after each (None: a step count that
    depends on timing)."""
    seen = [(tr.snapshot().status, tr.snapshot().step)]

    def look(exact: bool = True) -> None:
        s = tr.snapshot()
        seen.append((s.status, s.step if exact else None))

    tr.step_n(3)
    assert tr.wait(60)
    look()
    tr.step_epoch()
    assert tr.wait(60)
    look()
    tr.set_speed(100)
    tr.start()
    assert until(lambda: tr.snapshot().step > 8), tr.snapshot().status
    look(exact=False)
    tr.pause()
    assert tr.wait(30)
    held = tr.snapshot().step
    time.sleep(0.4)
    assert tr.snapshot().step == held, "steps went on after Pause"
    look(exact=False)
    tr.start()
    assert until(lambda: tr.snapshot().step > held)
    tr.stop()
    stopped = tr.snapshot().step
    time.sleep(0.4)
    assert tr.snapshot().step == stopped and not tr.alive
    look(exact=False)
    tr.step_n(2)  # after Stop: a new run from the initial weights
    assert tr.wait(60)
    look()
    seen.append(("losses", tuple(np.round(tr.snapshot().steps["loss"], 5))))
    tr.reset()
    look()
    return seen


def test_commands_do_what_they_do_in_process(cluster: str) -> None:
    exp = spec(epochs=None)
    remote = RemoteTrainer(exp, needs=NEEDS, address=cluster)
    try:
        got = drive(remote)
    finally:
        remote.stop()
    want = drive(Trainer(exp, needs=NEEDS))
    assert got == want
    assert want[:3] == [("ready", 0), ("paused", 3), ("paused", 13)]


def test_a_full_cluster_queues_the_run_until_a_place_frees(cluster: str) -> None:
    exp = spec(epochs=None)
    busy = [RemoteTrainer(exp, address=cluster) for _ in range(2)]
    late = RemoteTrainer(exp, address=cluster)
    try:
        for tr in busy:
            tr.set_speed(50)
            tr.start()
        assert until(lambda: all(tr.snapshot().status == "running" for tr in busy))
        late.start()  # two CPUs, both taken: Ray holds the actor in its queue
        time.sleep(1.0)
        s = late.snapshot()
        assert s.status == "queued" and s.step == 0 and late.alive
        busy[0].stop()
        assert until(lambda: late.snapshot().status == "running"), late.snapshot().status
        assert until(lambda: late.snapshot().step > 0)
    finally:
        for tr in [*busy, late]:
            tr.stop()


def test_a_lost_actor_or_cluster_says_so_in_one_sentence(
        cluster: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import ray

    tr = RemoteTrainer(spec(epochs=None), address=cluster)
    tr.step_n(1)
    assert tr.wait(60)
    ray.kill(tr._actor)
    assert until(lambda: tr.snapshot().status == "failed", 30)
    s = tr.snapshot()
    assert "NP_RAY_ADDRESS" in s.error and "\n" not in s.error and "Traceback" not in s.error
    tr.stop()  # nothing left to stop; no error

    # A cluster that cannot be reached: found in seconds, said the same way.
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    assert not reachable("127.0.0.1:1")
    down = RemoteTrainer(spec(), address="127.0.0.1:1")
    down.start()
    s = down.snapshot()
    assert s.status == "failed" and "127.0.0.1:1" in s.error and "NP_RAY_ADDRESS" in s.error


def test_a_comparison_trains_its_runs_on_the_cluster(cluster: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.validate import load_experiment
    from ui.comparison import Comparison

    monkeypatch.setenv(ADDRESS_ENV, cluster)
    comp = Comparison()
    exp = load_experiment(spec(epochs=3))
    assert comp.add("adam", exp) == []
    assert comp.add("sgd", exp.replace(train={**exp.to_dict()["train"],
                                              "optimizer": {"name": "sgd", "lr": 0.1}})) == []
    assert all(isinstance(r.trainer, RemoteTrainer) for r in comp.runs)
    try:
        for run in comp.runs:
            run.trainer.start()
        assert until(lambda: all(r.snapshot().status == "finished" for r in comp.runs)), [
            r.snapshot().status for r in comp.runs]
        assert all(r.snapshot().step > 0 for r in comp.runs)
    finally:
        for run in comp.runs:
            run.trainer.stop()
