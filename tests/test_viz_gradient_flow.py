"""Gradient-flow figures from real probe data."""

from __future__ import annotations

import numpy as np
import pytest

from engine import Trainer
from engine.health import NOT_MEASURED, assess
from engine.presets import load_preset
from viz.gradient_flow import (
    activation_stats,
    flow_bars,
    flow_heatmap,
    flow_lines,
    histogram_over_time,
)


@pytest.fixture(scope="module")
def snap():  # noqa: ANN201
    return Trainer(load_preset("vanishing_sigmoid")).run(epochs=4)


def test_heatmap_puts_the_input_layer_on_top_in_log_colour(snap) -> None:  # noqa: ANN001
    flow = snap.probes["gradient_flow"]
    fig = flow_heatmap(flow)
    hm = fig.data[0]
    assert list(hm.y) == flow["nodes"] and fig.layout.yaxis.autorange == "reversed"
    np.testing.assert_allclose(np.asarray(hm.z)[:, -1], np.log10(flow["grad"][-1]))
    assert hm.zmin < np.log10(flow["grad"][-1]).min() < np.log10(flow["grad"][-1]).max() < hm.zmax


@pytest.fixture(scope="module")
def dying():  # noqa: ANN201
    """Dying ReLUs recorded at every step: the early gradients and activations are
    decades away from the late ones, which is what a range must not cut off."""
    spec = load_preset("dying_relu").to_dict()
    spec["probes"] = [{"name": "gradient_flow", "every": 1}, {"name": "activations", "every": 1}]
    return Trainer(spec).run(epochs=20)


@pytest.mark.parametrize("metric", ["grad", "update_ratio"])
def test_lines_and_heatmap_cover_every_recording(dying, metric: str) -> None:  # noqa: ANN001
    values = np.asarray(dying.probes["gradient_flow"][metric])
    logs = np.log10(values[values > 0])
    axis = flow_lines(dying.probes["gradient_flow"], metric).layout.yaxis
    assert axis.exponentformat == "power"
    lo, hi = axis.range
    assert lo <= logs.min() and logs.max() <= hi  # no line runs off the chart
    assert hi - lo < (logs.max() - logs.min()) * 1.5  # and the range is not padded away
    hm = flow_heatmap(dying.probes["gradient_flow"], metric).data[0]
    assert hm.zmin <= logs.min() and logs.max() <= hm.zmax  # no colour saturates
    assert "%{customdata:.3g}" in hm.hovertemplate  # the value, three digits


def test_histograms_over_time_cover_every_recording(dying) -> None:  # noqa: ANN001
    hist = dying.probes["activations"]["histograms"]["hidden2"]
    fig = histogram_over_time(hist, "hidden2")
    centres = np.asarray(fig.data[0].y)
    step = centres[1] - centres[0]
    assert centres[0] - step <= hist["lo"].min() and hist["hi"].max() <= centres[-1] + step
    np.testing.assert_allclose(np.asarray(fig.data[0].z).sum(0), 1.0, atol=1e-6)


def test_bars_are_coloured_by_verdict(snap) -> None:  # noqa: ANN001
    health = assess(snap.probes)
    fig = flow_bars(snap.probes["gradient_flow"], health)
    assert "vanishing" in fig.data[0].text and "healthy" in fig.data[0].text
    assert len(set(fig.data[0].marker.color)) == 2
    # The deep sigmoid's gradients span decades: a log axis, and its title says so.
    assert fig.layout.yaxis.type == "log" and "log scale" in fig.layout.yaxis.title.text
    assert fig.layout.yaxis.exponentformat == "power"  # ticks 10⁻⁴, not 0.000100


def test_bars_of_near_equal_values_start_at_zero_on_a_linear_axis() -> None:
    spec = load_preset("xor_hidden").to_dict()
    spec["probes"] = [{"name": "gradient_flow", "every": 1}]
    flow = Trainer(spec).run(epochs=10).probes["gradient_flow"]
    latest = flow["update_ratio"][-1]
    assert latest.max() / latest.min() < 10  # less than a decade apart
    fig = flow_bars(flow, None, "update_ratio")
    lo, hi = fig.layout.yaxis.range
    assert fig.layout.yaxis.type == "linear" and lo == 0 and latest.max() <= hi < 1.2 * latest.max()


def test_bars_before_a_verdict_say_so(snap) -> None:  # noqa: ANN001
    flow = snap.probes["gradient_flow"]
    early = {**flow, "steps": flow["steps"][:2], "grad": flow["grad"][:2]}
    health = assess({"gradient_flow": early})
    assert health.verdict == NOT_MEASURED
    bars = flow_bars(early, health).data[0]
    assert set(bars.text) == {"not measured yet"} and "healthy" not in bars.text


def test_activation_and_histogram_views(snap) -> None:  # noqa: ANN001
    acts = snap.probes["activations"]
    fig = activation_stats(acts, "saturated")
    assert len(fig.data) == len(acts["nodes"]) and fig.layout.yaxis.range == (0, 1)
    hist = histogram_over_time(acts["histograms"]["hidden1"], "hidden1")
    z = np.asarray(hist.data[0].z)
    np.testing.assert_allclose(z.sum(0), 1.0, atol=1e-6)  # each step's shares add up


def test_empty_data_draws_a_placeholder() -> None:
    empty = {"nodes": ["a"], "steps": np.zeros(0), "grad": np.zeros((0, 1))}
    assert flow_heatmap(empty).layout.annotations
    assert histogram_over_time(None, "x").layout.annotations
