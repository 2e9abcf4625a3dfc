"""The trainer's image path: stored uint8 batches prepared by the model, large sets
gathered per batch, augmentation only on training batches, and the focus of the vision
views recomputed on the right thread."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from engine.data.base import DATASETS, DatasetType
from engine.data.images import image_bundle
from engine.errors import SpecError
from engine.probes.base import Probe
from engine.trainer import Trainer


def _stripes(p, seed, features):  # noqa: ANN001, ANN202
    """Horizontal against vertical stripes, 8x8 grey: learnable in a few steps."""
    rng = np.random.default_rng(seed)
    n = 200
    y = rng.integers(0, 2, n)
    x = np.zeros((n, 1, 8, 8), np.uint8)
    for i in range(n):
        phase = rng.integers(0, 2)
        if y[i]:
            x[i, 0, :, phase::2] = 255
        else:
            x[i, 0, phase::2, :] = 255
    return image_bundle(x[:150], y[:150], x[150:], y[150:], ("rows", "columns"))


if "test_stripes" not in DATASETS:
    DATASETS.register(DatasetType("test_stripes", "Stripes", "classification",
                                  "Test images.", (), _stripes, "image"))

SPEC = {"schema": 1, "data": {"name": "test_stripes"},
        "model": {"nodes": [
            {"id": "conv", "type": "conv2d", "params": {"filters": 4, "kernel_size": 3}},
            {"id": "pool", "type": "maxpool2d"},
            {"id": "flat", "type": "flatten"},
            {"id": "out", "type": "linear", "params": {"units": 2}}]},
        "train": {"optimizer": {"name": "adam", "lr": 0.01}, "batch_size": 16, "epochs": 4},
        "probes": []}


class FocusLog(Probe):
    name = "focus_log"

    def __init__(self) -> None:
        super().__init__(every=1)
        self.seen: list[tuple[str, dict]] = []

    def on_focus(self, trainer: Trainer) -> None:
        x, label = trainer.focus_input()
        self.seen.append((threading.current_thread().name, dict(trainer.focus), label,
                          tuple(x.shape), x.dtype))


def test_a_cnn_learns_from_stored_uint8_images() -> None:
    tr = Trainer(SPEC)
    assert tr.x_train.dtype == torch.uint8  # stored compactly, prepared per batch
    snap = tr.run()
    assert snap.final["test_accuracy"] > 0.95


def test_the_model_prepares_stored_images_with_the_training_statistics() -> None:
    tr = Trainer(SPEC)
    info = tr.data.image
    x = tr.x_test[:3]
    want = (x.float() / 255 - info.mean[0]) / info.std[0]
    assert torch.allclose(tr.model.prepare(x), want)
    with torch.no_grad():
        assert torch.equal(tr.model(x), tr.model(want))


def test_a_large_set_is_gathered_per_batch_and_trains_the_same(monkeypatch) -> None:
    small = Trainer(SPEC).run()
    monkeypatch.setattr("engine.trainer.COPY_PER_EPOCH_BYTES", 0)
    tr = Trainer(SPEC)
    assert not tr._copy_per_epoch
    big = tr.run()
    assert np.allclose(small.steps["loss"], big.steps["loss"])


def test_augmentation_needs_images() -> None:
    spec = {"schema": 1, "data": {"name": "spiral", "augment": {"flip": True}},
            "model": {"nodes": [{"id": "out", "type": "linear", "params": {"units": 2}}]}}
    with pytest.raises(SpecError, match="augment"):
        Trainer(spec)


def test_focus_recomputes_at_once_when_idle_and_on_the_training_thread_when_running() -> None:
    log = FocusLog()
    tr = Trainer(SPEC | {"train": SPEC["train"] | {"epochs": None}}, probes=[log])
    v = tr.snapshot().version
    tr.set_focus(index=5)
    assert log.seen[-1][0] == threading.current_thread().name
    assert log.seen[-1][2] == int(tr.y_test[5]) and log.seen[-1][3] == (1, 1, 8, 8)
    assert log.seen[-1][4] == torch.float32
    assert tr.snapshot().version > v  # published at once
    tr.start()
    try:
        drawn = np.zeros((1, 8, 8), np.uint8)
        drawn[0, :, ::2] = 255
        tr.set_focus(image=drawn, target=1)
        for _ in range(200):
            if len(log.seen) > 1:
                break
            threading.Event().wait(0.01)
        name, focus, label, shape, _ = log.seen[-1]
        assert name == "np-trainer" and label is None and focus["target"] == 1
    finally:
        tr.stop()


def test_bad_focus_is_refused_by_name() -> None:
    tr = Trainer(SPEC)
    with pytest.raises(ValueError, match="index"):
        tr.set_focus(index=10_000)
    with pytest.raises(ValueError, match="shape"):
        tr.set_focus(image=np.zeros((3, 8, 8), np.uint8))
    with pytest.raises(ValueError, match="unknown focus"):
        tr.set_focus(colour="red")
    with pytest.raises(ValueError, match="temperature"):
        tr.set_focus(temperature=0)
    with pytest.raises(ValueError, match="top-k"):
        tr.set_focus(top_k=-1)


def test_the_initial_model_has_the_run_s_first_weights() -> None:
    tr = Trainer(SPEC)
    before = {k: v.clone() for k, v in tr.model.state_dict().items()}
    tr.run(epochs=1)
    init = tr.initial_model().state_dict()
    assert all(torch.equal(init[k], before[k]) for k in before)
    assert not all(torch.equal(tr.model.state_dict()[k], before[k]) for k in before)


def test_the_initial_model_leaves_the_random_state_alone() -> None:
    tr = Trainer(SPEC)
    before = torch.random.get_rng_state()
    tr.initial_model()
    assert torch.equal(torch.random.get_rng_state(), before)


def test_the_filters_shown_after_a_pause_are_the_paused_weights() -> None:
    tr = Trainer(SPEC | {"train": SPEC["train"] | {"epochs": None}}, needs=("filters",))
    tr.step_n(7)  # 7 steps, then the loop pauses: fewer than the probe's cadence
    assert tr.wait(30)
    weights = tr.model.layers["conv"].conv.weight.detach().numpy()
    shown = tr.snapshot().probes["filters"]
    assert shown["step"] == 7
    assert np.allclose(shown["nodes"][0]["weights"], weights)
    tr.stop()
