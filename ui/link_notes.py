"""Viewing choices in a link that cannot be used (``?lang=xx``, ``?step=abc``, a damaged
``?hide=``): the page opens as it would without them and says so in one line each, so a
teacher who typed the link knows what to fix. Each part reads its own parameter and falls
back quietly (ui/language.py, ui/lesson.py, ui/hidden.py); this module only tells.

The address is read on the session's first run, before those parts rewrite it.
"""

from __future__ import annotations

import streamlit as st

from engine.i18n import LANGUAGES, t
from ui.hidden import decode

STATE = "np-link-problems"  # what the first run's address held that cannot be used
SHOWN_CHARS = 40  # of a bad value quoted back


def note_link_problems() -> None:
    """Read the address once per session; call first in a run, before anything rewrites
    the address."""
    if STATE in st.session_state:
        return
    params = st.query_params
    problems: list[tuple[str, str]] = []
    lang = params.get("lang")
    if lang is not None and lang not in LANGUAGES:
        problems.append(("lang", lang))
    step = params.get("step")
    if step is not None and not (step.isascii() and step.isdigit() and int(step) >= 1):
        problems.append(("step", step))
    hide = params.get("hide")
    if hide is not None:
        kept, _ = decode(hide)
        written = [x for x in hide.strip().lstrip("~").split(".") if x]
        if len(kept) < len(written):
            problems.append(("hide", hide))
    st.session_state[STATE] = problems


def _shown(value: str) -> str:
    return repr(value if len(value) <= SHOWN_CHARS else value[:SHOWN_CHARS - 1] + "…")


def show_link_problems() -> None:
    """One line per unusable viewing choice, on the first run only."""
    problems = st.session_state.get(STATE) or []
    for name, value in problems:
        if name == "lang":
            text = t("The link asks for the language {lang}, which this app does not have; "
                     "it opens in English (the switch in the sidebar offers 中文).",
                     lang=_shown(value))
        elif name == "step":
            text = t("The link's lesson step {step} is not a step number; the lesson opens "
                     "at its first step.", step=_shown(value))
        else:
            text = t("The link's list of hidden controls is damaged; only the controls it "
                     "names clearly are hidden. Ask for the link again.")
        st.warning(text, icon=":material/link_off:")
    st.session_state[STATE] = []
