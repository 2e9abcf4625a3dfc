"""Fine-tuning: a small CNN trained on shapes, saved, then fine-tuned on digits with its
convolutions frozen starts lower than the same network from scratch."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from engine import Trainer
from engine.pretrained import apply_weights, fine_tune_spec, trainable_nodes
from engine.runs import default_store, save_trainer
from tests.conftest import build_spec


def cnn(epochs: int, seed: int = 0) -> dict:
    """Two strided convolutions and a linear read-out of their maps, on 28-pixel shapes."""
    return {
        "schema": 1, "meta": {"name": "Shapes CNN"},
        "data": {"name": "shapes", "params": {"size": 28, "n_per_class": 80}},
        "model": {"nodes": [
            {"id": "conv1", "type": "conv2d", "params": {"filters": 8, "stride": 2}},
            {"id": "conv2", "type": "conv2d", "params": {"filters": 16, "stride": 2}},
            {"id": "flat", "type": "flatten"},
            {"id": "out", "type": "linear", "params": {"units": 7}}]},
        "train": {"device": "cpu", "epochs": epochs, "batch_size": 32, "seed": seed,
                  "optimizer": {"name": "adam", "lr": 0.01}},
        "probes": []}


def test_shapes_to_digits_starts_lower_than_scratch(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NP_RUNS_DIR", str(tmp_path))
    source = Trainer(cnn(epochs=3))
    source.run()
    assert source.snapshot().final["test_accuracy"] > 0.5  # it learned the shapes
    run = save_trainer(default_store(), source, "shapes", "teacher")
    assert trainable_nodes(source.exp.to_dict()) == ["conv1", "conv2", "out"]

    for seed in (0, 1):
        spec = cnn(epochs=1, seed=seed)
        spec["data"]["params"]["train_ratio"] = 0.75
        tuned_spec = fine_tune_spec(spec, run, data="digits", freeze=["conv1", "conv2"])
        # The image size came along (digits' own default is 8); the other shapes
        # parameter did not; the output layer follows the ten digits.
        assert tuned_spec["data"] == {**spec["data"], "name": "digits", "features": None,
                                      "params": {"size": 28, "train_ratio": 0.75}}
        assert tuned_spec["model"]["nodes"][-1]["params"]["units"] == 10
        scratch_spec = {**tuned_spec, "train": {**tuned_spec["train"], "init_from": None}}
        tuned, scratch = Trainer(tuned_spec), Trainer(scratch_spec)
        report = tuned.init_report
        assert report.copied == ["conv1", "conv2"] and report.frozen == ["conv1", "conv2"]
        assert [n for n, _ in report.skipped] == ["out"]
        assert "10×784 here but 7×784 in the saved run" in report.skipped[0][1]
        saved = {k: v.clone() for k, v in tuned.model.layers["conv1"].state_dict().items()}
        for k, v in saved.items():
            assert torch.equal(v, source.model.layers["conv1"].state_dict()[k])
        a, b = tuned.run(), scratch.run()
        assert a.steps_per_epoch == b.steps_per_epoch > 10
        first, fresh = a.steps["loss"].mean(), b.steps["loss"].mean()
        assert first < 0.9 * fresh, (seed, first, fresh)
        for k, v in tuned.model.layers["conv1"].state_dict().items():  # frozen: untouched
            assert torch.equal(v, saved[k])


def test_frozen_nodes_escape_the_optimizer_and_weight_decay(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the trainer's own hook: weight decay (AdamW) and L1/L2 act on trained
    parameters only, so a frozen node stays exactly as loaded while the one beside it moves."""
    monkeypatch.setenv("NP_RUNS_DIR", str(tmp_path))
    spec = build_spec(optimizer={"name": "adamw", "lr": 0.05, "weight_decay": 0.5},
                      regularization={"l1": 0.01, "l2": 0.1}, epochs=1)
    first = Trainer(spec)
    first.run()
    run = save_trainer(default_store(), first, "xor", "me")
    second = Trainer(fine_tune_spec(spec, run, freeze=["h1"]))
    report = second.init_report
    assert report.copied == ["h1", "out"] and report.frozen == ["h1"] and not report.skipped
    held = {id(p) for g in second.optimizer.param_groups for p in g["params"]}
    assert held == {id(p) for p in second.model.layers["out"].parameters()}
    assert {id(w) for w in second.weights} == {id(second.model.layers["out"].linear.weight)}
    loaded = {k: v.clone() for k, v in second.model.state_dict().items()}
    assert all(torch.equal(loaded[k], v) for k, v in first.model.state_dict().items())
    second.run(epochs=3)
    after = second.model.state_dict()
    assert all(torch.equal(after[k], loaded[k]) for k in loaded if k.startswith("layers.h1."))
    assert not torch.equal(after["layers.out.linear.weight"], loaded["layers.out.linear.weight"])


def test_a_missing_node_or_shape_is_reported() -> None:
    small = Trainer(build_spec())
    other = Trainer(build_spec([
        {"id": "h1", "type": "linear", "params": {"units": 5, "activation": "tanh"}},
        {"id": "h2", "type": "linear", "params": {"units": 5, "activation": "tanh"}},
        {"id": "out", "type": "linear", "params": {"units": 2}}]))
    report = apply_weights(other.model.layers, small.model.state_dict(), run="r")
    assert report.copied == []  # h1: 8 units there, 5 here; out reads 8 there, 5 here
    reasons = dict(report.skipped)
    assert "the saved run has no node with this id" in reasons["h2"]
    assert "5×2 here but 8×2 in the saved run" in reasons["h1"]
    assert any("starts fresh" in line for line in report.lines())
