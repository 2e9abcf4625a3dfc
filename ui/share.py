"""Copying a link: a few lines of browser script in a frame, because Streamlit has
no clipboard API of its own."""

from __future__ import annotations

import html
import json

import streamlit as st

from engine.i18n import t

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
