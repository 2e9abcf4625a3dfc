"""Epochs per second on the spiral at TensorFlow Playground's defaults.

500 points, half for training, batch 10, plain SGD at 0.03, tanh, hidden
layers of 4 and 2 neurons. The Trainer (default probes on) and a bare
PyTorch loop over the same data run turn by turn in one process.
Run: ``python bench/toy_speed.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import Trainer  # noqa: E402
from engine.spec import DEFAULT_PROBES  # noqa: E402

EPOCHS = 100
SPEC = {
    "schema": 1,
    "data": {"name": "spiral", "params": {"n_samples": 500, "train_ratio": 0.5, "noise": 0.0}},
    "model": {"nodes": [
        {"id": "h1", "type": "linear", "params": {"units": 4, "activation": "tanh"}},
        {"id": "h2", "type": "linear", "params": {"units": 2, "activation": "tanh"}},
        {"id": "out", "type": "linear", "params": {"units": 2}}]},
    "train": {"optimizer": {"name": "sgd", "lr": 0.03}, "batch_size": 10, "epochs": EPOCHS,
              "device": "cpu"},
    "probes": [p.model_dump() for p in DEFAULT_PROBES],
}


def bare(x: torch.Tensor, y: torch.Tensor) -> float:
    model = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2),
                                torch.nn.Tanh(), torch.nn.Linear(2, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.03)
    t0 = time.perf_counter()
    for _ in range(EPOCHS):
        perm = torch.randperm(len(x))
        for i in range(0, len(x), 10):
            idx = perm[i:i + 10]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    return EPOCHS / (time.perf_counter() - t0)


def ours() -> float:
    snap = Trainer(SPEC).run()
    return snap.epoch / snap.elapsed


def main(rounds: int = 5) -> None:
    torch.set_num_threads(1)
    t = Trainer(SPEC)
    b, o = [], []
    for _ in range(rounds):
        b.append(bare(t.x_train, t.y_train))
        o.append(ours())
    mb, mo = statistics.median(b), statistics.median(o)
    print(f"spiral at TF Playground defaults, {EPOCHS} epochs x {t.steps_per_epoch} steps, "
          f"median of {rounds}")
    print(f"bare PyTorch loop : {mb:8.0f} epochs/s")
    print(f"Trainer + probes  : {mo:8.0f} epochs/s   ratio {mo / mb:.2f}")


if __name__ == "__main__":
    main()
