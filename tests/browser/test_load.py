"""A class at once, in small: eight browser sessions on one fresh server open links, train
together and click Pause, Step and Resume (bench/load.py measures twenty)."""

from __future__ import annotations

import pytest

from bench.load import ANSWER_WITHIN, class_links, percentile, run_class
from tests.browser.conftest import start_server


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.alone
def test_eight_sessions_train_at_once_answer_clicks_and_leave_no_trainer(browser) -> None:  # noqa: ANN001
    # Its own server: trainers that other tests' pages left would blur the count.
    server = start_server()
    try:
        result = run_class(browser, server, class_links(8), window=2.0, clicks=2,
                           click_limit=30.0, give_up=10.0,
                           log=lambda _: None)
    finally:
        server.stop()
    summary = result.table()
    assert result.stuck == 0, f"a session neither trained nor said it was queued\n{summary}"
    assert result.progressed >= min(result.max_trainers, result.sessions), summary
    assert result.trainers_peak > 0, f"no trainer thread was ever seen\n{summary}"
    assert result.trainers_left == 0, f"trainer threads left after closing\n{summary}"
    # A blank tab ("Bad delta path index": a live view's tick that wrote over another's,
    # fixed by giving each its own box) or a dead one ("Cached ForwardMsg MISS") fails here.
    assert not result.errors, "errors on pages:\n" + "\n".join(result.errors) + "\n" + summary
    assert result.latencies, f"no click was made\n{summary}"
    assert not result.unanswered, ("a click went unanswered\n" + summary + "\n"
                                   + "\n".join(result.unanswered_seen))
    # The suite's other worker waits while this runs (marked alone), so the machine is as
    # quiet as a class's server: the 2 s at the 95th percentile holds (bench/load.py
    # --sessions 8 measures 0.9 s; twenty sessions are measured there, not here).
    assert percentile(result.latencies, 0.95) <= ANSWER_WITHIN, (
        f"clicks answered too slowly\n{summary}")
