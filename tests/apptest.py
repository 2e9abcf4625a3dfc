"""What every AppTest module needs: the app opened on a preset or a link, the newest
session behind it, and widgets found by their label."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


def open_app(preset: str | None = None, share: str | None = None, present: bool = False,
             script: str = APP, lang: str | None = None) -> AppTest:
    """``script`` (the whole app by default, or one page) opened on ``preset`` or a share
    string, optionally in presentation mode or a language (``?lang=``); fails on any
    exception."""
    at = AppTest.from_file(script, default_timeout=60)
    if preset:
        at.query_params["preset"] = preset
    if share:
        at.query_params["s"] = share
    if present:
        at.query_params["present"] = "1"
    if lang:
        at.query_params["lang"] = lang
    at.run()
    assert not at.exception, at.exception
    return at


def session() -> Any:  # noqa: ANN401
    """The newest browser session's state (AppTest gives every app the same session id)."""
    from ui.session import _SESSIONS

    return max(_SESSIONS, key=lambda s: s.last_seen)


def by_label(at: AppTest, label: str) -> Any:  # noqa: ANN401
    return next(w for w in at.selectbox if w.label == label)
