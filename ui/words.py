"""Engine issues in words for the page: the place a problem concerns, said plainly.

The engine names places by their path in the spec (``model.nodes[3] (conv2)``,
``train.optimizer.lr``), which is right for a file or the command line; on
screen the same place reads "Layer 4 (conv2)" or "Training, learning rate".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from engine.errors import Issue
from engine.i18n import t

SECTIONS = {"data": "Data", "model": "Model", "train": "Training", "probes": "Views",
            "meta": "Name and notes", "schema": "File version"}
FIELDS = {"lr": "learning rate", "l1": "L1 rate", "l2": "L2 rate", "params": "settings",
          "eps": "epsilon", "grad_clip": "gradient clipping"}
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
        return ", ".join([where, *(_field(p) for p in parts)])
    head, *parts = [p for p in re.split(r"\.|\[\d+\]", path) if p]
    words = [t(SECTIONS.get(head, head.replace("_", " ").capitalize()))]
    words += [_field(p) for p in parts if p != "params"]
    return ", ".join(words)


def _field(name: str) -> str:
    return t(FIELDS.get(name, name.replace("_", " ")))


def issue_text(issue: Issue) -> str:
    """One line: the place, then the message (which names the fix)."""
    where = place(issue.path)
    return f"{where}: {issue.message}" if where else issue.message


def issues_text(issues: Iterable[Issue]) -> str:
    """Several issues as a Markdown list (one as a plain line)."""
    lines = [issue_text(i) for i in issues]
    return lines[0] if len(lines) == 1 else "\n".join(f"- {line}" for line in lines)
