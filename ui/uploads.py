"""Uploaded files are kept by content, so a spec can name them by path."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from engine.data.csv_file import columns
from engine.presets import write_atomic

UPLOADS = Path(__file__).resolve().parent.parent / "cache" / "uploads"


def save_upload(upload: Any, folder: Path | None = None, suffix: str = ".csv") -> str:
    """Store an uploaded file (anything with ``getvalue()``) under its content hash as
    ``<sha256 prefix><suffix>``; returns its path. The same bytes give the same path."""
    raw: bytes = upload.getvalue()
    folder = folder or UPLOADS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(raw).hexdigest()[:16]}{suffix}"
    if not path.exists():
        write_atomic(path, raw)  # kept as uploaded, in whatever encoding
    return str(path)


def csv_columns(path: str) -> list[str]:
    """The header of a stored CSV, read as the data set reads it (its encoding and
    separator); empty when it cannot be read: the data set's own check then says why."""
    return columns(path)
