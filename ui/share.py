"""A "copy link" button: a few lines of browser script in a frame, because
Streamlit has no clipboard API of its own."""

from __future__ import annotations

import html
import json

import streamlit as st

from engine.i18n import t

_SCRIPT = """
<button id="copy" style="width:100%;padding:.4rem;border:1px solid #ccc;border-radius:.5rem;
  background:white;cursor:pointer;font:14px 'Source Sans Pro',sans-serif">{label}</button>
<script>
const text = {text};
const button = document.getElementById("copy");
function fallback() {{  // plain-http pages have no navigator.clipboard
  const area = document.createElement("textarea");
  area.value = text; document.body.appendChild(area); area.select();
  document.execCommand("copy"); area.remove();
}}
button.onclick = async () => {{
  try {{ await navigator.clipboard.writeText(text); }} catch (e) {{ fallback(); }}
  button.textContent = {done};
  setTimeout(() => button.textContent = {label_js}, 1500);
}};
</script>
"""


def copy_button(text: str, label: str | None = None) -> None:
    """A button that puts ``text`` on the user's clipboard."""
    label = label or t("Copy link")
    st.iframe(_SCRIPT.format(label=html.escape(label), label_js=_js(label), text=_js(text),
                             done=_js(t("Copied"))), height=45, alt=label)


def _js(text: str) -> str:
    """A JavaScript string literal that cannot end the script element early."""
    return json.dumps(text).replace("<", "\\u003c")
