"""The Vision page through Streamlit's AppTest, on a real LeNet trained on the digits."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from tests.apptest import session

PAGE = str(Path(__file__).resolve().parent.parent / "views" / "vision.py")


def open_page(preset: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["preset"] = preset
    at.run()
    assert not at.exception, at.exception
    return at


def charts(at: AppTest) -> set[str]:
    """The keys of the charts on the page (AppTest has no plotly accessor)."""
    found = set()
    for el in at.get("plotly_chart"):
        key = getattr(el.proto, "id", "") or ""
        found.add(key)
    return found


def each_tab(at: AppTest) -> tuple[set[str], str]:
    """Open every tab in turn (only the open one is drawn): the chart keys and the words
    seen over all of them."""
    from views.vision import VIEWS

    keys, words = set(), []
    for view in VIEWS:
        at.session_state["vision-tab"] = view
        at.run()
        assert not at.exception, (view, at.exception)
        keys |= charts(at)
        words.append(texts(at))
    return keys, " ".join(words)


def trained(epochs: int = 2) -> AppTest:
    from views.vision import LESSON_PRESET

    at = open_page(LESSON_PRESET)
    session().get_trainer().run(epochs=epochs)
    at.run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    return " ".join(e.value for e in [*at.markdown, *at.caption, *at.info, *at.error,
                                      *at.success])


def test_a_model_without_pictures_says_why_and_opens_the_lesson_preset() -> None:
    from engine.presets import load_preset
    from views.vision import LESSON_PRESET

    at = open_page("spiral")
    reason = " ".join(i.value for i in at.info)
    assert "are not pictures" in reason and "Spiral" in reason
    assert not at.get("plotly_chart") and not at.tabs
    at.button(key="vision-preset").click().run()
    assert not at.exception, at.exception
    assert session().exp == load_preset(LESSON_PRESET)
    assert not any("are not pictures" in i.value for i in at.info)
    assert len(at.tabs) == 4


def test_pictures_without_convolution_say_why_for_maps_and_filters() -> None:
    from engine.presets import load_preset
    from views.vision import LESSON_PRESET

    at = open_page(LESSON_PRESET)
    spec = load_preset(LESSON_PRESET).to_dict()
    spec["model"]["nodes"] = [{"id": "flat", "type": "flatten", "params": {}},
                              {"id": "out", "type": "linear", "params": {"units": 10}}]
    assert not session().apply(spec)
    _, said = each_tab(at)
    assert "no feature maps to show" in said and "no filters to show" in said
    at.session_state["vision-tab"] = "Filters"
    at.run()
    assert at.button(key="vision-preset-filters")
    at.session_state["vision-tab"] = "Feature maps"
    at.run()
    assert at.button(key="vision-preset-maps")
    # The predictions and the probabilities still apply to a plain classifier of pictures.
    session().get_trainer().run(epochs=1)
    at.run()
    assert not at.exception, at.exception
    assert "The network says" in texts(at)


@pytest.mark.slow
def test_the_trained_lenet_shows_every_view() -> None:
    at = trained()
    trainer = session().get_trainer()
    shown = texts(at)
    assert "Test image 0, a " in shown and "The network says" in shown
    keys = " ".join(each_tab(at)[0])
    for key in ("vision-grid", "vision-confusion", "vision-probs", "vision-map-conv1",
                "vision-map-pool2", "vision-filter-conv1", "vision-filter-conv2",
                "vision-gradient", "vision-gradcam"):
        assert key in keys, (key, keys)
    snap = trainer.snapshot()
    assert snap.probes["saliency"]["gradcam_node"] == "conv2"
    assert snap.probes["predictions"]["confusion"].sum() == len(trainer.x_test)


def test_choosing_another_image_moves_the_focus() -> None:
    from views.vision import LESSON_PRESET

    at = open_page(LESSON_PRESET)
    trainer = session().get_trainer()
    # The untrained network already looks at the first image, before any Train.
    assert trainer.snapshot().probes["feature_maps"]["index"] == 0
    at.number_input(key="vision-index").set_value(7).run()
    assert not at.exception, at.exception
    assert trainer.focus["index"] == 7
    fm = trainer.snapshot().probes["feature_maps"]
    assert fm["index"] == 7 and fm["label"] == int(trainer.y_test[7])
    assert f"Test image 7, a {trainer.data.class_names[fm['label']]}" in texts(at)
    at.selectbox(key="vision-target").set_value(3).run()
    assert trainer.focus["target"] == 3
    assert trainer.snapshot().probes["saliency"]["target"] == 3


@pytest.mark.slow
def test_an_image_from_the_grid_becomes_the_focus() -> None:
    at = trained(1)
    trainer = session().get_trainer()
    pick = int(trainer.snapshot().probes["predictions"]["indices"][5])
    at.selectbox(key="vision-pick").set_value(pick).run()
    assert not at.exception, at.exception
    assert trainer.focus["index"] == pick
    assert at.number_input(key="vision-index").value == pick


def digit_png(light_on_dark: bool = True) -> bytes:
    """A large '1': a vertical bar, as a phone photo of a drawing might be."""
    img = np.zeros((120, 90), np.uint8)
    img[15:105, 38:52] = 255
    if not light_on_dark:
        img = 255 - img
    buf = io.BytesIO()
    Image.fromarray(img).convert("RGB").save(buf, "PNG")
    return buf.getvalue()


def test_an_uploaded_picture_gets_a_prediction() -> None:
    from views.vision import LESSON_PRESET

    at = open_page(LESSON_PRESET)
    trainer = session().get_trainer()
    at.radio(key="vision-source").set_value("upload").run()
    at.file_uploader(key="vision-upload").set_value(("one.png", digit_png(), "image/png")).run()
    assert not at.exception, at.exception
    image = trainer.focus["image"]
    assert image is not None and image.dtype == np.uint8
    assert image.shape == tuple(trainer.data.input_shape)
    assert image[0, :, image.shape[2] // 2].max() > 200  # the bar, light on black
    fm = trainer.snapshot().probes["feature_maps"]
    assert fm["index"] is None and fm["label"] is None
    assert "Your picture. The network says" in texts(at)
    # Back to the test images: the picture no longer replaces them.
    at.radio(key="vision-source").set_value("test").run()
    assert trainer.focus["image"] is None
    assert trainer.snapshot().probes["feature_maps"]["index"] == 0


def test_a_file_that_is_not_a_picture_is_refused_in_words() -> None:
    from views.vision import LESSON_PRESET

    at = open_page(LESSON_PRESET)
    at.radio(key="vision-source").set_value("upload").run()
    at.file_uploader(key="vision-upload").set_value(("x.png", b"not a picture",
                                                      "image/png")).run()
    assert not at.exception, at.exception
    assert any("not a picture that can be read" in e.value for e in at.error)
    assert session().get_trainer().focus["image"] is None


def test_the_views_of_the_chosen_image_follow_a_pause() -> None:
    """Between recordings a paused run would show an earlier step's maps and saliency:
    the probes record once more when the loop pauses."""
    from views.vision import LESSON_PRESET

    at = open_page(LESSON_PRESET)
    trainer = session().get_trainer()
    trainer.step_n(7)  # fewer steps than the probes' cadence
    trainer.wait()
    at.run()
    assert not at.exception, at.exception
    probes = trainer.snapshot().probes
    assert probes["feature_maps"]["step"] == probes["saliency"]["step"] == 7


def test_a_sure_network_reads_100_percent() -> None:
    from views.vision import focus_words

    fm = {"probs": np.array([0.0003, 0.9997]), "index": 4, "label": 1}
    assert focus_words(fm, ["cat", "dog"]) == "Test image 4, a dog. The network says dog (100%)."
    fm = {"probs": np.array([0.905, 0.095]), "index": None, "label": None}
    assert focus_words(fm, ["cat", "dog"]) == "Your picture. The network says cat (90%)."


def test_pictures_become_data_images() -> None:
    from ui.drawing import from_canvas, from_upload, to_data_image

    # A stroke in one corner of an RGBA canvas: fitted to the frame, centred, light on black.
    rgba = np.zeros((196, 196, 4), np.uint8)
    rgba[10:60, 150:160] = 255
    img = from_canvas(rgba, (1, 8, 8))
    assert img.dtype == np.uint8 and img.shape == (1, 8, 8) and img.flags.writeable
    assert img[0, :, 3:5].mean() > 100 and img[0, :, 0].max() == 0  # in the middle only
    assert from_canvas(np.zeros((196, 196, 4), np.uint8), (1, 8, 8)) is None
    # Colour data sets get three channels; a grey picture is repeated into them.
    rgb = to_data_image(Image.new("RGB", (40, 20), (200, 10, 30)), (3, 32, 32))
    assert rgb.shape == (3, 32, 32) and tuple(rgb[:, 5, 5]) == (200, 10, 30)
    # Dark ink on light paper, swapped; transparent parts are black paper.
    swapped = from_upload(digit_png(light_on_dark=False), (1, 8, 8), invert=True)
    assert swapped.max() > 100 and swapped[0, 0, 0] == 0
    buf = io.BytesIO()
    Image.new("RGBA", (30, 30), (255, 255, 255, 0)).save(buf, "PNG")
    assert from_upload(buf.getvalue(), (1, 8, 8)).max() == 0
    with pytest.raises(ValueError, match="not a picture"):
        from_upload(b"GIF89a broken", (1, 8, 8))


@pytest.mark.slow
def test_the_trained_lenet_reads_digits_drawn_with_the_pages_pen() -> None:
    """The whole way from a drawing to a prediction: strokes as wide as the canvas draws
    them, fitted and shrunk as the page does, read by the lesson's LeNet after training."""
    from PIL import ImageDraw

    from engine import Trainer
    from engine.presets import load_preset
    from ui.drawing import CANVAS_PX, PEN_PX, from_canvas
    from views.vision import LESSON_PRESET

    trainer = Trainer(load_preset(LESSON_PRESET), needs=("feature_maps",))
    trainer.run()
    strokes = {0: [("ellipse", [55, 25, 140, 170])], 1: [("line", [(105, 30), (95, 170)])],
               4: [("line", [(110, 30), (50, 120), (150, 120)]), ("line", [(120, 80),
                                                                            (120, 175)])],
               7: [("line", [(50, 35), (145, 35), (85, 170)])]}
    read = {}
    for digit, parts in strokes.items():
        canvas = Image.new("RGBA", (CANVAS_PX, CANVAS_PX))
        pen = ImageDraw.Draw(canvas)
        for kind, xy in parts:
            if kind == "ellipse":
                pen.ellipse(xy, outline="white", width=PEN_PX)
            else:
                pen.line(xy, fill="white", width=PEN_PX, joint="curve")
        image = from_canvas(np.asarray(canvas), tuple(trainer.data.input_shape))
        trainer.set_focus(image=image)
        read[digit] = int(np.argmax(trainer.snapshot().probes["feature_maps"]["probs"]))
    assert read == {d: d for d in strokes}, read


def test_a_smaller_test_split_keeps_the_chosen_number_in_range() -> None:
    from engine.presets import load_preset
    from views.vision import LESSON_PRESET

    at = open_page(LESSON_PRESET)
    at.number_input(key="vision-index").set_value(440).run()
    spec = load_preset(LESSON_PRESET).to_dict()
    spec["data"]["params"]["train_ratio"] = 0.9  # 180 test images
    assert not session().apply(spec)
    at.run()
    assert not at.exception, at.exception
    trainer = session().get_trainer()
    last = len(trainer.x_test) - 1
    assert last < 440 and at.number_input(key="vision-index").value == last
    assert trainer.focus["index"] == last
