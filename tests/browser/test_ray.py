"""With NP_RAY_ADDRESS set, the app trains on a Ray cluster and the page is the same: an
app server of its own, pointed at a local Ray instance this module starts, and the clicks
and looks of the default tests (Train, the pictures move, Pause, Resume, Stop)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from engine.remote import NAMESPACE
from tests.browser.conftest import AppServer, start_server
from tests.browser.helpers import button, choose, poll, status, training, wait_ready
from tests.browser.test_seen import open_page, watch

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.xdist_group("ray")]


@pytest.fixture(scope="module")
def ray_server() -> Iterator[AppServer]:
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, namespace=NAMESPACE)
    server = None
    try:
        address = ray.get_runtime_context().gcs_address
        server = start_server({"NP_RAY_ADDRESS": address})
        yield server
    finally:
        if server is not None:
            server.stop()
        ray.shutdown()


def said(page, pattern: str) -> int | None:  # noqa: ANN001
    """The step number in the status line matching ``pattern`` ("Paused at step 12…")."""
    for line in status(page):
        found = re.search(pattern, line)
        if found:
            return int(found.group(1))
    return None


def test_train_pause_resume_stop_on_a_ray_cluster(ray_server: AppServer, browser) -> None:  # noqa: ANN001
    page = open_page(browser, f"{ray_server.url}/?preset=spiral")
    try:
        choose(page, "Train for", "1000 epochs")
        wait_ready(page)
        button(page, "Train").click()
        # The first run waits for Ray to start its actor (a worker process): queued, then on.
        assert poll(lambda: training(page), bool, timeout=90, every=0.3), status(page)
        watch(page)

        button(page, "Pause").click()
        paused = poll(lambda: said(page, r"Paused at step (\d+)"), bool, timeout=20)
        assert paused, f"the page never said Paused; it showed {status(page)}"
        time.sleep(1.5)
        assert said(page, r"Paused at step (\d+)") == paused, "steps went on after Pause"

        button(page, "Resume").click()
        assert poll(lambda: training(page), bool, timeout=20), status(page)
        time.sleep(1.0)  # a few steps past the pause
        button(page, "Stop").click()
        stopped = poll(lambda: said(page, r"Stopped at step (\d+)"), bool, timeout=20)
        assert stopped and stopped > paused, f"after Resume and Stop: {status(page)}"
        time.sleep(1.5)
        assert said(page, r"Stopped at step (\d+)") == stopped, "steps went on after Stop"
        errors = page.locator('[data-testid="stException"]').all_inner_texts()
        assert not errors, errors[0][:400]
    finally:
        stop = button(page, "Stop")
        if stop.count() and stop.is_enabled():
            stop.click()
        page.close()
