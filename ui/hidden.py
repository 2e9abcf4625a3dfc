"""Controls a teacher hides from students (TensorFlow Playground's idea, for every control).

Every keyed widget's element carries the class ``st-key-<key>`` in the browser, so a
control is hidden by one CSS rule on that class, on every page. The choice travels in the
address as ``?hide=``: dot-separated control ids (``hide=np-undo.pg-lr``, a teacher's
link, who keeps the "Controls students see" panel) or the same behind a ``~``
(``hide=~np-undo.pg-lr``, a student's link: no panel, nothing to unhide). A session opened
from a student link stays a student's session.

The panel lists the controls the page just drew. Streamlit has no list of a run's widgets
with their labels, so this module notes them as their elements are sent to the browser
(the run context's message queue); if that ever fails, the panel shows keys instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import streamlit as st

from engine.i18n import t

PARAM = "hide"
STATE = "np-hide"  # the hidden control ids (a set)
STUDENT = "np-student"  # opened from a student link
SEEN = "np-controls"  # control id -> label, for every control seen in this session
STUDENT_MARK = "~"
MAX_HIDDEN = 300
PANEL_PREFIX = "np-hide-"  # the panel's own ticks: never listed, never hidden

# Widgets whose key carries their current value (so a changed spec redraws them fresh):
# the control is the key without that value. Longest first: pg-penalty-rate before
# pg-penalty.
DYNAMIC_BASES = ("pg-lr", "pg-activation", "pg-penalty", "pg-penalty-rate", "pg-problem",
                 "pg-optimizer", "pg-loss", "pg-epochs", "pg-unbudgeted", "pg-budget",
                 "pg-ratio", "pg-noise", "pg-batch", "pg-patience", "np-speed")
_DYNAMIC = (
    re.compile(r"(pg-act-\d+)-.+"),
    re.compile(r"(pg-feature-.+)-(?:True|False)"),
    *(re.compile(rf"({re.escape(b)})-.+") for b in sorted(DYNAMIC_BASES, key=len, reverse=True)),
)
# Keys that start like a dynamic control but are something else: kept out of its rule.
_NOT_DYNAMIC = {"pg-loss": ("pg-loss-curve",), "pg-penalty": ("pg-penalty-rate",)}
# Build's form keys carry the form's revision ("b7-units"), which grows with every edit:
# the control is "b-units", hidden under the revision shown now and the next one.
_BUILD = re.compile(r"b\d+-(.+)")
BUILD_PREFIX, BUILD_REV = "b-", "build-rev"
_FIXED = {k for keys in _NOT_DYNAMIC.values() for k in keys if k not in DYNAMIC_BASES}
_ID = re.compile(r"[A-Za-z0-9_-]{1,120}")


def css_name(key: str) -> str:
    """A key as the browser's class spells it (Streamlit's rule: other characters -> '-')."""
    return re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip())


def control_id(key: str) -> str:
    """The control a widget key belongs to: the key, less a value it carries."""
    if key in _FIXED:
        return css_name(key)
    revised = _BUILD.fullmatch(key)
    if revised:
        return css_name(f"{BUILD_PREFIX}{revised.group(1)}")
    for pattern in _DYNAMIC:
        found = pattern.fullmatch(key)
        if found:
            return css_name(found.group(1))
    return css_name(key)


def _dynamic(cid: str) -> bool:
    return any(p.fullmatch(f"{cid}-x") or p.fullmatch(f"{cid}-True") for p in _DYNAMIC)


def encode(hidden: Iterable[str], student: bool) -> str:
    return (STUDENT_MARK if student else "") + ".".join(sorted(set(hidden)))


def decode(text: str | None) -> tuple[set[str], bool]:
    """``?hide=``'s ids and whether it is a student's link; unknown characters are dropped,
    never run."""
    text = (text or "").strip()
    student = text.startswith(STUDENT_MARK)
    ids = {x for x in text.lstrip(STUDENT_MARK).split(".") if _ID.fullmatch(x)}
    return set(sorted(ids)[:MAX_HIDDEN]), student


def css(hidden: Iterable[str], build_rev: int = 0) -> str:
    """One rule hiding these controls (a dynamic control by its key's prefix, a Build form
    control under revisions ``build_rev`` and the next, which the page may move to)."""
    selectors = []
    for cid in sorted(set(hidden)):
        if cid.startswith(BUILD_PREFIX):
            name = cid[len(BUILD_PREFIX):]
            selectors += [f".st-key-b{r}-{name}" for r in (build_rev, build_rev + 1)]
            continue
        selectors.append(f".st-key-{cid}")
        if _dynamic(cid):
            rule = f'[class*="st-key-{cid}-"]'
            for other in _NOT_DYNAMIC.get(cid, ()):
                rule += f':not([class*="st-key-{other}"])'
            selectors.append(rule)
    if not selectors:
        return ""
    return "<style>\n" + ",\n".join(selectors) + " { display: none !important; }\n</style>"


# --- the session's choice ------------------------------------------------------------------
def _init() -> None:
    if STATE not in st.session_state:
        hidden, student = decode(st.query_params.get(PARAM))
        st.session_state[STATE] = hidden
        st.session_state[STUDENT] = student


def hidden_controls() -> set[str]:
    _init()
    return set(st.session_state[STATE])


def is_student() -> bool:
    _init()
    return bool(st.session_state[STUDENT])


def teacher_value() -> str:
    """``?hide=`` for the teacher's link ('' when nothing is hidden)."""
    return encode(hidden_controls(), False)


def student_value() -> str:
    """``?hide=`` for the student's link."""
    return encode(hidden_controls(), True)


def hide_controls() -> None:
    """Hide the chosen controls on this page and keep the choice in the address; call on
    every page before it draws (and before the sidebar)."""
    hidden = hidden_controls()
    value = encode(hidden, is_student())
    if value:
        rule = css(hidden, int(st.session_state.get(BUILD_REV, 0)))
        if rule:
            st.html(rule)
        if st.query_params.get(PARAM) != value:
            st.query_params[PARAM] = value
    elif PARAM in st.query_params:
        del st.query_params[PARAM]
    _recorder().clear()


# --- what the page drew --------------------------------------------------------------------
def _recorder() -> dict[str, str]:
    """Control id -> label of the widgets sent to the browser in this run."""
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

        ctx = get_script_run_ctx()
        if ctx is None:
            return {}
        seen = getattr(ctx, "_np_controls", None)
        if seen is None:
            seen = {}
            send = ctx._enqueue

            def enqueue(msg: Any) -> None:  # noqa: ANN401
                _note(msg, seen)
                send(msg)

            ctx._enqueue = enqueue
            ctx._np_controls = seen
        return seen
    except Exception:  # noqa: BLE001  # Streamlit's insides changed: the panel shows keys
        return {}


def _note(msg: Any, seen: dict[str, str]) -> None:  # noqa: ANN401
    try:
        if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "new_element":
            return
        element = msg.delta.new_element
        widget = getattr(element, element.WhichOneof("type") or "", None)
        element_id = getattr(widget, "id", "")
        if not element_id or not hasattr(widget, "label"):
            return  # not a control (a chart, a text)
        from streamlit.elements.lib.utils import user_key_from_element_id

        key = user_key_from_element_id(element_id)
        if key and not key.startswith(PANEL_PREFIX):
            label, hint = widget.label.strip(), getattr(widget, "help", "").strip()
            if hint and not any(ch.isalpha() for ch in label):  # "+": say what it adds
                label = f"{label} {hint}".strip()
            seen[control_id(key)] = label or key
    except Exception:  # noqa: BLE001, S110  # noting is best effort; never break drawing
        pass


def _keys_this_run() -> dict[str, str]:
    """This run's controls: noted with labels, else (no notes) by their keys."""
    noted = dict(_recorder())
    if noted:
        return noted
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

        ctx = get_script_run_ctx()
        keys = list(ctx.shared.widget_user_keys_this_run) if ctx else []
    except Exception:  # noqa: BLE001
        keys = []
    return {control_id(k): k for k in keys if not k.startswith(PANEL_PREFIX)}


# --- the teacher's panel -------------------------------------------------------------------
def _toggle(cid: str) -> None:
    hidden = set(st.session_state[STATE])
    if st.session_state.get(PANEL_PREFIX + cid):
        hidden.discard(cid)
    else:
        hidden.add(cid)
    st.session_state[STATE] = hidden


def _show_all() -> None:
    st.session_state[STATE] = set()


def controls_panel() -> None:
    """The teacher's ticks (in the sidebar), one per control this page drew: ticked, the
    students see it. Nothing for a student. Call after the page has drawn.

    The ticks are drawn only while the panel is open: closed, its fifty-odd ticks would
    still be sent, and rendered by the browser again at every rerun of the page."""
    if is_student():
        return
    controls = _keys_this_run()
    seen = st.session_state.setdefault(SEEN, {})
    seen.update(controls)
    hidden = hidden_controls()
    panel = st.sidebar.expander(t("Controls students see"), icon=":material/visibility:",
                                key=PANEL_PREFIX + "open", on_change="rerun")
    if not panel.open:
        return
    with panel:
        st.caption(t("Untick a control to hide it from students, on every page. The "
                     "student link in Share opens the app with those controls hidden and "
                     "no way to show them."))
        for cid, label in sorted(controls.items(), key=lambda kv: kv[1].lower()):
            # The tick follows the choice, which "show every control" may have changed.
            st.session_state[PANEL_PREFIX + cid] = cid not in hidden
            st.checkbox(label, key=PANEL_PREFIX + cid, on_change=_toggle, args=(cid,))
        elsewhere = len(hidden - set(controls))
        if elsewhere:
            st.caption(t("Hidden on other pages: {n}", n=elsewhere))
        if hidden:
            st.button(t("Show every control again"), on_click=_show_all,
                      key=PANEL_PREFIX + "all")
