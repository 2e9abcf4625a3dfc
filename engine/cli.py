"""Command line: ``python -m engine run|validate|list|describe|export``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import TextIO

from engine.budget import ENV_SCALE
from engine.data.download import ENV_DIR, reporting
from engine.errors import Issue, SpecError
from engine.export.cli import add_parser as add_export_parser
from engine.export.cli import cmd_export
from engine.presets import PRESET_DIR, list_presets, preset_path
from engine.validate import load_experiment


def _resolve(name: str) -> Path:
    """A preset name or a path to a JSON file."""
    p = Path(name)
    return p if p.suffix == ".json" or p.exists() else preset_path(name)


def _bar(frac: float, width: int = 24) -> str:
    filled = int(frac * width)
    return "#" * filled + "-" * (width - filled)


def latest_grad_norms(trainer) -> dict[str, float]:  # noqa: ANN001
    """The newest gradient norm per node from whichever probe records them."""
    for p in trainer.probes:
        if p.name in ("gradient_flow", "grad_norm"):
            r = p.result()
            values = r["grad"] if p.name == "gradient_flow" else r["values"]
            if len(r["steps"]):
                return dict(zip(r["nodes"], values[-1].tolist(), strict=True))
    return {}


class JsonlWriter:
    """A probe that writes one JSON object per evaluation (the logged steps)."""

    def __init__(self, out: TextIO) -> None:
        from engine.probes import Probe

        class _Writer(Probe):
            name = "metrics_out"

            def on_epoch_end(self, trainer) -> None:  # noqa: ANN001
                h = trainer.eval_history
                if h.total == 0 or h.last("epoch") != trainer.epoch:
                    return
                row = {k: v[-1] for k, v in h.columns.items()}
                row["step"], row["epoch"] = int(row["step"]), int(row["epoch"])  # first row: floats
                row["grad_norm"] = latest_grad_norms(trainer)
                row["lr"] = trainer.step_history.last("lr")
                out.write(json.dumps(row) + "\n")

        self.probe = _Writer(every=1)


def cmd_run(args: argparse.Namespace) -> int:
    from engine.trainer import Trainer

    exp = load_experiment(_resolve(args.preset))
    train = exp.train.model_copy(update={k: v for k, v in (
        ("epochs", args.epochs), ("device", args.device), ("seed", args.seed)) if v is not None})
    if train.epochs is None:
        raise SpecError(Issue("train.epochs", "this experiment has no epoch budget (in the app "
                              "it trains until stopped); give one here with --epochs N",
                              "no_epochs"))
    exp = load_experiment(exp.model_copy(update={"train": train}))
    out = open(args.metrics_out, "w", encoding="utf-8") if args.metrics_out else None  # noqa: SIM115
    try:
        extra = [JsonlWriter(out).probe] if out else []
        trainer = Trainer(exp, probes=extra)
        print(f"{exp.meta.name}: {exp.data.name}, {trainer.plan.total_params} parameters, "
              f"{exp.train.epochs} epochs on {trainer.device}")
        trainer.start()
        # A non-finite loss pauses the run for a user to act; here nobody will, so it ends.
        while trainer.alive and trainer.snapshot().stop_reason != "nonfinite":
            _progress(trainer.snapshot())
            time.sleep(0.2)
        snap = trainer.snapshot()
        trainer.stop()
        _progress(snap)
        print()
    finally:
        if out:
            out.close()
    _summary(snap)
    return 0 if snap.status == "finished" else 1


def _progress(s) -> None:  # noqa: ANN001
    loss = s.steps["loss"][-1] if len(s.steps.get("loss", [])) else float("nan")
    test = s.final.get("test_loss", float("nan"))
    sys.stdout.write(f"\r[{_bar(s.progress)}] epoch {s.epoch}/{s.epochs}  step {s.step}  "
                     f"loss {loss:.4f}  test loss {test:.4f}  {s.steps_per_sec:,.0f} steps/s ")
    sys.stdout.flush()


def _summary(s) -> None:  # noqa: ANN001
    print(f"status: {s.status} ({s.stop_reason})   steps: {s.step}   epochs: {s.epoch}   "
          f"time: {s.elapsed:.1f} s")
    for key in sorted(s.final):
        if key not in ("step", "epoch"):
            print(f"  {key:<16} {s.final[key]:.4f}")
    if s.nonfinite:
        n = s.nonfinite
        print(f"non-finite at step {n['step']}: node {n['node']}: {n['what']}. "
              "Lower the learning rate or clip gradients.")
    if s.error:
        print(f"error: {s.error}")


def cmd_validate(args: argparse.Namespace) -> int:
    bad = 0
    for f in args.files:
        if Path(f).name == "schema.json":
            print(f"{f}: skipped (the JSON Schema itself, not an experiment)")
            continue
        if Path(f).name in ("course.json", "curriculum.json"):
            print(f"{f}: skipped (the course's outline, not an experiment)")
            continue
        try:
            load_experiment(Path(f))
            print(f"{f}: ok")
        except SpecError as e:
            bad += 1
            for issue in e.issues:
                print(f"{f}: {issue}")
    return 1 if bad else 0


def cmd_list(args: argparse.Namespace) -> int:
    from engine.data import DATASETS
    from engine.layers import LAYERS
    from engine.probes import PROBES
    from engine.spec import LossName, OptimizerName, ScheduleName

    sections = {
        "presets": [f"{n}: {json.loads((PRESET_DIR / f'{n}.json').read_text())['meta']['name']}"
                    for n in list_presets()],
        "data sets": [f"{d.name} ({d.kind}, {d.category}): {d.help}" for d in DATASETS],
        "layers": [f"{lt.name} ({lt.category}): {lt.help}" for lt in LAYERS],
        "optimizers": list(OptimizerName.__args__),
        "schedules": list(ScheduleName.__args__),
        "losses": list(LossName.__args__),
        "probes": [f"{p.name}: {p.help}" for p in PROBES],
    }
    for title, rows in sections.items():
        print(f"{title}:")
        for r in rows:
            print(f"  {r}")
    return 0


def _axes(values: list[float]) -> str:
    """Rows by columns, or one number when both agree."""
    a, b = (f"{v:g}" for v in values)
    return a if a == b else f"{a}x{b}"


def cmd_describe(args: argparse.Namespace) -> int:
    from engine.receptive import field_rows, is_image
    from engine.validate import check

    exp = load_experiment(_resolve(args.file))
    _, plan = check(exp)
    rows = field_rows(plan)
    if args.json:
        print(json.dumps({"nodes": [
            {"id": r["id"], "type": r["type"], "output_shape": r["output_shape"],
             "params": r["params"],
             "receptive_field": None if r["field"] is None else r["field"].as_dict()}
            for r in rows]}, indent=2))
        return 0
    image = is_image(plan.input_shape)
    print(f"{exp.meta.name}: input {list(plan.input_shape)}, {plan.total_params:,} parameters")
    table = [["node", "type", "output", "parameters"]
             + (["field size", "jump", "start"] if image else [])]
    for r in rows:
        line = [r["id"], r["type"], "x".join(map(str, r["output_shape"])), f"{r['params']:,}"]
        f = r["field"]
        if image and f is None:
            line += ["-", "-", "-"]
        elif image and f.whole:
            line += ["whole input", "-", "-"]
        elif image:
            line += [_axes(f.size) + ("" if f.exact else " (covers)"), _axes(f.jump),
                     _axes(f.start)]
        table.append(line)
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    if image:
        print("field size: input pixels one unit sees (rows x columns, or one number for both)"
              "\njump: input pixels between neighbouring units\nstart: centre of the first "
              "unit's field (negative: in the padding)")
    if any(r["field"] is not None and not r["field"].exact for r in rows):
        print("(covers): paths with different jumps meet here; the size given covers all of "
              "them")
    return 0


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def _download_bar(done: int, total: int) -> None:
    """Download progress on stderr, so stdout stays the run's own output."""
    sys.stderr.write(f"\rdownloading [{_bar(done / total if total else 1.0)}] "
                     f"{done / 1e6:.1f} of {total / 1e6:.1f} MB ")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _restore(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m engine", description=__doc__)
    budget = argparse.ArgumentParser(add_help=False)
    budget.add_argument(
        "--budget-scale", type=_scale, metavar="FACTOR",
        help="multiply the resource budget (parameters, activation memory per batch, data "
        f"size) by FACTOR (it sets {ENV_SCALE}), e.g. 10 for a larger model on your own "
        "machine; the limits come from NP_MAX_PARAMS, NP_MAX_ACTIVATION_MB and NP_MAX_DATA_MB "
        "(defaults: 10 million parameters, 512 MB, 256 MB)")
    budget.add_argument(
        "--data-dir", metavar="FOLDER", help="where downloaded data sets (mnist, "
        "fashion_mnist, cifar10) are kept and looked for (it sets NP_DATA_DIR; default: "
        "cache/data in the project)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="train a preset or experiment file", parents=[budget])
    r.add_argument("preset", help="a preset name (see list) or a path to an experiment .json")
    r.add_argument("--epochs", type=int,
                   help="the epoch budget (needed when the experiment has none)")
    r.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"])
    r.add_argument("--seed", type=int)
    r.add_argument("--metrics-out", metavar="FILE.jsonl")
    v = sub.add_parser("validate", help="check experiment files", parents=[budget])
    v.add_argument("files", nargs="+")
    sub.add_parser("list", help="list presets, data sets, layers, optimizers, losses")
    d = sub.add_parser("describe", parents=[budget],
                       help="per node: output shape, parameters and receptive field")
    d.add_argument("file", help="a preset name (see list) or a path to an experiment .json")
    d.add_argument("--json", action="store_true",
                   help='print {"nodes": [{"id", "type", "output_shape", "params", '
                   '"receptive_field"}]}')
    add_export_parser(sub, [budget])
    args = ap.parse_args(argv)
    # The budget is read from the environment wherever a spec is checked; the flag sets it
    # for this command only (main may run inside a longer-lived process, such as a test).
    old_scale = os.environ.get(ENV_SCALE)
    if getattr(args, "budget_scale", None) is not None:
        os.environ[ENV_SCALE] = repr(args.budget_scale)
    old_dir = os.environ.get(ENV_DIR)
    if getattr(args, "data_dir", None):
        os.environ[ENV_DIR] = str(Path(args.data_dir).resolve())
    try:
        with reporting(_download_bar):
            if args.cmd == "export":
                return cmd_export(args, _resolve)
            return {"run": cmd_run, "validate": cmd_validate, "list": cmd_list,
                    "describe": cmd_describe}[args.cmd](args)
    except SpecError as e:
        for issue in e.issues:
            print(f"error: {issue}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        _restore(ENV_DIR, old_dir)
        if old_scale is None:
            os.environ.pop(ENV_SCALE, None)
        else:
            os.environ[ENV_SCALE] = old_scale
