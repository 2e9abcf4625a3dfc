"""How long the server takes to answer a run button (a server setting for the load bench).

With ``NP_ANSWER_LOG`` naming a file, each click on Train, Resume, Pause or Step is timed
from its callback to the end of the page run it causes, and a line ``name<TAB>seconds`` is
added to the file. That is the most the server adds to what a person waits for: the new
buttons are sent as the page run draws them, before it ends. The rest is the network and
the browser's own drawing; ``bench/load.py`` times the whole wait inside the page.
"""

from __future__ import annotations

import os
import threading
import time

import streamlit as st

_STARTED = "np-answer-started"
_write = threading.Lock()


def clicked(name: str) -> None:
    """In a run button's callback: the click is being answered from now."""
    if os.environ.get("NP_ANSWER_LOG"):
        st.session_state[_STARTED] = (name, time.monotonic())


def answered() -> None:
    """At the end of a page run: the click before it (if any) is answered."""
    path = os.environ.get("NP_ANSWER_LOG")
    started = st.session_state.pop(_STARTED, None) if path else None
    if started is None:
        return
    name, t0 = started
    with _write, open(path, "a", encoding="utf-8") as log:
        log.write(f"{name}\t{time.monotonic() - t0:.4f}\n")
