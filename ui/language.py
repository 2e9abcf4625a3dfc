"""The app's language, English or Simplified Chinese, chosen per browser session.

A link may name it (``?lang=zh`` or ``?lang=en``): it is read on the session's first run,
then the session remembers the choice (``st.session_state["np-lang"]``) and the address
keeps it, so a copied link opens in the same language. The engine's ``t()`` asks the
running script's session through the source installed here: a module global would switch
every user on the server at once. Outside a script run (a trainer's thread) there is no
session to ask, and the engine falls back to English.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from engine.i18n import LANGUAGES, set_language_source, t

PARAM = "lang"  # the query parameter; ui/session.sync_url keeps it beside s=
STATE = "np-lang"  # the session's choice
WIDGET = "np-lang-switch"
DEFAULT = "en"


def session_language() -> str:
    """The current browser session's language: the language source of ``engine.i18n``.

    Works in full reruns and fragment reruns alike (both run on the session's script
    thread, which carries its context); any other thread gets the default."""
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None:
        return DEFAULT
    state = ctx.session_state
    lang = state[STATE] if STATE in state else DEFAULT  # noqa: SIM401 (no get())
    return lang if lang in LANGUAGES else DEFAULT


def use_session_language() -> str:
    """Install the per-session language and settle it for this run; call first in a run,
    before anything is translated. Returns the language."""
    set_language_source(session_language)
    if STATE not in st.session_state:
        asked = st.query_params.get(PARAM)
        st.session_state[STATE] = asked if asked in LANGUAGES else DEFAULT
    lang = st.session_state[STATE]
    # English is the default, so it needs nothing in the address; another choice is kept
    # there (a link may have lost it, or the switch just changed it).
    if lang == DEFAULT:
        if PARAM in st.query_params:
            del st.query_params[PARAM]
    elif st.query_params.get(PARAM) != lang:
        st.query_params[PARAM] = lang
    return lang


def _switched() -> None:
    chosen = st.session_state.get(WIDGET)
    if chosen in LANGUAGES:  # clicking the chosen option again unselects it: keep it
        st.session_state[STATE] = chosen


def language_switch(where: Any = None) -> None:  # noqa: ANN401 (a Streamlit container)
    """The switch between English and 中文, drawn in ``where`` (the sidebar by default).
    Each option is written in its own language, so anyone can find their own."""
    where = st.sidebar if where is None else where
    where.segmented_control(
        t("Language"), list(LANGUAGES), default=session_language(),
        format_func=LANGUAGES.__getitem__, key=WIDGET, on_change=_switched,
        label_visibility="collapsed", help=t("Language of the whole app. Kept in the link."))
