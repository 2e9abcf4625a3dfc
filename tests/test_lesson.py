"""A lesson's steps in the app: Next and Back, a step's button making its change (undone
like any edit), the chart to watch, the step kept in the address, the steps on top of a
presented page, and a step whose change cannot be made."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from engine.presets import encode_share, load_preset
from tests.apptest import APP, open_app, session


def step_line(at: AppTest, where: str = "sidebar") -> str:
    box = getattr(at, where)
    return next(m.value for m in box.markdown if m.value.startswith("**Step "))


def test_a_steps_button_applies_its_edit_and_the_step_travels_in_the_url() -> None:
    at = open_app("vanishing_sigmoid")
    assert step_line(at).startswith("**Step 1 of 4**")
    assert at.query_params["step"] == "1"
    assert at.sidebar.button(key="lesson-back").disabled
    at.sidebar.button(key="lesson-next").click().run()
    assert step_line(at).startswith("**Step 2 of 4**") and at.query_params["step"] == "2"
    assert "s" in at.query_params  # the experiment stays in the address beside it

    apply = at.sidebar.button(key="lesson-apply")
    assert apply.label == "Switch to ReLU"
    apply.click().run()
    exp = session().exp
    assert {n.params.get("activation") for n in exp.model.nodes[:-1]} == {"relu"}
    assert exp.model.init.scheme == "he_normal"
    assert at.sidebar.button(key="lesson-apply").disabled  # done: nothing more to apply
    assert at.query_params["step"] == "2"
    links = [p.label for p in at.sidebar.get("page_link")]
    assert "Inside training" in links
    assert "Watch: Gradient flow" in " ".join(c.value for c in at.sidebar.caption)
    assert any(".st-key-flow-heatmap" in h.proto.body for h in at.get("html"))

    at.sidebar.button(key="np-undo").click().run()  # an ordinary edit: undo takes it back
    assert session().exp == load_preset("vanishing_sigmoid")
    assert not at.sidebar.button(key="lesson-apply").disabled


def test_a_link_opens_at_its_step_and_in_presentation_mode_the_steps_are_on_top() -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["preset"] = "overfitting"
    at.query_params["step"] = "3"
    at.query_params["present"] = "1"
    at.run()
    assert not at.exception
    assert step_line(at, "main").startswith("**Step 3 of 5**")
    at.button(key="lesson-apply").click().run()
    assert [n.id for n in session().exp.model.nodes][:2] == ["hidden1", "hidden1_drop"]
    at.button(key="lesson-next").click().run()
    assert at.query_params["step"] == "4" and at.query_params["present"] == "1"


def test_a_step_whose_change_cannot_be_made_says_why_and_changes_nothing() -> None:
    spec = load_preset("spiral").to_dict()
    spec["meta"]["steps"] = [{"text": "Break it.", "button": "Go",
                              "edit": {"model.nodes.nope.type": "relu"}}]
    at = open_app(share=encode_share(spec))
    before = session().exp
    at.sidebar.button(key="lesson-apply").click().run()
    errors = [e.value for e in at.sidebar.error]
    assert errors and "no node nope (nodes: hidden1, hidden2, output)" in errors[0]
    assert session().exp == before and not session().can_undo
