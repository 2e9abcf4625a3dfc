"""The same network trained with each optimizer, for curves drawn side by side."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from engine.spec import Experiment
from engine.trainer import Snapshot, Trainer

# A learning rate each optimizer usually does well with on small problems.
USUAL_LR = {"sgd": 0.1, "momentum": 0.05, "adagrad": 0.1, "rmsprop": 0.003, "adam": 0.01,
            "adamw": 0.01}
ALL = tuple(USUAL_LR)


def with_optimizer(exp: Experiment, name: str, lr: float | None = None,
                   nesterov: bool = False) -> Experiment:
    d = exp.to_dict()
    d["train"]["optimizer"] = {**d["train"]["optimizer"], "name": name,
                               "lr": lr if lr is not None else USUAL_LR[name],
                               "nesterov": nesterov}
    d["probes"] = []  # only the loss curves are compared
    return Experiment.model_validate(d)


DEFAULT_EPOCHS = 30


def compare_optimizers(exp: Experiment, names: Iterable[str] = ALL, epochs: int | None = None,
                       lr: float | None = None,
                       progress: Callable[[str, int, int], None] | None = None,
                       ) -> dict[str, Snapshot]:
    """Train ``exp`` once per optimizer from the same initial weights (same seed).

    ``lr`` None gives each optimizer its usual rate; a number gives all the same.
    """
    names = list(names)
    # A run without a budget (train until paused) is compared over a short one.
    epochs = epochs or exp.train.epochs or DEFAULT_EPOCHS
    out: dict[str, Snapshot] = {}
    for i, name in enumerate(names):
        if progress:
            progress(name, i, len(names))
        key, nesterov = (name[:-9], True) if name.endswith("_nesterov") else (name, False)
        out[name] = Trainer(with_optimizer(exp, key, lr, nesterov)).run(epochs=epochs)
    return out
