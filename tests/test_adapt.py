"""A data-set change adapts what it implies (output units, task, loss), for any graph."""

from __future__ import annotations

import pytest

from engine import SpecError, Trainer, load_experiment
from engine.adapt import adapt_to_data, output_node
from tests.conftest import build_spec


def lin(nid: str, units: int, act: str = "none", inputs: list[str] | None = None) -> dict:
    return {"id": nid, "type": "linear", "params": {"units": units, "activation": act},
            "inputs": inputs}


def on(spec: dict, name: str, **params: object) -> dict:
    return {**spec, "data": {"name": name, "params": dict(params)}}


def units(spec: dict, node_id: str) -> int:
    return next(n for n in spec["model"]["nodes"] if n["id"] == node_id)["params"]["units"]


def test_a_three_class_data_set_gets_three_outputs_and_trains() -> None:
    before = on(build_spec(), "wine")
    with pytest.raises(SpecError, match="set the last layer's units to 3"):
        load_experiment(before)
    after = adapt_to_data(before)
    assert units(after, "out") == 3 and units(after, "h1") == 8
    assert before["model"]["nodes"][1]["params"]["units"] == 2  # the input is not changed
    snap = Trainer(load_experiment({**after, "train": {**after["train"], "epochs": 40}})).run()
    assert snap.final["test_accuracy"] > 0.8  # wine, really learnt: chance is about 0.4


def test_a_residual_graph_with_a_softmax_and_dropout_after_its_output_layer() -> None:
    nodes = [lin("h1", 8, "relu"), lin("f1", 8, "relu"), lin("f2", 8),
             {"id": "res", "type": "add", "inputs": ["h1", "f2"]}, lin("head", 2),
             {"id": "drop", "type": "dropout", "params": {"p": 0.1}},
             {"id": "soft", "type": "softmax"}]
    spec = adapt_to_data(on(build_spec(nodes), "iris"))
    assert output_node(spec["model"]["nodes"]) == 4
    assert units(spec, "head") == 3 and units(spec, "f2") == 8
    load_experiment(spec)


def test_the_output_is_the_node_nobody_reads_not_the_last_listed() -> None:
    nodes = [{"id": "sum", "type": "add", "inputs": ["a", "b"]}, lin("a", 4, inputs=["input"]),
             lin("b", 4, inputs=["input"]), lin("out", 2, inputs=["sum"]),
             lin("early", 5, inputs=["input"])]
    assert output_node(nodes) == 4  # "early": the engine reports "out" as unused, not it
    assert output_node(nodes[:4]) == 3


def test_a_regression_set_drops_a_classification_loss_and_task() -> None:
    spec = build_spec(loss="cross_entropy", task="classification")
    spec = adapt_to_data(on(spec, "diabetes"))
    assert spec["train"]["task"] is None and spec["train"]["loss"] is None
    assert units(spec, "out") == 1
    load_experiment(spec)


def test_a_loss_that_still_fits_is_kept() -> None:
    spec = adapt_to_data(on(build_spec(loss="mae"), "sine"))
    assert spec["train"]["loss"] == "mae" and units(spec, "out") == 1
    spec = adapt_to_data(on(build_spec(loss="bce"), "circle"))  # two classes: one logit
    assert spec["train"]["loss"] == "bce" and units(spec, "out") == 1
    load_experiment(spec)
    spec = adapt_to_data(on(spec, "wine"))  # bce needs two classes: back to the default
    assert spec["train"]["loss"] is None and units(spec, "out") == 3


def test_what_cannot_be_adapted_is_left_for_validation_to_explain() -> None:
    bad_data = on(build_spec(), "wine", train_ratio=7)
    assert adapt_to_data(bad_data)["model"] == bad_data["model"]
    pooled = [{"id": "c", "type": "conv2d", "params": {"filters": 4}},
              {"id": "g", "type": "global_avgpool"}]
    spec = on(build_spec(pooled), "wine")
    assert adapt_to_data(spec)["model"] == spec["model"]
