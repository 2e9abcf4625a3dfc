"""The same network trained with each optimizer."""

from __future__ import annotations

import numpy as np
import pytest

from engine.compare import ALL, compare_optimizers
from engine.presets import load_preset


@pytest.mark.slow
def test_every_optimizer_trains_the_same_network_from_the_same_start() -> None:
    exp = load_preset("xor_hidden")
    runs = compare_optimizers(exp, [*ALL, "momentum_nesterov"], epochs=20)
    assert set(runs) == {*ALL, "momentum_nesterov"}
    first = {name: s.steps["loss"][0] for name, s in runs.items()}
    # Same seed, same initial weights, same first batch: the first loss is identical.
    assert np.allclose(list(first.values()), first["sgd"])
    for name, snap in runs.items():
        assert snap.status == "finished", name
        assert snap.final["test_accuracy"] > 0.8, (name, snap.final)
    # They do differ after the first step.
    assert len({round(float(s.steps["loss"][50]), 6) for s in runs.values()}) > 3


def test_one_learning_rate_for_all() -> None:
    runs = compare_optimizers(load_preset("xor_hidden"), ["sgd", "adam"], epochs=1, lr=0.02)
    assert all(np.all(s.steps["lr"] == 0.02) for s in runs.values())
