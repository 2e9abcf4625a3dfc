"""Places in a spec, said plainly: the words a person reads for a spec path.

The engine names places by their path in the spec (``model.nodes[3] (conv2)``,
``train.optimizer.lr``), which is right for a file or the command line; on
screen the same place reads "Layer 4 (conv2)" or "Training, learning rate".
Error messages (ui/words.py) and the differences between two runs
(engine/spec_diff.py) both name places through this one module.
"""

from __future__ import annotations

import functools
import re

from engine.i18n import N_, t

SECTIONS = {"data": N_("Data"), "model": N_("Model"), "train": N_("Training"),
            "probes": N_("Views"), "meta": N_("Name and notes"), "schema": N_("File version")}
FIELDS = {"lr": N_("learning rate"), "l1": N_("L1 rate"), "l2": N_("L2 rate"),
          "params": N_("settings"), "eps": N_("epsilon"), "grad_clip": N_("gradient clipping"),
          "init": N_("initialisation"), "std": N_("standard deviation"),
          "n_samples": N_("number of points"), "train_ratio": N_("training share"),
          "p": N_("drop probability"), "dim": N_("width"), "eval_every": N_(
              "epochs between evaluations"), "init_from": N_("starting weights"),
          "min_delta": N_("smallest improvement"), "beta1": "β1", "beta2": "β2",
          "alpha": N_("RMSProp decay"), "gamma": N_("decay factor"),
          "step_size": N_("epochs between drops"), "schema_": N_("file version")}
# Settings a lesson talks about by their own name ("Learning rate", not "Training,
# optimizer, learning rate").
SETTINGS = {
    "data.name": N_("Data set"), "data.features": N_("Input features"),
    "data.seed": N_("Data seed"), "data.params.noise": N_("Data noise"),
    "data.params.n_samples": N_("Number of points"),
    "data.params.train_ratio": N_("Training share"),
    "model.init.scheme": N_("Initialisation"),
    "model.init.std": N_("Initialisation, standard deviation"),
    "model.init.range": N_("Initialisation, range"),
    "train.task": N_("Task"), "train.loss": N_("Loss"),
    "train.optimizer.name": N_("Optimizer"), "train.optimizer.lr": N_("Learning rate"),
    "train.optimizer.momentum": N_("Momentum"),
    "train.optimizer.weight_decay": N_("Weight decay"),
    "train.schedule.name": N_("Learning-rate schedule"),
    "train.regularization.l1": N_("L1 regularisation"),
    "train.regularization.l2": N_("L2 regularisation"),
    "train.batch_size": N_("Batch size"), "train.epochs": N_("Epochs"),
    "train.grad_clip": N_("Gradient clipping"),
    "train.early_stopping.patience": N_("Early stopping, patience"),
    "train.seed": N_("Seed of the initial weights"), "train.device": N_("Device"),
    "train.init_from": N_("Starting weights"),
}
# Paths that only say where the text came from: the message alone says it all.
SILENT = ("share", "preset", "")
NODE = re.compile(r"^model\.nodes\[(\d+)\](?: \(([^)]*)\))?(?:\.(.*))?$")


def place(path: str) -> str:
    """``model.nodes[3] (conv2).params.kernel_size`` -> ``Layer 4 (conv2), kernel size``."""
    if path in SILENT:
        return ""
    m = NODE.match(path)
    if m:
        index, node, rest = int(m.group(1)), m.group(2), m.group(3)
        where = (t("Layer {n} ({id})", n=index + 1, id=node) if node
                 else t("Layer {n}", n=index + 1))
        parts = [p for p in (rest or "").split(".") if p and p != "params"]
        return joined([where, *(field_words(p) for p in parts)])
    head, *parts = [p for p in re.split(r"\.|\[\d+\]", path) if p]
    words = [t(SECTIONS.get(head, head.replace("_", " ").capitalize()))]
    words += [field_words(p) for p in parts if p != "params"]
    return joined(words)


def joined(parts: list[str]) -> str:
    """Words one after another as a list: "Layer 4 (conv2), kernel size" (with the
    language's own comma)."""
    return functools.reduce(lambda a, b: t("{a}, {b}", a=a, b=b), parts) if parts else ""


def setting(path: str) -> str:
    """A setting's own name where it has one ("Learning rate"), else its place."""
    return t(SETTINGS[path]) if path in SETTINGS else place(path)


def field_words(name: str) -> str:
    """One field of a path in words: ``kernel_size`` -> "kernel size"."""
    return t(FIELDS.get(name, name.replace("_", " ")))
