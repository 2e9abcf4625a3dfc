"""Sharing: copying a link (a few lines of browser script in a frame, because Streamlit
has no clipboard API of its own), short links (``?l=<id>``, engine/links.py) and the
share dialog with the QR code a class scans from the projector."""

from __future__ import annotations

import html
import io
import json
from typing import TYPE_CHECKING

import segno
import streamlit as st

from engine.errors import SpecError
from engine.i18n import t
from engine.links import LinkStore, open_link
from engine.spec import Experiment

if TYPE_CHECKING:
    from ui.session import Session

QR_SCALE = 12  # pixels per module: a link's code is about 500 px wide, readable projected
QR_WIDTH = 440  # as shown in the dialog

_COPY = """
function copyText(text, button, label, done) {
  const fallback = () => {  // plain-http pages have no navigator.clipboard
    const area = document.createElement("textarea");
    area.value = text; document.body.appendChild(area); area.select();
    document.execCommand("copy"); area.remove();
  };
  (navigator.clipboard ? navigator.clipboard.writeText(text) : Promise.reject())
    .catch(fallback).finally(() => {
      button.textContent = done;
      setTimeout(() => button.textContent = label, 1500);
    });
}
"""
_FONT = "font:14px 'Source Sans Pro',sans-serif"
_BUTTON = ("padding:.35rem .6rem;border:1px solid #ccc;border-radius:.5rem;background:white;"
           f"cursor:pointer;white-space:nowrap;{_FONT}")

_SCRIPT = """
<button id="copy" style="width:100%;{button_css}">{label}</button>
<script>
{copy}
const button = document.getElementById("copy");
button.onclick = () => copyText({text}, button, {label_js}, {done});
</script>
"""

# One line: the link cut off with an ellipsis (all of it selectable, and in the
# tooltip), and the copy button beside it.
_FIELD = """
<div style="display:flex;gap:.4rem;margin:0;{font}">
<input id="link" readonly value="{value}" title="{value}" aria-label="{label}"
  style="flex:1;min-width:0;padding:.35rem .5rem;border:1px solid #ddd;border-radius:.5rem;
  text-overflow:ellipsis;color:#555;background:#f8f8fa;{font}">
<button id="copy" style="{button_css}">{label}</button>
</div>
<script>
{copy}
const field = document.getElementById("link"), button = document.getElementById("copy");
field.onfocus = () => field.select();
button.onclick = () => copyText({text}, button, {label_js}, {done});
</script>
"""


def copy_button(text: str, label: str | None = None) -> None:
    """A button that puts ``text`` on the user's clipboard."""
    label = label or t("Copy link")
    st.iframe(_SCRIPT.format(label=html.escape(label), label_js=_js(label), text=_js(text),
                             done=_js(t("Copied")), copy=_COPY, button_css=_BUTTON),
              height=45, alt=label)


def link_field(link: str, label: str | None = None) -> None:
    """A link on one line, with a button that copies it."""
    label = label or t("Copy")
    st.iframe(_FIELD.format(value=html.escape(link, quote=True), label=html.escape(label),
                            label_js=_js(label), text=_js(link), done=_js(t("Copied")),
                            copy=_COPY, button_css=_BUTTON, font=_FONT),
              height=45, alt=t("Share link"))


def _js(text: str) -> str:
    """A JavaScript string literal that cannot end the script element early."""
    return json.dumps(text).replace("<", "\\u003c")


# --- short links and the share dialog ---------------------------------------------------
def base_url() -> str:
    """This page's address without its query."""
    return (st.context.url or "").split("?")[0]


@st.cache_resource
def link_store() -> LinkStore:
    return LinkStore()


def short_link(params: dict[str, str]) -> str:
    """The address of a short link to ``params`` (the experiment and viewing choices)."""
    return f"{base_url()}?l={link_store().put(params)}"


def qr_png(text: str) -> bytes:
    """A QR code of ``text`` as a PNG, large enough to scan from the back of a room."""
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=QR_SCALE, border=4)
    return out.getvalue()


def open_short_link(key: str) -> Experiment:
    """The experiment behind ``?l=<key>``; its viewing choices join the address unless
    the address already says otherwise. A bad or unknown id is a SpecError."""
    exp, view = open_link(key, link_store())
    for name, value in view.items():
        if name not in st.query_params:
            st.query_params[name] = value
    return exp


def view_params() -> dict[str, str]:
    """The viewing choices of the current address worth sharing (hidden controls aside)."""
    return {k: str(st.query_params[k]) for k in ("present", "lang", "step")
            if st.query_params.get(k)}


def share_dialog(session: Session) -> None:
    """Open the dialog: the short link with a copy button and its QR code, and, when some
    controls are hidden, the student's link (the one the code holds) and the teacher's."""
    from ui.hidden import hidden_controls, is_student, student_value, teacher_value

    @st.dialog(t("Share with the class"), width="large")
    def dialog() -> None:
        base = {"s": session.share_string(), **view_params()}
        teacher = bool(hidden_controls()) and not is_student()
        try:
            if teacher:
                link = short_link({**base, "hide": student_value()})
                mine = short_link({**base, "hide": teacher_value()})
            else:
                hide = student_value() if is_student() else ""
                link = short_link({**base, **({"hide": hide} if hide else {})})
        except (SpecError, OSError) as e:
            st.error(t("No short link could be made ({e}); share the address instead.",
                       e=e))
            return
        if teacher:
            st.markdown(t("**Student link**: the hidden controls stay hidden."))
        link_field(link, t("Copy link"))
        st.image(qr_png(link), width=QR_WIDTH, alt=t("QR code of the link"))
        st.caption(t("Project this code: a phone's camera opens the same experiment."))
        if teacher:
            st.markdown(t("**Teacher link**: opens with the panel to choose the hidden "
                          "controls."))
            link_field(mine, t("Copy link"))
    dialog()
