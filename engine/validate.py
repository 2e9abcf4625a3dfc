"""Load and check an experiment once, with errors that name the exact place.

A spec that passes here can be trained; a bad one never reaches the trainer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from engine.data import load_data
from engine.data.base import DataBundle
from engine.device import available_devices
from engine.errors import Issue, SpecError
from engine.graph import Plan, plan_model
from engine.i18n import N_, t
from engine.params import resolve_params
from engine.spec import SCHEMA_VERSION, Experiment

# from_version -> function turning that version's dict into the next version's
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


MAX_JSON_BYTES = 4 * 2**20  # the largest preset is a few kilobytes; own text at most ~1 MB


def read_json(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        with p.open("rb") as f:  # one byte past the cap is enough to refuse the file
            raw = f.read(MAX_JSON_BYTES + 1)
    except FileNotFoundError:
        raise SpecError(Issue("", t("{file}: file not found", file=p.name), "not_found")) from None
    except OSError as e:  # the reason only: the message must not show the server's folders
        raise SpecError(Issue("", t("{file}: cannot be read ({error})", file=p.name,
                                    error=e.strerror or type(e).__name__),
                              "unreadable")) from None
    return parse_json(raw, p.name)


def parse_json(raw: bytes, name: str) -> dict[str, Any]:
    """An experiment file's bytes as a dict; anything else is one SpecError line naming
    the file and the fix (a file or an upload: both arrive from anyone)."""
    if len(raw) > MAX_JSON_BYTES:
        raise SpecError(Issue("", t("{file}: the file is larger than {mb} MB, too large for "
                                    "an experiment; open the right file",
                                    file=name, mb=MAX_JSON_BYTES // 2**20), "too_large"))
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark (Windows editors) is harmless
    except UnicodeDecodeError:
        raise SpecError(Issue("", t("{file}: cannot be read: it is not UTF-8 text; save it "
                                    "as UTF-8 and open it again", file=name),
                              "unreadable")) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise SpecError(Issue("", t("{file}: not valid JSON at line {line}, column {column}: "
                                    "{error}", file=name, line=e.lineno, column=e.colno,
                                    error=e.msg), "bad_json")) from None
    except RecursionError:  # thousands of nested brackets: no experiment is built so deep
        raise SpecError(Issue("", t("{file}: its JSON is nested too deeply to be an "
                                    "experiment; open the right file", file=name),
                              "bad_json")) from None
    if not isinstance(data, dict):
        raise SpecError(Issue("", t("{file}: an experiment is a JSON object", file=name),
                              "bad_json"))
    return data


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring an older spec up to the current schema, or refuse it by name."""
    version = data.get("schema")
    if not isinstance(version, int) or isinstance(version, bool):
        raise SpecError(Issue("schema", t("must be the schema version number (this app writes "
                                          "{current}), got {version}", current=SCHEMA_VERSION,
                                          version=repr(version)), "schema_version"))
    if version > SCHEMA_VERSION:
        raise SpecError(Issue("schema", t("version {version} is newer than this app "
                                          "understands (up to {current}); update Neural "
                                          "Playground", version=version, current=SCHEMA_VERSION),
                              "schema_version"))
    while version < SCHEMA_VERSION:
        if version not in MIGRATIONS:
            raise SpecError(Issue("schema", t("version {version} is no longer supported (this "
                                              "app reads version {current})", version=version,
                                              current=SCHEMA_VERSION), "schema_version"))
        data = MIGRATIONS[version](data)
        version = data["schema"]
    return data


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# Pydantic speaks English only: its usual errors as sentences the catalogue translates.
# A template is used only when pydantic's own English (adapted below) reads as it, its
# placeholders filled from that text (so numbers keep pydantic's formatting); a message
# pydantic words differently keeps pydantic's words.
PYDANTIC_WORDS = {
    "greater_than": N_("must be greater than {gt}, got {input}"),
    "greater_than_equal": N_("must be greater than or equal to {ge}, got {input}"),
    "less_than": N_("must be less than {lt}, got {input}"),
    "less_than_equal": N_("must be less than or equal to {le}, got {input}"),
    "literal_error": N_("must be {expected}, got {input}"),
    "int_type": N_("must be a valid integer, got {input}"),
    "int_parsing": N_("must be a valid integer, unable to parse string as an integer, "
                      "got {input}"),
    "int_from_float": N_("must be a valid integer, got a number with a fractional part, "
                         "got {input}"),
    "float_type": N_("must be a valid number, got {input}"),
    "float_parsing": N_("must be a valid number, unable to parse string as a number, "
                        "got {input}"),
    "finite_number": N_("must be a finite number, got {input}"),
    "bool_type": N_("must be a valid boolean, got {input}"),
    "bool_parsing": N_("must be a valid boolean, unable to interpret input, got {input}"),
    "string_type": N_("must be a valid string, got {input}"),
    "string_pattern_mismatch": N_("must match pattern '{pattern}', got {input}"),
    "string_too_long": N_("must have at most {max_length} characters, got {input}"),
    "list_type": N_("must be a valid list, got {input}"),
    "dict_type": N_("must be a valid dictionary, got {input}"),
}


# Lists (nodes, lesson steps, probes) too long or too short: counted, not echoed whole.
LENGTH_WORDS = {
    "too_long": N_("must have at most {max_length} items, got {actual_length}"),
    "too_short": N_("must have at least {min_length} items, got {actual_length}"),
}
SHOWN_CHARS = 60  # of a bad value quoted back: enough to recognise it, never a page of it


def shown_value(value: Any) -> str:
    """A bad value as a message quotes it: its repr, cut short with an ellipsis."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS - 1] + "…"


def _pydantic_message(e: Any) -> str:
    if e["type"] == "extra_forbidden":
        return t("unknown field; remove it or check its spelling")
    if e["type"] == "missing":
        return t("is required")
    if e["type"] in LENGTH_WORDS and "actual_length" in e.get("ctx", {}):
        return t(LENGTH_WORDS[e["type"]], **e["ctx"])
    english = e["msg"].replace("Input should be", "must be").replace("String should", "must")
    english += f", got {shown_value(e['input'])}"
    template = PYDANTIC_WORDS.get(e["type"])
    found = template and re.fullmatch(_pattern(template), english, re.DOTALL)
    return t(template, **found.groupdict()) if found else english


def _pattern(template: str) -> str:
    """A regular expression matching ``template`` with each {name} captured."""
    parts = re.split(r"\{(\w+)\}", template)
    return "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.*?)"
                   for i, p in enumerate(parts))


def pydantic_issues(err: ValidationError) -> list[Issue]:
    return [Issue(_loc(e["loc"]), _pydantic_message(e), e["type"]) for e in err.errors()]


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
        issues.append(Issue("train.task", t("{task} cannot train on {data}, which is a {kind} "
                                            "data set; set task to {kind}", task=task_name,
                                            data=exp.data.name, kind=data.kind), "task_kind"))
    if tr.loss is not None and tr.loss not in task_type.losses:
        issues.append(Issue("train.loss", t("{loss} does not fit {task}; choose one of "
                                            "{losses}", loss=tr.loss, task=task_name,
                                            losses=", ".join(task_type.losses)), "loss_task"))
    if tr.loss == "bce" and data.n_outputs != 2:
        issues.append(Issue("train.loss", t("binary cross-entropy needs 2 classes, {data} has "
                                            "{n}; use cross_entropy", data=exp.data.name,
                                            n=data.n_outputs), "loss_task"))
    if tr.epochs is None and tr.schedule.name in NEEDS_RUN_LENGTH:
        issues.append(Issue("train.schedule", t(
            "the {schedule} schedule is shaped over the whole run, so it needs an epoch budget; "
            "set train.epochs to a number, or choose the constant, step or exponential schedule",
            schedule=tr.schedule.name), "schedule_needs_epochs"))
    if exp.data.augment.active and data.image is None:
        issues.append(Issue("data.augment", t("augmentation changes images, and {data} has "
                                              "none; turn augmentation off or choose an image "
                                              "data set", data=exp.data.name),
                            "augment_not_image"))
    if tr.device not in ("auto", *available_devices()):
        issues.append(Issue("train.device", t("{device} is not available here (available: "
                                              "{available}); choose auto", device=tr.device,
                                              available=", ".join(available_devices())),
                            "device"))
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
    from engine.token_inputs import token_issues

    issues += token_issues(plan, data)
    if tr.init_from is not None:  # fine-tuning: the saved run exists, frozen nodes too
        from engine.pretrained import init_issues

        issues += init_issues(tr.init_from, (n.id for n in plan.nodes))
    if issues:
        raise SpecError(issues)
    check_budget(plan, tr.batch_size, data)
    problem = task_type.make(tr, data).output_problem(plan.output_shape)
    if problem:
        last = plan.by_id(plan.output_id)
        raise SpecError(Issue(last.path, problem, "output_shape"))
    return data, plan


def _broken_text(value: Any, path: str = "") -> str | None:
    """The spec path of the first string (key or value) holding a lone surrogate."""
    if isinstance(value, str):
        return None if value.isascii() or not _SURROGATE.search(value) else path
    items = (value.items() if isinstance(value, dict) else
             enumerate(value) if isinstance(value, list) else ())
    for key, item in items:
        where = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else key
        if isinstance(key, str) and _broken_text(key) is not None:
            return where
        found = _broken_text(item, where)
        if found is not None:
            return found
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")


def load_experiment(source: Experiment | dict[str, Any] | str | Path) -> Experiment:
    """Read (a path, a dict or an Experiment), migrate, and check a spec completely."""
    if isinstance(source, Experiment):
        exp = source
    else:
        data = read_json(source) if isinstance(source, str | Path) else dict(source)
        data = migrate(data)
        bad_text = _broken_text(data)
        if bad_text is not None:  # JSON may carry half a character ("\\ud800"), which
            # nothing can encode again: the link, the file and the page would all fail later
            raise SpecError(Issue(bad_text, t("holds a broken character (half of a UTF-16 "
                                              "pair); retype that text"), "broken_text"))
        try:
            exp = Experiment.model_validate(data)
        except ValidationError as e:
            raise SpecError(pydantic_issues(e)) from None
    check(exp)
    return exp
