"""The session's experiment, draft and undo, without a page: one undo step per edit,
valid or not, and the name an edited experiment is shown under."""

from __future__ import annotations

import copy

from engine.presets import load_preset
from ui.session import Session


def broken(spec: dict) -> dict:
    bad = copy.deepcopy(spec)
    bad["model"]["nodes"][-1]["params"]["units"] = 0  # no output units: invalid
    return bad


def test_a_broken_edit_is_kept_as_a_draft_and_is_one_undo_step() -> None:
    s = Session(load_preset("spiral"))
    start = s.exp
    valid = s.exp.to_dict()
    valid["train"]["optimizer"]["lr"] = 0.1
    assert s.edit_draft(valid) == []
    issues = s.edit_draft(broken(valid))
    assert issues and s.draft is not None and s.draft_issues == issues
    assert s.exp.train.optimizer.lr == 0.1  # the experiment keeps the last valid edit
    assert s.can_undo
    s.undo()  # only the broken edit goes
    assert s.draft is None and s.exp.train.optimizer.lr == 0.1
    s.undo()
    assert s.exp == start and not s.can_undo
    s.redo()
    s.redo()
    assert s.draft is not None and s.exp.train.optimizer.lr == 0.1


def test_a_valid_edit_clears_the_draft_and_the_same_broken_edit_is_not_two_steps() -> None:
    s = Session(load_preset("spiral"))
    bad = broken(s.exp.to_dict())
    s.edit_draft(bad)
    s.edit_draft(bad)
    assert len(s.undo_stack) == 1
    s.discard_draft()
    assert s.draft is None and s.draft_issues == []
    s.undo()
    assert s.draft == bad


def test_apply_refuses_a_broken_spec_and_changes_nothing() -> None:
    s = Session(load_preset("spiral"))
    before = s.exp
    assert s.apply(broken(s.exp.to_dict()))
    assert s.exp == before and s.draft is None and not s.can_undo


def test_an_edited_experiment_is_named_after_the_one_opened() -> None:
    s = Session(load_preset("spiral"))
    name = s.exp.meta.name
    assert s.title == name and not s.edited
    d = s.exp.to_dict()
    d["train"]["optimizer"]["lr"] = 0.3
    s.apply(d)
    assert s.edited and s.title == f"Edited from {name}"
    d["meta"]["name"] = "My circle"
    s.apply(d)
    assert s.title == "My circle"
    s.open(load_preset("circle"))
    assert not s.edited and s.title == load_preset("circle").meta.name
