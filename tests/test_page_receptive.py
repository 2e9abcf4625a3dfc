"""The Receptive-fields page through Streamlit's AppTest."""

from __future__ import annotations

import time

import numpy as np

from tests.apptest import ROOT, open_app, session

PAGE = str(ROOT / "views" / "receptive.py")


def captions(at) -> str:  # noqa: ANN001
    return "\n".join(c.value for c in at.caption)


def test_table_unit_box_and_fields_on_lenet() -> None:
    at = open_app("cnn_lenet", script=PAGE)
    trainer = session().get_trainer()
    # The table: every node, in words.
    table = at.table[0].value
    assert list(table["Node"]) == [n.id for n in trainer.plan.nodes]
    row = table.set_index("Node").loc["pool2"]
    # conv1 5x5: 5, pool1: 6 (units 2 apart), conv2 5x5: 6 + 4*2 = 14, pool2: 14 + 2 = 16.
    assert row["One unit sees"] == "16 × 16 pixels"
    assert row["Neighbouring units are apart by (pixels)"] == "4"
    assert "no longer an image" in table.set_index("Node").loc["fc1", "One unit sees"]
    # The default unit: the centre of the last convolution (taken before its ReLU, it
    # responds to any image). conv2's field: 14 pixels, units 2 apart, the first at -2.
    assert trainer.focus["unit"] == ("conv2", 0, 5, 5)
    r = trainer.snapshot().probes["receptive_field"]
    assert r["box"] == [8, 8, 22, 22] and r["now"].any()
    assert "rows 8 to 21, columns 8 to 21" in captions(at)
    assert at.selectbox(key="rf-node").value == "conv2"
    assert not at.warning  # it does respond

    at.selectbox(key="rf-node").set_value("conv1").run()
    assert not at.exception, at.exception
    assert trainer.focus["unit"] == ("conv1", 0, 14, 14)
    assert at.slider(key="rf-row").value == 14
    assert "rows 12 to 16, columns 12 to 16" in captions(at)
    at.slider(key="rf-col").set_value(0).run()
    assert trainer.focus["unit"] == ("conv1", 0, 14, 0)
    assert "columns 0 to 2" in captions(at)  # clipped at the border
    at.number_input(key="rf-index").set_value(5).run()
    assert trainer.focus["index"] == 5
    r = trainer.snapshot().probes["receptive_field"]
    assert r["index"] == 5 and r["unit"] == ["conv1", 0, 14, 0]
    start = r["now"].copy()

    at.button(key="receptive-train").click().run()
    end = time.monotonic() + 60
    # Recorded every 25 steps, at most twice a second: wait for a recording after the start.
    while ((trainer.snapshot().probes["receptive_field"] or {}).get("step", 0) == 0
           and time.monotonic() < end):
        time.sleep(0.1)
    trainer.pause()
    trainer.wait()
    at.run()  # AppTest does not fire run_every timers: redraw by hand
    assert not at.exception, at.exception
    r = trainer.snapshot().probes["receptive_field"]
    assert r["step"] > 0 and not np.array_equal(r["now"], start)
    np.testing.assert_array_equal(r["init"], start)
    titles = _titles(at)
    assert f"Now (step {r['step']})" in titles and "Field size per node" in titles


def _titles(at) -> list[str]:  # noqa: ANN001
    import json

    out = []
    for el in at.get("plotly_chart"):
        spec = json.loads(el.proto.spec)
        layout = spec["layout"]
        out.append(layout.get("title", {}).get("text", ""))
        out += [a.get("text", "") for a in layout.get("annotations", [])]
    return out


def test_a_model_without_convolutions_says_why_and_offers_a_preset() -> None:
    at = open_app("spiral", script=PAGE)
    assert any("its input is not an image" in i.value for i in at.info)
    assert "How the field grows with depth, dilation and stride" in _titles(at)
    at.button(key="rf-open-preset").click().run()
    assert not at.exception, at.exception
    assert session().exp.meta.name.startswith("LeNet")
    assert at.table and at.selectbox(key="rf-node")
