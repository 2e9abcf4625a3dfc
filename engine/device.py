"""Which device to train on, and how many CPU threads to use."""

from __future__ import annotations

import os

import torch

from engine.i18n import t


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
        raise ValueError(t("train.device: {device} is not available on this machine "
                           "(available: {available}); choose auto or cpu", device=name,
                           available=", ".join(have)))
    return torch.device(name)


def use_one_thread() -> None:
    """Small models train fastest on one intra-op thread; on a busy 2-core machine
    a second thread made a small CNN ten times slower (measured)."""
    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)


# A step must cost this many operations per thread (engine.cost.step_flops) before another
# thread pays. Measured on the 2-core development machine (torch 2.13, OpenMP), best of
# five rounds of 40 steps, 1 thread against 2, while other work shared the machine:
#   ops per step   model                      speed-up with 2 threads
#   7e4            spiral MLP (2-8-8-2)       0.1 (a second thread made it ten times slower)
#   4.5e7          field_stride               1.1   (0.1 when the other core was busy)
#   8.1e7          cnn_lenet                  1.4   (0.7 when busy)
#   1.2e8          cnn_inception (branches)   0.4   (many small ops: overhead, not arithmetic)
#   3.7e8          cnn_vgg                    1.5
#   8.0e8          cnn_resnet                 1.5
#   1.4e9          field_dilation             1.8
# The crossover is near 1e8 when the second core is free, but a busy core costs a small
# model up to ten times its speed, so a second thread comes at 2e8 (floor of ops / 1e8):
# every model that gained 1.5 or more, none that lost.
FLOPS_PER_THREAD = 1e8


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, else the machine's count), or
    fewer where ``NP_CORES`` says so (a server sharing its machine, a test worker)."""
    try:
        cores = max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        cores = max(1, os.cpu_count() or 1)
    limit = os.environ.get("NP_CORES", "")
    return min(cores, max(1, int(limit))) if limit.isdigit() else cores


def trainer_cores(running: int) -> int:
    """The cores one trainer may use while ``running`` trainers (itself included) train."""
    return max(1, usable_cores() // max(1, running))


def choose_threads(flops_per_sample_step: float, batch_size: int, cores: int) -> int:
    """Intra-op threads for a model costing ``flops_per_sample_step`` operations per sample
    and training step (forward and backward), at ``batch_size``, with ``cores`` to spare:
    one for tiny nets, one more per FLOPS_PER_THREAD of a step, at most ``cores``."""
    per_step = max(float(flops_per_sample_step), 0.0) * max(int(batch_size), 1)
    return int(min(max(per_step // FLOPS_PER_THREAD, 1), max(int(cores), 1)))


def use_threads(n: int) -> None:
    """Set the intra-op threads of the calling thread (a trainer calls it from its own
    training thread: with OpenMP the count is per thread, so trainers do not fight)."""
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
