"""Saving the session's run, from any page, and who the session's saved runs belong to.

The owner of a browser session's saved runs is a random token kept in
``session.extras["owner"]``, made the first time it is needed: runs are private to the
session that saved them. The Saved runs page shows the token as a key the user can copy
and type into another session to see the same runs again.
"""

from __future__ import annotations

import secrets

import streamlit as st

from engine.i18n import t
from engine.runs import MAX_OWNER, RunError, default_store, save_trainer
from ui.session import Session

OWNER = "owner"


def owner(session: Session) -> str:
    """This session's owner token, created on first use."""
    with session.lock:
        token = session.extras.get(OWNER)
        if not isinstance(token, str) or not token:
            token = session.extras[OWNER] = secrets.token_urlsafe(16)
        return token


def set_owner(session: Session, key: str) -> str | None:
    """Use another session's key; returns a problem in words, or None when switched."""
    key = key.strip()
    if len(key) < 16 or len(key) > MAX_OWNER or not key.replace("-", "").replace(
            "_", "").isalnum():
        return t("That is not a saved-runs key: copy it whole from the other session.")
    with session.lock:
        session.extras[OWNER] = key
    return None


def why_not_savable(session: Session) -> str | None:
    """Why the session's run cannot be saved now, in words; None when it can."""
    trainer = session.trainer
    s = trainer.snapshot() if trainer is not None else None
    if s is None or s.step == 0:
        return t("Train first: there is nothing to save yet.")
    if s.status in ("running", "queued"):
        return t("Pause the run or let it finish to save it.")
    if s.status == "failed":
        return t("This run failed, so there is nothing to keep.")
    return None


def save_run_button(session: Session, key: str = "save-run") -> str | None:
    """A "Save this run" button; returns the new run's id when it was saved."""
    why = why_not_savable(session)
    clicked = st.button(t("Save this run"), key=key, icon=":material/save:",
                        disabled=why is not None, help=why or t(
                            "Keep the experiment, its curves and its weights on the Saved "
                            "runs page."))
    if not clicked or session.trainer is None:
        return None
    name = session.title
    try:
        run_id = save_trainer(default_store(), session.trainer, name, owner(session))
    except RunError as e:
        st.error(str(e), icon=":material/error:")
        return None
    st.success(t("Saved as \u201c{name}\u201d: find it on the Saved runs page.", name=name),
               icon=":material/check_circle:")
    return run_id
