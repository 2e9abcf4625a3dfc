"""Lesson steps' edits: spec paths applied to a spec, bad paths named with their fix, every
preset step's edit valid, and the steps' cures doing what their text says."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine import SpecError, Trainer, load_experiment
from engine.edits import apply_edit, check_edit
from engine.presets import PRESET_DIR, list_presets, load_preset
from ui.session import Session


def with_steps() -> list[str]:
    """The presets whose files carry steps (read raw: collection must not need them valid)."""
    return [n for n in list_presets()
            if json.loads((PRESET_DIR / f"{n}.json").read_text()).get("meta", {}).get("steps")]


def test_the_three_lessons_have_steps_with_buttons() -> None:
    names = set(with_steps())
    assert {"vanishing_sigmoid", "overfitting", "spiral"} <= names
    for name in ("vanishing_sigmoid", "overfitting", "spiral"):
        steps = load_preset(name).meta.steps
        assert sum(bool(s.button and s.edit) for s in steps) >= 2, name


@pytest.mark.parametrize("name", with_steps())
def test_every_preset_steps_edit_applies_and_validates(name: str) -> None:
    exp = load_preset(name)
    for i, step in enumerate(exp.meta.steps):
        assert bool(step.button) == bool(step.edit), f"{name} step {i + 1}: button and edit"
        if step.edit:
            assert check_edit(exp, step.edit) == [], f"{name} step {i + 1}"
            changed = load_experiment(apply_edit(exp, step.edit))
            assert changed != exp, f"{name} step {i + 1} changes nothing"


def test_fields_node_params_and_the_wildcard() -> None:
    exp = load_preset("vanishing_sigmoid")
    out = apply_edit(exp, {"train.optimizer.lr": 0.5, "data.params.noise": 0.3,
                           "model.nodes.hidden3.params.units": 8,
                           "model.nodes.*.params.activation": "relu",
                           "probes.activations.every": 7,
                           "model.nodes.hidden1.init.scheme": "he_normal"})
    new = load_experiment(out)
    assert new.train.optimizer.lr == 0.5 and new.data.params["noise"] == 0.3
    assert new.model.nodes[2].params["units"] == 8
    acts = [n.params.get("activation") for n in new.model.nodes]
    assert acts == ["relu"] * 9 + [None]  # the output layer names none: untouched
    assert next(p for p in new.probes if p.name == "activations").every == 7
    assert new.model.nodes[0].init.scheme == "he_normal"
    assert exp.model.nodes[0].params["activation"] == "sigmoid"  # the input is not changed


def test_insert_after_and_remove_keep_the_graph_wired() -> None:
    # Every node of this preset names its input: the new node must take over the edge.
    exp = load_preset("vanishing_batchnorm")
    ids = [n.id for n in exp.model.nodes]
    out = load_experiment(apply_edit(exp, {
        "model.insert_after.hidden1_bn": {"id": "drop1", "type": "dropout",
                                          "params": {"p": 0.2}}}))
    nodes = {n.id: n for n in out.model.nodes}
    at = [n.id for n in out.model.nodes].index("drop1")
    assert [n.id for n in out.model.nodes][at - 1] == "hidden1_bn"
    assert nodes["hidden1_act"].inputs == ["drop1"]
    out = load_experiment(apply_edit(exp, {"model.remove.hidden1_bn": True}))
    assert {n.id: n for n in out.model.nodes}["hidden1_act"].inputs == ["hidden1"]
    assert len(out.model.nodes) == len(ids) - 1
    # A plain stack: a list of nodes goes in in order.
    plain = load_experiment(apply_edit(load_preset("spiral"), {"model.insert_after.hidden1": [
        {"id": "bn", "type": "batchnorm1d"}, {"id": "act", "type": "tanh"}]}))
    assert [n.id for n in plain.model.nodes] == ["hidden1", "bn", "act", "hidden2", "output"]


@pytest.mark.parametrize(("edit", "words"), [
    ({"train.optimiser.lr": 1}, "train has no optimiser (it has: task, loss, optimizer"),
    ({"model.nodes.hidden9.type": "relu"}, "no node hidden9 (nodes: hidden1, hidden2, output)"),
    ({"train.optimizer.lr.x": 1}, "is a single value, not a section"),
    ({"model.nodes.*.params.dropout": 1}, "no node sets params.dropout"),
    ({"model.insert_after.hidden1": {"id": "hidden2", "type": "dropout"}},
     "a node hidden2 exists already"),
    ({"model.insert_after.hidden1": {"type": "dropout"}}, "needs an id and a type"),
    ({"model.remove.hidden1": "yes"}, "set its path to true"),
    ({"probes.nothing.every": 2}, "probes has no item nothing"),
    ({"train..lr": 2}, "dotted names such as train.optimizer.lr"),
])
def test_a_bad_path_is_one_line_naming_the_path_and_the_fix(edit: dict, words: str) -> None:
    with pytest.raises(SpecError) as e:
        apply_edit(load_preset("spiral"), edit)
    (issue,) = e.value.issues
    assert words in issue.message
    assert str(issue).startswith(next(iter(edit)) if next(iter(edit)) != "train..lr" else "")
    assert "\n" not in str(e.value)


def test_through_the_session_a_bad_edit_changes_nothing_and_a_good_one_is_undone() -> None:
    s = Session(load_preset("spiral"))
    before = s.exp
    assert s.apply(apply_edit(s.exp, {"train.optimizer.lr": -1}))  # the value is refused
    assert s.exp == before and not s.can_undo
    step = s.exp.meta.steps[1]
    assert s.apply(apply_edit(s.exp, step.edit)) == []
    assert s.exp.model.nodes[0].params["units"] == 4
    s.undo()
    assert s.exp == before


def _first_to_last_gradient(exp_dict: dict) -> float:
    exp_dict["train"]["epochs"] = 2
    exp_dict["probes"] = [{"name": "gradient_flow", "every": 5}]
    flow = Trainer(load_experiment(exp_dict)).run().probes["gradient_flow"]
    grad = np.asarray(flow["grad"])[-1]
    return float(grad[0] / grad[-1])


def test_the_sigmoid_lessons_buttons_cure_the_vanishing_gradient() -> None:
    """What steps 2 and 3 say: the first layer's gradient is no longer vanishing."""
    exp = load_preset("vanishing_sigmoid")
    assert _first_to_last_gradient(exp.to_dict()) < 1e-4
    for step in exp.meta.steps[1:3]:
        assert _first_to_last_gradient(apply_edit(exp, step.edit)) > 1e-2, step.button
