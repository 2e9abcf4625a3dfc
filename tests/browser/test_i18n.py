"""Three pages opened with ``?lang=zh`` at 1024×768 read in Chinese, draw Chinese in their
charts with a font that has the glyphs, and cut no text; photographed for a person to see
(artifacts/i18n-*.png)."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from engine.i18n import t, using
from tests.browser.conftest import ARTIFACTS
from tests.browser.helpers import CUT_JS, MAIN, wait_ready

PAGES = {  # name: (path, words the page must show, in English before translation)
    "playground": ("", ("Train", "Learning rate", "Show test data")),
    "inside": ("inside", ("Inside training", "Gradient flow", "Train")),
    "sequences": ("sequences?preset=seq_reverse_transformer",
                  ("Sequences", "Attention", "Train")),
}
# Four or more English words in a row: a sentence nobody translated. Names stay English
# (ReLU, Adam, a node's id), but they never come four in a row.
SENTENCE = re.compile(r"\b[A-Za-z][a-z]+(?:[ ,;:'’-]+[A-Za-z][a-z]+){3,}")
CJK = re.compile(r"[\u4e00-\u9fff]")

TEXTS_JS = """() => {
  const scope = document.querySelectorAll(
    '[data-testid="stMain"], [data-testid="stSidebar"]');
  return [...scope].map(e => e.innerText).join('\\n');
}"""
# Every text plotly wrote in the main area's charts (titles, axes, legends, annotations).
CHART_TEXT_JS = """() => [...document.querySelectorAll(
    '[data-testid="stMain"] .js-plotly-plot text')].map(e => e.textContent).join('\\n')"""
FONT_JS = "() => document.fonts.check('16px \"Noto Sans CJK SC\"', '训练')"


def settle(page: Any) -> None:  # noqa: ANN401
    wait_ready(page)
    page.evaluate("() => document.fonts.ready.then(() => true)")
    time.sleep(1.0)


@pytest.mark.slow
@pytest.mark.browser
def test_three_pages_read_in_chinese_and_nothing_is_cut(app_server, browser) -> None:  # noqa: ANN001
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    ARTIFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    try:
        # The switch itself: English by default, one click on 中文 and the address keeps it.
        page.goto(app_server.url)
        settle(page)
        assert "lang=" not in page.url
        page.locator('[data-testid="stSidebar"] .st-key-np-lang-switch').get_by_role(
            "radio", name="中文").click()
        page.wait_for_url(re.compile(r"lang=zh"), timeout=20_000)
        settle(page)
        with using("zh"):
            train = t("Train")
        assert page.locator(MAIN).get_by_role("button", name=train, exact=True).count()
        for name, (path, words) in PAGES.items():
            sep = "&" if "?" in path else "?"
            page.goto(f"{app_server.url}/{path}{sep}lang=zh")
            settle(page)
            page.screenshot(path=str(ARTIFACTS / f"i18n-{name}.png"), full_page=True)
            errors = page.locator('[data-testid="stException"]').all_inner_texts()
            assert not errors, f"/{path} shows an error: {errors[0][:300]}"
            text = page.evaluate(TEXTS_JS)
            with using("zh"):
                wanted = [t(w) for w in words]
            problems += [f"{name}: {w!r} is not shown" for w in wanted if w not in text]
            problems += [f"{name}: English left: {s!r}" for s in SENTENCE.findall(text)]
            charts = page.evaluate(CHART_TEXT_JS)
            if charts and not CJK.search(charts):
                problems.append(f"{name}: no Chinese in the charts: {charts[:200]!r}")
            cut = page.evaluate(CUT_JS)
            problems += [f"{name}: cut: {c}" for c in cut]
            assert "lang=zh" in page.url, f"the address lost the language: {page.url}"
        # The glyphs come from a real CJK font, not boxes.
        assert page.evaluate(FONT_JS), "no font with Chinese glyphs is available to the page"
    finally:
        page.close()
    assert not problems, "\n".join(problems)
