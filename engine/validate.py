"""Load and check an experiment once, with errors that name the exact place.

A spec that passes here can be trained; a bad one never reaches the trainer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from engine.data import load_data
from engine.data.base import DataBundle
from engine.device import available_devices
from engine.errors import Issue, SpecError
from engine.graph import Plan, plan_model
from engine.params import resolve_params
from engine.spec import SCHEMA_VERSION, Experiment

# from_version -> function turning that version's dict into the next version's
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def read_json(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(Issue("", f"{p.name}: file not found", "not_found")) from None
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError(Issue("", f"{p.name}: cannot be read ({e})", "unreadable")) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise SpecError(Issue("", f"{p.name}: not valid JSON at line {e.lineno}, column "
                              f"{e.colno}: {e.msg}", "bad_json")) from None
    if not isinstance(data, dict):
        raise SpecError(Issue("", f"{p.name}: an experiment is a JSON object", "bad_json"))
    return data


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring an older spec up to the current schema, or refuse it by name."""
    version = data.get("schema")
    if not isinstance(version, int) or isinstance(version, bool):
        raise SpecError(Issue("schema", f"must be the schema version number (this app writes "
                              f"{SCHEMA_VERSION}), got {version!r}", "schema_version"))
    if version > SCHEMA_VERSION:
        raise SpecError(Issue("schema", f"version {version} is newer than this app understands "
                              f"(up to {SCHEMA_VERSION}); update Neural Playground",
                              "schema_version"))
    while version < SCHEMA_VERSION:
        if version not in MIGRATIONS:
            raise SpecError(Issue("schema", f"version {version} is no longer supported (this "
                                  f"app reads version {SCHEMA_VERSION})", "schema_version"))
        data = MIGRATIONS[version](data)
        version = data["schema"]
    return data


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def pydantic_issues(err: ValidationError) -> list[Issue]:
    issues = []
    for e in err.errors():
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown field; remove it or check its spelling"
        elif e["type"] == "missing":
            msg = "is required"
        else:
            msg = msg.replace("Input should be", "must be").replace("String should", "must")
            msg += f", got {e['input']!r}"
        issues.append(Issue(_loc(e["loc"]), msg, e["type"]))
    return issues


def check(exp: Experiment) -> tuple[DataBundle, Plan]:
    """The checks that need the registries: data, task, loss, graph, probes, device, and
    the server's budget (before anything is built)."""
    from engine.budget import check_budget
    from engine.optim import NEEDS_RUN_LENGTH
    from engine.probes import PROBES
    from engine.tasks import TASKS

    data = load_data(exp.data)
    tr = exp.train
    issues: list[Issue] = []
    task_name = tr.task or data.kind
    task_type = TASKS.get(task_name)
    if data.kind not in task_type.kinds:
        issues.append(Issue("train.task", f"{task_name} cannot train on {exp.data.name}, which "
                            f"is a {data.kind} data set; set task to {data.kind}", "task_kind"))
    if tr.loss is not None and tr.loss not in task_type.losses:
        issues.append(Issue("train.loss", f"{tr.loss} does not fit {task_name}; choose one of "
                            f"{', '.join(task_type.losses)}", "loss_task"))
    if tr.loss == "bce" and data.n_outputs != 2:
        issues.append(Issue("train.loss", f"binary cross-entropy needs 2 classes, "
                            f"{exp.data.name} has {data.n_outputs}; use cross_entropy",
                            "loss_task"))
    if tr.epochs is None and tr.schedule.name in NEEDS_RUN_LENGTH:
        issues.append(Issue("train.schedule", f"the {tr.schedule.name} schedule is shaped over "
                            "the whole run, so it needs an epoch budget; set train.epochs to a "
                            "number, or choose the constant, step or exponential schedule",
                            "schedule_needs_epochs"))
    if exp.data.augment.active and data.image is None:
        issues.append(Issue("data.augment", f"augmentation changes images, and {exp.data.name} "
                            "has none; turn augmentation off or choose an image data set",
                            "augment_not_image"))
    if tr.device not in ("auto", *available_devices()):
        issues.append(Issue("train.device", f"{tr.device} is not available here (available: "
                            f"{', '.join(available_devices())}); choose auto", "device"))
    for i, p in enumerate(exp.probes):
        if p.name not in PROBES:
            issues.append(Issue(f"probes[{i}].name", PROBES.unknown(p.name), "unknown_probe"))
        else:
            _, problems = resolve_params(PROBES.get(p.name).params, p.params)
            issues += [Issue(f"probes[{i}].params", m, "bad_probe_param") for m in problems]
    try:  # the graph's own problems show beside the others, not after they are fixed
        plan = plan_model(exp.model, data.input_shape, data.parts)
    except SpecError as e:
        raise SpecError(issues + e.issues) from None
    if data.vocab:
        from engine.layers.embedding import vocab_problem

        for n in plan.nodes:
            problem = n.type == "embedding" and vocab_problem(n.params["vocab_size"],
                                                              len(data.vocab))
            if problem:
                issues.append(Issue(n.path, problem, "vocab_size"))
    if issues:
        raise SpecError(issues)
    check_budget(plan, tr.batch_size, data)
    problem = task_type.make(tr, data).output_problem(plan.output_shape)
    if problem:
        last = plan.by_id(plan.output_id)
        raise SpecError(Issue(last.path, problem, "output_shape"))
    return data, plan


def load_experiment(source: Experiment | dict[str, Any] | str | Path) -> Experiment:
    """Read (a path, a dict or an Experiment), migrate, and check a spec completely."""
    if isinstance(source, Experiment):
        exp = source
    else:
        data = read_json(source) if isinstance(source, str | Path) else dict(source)
        data = migrate(data)
        try:
            exp = Experiment.model_validate(data)
        except ValidationError as e:
            raise SpecError(pydantic_issues(e)) from None
    check(exp)
    return exp
