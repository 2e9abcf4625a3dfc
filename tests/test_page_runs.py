"""The Saved runs page through Streamlit's AppTest: save, list, rename, reopen, fine-tune,
delete with confirmation, owners, and a damaged entry reported on the page."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import load_experiment
from engine.presets import encode_share
from engine.runs import default_store
from tests.apptest import ROOT, open_app, session
from tests.conftest import build_spec

PAGE = str(ROOT / "views" / "runs.py")


def button(at, label: str):  # noqa: ANN001, ANN201
    return next(b for b in at.button if b.label == label)


def text(at) -> str:  # noqa: ANN001
    return "\n".join(e.value for kind in ("markdown", "success", "info", "warning", "error")
                     for e in at.get(kind))


def test_save_list_rename_reopen_finetune_delete(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NP_RUNS_DIR", str(tmp_path))
    spec = build_spec(epochs=3)
    spec["meta"] = {"name": "Little xor"}
    at = open_app(share=encode_share(spec), script=PAGE)
    s = session()
    assert "No saved runs yet" in text(at)
    assert at.button(key="runs-save").disabled  # nothing trained
    me = s.extras["owner"]
    assert len(me) >= 20

    s.get_trainer().run()
    at.run()
    at.button(key="runs-save").click().run()
    assert not at.exception, at.exception
    assert "Saved as \u201cLittle xor\u201d" in text(at)
    (info,) = default_store().list(me)
    table = at.table[0].value
    assert list(table["Name"]) == ["Little xor"]
    assert list(table["Steps"]) == [s.trainer.snapshot().step]
    assert at.selectbox(key="runs-pick").value == info.id
    assert len(at.get("plotly_chart")) == 2  # its loss and accuracy curves

    at.text_input(key=f"runs-name-{info.id}").set_value("Kept for class")
    at.button(key="runs-rename").click().run()
    assert not at.exception, at.exception
    assert list(at.table[0].value["Name"]) == ["Kept for class"]

    s.edit(("train", "epochs"), 9)  # the session moves on; the saved run reopens it
    at.button(key="runs-open").click().run()
    assert s.exp == load_experiment(spec)

    # Fine-tune on blobs (three classes): the hidden layer is copied and frozen, the output
    # layer starts fresh with three units.
    at.selectbox(key="runs-ft-data").set_value("blobs")
    at.multiselect(key="runs-ft-freeze").set_value(["h1"])
    at.button(key="runs-ft-start").click().run()
    assert not at.exception, at.exception
    init = s.exp.train.init_from
    assert (s.exp.data.name, init.run, init.freeze) == ("blobs", info.id, ["h1"])
    assert s.exp.model.nodes[-1].params["units"] == 3
    page = text(at)
    assert "Copied from the saved run: h1." in page and "Frozen (not trained): h1." in page
    assert "out starts fresh" in page
    assert not s.get_trainer().model.layers["h1"].linear.weight.requires_grad

    # Another key sees nothing; the own key brings the runs back.
    at.text_input(key="runs-key").set_value("x" * 22)
    button(at, "Use this key").click().run()
    assert "No saved runs yet" in text(at) and not at.table
    at.text_input(key="runs-key").set_value("short")
    button(at, "Use this key").click().run()
    assert "not a saved-runs key" in text(at)
    at.text_input(key="runs-key").set_value(me)
    button(at, "Use this key").click().run()
    assert list(at.table[0].value["Name"]) == ["Kept for class"]

    # A damaged weights file: reported by name, skipped.
    second = default_store().save(s.exp, {}, {}, {}, "Broken one", me)
    default_store().weights_path(second).write_bytes(b"not weights")
    at.run()
    assert any("\u201cBroken one\u201d" in w.value and "incomplete" in w.value
               for w in at.warning)
    assert list(at.table[0].value["Name"]) == ["Kept for class"]

    # Delete asks first; "Keep it" keeps it.
    at.button(key="runs-delete").click().run()
    assert "for good?" in text(at)
    at.button(key="runs-delete-no").click().run()
    assert [r.id for r in default_store().list(me)] == [info.id]
    at.button(key="runs-delete").click().run()
    at.button(key="runs-delete-yes").click().run()
    assert not at.exception, at.exception
    assert default_store().list(me) == [] and "No saved runs yet" in text(at)


def test_the_train_page_saves_a_finished_run(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NP_RUNS_DIR", str(tmp_path))
    spec = build_spec(epochs=2)
    spec["meta"] = {"name": "Kept from Train"}
    at = open_app(share=encode_share(spec), script=str(ROOT / "views" / "train.py"))
    s = session()
    assert at.button(key="train-save-run").disabled  # nothing trained yet
    s.get_trainer().run()
    at.run()
    at.button(key="train-save-run").click().run()
    assert not at.exception, at.exception
    assert [r.name for r in default_store().list(s.extras["owner"])] == ["Kept from Train"]
