"""Vision figures built from real probe results of a small CNN trained on the digits."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from engine.trainer import Trainer
from tests.test_vision import VISION, digits_spec
from viz.vision import (
    confusion_matrix,
    feature_map_grid,
    filter_grid,
    image_grid,
    probability_bars,
    rgb,
    saliency_figures,
    saliency_overlay,
)


@pytest.fixture(scope="module")
def trained():  # noqa: ANN201
    tr = Trainer(digits_spec(), needs=VISION)
    tr.run(epochs=2)
    return tr, tr.snapshot().probes


def _hover(trace: go.BaseTraceType) -> str:
    return trace.hovertemplate or ""


def test_image_grid_labels_each_image_green_or_red(trained) -> None:  # noqa: ANN001
    tr, p = trained
    pr = p["predictions"]
    x = tr.data.x_test.numpy()
    fig = image_grid(x[pr["indices"]], pr["true"], pr["pred"], pr["class_names"],
                     pr["confidence"])
    assert len(fig.data) == len(pr["indices"]) == 32
    assert all(isinstance(tr_, go.Image) for tr_ in fig.data)
    first = fig.data[0]
    np.testing.assert_array_equal(np.asarray(first.z)[..., 0], x[pr["indices"][0], 0])
    labels = fig.layout.annotations
    assert len(labels) == 32
    for i, a in enumerate(labels):
        right = pr["true"][i] == pr["pred"][i]
        assert a.text.startswith(pr["class_names"][pr["pred"][i]])
        assert (a.font.color == "#2e7d32") == right
        if not right:
            assert f"true {pr['class_names'][pr['true'][i]]}" in a.text
        hover = _hover(fig.data[i])
        assert f"true {pr['class_names'][pr['true'][i]]}" in hover
        assert f"predicted {pr['class_names'][pr['pred'][i]]}" in hover and "%" in hover


def test_most_confidently_wrong_grid(trained) -> None:  # noqa: ANN001
    tr, p = trained
    pr = p["predictions"]
    wrong = pr["wrong"]
    assert len(wrong) > 0  # two epochs on 200 images: mistakes remain
    fig = image_grid(tr.data.x_test.numpy()[wrong], tr.data.y_test.numpy()[wrong],
                     pr["wrong_pred"], pr["class_names"], pr["wrong_confidence"])
    assert len(fig.data) == len(wrong)
    assert all(a.font.color == "#c62828" for a in fig.layout.annotations)
    assert image_grid([], [], [], pr["class_names"]).layout.annotations[0].text


def test_confusion_matrix_has_class_names_and_counts(trained) -> None:  # noqa: ANN001
    _, p = trained
    pr = p["predictions"]
    names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    fig = confusion_matrix(pr["confusion"], names)
    hm = fig.data[0]
    assert list(hm.x) == names and list(hm.y) == names
    np.testing.assert_array_equal(np.asarray(hm.text), pr["confusion"])
    assert "%{text}" in _hover(hm) and "%{x}" in _hover(hm) and "%{y}" in _hover(hm)
    # Digits' names look like numbers: the axes must stay categories.
    fig = confusion_matrix(pr["confusion"], pr["class_names"])
    assert fig.layout.xaxis.type == "category" and fig.layout.yaxis.type == "category"
    assert fig.layout.xaxis.title.text == "predicted class"
    assert fig.layout.yaxis.title.text == "true class"


def test_feature_map_grid_one_heatmap_per_channel_shared_or_own_scale(trained) -> None:  # noqa: ANN001
    _, p = trained
    node = p["feature_maps"]["nodes"][0]
    shared = feature_map_grid(node)
    assert len(shared.data) == len(node["maps"]) == 4
    for ch, hm in enumerate(shared.data):
        np.testing.assert_allclose(np.asarray(hm.z), node["maps"][ch])
        assert hm.coloraxis == "coloraxis"
        assert f"channel {ch}" in _hover(hm) and "%{z" in _hover(hm)
    assert shared.layout.coloraxis.cmin == pytest.approx(float(node["maps"].min()))
    assert shared.layout.coloraxis.cmax == pytest.approx(float(node["maps"].max()))
    own = feature_map_grid(node, scale="channel")
    for ch, hm in enumerate(own.data):
        assert hm.coloraxis is None
        assert hm.zmin == pytest.approx(float(node["maps"][ch].min()))
    # Tiles do not overlap: each channel sits at its own offset.
    offsets = {(hm.x0, hm.y0) for hm in shared.data}
    assert len(offsets) == 4


def test_filter_grid_first_layer_patches_and_deeper_layers_per_input_channel(trained) -> None:  # noqa: ANN001
    _, p = trained
    node = p["filters"]["nodes"][0]  # 4 filters on 1 grey channel
    fig = filter_grid(node)
    assert len(fig.data) == 4
    np.testing.assert_allclose(np.asarray(fig.data[2].z), node["weights"][2, 0])
    span = float(np.abs(node["weights"]).max())
    assert fig.layout.coloraxis.cmin == pytest.approx(-span)
    assert "weight %{z" in _hover(fig.data[0])

    rng = np.random.default_rng(0)
    colour = {"id": "c", "weights": rng.normal(size=(5, 3, 3, 3)).astype(np.float32)}
    fig = filter_grid(colour)
    assert len(fig.data) == 5 and all(isinstance(d, go.Image) for d in fig.data)
    assert np.asarray(fig.data[0].z).shape == (3, 3, 3)
    assert "red" in _hover(fig.data[0]) and "customdata[2]" in _hover(fig.data[0])
    per_channel = filter_grid(colour, colour=False)
    assert len(per_channel.data) == 15
    assert "input channel 2" in _hover(per_channel.data[2])

    deep = {"id": "c2", "weights": rng.normal(size=(2, 20, 3, 3)).astype(np.float32)}
    fig = filter_grid(deep, max_inputs=16)
    assert len(fig.data) == 32 and "16 of 20" in fig.layout.title.text


def test_probability_bars_mark_the_prediction_and_the_true_class(trained) -> None:  # noqa: ANN001
    _, p = trained
    f = p["feature_maps"]
    names = [str(i) for i in range(10)]
    fig = probability_bars(f["probs"], names, f["label"])
    bar = fig.data[0]
    assert list(bar.x) == names
    np.testing.assert_allclose(np.asarray(bar.y), f["probs"])
    assert fig.layout.xaxis.type == "category"
    assert list(bar.text).index("true class") == f["label"]
    assert "%{y" in _hover(bar)


def test_saliency_figures_overlay_the_maps_on_the_image(trained) -> None:  # noqa: ANN001
    _, p = trained
    s, f = p["saliency"], p["feature_maps"]
    names = [str(i) for i in range(10)]
    grad, cam = saliency_figures(s, f["image"], names)
    img, heat = grad.data
    assert isinstance(img, go.Image) and isinstance(heat, go.Heatmap)
    np.testing.assert_array_equal(np.asarray(img.z), rgb(f["image"]))
    top = s["gradient"].max()
    np.testing.assert_allclose(np.asarray(heat.z), s["gradient"] / top, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(heat.customdata)[..., 2], s["gradient"], rtol=1e-6)
    assert "customdata[2]" in _hover(heat)
    assert f"class {s['target']}" in grad.layout.title.text
    assert "c1" in cam.layout.title.text and len(cam.data) == 2

    # A map that is zero everywhere says so; no Grad-CAM (no convolution) says why.
    zero = saliency_overlay(f["image"], np.zeros((8, 8)), "x")
    assert any("zero everywhere" in a.text for a in zero.layout.annotations)
    none = saliency_overlay(f["image"], None, "x")
    assert not none.data and "convolution" in none.layout.annotations[0].text
    empty = saliency_figures(None, f["image"], names)
    assert all(not fig.data for fig in empty)


def test_rgb_reads_grey_and_colour_uint8_and_float() -> None:
    grey = np.array([[[0, 128], [255, 3]]], np.uint8)
    assert rgb(grey).shape == (2, 2, 3) and rgb(grey)[0, 1].tolist() == [128] * 3
    colour = np.random.default_rng(0).random((3, 4, 5))
    out = rgb(colour)
    assert out.shape == (4, 5, 3) and out.dtype == np.uint8
    assert out[1, 2, 0] == round(colour[0, 1, 2] * 255)
