"""Hidden controls: which key is which control, the CSS that hides them, ``?hide=`` for a
teacher and for a student, and a student without the panel."""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.apptest import APP, open_app
from ui.hidden import _NOT_DYNAMIC, DYNAMIC_BASES, control_id, css, decode, encode

ROOT = Path(__file__).resolve().parent.parent


def test_a_key_carrying_its_value_is_one_control() -> None:
    assert control_id("pg-lr-0.03") == control_id("pg-lr-1e-05") == "pg-lr"
    assert control_id("pg-penalty-rate-0.001") == "pg-penalty-rate"
    assert control_id("pg-penalty-l2") == "pg-penalty"
    assert control_id("pg-act-2-relu") == "pg-act-2"
    assert control_id("pg-feature-sin x1-True") == "pg-feature-sin-x1"
    assert control_id("np-speed-100") == "np-speed"
    assert control_id("np-undo") == "np-undo" and control_id("pg-loss-curve") == "pg-loss-curve"
    # Build's form keys carry the form's revision, which every edit moves on.
    assert control_id("b7-0-p-units") == control_id("b8-0-p-units") == "b-0-p-units"
    assert control_id("bp-graph") == "bp-graph"


def test_the_css_hides_exactly_the_chosen_controls() -> None:
    rule = css({"np-undo", "pg-penalty", "pg-loss"})
    assert ".st-key-np-undo," in rule and "display: none" in rule
    assert '[class*="st-key-pg-penalty-"]:not([class*="st-key-pg-penalty-rate"])' in rule
    assert '[class*="st-key-pg-loss-"]:not([class*="st-key-pg-loss-curve"])' in rule
    assert '[class*="st-key-np-undo-"]' not in rule  # a plain key: its own class only
    assert css(set()) == ""
    build = css({"b-0-p-units"}, build_rev=4)
    assert ".st-key-b4-0-p-units" in build and ".st-key-b5-0-p-units" in build


def test_no_fixed_key_in_the_pages_is_caught_by_a_dynamic_controls_rule() -> None:
    """A key that starts like a value-carrying control (pg-loss-curve after pg-loss-) must
    be listed as an exception, or hiding that control would hide it too."""
    keys = set()
    for path in [*ROOT.glob("views/*.py"), *ROOT.glob("ui/*.py"), ROOT / "app.py"]:
        keys |= set(re.findall(r'key="([^"{}]+)"', path.read_text(encoding="utf-8")))
    for key in keys:
        cid = control_id(key)
        if cid != key:
            continue  # itself one of a dynamic control's keys
        for other in DYNAMIC_BASES:
            if other != key and key.startswith(other + "-"):
                assert key.startswith(_NOT_DYNAMIC.get(other, ("\0",))), (key, other)


def test_hide_is_compact_and_a_student_link_is_marked() -> None:
    assert encode({"pg-lr", "np-undo"}, False) == "np-undo.pg-lr"
    assert encode({"pg-lr"}, True) == "~pg-lr"
    assert decode("~np-undo.pg-lr") == ({"np-undo", "pg-lr"}, True)
    assert decode("np-undo.<script>.x y") == ({"np-undo"}, False)  # only key characters
    assert decode(None) == (set(), False)


def test_a_teacher_unticks_a_control_and_a_student_link_keeps_it_hidden() -> None:
    at = open_app("spiral")
    # Closed, the panel draws none of its ticks: every rerun would send them all.
    assert at.sidebar.expander[-1].label == "Controls students see"
    assert not [c for c in at.sidebar.checkbox if c.key.startswith("np-hide-")]
    at.session_state["np-hide-open"] = True  # the teacher opens it
    at.run()
    ticks = {c.key: c for c in at.sidebar.checkbox if c.key.startswith("np-hide-")}
    assert {"np-hide-pg-lr", "np-hide-np-undo"} <= set(ticks)
    assert ticks["np-hide-pg-lr"].label == "Learning rate"
    at.sidebar.checkbox(key="np-hide-pg-lr").uncheck().run()
    assert at.query_params["hide"] == "pg-lr"
    assert any('[class*="st-key-pg-lr-"]' in h.proto.body for h in at.get("html"))
    at.sidebar.checkbox(key="np-hide-pg-lr").check().run()
    assert "hide" not in at.query_params

    student = AppTest.from_file(APP, default_timeout=60)
    student.query_params["preset"] = "spiral"
    student.query_params["hide"] = "~pg-lr.np-undo"
    student.run()
    assert not student.exception
    assert not [c for c in student.sidebar.checkbox if c.key.startswith("np-hide-")]
    assert not [b for b in student.sidebar.button if b.key.startswith("np-hide-")]
    styles = " ".join(h.proto.body for h in student.get("html"))
    assert ".st-key-np-undo" in styles and '[class*="st-key-pg-lr-"]' in styles
    assert student.query_params["hide"] == "~np-undo.pg-lr"
