"""Uploaded files are kept by content, so a spec can name them by path."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from engine.presets import write_atomic

UPLOADS = Path(__file__).resolve().parent.parent / "cache" / "uploads"


def save_upload(upload: Any) -> str:
    """Store an uploaded CSV under its content hash; returns its path."""
    raw: bytes = upload.getvalue()
    UPLOADS.mkdir(parents=True, exist_ok=True)
    path = UPLOADS / f"{hashlib.sha256(raw).hexdigest()[:16]}.csv"
    if not path.exists():
        write_atomic(path, raw.decode("utf-8", errors="replace"))
    return str(path)
