"""The Sequences page as a person sees it: attention heatmaps that move while a Transformer
trains, and no text cut on any of its views at a projector's or a laptop's size."""

from __future__ import annotations

import time
from typing import Any

import pytest

from engine.presets import encode_share, load_preset
from tests.browser.helpers import (
    MAIN,
    button,
    changes_while_training,
    wait_ready,
)
from tests.browser.test_vision import cut_texts, stop, tab
from views.sequences import LESSON_PRESET, VIEWS


def open_sequences(browser: Any, url: str, query: str,  # noqa: ANN401
                   width: int = 1400, height: int = 1000) -> Any:  # noqa: ANN401
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{url}/sequences?{query}")
    wait_ready(page)
    page.evaluate("() => document.fonts.ready.then(() => true)")
    errors = page.locator('[data-testid="stException"]').all_inner_texts()
    if errors:
        page.close()
        pytest.fail(f"the Sequences page shows an error: {errors[0][:400]}")
    return page


def test_attention_heatmaps_change_while_a_transformer_trains(app_server, browser) -> None:  # noqa: ANN001
    spec = load_preset(LESSON_PRESET).to_dict()
    spec["train"]["epochs"] = 500  # long enough to look twice while it trains
    page = open_sequences(browser, app_server.url, f"s={encode_share(spec)}")
    try:
        tab(page, "Attention")
        changes_while_training(page, "seq-attention-enc-0", "first head's attention")
    finally:
        stop(page)
        page.close()


@pytest.mark.parametrize("size", [(1024, 768), (1400, 1000)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_no_text_is_cut_on_any_sequence_view(app_server, browser, size) -> None:  # noqa: ANN001
    page = open_sequences(browser, app_server.url, f"preset={LESSON_PRESET}", *size)
    try:
        button(page, "Step epoch").click()  # every view has something to show
        time.sleep(2.0)
        for view in VIEWS:
            tab(page, view)
            wait_ready(page)
            errors = page.locator('[data-testid="stException"]').all_inner_texts()
            assert not errors, f"{view}: {errors[0][:300]}"
            cut = cut_texts(page)
            assert not cut, f"{view} at {size[0]}×{size[1]}: cut texts {cut}"
        assert "Attention" in page.locator(MAIN).inner_text()
    finally:
        page.close()
