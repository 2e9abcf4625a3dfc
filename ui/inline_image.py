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
from collections.abc import Sequence
from typing import Any

import numpy as np
import streamlit as st

from viz.network import Tip, png_bytes


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG file's header."""
    return struct.unpack(">II", png[16:24])


def inline_image(png: bytes | np.ndarray, *, key: str | None = None, width: int | None = None,
                 alt: str = "", caption: str | None = None, tips: Sequence[Tip] = (),
                 where: Any = st) -> None:  # noqa: ANN401
    """Show ``png`` (a PNG file, or 8-bit pixels) at ``width`` pixels (its own width by
    default, never wider than the column), in a container named ``key`` when given. Each
    of ``tips`` is a shape in the picture's pixels and the words a pointer over it shows."""
    if isinstance(png, np.ndarray):
        png = png_bytes(png)
    # As wide as the picture: a frame drawn around the container (a lesson's highlight)
    # then fits the picture, not the column. A markdown block ends 1rem above its last
    # line's bottom: the picture gives that rem back, so the frame's edge is below it.
    box = where.container(key=key, width="content") if key else where
    bottom = "margin-bottom:1rem;" if key else ""
    w, h = png_size(png)
    shown = width or w
    data = base64.b64encode(png).decode("ascii")
    image = (f'<img src="data:image/png;base64,{data}" width="{shown}" '
             f'alt="{html.escape(alt)}" style="display:block;max-width:100%;height:auto">')
    box.markdown(f'<div style="position:relative;width:fit-content;max-width:100%;{bottom}">'
                 f'{image}{tip_layer(tips, w, h)}</div>', unsafe_allow_html=True)
    if caption:
        box.caption(caption)


def tip_layer(tips: Sequence[Tip], width: int, height: int) -> str:
    """An SVG over a ``width`` × ``height`` picture, scaled with it, with each tip as an
    invisible shape that shows its words under the pointer (the browser's own tooltip,
    where a plotly chart would cost the page far more to draw: viz/network.py)."""
    if not tips:
        return ""
    shapes = []
    for shape, at, words in tips:
        if shape == "line":
            attrs = 'x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke-width="7"'
        elif shape == "rect":
            attrs = 'x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}"'
        else:
            attrs = 'cx="{:.1f}" cy="{:.1f}" r="{:.1f}"'
        shapes.append(f"<{shape} {attrs.format(*at)}><title>{html.escape(words)}</title>"
                      f"</{shape}>")
    return (f'<svg viewBox="0 0 {width} {height}" preserveAspectRatio="none" '
            'style="position:absolute;left:0;top:0;width:100%;height:100%" '
            'fill="transparent" stroke="transparent" pointer-events="all">'
            + "".join(shapes) + "</svg>")


def load_picture_reader() -> None:
    """Have the browser load Streamlit's reader of HTML in markdown now, on a hidden line.

    It is loaded the first time a page shows such markdown, and meanwhile that markdown is
    a grey placeholder: without this, the first picture of the first run would be."""
    st.html("<style>.stElementContainer:has(.np-picture-reader) { display: none; }</style>")
    st.markdown('<span class="np-picture-reader"></span>', unsafe_allow_html=True)
