"""The engine's own messages in Chinese: real errors from real specs, share links and
probe results come out in the language of the caller, with the same Issue codes, and in
the English the other tests match when no language is set."""

from __future__ import annotations

import copy
import re
from typing import Any

import numpy as np
import pytest

from engine.budget import count_words
from engine.errors import SpecError
from engine.health import assess
from engine.i18n import catalogue, using
from engine.presets import decode_share, load_preset
from engine.validate import load_experiment

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def spiral() -> dict[str, Any]:
    return load_preset("spiral").to_dict()


def issues(source: Any, lang: str | None = None) -> list[tuple[str, str, str]]:
    """(path, code, message) of each problem ``source`` has, in ``lang``."""
    try:
        if lang is None:
            load_experiment(source)
        else:
            with using(lang):
                load_experiment(source)
    except SpecError as e:
        return [(i.path, i.code, i.message) for i in e.issues]
    raise AssertionError("the spec was accepted")


def both(source: Any) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    english, chinese = issues(source), issues(source, "zh")
    assert [i[:2] for i in english] == [i[:2] for i in chinese]  # same places and codes
    for (_, _, en), (_, _, zh) in zip(english, chinese, strict=True):
        assert not HAN.search(en), en
        assert HAN.search(zh), zh
    return english, chinese


def test_pydantic_errors_and_unknown_names_in_both_languages(spiral: dict) -> None:
    spec = copy.deepcopy(spiral)
    spec["train"]["optimizer"]["lr"] = -1
    spec["train"]["batch_size"] = 2.5
    spec["train"]["colour"] = "red"
    english, chinese = both(spec)
    assert [(p, c) for p, c, _ in english] == [
        ("train.optimizer.lr", "greater_than"), ("train.batch_size", "int_from_float"),
        ("train.colour", "extra_forbidden")]
    assert english[0][2] == "must be greater than 0, got -1"
    assert chinese[0][2] == "必须大于 0，当前为 -1"
    assert chinese[2][2] == "未知的字段；请删除它或检查拼写"

    spec = copy.deepcopy(spiral)
    spec["model"]["nodes"][1]["type"] = "lineer"
    (english,), (chinese,) = both(spec)
    assert english[1] == "unknown_layer"
    assert english[2].startswith("unknown layer type 'lineer'; did you mean linear?")
    assert chinese[2].startswith("未知的层类型 'lineer'；你是指 linear")


def test_a_shape_error_in_both_languages(spiral: dict) -> None:
    spec = copy.deepcopy(spiral)
    spec["data"] = {"name": "digits", "params": {}}
    spec["model"]["nodes"] = [
        {"id": "conv", "type": "conv2d", "params": {"filters": 4, "kernel_size": 11}},
        {"id": "out", "type": "linear", "params": {"units": 10}}]
    (english,), (chinese,) = both(spec)
    assert english[:2] == ("model.nodes[0] (conv)", "shape")
    assert english[2] == ("conv2d: kernel_size 11 spans 11 pixels, more than the 8x8 input "
                          "plus padding 1; use kernel_size at most 10 or padding at least 2 "
                          "(inputs: input [1, 8, 8])")
    assert chinese[2] == ("conv2d：kernel_size 11 覆盖 11 个像素，超过了 8x8 的输入加填充 1；"
                          "请把 kernel_size 设为最多 10，或把填充设为至少 2"
                          "（输入：input [1, 8, 8]）")

    spec["model"]["nodes"][0]["params"]["kernel_size"] = 3
    (english,), (chinese,) = both(spec)
    assert english[:2] == ("model.nodes[1] (out)", "shape")
    assert "add a flatten node before it" in english[2]
    assert "请在它前面加一个 flatten 节点" in chinese[2]


@pytest.mark.parametrize(("link", "code"), [("zz-not-a-link", "share_prefix"),
                                            ("np2.@@@@", "share_damaged")])
def test_a_bad_share_link_in_both_languages(link: str, code: str) -> None:
    messages = {}
    for lang in ("en", "zh"):
        with using(lang), pytest.raises(SpecError) as caught:
            decode_share(link)
        assert caught.value.code == code
        messages[lang] = caught.value.issues[0].message
    assert not HAN.search(messages["en"])
    assert HAN.search(messages["zh"]) and "链接" in messages["zh"]


def test_health_reasons_and_counts_follow_the_language() -> None:
    # Ten recordings in which the first layer's gradient is 1000 times the output layer's
    # smaller: a vanishing verdict with a reason that has a number in it.
    flow = {"steps": list(range(10)), "nodes": ["hidden1", "output"],
            "grad": np.tile([1e-6, 1e-3], (10, 1))}
    english = assess({"gradient_flow": flow})
    with using("zh"):
        chinese = assess({"gradient_flow": flow})
    assert english.verdict == chinese.verdict == "vanishing"
    assert english.of("hidden1").reason == "its gradient is 1e+03 times smaller than the " \
                                           "output layer's"
    assert chinese.of("hidden1").reason == "它的梯度比输出层小 1e+03 倍"
    assert count_words(1_661_370_370) == "1.66 billion"
    with using("zh"):
        assert count_words(1_661_370_370) == "16.6亿"
        assert count_words(25_000) == "2.5万"


def test_every_engine_entry_is_chinese_and_keeps_its_placeholders() -> None:
    """Each entry of locales/zh/engine.json differs from its English (a forgotten copy
    would not), apart from names that read the same in both (ReLU, GELU, ...)."""
    import json

    from engine.i18n import LOCALES

    entries = json.loads((LOCALES / "zh" / "engine.json").read_text(encoding="utf-8"))
    same = sorted(k for k, v in entries.items() if k == v)
    assert same == ["ELU", "GELU", "Leaky ReLU", "ReLU", "Sigmoid", "Softplus", "Tanh",
                    "sigmoid", "tanh"]
    assert all(catalogue("zh")[k] for k in entries)
