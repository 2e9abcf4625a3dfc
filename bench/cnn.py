"""CNN training speed with the default probes and every probe the pages need (the vision
probes included: feature maps, filters, saliency, predictions, receptive field) against a
bare PyTorch loop on the same model, data and optimizer (see bench/loops.py). The bare loop
gathers each batch from the stored uint8 images (the model prepares them).
Run: ``python bench/cnn.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loops import compare  # noqa: E402
from engine.presets import load_preset  # noqa: E402


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


CASES = {  # name -> (spec, epochs): a few hundred steps, so the probes' first recordings at
    # the start of a run weigh as in a short lesson, not as in a run of a dozen steps
    "LeNet-5, digits 28x28": (load_preset("cnn_lenet").to_dict(), 8),
    "small ResNet, shapes 32x32 colour": (small_resnet(), 4),
}


if __name__ == "__main__":
    compare(CASES, rounds=5)
