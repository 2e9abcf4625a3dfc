"""The resource budget: a spec over the server's limits is refused before anything is built
(issue 7, defect 14)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

import engine.graph
from engine import SpecError, Trainer, load_experiment
from engine.budget import (
    DEFAULT_MAX_ACTIVATION_MB,
    DEFAULT_MAX_DATA_MB,
    DEFAULT_MAX_PARAMS,
    MB,
    Limits,
    count_words,
    estimate,
    size_words,
)
from engine.presets import (
    decode_share,
    encode_share,
    experiment_from_share,
    list_presets,
    load_preset,
)
from engine.validate import check

ROOT = Path(__file__).resolve().parent.parent


def huge_link() -> str:
    """The link of the issue: 100 linear layers of 4,096 units (1.66 billion parameters)."""
    nodes = [{"id": f"h{i}", "type": "linear", "params": {"units": 4096}} for i in range(100)]
    nodes.append({"id": "out", "type": "linear", "params": {"units": 2}})
    return encode_share({"schema": 1, "model": {"nodes": nodes}})


def test_a_tiny_link_to_a_huge_model_is_refused_in_one_line_without_building_it(
        monkeypatch) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was built")

    monkeypatch.setattr(engine.graph.GraphModel, "__init__", never)
    link = huge_link()
    assert len(link) < 1000
    t0 = time.perf_counter()
    with pytest.raises(SpecError) as info:
        experiment_from_share(link)
    assert time.perf_counter() - t0 < 1.0
    err = info.value
    assert len(err.issues) == 1 and err.code == "over_budget"
    assert str(err) == ("model: the model has 1.66 billion parameters, over this server's "
                        "limit of 10 million (the largest layer is h1 with 16.8 million); use "
                        "fewer or smaller layers")
    with pytest.raises(SpecError):
        Trainer(decode_share(link))


MEMORY_PROBE = """
import resource, sys, time
from engine import SpecError
from engine.presets import experiment_from_share
link = sys.argv[1]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
try:
    experiment_from_share(link)
    print("accepted")
except SpecError as e:
    print(e.code)
print(time.perf_counter() - t0)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)  # KB on Linux
"""


def test_refusing_the_huge_link_allocates_nothing_large() -> None:
    # Torch allocates outside Python's tracing, so the process's peak memory is watched.
    r = subprocess.run([sys.executable, "-c", MEMORY_PROBE, huge_link()], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    code, seconds, grown_kb = r.stdout.split()
    assert code == "over_budget"
    assert float(seconds) < 1.0
    assert int(grown_kb) < 100 * 1024, f"peak memory grew by {int(grown_kb) // 1024} MB"


@pytest.mark.parametrize("name", list_presets())
def test_every_preset_is_far_inside_the_default_budget(name: str, monkeypatch) -> None:
    """A server may scale its budget down tenfold and still open every preset."""
    for var in ("NP_MAX_PARAMS", "NP_MAX_ACTIVATION_MB", "NP_MAX_DATA_MB", "NP_BUDGET_SCALE"):
        monkeypatch.delenv(var, raising=False)
    exp = load_preset(name)
    data, plan = check(exp)
    cost = estimate(plan, exp.train.batch_size, data)
    assert cost.params * 10 < DEFAULT_MAX_PARAMS
    assert max(cost.batch_bytes, cost.eval_bytes) * 10 < DEFAULT_MAX_ACTIVATION_MB * MB
    assert cost.data_bytes * 10 < DEFAULT_MAX_DATA_MB * MB


def test_the_limits_come_from_the_environment(spec, monkeypatch) -> None:
    s = spec([{"id": "wide", "type": "linear", "params": {"units": 100}},
              {"id": "out", "type": "linear", "params": {"units": 2}}])
    load_experiment(s)
    monkeypatch.setenv("NP_MAX_PARAMS", "250")
    with pytest.raises(SpecError) as info:
        load_experiment(s)
    assert str(info.value) == ("model: the model has 502 parameters, over this server's limit "
                               "of 250 (the largest layer is wide with 300); use fewer or "
                               "smaller layers")
    monkeypatch.setenv("NP_BUDGET_SCALE", "2.5")  # what the command line's flag sets
    assert Limits.from_env().params == 625
    load_experiment(s)
    monkeypatch.setenv("NP_MAX_PARAMS", "lots")
    with pytest.raises(ValueError, match="NP_MAX_PARAMS must be a positive number, got 'lots'"):
        load_experiment(s)


def test_activation_memory_of_a_batch_and_of_scoring_the_test_set(spec, monkeypatch) -> None:
    monkeypatch.setenv("NP_MAX_ACTIVATION_MB", "1")
    wide = [{"id": "wide", "type": "linear", "params": {"units": 4096, "activation": "relu"}},
            {"id": "out", "type": "linear", "params": {"units": 2}}]
    with pytest.raises(SpecError) as info:
        load_experiment(spec(wide, batch_size=50))
    # 50 rows x (2 inputs + 4,096 + 2 outputs) floats x 4 bytes x 3 (backward)
    assert str(info.value) == (
        "model: training one batch needs about 2.35 MB for the layers' outputs, over this "
        "server's limit of 1 MB (the largest is wide with 2.34 MB); use a smaller batch size "
        "or smaller layers")
    assert info.value.code == "over_budget"
    with pytest.raises(SpecError) as info:
        load_experiment(spec(wide, batch_size=1, data_params={"n_samples": 400}))
    assert str(info.value).startswith("model: scoring the test set (200 rows at a time) needs "
                                      "about 3.13 MB")


def test_data_size(spec, monkeypatch) -> None:
    monkeypatch.setenv("NP_MAX_DATA_MB", "0.01")
    with pytest.raises(SpecError) as info:
        load_experiment(spec(data_params={"n_samples": 2000}))
    # 2,000 points of 2 inputs (float32) and a class index (int64)
    assert str(info.value) == ("data: the data set takes 31.2 KB, over this server's limit of "
                               "10.2 KB; use fewer rows or columns")


def test_numbers_in_words() -> None:
    assert [count_words(n) for n in (0, 502, 12_345, 999_499, 999_999, 16_781_312,
                                     1_661_370_370)] == [
        "0", "502", "12,345", "999,499", "1 million", "16.8 million", "1.66 billion"]
    assert [size_words(n) for n in (10, 2048, 1.5 * MB, 1023.9 * MB, 3.1 * 2 ** 30)] == [
        "10 bytes", "2 KB", "1.5 MB", "1 GB", "3.1 GB"]
