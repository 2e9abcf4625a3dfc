"""A view that does not apply to the experiment says why and offers a preset that shows it."""

from __future__ import annotations

import json

import streamlit as st

from engine.i18n import t
from engine.presets import load_preset, preset_path
from ui.session import Session
from ui.words import issues_text


def offer_preset(session: Session, why: str, preset: str, key: str) -> None:
    """``why`` in one sentence, and a button that opens ``preset``."""
    st.info(why)
    # The title from the file: loading the preset (its data) waits for the click.
    title = json.loads(preset_path(preset).read_text(encoding="utf-8"))["meta"]["name"]
    if st.button(t("Open {preset}", preset=t(title)), key=key, icon=":material/school:"):
        issues = session.open(load_preset(preset))
        if issues:
            st.error(issues_text(issues))
        else:
            st.rerun()
