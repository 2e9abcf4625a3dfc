"""A run waiting for a slot: the page says so, and starts drawing by itself once it has one.
And a run already on screen slows its refresh when others start watching after it."""

from __future__ import annotations

import statistics
import time
from itertools import pairwise
from typing import Any

import pytest

from bench.load import long_share
from tests.browser.conftest import start_server
from tests.browser.helpers import STEP_JS, button, poll, status, training, wait_ready

QUEUED = "Waiting for a free slot"


def step_gaps(page: Any, seconds: float) -> list[float]:  # noqa: ANN401
    """Seconds between the changes of the step the page shows, looked at for ``seconds``."""
    changes, last = [], page.evaluate(STEP_JS)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        now = page.evaluate(STEP_JS)
        if now != last:
            changes.append(time.monotonic())
            last = now
        time.sleep(0.05)
    return [b - a for a, b in pairwise(changes)]


@pytest.mark.browser
def test_a_queued_run_starts_on_screen_when_another_pauses(browser) -> None:  # noqa: ANN001
    # One run at a time; a refresh of a second, at full pace for one watching session.
    server = start_server({"NP_MAX_TRAINERS": "1", "NP_REFRESH": "1.0",
                           "NP_FULL_PACE_SESSIONS": "1"})
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
        # Two sessions watch a server paced for one: the first page, whose timer was set
        # when it was alone, now refreshes every two seconds instead of every second.
        gaps = step_gaps(ahead, 12.0)
        assert len(gaps) >= 2 and statistics.median(gaps) > 1.6, gaps
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
