"""Spec validation: every bad input is one SpecError line that names its place."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from engine import Experiment, SpecError, load_experiment
from engine.spec import SCHEMA_VERSION
from engine.validate import MIGRATIONS, migrate


def one_issue(source) -> str:  # noqa: ANN001
    """The single line a bad spec produces (fails if it is not exactly one)."""
    with pytest.raises(SpecError) as info:
        load_experiment(source)
    err = info.value
    assert len(err.issues) == 1, str(err)
    line = str(err)
    assert "\n" not in line and "Traceback" not in line
    assert line == str(err.issues[0])
    return line


def test_a_good_spec_loads_and_fills_defaults(spec) -> None:
    exp = load_experiment(spec())
    assert isinstance(exp, Experiment)
    d = exp.to_dict()
    assert d["schema"] == SCHEMA_VERSION
    assert d["train"]["optimizer"]["name"] == "sgd"  # a default spelled out
    assert load_experiment(d) == exp  # the canonical dict loads back to the same spec
    assert load_experiment(exp) is exp


def test_unknown_layer_type(spec) -> None:
    s = spec()
    s["model"]["nodes"].insert(1, {"id": "h2", "type": "dense", "params": {}})
    line = one_issue(s)
    assert line.startswith("model.nodes[1] (h2): unknown layer type 'dense'"), line
    assert "linear" in line  # lists what is known


def test_unknown_layer_type_suggests_the_closest(spec) -> None:
    s = spec()
    s["model"]["nodes"][0]["type"] = "lineer"
    assert "did you mean linear" in one_issue(s)


@pytest.mark.parametrize(("value", "expected"), [
    ("eight", "units must be a whole number, got 'eight'"),
    (2.5, "units must be a whole number, got 2.5"),
    (True, "units must be a whole number, got True"),
    (None, "units must be a whole number, got None"),
])
def test_parameter_of_the_wrong_type(spec, value, expected) -> None:
    s = spec()
    s["model"]["nodes"][0]["params"]["units"] = value
    assert one_issue(s) == f"model.nodes[0] (h1): {expected}"


def test_wrong_type_for_text_and_choice_parameters(spec) -> None:
    s = spec()
    s["model"]["nodes"][0]["params"]["activation"] = 3
    assert one_issue(s) == "model.nodes[0] (h1): activation must be text, got 3"
    s["model"]["nodes"][0]["params"]["activation"] = "tanhh"
    line = one_issue(s)
    assert line.startswith("model.nodes[0] (h1): activation must be one of none, relu"), line
    assert line.endswith("got 'tanhh'")


@pytest.mark.parametrize(("units", "got"), [(0, "0"), (5000, "5000"), (-3, "-3")])
def test_parameter_out_of_range(spec, units, got) -> None:
    s = spec()
    s["model"]["nodes"].insert(1, {"id": "hidden2", "type": "linear",
                                   "params": {"units": units}})
    assert one_issue(s) == (f"model.nodes[1] (hidden2): units must be between 1 and 4096, "
                            f"got {got}")


def test_unknown_layer_parameter(spec) -> None:
    s = spec()
    s["model"]["nodes"][0]["params"]["unit"] = 4
    line = one_issue(s)
    assert line.startswith("model.nodes[0] (h1): unknown parameter 'unit' (known: units"), line


@pytest.mark.parametrize("bad", [float("inf"), float("-inf"), float("nan")])
def test_non_finite_numbers_are_refused_by_name(spec, bad) -> None:
    # Python's json module reads Infinity and NaN, so a file can carry them.
    s = spec()
    s["model"]["nodes"][0]["params"]["units"] = bad
    assert one_issue(s).startswith("model.nodes[0] (h1): units must be")
    s = spec()
    s["model"]["nodes"].insert(1, {"id": "drop", "type": "dropout", "params": {"p": bad}})
    assert one_issue(s).startswith("model.nodes[1] (drop): p must be")


def test_mismatched_shapes_at_a_merge_name_the_node_and_both_shapes(spec) -> None:
    s = spec(nodes=[
        {"id": "a", "type": "linear", "params": {"units": 8}, "inputs": ["input"]},
        {"id": "b", "type": "linear", "params": {"units": 4}, "inputs": ["input"]},
        {"id": "sum", "type": "add", "inputs": ["a", "b"]},
        {"id": "out", "type": "linear", "params": {"units": 2}},
    ])
    line = one_issue(s)
    assert line.startswith("model.nodes[2] (sum): add needs inputs of one shape"), line
    assert "[8]" in line and "[4]" in line
    assert "a [8]" in line and "b [4]" in line  # which input has which shape


def test_mismatched_shapes_at_a_multiply_name_the_data_input_too(spec) -> None:
    s = spec(nodes=[
        {"id": "a", "type": "linear", "params": {"units": 8}},
        {"id": "m", "type": "multiply", "inputs": ["input", "a"]},
        {"id": "out", "type": "linear", "params": {"units": 2}},
    ])
    line = one_issue(s)
    assert line.startswith("model.nodes[1] (m): multiply needs inputs of one shape"), line
    assert "input [2]" in line and "a [8]" in line


def test_a_cycle(spec) -> None:
    s = spec(nodes=[
        {"id": "a", "type": "add", "inputs": ["input", "c"]},
        {"id": "b", "type": "linear", "params": {"units": 2}, "inputs": ["a"]},
        {"id": "c", "type": "linear", "params": {"units": 2}, "inputs": ["b"]},
        {"id": "out", "type": "linear", "params": {"units": 2}, "inputs": ["c"]},
    ])
    with pytest.raises(SpecError) as info:
        load_experiment(s)
    assert info.value.code == "cycle"
    line = one_issue(s)
    assert line.startswith("model.nodes: the nodes "), line
    assert "form a cycle" in line
    for nid in ("a", "b", "c"):
        assert nid in line


def test_an_input_id_that_does_not_exist(spec) -> None:
    s = spec()
    s["model"]["nodes"][1]["inputs"] = ["h9"]
    line = one_issue(s)
    assert line.startswith("model.nodes[1] (out): input 'h9' does not exist"), line
    assert "input, h1, out" in line


@pytest.mark.parametrize(("params", "expected"), [
    ({"n_samples": 5}, "data.params: n_samples must be between 10 and 100000, got 5"),
    ({"noise": 2.0}, "data.params: noise must be between 0 and 1, got 2.0"),
    ({"train_ratio": 0.99}, "data.params: train_ratio must be between 0.1 and 0.9, got 0.99"),
    ({"n_samples": "many"}, "data.params: n_samples must be a whole number, got 'many'"),
])
def test_a_data_parameter_out_of_range_or_of_the_wrong_type(spec, params, expected) -> None:
    assert one_issue(spec(data_params=params)) == expected


def test_unknown_data_set_and_features(spec) -> None:
    assert one_issue(spec(data="spirals")).startswith(
        "data.name: unknown data set 'spirals'; did you mean spiral")
    s = spec()
    s["data"]["features"] = ["x1", "x3"]
    assert one_issue(s).startswith("data.features: unknown feature 'x3'")


def test_features_change_the_input_width(spec) -> None:
    s = spec()
    s["data"]["features"] = ["x1", "x2", "x1x2"]
    exp = load_experiment(s)
    from engine.validate import check

    data, plan = check(exp)
    assert data.input_shape == (3,)
    assert plan.nodes[0].in_shapes == ((3,),)


def test_a_newer_schema_version(spec) -> None:
    s = spec()
    s["schema"] = SCHEMA_VERSION + 1
    line = one_issue(s)
    assert line.startswith(f"schema: version {SCHEMA_VERSION + 1} is newer than this app"), line
    with pytest.raises(SpecError) as info:
        load_experiment(s)
    assert info.value.code == "schema_version"


@pytest.mark.parametrize("version", [0, SCHEMA_VERSION - 1, -4])
def test_an_older_schema_version_is_refused_with_its_number(spec, version) -> None:
    if version in MIGRATIONS:
        pytest.skip("this version has a migration now")
    s = spec()
    s["schema"] = version
    line = one_issue(s)
    assert line.startswith(f"schema: version {version} is no longer supported"), line
    assert f"reads version {SCHEMA_VERSION}" in line


@pytest.mark.parametrize("version", [None, "1", 1.0, True])
def test_a_schema_that_is_not_a_version_number(spec, version) -> None:
    s = spec()
    if version is None:
        del s["schema"]
    else:
        s["schema"] = version
    assert one_issue(s).startswith("schema: must be the schema version number")


def test_a_registered_migration_is_applied(spec, monkeypatch) -> None:
    old = spec()
    old["schema"] = 0
    old["train"]["learning_rate"] = 0.2  # say version 0 kept the rate here

    def up(d: dict) -> dict:
        d = copy.deepcopy(d)
        d["train"]["optimizer"] = {"lr": d["train"].pop("learning_rate")}
        d["schema"] = 1
        return d

    monkeypatch.setitem(MIGRATIONS, 0, up)
    assert migrate(copy.deepcopy(old))["schema"] == SCHEMA_VERSION
    assert load_experiment(old).train.optimizer.lr == 0.2


def test_a_bad_json_file_names_line_and_column(tmp_path: Path) -> None:
    f = tmp_path / "broken.json"
    f.write_text('{\n  "schema": 1,\n  "model": ,\n}\n', encoding="utf-8")
    line = one_issue(f)
    assert line.startswith("broken.json: not valid JSON at line 3, column 12"), line
    with pytest.raises(SpecError) as info:
        load_experiment(str(f))
    assert info.value.code == "bad_json"


def test_files_that_are_missing_or_not_an_object(tmp_path: Path) -> None:
    assert one_issue(tmp_path / "nope.json") == "nope.json: file not found"
    f = tmp_path / "list.json"
    f.write_text("[1, 2]", encoding="utf-8")
    assert one_issue(f) == "list.json: an experiment is a JSON object"
    f = tmp_path / "binary.json"
    f.write_bytes(b"\xff\xfe\x00garbage")
    assert one_issue(f).startswith("binary.json: cannot be read")


def test_a_good_file_loads(tmp_path: Path, spec) -> None:
    f = tmp_path / "good.json"
    f.write_text(json.dumps(spec()), encoding="utf-8")
    assert load_experiment(f) == load_experiment(spec())


def test_unknown_top_level_and_nested_fields(spec) -> None:
    s = spec()
    s["trian"] = {}
    assert one_issue(s) == "trian: unknown field; remove it or check its spelling"
    s = spec()
    s["train"]["optimizer"] = {"name": "adam", "lrate": 0.1}
    assert one_issue(s) == "train.optimizer.lrate: unknown field; remove it or check its spelling"
    s = spec()
    s["model"]["nodes"][1]["activation"] = "relu"
    assert one_issue(s).startswith("model.nodes[1].activation: unknown field")


def test_structural_errors_name_their_path(spec) -> None:
    s = spec()
    s["train"]["optimizer"] = {"lr": -1}
    assert one_issue(s) == "train.optimizer.lr: must be greater than 0, got -1"
    s = spec()
    s["train"]["optimizer"] = {"name": "adamx"}
    assert one_issue(s).startswith("train.optimizer.name: must be 'sgd', 'momentum'")
    s = spec()
    del s["model"]
    assert one_issue(s) == "model: is required"
    s = spec()
    s["model"]["nodes"][0]["id"] = "has space"
    assert one_issue(s).startswith("model.nodes[0].id: must match pattern")


def test_several_problems_are_all_reported_one_line_each(spec) -> None:
    s = spec()
    s["train"]["optimizer"] = {"lr": 0}
    s["train"]["batch_size"] = 0
    with pytest.raises(SpecError) as info:
        load_experiment(s)
    paths = [i.path for i in info.value.issues]
    assert paths == ["train.optimizer.lr", "train.batch_size"]
    assert str(info.value).count("\n") == 1


@pytest.mark.parametrize(("loss", "expected"), [
    ("huber", "train.loss: huber does not fit classification; choose one of cross_entropy, "
              "bce, mse"),
    ("mae", "train.loss: mae does not fit classification; choose one of cross_entropy, bce, "
            "mse"),
])
def test_a_loss_that_does_not_fit_the_task(spec, loss, expected) -> None:
    assert one_issue(spec(loss=loss)) == expected


def test_regression_losses_and_a_task_that_does_not_fit_the_data(spec) -> None:
    s = spec(data="plane", loss="cross_entropy")
    s["model"]["nodes"][-1]["params"]["units"] = 1
    assert one_issue(s).startswith("train.loss: cross_entropy does not fit regression")
    s = spec(task="regression")
    assert one_issue(s).startswith("train.task: regression cannot train on xor, which is a "
                                   "classification data set; set task to classification")


def test_binary_cross_entropy_needs_two_classes_and_one_logit(spec) -> None:
    s = spec(data="blobs", data_params={"classes": 3}, loss="bce")
    s["model"]["nodes"][-1]["params"]["units"] = 1
    assert one_issue(s).startswith("train.loss: binary cross-entropy needs 2 classes, blobs "
                                   "has 3")
    s = spec(loss="bce")  # xor has two classes: one logit, not two
    assert one_issue(s).endswith("set the last layer's units to 1")
    s["model"]["nodes"][-1]["params"]["units"] = 1
    load_experiment(s)


def test_output_units_must_match_the_classes(spec) -> None:
    s = spec(data="spiral_multi", data_params={"classes": 3})
    line = one_issue(s)
    assert line.startswith("model.nodes[1] (out): the model's output has shape [2]"), line
    assert line.endswith("set the last layer's units to 3")
    s["model"]["nodes"][-1]["params"]["units"] = 3
    load_experiment(s)


def test_an_unknown_probe_and_an_unavailable_device(spec) -> None:
    s = spec(probes=[{"name": "grad_norm"}, {"name": "gradnorm"}])
    assert one_issue(s).startswith("probes[1].name: unknown probe 'gradnorm'; did you mean")
    from engine.device import available_devices

    missing = next((d for d in ("cuda", "mps") if d not in available_devices()), None)
    if missing:
        assert one_issue(spec(device=missing)).startswith(f"train.device: {missing} is not "
                                                          "available here")


# Everything a hand-edited file or a fuzzer might send: each must be a SpecError.
def _mutations() -> list[tuple[str, object]]:
    return [
        ("model.nodes", "x"), ("model.nodes", []), ("model.nodes", [1]), ("model", None),
        ("model.nodes.0.params", [1]), ("model.nodes.0.params.units", {"a": 1}),
        ("model.nodes.0.type", ["linear"]), ("model.nodes.0.inputs", "h1"),
        ("model.nodes.0.inputs", []), ("model.nodes.1.inputs", ["input", "input"]),
        ("model.nodes.0.init", {"scheme": "glorot"}), ("model.init", {"std": 0}),
        ("model.nodes.0.id", ""), ("model.nodes.0.id", "x" * 41), ("model.nodes.0.id", 3),
        ("data", []), ("data.name", None), ("data.params", "n"), ("data.seed", -1),
        ("data.features", []), ("data.features", "x1"), ("data.params.noise", float("nan")),
        ("train", 5), ("train.epochs", 0), ("train.epochs", 1.5), ("train.batch_size", "ten"),
        ("train.optimizer.lr", float("inf")), ("train.optimizer.lr", float("nan")),
        ("train.grad_clip", 0), ("train.schedule", {"name": "linear"}),
        ("train.early_stopping", {"patience": 0}), ("train.regularization", {"l1": -1}),
        ("train.eval_every", 0), ("train.seed", 2**40), ("train.device", "tpu"),
        ("probes", {}), ("probes", [{"every": 3}]), ("probes", [{"name": "grad_norm",
                                                                "every": 0}]),
        ("meta", {"name": "x" * 500}), ("meta.color", "red"), ("schema", "one"),
    ]


def _set(d: dict, path: str, value: object) -> None:
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]
    for k in keys[:-1]:
        d = d.setdefault(k, {}) if isinstance(d, dict) else d[k]
    d[keys[-1]] = value


@pytest.mark.parametrize(("path", "value"), _mutations(), ids=lambda v: str(v)[:30])
def test_nothing_raises_anything_but_spec_error(spec, path, value) -> None:
    s = spec()
    s["model"]["nodes"][0]["params"]["units"] = 8
    _set(s, path, value)
    with pytest.raises(SpecError) as info:
        load_experiment(s)
    for issue in info.value.issues:
        assert issue.message and "\n" not in issue.message
        assert "Traceback" not in issue.message


def test_the_experiment_is_frozen(spec) -> None:
    exp = load_experiment(spec())
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        exp.train = None  # type: ignore[misc]
    changed = exp.replace(train={**exp.to_dict()["train"], "epochs": 7})
    assert changed.train.epochs == 7 and exp.train.epochs == 5


def test_probe_parameters_are_checked_against_their_declarations() -> None:
    from engine import SpecError, load_experiment
    from engine.presets import load_preset

    spec = load_preset("circle").to_dict()
    spec["probes"] = [{"name": "boundary", "every": 5, "params": {"resolution": 5000}},
                      {"name": "evaluation", "every": 1, "params": {"colour": "red"}}]
    with pytest.raises(SpecError) as e:
        load_experiment(spec)
    assert [i.path for i in e.value.issues] == ["probes[0].params", "probes[1].params"]
    assert "resolution must be between 10 and 200" in str(e.value)
    assert "unknown parameter 'colour'" in str(e.value)


def test_no_epoch_budget_is_allowed_and_its_schedules_checked(spec) -> None:
    # As TensorFlow Playground: train until paused or stopped (issue 7, defect 12).
    exp = load_experiment(spec(epochs=None))
    assert exp.train.epochs is None and exp.to_dict()["train"]["epochs"] is None
    assert load_experiment({"schema": 1, "model": exp.to_dict()["model"]}).train.epochs == 100
    for name in ("constant", "step", "exponential"):
        load_experiment(spec(epochs=None, schedule={"name": name}))
    for name in ("cosine", "one_cycle"):
        assert one_issue(spec(epochs=None, schedule={"name": name})) == (
            f"train.schedule: the {name} schedule is shaped over the whole run, so it needs an "
            "epoch budget; set train.epochs to a number, or choose the constant, step or "
            "exponential schedule")
    with pytest.raises(SpecError) as info:
        load_experiment(spec(epochs=None, schedule={"name": "cosine"}))
    assert info.value.code == "schedule_needs_epochs"


def test_a_schedule_that_needs_the_run_length_says_so_without_one() -> None:
    from engine.optim import NEEDS_RUN_LENGTH, lr_factor
    from engine.spec import ScheduleSpec

    assert lr_factor(ScheduleSpec(name="step"), 50, 10, None) == 0.5 ** 0
    for name in NEEDS_RUN_LENGTH:
        with pytest.raises(ValueError, match="train.schedule"):
            lr_factor(ScheduleSpec(name=name), 5, 10, None)


def test_output_units_message_reads_as_a_sentence(spec) -> None:
    s = spec()
    s["model"]["nodes"][-1]["params"]["units"] = 3
    assert one_issue(s) == ("model.nodes[1] (out): the model's output has shape [3], but 2 "
                            "classes need shape [2]; set the last layer's units to 2")
    r = spec(data="sine")
    assert one_issue(r) == ("model.nodes[1] (out): the model's output has shape [2], but one "
                            "target value needs shape [1]; set the last layer's units to 1")


def test_a_wrong_loss_does_not_hide_a_wrong_node(spec) -> None:  # noqa: ANN001
    from engine import SpecError, load_experiment

    bad = spec([{"id": "h1", "type": "linear", "params": {"units": 8}},
                {"id": "pool", "type": "maxpool2d", "params": {"kernel_size": 2}},
                {"id": "out", "type": "linear", "params": {"units": 2}}], loss="mae")
    with pytest.raises(SpecError) as e:
        load_experiment(bad)
    paths = [i.path for i in e.value.issues]
    assert "train.loss" in paths and any(p.startswith("model.nodes[1]") for p in paths), paths
