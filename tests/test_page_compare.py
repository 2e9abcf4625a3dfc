"""The Compare runs page through Streamlit's AppTest: runs trained side by side."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest import session

PAGE = str(Path(__file__).resolve().parent.parent / "views" / "compare.py")


def open_page(preset: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["preset"] = preset
    at.run()
    assert not at.exception, at.exception
    return at


def chart(at: AppTest, key: str) -> dict:
    found = [e for e in at.get("plotly_chart") if getattr(e, "key", None) == key]
    assert found, f"no chart {key}"
    return json.loads(found[0].proto.spec)


def values(v: list | dict) -> np.ndarray:
    """A plotly data array: a list, or numpy's binary form ({"bdata", "dtype"})."""
    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
    return np.asarray(v, dtype=float)


def wait_until_trained(comp: object, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while comp.active and time.monotonic() < end:  # type: ignore[attr-defined]
        time.sleep(0.1)
    assert not comp.active, "the runs did not finish"  # type: ignore[attr-defined]


def test_sigmoid_against_relu_trains_both_and_shows_both() -> None:
    from ui.comparison import comparison

    at = open_page("vanishing_sigmoid")
    assert at.info and not at.get("plotly_chart")  # nothing to compare yet: it says how
    at.selectbox(key="compare-setting").set_value("activation").run()
    at.selectbox(key="compare-value-activation").set_value("relu").run()
    at.button(key="compare-start").click().run()
    assert not at.exception, at.exception
    comp = comparison(session())
    assert [r.label for r in comp.runs] == ["Activation: sigmoid", "Activation: ReLU"]
    wait_until_trained(comp)
    at.run()  # AppTest does not fire run_every timers: redraw by hand
    assert not at.exception, at.exception
    for _, snap in comp.snapshots():
        assert snap.status == "finished" and snap.epoch == 30

    # The listed difference names the activation, once for the nine layers.
    said = " ".join(m.value for m in at.markdown)
    assert "Layers 1–9 (hidden1 … hidden9), activation: sigmoid → ReLU" in said

    # Both runs' curves, overlaid: one solid (test) and one dotted (train) line each.
    for key in ("compare-loss", "compare-score"):
        fig = chart(at, key)
        lines = [(d["name"], d["line"]["dash"], len(values(d["y"]))) for d in fig["data"]]
        assert sorted(lines) == sorted([("Activation: sigmoid", "solid", 30),
                                        ("Activation: sigmoid", "dot", 30),
                                        ("Activation: ReLU", "solid", 30),
                                        ("Activation: ReLU", "dot", 30)]), key
        colours = {d["name"]: d["line"]["color"] for d in fig["data"]}
        assert len(set(colours.values())) == 2

    # Both gradient flows side by side, on one colour scale, each titled by its run.
    flow = chart(at, "compare-flow")
    maps = [d for d in flow["data"] if d["type"] == "heatmap"]
    assert len(maps) == 2 and all(d.get("coloraxis") == "coloraxis" for d in maps)
    assert [a["text"] for a in flow["layout"]["annotations"][:2]] == [
        "Activation: sigmoid", "Activation: ReLU"]
    assert all(len(d["y"]) == 10 for d in maps)  # ten layers with weights each
    # The lesson in the numbers: through nine sigmoids the first layer's gradient fades
    # far more, relative to the output layer's, than through nine ReLUs.
    profile = chart(at, "compare-profile")
    fade = {d["name"]: values(d["y"])[0] / values(d["y"])[-1] for d in profile["data"]}
    assert fade["Activation: sigmoid"] < 1e-3 * fade["Activation: ReLU"], fade
    table = at.table[0].value
    assert list(table["Run"]) == ["Activation: sigmoid", "Activation: ReLU"]

    at.button(key="compare-remove-1").click().run()
    assert not at.exception and [r.label for r in comp.runs] == ["Activation: sigmoid"]
    comp.clear()


def test_a_saved_run_joins_the_comparison(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    from engine.presets import load_preset
    from engine.runs import default_store, save_trainer
    from engine.trainer import Trainer
    from ui.comparison import comparison

    monkeypatch.setenv("NP_RUNS_DIR", str(tmp_path))
    trainer = Trainer(load_preset("vanishing_relu_he"))
    trainer.run(epochs=3)
    save_trainer(default_store(), trainer, "ReLU, three epochs", "owner-a")

    at = open_page("vanishing_relu_he")
    s = session()
    s.extras["owner"] = "owner-a"
    at.run()
    at.button(key="compare-add-current").click().run()
    at.button(key="compare-add-saved").click().run()
    assert not at.exception, at.exception
    comp = comparison(s)
    assert [(r.label, r.live) for r in comp.runs] == [
        ("Cure: ReLU and He initialisation", True), ("ReLU, three epochs", False)]
    # The saved run is drawn as it ended: three epochs of curves, no gradient flow.
    loss = chart(at, "compare-loss")
    saved = [d for d in loss["data"] if d["name"] == "ReLU, three epochs"]
    assert len(saved) == 2 and all(len(values(d["y"])) == 3 for d in saved)
    assert any("not their gradient flow" in c.value for c in at.caption)
    # Same experiment: the page says so rather than listing nothing.
    assert any("is the same experiment as" in m.value for m in at.markdown)
    comp.clear()
