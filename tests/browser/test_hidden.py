"""A teacher hides controls and hands out the student link; a student opening it in a
second browser context sees the same experiment with exactly those controls hidden, and
no way to show them."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

from engine import load_experiment
from engine.presets import decode_share
from tests.browser.conftest import ARTIFACTS
from tests.browser.helpers import poll, wait_ready

SIDEBAR = '[data-testid="stSidebar"]'
# The control ids (the part after st-key-, less a value a key carries) of every keyed
# element the page hides, by its own computed style.
HIDDEN_JS = """() => [...document.querySelectorAll('[class*="st-key-"]')]
  .filter(e => getComputedStyle(e).display === 'none')
  .flatMap(e => [...e.classList].filter(c => c.startsWith('st-key-')).map(c => c.slice(7)))"""
# The links the share dialog's copy fields hold (each field is a frame of its own).
LINKS_JS = "() => { const f = document.getElementById('link'); return f ? f.value : null; }"


def experiment(url: str) -> Any:  # noqa: ANN401
    return load_experiment(decode_share(parse_qs(urlparse(url).query)["s"][0]))


def dialog_links(page: Any) -> list[str]:  # noqa: ANN401
    found = []
    for frame in page.frames:
        try:
            value = frame.evaluate(LINKS_JS)
        except Exception:  # noqa: BLE001  # a frame gone while looking
            continue
        if value and "?l=" in value:
            found.append(value)
    return found


def test_a_student_link_shows_the_same_experiment_with_exactly_those_controls_hidden(
        app_server, browser) -> None:  # noqa: ANN001
    teacher = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = teacher.new_page()
    page.goto(f"{app_server.url}/?preset=overfitting")
    wait_ready(page)
    sidebar = page.locator(SIDEBAR)
    sidebar.get_by_text("Controls students see").click()
    for label in ("Learning rate", "Undo"):
        box = sidebar.get_by_role("checkbox", name=label, exact=True)
        # The input itself is drawn off screen under its styled box: a pointer click on it
        # fails while the panel still opens, so the click goes to the element itself.
        # A rerun may replace the box under the click: click again until it stays off.
        for _ in range(5):
            wait_ready(page)
            if box.is_checked():
                box.evaluate("e => e.click()")
            if not poll(box.is_checked, bool, timeout=2, every=0.2) and not poll(
                    box.is_checked, bool, timeout=1, every=0.2):
                break
        wait_ready(page)
    assert poll(lambda: parse_qs(urlparse(page.url).query).get("hide"),
                lambda v: v == ["np-undo.pg-lr"], timeout=15) == ["np-undo.pg-lr"]

    sidebar.get_by_role("button", name="Short link and QR code").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("img").first.wait_for(timeout=20_000)
    links = poll(lambda: dialog_links(page), lambda v: len(v) == 2, timeout=20)
    assert len(links) == 2, f"the dialog shows {links}"
    student_link = links[0]  # the first: the student's, the one the QR code holds
    page.screenshot(path=ARTIFACTS / "share-dialog.png")

    student = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        other = student.new_page()
        other.goto(student_link)
        wait_ready(other)
        # The address takes the experiment after the page's first run; a loaded machine
        # (the suite's first minutes) can take a while.
        for p in (other, page):
            assert poll(lambda p=p: "s" in parse_qs(urlparse(p.url).query), bool, timeout=40), (
                f"no experiment in the address: {p.url}")
        assert experiment(other.url) == experiment(page.url)  # the same experiment
        hidden = poll(lambda: set(other.evaluate(HIDDEN_JS)),
                      lambda v: {"np-undo"} <= v, timeout=15)
        # pg-lr-<value>: the learning-rate box's key carries its value.
        assert {h if not h.startswith("pg-lr-") else "pg-lr" for h in hidden} == {
            "np-undo", "pg-lr"}, hidden
        assert other.locator(f"{SIDEBAR} .st-key-np-redo").is_visible()
        assert other.get_by_text("Controls students see").count() == 0
        assert parse_qs(urlparse(other.url).query)["hide"] == ["~np-undo.pg-lr"]
        other.screenshot(path=ARTIFACTS / "student-link.png")
    finally:
        student.close()
        teacher.close()
