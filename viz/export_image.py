"""Charts as PNG or SVG files, drawn server side by kaleido.

Kaleido 1.x drives a Chrome-like browser through choreographer. It looks for one on the
PATH, or where ``BROWSER_PATH`` points; Debian's ``/usr/bin/chromium`` is used when
nothing else is named. One browser is started on first use and kept for the process
(a picture then takes a fraction of a second instead of a browser start each time).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
from pathlib import Path

import plotly.graph_objects as go

from engine.i18n import t

FORMATS = ("png", "svg")
DEBIAN_CHROMIUM = "/usr/bin/chromium"
PNG_SCALE = 2  # pixels per layout pixel: sharp on a projector and in a printed handout
_LOCK = threading.Lock()
_started = False


class ImageExportError(RuntimeError):
    """No picture could be drawn; the message names the cause and the fix."""


def _browser() -> None:
    """Point kaleido at Debian's chromium unless the user named a browser."""
    if not os.environ.get("BROWSER_PATH") and Path(DEBIAN_CHROMIUM).exists():
        os.environ["BROWSER_PATH"] = DEBIAN_CHROMIUM


def _stop() -> None:
    import kaleido

    kaleido.stop_sync_server(silence_warnings=True)


def figure_bytes(fig: go.Figure, fmt: str, width: int | None = None,
                 height: int | None = None) -> bytes:
    """``fig`` as a PNG or SVG file's bytes (the figure's own size unless given)."""
    global _started
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ValueError(t("The picture format must be png or svg, got {fmt}.", fmt=fmt))
    try:
        import kaleido
    except ImportError:
        raise ImageExportError(t("Pictures need the kaleido package: pip install -r "
                                 "requirements.txt.")) from None
    layout = fig.layout
    opts: dict[str, object] = {"format": fmt,
                               "width": width or layout.width or 700,
                               "height": height or layout.height or 450}
    if fmt == "png":
        opts["scale"] = PNG_SCALE
    with _LOCK:  # one browser for the process; pictures are drawn one at a time
        try:
            if not _started:
                _browser()
                kaleido.start_sync_server(silence_warnings=True)
                atexit.register(_stop)
                _started = True
            return kaleido.calc_fig_sync(fig, opts=opts)
        except Exception as e:
            _started = False
            with contextlib.suppress(Exception):  # already gone: nothing to stop
                _stop()
            raise ImageExportError(t(
                "The picture could not be drawn ({error}). Kaleido needs Chrome or Chromium: "
                "install Debian's chromium package, or set BROWSER_PATH to a browser.",
                error=f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
            )) from None
