"""Probes: the exact event order, cadence, hook clean-up, and the shipped norm probes."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch

from engine import SpecError, Trainer, load_experiment
from engine.probes import EVENTS, PROBES, Probe


class Recorder(Probe):
    """Writes down every event it gets, with the step and epoch the trainer is at."""

    name = "recorder"

    def __init__(self, every: int = 1) -> None:
        super().__init__(every=every)
        self.log: list[tuple[str, int, int]] = []

    def _note(self, event: str, t: Trainer) -> None:
        self.log.append((event, t.step, t.epoch))

    def on_run_start(self, t: Trainer) -> None:
        self._note("run_start", t)

    def on_epoch_start(self, t: Trainer) -> None:
        self._note("epoch_start", t)

    def on_focus(self, t: Trainer) -> None:
        self._note("focus", t)

    def on_pause(self, t: Trainer) -> None:
        self._note("pause", t)

    def on_after_backward(self, t: Trainer) -> None:
        assert all(p.grad is not None for p in t.params)
        self._note("after_backward", t)

    def on_batch_end(self, t: Trainer) -> None:
        self._note("batch_end", t)

    def on_epoch_end(self, t: Trainer) -> None:
        self._note("epoch_end", t)

    def on_run_end(self, t: Trainer) -> None:
        self._note("run_end", t)

    def result(self) -> dict:
        return {"events": len(self.log)}


def three_steps(spec, **train) -> dict:  # noqa: ANN001
    # 60 points, half for training, batches of 10: 3 steps per epoch.
    return spec(data_params={"n_samples": 60}, batch_size=10, epochs=2, **train)


def expected_order() -> list[tuple[str, int, int]]:
    order = [("run_start", 0, 0)]
    for epoch in range(2):
        order.append(("epoch_start", 3 * epoch, epoch))
        for i in range(3):
            step = 3 * epoch + i
            order += [("after_backward", step, epoch), ("batch_end", step + 1, epoch)]
        order.append(("epoch_end", 3 * epoch + 3, epoch + 1))
    return [*order, ("run_end", 6, 2)]


def test_the_exact_order_of_events(spec) -> None:
    rec = Recorder()
    snap = Trainer(three_steps(spec), probes=[rec]).run()
    assert snap.steps_per_epoch == 3 and snap.status == "finished"
    assert rec.log == expected_order()
    assert snap.probes["recorder"] == {"events": len(expected_order())}


def test_the_same_order_in_the_background(spec) -> None:
    rec = Recorder()
    t = Trainer(three_steps(spec), probes=[rec])
    t.start()
    end = time.monotonic() + 20
    while t.alive and time.monotonic() < end:
        time.sleep(0.01)
    assert not t.alive
    assert rec.log == expected_order()


def test_every_sets_the_cadence_of_step_events_only(spec) -> None:
    for every, iterations in ((2, [0, 2, 4]), (4, [0, 4]), (7, [0])):
        rec = Recorder(every=every)
        Trainer(three_steps(spec), probes=[rec]).run()
        events = [e for e, *_ in rec.log]
        assert [s for e, s, _ in rec.log if e == "after_backward"] == iterations
        # batch_end of the same iteration fires too (the step has advanced by then).
        assert [s - 1 for e, s, _ in rec.log if e == "batch_end"] == iterations
        assert events.count("epoch_start") == events.count("epoch_end") == 2
        assert events.count("run_start") == events.count("run_end") == 1


def test_the_eval_of_an_epoch_is_there_at_epoch_end(spec) -> None:
    seen = []

    class EvalReader(Probe):
        name = "eval_reader"

        def on_epoch_end(self, t: Trainer) -> None:
            seen.append((t.epoch, t.eval_history.last("epoch")))

    Trainer(three_steps(spec), probes=[EvalReader()]).run()
    assert seen == [(1, 1), (2, 2)]


def test_handles_only_the_events_a_probe_overrides() -> None:
    class OnlyBatch(Probe):
        def on_batch_end(self, t: Trainer) -> None: ...

    assert [e for e in EVENTS if OnlyBatch.handles(e)] == ["batch_end"]
    assert all(Recorder.handles(e) for e in EVENTS)


class Hooker(Probe):
    """Hooks a node's module, its linear and its activation; may fail on purpose."""

    name = "hooker"

    def __init__(self, fail_at: int | None = None) -> None:
        super().__init__(every=1)
        self.fail_at = fail_at
        self.calls = {"node": 0, "linear": 0, "act": 0}

    def on_run_start(self, t: Trainer) -> None:
        node = t.model.layers["h1"]
        for key, module in (("node", node), ("linear", node.linear), ("act", node.act)):
            self.keep_hook(module.register_forward_hook(self._count(key)))
        self.keep_hook(node.linear.weight.register_hook(lambda g: None))

    def _count(self, key: str):  # noqa: ANN202
        def hook(module, inputs, output) -> None:  # noqa: ANN001
            self.calls[key] += 1
        return hook

    def on_batch_end(self, t: Trainer) -> None:
        if t.step == self.fail_at:
            raise RuntimeError("probe failed")


def no_hooks_left(t: Trainer) -> bool:
    return all(not m._forward_hooks and not m._forward_pre_hooks and not m._backward_hooks
               for m in t.model.modules()) and all(not p._backward_hooks for p in t.params
                                                   if p._backward_hooks is not None)


def test_hooks_fire_during_the_run_and_are_removed_when_it_ends(spec) -> None:
    probe = Hooker()
    t = Trainer(three_steps(spec), probes=[probe])
    t.run()
    # Every training step and both evaluations (train and test split) ran the hooked node.
    assert probe.calls["node"] == probe.calls["linear"] == probe.calls["act"] == 6 + 2 * 2
    assert no_hooks_left(t)
    assert probe._handles == []


def test_hooks_are_removed_when_the_run_fails(spec) -> None:
    probe = Hooker(fail_at=2)
    t = Trainer(three_steps(spec), probes=[probe])
    snap = t.run()
    assert snap.status == "failed" and "probe failed" in snap.error
    assert probe.calls["linear"] == 2
    assert no_hooks_left(t)


def test_hooks_are_removed_when_a_background_run_is_stopped(spec) -> None:
    probe = Hooker()
    t = Trainer(spec(data="spiral", epochs=100_000), probes=[probe])
    t.start()
    end = time.monotonic() + 20
    while probe.calls["node"] < 20 and time.monotonic() < end:
        time.sleep(0.01)
    t.stop()
    assert not t.alive and no_hooks_left(t)


def test_a_model_without_hooks_gives_the_same_output_as_with(spec) -> None:
    # The graph skips Module.__call__ when nothing is hooked; results must not change.
    t = Trainer(spec())
    x = torch.randn(7, 2)
    plain = t.model(x)
    handle = t.model.layers["h1"].act.register_forward_hook(lambda m, i, o: None)
    try:
        torch.testing.assert_close(t.model(x), plain)
    finally:
        handle.remove()


# The shipped probes ------------------------------------------------------------------------------

def test_registered_probes_and_an_unknown_one(spec) -> None:
    assert {"grad_norm", "weight_norm"} <= set(PROBES.names())
    with pytest.raises(SpecError) as info:
        load_experiment(spec(probes=[{"name": "grad_nrom"}]))
    assert str(info.value).startswith("probes[0].name: unknown probe 'grad_nrom'; did you "
                                      "mean grad_norm")


def norms_spec(spec, every: int = 1) -> dict:  # noqa: ANN001
    nodes = [{"id": "h1", "type": "linear", "params": {"units": 8, "activation": "tanh"}},
             {"id": "act", "type": "relu"},
             {"id": "out", "type": "linear", "params": {"units": 2}}]
    return spec(nodes, epochs=2, probes=[{"name": "grad_norm", "every": every},
                                         {"name": "weight_norm", "every": every}])


def test_grad_and_weight_norms_per_node(spec) -> None:
    t = Trainer(norms_spec(spec, every=3))
    snap = t.run()
    for name in ("grad_norm", "weight_norm"):
        r = snap.probes[name]
        assert r["nodes"] == ["h1", "out"]  # the relu node has no parameters
        assert list(r["steps"]) == ([0, 3, 6, 9] if name == "grad_norm" else [1, 4, 7, 10])
        assert r["values"].shape == (4, 2)
        assert np.isfinite(r["values"]).all() and (r["values"] > 0).all()


def test_weight_norm_matches_the_weights(spec) -> None:
    t = Trainer(norms_spec(spec))
    snap = t.run()
    last = snap.probes["weight_norm"]["values"][-1]
    for i, nid in enumerate(["h1", "out"]):
        true = math.sqrt(sum(float(p.detach().double().pow(2).sum())
                             for p in t.model.layers[nid].parameters()))
        assert last[i] == pytest.approx(true, rel=1e-5)


def test_grad_norm_matches_a_hand_computed_gradient(spec) -> None:
    s = norms_spec(spec)
    t = Trainer(s)
    # The first batch, computed by hand with the same shuffle.
    order = torch.randperm(len(t.x_train), generator=torch.Generator().manual_seed(0))
    xb, yb = t.x_train[order][:10], t.y_train[order][:10]
    loss = t.task.loss(t.model, xb, yb)
    loss.backward()
    want = [math.sqrt(sum(float(p.grad.double().pow(2).sum())
                          for p in t.model.layers[n].parameters())) for n in ("h1", "out")]
    t.model.zero_grad(set_to_none=True)
    snap = t.run(epochs=1)
    got = snap.probes["grad_norm"]["values"][0]
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_probes_do_not_change_training(spec) -> None:
    base = spec(epochs=3)
    watched = spec(epochs=3, probes=[{"name": n, "every": 1} for n in PROBES.names()])
    a, b = Trainer(base).run(), Trainer(watched).run()
    assert np.array_equal(a.steps["loss"], b.steps["loss"])
    assert np.array_equal(a.evals["test_loss"], b.evals["test_loss"])


def test_probe_results_before_any_step_are_empty(spec) -> None:
    snap = Trainer(norms_spec(spec)).snapshot()
    assert snap.status == "ready"
    for name in ("grad_norm", "weight_norm"):
        assert len(snap.probes[name]["steps"]) == 0


SINE_NODES = [{"id": "h1", "type": "linear", "params": {"units": 6, "activation": "tanh"}},
              {"id": "out", "type": "linear", "params": {"units": 1}}]


def test_boundary_draws_a_1d_regression_as_curves(spec) -> None:
    """A 1-D data set (sine) gets the fitted curve over its inputs and each neuron's
    response curve: what the network computes there, recorded during a real run."""
    watched = spec(SINE_NODES, data="sine", epochs=3,
                   probes=[{"name": "boundary", "every": 1, "params": {"min_interval": 0}}])
    trainer = Trainer(watched)
    snap = trainer.run()
    b = snap.probes["boundary"]
    assert b["dims"] == 1 and b["step"] == snap.step
    xs = b["xs"]
    x_all = torch.cat([trainer.data.x_train, trainer.data.x_test])[:, 0]
    assert xs[0] == pytest.approx(float(x_all.min())) and xs[-1] == pytest.approx(
        float(x_all.max()))
    assert np.all(np.diff(xs) > 0)
    assert b["output"].shape == (1, len(xs))
    assert b["nodes"]["input"].shape == (1, len(xs))
    assert b["nodes"]["h1"].shape == (6, len(xs)) and b["nodes"]["out"].shape == (1, len(xs))
    with torch.no_grad():
        grid = torch.from_numpy(xs[:, None].astype(np.float32))
        predicted = trainer.model(grid)[:, 0].numpy()
        hidden = torch.tanh(trainer.model.layers["h1"].linear(grid)).numpy().T
    assert np.allclose(b["output"][0], predicted, atol=1e-5)
    assert np.allclose(b["nodes"]["h1"], hidden, atol=1e-5)
    assert b["weights"]["h1"].shape == (6, 1)


def test_boundary_keeps_drawing_2d_maps(spec) -> None:
    watched = spec(epochs=1, probes=[{"name": "boundary", "every": 1,
                                      "params": {"resolution": 12, "neuron_resolution": 6}}])
    b = Trainer(watched).run().probes["boundary"]
    assert b["dims"] == 2 and b["output"].shape == (2, 12, 12)
    assert b["nodes"]["h1"].shape == (8, 6, 6) and b["nodes"]["input"].shape == (2, 6, 6)


def test_boundary_records_nothing_for_inputs_it_cannot_draw(spec) -> None:
    watched = spec([{"id": "out", "type": "linear", "params": {"units": 3}}], data="iris",
                   epochs=1, probes=[{"name": "boundary", "every": 1}])
    watched["data"]["params"] = {}
    assert Trainer(watched).run().probes["boundary"] is None
