"""Figures of the teaching labs build, and carry the traces and frames they should."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from engine.lab.activations import curve, ranges
from engine.lab.backprop import backward_steps, forward, forward_steps, neuron, two_relus
from engine.lab.optim_race import OPTIMIZERS, race
from engine.lab.surfaces import SURFACES, ceiling
from viz.activations import activation_figure
from viz.backprop import graph_figure, positions
from viz.optim_race import GAP_FLOOR, MAX_FRAMES, frame_steps, loss_figure, race_figure


def no_webgl(fig: go.Figure) -> None:
    assert all(tr.type != "scattergl" for tr in fig.data)
    for fr in fig.frames:
        assert all(tr.type != "scattergl" for tr in fr.data)


def test_race_figure_traces_and_frames() -> None:
    s = SURFACES["rosenbrock"]
    runs = race("rosenbrock", steps=300)
    fig = race_figure(s, runs)
    no_webgl(fig)
    contour, *_ = fig.data
    assert contour.type == "contour"
    # Log-spaced levels: z is log10 of the gap, so Rosenbrock's ~2500 high walls are ~3.4.
    assert 3 < np.nanmax(contour.z) < 4 and np.nanmin(contour.z) < -1
    paths = [tr for tr in fig.data if tr.type == "scatter" and tr.mode == "lines+markers"]
    assert len(paths) == len(OPTIMIZERS)
    assert [len(p.x) for p in paths] == [len(r.path) for r in runs.values()]
    assert len(fig.frames) == MAX_FRAMES
    first, last = fig.frames[0], fig.frames[-1]
    assert first.name == "0" and last.name == "300"
    assert [len(tr.x) for tr in first.data] == [1] * len(OPTIMIZERS)
    np.testing.assert_allclose(last.data[0].y, runs["sgd"].path[:, 1], rtol=1e-6)
    assert list(first.traces) == [fig.data.index(p) for p in paths]
    slider = fig.layout.sliders[0]
    assert len(slider.steps) == len(fig.frames) and slider.active == len(fig.frames) - 1
    labels = [b.label for b in fig.layout.updatemenus[0].buttons]
    assert labels == ["Play", "Pause"]
    assert fig.layout.xaxis.range == (s.bounds[0], s.bounds[1])


def test_short_races_have_a_frame_per_step_and_diverged_runs_are_marked() -> None:
    runs = race("rosenbrock", steps=20, optimizers=["sgd", "adam"], lr={"sgd": 0.05})
    assert runs["sgd"].diverged
    assert frame_steps(runs) == list(range(21))
    fig = race_figure(SURFACES["rosenbrock"], runs)
    assert len(fig.frames) == 21
    names = [tr.name for tr in fig.data]
    assert "SGD (diverged)" in names and "Adam" in names
    loss = loss_figure(runs, 0.0)
    assert len(loss.data) == 3  # two lines and the cross where SGD stopped
    assert loss.data[1].mode == "markers+text"


@pytest.mark.parametrize("surface", ["rosenbrock", "bowl", "beale"])
def test_a_diverged_race_keeps_the_axes_on_the_surface(surface: str) -> None:
    s = SURFACES[surface]
    runs = race(surface, lr_scale=10.0)  # SGD ends near 1e246 (bowl) or overflows
    assert max(r.loss.max() for r in runs.values()) > 1e100
    top = ceiling(s)
    fig = loss_figure(runs, s.fmin, top=top)
    lo, hi = fig.layout.yaxis.range
    drawn = np.concatenate([tr.y for tr in fig.data])
    assert lo <= np.log10(drawn.min()) and np.log10(drawn.max()) <= hi  # all of it is in view
    # ... and the diverged runs stop at the map's top: a run that overshoots and comes back
    # may go a little higher, but nothing stretches the axis towards 1e246.
    assert hi < 10
    for tr, r in zip([tr for tr in fig.data if tr.mode == "lines"], runs.values(), strict=True):
        if "diverged" in tr.name:
            assert max(tr.y) <= top and len(tr.y) <= len(r.loss)
    marks = [tr.text[0] for tr in fig.data if tr.mode == "markers+text"]
    assert marks and all(m.startswith("diverged at step ") for m in marks)
    assert "SGD (diverged)" in [tr.name for tr in fig.data]
    picture = race_figure(s, runs)
    assert picture.layout.xaxis.range == (s.bounds[0], s.bounds[1])
    assert picture.layout.yaxis.range == (s.bounds[2], s.bounds[3])
    for tr in picture.data[3:]:
        assert ":.3g" in tr.hovertemplate and ":.4g" not in tr.hovertemplate


def test_loss_figure_is_log_and_floored() -> None:
    s = SURFACES["saddle"]  # f* = -1: the gap, not the loss, goes on the log axis
    runs = race("saddle")
    fig = loss_figure(runs, s.fmin)
    no_webgl(fig)
    assert fig.layout.yaxis.type == "log"
    assert len(fig.data) == len(runs)
    for tr, r in zip(fig.data, runs.values(), strict=True):
        assert len(tr.y) == len(r.loss) and min(tr.y) >= GAP_FLOOR
        np.testing.assert_allclose(tr.y[0], r.loss[0] - s.fmin)


def test_graph_layout_runs_left_to_right() -> None:
    for nodes in (neuron(), two_relus()):
        pos = positions(nodes)
        for n in nodes:
            for src in n.inputs:
                assert pos[src][0] < pos[n.id][0]
    pos = positions(neuron())
    assert pos["y"][0] == pos["a"][0]  # the target sits beside what it is compared with


def _texts(fig: go.Figure, name: str) -> list[str]:
    return list(next(tr for tr in fig.data if tr.name == name).text)


def test_graph_figure_forward_and_backward_states() -> None:
    nodes = two_relus()
    values, steps = forward(nodes), backward_steps(nodes)
    ids = [n.id for n in nodes]
    start = graph_figure(nodes, values, steps, forward_upto=0)
    vals = _texts(start, "values")
    assert vals[ids.index("z1")] == "z1 = ?" and vals[ids.index("x")] == "x = [1, -0.5]"
    assert not any(_texts(start, "gradients"))
    mid = graph_figure(nodes, values, steps, forward_upto=2)
    computed = forward_steps(nodes)[:2]
    vals = _texts(mid, "values")
    assert all("?" not in vals[ids.index(c)] for c in computed)
    assert sum("?" in v for v in vals) == len(forward_steps(nodes)) - 2

    for i in (0, 3, len(steps) - 1):
        fig = graph_figure(nodes, values, steps, step=i)
        no_webgl(fig)
        grads = _texts(fig, "gradients")
        assert sum(bool(g) for g in grads) == i + 1
        current = steps[i].node
        widths = list(fig.data[0].marker.line.width)
        assert widths[ids.index(current)] == 4 and widths.count(4) == 1
        edge_labels = [a for a in fig.layout.annotations if a.text]
        n_inputs = len(next(n for n in nodes if n.id == current).inputs)
        assert len(edge_labels) == n_inputs
        arrows = [a for a in fig.layout.annotations if a.showarrow]
        assert len(arrows) == sum(len(n.inputs) for n in nodes)
    out = graph_figure(nodes, values, steps, step=2)  # "out" = o1 + o2: local derivatives 1
    assert steps[2].node == "out"
    assert sorted(a.text for a in out.layout.annotations if a.text) == [
        "∂out/∂o1 = 1", "∂out/∂o2 = 1"]
    assert "∂L/∂out = 1.1" in _texts(out, "gradients")


@pytest.mark.parametrize("hist", [False, True])
def test_activation_figure(hist: bool) -> None:
    c = curve("tanh")
    pre = np.random.default_rng(0).normal(0, 2, 500) if hist else None
    fig = activation_figure(c, pre)
    no_webgl(fig)
    kinds = [tr.type for tr in fig.data]
    if hist:
        assert kinds == ["histogram", "scatter", "scatter"]
        assert fig.data[0].yaxis in (None, "y") and fig.data[1].yaxis == "y2"
        assert fig.layout.yaxis2.overlaying == "y"
    else:
        assert kinds == ["scatter", "scatter"]
    np.testing.assert_array_equal(fig.data[-1].y, c.dy)
    shades = [s for s in fig.layout.shapes if s.type == "rect"]
    assert [(s.x0, s.x1) for s in shades] == ranges(c.x, c.saturated)
    assert len(shades) == 2
    assert len(activation_figure(curve("identity")).layout.shapes) == 0
