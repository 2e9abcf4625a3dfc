"""What differs between two experiments, in words; and one setting changed at a time."""

from __future__ import annotations

import copy

import pytest

from engine import load_experiment
from engine.cures import batchnorm
from engine.errors import SpecError
from engine.i18n import using
from engine.presets import load_preset
from engine.spec import sparse_dict
from engine.spec_diff import differences
from engine.variants import VARIANTS, applicable, label, vary


def edited(name: str, edit) -> object:  # noqa: ANN001
    spec = load_preset(name).to_dict()
    edit(spec)
    return load_experiment(spec)


def test_sigmoid_against_relu_with_he_reads_as_two_lines() -> None:
    lines = differences(load_preset("vanishing_sigmoid"), load_preset("vanishing_relu_he"))
    # Nine layers changed the same way are one line, not nine.
    assert lines == ["Layers 1–9 (hidden1 … hidden9), activation: sigmoid → ReLU",
                     "Initialisation: PyTorch's default → He (normal)"]


def test_the_same_experiment_written_two_ways_has_no_difference() -> None:
    exp = load_preset("vanishing_sigmoid")
    sparse = load_experiment(sparse_dict(exp))
    spec = exp.to_dict()
    spec["model"]["nodes"][-1]["params"]["activation"] = "none"  # the layer's own default
    spec["data"]["params"].pop("noise")
    spec["data"]["params"]["noise"] = 0.1  # as it was, written again
    spec["meta"]["name"] = "Renamed"  # names and notes do not change what is learned
    spec["probes"] = []
    assert differences(exp, sparse) == []
    assert differences(exp, load_experiment(spec)) == []


def test_one_setting_each() -> None:
    base = load_preset("spiral")

    def lr(s: dict) -> None:
        s["train"]["optimizer"]["lr"] = 0.001

    def data(s: dict) -> None:
        s["data"]["name"] = "circle"

    def noise(s: dict) -> None:
        s["data"]["params"]["noise"] = 0.35

    def one_layer(s: dict) -> None:
        s["model"]["nodes"][1]["params"]["activation"] = "sigmoid"

    def clip(s: dict) -> None:
        s["train"]["grad_clip"] = 1.0

    assert differences(base, edited("spiral", lr)) == [
        f"Learning rate: {base.train.optimizer.lr:g} → 0.001"]
    assert differences(base, edited("spiral", data)) == ["Data set: Spiral → Circle"]
    assert differences(base, edited("spiral", noise)) == [
        f"Data noise: {base.data.params['noise']:g} → 0.35"]
    assert base.model.nodes[1].params["activation"] == "tanh"
    assert differences(base, edited("spiral", one_layer)) == [
        "Layer 2 (hidden2), activation: tanh → sigmoid"]
    assert differences(base, edited("spiral", clip)) == ["Gradient clipping: off → 1"]


def test_layers_added_and_removed_are_named_without_rewiring_noise() -> None:
    base = load_preset("spiral")

    def add(s: dict) -> None:
        new = copy.deepcopy(s["model"]["nodes"][0])
        new["id"] = "h3"
        s["model"]["nodes"].insert(1, new)

    lines = differences(base, edited("spiral", add))
    assert lines == ["Layer 2 (h3) added: linear"]
    assert differences(edited("spiral", add), base) == ["Layer 2 (h3) removed"]
    # A cure that inserts eighteen layers says so in one line; the layers that now read
    # through them are not listed as rewired.
    sig = load_preset("vanishing_sigmoid")
    lines = differences(sig, load_experiment(batchnorm(sig.to_dict())))
    assert lines[0].startswith("18 layers added (9 × batch norm, 9 × sigmoid): hidden1_bn")
    assert not any("inputs" in line for line in lines)


def test_differences_are_translated() -> None:
    a, b = load_preset("vanishing_sigmoid"), load_preset("vanishing_relu_he")
    with using("zh"):
        lines = differences(a, b)
    english = differences(a, b)
    assert len(lines) == 2 and all(z != e for z, e in zip(lines, english, strict=True))
    # The ids are names from the spec and stay; the words around them are Chinese.
    assert "hidden1" in lines[0] and "→" in lines[0]
    assert not any("Layers" in line or "activation" in line or "Initialisation" in line
                   for line in lines)


def test_every_variant_changes_that_setting_only() -> None:
    exp = load_preset("vanishing_sigmoid")
    keys = applicable(exp)
    assert {"activation", "optimizer", "lr", "init", "batch_size", "l2", "noise", "depth",
            "width", "seed", "preset"} <= set(keys)
    for key in keys:
        if key == "preset":
            continue
        value = VARIANTS[key].choices(exp)[-1]
        lines = differences(exp, vary(exp, key, value))
        assert lines, key
        if key in ("activation", "optimizer", "lr", "init", "batch_size", "l2", "l1", "noise",
                   "width", "seed"):
            assert len(lines) == 1, (key, lines)
    relu = vary(exp, "activation", "relu")
    assert label(exp, "activation") == "Activation: sigmoid"
    assert label(exp, "activation", "relu") == "Activation: ReLU"
    assert {n.params.get("activation") for n in relu.model.nodes} == {"relu", None}


def test_a_change_to_the_same_value_is_refused_in_words() -> None:
    exp = load_preset("vanishing_sigmoid")
    with pytest.raises(SpecError) as e:
        vary(exp, "seed", exp.train.seed)
    assert e.value.code == "no_change"
    assert "Initial weights (seed) is already 0 here" in str(e.value)


def test_every_field_a_difference_can_name_reads_in_chinese() -> None:
    from engine import spec as S
    from engine.data import DATASETS
    from engine.i18n import catalogue
    from engine.layers import LAYERS
    from engine.places import field_words

    names = {p.name for kind in LAYERS for p in kind.params}
    names |= {p.name for d in DATASETS for p in d.params}
    for model in (S.Experiment, S.DataSpec, S.AugmentSpec, S.ModelSpec, S.NodeSpec, S.InitSpec,
                  S.TrainSpec, S.OptimizerSpec, S.ScheduleSpec, S.RegularizationSpec,
                  S.EarlyStoppingSpec, S.InitFrom):
        names |= set(model.model_fields)
    zh = catalogue("zh")
    missing = sorted(field_words(n) for n in names if field_words(n) not in zh)
    assert not missing, f"add these to locales/zh/compare.json: {missing}"
