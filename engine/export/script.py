"""The experiment as a standalone PyTorch script that trains without the app.

The script needs torch and numpy only. Its data set, initial weights and the random state
the app's run starts from travel beside it in an ``.npz`` file, so it trains on the same
batches in the same order from the same weights, with the same optimizer, schedule,
regularisation and clipping as ``engine.trainer.Trainer``, and prints the same per-epoch
train and test loss (on the CPU, to about 1e-6). Its last line is the final train and test
loss.
"""

from __future__ import annotations

import inspect
import io
import json
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine import augment as augment_module
from engine.cost import step_flops
from engine.device import choose_threads
from engine.export.model_code import ModelCode, model_code
from engine.i18n import t
from engine.spec import Experiment, sparse_dict
from engine.trainer import DIVERGE_FACTOR, TRAIN_EVAL_ROWS, Trainer
from engine.validate import load_experiment

# How far the written model may stray from the engine's on the same input before the export
# is refused: they run the same operations, so anything above rounding is a bug.
SELF_CHECK_TOL = 1e-5
WEIGHTS = "weights/"  # prefix of the parameter arrays in the .npz


class ExportError(ValueError):
    """An experiment that cannot be exported as asked; the message says why and what to do."""


@dataclass(frozen=True)
class ScriptExport:
    stem: str  # file name without suffix: <stem>.py and <stem>.npz
    code: str
    arrays: dict[str, np.ndarray]

    def npz_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez_compressed(buf, **self.arrays)
        return buf.getvalue()

    def write(self, folder: str | Path) -> tuple[Path, Path]:
        """Write ``<stem>.py`` and ``<stem>.npz`` into ``folder`` (created if missing)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        py, npz = folder / f"{self.stem}.py", folder / f"{self.stem}.npz"
        _atomic_write(py, self.code.encode("utf-8"))
        _atomic_write(npz, self.npz_bytes())
        return py, npz

    def zip_bytes(self) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(f"{self.stem}/{self.stem}.py", self.code)
            z.writestr(f"{self.stem}/{self.stem}.npz", self.npz_bytes())
        return buf.getvalue()


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def file_stem(name: str) -> str:
    """A file name from an experiment's name: lower case, words joined by underscores."""
    stem = re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower()
    return stem[:48] or "experiment"


def with_epochs(exp: Experiment, epochs: int | None) -> Experiment:
    """``exp`` with an epoch budget: ``epochs`` if given, else its own; ExportError when it
    has none (a script must end)."""
    if epochs is None:
        epochs = exp.train.epochs
    if epochs is None:
        raise ExportError(t("This experiment trains until it is stopped; give it an epoch "
                            "budget (train.epochs, or --epochs N) to export it."))
    if epochs == exp.train.epochs:
        return exp
    return load_experiment(exp.model_copy(update={
        "train": exp.train.model_copy(update={"epochs": int(epochs)})}))


def build_script(experiment: Experiment | dict[str, Any] | str | Path,
                 epochs: int | None = None, stem: str | None = None) -> ScriptExport:
    """The script and its arrays for ``experiment`` (``epochs`` overrides its budget).

    The data come from the engine's loaders now; the initial weights and the random state
    are those a Trainer of this experiment starts from."""
    exp = with_epochs(load_experiment(experiment), epochs)
    stem = stem or file_stem(exp.meta.name)
    # The global random state is shared with any trainer running in this process: it is
    # put back afterwards, so exporting never changes another run's dropout masks.
    with torch.random.fork_rng(devices=[]):
        trainer = Trainer(exp.model_copy(update={"train": exp.train.model_copy(
            update={"device": "cpu"})}))
        rng = torch.get_rng_state().numpy().copy()
    code = model_code(trainer.plan, trainer.data.image)
    initial = trainer.initial_model()
    arrays: dict[str, np.ndarray] = {
        "x_train": trainer.x_train.cpu().numpy(), "y_train": trainer.y_train.cpu().numpy(),
        "x_test": trainer.x_test.cpu().numpy(), "y_test": trainer.y_test.cpu().numpy(),
        "rng_state": rng,
    }
    frozen = []
    trainable = {id(p) for p in trainer.params}
    for key, value in initial.state_dict().items():
        arrays[WEIGHTS + code.key_map(key)] = value.detach().cpu().numpy().copy()
    for key, p in trainer.model.named_parameters():
        if id(p) not in trainable:
            frozen.append(code.key_map(key))
    export = ScriptExport(stem, script_source(exp, trainer, code, frozen, stem), arrays)
    _self_check(export, initial, trainer)
    return export


def _self_check(export: ScriptExport, engine_model: torch.nn.Module, trainer: Trainer) -> None:
    """Build the written model, load the exported weights, and compare it with the engine's
    on a few test rows: a difference is a bug in the writer, so it is refused here."""
    scope: dict[str, Any] = {"__name__": "np_export_check", "__file__": export.stem + ".py"}
    exec(compile(export.code, export.stem + ".py", "exec"), scope)  # noqa: S102 - our own code
    model = scope["Model"]()
    model.load_state_dict({k[len(WEIGHTS):]: torch.from_numpy(v)
                           for k, v in export.arrays.items() if k.startswith(WEIGHTS)})
    model.train(False)
    x = trainer.x_test[:8].cpu()
    with torch.no_grad():
        ours, theirs = model(x), engine_model.cpu()(x)
    if ours.shape != theirs.shape or not torch.allclose(ours, theirs, atol=SELF_CHECK_TOL,
                                                        rtol=SELF_CHECK_TOL):
        raise ExportError(t("The written model does not match the app's model (largest "
                            "difference {diff}); please report this experiment.",
                            diff=f"{(ours - theirs).abs().max().item():.3g}"
                            if ours.shape == theirs.shape else "shape"))


# --- the script's text -------------------------------------------------------------------

def _optimizer_code(o: Any) -> str:  # noqa: ANN401
    if o.name == "sgd":
        return "torch.optim.SGD(params, lr=LR, foreach=True)"
    if o.name == "momentum":
        return (f"torch.optim.SGD(params, lr=LR, momentum={o.momentum!r}, "
                f"nesterov={o.nesterov!r}, foreach=True)")
    if o.name == "adagrad":
        return f"torch.optim.Adagrad(params, lr=LR, eps={o.eps!r}, foreach=True)"
    if o.name == "rmsprop":
        return f"torch.optim.RMSprop(params, lr=LR, alpha={o.alpha!r}, eps={o.eps!r}, foreach=True)"
    betas = f"betas=({o.beta1!r}, {o.beta2!r}), eps={o.eps!r}"
    if o.name == "adam":
        return f"torch.optim.Adam(params, lr=LR, {betas}, foreach=True)"
    if o.name == "adamw":
        return (f"torch.optim.AdamW(params, lr=LR, {betas}, weight_decay={o.weight_decay!r}, "
                "foreach=True)")
    raise ExportError(t("The script export does not know the optimizer {name}.", name=o.name))


def _schedule_code(s: Any) -> str:  # noqa: ANN401
    head = ['def learning_rate(step, steps_per_epoch, total_steps):',
            '    """The learning rate for this step: the base rate times the schedule."""']
    body = {
        "constant": ["    return LR"],
        "step": ["    epoch = step / max(steps_per_epoch, 1)",
                 f"    return LR * {s.gamma!r} ** int(epoch // {s.step_size!r})"],
        "exponential": ["    epoch = step / max(steps_per_epoch, 1)",
                        f"    return LR * {s.gamma!r} ** epoch"],
        "cosine": ["    progress = min(step / max(total_steps, 1), 1.0)",
                   "    return LR * (0.5 * (1 + math.cos(math.pi * progress)))"],
        "one_cycle": [
            "    # Warm up from LR/25 to LR, then anneal to LR/10^4 (Smith's one-cycle policy).",
            "    progress = min(step / max(total_steps, 1), 1.0)",
            f"    warmup = {s.warmup!r}",
            "    if warmup > 0 and progress < warmup:",
            "        return LR * (1 / 25 + (1 - 1 / 25)"
            " * (1 - math.cos(math.pi * progress / warmup)) / 2)",
            "    rest = (progress - warmup) / max(1 - warmup, 1e-9)",
            "    return LR * (1e-4 + (1 - 1e-4) * (1 + math.cos(math.pi * rest)) / 2)"],
    }
    if s.name not in body:
        raise ExportError(t("The script export does not know the schedule {name}.",
                            name=s.name))
    return "\n".join(head + body[s.name])


def _loss_code(task: Any) -> str:  # noqa: ANN401
    """The task's loss (engine.tasks.supervised) as a function of outputs and targets."""
    name, kind = task.loss_name, task.kind
    head = ["def loss_fn(out, y):"]
    if kind == "classification" and name == "cross_entropy" and task.positions is None:
        body = ["    return F.cross_entropy(out, y)"]
    elif kind == "classification" and name == "cross_entropy":
        body = ["    # Outputs [N, T, C] score every position: classes on the last axis.",
                "    return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))"]
    elif kind == "classification" and name == "bce":
        body = ["    return F.binary_cross_entropy_with_logits(out.squeeze(-1), y.float())"]
    else:
        body = []
        if kind == "classification":  # a squared or absolute loss on one-hot class labels
            body.append(f"    y = F.one_hot(y, {task.n_outputs}).float()")
        fn = {"mse": "F.mse_loss", "mae": "F.l1_loss", "huber": "F.huber_loss"}[name]
        body.append(f"    return {fn}(out, y)")
    return "\n".join(head + body)


def _metrics_code(task: Any) -> str:  # noqa: ANN401
    lines = ["def metrics(out, y):", '    """What the app reports beside the loss."""']
    if task.kind == "classification":
        pred = ("(out.squeeze(-1) > 0).long()" if task.loss_name == "bce"
                else "out.argmax(-1)")
        lines += [f"    right = {pred} == y",
                  '    found = {"accuracy": right.float().mean().item()}']
        if task.positions is not None:
            lines.append('    found["sequence_accuracy"] = right.all(1).float().mean().item()')
        lines.append("    return found")
    else:
        lines += ["    var = ((y - y.mean(0)) ** 2).sum().item()",
                  "    r2 = 1 - ((out - y) ** 2).sum().item() / var if var > 0 else 0.0",
                  '    return {"mae": (out - y).abs().mean().item(), "r2": r2}']
    return "\n".join(lines)


def _augment_code(exp: Experiment) -> str:
    """The engine's batch augmentation, copied: only for an image set that uses it."""
    parts = [inspect.getsource(getattr(augment_module, name)) for name in
             ("_uniform", "_flip", "_shift_rotate", "_cutout", "augment_batch")]
    text = "\n\n".join(parts).replace("spec: Any", "spec")
    a = exp.data.augment
    settings = (f"AUGMENT = SimpleNamespace(flip={a.flip!r}, shift={a.shift!r}, "
                f"rotate={a.rotate!r}, noise={a.noise!r}, cutout={a.cutout!r})")
    return ("# Random changes to each training batch, as the app makes them.\n"
            f"{settings}\n\n\ndef active(spec):\n"
            "    return bool(spec.flip or spec.shift or spec.rotate or spec.noise or "
            "spec.cutout)\n\n\n" + text)


def threads(trainer: Trainer) -> int:
    """The intra-op threads the trainer would take on this machine with nothing else running."""
    return choose_threads(step_flops(trainer.plan, 1), trainer.exp.train.batch_size,
                          os.cpu_count() or 1)


def script_source(exp: Experiment, trainer: Trainer, code: ModelCode, frozen: list[str],
                  stem: str) -> str:
    """The script's text; ``trainer`` is a fresh (unrun) trainer of ``exp``."""
    tr = exp.train
    task = trainer.task
    augment = trainer.augment is not None
    es = tr.early_stopping
    # What differs from the defaults, as a preset file holds it; the lesson stays in the app.
    sparse = sparse_dict(exp)
    spec = json.dumps({k: sparse[k] for k in ("data", "model", "train") if k in sparse},
                      indent=1, ensure_ascii=False, sort_keys=True)
    spec_lines = "\n".join(f"#   {line}" for line in spec.splitlines())
    name = exp.meta.name.replace('"""', "'''").replace("\\", "/")
    imports = ["import math", "import sys"]
    if augment:
        imports.append("from types import SimpleNamespace")
    imports += ["from pathlib import Path", "", "import numpy as np", "import torch",
                "import torch.nn.functional as F", "from torch import nn"]
    if augment:
        imports = ["from __future__ import annotations", "", *imports]
    settings = [
        f"SEED = {trainer.seed!r}",
        f"EPOCHS = {tr.epochs!r}",
        f"BATCH_SIZE = {tr.batch_size!r}",
        f"LR = {tr.optimizer.lr!r}  # the base learning rate",
        f"L1 = {tr.regularization.l1!r}  # L1 and L2 act on weights, not on biases or norms",
        f"L2 = {tr.regularization.l2!r}",
        f"GRAD_CLIP = {tr.grad_clip!r}  # None: gradients are not clipped",
        f"EVAL_EVERY = {tr.eval_every!r}  # epochs between evaluations",
        f"PATIENCE = {es.patience!r}  # early stopping: evaluations' epochs without a better"
        " test loss (None: off)",
        f"MIN_DELTA = {es.min_delta!r}",
        "# The train loss is measured on this many training rows (a fixed sample), as the "
        "app does.",
        f"TRAIN_EVAL_ROWS = {TRAIN_EVAL_ROWS!r}",
        f"EVAL_CHUNK = {task.chunk!r}  # rows per forward pass when scoring a split",
        f"DIVERGE_FACTOR = {DIVERGE_FACTOR!r}  # a loss this many times its first one has "
        "diverged",
        f"FROZEN = {frozen!r}  # parameters kept as loaded (fine-tuning)",
        f"THREADS = {threads(trainer)!r}  # more threads pay only for a large model",
        'DATA = Path(__file__).with_suffix(".npz")',
    ]
    augment_step = ("            xb = augment_batch(model.prepare(xb), AUGMENT, augment_gen)\n"
                    if augment else "")
    augment_gen = ("    augment_gen = torch.Generator().manual_seed(SEED)\n" if augment else "")
    blocks = [
        f'"""{name}: the Neural Playground experiment as a plain PyTorch script.\n\n'
        "Run it with the .npz file beside it (data set, initial weights, random state):\n\n"
        f"    python {stem}.py\n\n"
        "It needs only torch and numpy. On the CPU it follows the app's run step by step: "
        "the same\nbatches in the same order, the same initial weights, optimizer, "
        "schedule, regularisation\nand clipping. It prints the train and test loss after "
        "each evaluation; the last line is\nthe final train and test loss.\n"
        '"""\n\n' + "\n".join(imports),
        "# The experiment (what differs from the defaults):\n" + spec_lines,
        "\n".join(settings),
        code.source.rstrip(),
    ]
    if augment:
        blocks.append(_augment_code(exp).rstrip())
    blocks += [
        "def make_optimizer(params):\n    return " + _optimizer_code(tr.optimizer),
        _schedule_code(tr.schedule),
        _loss_code(task),
        _metrics_code(task),
        EVALUATE,
        MAIN.replace("{augment_gen}", augment_gen).replace("{augment_step}", augment_step),
        'if __name__ == "__main__":\n    sys.exit(main())',
    ]
    return "\n\n\n".join(b for b in blocks if b) + "\n"


EVALUATE = '''def evaluate(model, x, y):
    """Mean loss and metrics over a whole split, in chunks (eval mode, no gradients)."""
    total, outs = 0.0, []
    for i in range(0, len(x), EVAL_CHUNK):
        out = model(x[i:i + EVAL_CHUNK])
        total += loss_fn(out, y[i:i + EVAL_CHUNK]).item() * len(out)
        outs.append(out)
    return {"loss": total / max(len(x), 1)} | metrics(torch.cat(outs), y)'''

MAIN = '''def report(epoch, train, test):
    extra = "".join(f"  test {k.replace('_', ' ')} {v:.4f}" for k, v in test.items()
                    if k != "loss")
    print(f"epoch {epoch:>5}  train loss {train['loss']:.6f}  test loss {test['loss']:.6f}"
          + extra, flush=True)


def main():
    torch.set_num_threads(THREADS)
    data = np.load(DATA, allow_pickle=False)  # data only, never code
    x_train, y_train = torch.from_numpy(data["x_train"]), torch.from_numpy(data["y_train"])
    x_test, y_test = torch.from_numpy(data["x_test"]), torch.from_numpy(data["y_test"])
    model = Model()
    model.load_state_dict({key[len("weights/"):]: torch.from_numpy(data[key])
                           for key in data.files if key.startswith("weights/")})
    # The random state the app's run had once its model was built: dropout draws the same.
    torch.set_rng_state(torch.from_numpy(data["rng_state"]))
    for name in FROZEN:
        model.get_parameter(name).requires_grad_(False)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    weights = [p for p in params if p.dim() > 1]
    optimizer = make_optimizer(params)
    steps_per_epoch = math.ceil(len(x_train) / BATCH_SIZE)
    total_steps = EPOCHS * steps_per_epoch
    pick = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(SEED))
    x_sample, y_sample = x_train[pick[:TRAIN_EVAL_ROWS]], y_train[pick[:TRAIN_EVAL_ROWS]]
    shuffle = torch.Generator().manual_seed(SEED)
{augment_gen}    print(f"{len(x_train)} training and {len(x_test)} test examples, "
          f"{sum(p.numel() for p in model.parameters())} parameters, {EPOCHS} epochs",
          flush=True)
    step, limit, diverged = 0, None, False
    best, since_best = math.inf, 0
    train = test = None
    for epoch in range(1, EPOCHS + 1):
        order = torch.randperm(len(x_train), generator=shuffle)
        for lo in range(0, len(x_train), BATCH_SIZE):
            xb, yb = x_train[order[lo:lo + BATCH_SIZE]], y_train[order[lo:lo + BATCH_SIZE]]
{augment_step}            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            value = loss.item()
            if limit is None:
                limit = DIVERGE_FACTOR * max(value, 1.0)
            if not math.isfinite(value) or value > limit:
                print(f"the loss diverged ({value:.4g}) at step {step}: lower the learning "
                      "rate or clip gradients", flush=True)
                diverged = True
                break
            with torch.no_grad():
                for w in weights:
                    if L2:
                        w.grad.add_(w, alpha=L2)
                    if L1:
                        w.grad.add_(torch.sign(w), alpha=L1)
            if GRAD_CLIP:
                nn.utils.clip_grad_norm_(params, GRAD_CLIP, foreach=True)
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(step, steps_per_epoch, total_steps)
            optimizer.step()
            step += 1
        if diverged:
            break
        if epoch % EVAL_EVERY == 0 or epoch == EPOCHS:
            model.train(False)  # evaluation mode: dropout off, batch norm uses its statistics
            with torch.no_grad():
                train = evaluate(model, x_sample, y_sample)
                test = evaluate(model, x_test, y_test)
            model.train()
            report(epoch, train, test)
            if PATIENCE is not None:
                if test["loss"] < best - MIN_DELTA:
                    best, since_best = test["loss"], 0
                else:
                    since_best += EVAL_EVERY
                    if since_best >= PATIENCE:
                        print(f"early stopping: no better test loss for {since_best} epochs",
                              flush=True)
                        break
    if train is None:  # diverged before the first evaluation
        model.train(False)
        with torch.no_grad():
            train, test = evaluate(model, x_sample, y_sample), evaluate(model, x_test, y_test)
    print(f"final train loss {train['loss']:.6f} test loss {test['loss']:.6f}", flush=True)
    return 1 if diverged else 0'''
