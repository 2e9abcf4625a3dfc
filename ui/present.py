"""Presentation mode: the app as a teacher shows it at the front of a class.

One switch, kept in the URL (``?present=1``) so a prepared link opens in it:
the sidebar is hidden, the page navigation moves to the top bar, fonts are
larger, pages draw larger pictures (``presenting()``) and only the controls a
lesson needs. The switch itself sits in the sidebar, and at the top of the
page while presenting, where the hidden sidebar cannot hold it.
"""

from __future__ import annotations

import streamlit as st

from engine.i18n import t
from ui.language import language_switch

PARAM = "present"  # the query parameter; ui/session.sync_url keeps it
STATE = "np-presenting"  # the mode, kept in the session
WIDGET = "np-present-switch"
FIGURE_SCALE = 1.3  # how much taller pages draw their pictures while presenting

# Root font size drives Streamlit's rem-based sizes; the sidebar and its reopen
# control go, so nothing slides over the pictures.
_CSS = """
<style>
html { font-size: 20px; }
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"] { display: none !important; }
.block-container { padding-top: 3.5rem; max-width: 100%; }
</style>
"""


def presenting() -> bool:
    """Whether the app is in presentation mode (pages use it to size their figures)."""
    if STATE not in st.session_state:
        st.session_state[STATE] = st.query_params.get(PARAM) == "1"
    return bool(st.session_state[STATE])


def figure_height(normal: int) -> int:
    """A picture's height in pixels for the current mode."""
    return round(normal * FIGURE_SCALE) if presenting() else normal


def _switched() -> None:
    st.session_state[STATE] = bool(st.session_state[WIDGET])
    st.session_state["np-presented"] = True  # from now on the sidebar state is ours to set


def present_switch() -> None:
    """The one switch; draw it where the user can reach it in the current mode."""
    on = presenting()
    where = st.container(horizontal=True, horizontal_alignment="right") if on else st.sidebar
    language_switch(where)  # the other viewing choice, reachable in both modes too
    where.toggle(t("Presentation mode"), value=on, key=WIDGET, on_change=_switched,
                 help=t("For the front of a class: no sidebar, larger text and pictures, "
                        "only the main controls. Kept in the link."))


def apply_presentation() -> None:
    """Set the page up for the current mode; call before anything is drawn."""
    if presenting():
        # Sent only when it changes, so a user who opens the sidebar keeps it open.
        st.set_page_config(initial_sidebar_state="collapsed")
        st.html(_CSS)
    elif st.session_state.get("np-presented"):
        st.set_page_config(initial_sidebar_state="expanded")


def keep_in_url() -> None:
    """``?present=1`` while presenting, so the address bar and shared links keep the mode."""
    if presenting():
        if st.query_params.get(PARAM) != "1":
            st.query_params[PARAM] = "1"
    elif PARAM in st.query_params:
        del st.query_params[PARAM]
