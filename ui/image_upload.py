"""The user's own images: a zip of class folders uploaded on Build, kept by content
beside the CSV uploads, so a spec (and a link) names it by path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from engine.data.image_folder import MAX_ZIP_BYTES
from engine.i18n import t
from ui.uploads import save_upload

UPLOADED = "build-images-uploaded"  # (file id, stored path, the file's own name)


def _new_zip() -> str | None:
    """The stored path of a zip that has just arrived in the upload box (None when the box
    is empty, or holds a file already acted on: an undo or another page may have changed
    the data since, and a file still sitting in the box must not change it back)."""
    upload = st.file_uploader(
        t("Upload a zip of image folders"), type=["zip"], key="build-images",
        help=t("One folder per class, named after it (cats, dogs, ...), each holding that "
               "class's pictures (PNG, JPEG, GIF, BMP, ...)."))
    if upload is None:
        return None
    seen = st.session_state.get(UPLOADED)
    if seen and seen[0] == upload.file_id:
        return None
    if upload.size > MAX_ZIP_BYTES:
        st.error(t("The zip is larger than {mb} MB; use fewer or smaller pictures.",
                   mb=MAX_ZIP_BYTES // 2**20))
        return None
    path = save_upload(upload, suffix=".zip")
    st.session_state[UPLOADED] = (upload.file_id, path, upload.name)
    return path


def file_name(path: str) -> str:
    """The name the user gave their zip (the server keeps it under a content hash)."""
    seen = st.session_state.get(UPLOADED)
    return seen[2] if seen and seen[1] == path else Path(path).name


def image_source(values: dict[str, Any]) -> dict[str, Any]:
    """The image-folder parameters with the zip to read: a new upload, else the one the
    spec names, else the last one uploaded in this session."""
    path = _new_zip()
    if path:
        values = {**values, "path": path}
    elif not values.get("path") and st.session_state.get(UPLOADED):
        values = {**values, "path": st.session_state[UPLOADED][1]}
    if values.get("path"):
        st.caption(t("File: {f}", f=file_name(values["path"])))
    return values
