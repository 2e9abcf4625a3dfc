"""Overhead of the Trainer (with its default probes) against a bare PyTorch loop.

Same model, data, optimizer and batch size; the two run turn by turn in one
process and the median of each is compared. The bare loop scores the test
split once per epoch, as any training script does; the Trainer does that too
(plus train metrics on a sample), so the ratio is the cost of the Trainer's
machinery and its default probes. Run: ``python bench/overhead.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import Trainer  # noqa: E402
from engine.data.base import DATASETS, DataBundle, DatasetType  # noqa: E402
from engine.params import Param  # noqa: E402
from engine.spec import DEFAULT_PROBES  # noqa: E402


def _random_set(name: str, shape: tuple[int, ...], classes: int, n: int) -> None:
    """A bench-only data set of random inputs (speed does not depend on the values)."""
    if name in DATASETS:
        return

    def load(p: dict, seed: int, features: object) -> DataBundle:
        g = torch.Generator().manual_seed(seed)
        x = torch.randn(n, *shape, generator=g)
        y = torch.randint(0, classes, (n,), generator=g)
        return DataBundle(x[: n // 2], y[: n // 2], x[n // 2:], y[n // 2:], "classification",
                          tuple(str(i) for i in range(classes)))

    DATASETS.register(DatasetType(name, name, "classification", "bench", (
        Param("train_ratio", float, 0.5),), load, "bench"))


def lin(i: str, units: int, act: str = "none") -> dict:
    return {"id": i, "type": "linear", "params": {"units": units, "activation": act}}


CASES = {
    "tiny MLP (2-8-8-2, spiral)": (
        {"name": "spiral", "params": {"n_samples": 500}},
        [lin("h1", 8, "tanh"), lin("h2", 8, "tanh"), lin("out", 2)], 10),
    "medium MLP (784-256-128-10)": (
        {"name": "bench_784"},
        [lin("h1", 256, "relu"), lin("h2", 128, "relu"), lin("out", 10)], 64),
    "small CNN (1x28x28, 2 conv)": (
        {"name": "bench_img"},
        [{"id": "c1", "type": "conv2d", "params": {"filters": 8}},
         {"id": "p1", "type": "maxpool2d", "params": {}},
         {"id": "c2", "type": "conv2d", "params": {"filters": 16}},
         {"id": "p2", "type": "maxpool2d", "params": {}},
         {"id": "f", "type": "flatten"}, lin("out", 10)], 64),
}


def experiment(data: dict, nodes: list, batch: int, epochs: int) -> dict:
    return {"schema": 1, "data": data, "model": {"nodes": nodes},
            "train": {"optimizer": {"name": "sgd", "lr": 0.01}, "batch_size": batch,
                      "epochs": epochs, "device": "cpu"},
            "probes": [p.model_dump() for p in DEFAULT_PROBES]}


def bare_loop(trainer: Trainer, epochs: int) -> float:
    """Steps per second of the plainest loop over the trainer's own model and data."""
    torch.manual_seed(1)
    model = trainer.model
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y, bs = trainer.x_train, trainer.y_train, trainer.exp.train.batch_size
    loss_fn = torch.nn.functional.cross_entropy
    steps = 0
    t0 = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(x))
        for i in range(0, len(x), bs):
            idx = perm[i:i + bs]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            steps += 1
        with torch.no_grad():  # the test score every epoch that any training script prints
            model.eval()
            loss_fn(model(trainer.x_test), trainer.y_test).item()
            model.train()
    return steps / (time.perf_counter() - t0)


def trainer_loop(spec: dict, epochs: int) -> float:
    t = Trainer(spec)
    snap = t.run(epochs=epochs)
    return snap.step / snap.elapsed


def main(rounds: int = 5) -> None:
    _random_set("bench_784", (784,), 10, 4096)
    _random_set("bench_img", (1, 28, 28), 10, 2048)
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {rounds} rounds")
    print(f"{'model':<30} {'bare steps/s':>13} {'trainer steps/s':>16} {'ratio':>7}")
    for name, (data, nodes, batch) in CASES.items():
        epochs = 8 if "tiny" in name else 3
        spec = experiment(data, nodes, batch, epochs)
        probe_host = Trainer(spec)
        bare, ours = [], []
        for _ in range(rounds):  # turn by turn, so drift on a busy machine hits both
            bare.append(bare_loop(probe_host, epochs))
            ours.append(trainer_loop(spec, epochs))
        b, o = statistics.median(bare), statistics.median(ours)
        print(f"{name:<30} {b:>13,.0f} {o:>16,.0f} {o / b:>7.2f}")


if __name__ == "__main__":
    main()
