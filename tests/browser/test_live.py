"""The live app in a real browser: share links, training, stopping, closing."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from engine import Experiment, load_experiment
from engine.presets import (
    SHARE_PREFIX,
    decode_share,
    encode_share,
    load_preset,
)
from tests.browser.conftest import ARTIFACTS
from tests.browser.helpers import (
    DIVERGE_BY_DESIGN,
    POINTS_JS,
    STEP_JS,
    button,
    choose,
    poll,
    wait_ready,
)
from tests.preset_families import one_per_family
from viz.network import MAX_DRAWN

ROOT = Path(__file__).resolve().parents[2]


def share_of(url: str) -> Experiment:
    """The experiment a page's address holds (links carry only what differs from the
    defaults, so they are compared as experiments)."""
    return load_experiment(decode_share(parse_qs(urlparse(url).query)["s"][0]))


# It reads the server's CPU share (busy while training, idle once the tab closes): the
# other worker's tests would blur it, so they wait.
@pytest.mark.alone
def test_share_link_trains_live_stops_and_closing_the_tab_ends_the_trainer(
        app_server, browser) -> None:  # noqa: ANN001
    # Long enough to still be training when the test pauses it.
    exp = load_preset("spiral").replace(train={**load_preset("spiral").to_dict()["train"],
                                               "epochs": 5000})
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{app_server.url}/train?s={encode_share(exp)}")
    wait_ready(page)
    assert share_of(page.url) == exp  # the link restored the very experiment

    button(page, "Train").click()
    first = poll(lambda: page.evaluate(POINTS_JS), lambda n: n > 0, timeout=20)
    assert first > 0, "no loss point appeared"
    later = poll(lambda: page.evaluate(POINTS_JS), lambda n: n > first, timeout=20)
    assert later > first, "the loss chart did not gain points while training"

    button(page, "Pause").click()
    time.sleep(1.5)
    a = page.evaluate(STEP_JS)
    time.sleep(1.5)
    assert a > 0 and page.evaluate(STEP_JS) == a, "steps kept growing after Pause"

    button(page, "Resume").click()
    poll(lambda: page.evaluate(STEP_JS), lambda s: s > a, timeout=20)
    button(page, "Stop").click()
    time.sleep(1.5)
    b = page.evaluate(STEP_JS)
    time.sleep(1.5)
    assert page.evaluate(STEP_JS) == b, "steps kept growing after Stop"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "train.png"), full_page=True)

    # Train again, then close the tab: the session ends and takes its trainer with it.
    button(page, "Train").click()
    poll(lambda: page.evaluate(STEP_JS), lambda s: s > b, timeout=20)
    busy = _cpu_share(app_server)
    page.close()
    idle = poll(lambda: _cpu_share(app_server), lambda share: share < 0.15, timeout=30,
                every=0.5)
    assert busy > 0.3, f"the trainer did not look busy ({busy:.0%} of a core)"
    assert idle < 0.15, f"the server still computes after the tab closed ({idle:.0%})"


def _cpu_share(server, seconds: float = 1.0) -> float:  # noqa: ANN001
    a = server.cpu_seconds()
    time.sleep(seconds)
    return (server.cpu_seconds() - a) / seconds


def test_a_link_copied_from_one_browser_opens_the_same_experiment_in_another(
        app_server, browser) -> None:  # noqa: ANN001
    first = browser.new_context()
    page = first.new_page()
    page.goto(f"{app_server.url}/?preset=xor_hidden")
    wait_ready(page)
    page.wait_for_function(f"() => location.search.includes('s={SHARE_PREFIX}')")
    link = page.url
    first.close()

    other = browser.new_context()  # no shared cookies or storage: another browser
    page = other.new_page()
    page.goto(link)
    wait_ready(page)
    assert share_of(page.url) == load_preset("xor_hidden")
    assert page.locator("section[data-testid='stSidebar']").get_by_text(
        "XOR with one hidden layer").count() > 0
    other.close()


def test_a_damaged_link_is_explained_and_falls_back(app_server, browser) -> None:  # noqa: ANN001
    page = browser.new_page()
    page.goto(f"{app_server.url}/train?s=np1.not-a-real-link")
    wait_ready(page)
    assert page.get_by_text("the share link is damaged or incomplete").count() > 0
    # The address is rewritten by the page's run; a loaded browser applies it a little later.
    page.wait_for_url(lambda url: "s=np" in url and "not-a-real-link" not in url,
                      timeout=30_000)
    assert share_of(page.url) == load_preset("spiral")
    page.close()


# One preset of each family in the browser; tests/test_app.py trains the others' pages.
@pytest.mark.parametrize("preset", one_per_family())
def test_every_preset_opens_trains_and_stops(app_server, browser, preset: str) -> None:  # noqa: ANN001
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    try:
        page.goto(f"{app_server.url}/train?preset={preset}")
        wait_ready(page)
        button(page, "Train").click()
        steps = poll(lambda: page.evaluate(STEP_JS), lambda s: s > 0, timeout=30)
        assert steps > 0, f"{preset} did not start"
        restart = button(page, "Restart with the new settings")
        stop = button(page, "Stop")
        if preset in DIVERGE_BY_DESIGN:
            # A lesson that diverges by design offers the restart, and no Stop, once its
            # loss has run away (a few steps in; the page may show the run going first).
            assert poll(lambda: restart.count() and not stop.count(), bool, timeout=20)
        else:
            poll(lambda: restart.count() + stop.count(), bool, timeout=10)
            assert not restart.count(), f"{preset} diverged"
            stop.click()
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")
        assert page.get_by_text("Traceback").count() == 0
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        page.close()


def test_playground_trains_and_is_photographed_for_the_readme(app_server, browser) -> None:  # noqa: ANN001
    page = browser.new_page(viewport={"width": 1500, "height": 1150})
    try:
        page.goto(f"{app_server.url}/?preset=spiral")
        wait_ready(page)
        choose(page, "Speed", "full speed")  # the Playground starts slow, to be watched
        wait_ready(page)
        button(page, "Train").click()
        # The preset's 150 epochs take a few seconds: photograph the trained network.
        poll(lambda: page.evaluate(STEP_JS), lambda s: s >= 3750, timeout=60)
        # Held still, the network drawing names each drawn neuron under the pointer: 2
        # inputs, two hidden layers of 32 (MAX_DRAWN of each drawn) and the two classes.
        drawn = 2 + 2 * MAX_DRAWN + 2
        neurons = poll(lambda: page.locator(".st-key-pg-network svg rect").count(),
                       lambda n: n >= drawn, timeout=20)
        assert neurons == drawn, neurons
        time.sleep(1.5)
        wait_ready(page)
        (ROOT / "docs").mkdir(exist_ok=True)
        page.screenshot(path=str(ROOT / "docs" / "playground.png"))
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        page.close()


@pytest.mark.parametrize("path", ["", "build", "train", "inside", "optimizers", "backprop",
                                  "activations"])
def test_every_page_draws_in_the_browser(app_server, browser, path: str) -> None:  # noqa: ANN001
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{app_server.url}/{path}?preset=vanishing_sigmoid")
        wait_ready(page)
        page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.get_by_text("Traceback").count() == 0
    finally:
        page.close()
