"""The part of a page that its run buttons change, drawn as one fragment: the buttons, the
live views of the run, and whatever lies between them.

A click on Pause, Step or Resume then draws that part again, not the whole page. A browser
spends about a millisecond on each element a page run sends it, changed or not, and the
sidebar, the app's frame and a page's other controls are many elements: on the Playground,
a Step cost a browser 0.29 s of CPU drawn whole and 0.21 s drawn this way, and a class's
browsers share the server's cores in the load bench (README, "A class at once").

A click that changes the experiment (New weights, Restart with the new settings, Undo, an
edit in the area) draws the whole page again, so the sidebar's link and the address bar
follow it. A full page run does the ends of a run in app.py; a run of this area alone does
them here.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ui.answer_log import answered
from ui.controls import redraw_if_the_run_moved_on
from ui.live import look_while_queued
from ui.session import Session


def run_area(session: Session, draw: Callable[[], None]) -> None:
    """Call ``draw()`` (which draws the run buttons and the views they change) now, and
    again alone after a click inside it."""
    drawn_for = session.exp  # what the whole page was last drawn for

    def area() -> None:
        draw()
        if not area_run():
            return
        if session.exp is not drawn_for:
            st.rerun()
        run_ends(session)

    st.fragment(area)()


def area_run() -> bool:
    """Whether this run draws a part of the page only (a fragment), not all of it."""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def run_ends(session: Session) -> None:
    """At the end of a run that drew run buttons: the queued run's look, a redraw if the
    run moved on meanwhile, and the answer to the click."""
    look_while_queued(session)
    redraw_if_the_run_moved_on(session)
    answered()
