"""The three lab pages through Streamlit's AppTest: they run, react, and agree with the engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine.lab.backprop import EXAMPLES, autograd_gradients, describe

VIEWS = Path(__file__).resolve().parent.parent / "views"


def open_page(name: str) -> AppTest:
    at = AppTest.from_file(str(VIEWS / name), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def table(at: AppTest) -> list[dict]:
    (frame,) = at.table  # one table per page (AppTest does not report a table's key)
    return frame.value.to_dict("records")


def test_optimizer_race_page() -> None:
    at = open_page("optimizer_race.py")
    figs = charts(at)
    assert len(figs) == 2 and len(figs[0]["frames"]) > 1
    rows = table(at)
    assert [r["Optimizer"] for r in rows] == ["SGD", "Momentum", "Nesterov", "AdaGrad",
                                              "RMSProp", "Adam", "AdamW"]
    assert not at.warning

    at.selectbox(key="race-surface").set_value("rosenbrock").run()
    assert not at.exception, at.exception
    moved = table(at)
    assert moved != rows
    assert charts(at)[0]["layout"]["title"]["text"] == "Rosenbrock's banana valley"

    at.multiselect(key="race-optimizers").set_value(["sgd", "adam"]).run()
    assert [r["Optimizer"] for r in table(at)] == ["SGD", "Adam"]
    assert len(charts(at)[1]["data"]) == 2

    at.select_slider(key="race-lr").set_value(10.0).run()  # SGD at 0.02 blows up here
    assert not at.exception, at.exception
    assert any("SGD at step" in w.value for w in at.warning)
    sgd, adam = table(at)
    assert sgd["End point"].startswith("diverged at step ") and sgd["Gap to minimum"] == "—"
    assert "diverged" not in adam["End point"]
    loss = charts(at)[1]
    assert loss["layout"]["yaxis"]["range"][1] < 5  # Rosenbrock's map tops out near 1e3.4

    at.number_input(key="race-steps-rosenbrock").set_value(7).run()
    assert all(len(tr["x"]) <= 8 for tr in charts(at)[0]["data"][3:])


def test_optimizer_race_page_with_nothing_chosen() -> None:
    at = open_page("optimizer_race.py")
    at.multiselect(key="race-optimizers").set_value([]).run()
    assert not at.exception and at.info and not at.get("plotly_chart")


def _step_to_end(at: AppTest) -> None:
    slider = at.slider(key="bp-step-" + at.selectbox(key="bp-example").value)
    slider.set_value(slider.max).run()


@pytest.mark.parametrize("example", list(EXAMPLES))
def test_backprop_page_walks_forward_then_backward(example: str) -> None:
    at = open_page("backprop.py")
    at.selectbox(key="bp-example").set_value(example).run()
    assert "Start" in at.info[0].value
    rows = table(at)
    assert all(r["Accumulated ∂L/∂node"] == "" for r in rows)
    assert any(r["Value"] == "" for r in rows)  # nothing computed yet

    at.button(key="bp-next").click().run()
    assert at.info[0].value.startswith("Forward 1/")
    at.button(key="bp-next").click().run()
    at.button(key="bp-prev").click().run()
    assert at.info[0].value.startswith("Forward 1/")

    _step_to_end(at)
    assert not at.exception, at.exception
    assert at.info[0].value.startswith("Backward")
    rows = table(at)
    assert all(r["Value"] != "" for r in rows)
    ref = autograd_gradients(EXAMPLES[example]())
    for r in rows:  # by hand and by autograd, to the 3 digits shown
        assert r["Accumulated ∂L/∂node"] == r["Autograd"] == describe(ref[r["Node"]])


def test_backprop_page_follows_edited_inputs() -> None:
    at = open_page("backprop.py")
    _step_to_end(at)
    before = table(at)
    at.number_input(key="bp-neuron-x1").set_value(3.0).run()
    assert not at.exception, at.exception
    after = table(at)
    loss_before = next(r for r in before if r["Node"] == "loss")
    loss_after = next(r for r in after if r["Node"] == "loss")
    assert loss_before["Value"] != loss_after["Value"]
    assert all(r["Accumulated ∂L/∂node"] == r["Autograd"] for r in after)
    fig = charts(at)[0]
    values = next(tr for tr in fig["data"] if tr.get("name") == "values")["text"]
    assert "x1 = 3" in values


def test_activations_page() -> None:
    at = open_page("activations.py")
    assert len(charts(at)) == 2
    at.multiselect(key="act-names").set_value(["tanh", "gelu", "sign"]).run()
    assert not at.exception, at.exception
    titles = {f["layout"]["title"]["text"] for f in charts(at)}  # two columns: tanh sign | gelu
    assert titles == {"Tanh", "GELU", "Sign"}  # names for people, not registry ids
    assert not any("%" in c.value and "fall" in c.value for c in at.caption)

    at.toggle(key="act-hist").set_value(True).run()
    share = [c.value for c in at.caption if "fall where Tanh" in c.value]
    assert share and charts(at)[0]["data"][0]["type"] == "histogram"
    at.slider(key="act-std").set_value(5.0).run()
    wider = [c.value for c in at.caption if "fall where Tanh" in c.value]
    assert wider != share

    at.multiselect(key="act-names").set_value([]).run()
    assert not at.exception and at.info and not at.get("plotly_chart")


def _digits(text: str) -> int:
    """Significant digits of the longest number in ``text``."""
    import re

    nums = re.findall(r"\d[\d.]*(?:e[+-]?\d+)?", text)
    return max((len(n.split("e")[0].replace(".", "").lstrip("0")) for n in nums), default=0)


@pytest.mark.parametrize("surface", ["bowl", "rosenbrock", "beale", "himmelblau"])
def test_race_table_numbers_have_three_digits_even_when_a_run_diverges(surface: str) -> None:
    at = open_page("optimizer_race.py")
    at.selectbox(key="race-surface").set_value(surface).run()
    at.select_slider(key="race-lr").set_value(10.0).run()
    assert not at.exception, at.exception
    rows = table(at)
    assert any(r["End point"].startswith("diverged at step") for r in rows)
    for r in rows:
        for cell in r.values():
            assert _digits(str(cell)) <= 3, (r, cell)
    for fig in charts(at):
        assert fig["layout"]["yaxis"]["range"][1] < 10  # not 1e306
