"""``python -m engine export FILE --to script|onnx|csv|tensorboard OUT``.

script: OUT is a folder that receives <name>.py and <name>.npz (no training needed).
onnx: OUT is the .onnx file; the initial weights unless --train trains first.
csv, tensorboard: the experiment trains first (with a progress line), then OUT is the CSV
file or the folder of event files.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from engine.i18n import t

FORMATS = ("script", "onnx", "csv", "tensorboard")


def add_parser(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
               ) -> None:
    e = sub.add_parser("export", parents=parents, help="export an experiment: a standalone "
                       "PyTorch script, ONNX, the metrics as CSV, or TensorBoard event files")
    e.add_argument("file", help="a preset name (see list) or a path to an experiment .json")
    e.add_argument("--to", required=True, choices=FORMATS, help="the format")
    e.add_argument("out", help="script: a folder for <name>.py and <name>.npz; onnx: the "
                   ".onnx file; csv: the .csv file; tensorboard: a folder for event files")
    e.add_argument("--epochs", type=int, help="the epoch budget (needed when the experiment "
                   "has none)")
    e.add_argument("--seed", type=int)
    e.add_argument("--train", action="store_true", help="onnx: train first and export the "
                   "trained weights (default: the initial weights)")
    e.add_argument("--per", choices=("evaluation", "step"), default="evaluation",
                   help="csv: one row per evaluation (default) or per training step")


def _progress(s) -> None:  # noqa: ANN001
    done = s.progress
    bar = "#" * int(done * 24) + "-" * (24 - int(done * 24))
    losses = s.steps.get("loss", [])
    loss = f"{losses[-1]:.4f}" if len(losses) else "-"
    sys.stdout.write("\r" + t("[{bar}] epoch {epoch}/{epochs}  loss {loss}", bar=bar,
                              epoch=s.epoch, epochs=s.epochs, loss=loss) + " ")
    sys.stdout.flush()


def train(exp):  # noqa: ANN001, ANN201
    """Train ``exp`` to its epoch budget with a progress line; returns the trainer."""
    from engine.trainer import Trainer

    trainer = Trainer(exp)
    trainer.start()
    # A non-finite loss pauses the run for a user to act; here nobody will, so it ends.
    while trainer.alive and trainer.snapshot().stop_reason != "nonfinite":
        _progress(trainer.snapshot())
        time.sleep(0.2)
    trainer.stop()
    _progress(trainer.snapshot())
    print()
    return trainer


def cmd_export(args: argparse.Namespace, resolve) -> int:  # noqa: ANN001
    from engine.export.model_code import UnsupportedLayer
    from engine.export.script import ExportError, build_script, with_epochs
    from engine.validate import load_experiment

    exp = load_experiment(resolve(args.file))
    if args.seed is not None:
        exp = load_experiment(exp.model_copy(update={
            "train": exp.train.model_copy(update={"seed": args.seed})}))
    out = Path(args.out)
    try:
        exp = with_epochs(exp, args.epochs)
        if args.to == "script":
            py, npz = build_script(exp).write(out)
            print(t("wrote {script} and {data}; run it with: python {script}",
                    script=py, data=npz))
            return 0
        if args.to == "onnx":
            return _onnx(exp, out, args.train)
        trainer = train(exp)
        snap = trainer.snapshot()
        if snap.stop_reason == "nonfinite":
            print(t("the loss diverged at step {step}; the history up to there is written",
                    step=snap.step))
        if args.to == "csv":
            from engine.export.metrics_csv import metrics_csv

            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(metrics_csv(snap, args.per), encoding="utf-8")
        else:
            from engine.export.tensorboard import write_events

            write_events(snap, out, exp)
        print(t("wrote {path}", path=out))
        return 0
    except (ExportError, UnsupportedLayer) as e:
        print(t("error: {message}", message=e), file=sys.stderr)
        return 1


def _onnx(exp, out: Path, trained: bool) -> int:  # noqa: ANN001
    from engine.export.onnx_file import OnnxError, model_now, onnx_bytes
    from engine.trainer import Trainer

    trainer = train(exp) if trained else Trainer(exp)
    try:
        data = onnx_bytes(model_now(trainer, trained), trainer.x_test, exp.meta.name)
    except OnnxError as e:
        print(t("error: {message}", message=e), file=sys.stderr)
        return 1
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    size = f"{len(data) / 1000:.0f}"
    if trained:
        print(t("wrote {path} ({size} kB, the trained weights)", path=out, size=size))
    else:
        print(t("wrote {path} ({size} kB, the initial weights; --train exports trained ones)",
                path=out, size=size))
    return 0
