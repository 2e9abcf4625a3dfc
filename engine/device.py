"""Which device to train on, and how many CPU threads to use."""

from __future__ import annotations

import torch


def available_devices() -> list[str]:
    found = ["cpu"]
    if torch.cuda.is_available():
        found.append("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        found.append("mps")
    return found


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA, then Apple MPS, then the CPU."""
    have = available_devices()
    if name == "auto":
        return torch.device(next(d for d in ("cuda", "mps", "cpu") if d in have))
    if name not in have:
        raise ValueError(f"train.device: {name} is not available on this machine "
                         f"(available: {', '.join(have)}); choose auto or cpu")
    return torch.device(name)


def use_one_thread() -> None:
    """Small models train fastest on one intra-op thread; on a busy 2-core machine
    a second thread made a small CNN ten times slower (measured)."""
    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)
