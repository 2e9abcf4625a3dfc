"""Receptive fields: hand-computed theoretical fields, the effective field inside them (on an
untrained and a trained network), the probe, and ``python -m engine describe``."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from engine.cli import main
from engine.graph import INPUT, GraphModel, Plan, plan_model
from engine.probes.receptive_field import check_unit, default_unit, effective_field
from engine.receptive import Field, has_convolution, receptive_fields, unit_box
from engine.spec import ModelSpec


def plan(nodes: list[dict], shape: tuple[int, ...] = (1, 16, 16)) -> Plan:
    return plan_model(ModelSpec.model_validate({"nodes": nodes}), shape)


def conv(nid: str, k: int = 3, s: int = 1, p: int = 1, d: int = 1, f: int = 4,
         act: str = "none", inputs: list[str] | None = None) -> dict:
    return {"id": nid, "type": "conv2d", "inputs": inputs, "params": {
        "filters": f, "kernel_size": k, "stride": s, "padding": p, "dilation": d,
        "activation": act}}


def node(nid: str, kind: str, inputs: list[str] | None = None, **params: object) -> dict:
    return {"id": nid, "type": kind, "inputs": inputs, "params": params}


def sq(size: int, jump: int, first: int, **kw: bool) -> Field:
    return Field((size, size), (jump, jump), (first, first), **kw)


# -- theory, by hand -----------------------------------------------------------------------

def test_stride_padding_pooling_dilation_by_hand() -> None:
    p = plan([conv("c1"),                       # 16x16
              conv("c2", s=2),                  # 8x8
              node("pool", "maxpool2d", kernel_size=2, stride=0),  # 4x4 (stride = window)
              conv("c3", d=2, p=2),             # 4x4, span 5
              node("relu", "relu"),
              node("avg", "avgpool2d", kernel_size=2, stride=1),   # 3x3
              node("flat", "flatten"), {"id": "out", "type": "linear",
                                        "params": {"units": 3}}])
    f = receptive_fields(p)
    assert f[INPUT] == sq(1, 1, 0)
    assert f["c1"] == sq(3, 1, -1)              # 1 + 2*1; one pixel of padding before
    assert f["c2"] == sq(5, 2, -2)              # 3 + 2*1, jump 1*2, -1 - 1*1
    assert f["pool"] == sq(7, 4, -2)            # 5 + 1*2, jump 2*2, no padding
    assert f["c3"] == sq(23, 4, -10)            # span 5: 7 + 4*4; -2 - 2*4
    assert f["relu"] == f["c3"]                 # pointwise: passes through
    assert f["avg"] == sq(27, 4, -10)           # 23 + 1*4, jump 4*1
    assert f["flat"] is None and f["out"] is None  # no image any more
    assert f["c3"].start == (1.0, 1.0) and f["pool"].start == (1.0, 1.0)
    assert f["c1"].start == (0.0, 0.0)
    # An even window: the centre falls between two pixels.
    assert receptive_fields(plan([node("p", "avgpool2d", kernel_size=2, stride=2)]))[
        "p"].start == (0.5, 0.5)
    # Boxes are clipped to the image: unit (1, 2) of c3 sees rows -6..16, columns -2..20.
    assert unit_box(p, ("c3", 0, 1, 2)) == (0, 0, 16, 16)
    assert unit_box(p, ("c2", 0, 0, 0)) == (0, 0, 3, 3)
    assert unit_box(p, ("c2", 0, 3, 7)) == (4, 12, 9, 16)  # first -2 + 3*2 = 4; -2 + 14 = 12


def test_residual_add_with_a_strided_shortcut() -> None:
    p = plan([conv("a", s=2, inputs=["input"]),            # 16 -> 8: size 3, jump 2, first -1
              conv("b", inputs=["a"]),                       # size 7, jump 2, first -3
              conv("short", k=1, s=2, p=0, inputs=["input"]),  # size 1, jump 2, first 0
              node("sum", "add", inputs=["b", "short"]),
              conv("after", inputs=["sum"])], (1, 16, 16))
    f = receptive_fields(p)
    assert f["b"] == sq(7, 2, -3) and f["short"] == sq(1, 2, 0)
    assert f["sum"] == sq(7, 2, -3)     # same jump: the box covering both, exact
    assert f["sum"].exact
    assert f["after"] == sq(11, 2, -5)


def test_merge_of_paths_with_different_jumps_covers_both() -> None:
    p = plan([conv("wide", k=5, p=0, inputs=["input"]),         # 8 -> 4, jump 1
              conv("strided", k=1, s=2, p=0, inputs=["input"]),  # 8 -> 4, jump 2
              node("sum", "add", inputs=["wide", "strided"])], (1, 8, 8))
    f = receptive_fields(p)["sum"]
    assert not f.exact and f.jump == (2, 2)
    for i in range(4):  # every unit's box covers both paths' pixels
        lo = f.first[0] + i * f.jump[0]  # unclipped: rows lo .. lo + size - 1
        assert lo <= min(i, 2 * i) and lo + f.size[0] >= max(i + 5, 2 * i + 1)


def test_concat_inception_block_is_the_union_of_its_branches() -> None:
    p = plan([conv("b1", k=1, p=0, inputs=["input"]), conv("b3", k=3, p=1, inputs=["input"]),
              conv("b5", k=5, p=2, inputs=["input"]),
              node("pool", "maxpool2d", inputs=["input"], kernel_size=1, stride=1),
              node("cat", "concat", inputs=["b1", "b3", "b5", "pool"]),
              conv("next")])
    f = receptive_fields(p)
    assert f["cat"] == sq(5, 1, -2)
    assert f["next"] == sq(7, 1, -3)


def test_whole_input_and_no_image() -> None:
    p = plan([conv("c"), node("bn", "batchnorm2d"), node("a", "adaptive_avgpool2d",
                                                          output_size=2),
              conv("after"), node("g", "global_avgpool"),
              {"id": "out", "type": "linear", "params": {"units": 2}}])
    f = receptive_fields(p)
    assert f["bn"] == f["c"] == sq(3, 1, -1)
    # Every unit of an adaptive pooling sees (at most) the whole input; so does what follows.
    assert f["a"] == f["after"] == Field((16, 16), (0, 0), (0, 0), whole=True)
    assert f["after"].box(1, 1, 16, 16) == (0, 0, 16, 16)
    assert f["g"] is None and has_convolution(p)
    flat = plan_model(ModelSpec.model_validate({"nodes": [
        {"id": "h", "type": "linear", "params": {"units": 4}}]}), (2,))
    assert receptive_fields(flat) == {INPUT: None, "h": None}
    assert not has_convolution(flat) and default_unit(flat) is None


# -- the effective field lies inside the theoretical one -----------------------------------

def support(erf: np.ndarray) -> tuple[int, int, int, int] | None:
    ys, xs = np.nonzero(erf)
    if not len(ys):
        return None
    return int(ys.min()), int(xs.min()), int(ys.max()) + 1, int(xs.max()) + 1


def inside(erf: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    y0, x0, y1, x1 = box
    outside = erf.copy()
    outside[y0:y1, x0:x1] = 0
    return not outside.any()


DEEP = [conv("c1", act="relu"), conv("c2", s=2, act="relu"),
        node("pool", "maxpool2d", kernel_size=2, stride=0), conv("c3", d=2, p=2),
        node("r3", "relu"), conv("short", k=1, s=4, p=0, inputs=["input"]),
        node("sum", "add", inputs=["r3", "short"]), conv("c4", k=3, p=1, act="relu")]


@pytest.mark.parametrize("nodes", [DEEP, [conv("c1"), conv("c2", s=2),
                                          node("pool", "avgpool2d", kernel_size=2, stride=0),
                                          conv("c3", d=2, p=2)]])
def test_effective_field_inside_the_box_on_an_untrained_network(nodes: list[dict]) -> None:
    torch.manual_seed(0)
    p = plan(nodes, (2, 16, 16))
    model = GraphModel(p)
    x = torch.randn(1, 2, 16, 16)
    fields = receptive_fields(p)
    linear = all(n.get("params", {}).get("activation", "none") == "none"
                 and n["type"] not in ("relu", "maxpool2d") for n in nodes)
    for info in p.nodes:
        _, h, w = info.out_shape
        for y, xx in ((0, 0), (h // 2, w // 2), (h - 1, w - 1), (0, w - 1)):
            unit = (info.id, 1, y, xx)
            erf = effective_field(model, x, unit)
            box = fields[info.id].box(y, xx, 16, 16)
            assert erf.any(), unit
            assert inside(erf, box), (unit, box, support(erf))
            f = fields[info.id]
            whole_box = (f.first[0] + y * f.jump[0], f.first[1] + xx * f.jump[1])
            unclipped = box[:2] == whole_box and box[2] - box[0] == f.size[0]
            if linear and unclipped:
                # Nothing switches off: the gradient spans the box exactly. (A clipped box
                # can be wider than the gradient: dilated taps may land only on padding.)
                assert support(erf) == box, (unit, box, support(erf))
    # The weights were left without gradients.
    assert all(q.grad is None for q in model.parameters())


def test_a_relu_at_zero_still_shows_the_field_it_looks_at() -> None:
    torch.manual_seed(0)
    p = plan([conv("c1"), node("r", "relu")], (1, 8, 8))
    model = GraphModel(p)
    with torch.no_grad():
        model.layers["c1"].conv.bias.fill_(-100.0)  # every unit off
    erf = effective_field(model, torch.randn(1, 1, 8, 8), ("r", 0, 4, 4))
    assert support(erf) == (3, 3, 6, 6)


def test_check_unit_names_the_problem() -> None:
    p = plan([conv("c1"), node("g", "global_avgpool")], (1, 8, 8))
    assert check_unit(p, ("c1", 3, 7, 7)) is None
    assert "outside" in check_unit(p, ("c1", 4, 0, 0))
    assert "does not output an image" in check_unit(p, ("g", 0, 0, 0))
    assert "not (node, channel, y, x)" in check_unit(p, ("nope", 0, 0, 0))
    assert default_unit(p) == ("c1", 0, 4, 4)


# -- the probe, on digits ------------------------------------------------------------------

def digits_cnn(epochs: int = 3) -> dict:
    return {
        "schema": 1, "meta": {"name": "small CNN"},
        "data": {"name": "digits", "params": {"size": 16, "per_class": 40}},
        "model": {"nodes": [conv("c1", f=8, act="relu"),
                            node("pool", "maxpool2d", kernel_size=2, stride=0),
                            conv("c2", f=8, d=2, p=2, act="relu"),
                            conv("c3", f=8, s=2, act="relu"),
                            node("flat", "flatten"),
                            {"id": "out", "type": "linear", "params": {"units": 10}}]},
        "train": {"optimizer": {"name": "adam", "lr": 0.01}, "batch_size": 32,
                  "epochs": epochs, "seed": 0},
        "probes": [{"name": "receptive_field", "every": 5, "params": {}}],
    }


def test_probe_on_an_untrained_and_a_trained_network() -> None:
    from engine.trainer import Trainer

    trainer = Trainer(digits_cnn())
    assert trainer.snapshot().probes["receptive_field"] is None  # no unit chosen yet
    fields = receptive_fields(trainer.plan)
    # c1: 3, first -1; pool: 4, jump 2; c2 (span 5): 4 + 4*2 = 12, first -1 - 2*2 = -5;
    # c3: 12 + 2*2 = 16, jump 4, first -5 - 1*2 = -7.
    assert fields["c3"] == sq(16, 4, -7)
    units = [("c1", 2, 0, 0), ("pool", 1, 3, 4), ("c2", 5, 7, 0), ("c3", 7, 2, 1)]
    before = {}
    for unit in units:
        trainer.set_focus(unit=unit, index=3)
        r = trainer.snapshot().probes["receptive_field"]
        assert r["unit"] == list(unit) and r["step"] == 0 and r["index"] == 3
        assert r["box"] == list(unit_box(trainer.plan, unit))
        assert r["now"].shape == r["init"].shape == (16, 16) and r["image"].shape == (1, 16, 16)
        assert inside(r["now"], r["box"]), (unit, r["box"])
        # A conv unit is taken before its ReLU, so it always responds; a pooled one after
        # ReLUs may be silent on this image (the page says so).
        assert r["now"].any() or unit[0] == "pool"
        np.testing.assert_array_equal(r["now"], r["init"])  # nothing trained yet
        before[unit] = r["now"]
    snap = trainer.run()
    assert snap.final["test_accuracy"] > 0.5  # it did learn something
    assert snap.probes["receptive_field"]["step"] == snap.step  # recorded as the run ended
    for unit in units:
        trainer.set_focus(unit=unit)
        r = trainer.snapshot().probes["receptive_field"]
        assert r["step"] == snap.step
        assert inside(r["now"], r["box"]) and inside(r["init"], r["box"]), unit
        np.testing.assert_array_equal(r["init"], before[unit])  # the start stays the start
        if unit[0] != "pool":
            assert not np.array_equal(r["now"], r["init"])  # the weights moved
    trainer.set_focus(unit=("flat", 0, 0, 0))  # not an image: nothing to show
    assert trainer.snapshot().probes["receptive_field"] is None


# -- python -m engine describe -------------------------------------------------------------

def test_describe_text_and_json(tmp_path, capsys) -> None:  # noqa: ANN001
    path = tmp_path / "cnn.json"
    spec = digits_cnn()
    spec["model"]["nodes"][1]["params"]["kernel_size"] = 3  # an odd pool: start 1, not 0.5
    path.write_text(json.dumps(spec))
    assert main(["describe", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "small CNN: input [1, 16, 16], 1,978 parameters"
    table = {ln.split()[0]: ln.split() for ln in lines[2:8]}
    assert table["c1"] == ["c1", "conv2d", "8x16x16", "80", "3", "1", "0"]
    assert table["pool"] == ["pool", "maxpool2d", "8x5x5", "0", "5", "3", "1"]
    assert table["flat"][2:] == ["72", "0", "-", "-", "-"]
    assert "jump: input pixels between neighbouring units" in "\n".join(lines)

    assert main(["describe", str(path), "--json"]) == 0
    nodes = json.loads(capsys.readouterr().out)["nodes"]
    assert [n["id"] for n in nodes] == ["c1", "pool", "c2", "c3", "flat", "out"]
    assert nodes[0] == {"id": "c1", "type": "conv2d", "output_shape": [8, 16, 16],
                        "params": 80, "receptive_field": {"size": [3, 3], "jump": [1, 1],
                                                          "start": [0, 0]}}
    # pool 3 (stride 3): 3 + 2*1 = 5, jump 3, first -1, centre 1.
    assert nodes[1]["receptive_field"] == {"size": [5, 5], "jump": [3, 3], "start": [1, 1]}
    assert nodes[4]["receptive_field"] is None and nodes[5]["receptive_field"] is None
    assert nodes[5]["output_shape"] == [10] and nodes[5]["params"] == 730


def test_describe_a_model_without_images(capsys) -> None:  # noqa: ANN001
    assert main(["describe", "spiral", "--json"]) == 0
    nodes = json.loads(capsys.readouterr().out)["nodes"]
    assert nodes and all(n["receptive_field"] is None for n in nodes)
    assert main(["describe", "spiral"]) == 0
    out = capsys.readouterr().out
    assert "field size" not in out and "hidden1" in out
    assert main(["describe", "no_such_preset"]) == 1


def test_growth_with_depth_dilation_and_stride() -> None:
    from engine.receptive import growth_curves

    g = growth_curves(4)
    assert g["plain"] == {"size": [1, 3, 5, 7, 9], "jump": [1, 1, 1, 1, 1]}
    # Dilation and stride both double the growth each layer; only stride spaces units out.
    assert g["dilated"] == {"size": [1, 3, 7, 15, 31], "jump": [1, 1, 1, 1, 1]}
    assert g["strided"] == {"size": [1, 3, 7, 15, 31], "jump": [1, 2, 4, 8, 16]}
    assert g["pooled"]["size"][:3] == [1, 4, 10] and g["pooled"]["jump"][:3] == [1, 2, 4]
