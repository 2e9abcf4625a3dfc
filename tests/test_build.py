"""The Build page through AppTest: forms from declarations, drafts, undo."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from engine.presets import load_preset
from engine.validate import check
from viz.architecture import architecture_figure

PAGE = str(Path(__file__).resolve().parent.parent / "views" / "build.py")


def open_build(preset: str = "xor_hidden") -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["preset"] = preset
    at.run()
    assert not at.exception, at.exception
    return at


def session():  # noqa: ANN201
    from ui.session import _SESSIONS

    return max(_SESSIONS, key=lambda s: s.last_seen)


def key(at: AppTest, name: str) -> str:
    rev = at.session_state['build-rev'] if 'build-rev' in at.session_state else 0  # noqa: SIM401
    return f"b{rev}-{name}"


def test_editing_units_through_the_generated_form_changes_the_experiment() -> None:
    at = open_build()
    at.number_input(key=key(at, "0-p-units")).set_value(5).run()
    assert not at.exception, at.exception
    assert session().exp.model.nodes[0].params["units"] == 5
    table = at.dataframe[0].value
    assert list(table["output shape"]) == ["5", "2"]
    assert list(table["parameters"]) == [15, 12]


def test_an_invalid_edit_is_explained_at_its_node_and_changes_nothing() -> None:
    at = open_build()
    before = session().exp
    at.selectbox(key=key(at, "1-type")).set_value("add").run()  # add needs two inputs
    assert not at.exception, at.exception
    assert session().exp == before
    errors = " ".join(e.value for e in at.error)
    assert "add takes at least 2 input(s)" in errors
    assert any("problems" in w.value for w in at.warning)


def test_insert_duplicate_move_delete_and_undo() -> None:
    at = open_build()
    at.button(key=key(at, "0-dup")).click().run()
    ids = [n.id for n in session().exp.model.nodes]
    assert ids == ["hidden1", "hidden2", "output"]
    at.button(key=key(at, "1-up")).click().run()
    assert [n.id for n in session().exp.model.nodes] == ["hidden2", "hidden1", "output"]
    at.button(key=key(at, "0-del")).click().run()
    assert [n.id for n in session().exp.model.nodes] == ["hidden1", "output"]
    at.button(key="build-undo").click().run()
    assert [n.id for n in session().exp.model.nodes] == ["hidden2", "hidden1", "output"]
    at.button(key="build-redo").click().run()
    assert [n.id for n in session().exp.model.nodes] == ["hidden1", "output"]


def test_training_settings_and_data_set() -> None:
    at = open_build()
    at.selectbox(key=key(at, "opt")).set_value("momentum").run()
    assert session().exp.train.optimizer.name == "momentum"
    at.checkbox(key=key(at, "nest")).check().run()
    assert session().exp.train.optimizer.nesterov
    at.selectbox(key=key(at, "data")).set_value("circle").run()
    assert session().exp.data.name == "circle"
    assert not at.exception, at.exception


def test_residual_graph_is_drawn_with_shapes_on_edges() -> None:
    _, plan = check(load_preset("vanishing_residual"))
    fig = architecture_figure(plan)
    labels = [a.text for a in fig.layout.annotations]
    assert labels.count("16") >= 8 and "2" in labels
    assert len(plan.graph.edges) == len(labels)
    at = open_build("vanishing_residual")
    assert at.dataframe[0].value["parameters"].sum() == plan.total_params


def test_an_outside_change_redraws_the_forms_instead_of_being_reverted() -> None:
    at = open_build()
    at.number_input(key=key(at, "0-p-units")).set_value(5).run()
    session().undo()  # as the sidebar's Undo would
    at.run()
    at.run()
    assert session().exp.model.nodes[0].params["units"] == 8
    assert at.number_input(key=key(at, "0-p-units")).value == 8
