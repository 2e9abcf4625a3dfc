"""Neural Playground: build a neural network, train it live, watch inside it.

Run with ``streamlit run app.py``. This file only lays out the shell: the
session's experiment and trainer live in ui/session.py, each page in views/.
Not in pages/: a folder of that name switches Streamlit to its older automatic
page discovery for a fresh server, in which a direct link such as /train
would skip this shell.
"""

from __future__ import annotations

import gc
import logging
import os
from pathlib import Path

import streamlit as st

st.set_page_config(page_title="Neural Playground", page_icon=":material/neurology:",
                   layout="wide")

from engine.i18n import t  # noqa: E402
from ui.answer_log import answered  # noqa: E402
from ui.ast_lock import serialise_ast_parse  # noqa: E402
from ui.controls import redraw_if_the_run_moved_on  # noqa: E402
from ui.hidden import controls_panel, hide_controls  # noqa: E402
from ui.inline_image import load_picture_reader  # noqa: E402
from ui.language import use_session_language  # noqa: E402
from ui.lesson import lesson_panel  # noqa: E402
from ui.link_notes import note_link_problems, show_link_problems  # noqa: E402
from ui.live import look_while_queued  # noqa: E402
from ui.pages import PAGES, SECTIONS  # noqa: E402
from ui.present import apply_presentation, keep_in_url, present_switch, presenting  # noqa: E402
from ui.session import Session, current, sync_url  # noqa: E402
from ui.sidebar import sidebar  # noqa: E402
from ui.warmup import warm_up_once  # noqa: E402

ROOT = Path(__file__).resolve().parent


@st.cache_resource
def freeze_startup_objects() -> bool:
    """Move everything alive after start-up (torch's many objects included) out of the
    garbage collector's reach, so collections stay short and the trainer keeps the GIL."""
    gc.collect()
    gc.freeze()
    return True


@st.cache_resource
def confine_csv_files() -> bool:
    """Specs reach the server through links: a CSV path must be one of its uploads."""
    from engine.data import csv_file, image_folder
    from ui.uploads import UPLOADS

    csv_file.ALLOWED_DIRS = image_folder.ALLOWED_DIRS = [UPLOADS]
    return True


@st.cache_resource
def trace_trainers() -> bool:
    """NP_TRACE=1 logs every trainer status change with a timestamp (bench/ui.py reads it)."""
    if os.environ.get("NP_TRACE"):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
        log = logging.getLogger("engine.trainer")
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    return True


def draft_banner(session: Session, build: st.Page, here: st.Page) -> None:
    """Every page says so when Build holds edits that are not the experiment."""
    if session.draft is None:
        return
    n = len(session.draft_issues)
    if n == 1:
        text = t("Your edits on Build are not applied: 1 problem. Train runs the last valid "
                 "experiment.")
    else:
        text = t("Your edits on Build are not applied: {n} problems. Train runs the last "
                 "valid experiment.", n=n)
    with st.container(horizontal=True, vertical_alignment="center", key="np-draft"):
        st.warning(text, icon=":material/edit_off:", width="stretch")
        if here.url_path != build.url_path:
            st.page_link(build, label=t("Fix them on Build"), icon=":material/account_tree:")


def main() -> None:
    serialise_ast_parse()  # many sessions' threads parse at once (Python 3.11)
    note_link_problems()  # before the parts below read the address and rewrite it
    use_session_language()  # first: everything below is drawn in the session's language
    freeze_startup_objects()
    confine_csv_files()
    trace_trainers()
    # In the background, beside the first page's own drawing: by the first click on Train
    # torch, the probes and plotly are as warm as for every later click.
    warm_up_once()
    load_picture_reader()
    session = current()
    apply_presentation()
    # The first page opens at "/"; any other page keeps its own path (/train, ...).
    pages = [st.Page(str(ROOT / "views" / p.file), title=t(p.title), icon=p.icon,
                     url_path=p.path if i else None, default=(i == 0))
             for i, p in enumerate(PAGES)]
    sections = {t(s): [pg for pg, info in zip(pages, PAGES, strict=True) if info.section == s]
                for s in SECTIONS}
    # Presenting hides the sidebar, so the pages are listed in the top bar instead.
    nav = st.navigation({k: v for k, v in sections.items() if v},
                        position="top" if presenting() else "sidebar", expanded=True)
    hide_controls()  # before anything a teacher may have hidden is drawn
    if presenting():
        present_switch()
        lesson_panel(session, top=True)
    else:
        sidebar(session)
    if session.notice:
        st.warning(session.notice + "\n\n" + t("The default experiment was opened instead."))
        session.notice = None
    show_link_problems()
    draft_banner(session, next(p for p in pages if p.url_path == "build"), nav)
    nav.run()
    if not presenting():
        controls_panel()
    sync_url(session)
    keep_in_url()
    look_while_queued(session)
    redraw_if_the_run_moved_on(session)
    answered()


main()
