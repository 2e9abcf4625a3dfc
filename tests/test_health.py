"""Gradient flow, activation health and verdicts, on real training runs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from engine import Trainer, load_experiment
from engine.cures import CURE_ACTIONS, batchnorm, clip, residual, to_relu
from engine.health import MIN_RECORDINGS, NOT_MEASURED, VANISH_RATIO, assess
from engine.presets import load_preset

pytestmark = pytest.mark.slow


def run(name: str, epochs: int | None = None):  # noqa: ANN201
    snap = Trainer(load_preset(name)).run(epochs=epochs)
    return snap, assess(snap.probes, snap.nonfinite)


def test_deep_sigmoid_vanishes() -> None:
    snap, health = run("vanishing_sigmoid", epochs=5)
    grads = snap.probes["gradient_flow"]["grad"]
    first, last = np.median(grads[-10:, 0]), np.median(grads[-10:, -1])
    assert first * 100 <= last, (first, last)
    assert health.verdict == "vanishing"
    assert health.of("hidden1").verdict == "vanishing"
    assert "relu" in health.cures and "batchnorm" in health.cures


@pytest.mark.parametrize("preset", ["vanishing_relu_he", "vanishing_batchnorm",
                                    "vanishing_residual"])
def test_cures_keep_gradients_within_100(preset: str) -> None:
    snap, health = run(preset, epochs=5)
    assert 1 / 100 <= health.first_to_last <= 100, health.first_to_last
    assert health.verdict == "healthy", health.layers


def test_cured_networks_learn_what_the_sigmoid_one_cannot() -> None:
    bad, _ = run("vanishing_sigmoid")
    good, _ = run("vanishing_relu_he")
    assert bad.final["test_accuracy"] < 0.7
    assert good.final["test_accuracy"] > 0.9


def test_exploding_is_flagged_and_clipping_cures_it() -> None:
    snap, health = run("exploding_init")
    assert snap.stop_reason == "nonfinite" and snap.status == "paused"
    assert health.verdict == "exploding"
    assert snap.nonfinite["node"] in {n.id for n in load_experiment(
        load_preset("exploding_init")).model.nodes} | {"loss"}
    clipped, health = run("exploding_clipped")
    assert clipped.status == "finished" and clipped.final["test_accuracy"] > 0.8


def test_learning_rate_too_large_pauses_with_an_explanation() -> None:
    snap, health = run("lr_too_large")
    assert snap.status == "paused" and snap.nonfinite is not None
    assert snap.nonfinite["step"] >= 0 and snap.nonfinite["what"]
    assert health.verdict == "exploding"


def test_dying_relu_is_called_dead() -> None:
    snap, health = run("dying_relu")
    assert health.verdict == "dead"
    dead = snap.probes["activations"]["series"]["dead"]
    assert max(v[-1] for v in dead.values()) > 0.5


def test_overfitting_shows_a_gap_and_l2_narrows_it() -> None:
    over, _ = run("overfitting")
    l2, _ = run("overfitting_l2")
    gap = over.final["test_loss"] - over.final["train_loss"]
    assert gap > 0.2
    assert l2.final["test_loss"] - l2.final["train_loss"] < gap / 2


def test_update_ratio_is_lr_times_grad_over_weight_for_plain_sgd() -> None:
    spec = load_preset("xor_hidden").to_dict()
    spec["train"]["optimizer"] = {"name": "sgd", "lr": 0.05}
    spec["probes"] = [{"name": "gradient_flow", "every": 7}]
    snap = Trainer(spec).run(epochs=2)
    flow = snap.probes["gradient_flow"]
    assert list(flow["steps"][:3]) == [1, 8, 15]
    expected = 0.05 * flow["grad"] / flow["weight"]
    np.testing.assert_allclose(flow["update_ratio"], expected, rtol=1e-3)


def test_activation_probe_removes_its_hooks_and_reports_pre_activations() -> None:
    spec = load_preset("spiral").to_dict()
    spec["probes"] = [{"name": "activations", "every": 5}]
    t = Trainer(spec)
    snap = t.run(epochs=2)
    acts = snap.probes["activations"]
    assert acts["nodes"] == ["hidden1", "hidden2"]
    assert all(k == "saturating" for k in acts["kinds"].values())
    hist = acts["histograms"]["hidden1"]
    np.testing.assert_allclose(hist["density"].sum(1), 1.0, atol=1e-6)
    assert (hist["lo"] >= -1).all() and (hist["hi"] <= 1).all()  # tanh outputs
    assert acts["pre"]["hidden1"].size > 0
    for m in t.model.modules():
        assert not m._forward_hooks


def test_cures_produce_valid_specs_that_change_what_they_say() -> None:
    spec = load_preset("vanishing_sigmoid").to_dict()
    for key, (_label, cure) in CURE_ACTIONS.items():
        new = load_experiment(cure(spec))  # every cure gives a valid experiment
        assert new.to_dict() != load_experiment(spec).to_dict(), key
    assert all(n["params"].get("activation") in (None, "relu", "none")
               for n in to_relu(spec)["model"]["nodes"])
    bn = batchnorm(spec)["model"]["nodes"]
    assert [n["type"] for n in bn[:3]] == ["linear", "batchnorm1d", "sigmoid"]
    res = load_experiment(residual(spec))
    adds = [n for n in res.model.nodes if n.type == "add"]
    assert len(adds) == 8
    assert adds[1].inputs[0] == adds[0].id  # each block reads the previous block's sum
    assert clip(spec)["train"]["grad_clip"] == 1.0


def test_verdict_thresholds_on_synthetic_probe_data() -> None:
    steps = np.arange(20.0)
    grads = np.tile([1e-5, 1e-2, 1.0], (20, 1))
    flow = {"nodes": ["a", "b", "c"], "steps": steps, "grad": grads}
    h = assess({"gradient_flow": flow})
    assert h.of("a").verdict == "vanishing" and h.of("b").verdict == "healthy"
    assert math.isclose(h.first_to_last, 1e-5)
    assert VANISH_RATIO == 1e-2
    grads = grads.copy()
    grads[-1, 1] = np.inf
    assert assess({"gradient_flow": {**flow, "grad": grads}}).verdict == "exploding"


def test_default_probes_record_without_torch_tensors() -> None:
    snap = Trainer(load_preset("circle")).run(epochs=3)

    def walk(x: object) -> None:
        assert not isinstance(x, torch.Tensor)
        if isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list | tuple):
            for v in x:
                walk(v)

    walk(snap.probes)


def test_no_verdict_before_enough_recordings() -> None:
    """Step 0 and the first few steps give no verdict; enough recordings give one."""
    spec = load_preset("vanishing_relu_he").to_dict()
    spec["probes"] = [{"name": "gradient_flow", "every": 1}, {"name": "activations", "every": 1}]
    t = Trainer(spec)
    fresh = assess(t.snapshot().probes, t.snapshot().nonfinite)
    assert fresh.verdict == NOT_MEASURED and not fresh.measured
    assert fresh.recordings == 0 and fresh.cures == () and fresh.layers == ()
    t.step_n(MIN_RECORDINGS - 1)
    t.wait()
    few = assess(t.snapshot().probes, t.snapshot().nonfinite)
    assert few.recordings == MIN_RECORDINGS - 1 and not few.measured
    t.step_n(1)
    t.wait()
    enough = assess(t.snapshot().probes, t.snapshot().nonfinite)
    assert enough.recordings == MIN_RECORDINGS and enough.measured
    assert enough.verdict == "healthy"


def test_a_cured_experiment_starts_unmeasured() -> None:
    _, health = run("vanishing_sigmoid", epochs=5)
    assert health.verdict == "vanishing"
    cured = Trainer(to_relu(load_preset("vanishing_sigmoid").to_dict()))
    assert assess(cured.snapshot().probes).verdict == NOT_MEASURED


def test_divergence_needs_no_minimum_of_recordings() -> None:
    snap, health = run("lr_too_large")
    assert len(snap.probes["gradient_flow"]["steps"]) < MIN_RECORDINGS  # it blows up at once
    assert health.verdict == "exploding" and health.measured
    flow = {"nodes": ["a", "b"], "steps": np.arange(2.0),
            "grad": np.array([[1.0, 1.0], [np.inf, 1.0]])}
    assert assess({"gradient_flow": flow}).verdict == "exploding"
    calm = {**flow, "grad": np.array([[1e-6, 1.0], [1e-6, 1.0]])}  # vanishing, but 2 records
    assert assess({"gradient_flow": calm}).verdict == NOT_MEASURED
