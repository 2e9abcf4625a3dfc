"""The cost estimate of a training step, and the thread count chosen from it."""

from __future__ import annotations

import pytest
import torch

from engine.cost import forward_flops, step_flops
from engine.device import FLOPS_PER_THREAD, choose_threads, trainer_cores, use_threads
from engine.graph import plan_model
from engine.spec import ModelSpec


def test_forward_flops_counts_a_small_cnn_by_hand() -> None:
    plan = plan_model(ModelSpec(nodes=[
        {"id": "c", "type": "conv2d", "params": {"filters": 4, "activation": "none"}},
        {"id": "r", "type": "relu"},
        {"id": "f", "type": "flatten"},
        {"id": "o", "type": "linear", "params": {"units": 10}}]), (1, 8, 8))
    conv = 2 * (4 * 1 * 3 * 3 + 4) * 8 * 8  # every weight (and bias) at every output pixel
    relu = flat = 4 * 8 * 8  # one per output value
    dense = 2 * (256 * 10 + 10)
    assert forward_flops(plan) == conv + relu + flat + dense
    assert step_flops(plan, 16) == 3 * 16 * forward_flops(plan)


def test_tiny_nets_keep_one_thread_and_large_ones_use_the_cores_they_have() -> None:
    assert choose_threads(7e4 / 10, 10, 16) == 1  # the spiral MLP
    assert choose_threads(FLOPS_PER_THREAD / 32, 32, 2) == 1
    assert choose_threads(2 * FLOPS_PER_THREAD / 32, 32, 2) == 2
    assert choose_threads(1e12, 64, 2) == 2
    assert choose_threads(1e12, 64, 16) == 16
    assert choose_threads(1e12, 64, 0) == 1
    assert trainer_cores(10_000) == 1


def test_the_thread_count_is_per_calling_thread() -> None:
    import threading

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    seen = []

    def train() -> None:
        use_threads(1)
        seen.append(torch.get_num_threads())

    t = threading.Thread(target=train)
    t.start()
    t.join()
    try:
        assert seen == [1] and torch.get_num_threads() == 2  # the caller's count is its own
    finally:
        torch.set_num_threads(before)


def test_np_cores_lowers_the_cores_a_server_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.device import usable_cores

    monkeypatch.delenv("NP_CORES", raising=False)
    every = usable_cores()
    monkeypatch.setenv("NP_CORES", "1")
    assert usable_cores() == 1
    monkeypatch.setenv("NP_CORES", str(every + 5))  # never more than the machine has
    assert usable_cores() == every
    monkeypatch.setenv("NP_CORES", "many")  # not a number: ignored
    assert usable_cores() == every
