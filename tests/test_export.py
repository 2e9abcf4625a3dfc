"""Exports: the standalone script (run alone, it repeats the trainer's curve), ONNX in
onnxruntime, metrics CSV, TensorBoard event files, chart pictures, the command line and the
Export page."""

from __future__ import annotations

import io
import math
import os
import re
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.export import model_code
from engine.export.metrics_csv import metrics_csv
from engine.export.onnx_file import model_now, onnx_bytes
from engine.export.script import _schedule_code, build_script
from engine.optim import lr_factor
from engine.presets import preset_path
from engine.spec import ScheduleSpec
from engine.trainer import Trainer
from engine.validate import load_experiment
from tests.apptest import ROOT, open_app, session

LINE = re.compile(r"^epoch\s+(\d+)\s+train loss (\S+)\s+test loss (\S+)")
FINAL = re.compile(r"^final train loss (\S+) test loss (\S+)$")


def preset(name: str, epochs: int, **data_params: object):  # noqa: ANN201
    spec = load_experiment(preset_path(name)).to_dict()
    spec["train"] |= {"epochs": epochs, "device": "cpu"}
    spec["data"]["params"] |= data_params
    return load_experiment(spec)


def start_alone(export, folder: Path) -> subprocess.Popen:  # noqa: ANN001
    """Run the script in ``folder`` with nothing of the project importable."""
    py, _ = export.write(folder)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP")}
    return subprocess.Popen([sys.executable, "-I", py.name], cwd=folder, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The spiral MLP and a small LeNet, each trained by the Trainer and by its exported
    script (both scripts run at once, each alone in its own folder)."""
    out = {}
    procs = {}
    for name, exp in (("spiral", preset("spiral", 12)),
                      ("lenet", preset("cnn_lenet", 2, per_class=6))):
        export = build_script(exp)
        assert "import engine" not in export.code and "from engine" not in export.code
        procs[name] = start_alone(export, tmp_path_factory.mktemp(name))
        trainer = Trainer(exp)
        out[name] = {"trainer": trainer, "snap": trainer.run(), "export": export}
    for name, p in procs.items():
        stdout, stderr = p.communicate(timeout=240)
        assert p.returncode == 0, stderr
        out[name]["stdout"] = stdout
    return out


@pytest.mark.parametrize("name", ["spiral", "lenet"])
def test_script_alone_repeats_the_trainers_loss_curve(runs: dict, name: str) -> None:
    run = runs[name]
    snap, lines = run["snap"], run["stdout"].strip().splitlines()
    rows = [LINE.match(x) for x in lines if LINE.match(x)]
    epochs = [int(m[1]) for m in rows]
    assert epochs == snap.evals["epoch"].astype(int).tolist()
    train = np.array([float(m[2]) for m in rows])
    test = np.array([float(m[3]) for m in rows])
    np.testing.assert_allclose(train, snap.evals["train_loss"], atol=1e-4, rtol=0)
    np.testing.assert_allclose(test, snap.evals["test_loss"], atol=1e-4, rtol=0)
    assert train[-1] < train[0]  # it did learn: the comparison is not of two flat lines
    final = FINAL.match(lines[-1])
    assert final, lines[-1]
    assert float(final[1]) == pytest.approx(snap.final["train_loss"], abs=1e-4)
    assert float(final[2]) == pytest.approx(snap.final["test_loss"], abs=1e-4)


def test_onnx_in_onnxruntime_gives_the_models_outputs(runs: dict) -> None:
    import onnx
    import onnxruntime as ort
    import torch

    trainer = runs["lenet"]["trainer"]
    model = model_now(trainer)  # the trained weights
    data = onnx_bytes(model, trainer.x_test, "LeNet")
    proto = onnx.load_from_string(data)
    onnx.checker.check_model(proto)
    assert {p.key for p in proto.metadata_props} >= {"mean", "std", "experiment"}
    x = model.prepare(trainer.x_test[:5])  # a batch size the export never saw
    got = ort.InferenceSession(data).run(None, {"input": x.numpy()})[0]
    with torch.no_grad():
        want = trainer.model.cpu().train(False)(trainer.x_test[:5]).numpy()
    assert got.shape == want.shape == (5, 10)
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)


def test_metrics_csv_reads_back_equal(runs: dict) -> None:
    snap = runs["spiral"]["snap"]
    table = pd.read_csv(io.StringIO(metrics_csv(snap)))
    assert list(table.columns[:4]) == ["step", "epoch", "train_loss", "test_loss"]
    for key, col in snap.evals.items():
        np.testing.assert_array_equal(table[key].to_numpy(), col)
    steps = pd.read_csv(io.StringIO(metrics_csv(snap, "step")))
    assert len(steps) == snap.step and steps["step"].dtype.kind == "i"
    np.testing.assert_array_equal(steps["loss"].to_numpy(), snap.steps["loss"])


@pytest.mark.parametrize("name", ["step", "exponential", "cosine", "one_cycle"])
def test_script_schedule_is_the_trainers(name: str) -> None:
    s = ScheduleSpec(name=name, step_size=2, gamma=0.7, warmup=0.25)
    scope = {"LR": 0.5, "math": math}
    exec(_schedule_code(s), scope)
    for step in (0, 3, 17, 40, 99, 100):
        assert scope["learning_rate"](step, 10, 100) == 0.5 * lr_factor(s, step, 10, 100)


def read_events(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """Scalars of the event files in ``folder`` (TFRecord framing around Event protos)."""
    from tensorboardX.proto.event_pb2 import Event

    found: dict[str, list[tuple[int, float]]] = {}
    for path in folder.glob("events.out.tfevents.*"):
        raw = path.read_bytes()
        i = 0
        while i < len(raw):
            (n,) = struct.unpack("<Q", raw[i:i + 8])
            event = Event.FromString(raw[i + 12:i + 12 + n])
            i += 12 + n + 4
            for v in event.summary.value:
                found.setdefault(v.tag, []).append((event.step, v.simple_value))
    return found


def test_command_line_exports(tmp_path: Path, capsys: pytest.CaptureFixture,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.cli import main

    assert main(["export", "xor_hidden", "--to", "csv", str(tmp_path / "m.csv"),
                 "--epochs", "2"]) == 0
    out = capsys.readouterr().out
    assert "epoch 2/2" in out and "wrote" in out  # the progress line, then the file
    assert pd.read_csv(tmp_path / "m.csv")["epoch"].tolist() == [1, 2]

    assert main(["export", "xor_hidden", "--to", "tensorboard", str(tmp_path / "tb"),
                 "--epochs", "2"]) == 0
    events = read_events(tmp_path / "tb")
    assert [s for s, _ in events["test/loss"]] == [25, 50]  # 250 points, batches of 10
    assert len(events["batch/loss"]) == 50 and len(events["batch/learning_rate"]) == 50
    assert "train/accuracy" in events and "train/loss" in events

    assert main(["export", "xor_hidden", "--to", "script", str(tmp_path / "s")]) == 0
    assert {p.suffix for p in (tmp_path / "s").iterdir()} == {".py", ".npz"}

    assert main(["export", "xor_hidden", "--to", "onnx", str(tmp_path / "m.onnx")]) == 0
    import onnxruntime as ort

    sess = ort.InferenceSession(str(tmp_path / "m.onnx"))
    assert sess.run(None, {"input": np.zeros((3, 2), np.float32)})[0].shape == (3, 2)

    # A layer type the writer lacks is refused by name, with nothing written.
    monkeypatch.delitem(model_code.WRITERS, "linear")
    capsys.readouterr()
    assert main(["export", "xor_hidden", "--to", "script", str(tmp_path / "no")]) == 1
    err = capsys.readouterr().err
    assert "cannot write the layer type linear" in err and err.count("\n") == 1
    assert not (tmp_path / "no").exists()


def test_chart_exports_as_png_and_svg(runs: dict) -> None:
    from tests.browser.conftest import ensure_chromium
    from viz.curves import loss_figure
    from viz.export_image import figure_bytes

    ensure_chromium()  # kaleido draws with Debian's chromium

    fig = loss_figure(runs["spiral"]["snap"])
    png = figure_bytes(fig, "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (2 * (fig.layout.width or 700), 2 * (fig.layout.height or 450))
    svg = figure_bytes(fig, "svg").decode("utf-8")
    assert svg.startswith("<svg") and "train loss" in svg


def test_export_page(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.browser.conftest import ensure_chromium

    ensure_chromium()  # for the picture
    at = open_app("xor_hidden", script=str(ROOT / "views" / "export.py"))
    assert any("train the experiment first" in i.value for i in at.info)
    trainer = session().get_trainer()
    trainer.run(epochs=2)
    at.run()
    assert not at.exception, at.exception
    assert not at.info
    downloads = at.get("download_button")
    assert len(downloads) == 2  # the two CSV files

    at.button(key="export-make-script").click().run()
    assert not at.exception and not at.error, at.error
    _, name, data, step = at.session_state["np-export-script"]
    assert step is None  # the script is made from the experiment, not the run
    files = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert name.endswith(".zip") and {Path(f).suffix for f in files} == {".py", ".npz"}
    at.button(key="export-make-tensorboard").click().run()
    made = at.session_state["np-export-tensorboard"]
    assert made[1].endswith("_tensorboard.zip") and made[3] == trainer.snapshot().step == 50
    at.button(key="export-make-svg").click().run()
    assert at.session_state["np-export-svg"][2].startswith(b"<svg")
    assert len(at.get("download_button")) == 5  # CSV x2, script, events, picture

    # Another chart: the picture made for the last one is no longer offered.
    at.selectbox(key="export-chart").set_value("lr").run()
    assert len(at.get("download_button")) == 4
    # A failure is one line on the page, and the files already made stay offered.
    monkeypatch.delitem(model_code.WRITERS, "linear")
    at.button(key="export-make-script").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "linear" in at.error[0].value
    assert len(at.get("download_button")) == 4
