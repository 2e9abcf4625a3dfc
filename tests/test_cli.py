"""The command line, run as a user would: ``python -m engine ...`` from the project root."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main
from engine.presets import PRESET_DIR, list_presets

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def no_traceback(r: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in r.stdout + r.stderr, r.stdout + r.stderr


def test_validate_accepts_every_preset() -> None:
    files = sorted(str(p.relative_to(ROOT)) for p in PRESET_DIR.glob("*.json"))
    r = cli("validate", *files)
    assert r.returncode == 0, r.stdout + r.stderr
    for name in list_presets():
        assert f"presets/{name}.json: ok" in r.stdout.splitlines()
    assert "presets/schema.json: skipped" in r.stdout
    no_traceback(r)


def test_validate_prints_one_line_per_error_and_exits_1(tmp_path: Path, spec) -> None:
    s = spec()
    s["model"]["nodes"][0]["params"]["units"] = 0
    s["model"]["nodes"].insert(1, {"id": "h2", "type": "dense"})
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(s), encoding="utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema": 1,\n "model": [}', encoding="utf-8")
    good = tmp_path / "good.json"
    good.write_text(json.dumps(spec()), encoding="utf-8")

    r = cli("validate", str(good), str(bad), str(broken), str(tmp_path / "missing.json"))
    assert r.returncode == 1
    no_traceback(r)
    lines = r.stdout.splitlines()
    assert lines[0] == f"{good}: ok"
    assert lines[1] == f"{bad}: model.nodes[0] (h1): units must be between 1 and 4096, got 0"
    assert lines[2].startswith(f"{bad}: model.nodes[1] (h2): unknown layer type 'dense'")
    assert re.fullmatch(rf"{re.escape(str(broken))}: broken\.json: not valid JSON at line 2, "
                        r"column \d+: .*", lines[3]), lines[3]
    assert lines[4] == f"{tmp_path / 'missing.json'}: missing.json: file not found"
    assert len(lines) == 5


def test_validate_a_single_good_file_exits_0(tmp_path: Path, spec, capsys) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(spec()), encoding="utf-8")
    assert main(["validate", str(good)]) == 0
    assert capsys.readouterr().out.strip() == f"{good}: ok"


def test_list_shows_presets_data_sets_layers_optimizers_losses() -> None:
    r = cli("list")
    assert r.returncode == 0
    no_traceback(r)
    out = r.stdout
    sections = {}
    current = None
    for line in out.splitlines():
        if not line.startswith(" "):
            current = line.rstrip(":")
            sections[current] = []
        else:
            sections[current].append(line.strip())
    for title in ("presets", "data sets", "layers", "optimizers", "losses"):
        assert sections.get(title), (title, out)
    assert any(row.startswith("spiral: ") for row in sections["presets"])
    assert len(sections["presets"]) == len(list_presets())
    assert any(row.startswith("xor (classification") for row in sections["data sets"])
    for layer in ("linear", "relu", "add", "concat", "dropout", "batchnorm1d"):
        assert any(row.startswith(f"{layer} (") for row in sections["layers"]), layer
    assert set(sections["optimizers"]) >= {"sgd", "momentum", "adagrad", "rmsprop", "adam",
                                           "adamw"}
    assert set(sections["losses"]) >= {"cross_entropy", "bce", "mse", "mae", "huber"}


def test_run_writes_one_json_object_per_evaluation(tmp_path: Path) -> None:
    out = tmp_path / "f.jsonl"
    r = cli("run", "xor_hidden", "--epochs", "5", "--metrics-out", str(out), "--seed", "3",
            "--device", "cpu")
    assert r.returncode == 0, r.stdout + r.stderr
    no_traceback(r)
    assert "epoch 5/5" in r.stdout  # the progress bar
    assert "status: finished (epochs)" in r.stdout
    assert re.search(r"^  test_accuracy +\d\.\d{4}$", r.stdout, re.M), r.stdout
    assert re.search(r"^  train_loss +\d\.\d{4}$", r.stdout, re.M)

    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 5
    steps_per_epoch = 25  # 250 training points in batches of 10
    for i, row in enumerate(rows, start=1):
        assert row["epoch"] == i and row["step"] == i * steps_per_epoch
        assert isinstance(row["step"], int) and isinstance(row["epoch"], int), row
        for key in ("train_loss", "test_loss", "train_accuracy", "test_accuracy"):
            assert isinstance(row[key], float) and row[key] >= 0, key
        assert set(row["grad_norm"]) == {"hidden1", "output"}
        assert all(v > 0 for v in row["grad_norm"].values())
    assert rows[-1]["test_loss"] < rows[0]["test_loss"]


# In-process from here where the process boundary adds nothing: main() is what __main__ runs.

def test_run_a_file_path_and_a_bad_preset(tmp_path: Path, spec, capsys) -> None:
    f = tmp_path / "tiny.json"
    f.write_text(json.dumps(spec(epochs=2)), encoding="utf-8")
    assert main(["run", str(f)]) == 0
    assert "status: finished (epochs)   steps: 10   epochs: 2" in capsys.readouterr().out

    assert main(["run", "no_such_preset"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: preset: no preset named 'no_such_preset'")

    s = spec()
    s["train"]["epochs"] = 0
    f.write_text(json.dumps(s), encoding="utf-8")
    assert main(["run", str(f)]) == 1
    assert capsys.readouterr().err.strip() == ("error: train.epochs: must be greater than or "
                                               "equal to 1, got 0")


def test_run_that_diverges_exits_1_and_names_the_node(tmp_path: Path, spec) -> None:
    s = spec(data="spiral", data_params={"n_samples": 500},
             optimizer={"name": "sgd", "lr": 1000}, epochs=20)
    s["model"]["nodes"].insert(1, {"id": "h2", "type": "linear",
                                   "params": {"units": 32, "activation": "tanh"}})
    f = tmp_path / "diverge.json"
    f.write_text(json.dumps(s), encoding="utf-8")
    r = cli("run", str(f), timeout=60)
    assert r.returncode == 1
    no_traceback(r)
    assert "status: paused (nonfinite)" in r.stdout
    assert re.search(r"non-finite at step \d+: node (h1|h2|out): ", r.stdout), r.stdout


@pytest.mark.slow
def test_run_spiral_reaches_95_percent_within_30_seconds() -> None:
    r = cli("run", "presets/spiral.json", timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    acc = float(re.search(r"^  test_accuracy +(\d\.\d+)$", r.stdout, re.M).group(1))
    seconds = float(re.search(r"time: ([\d.]+) s", r.stdout).group(1))
    assert acc >= 0.95 and seconds < 30, r.stdout
    # The bar redraws in place (carriage returns, read back here as line breaks).
    assert len(re.findall(r"\] epoch \d+/150", r.stdout)) >= 2


def test_bad_arguments_are_a_usage_error_not_a_traceback(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["run", "xor_hidden", "--epochs", "many"])
    assert info.value.code == 2
    assert "invalid int value" in capsys.readouterr().err


def test_run_without_an_epoch_budget_needs_epochs(tmp_path: Path, spec, capsys) -> None:
    f = tmp_path / "endless.json"
    f.write_text(json.dumps(spec(epochs=None)), encoding="utf-8")
    assert main(["run", str(f)]) == 1
    assert capsys.readouterr().err.strip() == (
        "error: train.epochs: this experiment has no epoch budget (in the app it trains until "
        "stopped); give one here with --epochs N")
    assert main(["run", str(f), "--epochs", "2"]) == 0
    assert "status: finished (epochs)   steps: 10   epochs: 2" in capsys.readouterr().out


def test_budget_scale_raises_the_resource_budget(tmp_path: Path, spec, capsys,
                                                 monkeypatch) -> None:
    monkeypatch.delenv("NP_BUDGET_SCALE", raising=False)
    monkeypatch.delenv("NP_MAX_PARAMS", raising=False)
    # Four layers of 2,048 units: 12.6 million parameters, over the default 10 million.
    nodes = [{"id": f"h{i}", "type": "linear", "params": {"units": 2048}} for i in range(4)]
    f = tmp_path / "big.json"
    f.write_text(json.dumps(spec([*nodes, {"id": "out", "type": "linear",
                                           "params": {"units": 2}}])), encoding="utf-8")
    assert main(["validate", str(f)]) == 1
    assert capsys.readouterr().out.strip() == (
        f"{f}: model: the model has 12.6 million parameters, over this server's limit of 10 "
        "million (the largest layer is h1 with 4.2 million); use fewer or smaller layers")
    assert main(["validate", str(f), "--budget-scale", "2"]) == 0
    assert capsys.readouterr().out.strip() == f"{f}: ok"
    assert "NP_BUDGET_SCALE" not in os.environ  # for this command only
    with pytest.raises(SystemExit):
        main(["validate", str(f), "--budget-scale", "0"])
    assert "must be a positive number" in capsys.readouterr().err
    assert "--budget-scale" in subprocess.run(
        [sys.executable, "-m", "engine", "run", "--help"], cwd=ROOT, capture_output=True,
        text=True, timeout=60).stdout
