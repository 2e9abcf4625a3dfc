"""Gradient-flow figures from real probe data."""

from __future__ import annotations

import numpy as np
import pytest

from engine import Trainer
from engine.health import assess
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


def test_ranges_follow_the_recent_window() -> None:
    steps = np.arange(200.0)
    grad = np.ones((200, 2))
    grad[:100] = 1e-8  # an early collapse that has since recovered
    fig = flow_lines({"nodes": ["a", "b"], "steps": steps, "grad": grad})
    lo, hi = fig.layout.yaxis.range
    assert lo > -2 and hi < 2  # log10 range of the recent window, not down to 1e-8


def test_bars_are_coloured_by_verdict(snap) -> None:  # noqa: ANN001
    health = assess(snap.probes)
    fig = flow_bars(snap.probes["gradient_flow"], health)
    assert "vanishing" in fig.data[0].text and "healthy" in fig.data[0].text
    assert len(set(fig.data[0].marker.color)) == 2


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
