"""One lookup for every user-facing string.

Pages call ``t("English text", name=...)``. English is the key and the
fallback; the other languages' catalogues are JSON files in ``locales/<lang>/``
(English text to translation), merged, so each part of the app keeps its own
file. Module-level strings that are translated later are marked with ``N_``
so the catalogue test finds them.

The language belongs to whoever is asking: the app installs a source that
reads the browser session's choice (``set_language_source``), so one user
switching never switches another; the command line and tests set it for the
current context (``set_language``, ``using``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

LANGUAGES = {"en": "English", "zh": "中文"}
LOCALES = Path(__file__).resolve().parent.parent / "locales"

_override: ContextVar[str | None] = ContextVar("np_language", default=None)
_source: Callable[[], str] | None = None


@cache
def catalogue(lang: str) -> dict[str, str]:
    """English text -> ``lang``'s text, from every ``locales/<lang>/*.json`` file."""
    out: dict[str, str] = {}
    folder = LOCALES / lang
    if lang != "en" and folder.is_dir():
        for path in sorted(folder.glob("*.json")):
            out.update(json.loads(path.read_text(encoding="utf-8")))
    return out


def set_language_source(source: Callable[[], str] | None) -> None:
    """Where ``language()`` asks when nothing was set for the current context (the app:
    the browser session's choice). The source may raise; English is used then."""
    global _source
    _source = source


def set_language(lang: str) -> None:
    """The language for the current context (a command, a test, a thread)."""
    _override.set(lang if lang in LANGUAGES else "en")


@contextmanager
def using(lang: str) -> Iterator[None]:
    """The language for the code inside the ``with`` block."""
    token = _override.set(lang if lang in LANGUAGES else "en")
    try:
        yield
    finally:
        _override.reset(token)


def language() -> str:
    lang = _override.get()
    if lang is None and _source is not None:
        try:
            lang = _source()
        except Exception:  # no session to ask (a background thread): the fallback
            lang = None
    return lang if lang in LANGUAGES else "en"


def t(text: str, **kw: object) -> str:
    """Translate ``text`` into the current language, then fill in ``kw``."""
    lang = language()
    out = catalogue(lang).get(text, text) if lang != "en" else text
    return out.format(**kw) if kw else out


def N_(text: str) -> str:  # noqa: N802 (gettext's name for it)
    """Mark a string to be translated later by ``t(variable)``: it is returned as it is."""
    return text
