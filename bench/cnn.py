"""CNN training speed with the default probes and every probe the pages need (the vision
probes included: feature maps, filters, saliency, predictions, receptive field) against a
bare PyTorch loop on the same model, data and optimizer.

The two run turn by turn in one process and the median of each is compared, as in
bench/overhead.py. The bare loop gathers each batch from the stored uint8 images (the model
prepares them), and scores the test split once per epoch. Run: ``python bench/cnn.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import Trainer  # noqa: E402
from engine.cost import step_flops  # noqa: E402
from engine.device import choose_threads, trainer_cores, use_threads  # noqa: E402
from engine.presets import load_preset  # noqa: E402
from engine.spec import DEFAULT_PROBES  # noqa: E402
from ui.pages import NEEDED_PROBES  # noqa: E402


def small_resnet(blocks: int = 3, width: int = 16) -> dict:
    """A small ResNet on 32x32 colour shapes: a strided stem, residual blocks, global
    average pooling."""
    conv = lambda i, src, act="relu": {"id": i, "type": "conv2d", "inputs": [src], "params": {
        "filters": width, "activation": act}}
    nodes = [{"id": "stem", "type": "conv2d", "params": {"filters": width, "stride": 2}}]
    prev = "stem"
    for b in range(blocks):
        nodes += [conv(f"r{b}a", prev), conv(f"r{b}b", f"r{b}a", "none"),
                  {"id": f"r{b}add", "type": "add", "inputs": [prev, f"r{b}b"]},
                  {"id": f"r{b}out", "type": "relu"}]
        prev = f"r{b}out"
    nodes += [{"id": "gap", "type": "global_avgpool"},
              {"id": "out", "type": "linear", "params": {"units": 7}}]
    return {"schema": 1, "data": {"name": "shapes", "params": {"size": 32, "colour": True}},
            "model": {"nodes": nodes},
            "train": {"optimizer": {"name": "adam", "lr": 0.002}, "batch_size": 32,
                      "epochs": 1}}


def with_default_probes(spec: dict) -> dict:
    return dict(spec, probes=[p.model_dump() for p in DEFAULT_PROBES],
                train=dict(spec["train"], device="cpu"))


CASES = {
    "LeNet-5, digits 28x28": (load_preset("cnn_lenet").to_dict(), 2),
    "small ResNet, shapes 32x32 colour": (small_resnet(), 1),
}


def bare_loop(trainer: Trainer, epochs: int) -> float:
    """Steps per second of the plainest loop over the trainer's own model and data."""
    torch.manual_seed(1)
    # The threads the trainer chooses for this model, so both sides compute alike.
    use_threads(choose_threads(step_flops(trainer.plan, 1), trainer.exp.train.batch_size,
                               trainer_cores(1)))
    model = trainer.model
    opt = torch.optim.Adam(model.parameters(), lr=trainer.exp.train.optimizer.lr)
    x, y, bs = trainer.data.x_train, trainer.data.y_train, trainer.exp.train.batch_size
    x_test, y_test = trainer.data.x_test, trainer.data.y_test
    loss_fn = torch.nn.functional.cross_entropy
    steps = 0
    t0 = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(x))
        for i in range(0, len(x), bs):
            idx = perm[i:i + bs]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])  # uint8 in: the model prepares it
            loss.backward()
            opt.step()
            steps += 1
        with torch.no_grad():
            model.eval()
            loss_fn(model(x_test), y_test).item()
            model.train()
    return steps / (time.perf_counter() - t0)


def trainer_loop(spec: dict, epochs: int) -> float:
    snap = Trainer(spec, needs=NEEDED_PROBES).run(epochs=epochs)
    return snap.step / snap.elapsed


def main(rounds: int = 5) -> None:
    print(f"torch {torch.__version__}, threads chosen per model as the trainer does, "
          f"{rounds} rounds")
    probes = dict.fromkeys([p.name for p in DEFAULT_PROBES] + list(NEEDED_PROBES))
    print(f"probes: {', '.join(probes)}")
    print(f"{'model':<34} {'bare steps/s':>13} {'trainer steps/s':>16} {'ratio':>7}")
    for name, (spec, epochs) in CASES.items():
        spec = with_default_probes(spec)
        host = Trainer(spec)
        bare, ours = [], []
        for _ in range(rounds):  # turn by turn, so drift on a busy machine hits both
            bare.append(bare_loop(host, epochs))
            ours.append(trainer_loop(spec, epochs))
        b, o = statistics.median(bare), statistics.median(ours)
        print(f"{name:<34} {b:>13,.0f} {o:>16,.0f} {o / b:>7.2f}  "
              f"({torch.get_num_threads()} thread(s))", flush=True)


if __name__ == "__main__":
    main()
