"""The Vision page as a person sees it: feature maps that move while a CNN trains, a digit
drawn with the mouse that gets a prediction, and no text cut on a projector or a laptop."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from engine.presets import encode_share, load_preset
from tests.browser.helpers import (
    CUT_JS,
    MAIN,
    button,
    changes_while_training,
    poll,
    wait_ready,
)
from views.vision import LESSON_PRESET

SIZES = [(1024, 768), (1400, 1000)]
TABS = ("Test images", "Feature maps", "Filters", "Saliency")


def long_run() -> str:
    """The lesson preset with an epoch budget long enough to look twice while it trains
    (LeNet goes through its own budget in seconds on a quiet machine)."""
    spec = load_preset(LESSON_PRESET).to_dict()
    spec["train"]["epochs"] = 500
    return f"s={encode_share(spec)}"


def open_vision(browser: Any, url: str, query: str = f"preset={LESSON_PRESET}",  # noqa: ANN401
                width: int = 1400, height: int = 1000) -> Any:  # noqa: ANN401
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{url}/vision?{query}")
    wait_ready(page)
    page.evaluate("() => document.fonts.ready.then(() => true)")
    errors = page.locator('[data-testid="stException"]').all_inner_texts()
    if errors:
        page.close()
        pytest.fail(f"the Vision page shows an error: {errors[0][:400]}")
    return page


def tab(page: Any, name: str) -> None:  # noqa: ANN401
    page.locator(MAIN).get_by_role("tab", name=name, exact=True).first.click()
    time.sleep(0.5)  # the tab's charts lay themselves out


def said(page: Any) -> str:  # noqa: ANN401
    return page.locator(MAIN).inner_text()


def cut_texts(page: Any) -> list[str]:  # noqa: ANN401
    """Cut now and still cut a second later (a chart being drawn shifts the layout)."""
    first = page.evaluate(CUT_JS)
    if not first:
        return []
    time.sleep(1.0)
    again = {re.sub(r"[\d.,]+", "#", c) for c in page.evaluate(CUT_JS)}
    return sorted(c for c in first if re.sub(r"[\d.,]+", "#", c) in again)


def stop(page: Any) -> None:  # noqa: ANN401
    found = button(page, "Stop")
    if found.count() and found.is_enabled():
        found.click()


def test_feature_maps_change_while_a_cnn_trains(app_server, browser) -> None:  # noqa: ANN001
    page = open_vision(browser, app_server.url, long_run())
    try:
        tab(page, "Feature maps")
        changes_while_training(page, "vision-map-conv1", "first convolution's feature maps")
    finally:
        stop(page)
        page.close()


def draw_one(page: Any) -> None:  # noqa: ANN401
    """A '1' with the mouse: a slanted stroke down the middle of the canvas."""
    canvas = page.locator(f"{MAIN} .st-key-vision-canvas canvas").last
    canvas.wait_for(timeout=20_000)
    box = canvas.bounding_box()
    x, y = box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.2
    # As a hand arrives: the canvas's toolbar, see-through until then, moves up out of
    # the way once the pointer is over the canvas.
    page.mouse.move(x, y)
    time.sleep(0.5)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(x - i * box["width"] * 0.005, y + i * box["height"] * 0.035, steps=2)
    page.mouse.up()


def brightest(png: bytes) -> int:
    import io

    from PIL import Image

    return int(Image.open(io.BytesIO(png)).convert("L").getextrema()[1])


def test_a_drawn_digit_gets_a_prediction(app_server, browser) -> None:  # noqa: ANN001
    page = open_vision(browser, app_server.url)
    try:
        page.locator(MAIN).get_by_text("Draw a digit", exact=True).click()
        wait_ready(page)
        draw_one(page)
        found = poll(lambda: re.search(r"Your picture\. The network says (\S+) \(", said(page)),
                     bool, timeout=20, every=0.5)
        assert found, f"no prediction for the drawing; the page says: {said(page)[:600]}"
        # What the network sees is the stroke, light on black, not an empty picture.
        seen = page.locator(f"{MAIN} .st-key-vision-seen img").first.screenshot()
        assert brightest(seen) > 150, "the picture the network sees shows no stroke"
    finally:
        page.close()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_no_text_is_cut_on_any_view(app_server, browser, size: tuple[int, int]) -> None:  # noqa: ANN001
    page = open_vision(browser, app_server.url, width=size[0], height=size[1])
    try:
        button(page, "Step epoch").click()  # every view has something to show
        poll(lambda: "Test image 0" in said(page) and "the last evaluation" in said(page), bool,
             timeout=60, every=0.5)
        wait_ready(page)
        cuts = {}
        for name in TABS:
            tab(page, name)
            cuts[name] = cut_texts(page)
        for source in ("Draw a digit", "Upload a picture"):
            page.locator(MAIN).get_by_text(source, exact=True).click()
            wait_ready(page)
            cuts[source] = cut_texts(page)
        cut = {k: v for k, v in cuts.items() if v}
        assert not cut, f"cut texts on the Vision page at {size[0]}×{size[1]}: {cut}"
    finally:
        page.close()


def test_a_model_without_pictures_says_why(app_server, browser) -> None:  # noqa: ANN001
    page = open_vision(browser, app_server.url, "preset=spiral", width=1024, height=768)
    try:
        assert "are not pictures" in said(page)
        assert page.locator(MAIN).get_by_role("button").filter(has_text="Open ").count()
        assert not cut_texts(page)
    finally:
        page.close()
