"""Vision engine and probes: feature maps, filters, input gradient, Grad-CAM and
predictions, checked against hand computations on hand-set weights and on a real CNN
trained on the digits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.graph import GraphModel, plan_model
from engine.probes import PROBES
from engine.probes.predictions import Predictions
from engine.spec import ModelSpec
from engine.trainer import Trainer
from engine.vision import (
    class_score,
    confusion,
    feature_maps,
    filters,
    map_nodes,
    mixed_sample,
    predictions,
    saliency,
)

VISION = ["predictions", "feature_maps", "filters", "saliency"]


def _model(nodes: list[dict], input_shape: tuple[int, ...]) -> GraphModel:
    plan = plan_model(ModelSpec.model_validate({"nodes": nodes}), input_shape)
    return GraphModel(plan).train()


def _correlate(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """'Valid' 2-D cross-correlation written out loop by loop (what a convolution computes)."""
    kh, kw = k.shape
    out = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = sum(x[i + a, j + b] * k[a, b] for a in range(kh) for b in range(kw))
    return out


def digits_spec(**probe_every: int) -> dict:
    return {"schema": 1, "data": {"name": "digits", "params": {"per_class": 20}},
            "model": {"nodes": [
                {"id": "c1", "type": "conv2d", "params": {"filters": 4}},
                {"id": "bn", "type": "batchnorm2d"},
                {"id": "p1", "type": "maxpool2d"},
                {"id": "act", "type": "tanh"},
                {"id": "f", "type": "flatten"},
                {"id": "drop", "type": "dropout", "params": {"p": 0.5}},
                {"id": "out", "type": "linear", "params": {"units": 10}}]},
            "train": {"device": "cpu", "epochs": 2, "batch_size": 16,
                      "optimizer": {"name": "adam", "lr": 0.01}},
            "probes": [{"name": n, "every": e, "params": {"min_interval": 0.0}}
                       for n, e in probe_every.items()]}


# feature maps ------------------------------------------------------------------------------

def test_feature_maps_equal_a_hand_computed_convolution_relu_and_max_pool() -> None:
    model = _model([
        {"id": "conv", "type": "conv2d", "params": {"filters": 1, "kernel_size": 3,
                                                    "padding": 0, "activation": "relu"}},
        {"id": "pool", "type": "maxpool2d", "params": {"kernel_size": 2}},
        {"id": "flat", "type": "flatten"},
        {"id": "out", "type": "linear", "params": {"units": 2}}], (1, 6, 6))
    image = np.array([[0, 0, 0, 9, 9, 9]] * 3 + [[9, 9, 9, 0, 0, 0]] * 3, np.float64)
    image[2, 1] = 4.0  # break the symmetry, so a transposed kernel would give other numbers
    kernel = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
    with torch.no_grad():
        model.layers["conv"].conv.weight.copy_(torch.tensor(kernel).view(1, 1, 3, 3))
        model.layers["conv"].conv.bias.fill_(0.5)
    out, nodes = feature_maps(model, torch.tensor(image, dtype=torch.float32)[None, None])

    conv = np.maximum(_correlate(image, kernel) + 0.5, 0)
    pool = conv.reshape(2, 2, 2, 2).max(axis=(1, 3))
    assert [n["id"] for n in nodes] == ["conv", "pool"]
    assert [n["type"] for n in nodes] == ["conv2d", "maxpool2d"]
    for n in nodes:  # the shapes the plan infers
        assert n["maps"].shape == model.plan.by_id(n["id"]).out_shape
        assert n["maps"].dtype == np.float32
    np.testing.assert_allclose(nodes[0]["maps"][0], conv, rtol=1e-6)
    np.testing.assert_allclose(nodes[1]["maps"][0], pool, rtol=1e-6)
    assert conv.min() == 0 and conv.max() > 0  # the ReLU did cut something
    assert out.shape == (1, 2)
    assert model.training  # eval mode only for the pass


def test_feature_maps_cover_conv_pool_and_activation_nodes_of_a_branching_graph() -> None:
    model = _model([
        {"id": "a", "type": "conv2d", "params": {"filters": 3, "activation": "none"}},
        {"id": "r", "type": "relu"},
        {"id": "b", "type": "conv2d", "params": {"filters": 3}, "inputs": ["input"]},
        {"id": "sum", "type": "add", "inputs": ["r", "b"]},
        {"id": "bn", "type": "batchnorm2d"},
        {"id": "pool", "type": "avgpool2d"},
        {"id": "gap", "type": "global_avgpool"},
        {"id": "out", "type": "linear", "params": {"units": 2}}], (2, 8, 8))
    x = torch.randn(1, 2, 8, 8)
    _, nodes = feature_maps(model, x)
    # Merges and normalisation are not feature extractors; the global pool is no image.
    assert [n["id"] for n in nodes] == ["a", "r", "b", "pool"]
    with torch.no_grad():
        a = model.layers["a"](x)
    np.testing.assert_allclose(nodes[0]["maps"], a[0].numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(nodes[1]["maps"], a[0].clamp_min(0).numpy(), rtol=1e-5,
                               atol=1e-6)
    assert [n.id for n in map_nodes(model.plan)] == ["a", "r", "b", "pool"]


def test_big_layers_keep_64_channels() -> None:
    model = _model([{"id": "c", "type": "conv2d", "params": {"filters": 80}},
                    {"id": "f", "type": "flatten"},
                    {"id": "out", "type": "linear", "params": {"units": 2}}], (1, 4, 4))
    _, nodes = feature_maps(model, torch.randn(1, 1, 4, 4))
    assert nodes[0]["maps"].shape == (64, 4, 4)
    (f,) = filters(model)
    assert f["weights"].shape == (64, 1, 3, 3)


# filters -------------------------------------------------------------------------------------

def test_filters_are_the_layer_weights_with_groups() -> None:
    model = _model([
        {"id": "c1", "type": "conv2d", "params": {"filters": 4}},
        {"id": "c2", "type": "conv2d", "params": {"filters": 6, "kernel_size": 5,
                                                  "padding": 2, "groups": 2}},
        {"id": "f", "type": "flatten"},
        {"id": "out", "type": "linear", "params": {"units": 2}}], (3, 8, 8))
    got = filters(model)
    assert [f["id"] for f in got] == ["c1", "c2"]
    assert got[0]["weights"].shape == (4, 3, 3, 3)
    assert got[1]["weights"].shape == (6, 2, 5, 5)  # [out, in / groups, kh, kw]
    for f in got:
        np.testing.assert_array_equal(
            f["weights"], model.layers[f["id"]].conv.weight.detach().numpy())


# saliency --------------------------------------------------------------------------------------

def _tiny_saliency_model() -> tuple[GraphModel, np.ndarray, np.ndarray, np.ndarray,
                                    np.ndarray]:
    """2 input channels, 3x3 -> conv (2 filters, 2x2, no activation) -> 2x2x2 -> linear(3)."""
    model = _model([
        {"id": "conv", "type": "conv2d", "params": {"filters": 2, "kernel_size": 2,
                                                    "padding": 0, "activation": "none"}},
        {"id": "flat", "type": "flatten"},
        {"id": "out", "type": "linear", "params": {"units": 3}}], (2, 3, 3))
    rng = np.random.default_rng(1)
    k = rng.normal(size=(2, 2, 2, 2))  # [out, in, kh, kw]
    kb = rng.normal(size=2)
    w = rng.normal(size=(3, 8))
    x = rng.normal(size=(2, 3, 3))
    with torch.no_grad():
        model.layers["conv"].conv.weight.copy_(torch.tensor(k))
        model.layers["conv"].conv.bias.copy_(torch.tensor(kb))
        model.layers["out"].linear.weight.copy_(torch.tensor(w))
        model.layers["out"].linear.bias.zero_()
    return model, k, kb, w, x


def test_input_gradient_and_grad_cam_equal_a_hand_computation() -> None:
    model, k, kb, w, x = _tiny_saliency_model()
    target = 2
    s = saliency(model, torch.tensor(x, dtype=torch.float32)[None], target)

    # The conv output by hand: A[f] = sum over input channels of their correlation + bias.
    act = np.stack([sum(_correlate(x[c], k[f, c]) for c in range(2)) + kb[f]
                    for f in range(2)])
    wt = w[target].reshape(2, 2, 2)  # d score / d A, in flatten order [f, i, j]
    # Input gradient: each output cell (f, i, j) passes wt[f, i, j] * k[f, c] back to the
    # 2x2 window at (i, j).
    grad = np.zeros((2, 3, 3))
    for f in range(2):
        for i in range(2):
            for j in range(2):
                grad[:, i:i + 2, j:j + 2] += wt[f, i, j] * k[f]
    np.testing.assert_allclose(s["gradient"], np.abs(grad).max(0), rtol=1e-5, atol=1e-6)

    # Grad-CAM: channel weights are the mean gradient over positions; ReLU of the weighted
    # sum; bilinear 2 -> 3 (half-pixel centres) takes row 0, the mean of both, row 1.
    cam = np.maximum((wt.mean(axis=(1, 2))[:, None, None] * act).sum(0), 0)
    up = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    np.testing.assert_allclose(s["gradcam"], up @ cam @ up.T, rtol=1e-5, atol=1e-6)
    assert s["gradcam_node"] == "conv" and s["target"] == target
    assert s["gradient"].shape == (3, 3) and s["gradcam"].shape == (3, 3)
    # The training gradients are not touched, and the model is back in training mode.
    assert all(p.grad is None for p in model.parameters())
    assert model.training


def test_grad_cam_relu_cuts_negative_evidence_and_default_target_is_the_prediction() -> None:
    model, *_ , x = _tiny_saliency_model()
    xt = torch.tensor(x, dtype=torch.float32)[None]
    with torch.no_grad():
        out = model(xt)
    s = saliency(model, xt)
    assert s["target"] == int(out.argmax())
    # Flip the sign of the target's weights: every Grad-CAM weight flips, the ReLU keeps
    # the other side; the input gradient's magnitude is unchanged.
    before = saliency(model, xt, 1)
    with torch.no_grad():
        model.layers["out"].linear.weight[1].neg_()
    after = saliency(model, xt, 1)
    np.testing.assert_allclose(after["gradient"], before["gradient"], rtol=1e-5)
    assert not np.allclose(after["gradcam"], before["gradcam"])
    assert (before["gradcam"] >= 0).all() and (after["gradcam"] >= 0).all()


def test_saliency_without_a_convolution_has_only_the_gradient() -> None:
    model = _model([{"id": "f", "type": "flatten"},
                    {"id": "out", "type": "linear", "params": {"units": 2}}], (1, 2, 2))
    with torch.no_grad():
        model.layers["out"].linear.weight.copy_(torch.tensor([[1.0, -2, 3, -4], [0, 0, 0, 0]]))
    s = saliency(model, torch.ones(1, 1, 2, 2), 0)
    np.testing.assert_allclose(s["gradient"], [[1, 2], [3, 4]])
    assert s["gradcam"] is None and s["gradcam_node"] is None


def test_class_score_of_a_single_logit() -> None:
    out = torch.tensor([[1.5]])
    assert float(class_score(out, 1)) == 1.5 and float(class_score(out, 0)) == -1.5
    assert float(class_score(torch.tensor([[0.1, 0.7]]), 1)) == pytest.approx(0.7)


# predictions -------------------------------------------------------------------------------------

def test_confusion_counts() -> None:
    true = torch.tensor([0, 0, 1, 1, 1, 2, 2, 2, 2])
    pred = torch.tensor([0, 1, 1, 1, 2, 2, 2, 0, 0])
    assert confusion(true, pred, 3).tolist() == [[1, 1, 0], [0, 2, 1], [2, 0, 2]]


def test_predictions_rank_the_most_confidently_wrong_first() -> None:
    probs = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.05, 0.95], [0.7, 0.3]])
    y = torch.tensor([0, 0, 1, 0, 1])  # rows 1, 2, 3 and 4 are wrong
    r = predictions(probs, y, np.array([4, 0]), most_wrong=3)
    assert r["wrong"].tolist() == [3, 1, 4]
    assert r["wrong_pred"].tolist() == [1, 1, 0]
    np.testing.assert_allclose(r["wrong_confidence"], [0.95, 0.8, 0.7])
    assert r["indices"].tolist() == [4, 0] and r["true"].tolist() == [1, 0]
    assert r["pred"].tolist() == [0, 0]
    np.testing.assert_allclose(r["confidence"], [0.7, 0.9])
    assert r["confusion"].tolist() == [[1, 2], [2, 0]]


def test_mixed_sample_lets_the_classes_take_turns() -> None:
    y = np.repeat([0, 1, 2], [5, 1, 4])
    s = mixed_sample(y, 7, seed=3)
    assert len(set(s.tolist())) == 7
    assert y[s].tolist() == [0, 1, 2, 0, 2, 0, 2]
    assert mixed_sample(y, 7, seed=3).tolist() == s.tolist()
    assert len(mixed_sample(y, 50)) == 10


def test_predictions_probe_reads_the_trainers_evaluation_not_a_new_pass() -> None:
    tr = Trainer(digits_spec())
    tr.run(epochs=1)
    probe = Predictions()
    n, k = len(tr.y_test), 10
    fake = torch.zeros(n, k)
    fake[:, 3] = 5.0  # every image "predicted" as a 3
    tr.test_outputs = fake
    probe.on_run_start(tr)
    r = probe.result()
    assert set(r["pred"].tolist()) == {3}
    assert r["confusion"][:, 3].sum() == n and r["confusion"].sum() == n
    np.testing.assert_array_equal(r["confusion"].sum(1), np.bincount(tr.y_test.numpy(),
                                                                      minlength=k))
    # The same outputs are not summarised twice; new ones are.
    probe.on_run_end(tr)
    assert probe.result() is r
    tr.test_outputs = fake.clone()
    probe.on_run_end(tr)
    assert probe.result() is not r


# the probes on a real CNN ------------------------------------------------------------------------

def test_default_cadences_are_cheap() -> None:
    every = {n: PROBES.get(n).default_every for n in VISION}
    assert every == {"predictions": 1, "feature_maps": 20, "filters": 50, "saliency": 20}
    for n in ("feature_maps", "filters", "saliency"):
        interval = {p.name: p.default for p in PROBES.get(n).params}["min_interval"]
        assert interval >= 0.25


def _check_contract(probes: dict, tr: Trainer) -> None:
    k = 10
    p = probes["predictions"]
    assert set(p) == {"step", "indices", "true", "pred", "confidence", "confusion", "wrong",
                      "wrong_pred", "wrong_confidence", "class_names"}
    assert p["class_names"] == [str(i) for i in range(10)]
    y = tr.y_test[p["indices"].tolist()].tolist()
    assert len(y) == 32 and len(set(y)) == 10  # the classes are mixed
    assert p["true"].tolist() == y
    assert p["confusion"].shape == (k, k) and p["confusion"].sum() == len(tr.y_test)
    assert ((p["confidence"] > 0) & (p["confidence"] <= 1)).all()
    assert len(p["wrong"]) <= 16 and (np.diff(p["wrong_confidence"]) <= 0).all()
    assert (tr.y_test[p["wrong"].tolist()].numpy() != p["wrong_pred"]).all()

    f = probes["feature_maps"]
    assert set(f) == {"step", "index", "image", "label", "probs", "nodes"}
    idx = tr.focus["index"]
    assert f["index"] == idx and f["label"] == int(tr.y_test[idx])
    np.testing.assert_allclose(f["image"], tr.x_test[idx].numpy() / 255.0, atol=1e-5)
    assert f["probs"].shape == (k,) and f["probs"].sum() == pytest.approx(1.0, abs=1e-5)
    assert [(n["id"], n["type"]) for n in f["nodes"]] == [("c1", "conv2d"),
                                                         ("p1", "maxpool2d"), ("act", "tanh")]
    for n in f["nodes"]:
        assert n["maps"].shape == tr.plan.by_id(n["id"]).out_shape

    w = probes["filters"]
    assert [n["id"] for n in w["nodes"]] == ["c1"]
    np.testing.assert_array_equal(w["nodes"][0]["weights"],
                                  tr.model.layers["c1"].conv.weight.detach().numpy())

    s = probes["saliency"]
    assert set(s) == {"step", "index", "target", "gradient", "gradcam", "gradcam_node"}
    assert s["gradient"].shape == (8, 8) and s["gradcam"].shape == (8, 8)
    assert s["gradcam_node"] == "c1" and s["gradient"].max() > 0
    assert s["target"] == int(f["probs"].argmax())  # no focus class: the predicted one


def test_a_cnn_trained_on_digits_gives_contract_results_that_change_between_steps() -> None:
    tr = Trainer(digits_spec(feature_maps=5, filters=5, saliency=5), needs=VISION)
    first = tr.snapshot().probes
    assert first["predictions"] is None  # nothing evaluated yet
    tr.run(epochs=1)
    a = tr.snapshot().probes
    _check_contract(a, tr)
    tr.run(epochs=2)
    b = tr.snapshot().probes
    _check_contract(b, tr)
    assert b["feature_maps"]["step"] > a["feature_maps"]["step"]
    assert b["predictions"]["step"] == tr.step > a["predictions"]["step"]
    assert not np.allclose(b["feature_maps"]["nodes"][0]["maps"],
                           a["feature_maps"]["nodes"][0]["maps"])
    assert not np.allclose(b["filters"]["nodes"][0]["weights"],
                           a["filters"]["nodes"][0]["weights"])
    assert not np.allclose(b["saliency"]["gradient"], a["saliency"]["gradient"])
    # Results are shared by the snapshots, never written: every array is read-only.
    with pytest.raises(ValueError):
        b["feature_maps"]["nodes"][0]["maps"][0, 0, 0] = 1.0
    # No hook is left on the model by the vision probes.
    assert not any(m._forward_hooks for m in tr.model.modules())


def test_the_focus_image_and_class_steer_the_focus_probes() -> None:
    tr = Trainer(digits_spec(), needs=VISION)
    tr.run(epochs=1)
    tr.set_focus(index=7, target=3)
    p = tr.snapshot().probes
    assert p["feature_maps"]["index"] == 7 and p["feature_maps"]["label"] == int(tr.y_test[7])
    assert p["saliency"]["index"] == 7 and p["saliency"]["target"] == 3
    drawn = np.zeros((1, 8, 8), np.uint8)
    drawn[0, 1:7, 3:5] = 255  # a "1"
    tr.set_focus(image=drawn)
    p = tr.snapshot().probes
    assert p["feature_maps"]["index"] is None and p["feature_maps"]["label"] is None
    np.testing.assert_allclose(p["feature_maps"]["image"], drawn / 255.0, atol=1e-5)
    assert p["saliency"]["index"] is None


def test_vision_probes_stay_silent_on_a_model_without_images(spec) -> None:  # noqa: ANN001
    tr = Trainer(spec(), needs=VISION)
    tr.run(epochs=1)
    p = tr.snapshot().probes
    assert p["feature_maps"] is None and p["filters"] is None and p["saliency"] is None
    assert p["predictions"] is None  # a grid of pictures: xor has none (Train has its matrix)


def test_feature_maps_move_while_training_in_the_background_at_default_cadence() -> None:
    import time

    tr = Trainer(digits_spec(), needs=VISION)
    tr.set_epochs(None)  # until stopped
    tr.start()
    try:
        seen: dict[int, np.ndarray] = {}
        end = time.monotonic() + 30
        while len(seen) < 3 and time.monotonic() < end:
            f = tr.snapshot().probes["feature_maps"]
            if f is not None:
                seen.setdefault(f["step"], f["nodes"][0]["maps"])
            time.sleep(0.05)
    finally:
        tr.stop()
    assert len(seen) == 3, seen.keys()  # recorded at run start, then on the step cadence
    steps = sorted(seen)
    assert not np.allclose(seen[steps[0]], seen[steps[-1]])
    # Throttled in time, never every step: at least 20 steps (the cadence) apart.
    assert all(b - a >= 20 for a, b in zip(steps, steps[1:], strict=False))


def test_vision_probes_do_not_change_training() -> None:
    """Eval-mode passes of one image draw no random numbers and leave the gradients and
    batch statistics alone: the losses are the same to the last bit."""
    watched = digits_spec(feature_maps=1, filters=1, saliency=1)
    a, b = Trainer(digits_spec()).run(), Trainer(watched, needs=VISION).run()
    assert np.array_equal(a.steps["loss"], b.steps["loss"])
    assert np.array_equal(a.evals["test_loss"], b.evals["test_loss"])
