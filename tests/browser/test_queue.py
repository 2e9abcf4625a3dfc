"""A run waiting for a slot: the page says so, and starts drawing by itself once it has one."""

from __future__ import annotations

import pytest

from bench.load import long_share
from tests.browser.conftest import start_server
from tests.browser.helpers import STEP_JS, button, poll, status, training, wait_ready

QUEUED = "Waiting for a free slot"


@pytest.mark.browser
def test_a_queued_run_starts_on_screen_when_another_pauses(browser) -> None:  # noqa: ANN001
    server = start_server({"NP_MAX_TRAINERS": "1"})  # one run at a time
    first, second = browser.new_context(), browser.new_context()
    try:
        pages = []
        for ctx in (first, second):
            page = ctx.new_page()
            page.goto(f"{server.url}/train?s={long_share('spiral')}")
            wait_ready(page)
            button(page, "Train").click()
            pages.append(page)
        ahead, behind = pages
        assert poll(lambda: training(ahead), bool, 30), status(ahead)
        said = poll(lambda: status(behind), lambda s: any(QUEUED in x for x in s), 30)
        assert any(QUEUED in x for x in said), said
        step = behind.evaluate(STEP_JS)
        button(ahead, "Pause").click()  # frees the slot
        # No click on the second page: it notices the start and draws the run.
        assert poll(lambda: training(behind), bool, 30), status(behind)
        moved = poll(lambda: behind.evaluate(STEP_JS), lambda s: s > max(step, 0) + 5, 30)
        assert moved > max(step, 0) + 5, f"the step shown stayed at {moved}"
    finally:
        first.close()
        second.close()
        server.stop()
