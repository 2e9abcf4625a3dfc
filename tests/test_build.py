"""The Build page through AppTest: forms from declarations, drafts, undo."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from engine.presets import load_preset
from engine.validate import check
from tests.apptest import session
from viz.architecture import architecture_figure

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "views" / "build.py")
APP = str(ROOT / "app.py")


def open_build(preset: str = "xor_hidden") -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["preset"] = preset
    at.run()
    assert not at.exception, at.exception
    return at




def key(at: AppTest, name: str) -> str:
    rev = at.session_state['build-rev'] if 'build-rev' in at.session_state else 0  # noqa: SIM401
    return f"b{rev}-{name}"


def test_editing_units_through_the_generated_form_changes_the_experiment() -> None:
    at = open_build()
    at.number_input(key=key(at, "0-p-units")).set_value(5).run()
    assert not at.exception, at.exception
    assert session().exp.model.nodes[0].params["units"] == 5
    table = at.dataframe[0].value
    assert list(table.columns) == ["Layer", "Type", "Reads", "Output shape", "Parameters"]
    assert list(table["Output shape"]) == ["5", "2"]
    assert list(table["Parameters"]) == [15, 12]


def test_an_invalid_edit_is_explained_at_its_node_and_changes_nothing() -> None:
    at = open_build()
    before = session().exp
    at.selectbox(key=key(at, "1-type")).set_value("add").run()  # add needs two inputs
    assert not at.exception, at.exception
    assert session().exp == before
    errors = " ".join(e.value for e in at.error)
    assert "add takes at least 2 input(s)" in errors
    assert at.button(key="build-discard")  # a way back, beside undo


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
    assert at.dataframe[0].value["Parameters"].sum() == plan.total_params


def test_an_outside_change_redraws_the_forms_instead_of_being_reverted() -> None:
    at = open_build()
    at.number_input(key=key(at, "0-p-units")).set_value(5).run()
    session().undo()  # as the sidebar's Undo would
    at.run()
    at.run()
    assert session().exp.model.nodes[0].params["units"] == 8
    assert at.number_input(key=key(at, "0-p-units")).value == 8


def test_choosing_a_three_class_data_set_trains_that_data_set() -> None:
    at = open_build()
    at.selectbox(key=key(at, "data")).set_value("wine").run()
    assert not at.exception, at.exception
    s = session()
    assert s.draft is None and s.exp.data.name == "wine"
    assert s.exp.model.nodes[-1].params["units"] == 3  # adapted in the same edit
    assert list(at.dataframe[0].value["Output shape"])[-1] == "3"
    assert not at.error


def write_csv() -> bytes:
    rows = ["width,height,size,species"]
    for i in range(90):
        rows.append(f"{i % 7 + 0.5 * (i % 3)},{i % 5 - (i % 3)},{i * 0.37:.2f},"
                    f"{('setosa', 'versicolor', 'virginica')[i % 3]}")
    return "\n".join(rows).encode()


def test_a_csv_file_by_its_name_its_target_a_choice_of_columns(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("ui.uploads.UPLOADS", tmp_path)
    at = open_build()
    at.selectbox(key=key(at, "data")).set_value("csv").run()
    at.file_uploader(key="build-csv").set_value(("flowers.csv", write_csv(), "text/csv")).run()
    assert not at.exception, at.exception
    s = session()
    assert s.draft is None and s.exp.data.name == "csv"
    assert s.exp.model.nodes[-1].params["units"] == 3  # three species
    captions = " ".join(c.value for c in at.caption)
    assert "flowers.csv" in captions and str(tmp_path) not in captions
    target = at.selectbox(key=key(at, "dp-target"))
    assert target.options == ["width", "height", "size", "species"]
    assert target.value == "species"  # the last column, which an unset target means
    assert "target" not in s.exp.data.params
    target.set_value("size").run()  # a number with many values: a regression
    s = session()
    assert s.draft is None and s.exp.data.params["target"] == "size"
    assert s.exp.model.nodes[-1].params["units"] == 1


def test_undo_walks_back_one_edit_at_a_time_broken_ones_included() -> None:
    at = open_build()
    at.number_input(key=key(at, "0-p-units")).set_value(5).run()  # valid
    at.selectbox(key=key(at, "1-type")).set_value("add").run()  # broken
    s = session()
    assert s.draft is not None and s.exp.model.nodes[0].params["units"] == 5
    assert not at.button(key="build-undo").disabled
    at.button(key="build-undo").click().run()
    s = session()
    assert s.draft is None and s.exp.model.nodes[0].params["units"] == 5
    assert at.number_input(key=key(at, "0-p-units")).value == 5
    assert not at.error
    at.button(key="build-undo").click().run()
    assert session().exp.model.nodes[0].params["units"] == 8
    assert at.number_input(key=key(at, "0-p-units")).value == 8
    at.button(key="build-redo").click().run()
    at.button(key="build-redo").click().run()
    assert session().draft is not None and len(at.error) == 1  # the broken edit is back


def test_every_problem_shows_once_at_its_node() -> None:
    at = AppTest.from_file(APP, default_timeout=60)  # the whole app: its banner included
    at.query_params["preset"] = "xor_hidden"
    at.run()
    at.switch_page(PAGE).run()
    s = session()
    spec = s.exp.to_dict()
    lin = {"type": "linear", "params": {"units": 4}}
    spec["model"]["nodes"] = [
        {"id": "a", **lin, "inputs": ["input"]}, {"id": "b", "type": "linear",
                                                   "params": {"units": 3}, "inputs": ["input"]},
        {"id": "sum", "type": "add", "inputs": ["a", "b"]},
        {"id": "dead", **lin, "inputs": ["input"]},
        {"id": "out", "type": "linear", "params": {"units": 2}, "inputs": ["sum"]}]
    s.edit_draft(spec)  # as an edit made elsewhere would
    at.run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 2, errors
    assert errors[0].startswith("Layer 3 (sum): add needs inputs of one shape")
    assert errors[1].startswith("Layer 4 (dead): its output is never used")
    shown = " ".join([*errors, *(i.value for i in at.info), *(w.value for w in at.warning),
                      *(c.value for c in at.caption), *(m.value for m in at.markdown)])
    assert shown.count("never used") == 1 and shown.count("one shape") == 1
    assert "model.nodes" not in shown
    assert [w.value for w in at.warning if "not applied" in w.value] == [
        "Your edits on Build are not applied: 2 problems. Train runs the last valid "
        "experiment."]


def test_own_text_is_pasted_into_a_text_area_and_keeps_its_lines() -> None:
    at = open_build("seq_text_gru")
    area = at.text_area(key=key(at, "dp-text"))
    source = at.selectbox(key=key(at, "dp-source"))
    source.set_value("own")
    area.set_value("The cat sat on the mat.\nThe dog ran after it.\n" * 200)
    at.run()
    assert not at.exception, at.exception
    assert session().draft is None, session().draft_issues
    params = session().exp.data.params
    assert params["source"] == "own" and params["text"].count("\n") == 400


def test_own_text_can_be_uploaded_as_a_file_in_utf8_or_gb18030() -> None:
    at = open_build("seq_text_gru")
    at.selectbox(key=key(at, "dp-source")).set_value("own").run()
    text_key = key(at, "dp-text")
    chinese = "学而时习之，不亦说乎？有朋自远方来，不亦乐乎？\n" * 100
    at.file_uploader(key=f"{text_key}-file").set_value(
        ("lunyu.txt", chinese.encode("gb18030"), "text/plain")).run()
    assert not at.exception, at.exception
    assert at.text_area(key=key(at, "dp-text")).value == chinese
    assert session().draft is None, session().draft_issues
    assert session().exp.data.params["text"] == chinese

    # Too large: refused by name, and the text the user had stays.
    at.file_uploader(key=f"{key(at, 'dp-text')}-file").set_value(
        ("huge.txt", b"a" * 2_000_000, "text/plain")).run()
    assert [e.value for e in at.error] == [
        "huge.txt is 2.0 MB; a text file may be at most 1 MB. Upload a shorter extract."]
    assert session().exp.data.params["text"] == chinese


def test_the_architecture_shows_a_pooling_stride_as_it_acts() -> None:
    exp = load_preset("cnn_lenet")
    _, plan = check(exp)
    text = " ".join(" ".join(map(str, t.text)) for t in architecture_figure(plan).data
                    if getattr(t, "text", None) is not None)
    assert "kernel 2, stride 2" in text and "stride 0" not in text
