"""What a person sees in the browser: pictures on screen while training, pictures that
follow every edit, a diverged run that can be restarted, no verdict before a measurement.

These compare screenshots of the charts, not the figures' data: a chart that has points
but is not on screen, or is on screen but never redrawn, fails here.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from engine.data import DATASETS
from engine.mlp import is_mlp
from engine.presets import list_presets, load_preset
from tests.browser.helpers import (
    DIVERGE_BY_DESIGN,
    MAIN,
    TRAIN_LOSS_JS,
    blank,
    button,
    choose,
    picture,
    pixels_changed,
    poll,
    status,
    train_loss_shown,
    training,
    wait_ready,
    why_not_shown,
)
from ui.session import DEFAULT_PRESET

PICTURES = ("pg-network", "pg-output")  # the Playground's drawing and output map
# A change smaller than this many pixels is invisible to a person (identical renders give 0).
VISIBLE_CHANGE = 20
STALLS_BY_DESIGN = {"vanishing_sigmoid"}
# These presets show a divergence: their run pauses at step 2 by design, so there is no
# "while training" to look at (test_a_diverged_run_restarts_and_then_learns covers it).
DIVERGED = re.compile(r"at step \d+:.*\bloss\b", re.I)


def playground_presets() -> list[str]:
    """The presets the Playground shows: a 2-D data set learned by a plain stack."""
    found = []
    for name in list_presets():
        spec = load_preset(name).to_dict()
        if DATASETS.get(spec["data"]["name"]).two_d and is_mlp(spec):
            found.append(name)
    return found


def open_page(browser: Any, url: str, width: int = 1400, height: int = 1000) -> Any:  # noqa: ANN401
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(url)
    wait_ready(page)
    errors = page.locator('[data-testid="stException"]').all_inner_texts()
    if errors:
        page.close()
        pytest.fail(f"{url} shows an error: {errors[0][:400]}")
    return page


def diverged(said: list[str]) -> bool:
    """The status explains a divergence ("Paused at step 2: the loss rose to …")."""
    return any(DIVERGED.search(x) for x in said)


def stop_training(page: Any) -> None:  # noqa: ANN401
    """Leave the server idle for the next test (the page closes after this)."""
    stop = button(page, "Stop")
    if stop.count() and stop.is_enabled():
        stop.click()


def watch(page: Any, seconds: float = 15.0, every: float = 0.6,  # noqa: ANN401
          moving: tuple[str, ...] = PICTURES) -> None:
    """Photograph the drawing and the map while the page says "Training…", until each has
    changed from the first photograph or ``seconds`` have passed; fail when a picture is
    missing or blank while training, or never changes."""
    clicked = time.monotonic()
    if not poll(lambda: training(page), bool, timeout=20):
        pytest.fail(f"the page never said it was training after Train; it showed: {status(page)}")
    first: dict[str, bytes] = {}
    changed = dict.fromkeys(PICTURES, 0)
    looks = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end and min(changed[k] for k in moving) < VISIBLE_CHANGE:
        shots = {key: picture(page, key) for key in PICTURES}
        if not training(page):  # the shots may postdate the run: do not count them
            break
        # A shot can fail without the picture leaving the screen (a loaded browser takes
        # longer than the shot's time limit); a picture gone for a person is gone twice.
        for key in [k for k, png in shots.items() if png is None or blank(png)]:
            time.sleep(0.2)
            shots[key] = picture(page, key)
        missing = [k for k, png in shots.items() if png is None or blank(png)]
        assert not missing, (f"{missing} not on screen while the page said {status(page)} "
                             f"({time.monotonic() - clicked:.1f} s after Train); "
                             + "; ".join(f"{k}: {why_not_shown(page, k)}" for k in missing))
        looks += 1
        if not first:
            first = shots
        else:
            for key, png in shots.items():
                changed[key] = max(changed[key], pixels_changed(first[key], png))
        time.sleep(every)
    assert looks >= 2, (f"the run ended {time.monotonic() - clicked:.1f} s after Train, before "
                        f"a second look at its pictures (the Playground should run until "
                        f"paused, or slowly enough to watch); the page showed: {status(page)}")
    frozen = [k for k in moving if changed[k] < VISIBLE_CHANGE]
    assert not frozen, (f"{frozen} did not change in {looks} looks over "
                        f"{time.monotonic() - clicked:.1f} s of training (pixels changed: "
                        f"{changed}); the page showed: {status(page)}")


def ends_early(name: str) -> bool:
    """A lesson that diverges, or stops when its test loss stops improving, by design: its
    run may end seconds in, whatever the budget (every preset's run is tested elsewhere)."""
    return name in DIVERGE_BY_DESIGN or load_preset(name).train.early_stopping.patience is not None


# None: the app as first opened, on its default preset (spiral), which is not repeated.
@pytest.mark.parametrize("preset", [None, *[p for p in playground_presets()
                                                if not ends_early(p) and p != DEFAULT_PRESET]])
def test_the_map_and_the_drawing_move_while_training(app_server, browser,  # noqa: ANN001
                                                     preset: str | None) -> None:
    page = open_page(browser, f"{app_server.url}/" + (f"?preset={preset}" if preset else ""))
    try:
        # A lesson of a few hundred steps ends in seconds at the Playground's pace; on a
        # loaded machine that can be before the page is looked at twice. A longer budget
        # keeps the look on what is asked: the pictures while a run goes on.
        choose(page, "Train for", "1000 epochs")
        wait_ready(page)
        # As a person would: the pictures are looked at before Train (a loaded machine may
        # still be loading the browser's chart library when the page's text is all there).
        assert poll(lambda: all(picture(page, k) for k in PICTURES), bool, timeout=30), (
            "; ".join(f"{k}: {why_not_shown(page, k)}" for k in PICTURES))
        button(page, "Train").click()
        # The deep sigmoid's lesson is that its output barely moves: its first layers' maps
        # (in the drawing) must, and both pictures must be there all along.
        watch(page, moving=("pg-network",) if preset in STALLS_BY_DESIGN else PICTURES)
    finally:
        stop_training(page)
        page.close()


def edit_dataset(page: Any) -> None:  # noqa: ANN401
    page.locator(f"{MAIN} .st-key-pg-data-circle button").first.click()


def edit_feature(page: Any) -> None:  # noqa: ANN401
    page.locator(f'{MAIN} [data-testid="stCheckbox"]').filter(
        has_text=re.compile(r"^\s*x₁²\s*$")).first.locator("label").click()


def edit_add_layer(page: Any) -> None:  # noqa: ANN401
    page.locator(f"{MAIN} .st-key-pg-add-layer button").first.click()


def edit_add_neuron(page: Any) -> None:  # noqa: ANN401
    page.locator(f"{MAIN} .st-key-pg-add-0 button").first.click()


def edit_activation(page: Any) -> None:  # noqa: ANN401
    choose(page, "Activation", "relu")


# Each edit, and the pictures that must show it. Another data set leaves the untrained
# network (and so its drawing) as it was: only the map, with the new points, changes.
EDITS: dict[str, tuple[Callable[[Any], None], tuple[str, ...]]] = {
    "data set": (edit_dataset, ("pg-output",)),
    "feature": (edit_feature, PICTURES),
    "+ layer": (edit_add_layer, PICTURES),
    "+ neuron": (edit_add_neuron, PICTURES),
    "activation": (edit_activation, PICTURES),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_the_pictures_show_an_edit_before_any_training(app_server, browser,  # noqa: ANN001
                                                       edit: str) -> None:
    page = open_page(browser, f"{app_server.url}/?preset=spiral")
    try:
        before = poll(lambda: {key: picture(page, key) for key in PICTURES},
                      lambda shots: all(shots.values()), timeout=20, every=0.5)
        missing = [k for k, png in before.items() if png is None]
        assert not missing, f"the Playground does not show {missing} before any edit"
        act, shows = EDITS[edit]
        act(page)

        def changes() -> dict[str, int]:
            wait_ready(page)
            now = {key: picture(page, key) for key in shows}
            return {k: -1 if now[k] is None else pixels_changed(before[k], now[k])
                    for k in shows}

        seen = poll(changes, lambda c: all(n >= VISIBLE_CHANGE for n in c.values()),
                    timeout=8, every=0.5)
        stale = [k for k, n in seen.items() if n < VISIBLE_CHANGE]
        assert not stale, (f"after the {edit} edit, {stale} still show the old experiment "
                           f"8 s later (pixels changed: {seen}; -1: not drawn)")
        assert not training(page), "the edit started a run"
    finally:
        page.close()


# What is under the pointer at (x, y): the innermost hovered element's own words.
UNDER_POINTER_JS = """([x, y]) => {
  const e = document.elementFromPoint(x, y);
  const hovered = [...document.querySelectorAll(':hover')].pop();
  return {tag: e ? e.tagName : null, words: e?.querySelector(':scope > title')?.textContent,
          hovered: hovered === e};
}"""


@pytest.mark.parametrize("key, shape, words", [
    ("pg-network", "line", r".+ → .+: w = -?\d+\.\d{3}"),
    ("pg-network", "rect", r"(input|hidden\d|output): .+"),
    ("pg-output", "circle", r"train \(-?\d+\.\d\d, -?\d+\.\d\d\): [01]"),
])
def test_a_pointer_on_a_still_picture_reads_what_is_there(app_server, browser, key: str,  # noqa: ANN001
                                                          shape: str, words: str) -> None:
    page = open_page(browser, f"{app_server.url}/?preset=spiral", 1024, 768)
    try:
        found = page.locator(f".st-key-{key} svg {shape}")
        assert poll(found.count, bool, timeout=20), (
            f"no words over {key}: {why_not_shown(page, key)}")
        # A shape in the middle of the picture, scrolled into the window.
        target = found.nth(found.count() // 2)
        target.scroll_into_view_if_needed()
        box = target.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        if shape == "line":  # the middle of its box is on it only if it is straight
            x1, y1, x2, y2 = (float(target.get_attribute(a)) for a in ("x1", "y1", "x2", "y2"))
            svg = page.locator(f".st-key-{key} svg").bounding_box()
            scale = svg["width"] / float(page.locator(f".st-key-{key} svg").get_attribute(
                "viewBox").split()[2])
            x, y = svg["x"] + (x1 + x2) / 2 * scale, svg["y"] + (y1 + y2) / 2 * scale
        page.mouse.move(x, y)
        under = page.evaluate(UNDER_POINTER_JS, [x, y])
        assert under["tag"] == shape and under["hovered"], (
            f"the pointer over a {shape} of {key} is on {under}")
        assert re.fullmatch(words, under["words"] or ""), under
    finally:
        page.close()


def number(text: str | None) -> float:
    found = re.search(r"-?\d[\d,]*\.?\d*(?:e[+-]?\d+)?", (text or "").replace("−", "-"))
    return float(found.group().replace(",", "")) if found else math.nan


def test_a_diverged_run_restarts_and_then_learns(app_server, browser) -> None:  # noqa: ANN001
    page = open_page(browser, f"{app_server.url}/?preset=lr_too_large")
    try:
        button(page, "Train").click()
        said = poll(lambda: status(page), diverged, timeout=20)
        assert diverged(said), f"no divergence pause: {said}"
        restart = button(page, "Restart with the new settings")
        # The status is redrawn on the refresh timer; the buttons by the rerun that follows.
        poll(lambda: restart.count() and restart.is_visible(), bool, timeout=10, every=0.3)
        wait_ready(page)
        buttons = [b.inner_text().strip() for b in page.locator(MAIN).get_by_role(
            "button").all() if b.is_visible() and b.inner_text().strip()]
        assert restart.count() and restart.is_visible(), (
            f"no restart offered after the divergence; buttons: {buttons}; the page "
            f"said: {status(page)}")
        assert button(page, "Resume").count() == 0, (
            f"Resume is offered into a diverged state; buttons: {buttons}")

        choose(page, "Learning rate", "0.03")
        wait_ready(page)
        box = page.locator(MAIN).get_by_role("combobox", name="Learning rate", exact=True)
        assert box.first.input_value() == "0.03"
        button(page, "Restart with the new settings").click()

        def learned() -> tuple[list[float], str | None]:
            return page.evaluate(TRAIN_LOSS_JS), train_loss_shown(page)

        curve, shown = poll(learned, lambda r: len(r[0]) >= 3 and r[0][-1] < r[0][0] / 2
                            and math.isfinite(number(r[1])), timeout=30, every=0.3)
        said = status(page)
        assert not diverged(said), f"diverged again: {said}"
        assert len(curve) >= 3 and curve[-1] < curve[0] / 2, (
            f"the loss did not go down after the restart: train loss line {curve[:3]} … "
            f"{curve[-3:]}; the page showed {said}")
        assert math.isfinite(number(shown)) and number(shown) <= curve[0], (
            f"the page prints the training loss as {shown!r} (line from {curve[0]:.3g})")
    finally:
        stop_training(page)
        page.close()


@pytest.mark.parametrize("preset", [None, "vanishing_relu_he"])
def test_inside_training_gives_no_verdict_before_recordings(app_server, browser,  # noqa: ANN001
                                                            preset: str | None) -> None:
    page = open_page(browser, f"{app_server.url}/inside"
                     + (f"?preset={preset}" if preset else ""))
    try:
        main = page.locator(MAIN)
        waiting = main.get_by_text("Not measured yet", exact=False).filter(visible=True)
        assert poll(waiting.count, bool, timeout=20), (
            f"no \"Not measured yet\" before Train; the page showed: {status(page)}")
        verdict = main.get_by_text(re.compile(r"^\s*Healthy\b")).filter(visible=True)
        assert verdict.count() == 0, f"a verdict before any recording: {verdict.all_inner_texts()}"
    finally:
        page.close()
