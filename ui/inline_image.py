"""A picture that a live view redraws several times a second, sent inside the page.

``st.image`` serves each picture from the server under a new address, and a fragment's next
run deletes the one before it: a browser that fetches late (a loaded classroom network, a
busy laptop) gets nothing and shows a broken image. A picture carried in the page itself
has nothing to fetch, and the browser swaps it in place on the same element, so the old
one stays on screen until the new one is decoded.
"""

from __future__ import annotations

import base64
import html
import struct
from typing import Any

import numpy as np
import streamlit as st

from viz.network import png_bytes


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG file's header."""
    return struct.unpack(">II", png[16:24])


def inline_image(png: bytes | np.ndarray, *, key: str | None = None, width: int | None = None,
                 alt: str = "", caption: str | None = None, where: Any = st) -> None:  # noqa: ANN401
    """Show ``png`` (a PNG file, or 8-bit pixels) at ``width`` pixels (its own width by
    default, never wider than the column), in a container named ``key`` when given."""
    if isinstance(png, np.ndarray):
        png = png_bytes(png)
    # As wide as the picture: a frame drawn around the container (a lesson's highlight)
    # then fits the picture, not the column. A markdown block ends 1rem above its last
    # line's bottom: the picture gives that rem back, so the frame's edge is below it.
    box = where.container(key=key, width="content") if key else where
    bottom = "margin-bottom:1rem;" if key else ""
    shown = width or png_size(png)[0]
    data = base64.b64encode(png).decode("ascii")
    box.markdown(f'<img src="data:image/png;base64,{data}" width="{shown}" '
                 f'alt="{html.escape(alt)}" '
                 f'style="display:block;max-width:100%;height:auto;{bottom}">',
                 unsafe_allow_html=True)
    if caption:
        box.caption(caption)


def load_picture_reader() -> None:
    """Have the browser load Streamlit's reader of HTML in markdown now, on a hidden line.

    It is loaded the first time a page shows such markdown, and meanwhile that markdown is
    a grey placeholder: without this, the first picture of the first run would be."""
    st.html("<style>.stElementContainer:has(.np-picture-reader) { display: none; }</style>")
    st.markdown('<span class="np-picture-reader"></span>', unsafe_allow_html=True)
