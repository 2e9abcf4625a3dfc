"""Training-curve figures: thinning, smoothing, and each figure from real snapshots."""

from __future__ import annotations

import numpy as np
import pytest

from engine import Trainer
from engine.presets import load_preset
from engine.spec import ScheduleSpec
from viz.curves import (
    MAX_POINTS,
    confusion_figure,
    ema,
    grad_figure,
    loss_figure,
    lr_figure,
    metric_figure,
    outcome_figure,
    prediction_figure,
    schedule_curve,
    thin,
)

PROBES = [{"name": "gradient_flow", "every": 1}, {"name": "evaluation", "every": 1}]


@pytest.fixture(scope="module")
def trained():  # noqa: ANN201
    from tests.conftest import build_spec

    t = Trainer(build_spec(probes=PROBES, epochs=4))
    return t, t.run()


def test_thin_keeps_short_series_whole_and_long_ones_on_a_grid_that_holds_still() -> None:
    x = np.arange(10)
    assert thin(x)[0] is x
    big = np.arange(123_457)
    a, b = thin(big, big * 2)
    assert len(a) <= MAX_POINTS and a[0] == 0
    assert big[-1] - a[-1] < big[-1] / 500  # the line ends within 0.2% of the newest step
    assert np.array_equal(b, a * 2)
    starts_a_cell_late = thin(np.arange(3, 2003))[0]  # its first point ends a cell
    assert starts_a_cell_late[0] == 3 and np.all(np.diff(starts_a_cell_late) > 0)
    # One more step draws the same points until the run passes the next grid cell, so a
    # Step click sends the browser the same chart.
    drawn = [tuple(thin(np.arange(k))[0]) for k in range(123_457, 123_457 + 300)]
    assert drawn[0] == tuple(a) and len(set(drawn)) == 3  # a cell is 128 steps here
    # A history thinned in its older part (engine/history.py) keeps its grid too.
    rows = np.concatenate([np.arange(0, 4000, 2), np.arange(4000, 4996)])
    assert np.array_equal(thin(rows)[0], thin(np.append(rows, 4996))[0])


def test_thin_over_an_axis_of_fixed_span_holds_still_until_the_line_grows_by_a_cell() -> None:
    # A planned run of a million steps: a cell is 1024 of them, about a pixel of the axis.
    drawn = [tuple(thin(np.arange(k), span=1_000_000)[0]) for k in range(1900, 2100)]
    assert drawn[0] == (0, 1023) and len(set(drawn)) == 2  # it grows at step 2048
    short = np.arange(50)
    assert thin(short, span=100)[0] is short  # a short plan: every step is drawn


def test_ema_smooths_without_lag_at_the_start_and_skips_nan() -> None:
    y = np.array([4.0, 4.0, np.nan, 4.0])
    assert ema(y, 0) is y
    np.testing.assert_allclose(ema(y, 0.9), [4, 4, 4, 4])  # debiased: no pull towards 0
    noisy = np.random.default_rng(0).normal(1, 0.5, 2000)
    assert ema(noisy, 0.95)[100:].std() < noisy.std() / 3


def test_empty_charts_before_training() -> None:
    from tests.conftest import build_spec

    snap = Trainer(build_spec(probes=PROBES)).snapshot()
    for fig in (loss_figure(snap), metric_figure(snap), lr_figure(snap), grad_figure(None),
                outcome_figure(None)):
        assert len(fig.data) == 0 and fig.layout.title.text


def test_loss_curves_train_and_test_with_log_axis(trained) -> None:  # noqa: ANN001
    _, snap = trained
    fig = loss_figure(snap, log=True, smoothing=0.5)
    names = [tr.name for tr in fig.data]
    assert names == ["batch loss (smoothed)", "train loss", "test loss"]
    assert fig.layout.yaxis.type == "log"
    assert loss_figure(snap).layout.yaxis.type != "log"
    assert len(fig.data[0].x) == len(snap.steps["step"])
    np.testing.assert_allclose(fig.data[2].y, snap.evals["test_loss"])
    # Only SVG traces: WebGL renders in software in headless browsers.
    assert all(tr.type == "scatter" for tr in fig.data)


def test_accuracy_curve(trained) -> None:  # noqa: ANN001
    _, snap = trained
    fig = metric_figure(snap)
    assert [tr.name for tr in fig.data] == ["train accuracy", "test accuracy"]
    assert tuple(fig.layout.yaxis.range) == (0, 1.02)


def test_an_empty_metric_chart_fits_the_task() -> None:
    from tests.conftest import build_spec

    snap = Trainer(build_spec()).snapshot()
    assert metric_figure(snap).layout.title.text == "accuracy"
    assert metric_figure(snap, "regression").layout.title.text == "R²"


def test_learning_rate_used_and_planned() -> None:
    steps, lr = schedule_curve(ScheduleSpec(name="cosine"), 0.1, 10, 5)
    assert steps[0] == 0 and steps[-1] == 50
    assert lr[0] == pytest.approx(0.1) and lr[-1] == pytest.approx(0)
    assert (np.diff(lr) <= 1e-12).all()
    flat = schedule_curve(ScheduleSpec(), 0.03, 1000, 100)
    assert len(flat[0]) <= 200 and np.allclose(flat[1], 0.03)
    from tests.conftest import build_spec

    snap = Trainer(build_spec(epochs=2)).run()
    fig = lr_figure(snap, flat)
    assert [tr.name for tr in fig.data] == ["planned", "used"]
    assert fig.layout.yaxis.range == (0, pytest.approx(0.033))  # a flat line, from zero


def test_gradient_norm_lines_and_latest_bars(trained) -> None:  # noqa: ANN001
    _, snap = trained
    flow = snap.probes["gradient_flow"]
    fig = grad_figure(flow)
    lines = [tr for tr in fig.data if tr.type == "scatter"]
    bars = [tr for tr in fig.data if tr.type == "bar"]
    assert [tr.name for tr in lines] == flow["nodes"] == ["h1", "out"]
    assert fig.layout.yaxis.type == "log"
    np.testing.assert_allclose(bars[0].x, flow["grad"][-1])
    assert list(bars[0].y) == flow["nodes"]
    grads = np.log10(flow["grad"])
    lo, hi = fig.layout.yaxis.range  # every recorded step fits, not only the latest
    assert lo <= grads.min() and grads.max() <= hi


def test_latest_gradient_bars_start_at_zero_unless_they_span_decades() -> None:
    spec = load_preset("circle").to_dict()
    spec["probes"] = [{"name": "gradient_flow", "every": 10}]
    flow = Trainer(spec).run(epochs=5).probes["gradient_flow"]
    last = flow["grad"][-1]
    assert last.max() / last.min() < 10
    axis = grad_figure(flow).layout.xaxis2
    assert axis.type == "linear" and axis.range[0] == 0 and last.max() <= axis.range[1]

    flow = Trainer(load_preset("vanishing_sigmoid")).run(epochs=3).probes["gradient_flow"]
    last = flow["grad"][-1]
    assert last.max() / last.min() > 1000
    axis = grad_figure(flow).layout.xaxis2
    assert axis.type == "log" and "log scale" in axis.title.text
    assert axis.range[0] <= np.log10(last.min()) and np.log10(last.max()) <= axis.range[1]


def test_gradient_bars_show_zero_and_hide_nan() -> None:
    flow = {"nodes": ["a", "b", "c"], "steps": np.array([0, 1]),
            "grad": np.array([[1.0, 1.0, 1.0], [0.0, np.nan, 2.0]])}
    fig = grad_figure(flow)
    bar = next(tr for tr in fig.data if tr.type == "bar")
    assert bar.x[0] == 0 and np.isnan(bar.x[1]) and bar.x[2] == 2.0
    assert fig.layout.xaxis2.range[0] == 0


def test_confusion_matrix_shares_per_true_class() -> None:
    ev = {"kind": "classification", "classes": ["a", "b"],
          "confusion": np.array([[3, 1], [0, 0]])}
    fig = outcome_figure(ev)
    heat = fig.data[0]
    np.testing.assert_allclose(heat.z, [[0.75, 0.25], [0, 0]])  # an empty row stays 0
    assert heat.text.tolist() == [[3, 1], [0, 0]]
    assert fig.layout.yaxis.autorange == "reversed"
    assert fig.layout.yaxis.type is None  # left to plotly: a category axis, not "linear"
    assert confusion_figure(ev).layout.title.text.startswith("confusion")


def test_predicted_against_true_has_the_diagonal() -> None:
    ev = {"kind": "regression", "true": np.array([-1.0, 0.0, 2.0]),
          "pred": np.array([-0.5, 0.1, 3.0])}
    fig = outcome_figure(ev)
    assert fig.layout.title.text == prediction_figure(ev).layout.title.text
    diagonal = fig.data[1]
    assert list(diagonal.x) == list(diagonal.y) == [-1.0, 3.0]


def test_figures_from_a_real_classification_run(trained) -> None:  # noqa: ANN001
    t, snap = trained
    fig = outcome_figure(snap.probes["evaluation"])
    assert fig.data[0].type == "heatmap"
    assert int(np.sum(fig.data[0].text)) == len(t.y_test)
