"""Every user-facing string has its Chinese entry, and the language is per browser session.

The catalogue check reads the code, not a running app: every literal passed to ``t()`` or
marked with ``N_()`` in app.py, ui/, views/, viz/ and engine/, the pages' titles and
sections, the form labels and help the pages generate from the registries' declarations,
and the texts of every preset file. A failure lists each missing string with the file it
is in, so the fix is one catalogue entry per line.
"""

from __future__ import annotations

import ast
import json
import string
import threading
from collections import defaultdict
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from engine.i18n import LOCALES, catalogue, t, using

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("app.py", "ui", "views", "viz", "engine")
MARKERS = ("t", "N_")


def source_files() -> Iterator[Path]:
    for name in SOURCES:
        path = ROOT / name
        yield from [path] if path.is_file() else sorted(path.rglob("*.py"))


@cache
def marked_strings(path: Path) -> tuple[tuple[str | None, int, ast.expr], ...]:
    """(text, line, first argument) of every ``t(...)`` and ``N_(...)`` call in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return tuple((node.args[0].value if isinstance(node.args[0], ast.Constant) else None,
                  node.lineno, node.args[0])
                 for node in ast.walk(tree)
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                 and node.func.id in MARKERS and node.args)


def code_strings() -> dict[str, list[str]]:
    """English text -> where it is marked ("views/train.py:12")."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in source_files():
        for text, line, _ in marked_strings(path):
            if isinstance(text, str) and text.strip():
                found[text].append(f"{path.relative_to(ROOT)}:{line}")
    return found


def page_strings() -> dict[str, list[str]]:
    """The navigation's words (translated by app.py from ui/pages.py's tables)."""
    from ui.pages import PAGES, SECTIONS

    found: dict[str, list[str]] = defaultdict(list)
    for p in PAGES:
        found[p.title].append("ui/pages.py (page title)")
    for s in SECTIONS:
        found[s].append("ui/pages.py (section)")
    return found


def form_strings() -> dict[str, list[str]]:
    """Labels and help of the forms the pages generate from the engine's declarations."""
    from engine.data import DATASETS
    from engine.layers import LAYERS
    from ui.augment_panel import PARAMS as AUGMENT
    from ui.forms import label_of

    found: dict[str, list[str]] = defaultdict(list)

    def params(where: str, decl: tuple) -> None:
        for p in decl:
            found[label_of(p)].append(f"{where}: label of {p.name} (ui/forms.py)")
            if p.help:
                found[p.help].append(f"{where}: help of {p.name}")

    # Tests register their own small types, named test_...: not the app's.
    for lt in (lt for lt in LAYERS if not lt.name.startswith("test_")):
        found[lt.help].append(f"layer {lt.name}: help")
        found[lt.category].append(f"layer {lt.name}: category")
        params(f"layer {lt.name}", lt.params)
    for ds in (ds for ds in DATASETS if not ds.name.startswith("test_")):
        found[ds.title].append(f"data set {ds.name}: title")
        if ds.help:
            found[ds.help].append(f"data set {ds.name}: help")
        found[ds.category].append(f"data set {ds.name}: category")
        params(f"data set {ds.name}", ds.params)
    params("augmentation", AUGMENT)
    return found


def preset_strings() -> dict[str, list[str]]:
    """Each preset's name, description, lesson, and its lesson steps' texts and buttons."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted((ROOT / "presets").glob("*.json")):
        spec = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(spec, dict) or not isinstance(spec.get("meta"), dict):
            continue  # course.json, curriculum.json, schema.json: not presets
        meta = spec["meta"]
        for field in ("name", "description", "lesson"):
            if meta.get(field):
                found[meta[field]].append(f"presets/{path.name}: meta.{field}")
        for i, step in enumerate(meta.get("steps") or []):
            for field in ("text", "button"):
                if step.get(field):
                    found[step[field]].append(f"presets/{path.name}: meta.steps[{i}].{field}")
    return found


def missing(strings: dict[str, list[str]]) -> list[str]:
    zh = catalogue("zh")
    return [f"{where[0]}: {text!r}" for text, where in sorted(strings.items())
            if text not in zh]


def fields(text: str) -> list[str]:
    """The ``{placeholders}`` of a format string, in order (plotly's ``%{x}`` included)."""
    try:
        return sorted(f"{name}:{spec}" for _, name, spec, _ in string.Formatter().parse(text)
                      if name is not None)
    except ValueError as e:  # an unbalanced brace: the test names the entry
        return [f"unreadable ({e})"]


@pytest.fixture(autouse=True)
def fresh_catalogue() -> Iterator[None]:
    catalogue.cache_clear()
    yield
    catalogue.cache_clear()


def test_every_string_in_the_code_has_a_chinese_entry() -> None:
    gaps = missing(code_strings() | page_strings())
    assert not gaps, f"{len(gaps)} strings lack a zh entry:\n" + "\n".join(gaps)


def test_every_form_label_and_help_has_a_chinese_entry() -> None:
    gaps = missing(form_strings())
    assert not gaps, f"{len(gaps)} form texts lack a zh entry:\n" + "\n".join(gaps)


def test_every_preset_text_has_a_chinese_entry() -> None:
    gaps = missing(preset_strings())
    assert not gaps, f"{len(gaps)} preset texts lack a zh entry:\n" + "\n".join(gaps)


def test_no_translated_text_is_built_at_run_time() -> None:
    """``t(f"...")`` or ``t("a" + b)`` has no catalogue entry to find."""
    built = [f"{path.relative_to(ROOT)}:{line}" for path in source_files()
             for _, line, arg in marked_strings(path)
             if isinstance(arg, ast.JoinedStr | ast.BinOp)]
    assert not built, "texts built before t() (mark the parts instead):\n" + "\n".join(built)


def test_translations_keep_their_placeholders_and_agree_across_files() -> None:
    problems, seen = [], {}
    for path in sorted((LOCALES / "zh").glob("*.json")):
        entries = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(entries, dict), f"{path.name} is not one JSON object"
        for english, chinese in entries.items():
            if not isinstance(chinese, str) or not chinese.strip():
                problems.append(f"{path.name}: {english!r} has an empty translation")
            elif fields(english) != fields(chinese):
                problems.append(f"{path.name}: {english!r} has {fields(english)}, its "
                                f"translation {fields(chinese)}")
            if english in seen and seen[english][1] != chinese:
                problems.append(f"{path.name} and {seen[english][0]} translate {english!r} "
                                f"differently")
            seen.setdefault(english, (path.name, chinese))
    assert not problems, "\n".join(problems)


def test_the_catalogue_check_fails_for_a_string_without_an_entry() -> None:
    """The checks above can fail: a new string and a wrong placeholder are caught."""
    assert missing({"A sentence nobody has translated yet": ["here"]})
    assert fields("{n} epochs") != fields("{count} 个轮次")


# The language per browser session ---------------------------------------------------------

def test_two_sessions_on_one_server_each_keep_their_language() -> None:
    from tests.apptest import open_app

    with using("zh"):
        train_zh = t("Train")
    assert train_zh != "Train"
    chinese = open_app("spiral", lang="zh")
    english = open_app("spiral")
    # Each run of one session in between runs of the other: a module global would leak.
    # AppTest formats a select box's value again in the test's own thread, outside any
    # session (English there): ``using`` gives that thread the session's language. The
    # script runs in its own thread, which reads its session's choice.
    with using("zh"):
        chinese.run()
    assert chinese.button(key="pg-train").label == train_zh
    assert english.button(key="pg-train").label == "Train"
    english.run()
    with using("zh"):
        chinese.run()
    assert not chinese.exception and not english.exception
    assert chinese.button(key="pg-train").label == train_zh
    assert english.button(key="pg-train").label == "Train"
    # The choice is remembered, and the address keeps it for a copied link.
    assert chinese.session_state["np-lang"] == "zh"
    assert chinese.query_params.get("lang") == "zh"
    assert "lang" not in english.query_params


def test_the_switch_changes_only_its_own_session() -> None:
    from tests.apptest import open_app

    at = open_app("spiral")
    other = open_app("spiral")
    at.button_group(key="np-lang-switch").set_value("zh").run()  # widgets were English
    assert not at.exception, at.exception
    with using("zh"):
        assert at.button(key="pg-train").label == t("Train")
    assert at.query_params.get("lang") == "zh"
    other.run()
    assert other.button(key="pg-train").label == "Train"


def test_outside_a_script_run_the_language_is_english() -> None:
    """A trainer's thread has no browser session: its words are the default's."""
    from ui.language import session_language

    seen = []
    thread = threading.Thread(target=lambda: seen.append(session_language()))
    thread.start()
    thread.join()
    assert seen == ["en"]
