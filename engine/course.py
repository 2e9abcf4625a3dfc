"""The presets in teaching order, as presets/course.json lists them.

A file name sorts "Cure: gradient clipping" before "Exploding gradients"; a
course shows the problem first and its cures right after it. A preset the
course does not list yet (one a teacher just added) comes last, by its title.
"""

from __future__ import annotations

import json
from pathlib import Path

from engine.presets import PRESET_DIR, list_presets

COURSE_FILE = "course.json"


def course_order(folder: Path = PRESET_DIR) -> list[str]:
    """The names in presets/course.json, as written there (unchecked)."""
    path = folder / COURSE_FILE
    if not path.exists():
        return []
    return [str(n) for n in json.loads(path.read_text(encoding="utf-8")).get("order", [])]


def preset_title(name: str, folder: Path = PRESET_DIR) -> str:
    """A preset's name as people read it (its meta.name), without validating the file."""
    data = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    return str(data.get("meta", {}).get("name") or name)


def presets_in_course_order(folder: Path = PRESET_DIR) -> list[str]:
    """Every preset once: those the course lists in its order, then the rest by title."""
    present = set(list_presets(folder))
    listed = [n for n in dict.fromkeys(course_order(folder)) if n in present]
    rest = sorted(present - set(listed), key=lambda n: preset_title(n, folder).lower())
    return listed + rest
