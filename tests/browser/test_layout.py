"""Layouts for a projector: at 1024×768 and 1280×720, with the sidebar open, every page
shows its buttons, labels, values and metrics whole, and the Playground's output map fits
in the window without scrolling."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.browser.helpers import CUT_JS, button, chart, poll, status, training, wait_ready
from ui.pages import PAGES

SIZES = [(1024, 768), (1280, 720)]
PATHS = ["" if i == 0 else p.path for i, p in enumerate(PAGES)]
# The vision and sequence pages again with a model they show: with the default experiment
# they only say why their views do not apply.
PATHS += [f"{p.path}?preset=cnn_lenet" for p in PAGES if p.section == "Vision"]
PATHS += [f"{p.path}?preset=seq_reverse_transformer" for p in PAGES if p.section == "Sequences"]


def settle(page: Any) -> None:  # noqa: ANN401
    """Until the page is drawn in its own fonts (a text measured in a fallback font is
    measured wrong) and no rerun is in flight."""
    wait_ready(page)
    page.evaluate("() => document.fonts.ready.then(() => true)")
    time.sleep(0.8)


def sidebar_open(page: Any) -> bool:  # noqa: ANN401
    box = page.locator('[data-testid="stSidebar"]').first.bounding_box()
    return bool(box) and box["width"] > 150 and box["x"] > -10


def cut_texts(page: Any) -> list[str]:  # noqa: ANN401
    """The texts cut now and still cut a moment later (a chart that is drawing can shift
    the layout for a frame; a cut a person would see stays)."""
    first = page.evaluate(CUT_JS)
    if not first:
        return []
    time.sleep(1.0)
    again = {shape(c) for c in page.evaluate(CUT_JS)}
    return sorted(c for c in first if shape(c) in again)


def shape(cut: str) -> str:
    """A cut text without its numbers, so a live counter cut twice counts as one cut."""
    return re.sub(r"[\d.,]+", "#", cut)


def in_window(page: Any, key: str) -> tuple[bool, dict | None]:  # noqa: ANN401
    page.evaluate("() => window.scrollTo(0, 0)")
    box = chart(page, key).bounding_box() if chart(page, key).count() else None
    size = page.viewport_size
    inside = bool(box) and box["height"] > 50 and box["y"] >= 0 and box["x"] >= 0 and (
        box["y"] + box["height"] <= size["height"] + 1) and (
        box["x"] + box["width"] <= size["width"] + 1)
    return inside, box


# The size of a keyed box (where a lesson's frame is drawn) and of the picture inside it.
FRAME_JS = """key => {
  const box = document.querySelector(`.st-key-${key}`);
  const img = box.querySelector('img');
  const size = e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; };
  return {frame: size(box), picture: size(img), outline: getComputedStyle(box).outlineStyle};
}"""


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("path", PATHS, ids=lambda p: p or "playground")
def test_no_text_is_cut(app_server, browser, path: str, size: tuple[int, int]) -> None:  # noqa: ANN001
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    try:
        page.goto(f"{app_server.url}/{path}")
        settle(page)
        assert sidebar_open(page), "the sidebar is not open at this size"
        errors = page.locator('[data-testid="stException"]').all_inner_texts()
        assert not errors, f"/{path} shows an error: {errors[0][:300]}"
        cut = cut_texts(page)
        assert not cut, f"/{path} at {size[0]}×{size[1]}: {len(cut)} cut texts: {cut}"
        if path == "":
            inside, box = in_window(page, "pg-output")
            assert inside, (f"the output map is not in the {size[0]}×{size[1]} window without "
                            f"scrolling: its box is {box}")
    finally:
        page.close()


def test_the_playground_fits_a_projector_while_training(app_server, browser) -> None:  # noqa: ANN001
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    try:
        page.goto(f"{app_server.url}/")
        settle(page)
        button(page, "Train").click()
        assert poll(lambda: training(page), bool, timeout=20), (
            f"the page never said it was training; it showed: {status(page)}")
        time.sleep(1.5)  # a few redraws in
        assert training(page), f"the run ended too soon to look at: {status(page)}"
        inside, box = in_window(page, "pg-output")
        assert inside, f"while training, the output map is not in the window: its box is {box}"
        drawing = chart(page, "pg-network")
        assert drawing.count() and drawing.is_visible(), "the network drawing is not on screen"
        framed = page.evaluate(FRAME_JS, "pg-output")
        assert framed["outline"] != "none", "the lesson's first step does not frame the map"
        assert abs(framed["frame"][0] - framed["picture"][0]) <= 2 and abs(
            framed["frame"][1] - framed["picture"][1]) <= 2, (
            f"the lesson's frame (width, height) {framed['frame']} does not fit the map "
            f"{framed['picture']}")
        cut = cut_texts(page)
        assert not cut, f"the Playground while training at 1024×768: {len(cut)} cut: {cut}"
    finally:
        stop = button(page, "Stop")
        if stop.count() and stop.is_enabled():
            stop.click()
        page.close()


CUT_PAGE = """<style>body { font: 16px sans-serif; } .box { width: 120px; margin: 8px; }</style>
<div data-testid="stMainBlockContainer">
  <div class="box"><button><p style="overflow: hidden; text-overflow: ellipsis;
    white-space: nowrap">A long button label</p></button></div>
  <div class="box"><input role="combobox" style="width: 60px" value="cross entropy"></div>
  <div class="box" style="overflow: hidden; white-space: nowrap">
    <span data-baseweb="tag">SGD</span> <span data-baseweb="tag">Momentum</span>
    <span data-baseweb="tag">Nesterov</span></div>
  <div style="width: 40px"><label data-testid="stWidgetLabel"><p
    style="overflow-wrap: anywhere">Momentum</p></label></div>
  <div class="box"><button>Fits</button><label>Whole words only</label></div>
  <div class="box"><input role="combobox" style="width: 100px" value="tanh"></div>
  <pre style="width: 60px; overflow: hidden">a long line of code</pre>
</div>"""


def test_the_cut_check_sees_what_a_person_sees(browser) -> None:  # noqa: ANN001
    """The check itself: each kind of cut text is found, and whole texts are not."""
    page = browser.new_page()
    try:
        page.set_content(CUT_PAGE)
        found = " | ".join(page.evaluate(CUT_JS))
        for words in ("A long button label (", "cross entropy (value", "Nesterov (past the edge",
                      "Momentum (word broken"):
            assert words in found, f"{words!r} is cut but the check missed it: {found}"
        for words in ("Fits", "Whole", "tanh", "a long line"):
            assert words not in found, f"{words!r} is whole but the check flags it: {found}"
    finally:
        page.close()
