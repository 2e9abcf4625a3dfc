"""What the speed benchmarks share: the bare PyTorch loop, the trainer's loop with every
probe the pages need, and their comparison.

Both run turn by turn in one process; the ratio is the median of the rounds' own ratios,
which a machine busy with other work disturbs less than a ratio of medians. The bare loop
scores the test split once per epoch, and the trainer is timed by the wall clock around
run() (its publishing and the probes' start count too).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F  # noqa: N812

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import Trainer  # noqa: E402
from engine.cost import step_flops  # noqa: E402
from engine.device import choose_threads, trainer_cores, use_threads  # noqa: E402
from engine.spec import DEFAULT_PROBES  # noqa: E402
from ui.pages import NEEDED_PROBES  # noqa: E402


def with_default_probes(spec: dict) -> dict:
    return dict(spec, probes=[p.model_dump() for p in DEFAULT_PROBES],
                train=dict(spec["train"], device="cpu"))


def loss_of(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy per token for token targets, mean squared error for values."""
    if y.dtype.is_floating_point:
        return F.mse_loss(out, y)
    return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))


def bare_loop(trainer: Trainer, epochs: int) -> float:
    """Steps per second of the plainest loop over the trainer's own model and data."""
    torch.manual_seed(1)
    # The threads the trainer chooses for this model, so both sides compute alike.
    use_threads(choose_threads(step_flops(trainer.plan, 1), trainer.exp.train.batch_size,
                               trainer_cores(1)))
    model = trainer.model
    # foreach, as the trainer builds it (engine/optim.py): on CPU PyTorch's default is the
    # per-tensor loop, which would charge the bare side for a choice, not for machinery.
    opt = torch.optim.Adam(model.parameters(), lr=trainer.exp.train.optimizer.lr,
                           foreach=True)
    x, y, bs = trainer.data.x_train, trainer.data.y_train, trainer.exp.train.batch_size
    x_test, y_test = trainer.data.x_test, trainer.data.y_test
    steps = 0
    t0 = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(x))
        for i in range(0, len(x), bs):
            idx = perm[i:i + bs]
            opt.zero_grad()
            loss = loss_of(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            steps += 1
        with torch.no_grad():
            model.eval()
            loss_of(model(x_test), y_test).item()
            model.train()
    return steps / (time.perf_counter() - t0)


def trainer_loop(spec: dict, epochs: int) -> float:
    """Steps per second of the trainer's whole run() by the wall clock: its publishing and
    the probes' start count too (the snapshot's elapsed time holds only the steps)."""
    trainer = Trainer(spec, needs=NEEDED_PROBES)
    t0 = time.perf_counter()
    snap = trainer.run(epochs=epochs)
    return snap.step / (time.perf_counter() - t0)


def compare(cases: dict[str, tuple[dict, int]], rounds: int) -> None:
    """Print, per case (name -> (spec, epochs)), bare and trainer steps per second and the
    median of the rounds' own ratios."""
    print(f"torch {torch.__version__}, threads chosen per model as the trainer does, "
          f"{rounds} rounds")
    probes = dict.fromkeys([p.name for p in DEFAULT_PROBES] + list(NEEDED_PROBES))
    print(f"probes: {', '.join(probes)}")
    print(f"{'model':<36} {'bare steps/s':>13} {'trainer steps/s':>16} {'ratio':>7}")
    for name, (spec, epochs) in cases.items():
        spec = with_default_probes(spec)
        host = Trainer(spec)
        bare, ours = [], []
        for _ in range(rounds):  # turn by turn, so drift on a busy machine hits both
            bare.append(bare_loop(host, epochs))
            ours.append(trainer_loop(spec, epochs))
        b, o = statistics.median(bare), statistics.median(ours)
        ratio = statistics.median(t / r for t, r in zip(ours, bare, strict=True))
        print(f"{name:<36} {b:>13,.0f} {o:>16,.0f} {ratio:>7.2f}  "
              f"({torch.get_num_threads()} thread(s))", flush=True)
