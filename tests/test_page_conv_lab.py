"""The convolution lab page through Streamlit's AppTest: it runs, reacts to every control,
keeps the last good kernel when a typed one is bad, and shows what the engine computes."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from engine.lab.convolution import (
    KERNELS,
    cell_arithmetic,
    conv2d,
    conv_cell,
    num,
    pointwise,
    pool_cell,
    small_input,
)
from engine.lab.pictures import photo
from tests.apptest import ROOT

PAGE = str(ROOT / "views" / "conv_lab.py")


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.run()
    assert not app.exception, app.exception
    return app


def figure(at: AppTest, title: str) -> dict:
    figs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return next(f for f in figs if f["layout"]["title"]["text"].startswith(title))


def z(at: AppTest, title: str) -> np.ndarray:
    """The last trace's values (grids draw their empty cells first); plotly sends numpy
    arrays as base64 typed arrays."""
    data = figure(at, title)["data"][-1]["z"]
    if isinstance(data, dict):
        flat = np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"])
        shape = [int(n) for n in str(data.get("shape", len(flat))).split(",")]
        return flat.reshape(shape).astype(float)
    return np.array([[np.nan if v is None else v for v in row] for row in data], dtype=float)


def sizes(at: AppTest) -> str:
    text = next(m.value for m in at.markdown if m.value.startswith("out = "))
    return text.split("  \n", 1)[1]


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def test_opens_on_a_photo_with_the_sobel_kernel(at: AppTest) -> None:
    img = photo("china", 96)
    assert img.shape == (64, 96)
    np.testing.assert_allclose(z(at, "Input: 64 × 96"), img)
    np.testing.assert_allclose(z(at, "Output: 62 × 94"), conv2d(img, KERNELS["sobel_x"][1]))
    assert sizes(at) == ("Height: ⌊(64 + 2·0 − 1·(3 − 1) − 1) / 1⌋ + 1 = ⌊61 / 1⌋ + 1 = 62  \n"
                         "Width: ⌊(96 + 2·0 − 1·(3 − 1) − 1) / 1⌋ + 1 = ⌊93 / 1⌋ + 1 = 94")
    assert not at.warning and not at.error


def test_kernel_stride_padding_and_dilation_change_the_output(at: AppTest) -> None:
    img = photo("china", 96)
    before = z(at, "Output:")
    at.selectbox(key="cl-kernel-name").set_value("gaussian_5")
    run(at)
    np.testing.assert_allclose(z(at, "Output: 60 × 92"),
                               conv2d(img, KERNELS["gaussian_5"][1]), atol=1e-12)
    assert not np.array_equal(z(at, "Output:"), before)
    assert "a stronger blur" in " ".join(c.value for c in at.caption)

    at.slider(key="cl-stride").set_value(2)
    at.slider(key="cl-padding").set_value(1)
    at.slider(key="cl-dilation").set_value(2)
    run(at)
    want = conv2d(img, KERNELS["gaussian_5"][1], 2, 1, 2)
    assert want.shape == (29, 45)
    np.testing.assert_allclose(z(at, "Output: 29 × 45"), want, atol=1e-12)
    assert sizes(at).startswith("Height: ⌊(64 + 2·1 − 2·(5 − 1) − 1) / 2⌋ + 1 = ⌊57 / 2⌋ + 1 "
                                "= 29")
    assert sizes(at).endswith("= 45")
    # The small input sees the same settings: a 5 x 5 kernel dilated by 2 spans 9 pixels,
    # more than an 8 x 8 input without padding has.
    at.slider(key="cl-padding").set_value(0)
    at.slider(key="cl-n").set_value(8)
    run(at)
    assert any("does not fit" in w.value and "9 x 9" in w.value for w in at.warning)


def test_a_bad_typed_kernel_is_explained_and_the_previous_one_kept(at: AppTest) -> None:
    img = photo("china", 96)
    at.selectbox(key="cl-kernel-name").set_value("laplacian")
    run(at)
    at.selectbox(key="cl-kernel-name").set_value("custom")
    run(at)
    box = at.text_area(key="cl-kernel-text")
    assert box.value == "0 1 0\n1 -4 1\n0 1 0"  # typing starts from the kernel in use
    laplace = conv2d(img, KERNELS["laplacian"][1])
    np.testing.assert_allclose(z(at, "Output:"), laplace)

    box.input("1 2 3\n4 5")
    run(at)
    (error,) = at.error
    assert "same number of values" in error.value and "previous kernel is kept" in error.value
    np.testing.assert_allclose(z(at, "Output:"), laplace)
    np.testing.assert_allclose(z(at, "Kernel 3 × 3"), KERNELS["laplacian"][1])

    at.text_area(key="cl-kernel-text").input("1 one")
    run(at)
    assert "'one' is not a number" in at.error[0].value
    np.testing.assert_allclose(z(at, "Output:"), laplace)

    at.text_area(key="cl-kernel-text").input("1/2 0\n0 -1/2")
    run(at)
    assert not at.error
    typed = np.array([[0.5, 0], [0, -0.5]])
    np.testing.assert_allclose(z(at, "Kernel 2 × 2"), typed)
    np.testing.assert_allclose(z(at, "Output: 63 × 95"), conv2d(img, typed))


def test_the_window_steps_through_the_output_cells(at: AppTest) -> None:
    x = small_input("random", 7)
    sobel = KERNELS["sobel_x"][1]
    out = conv2d(x, sobel)
    assert at.info[0].value == ("Output row 1, column 1: "
                                + cell_arithmetic(conv_cell(x, sobel, 0, 0)))
    at.button(key="cl-conv-next").click()
    run(at)
    at.button(key="cl-conv-next").click()
    run(at)
    cell = conv_cell(x, sobel, 0, 2)
    assert at.info[0].value == "Output row 1, column 3: " + cell_arithmetic(cell)
    assert at.info[0].value.endswith(f"= {out[0, 2]:.0f}".replace("-", "−"))
    shown = z(at, "Output 5 × 5")
    np.testing.assert_array_equal(shown[0, :3], out[0, :3])  # filled so far
    assert np.isnan(shown[0, 3:]).all() and np.isnan(shown[1:]).all()

    at.slider(key="cl-conv-cell").set_value(25)
    run(at)
    assert at.info[0].value.startswith("Output row 5, column 5: ")
    at.slider(key="cl-stride").set_value(3)  # 3 x 3 cells now: the position follows
    run(at)
    assert at.slider(key="cl-conv-cell").value == 4
    assert at.info[0].value == ("Output row 2, column 2: "
                                + cell_arithmetic(conv_cell(x, sobel, 1, 1, 3)))


def test_pooling_max_and_average(at: AppTest) -> None:
    x = small_input("random", 7)
    assert at.info[1].value == ("Output row 1, column 1: "
                                + cell_arithmetic(pool_cell(x, "max", 2, 0, 0), "max"))
    at.radio(key="cl-pool-kind").set_value("avg")
    at.slider(key="cl-pool-k").set_value(3)
    at.slider(key="cl-pool-pad").set_value(1)
    run(at)
    cell = pool_cell(x, "avg", 3, 0, 0, 2, 1)
    assert at.info[1].value == "Output row 1, column 1: " + cell_arithmetic(cell, "avg")
    assert at.info[1].value.startswith("Output row 1, column 1: (0 + 0 + 0 + 0 + ")
    at.slider(key="cl-pool-k").set_value(2)
    at.slider(key="cl-pool-pad").set_value(2)
    run(at)
    assert any("at most half" in w.value for w in at.warning)


def test_parameters_and_the_1x1_convolution(at: AppTest) -> None:
    at.number_input(key="cl-in").set_value(64)
    at.number_input(key="cl-out").set_value(128)
    at.toggle(key="cl-bias").set_value(False)
    run(at)
    assert any(m.value == "in × out × k × k = 64 × 128 × 3 × 3 = 73,728 learned numbers."
               for m in at.markdown)

    at.radio(key="cl-mix-n").set_value(2)
    run(at)
    rgb = photo("china", 96, grey=False)
    mixed = pointwise(rgb, np.array([[0.299, 0.587, 0.114], [1, -1, 0]]))
    np.testing.assert_allclose(z(at, "Output channel 2"), mixed[1])
    at.number_input(key="cl-mix-1-2").set_value(0.5)
    run(at)
    mixed = pointwise(rgb, np.array([[0.299, 0.587, 0.114], [1, -1, 0.5]]))
    np.testing.assert_allclose(z(at, "Output channel 2"), mixed[1])
    cy, cx = rgb.shape[1] // 2, rgb.shape[2] // 2
    assert any(f"Channel 2 at the centre pixel: 1×{num(rgb[0, cy, cx])} + (−1)×" in m.value
               and m.value.endswith(f"= {num(mixed[1, cy, cx])}") for m in at.markdown)


@pytest.mark.parametrize("source", ["flower", "digits", "shapes"])
def test_other_pictures(at: AppTest, source: str) -> None:
    at.selectbox(key="cl-source").set_value(source)
    run(at)
    assert figure(at, "Input:") and figure(at, "Output:")
    if source != "flower":
        at.number_input(key="cl-index").set_value(5)
        run(at)
        assert z(at, "Input:").shape == (28, 28)
