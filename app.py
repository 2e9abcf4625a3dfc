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
from ui.pages import PAGES  # noqa: E402
from ui.session import current, sync_url  # noqa: E402
from ui.sidebar import sidebar  # noqa: E402

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
    from engine.data import csv_file
    from ui.uploads import UPLOADS

    csv_file.ALLOWED_DIRS = [UPLOADS]
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


def main() -> None:
    freeze_startup_objects()
    confine_csv_files()
    trace_trainers()
    session = current()
    # The first page opens at "/"; any other page keeps its own path (/train, ...).
    pages = [st.Page(str(ROOT / "views" / p.file), title=t(p.title), icon=p.icon,
                     url_path=p.path if i else None, default=(i == 0))
             for i, p in enumerate(PAGES)]
    nav = st.navigation(pages)
    if session.notice:
        st.warning(session.notice + "\n\n" + t("The default experiment was opened instead."))
        session.notice = None
    sidebar(session)
    nav.run()
    sync_url(session)


main()
