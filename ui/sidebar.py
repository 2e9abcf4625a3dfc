"""The sidebar every page shares: presets, undo/redo, share, download, open."""

from __future__ import annotations

import json

import streamlit as st

from engine.errors import SpecError
from engine.i18n import t
from engine.presets import PRESET_DIR, decode_share, list_presets, load_preset
from ui.session import Session, spec_json
from ui.share import copy_button


@st.cache_data
def preset_titles() -> dict[str, str]:
    return {n: json.loads((PRESET_DIR / f"{n}.json").read_text())["meta"]["name"]
            for n in list_presets()}


def share_link(session: Session) -> str:
    base = (st.context.url or "").split("?")[0]
    return f"{base}?s={session.share_string()}"


def sidebar(session: Session) -> None:
    with st.sidebar:
        exp = session.exp
        st.markdown(f"**{exp.meta.name}**")
        if exp.meta.description:
            st.caption(exp.meta.description)
        if exp.meta.lesson:
            with st.expander(t("Lesson: what to change, what to watch")):
                st.write(exp.meta.lesson)

        titles = preset_titles()
        name = st.selectbox(t("Preset"), list(titles), format_func=titles.get,
                            index=None, placeholder=t("Open a preset…"), key="np-preset")
        if name and st.button(t("Open preset"), key="np-open-preset"):
            issues = session.apply(load_preset(name))
            if issues:
                st.error("\n".join(map(str, issues)))
            else:
                st.rerun()

        c = st.columns(2)
        if c[0].button(t("Undo"), disabled=not session.undo_stack, key="np-undo",
                       width="stretch"):
            session.undo()
            st.rerun()
        if c[1].button(t("Redo"), disabled=not session.redo_stack, key="np-redo",
                       width="stretch"):
            session.redo()
            st.rerun()

        st.markdown(f"**{t('Share')}**")
        st.caption(t("The address bar always holds this experiment. Copy this link (the "
                     "icon on the right) to share it:"))
        st.code(share_link(session), language=None, wrap_lines=True)
        copy_button(share_link(session))
        st.download_button(t("Download JSON"), spec_json(exp), file_name=_file_name(exp),
                           mime="application/json", key="np-download", width="stretch")
        upload = st.file_uploader(t("Open an experiment file"), type=["json"],
                                  key="np-upload")
        if upload is not None and st.session_state.get("np-upload-done") != upload.file_id:
            st.session_state["np-upload-done"] = upload.file_id
            open_file(session, upload.getvalue())
        pasted = st.text_input(t("Or paste a share link"), key="np-paste")
        if pasted and st.button(t("Open link"), key="np-open-link"):
            try:
                issues = session.apply(decode_share(pasted.split("s=")[-1]))
            except SpecError as e:
                issues = e.issues
            if issues:
                st.error("\n".join(map(str, issues)))
            else:
                st.rerun()


def open_file(session: Session, raw: bytes) -> None:
    """Open an uploaded experiment; a bad file is explained and changes nothing."""
    try:
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("an experiment is a JSON object")
    except (UnicodeDecodeError, ValueError) as e:
        st.sidebar.error(t("That file is not an experiment (not valid JSON: {e}). Nothing "
                           "was changed.", e=e))
        return
    issues = session.apply(data)
    if issues:
        st.sidebar.error(t("That file cannot be opened; nothing was changed:") + "\n\n"
                         + "\n".join(f"- {i}" for i in issues))
    else:
        st.rerun()


def _file_name(exp: object) -> str:
    name = getattr(getattr(exp, "meta", None), "name", "experiment")
    slug = "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-")
    return f"{slug or 'experiment'}.json"
