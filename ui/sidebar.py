"""The sidebar every page shares: the experiment's name and lesson, presets in course
order, undo/redo, share, download, open."""

from __future__ import annotations

import streamlit as st

from engine.course import preset_title, presets_in_course_order
from engine.errors import Issue, SpecError
from engine.i18n import t
from engine.presets import decode_share, load_preset
from engine.validate import parse_json
from ui.hidden import hidden_controls, student_value
from ui.lesson import lesson_panel
from ui.present import present_switch
from ui.session import Session, spec_json
from ui.share import link_field, share_dialog, view_params
from ui.words import issues_text


@st.cache_data
def preset_titles() -> dict[str, str]:
    """Preset names to titles, in the course's teaching order."""
    return {n: preset_title(n) for n in presets_in_course_order()}


def share_link(session: Session) -> str:
    """The experiment's long link, with the viewing choices; with hidden controls, the
    student's form (the one to hand out)."""
    base = (st.context.url or "").split("?")[0]
    extra = "".join(f"&{k}={v}" for k, v in view_params().items())
    if hidden_controls():
        extra += f"&hide={student_value()}"
    return f"{base}?s={session.share_string()}{extra}"


def sidebar(session: Session) -> None:
    with st.sidebar:
        about(session)
        present_switch()

        titles = preset_titles()
        name = st.selectbox(t("Preset"), list(titles), format_func=lambda n: t(titles[n]),
                            index=None, placeholder=t("Open a preset…"), key="np-preset")
        if name and st.button(t("Open preset"), key="np-open-preset"):
            _opened(session.open(load_preset(name)))

        c = st.columns(2)
        if c[0].button(t("Undo"), disabled=not session.can_undo, key="np-undo",
                       width="stretch"):
            session.undo()
            st.rerun()
        if c[1].button(t("Redo"), disabled=not session.can_redo, key="np-redo",
                       width="stretch"):
            session.redo()
            st.rerun()

        st.markdown(f"**{t('Share')}**")
        st.caption(t("The address bar always holds this experiment; so does this link."))
        link_field(share_link(session), t("Copy link"))
        if st.button(t("Short link and QR code"), key="np-share", icon=":material/qr_code_2:",
                     width="stretch"):
            share_dialog(session)
        st.download_button(t("Download JSON"), spec_json(session.exp),
                           file_name=file_name(session.title), mime="application/json",
                           key="np-download", width="stretch")
        upload = st.file_uploader(t("Open an experiment file"), type=["json"],
                                  key="np-upload")
        if upload is not None and st.session_state.get("np-upload-done") != upload.file_id:
            st.session_state["np-upload-done"] = upload.file_id
            open_file(session, upload.getvalue(), upload.name)
        pasted = st.text_input(t("Or paste a share link"), key="np-paste")
        if pasted and st.button(t("Open link"), key="np-open-link"):
            try:
                issues = session.open(decode_share(pasted.split("s=")[-1].split("&")[0]))
            except SpecError as e:
                issues = e.issues
            _opened(issues)


def about(session: Session) -> None:
    """The experiment's name, and its lesson: an edited one's lesson is the original's."""
    meta = session.exp.meta
    st.markdown(f"**{session.title}**")
    if not session.edited:
        if meta.description:
            st.caption(t(meta.description))
        if meta.lesson:
            with st.expander(t("Lesson: what to change, what to watch")):
                st.write(t(meta.lesson))
    else:
        origin = session.origin.meta
        if origin.lesson or origin.description:
            with st.expander(t("Lesson of {name} (the experiment has been edited since)",
                               name=t(origin.name))):
                if origin.description:
                    st.caption(t(origin.description))
                if origin.lesson:
                    st.write(t(origin.lesson))
    lesson_panel(session)


def _opened(issues: list[Issue]) -> None:
    if issues:
        st.error(issues_text(issues))
    else:
        st.rerun()


def open_file(session: Session, raw: bytes, name: str = "experiment.json") -> None:
    """Open an uploaded experiment; a bad file is explained and changes nothing."""
    try:
        data = parse_json(raw, name)
    except SpecError as e:
        st.sidebar.error(t("That file is not an experiment ({e}). Nothing was changed.",
                           e=issues_text(e.issues)))
        return
    issues = session.open(data)
    if issues:
        st.sidebar.error(t("That file cannot be opened; nothing was changed:") + "\n\n"
                         + issues_text(issues))
    else:
        st.rerun()


def file_name(title: str) -> str:
    """A download's file name from the experiment's title: "Edited from Spiral, tanh MLP"
    -> "edited-from-spiral-tanh-mlp.json"."""
    words = "".join(ch if ch.isalnum() else " " for ch in title.lower()).split()
    return "-".join(words)[:80].strip("-") + ".json" if words else "experiment.json"
