"""The course: the presets in teaching order, and what each one teaches, as
presets/course.json lists them.

A file name sorts "Cure: gradient clipping" before "Exploding gradients"; a
course shows the problem first and its cures right after it. A preset the
course does not list yet (one a teacher just added) comes last, by its title,
with no section, level or topics.

Per preset the course names its curriculum section (1 to 9, the sections of
the course notes' curriculum, see presets/curriculum.json), a level and topic
tags; the gallery shows them and filters by topic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.i18n import N_
from engine.presets import PRESET_DIR, list_presets
from engine.spec import Experiment

COURSE_FILE = "course.json"

# The curriculum's sections, as the course notes number them.
SECTIONS: dict[int, str] = {
    1: N_("Neurons, layers, activations"),
    2: N_("Losses"),
    3: N_("Optimisation"),
    4: N_("Keeping training healthy"),
    5: N_("Convolutional networks"),
    6: N_("Sequence models"),
    7: N_("Attention and Transformers"),
    8: N_("Generative models"),
    9: N_("Other families in the notes"),
}
LEVELS: dict[str, str] = {
    "introductory": N_("Introductory"),
    "intermediate": N_("Intermediate"),
    "advanced": N_("Advanced"),
}
# Topic tags, in the order the gallery's filter lists them.
TOPICS: dict[str, str] = {
    "neurons": N_("Neurons and layers"),
    "activations": N_("Activation functions"),
    "losses": N_("Loss functions"),
    "optimisers": N_("Optimisers and learning rate"),
    "gradients": N_("Vanishing and exploding gradients"),
    "regularisation": N_("Overfitting and regularisation"),
    "convolution": N_("Convolution"),
    "architectures": N_("Classic architectures"),
    "recurrent": N_("Recurrent networks"),
    "attention": N_("Attention"),
    "transformers": N_("Transformers"),
    "language": N_("Language models"),
    "regression": N_("Regression"),
}


@dataclass(frozen=True)
class CourseEntry:
    """What the course says about one preset (section None: the course does not list it)."""

    name: str
    section: int | None = None
    level: str = ""
    topics: tuple[str, ...] = ()


def _course_file(folder: Path) -> dict[str, Any]:
    path = folder / COURSE_FILE
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def course_order(folder: Path = PRESET_DIR) -> list[str]:
    """The names in presets/course.json, as written there (unchecked)."""
    return [str(n) for n in _course_file(folder).get("order", [])]


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


def course_entries(folder: Path = PRESET_DIR) -> dict[str, CourseEntry]:
    """Every preset's entry, in course order (an unlisted preset gets an empty one)."""
    info = _course_file(folder).get("presets", {})
    out = {}
    for name in presets_in_course_order(folder):
        raw = info.get(name) if isinstance(info, dict) else None
        if isinstance(raw, dict):
            section = raw.get("section")
            out[name] = CourseEntry(name, section if isinstance(section, int) else None,
                                    str(raw.get("level", "")),
                                    tuple(str(x) for x in raw.get("topics", [])))
        else:
            out[name] = CourseEntry(name)
    return out


def course_problems(folder: Path = PRESET_DIR) -> list[str]:
    """What is wrong in presets/course.json, one line each (empty: nothing)."""
    data = _course_file(folder)
    order, info = course_order(folder), data.get("presets", {})
    present = set(list_presets(folder))
    out = [f"course.json: order lists {n!r} more than once; keep one"
           for n in sorted({n for n in order if order.count(n) > 1})]
    out += [f"course.json: order lists {n!r}, which is not a preset; remove it"
            for n in order if n not in present]
    out += [f"course.json: preset {n!r} is missing from order; add it where it teaches"
            for n in sorted(present - set(order))]
    if not isinstance(info, dict):
        return [*out, "course.json: 'presets' must map each preset to its section, level "
                "and topics"]
    for name in sorted(present):
        raw = info.get(name)
        if not isinstance(raw, dict):
            out.append(f"course.json: presets.{name} is missing; give its section, level "
                       "and topics")
            continue
        if raw.get("section") not in SECTIONS:
            out.append(f"course.json: presets.{name}.section must be one of 1 to "
                       f"{len(SECTIONS)}, got {raw.get('section')!r}")
        if raw.get("level") not in LEVELS:
            out.append(f"course.json: presets.{name}.level must be one of "
                       f"{', '.join(LEVELS)}, got {raw.get('level')!r}")
        topics = raw.get("topics")
        if not isinstance(topics, list) or not topics:
            out.append(f"course.json: presets.{name}.topics must list at least one topic")
        else:
            out += [f"course.json: presets.{name}.topics: unknown topic {x!r} (known: "
                    f"{', '.join(TOPICS)})" for x in topics if x not in TOPICS]
    out += [f"course.json: presets.{n} describes no preset; remove it"
            for n in sorted(set(info) - present)]
    return out


# The page a preset opens on, by its data set's category: toy sets are drawn on the plane
# (Playground), image sets on Vision, token and sequence sets on Sequences; the rest (tables,
# files) on Train, which draws anything.
PAGE_BY_CATEGORY = {"toy": "playground", "image": "vision", "sequence": "sequences",
                    "text": "sequences"}


def page_for(exp: Experiment) -> str:
    """The path (as ui/pages.py names it) of the page that shows ``exp`` best."""
    from engine.data import DATASETS

    if exp.data.name not in DATASETS:
        return "train"
    return PAGE_BY_CATEGORY.get(DATASETS.get(exp.data.name).category, "train")
