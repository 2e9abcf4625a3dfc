"""Engine issues in words for the page: the place a problem concerns, said plainly.

The words for a place live in engine/places.py (the differences between two runs
name places the same way); this module puts them in front of the engine's messages.
"""

from __future__ import annotations

from collections.abc import Iterable

from engine.errors import Issue
from engine.places import FIELDS, NODE, SECTIONS, SILENT, place  # noqa: F401 (kept importable)


def issue_text(issue: Issue) -> str:
    """One line: the place, then the message (which names the fix)."""
    where = place(issue.path)
    return f"{where}: {issue.message}" if where else issue.message


def issues_text(issues: Iterable[Issue]) -> str:
    """Several issues as a Markdown list (one as a plain line)."""
    lines = [issue_text(i) for i in issues]
    return lines[0] if len(lines) == 1 else "\n".join(f"- {line}" for line in lines)
