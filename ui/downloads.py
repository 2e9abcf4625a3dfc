"""Downloads a data set needs, fetched in the page with a progress bar.

Loading a data set downloads its missing files anyway (``engine.data.download``); doing
it here first, when the user picks such a set, lets them watch it arrive instead of
waiting on a page that does not say why. A failed download is not shown here: the
spec's check then fails with the same message, shown where the data's problems are.
"""

from __future__ import annotations

import time

import streamlit as st

from engine.data import DATASETS, download
from engine.errors import SpecError
from engine.i18n import t

UPDATE_S = 0.1  # at most this often a bar update is sent to the browser


def fetch(name: str) -> bool:
    """Download data set ``name``'s missing files, showing progress; whether all its
    files are here now."""
    if not download.missing(name):
        return True
    title = t(DATASETS.get(name).title)
    bar = st.progress(0.0, text=t("Downloading {name} (once; it is kept for later)…",
                                  name=title))
    last = 0.0

    def report(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last < UPDATE_S and done < total:
            return
        last = now
        bar.progress(min(done / total, 1.0) if total else 1.0, text=t(
            "Downloading {name}: {done} of {total} MB", name=title,
            done=f"{done / 1e6:.1f}", total=f"{total / 1e6:.1f}"))

    try:
        download.ensure(name, progress=report, retry=True)
    except SpecError:
        return False
    finally:
        bar.empty()
    return True


def offer(name: str, chosen: bool) -> bool:
    """The Build data section's hook for data set ``name``: when it has just been
    ``chosen``, fetch its files before the edit is checked; when the experiment already
    uses it and files are missing (offline earlier, or deleted since), offer to try
    again. Returns True when files the spec lacked have just arrived, so its check should
    run again."""
    if name not in download.SOURCES or not download.missing(name):
        return False
    if chosen:
        fetch(name)
        return False
    if st.button(t("Download the data again"), key=f"download-{name}",
                 icon=":material/download:",
                 help=t("Try to download this data set's files once more.")):
        return fetch(name)
    return False
