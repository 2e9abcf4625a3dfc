"""The run buttons redraw the part of the page they change (ui/run_area.py), in a browser."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import pytest

from bench.load import long_share
from tests.browser.helpers import STEP_JS, button, poll, wait_ready

# Counts the changes to the page's parts from now on: the sidebar's and the main area's
# elements, and the app's "running" state (set at each run's start and end).
WATCH_JS = """() => {
  const w = window.__npChanges = {sidebar: 0, main: 0, runs: 0};
  const count = (where, key) => new MutationObserver(ms => { w[key] += ms.length; })
    .observe(where, {subtree: true, childList: true, attributes: true, characterData: true});
  count(document.querySelector('[data-testid="stSidebar"]'), 'sidebar');
  count(document.querySelector('[data-testid="stMain"]'), 'main');
  new MutationObserver(() => { w.runs += 1; }).observe(
    document.querySelector('[data-testid="stApp"]'),
    {attributes: true, attributeFilter: ['data-test-script-state']});
}"""
CHANGES_JS = "() => window.__npChanges"


def paused_page(browser, app_server, path: str):  # noqa: ANN001, ANN201
    """A page of a long run that trained a moment, then was paused."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{app_server.url}/{path}?s={long_share('spiral')}")
    wait_ready(page)
    button(page, "Train").click()
    poll(lambda: page.evaluate(STEP_JS), lambda s: s > 0, timeout=30)
    button(page, "Pause").click()
    button(page, "Resume").wait_for(timeout=15_000)
    time.sleep(1.0)  # the last tick of the views, if one was under way
    return page


@pytest.mark.parametrize("path", ["", "train"], ids=["Playground", "Train"])
def test_a_paused_page_holds_still_and_a_step_redraws_only_the_run(
        app_server, browser, path) -> None:  # noqa: ANN001
    page = paused_page(browser, app_server, path)
    page.evaluate(WATCH_JS)
    time.sleep(2.0)
    # Nothing runs on a paused page: its live views' timers stopped with the run, even
    # though the run buttons drew the views again without the whole page.
    assert page.evaluate(CHANGES_JS)["runs"] == 0, "a paused page kept running its views"

    before = page.evaluate(STEP_JS)
    button(page, "Step").click()
    assert poll(lambda: page.evaluate(STEP_JS), lambda s: s > before, timeout=15) > before
    time.sleep(1.0)
    seen = page.evaluate(CHANGES_JS)
    assert seen["main"] > 0 and seen["runs"] > 0
    assert seen["sidebar"] == 0, "a Step drew the sidebar again"
    page.close()


def test_new_weights_draws_the_whole_page_so_the_address_follows(
        app_server, browser) -> None:  # noqa: ANN001
    page = paused_page(browser, app_server, "")
    # location.href: Playwright's page.url misses an address the page rewrites in place.
    seed = lambda: parse_qs(urlparse(page.evaluate("location.href")).query)["s"][0]  # noqa: E731
    link = seed()
    page.evaluate(WATCH_JS)
    button(page, "New weights").click()
    assert poll(seed, lambda s: s != link, timeout=15) != link, "the address kept the old seed"
    # The sidebar's share link holds the new experiment too.
    assert poll(lambda: page.evaluate(CHANGES_JS)["sidebar"], lambda n: n > 0, timeout=5) > 0
    page.close()
