"""The live app measured in a real browser (Debian's chromium through Playwright).

Prints: time from the first click on Train to the first loss point on screen on
freshly started servers (the Playground, cold: median over fresh servers) and on
a warm one (the Train page, median of several runs); redraws per second of the
loss chart at the default refresh and at 0.25 s, and of the Playground's output
map and network drawing (changes of what they show); time from clicking Stop to
the trainer halting (from the server's trainer trace); training steps per
CPU-second of the training thread with the Train page and with the Playground
open, against the same run headless; peak server memory over a long run.
Run: ``python bench/ui.py [--minutes 10]``; ``--quick`` for a short check
(3 fresh servers, shorter windows, no memory run).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from engine import Trainer  # noqa: E402
from engine.presets import encode_share, load_preset  # noqa: E402
from tests.browser.conftest import CHROMIUM, FLAGS, ensure_chromium, start_server  # noqa: E402
from tests.browser.helpers import (  # noqa: E402
    LOSS_CHART_JS,
    POINTS_JS,
    STEP_JS,
    button,
    choose,
    wait_ready,
)

CLICK_TO_POINT_JS = """(name) => new Promise(done => {
  const points = POINTS;
  const btn = [...document.querySelectorAll('[data-testid="stMain"] button')]
    .find(b => b.innerText.trim() === name);
  const t0 = performance.now();
  btn.click();
  (function check() {
    if (points() > 0) done(performance.now() - t0); else requestAnimationFrame(check);
  })();
})""".replace("POINTS", POINTS_JS)

# A redraw is a new plotly render of the loss chart: its _fullData is rebuilt each time.
COUNT_REDRAWS_JS = """(seconds) => new Promise(done => {
  const chart = LOSS;
  let last = chart() && chart()._fullData, changes = 0;
  const end = performance.now() + seconds * 1000;
  (function tick() {
    const c = chart(), now = c && c._fullData;
    if (now && now !== last) { changes++; last = now; }
    if (performance.now() < end) requestAnimationFrame(tick); else done(changes / seconds);
  })();
})""".replace("LOSS", LOSS_CHART_JS)


# A redraw of a Playground picture is a change of what it shows: after any change in the
# page, a signature of each chart's drawn images and paths is compared with the last one.
COUNT_PICTURE_CHANGES_JS = """([seconds, keys]) => new Promise(done => {
  const box = k => document.querySelector(`[data-testid="stMain"] .st-key-${k}`);
  const sign = k => {
    const c = box(k);
    // A plotly chart, or the picture drawn in its place while training.
    if (!c || !c.querySelector('.js-plotly-plot, img')) return null;
    let s = '';
    for (const im of c.querySelectorAll('img')) s += im.getAttribute('src') || '';
    for (const im of c.querySelectorAll('image')) {
      const h = im.getAttribute('href') || im.getAttribute('xlink:href') || '';
      s += h.length + h.slice(-160);
    }
    for (const p of c.querySelectorAll('path')) s += (p.getAttribute('d') || '')
      + (p.getAttribute('style') || '');
    let h = 0;
    for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
    return h;
  };
  const last = {}, changes = {}, missing = {};
  for (const k of keys) { last[k] = sign(k); changes[k] = 0; missing[k] = 0; }
  let dirty = false, looks = 0;
  const watcher = new MutationObserver(() => { dirty = true; });
  watcher.observe(document.querySelector('[data-testid="stMain"]'),
                  {subtree: true, childList: true, attributes: true, characterData: true});
  const end = performance.now() + seconds * 1000;
  (function tick() {
    if (dirty) {
      dirty = false; looks++;
      for (const k of keys) {
        const now = sign(k);
        if (now === null) missing[k]++;
        else if (now !== last[k]) { changes[k]++; last[k] = now; }
      }
    }
    if (performance.now() < end) requestAnimationFrame(tick);
    else { watcher.disconnect(); done({changes, missing, looks}); }
  })();
})"""
PICTURES = ("pg-output", "pg-network")


def spec(epochs: int = 100_000) -> str:
    base = load_preset("spiral")
    return encode_share(base.replace(train={**base.to_dict()["train"], "epochs": epochs}))


def trace(server, after: float, status: str) -> tuple[float, int, float] | None:  # noqa: ANN001
    """(time, step, cpu) of the first trainer status line after ``after``; ``status`` is a
    regular expression (the words for a halted run may change)."""
    for line in server.log.read_text().splitlines():
        m = re.search(rf" (?:{status}) at step (\d+), t=([\d.]+), cpu=([\d.]+)", line)
        if m and float(m.group(2)) >= after:
            return float(m.group(2)), int(m.group(1)), float(m.group(3))
    return None


def headless_steps_per_cpu(seconds: float, needs: tuple[str, ...] = ()) -> float:
    """Steps per CPU-second of a trainer with no page: with the preset's own probes, or
    also recording what the pages need (``needs``), as the app's trainers do."""
    exp = load_preset("spiral").replace(
        train={**load_preset("spiral").to_dict()["train"], "epochs": 100_000})
    t = Trainer(exp, needs=needs) if needs else Trainer(exp)
    t.start()
    time.sleep(seconds)
    t.stop()
    s = t.snapshot()
    return s.step / s.cpu_seconds


HALTED = "stopped|paused|ready|finished"


def runs_text(xs: list[float], digits: int = 2) -> str:
    return ", ".join(f"{x:.{digits}f}" for x in xs)


def cold_first_point(browser, runs: int) -> list[float]:  # noqa: ANN001
    """Click Train -> first loss point, each on a freshly started server's first page."""
    found = []
    for _ in range(runs):
        server = start_server({"NP_TRACE": "1"})
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(server.url + "/")
            wait_ready(page)
            page.wait_for_function(f"() => ({POINTS_JS})() >= 0", timeout=60_000)
            found.append(page.evaluate(CLICK_TO_POINT_JS, "Train") / 1000)
            page.close()
        finally:
            server.stop()
    return found


def full_speed(page) -> None:  # noqa: ANN001
    """The Playground's speed control, where there is one, at full speed."""
    box = page.locator('[data-testid="stMain"]').get_by_role("combobox", name="Speed")
    if box.count():
        choose(page, "Speed", "full speed")
        wait_ready(page)


def playground_pictures(browser, server, seconds: float) -> dict:  # noqa: ANN001
    """Changes per second of the Playground's map and drawing while it trains as opened."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server.url}/?s={spec()}")
    wait_ready(page)
    button(page, "Train").click()
    time.sleep(2)
    found = page.evaluate(COUNT_PICTURE_CHANGES_JS, [seconds, list(PICTURES)])
    button(page, "Stop").click()
    page.close()
    return found


def playground_steps_per_cpu(browser, server, seconds: float) -> float | None:  # noqa: ANN001
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server.url}/?s={spec()}")
    wait_ready(page)
    full_speed(page)
    button(page, "Train").click()
    time.sleep(seconds)
    clicked = page.evaluate("() => Date.now()") / 1000
    button(page, "Stop").click()
    time.sleep(1.5)
    page.close()
    halted = trace(server, clicked, HALTED)
    return halted[1] / halted[2] if halted and halted[2] else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the memory run")
    ap.add_argument("--quick", action="store_true",
                    help="3 fresh servers, 3 warm runs, 5-second windows, no memory run")
    args = ap.parse_args()
    if args.quick:
        args.runs, args.minutes = 3, 0.0
    window = 5 if args.quick else 10
    ensure_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        cold = cold_first_point(browser, max(args.runs, 3))
        print(f"click Train -> first loss point, fresh server (Playground): median "
              f"{statistics.median(cold):.3f} s (servers: {runs_text(cold)})", flush=True)
        browser.close()

    # "default": the refresh a server has when nothing sets it.
    servers = {"default": start_server({"NP_TRACE": "1"}),
               0.25: start_server({"NP_TRACE": "1", "NP_REFRESH": "0.25"})}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            server = servers["default"]
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{server.url}/train?s={spec()}")
            wait_ready(page)

            first, halts, per_cpu = [], [], []
            for _ in range(args.runs):
                first.append(page.evaluate(CLICK_TO_POINT_JS, "Train") / 1000)
                time.sleep(3)
                clicked = page.evaluate("() => Date.now()") / 1000
                button(page, "Stop").click()
                time.sleep(1.5)
                stopped = trace(server, clicked, HALTED)
                if stopped:
                    halts.append(stopped[0] - clicked)
                    per_cpu.append(stopped[1] / stopped[2])
                button(page, "Reset").click()
                wait_ready(page)
                page.wait_for_function(f"() => ({POINTS_JS})() === 0")
            print(f"click Train -> first loss point, warm (Train page): median "
                  f"{statistics.median(first):.3f} s (runs: {runs_text(first)})")
            if halts:
                print(f"click Stop -> trainer halted: median {statistics.median(halts):.3f} s "
                      f"(runs: {runs_text(halts, 3)})", flush=True)

            for refresh, srv in servers.items():
                pg = page if srv is server else browser.new_page(
                    viewport={"width": 1400, "height": 1000})
                if pg is not page:
                    pg.goto(f"{srv.url}/train?s={spec()}")
                    wait_ready(pg)
                button(pg, "Train").click()
                time.sleep(2)
                rate = pg.evaluate(COUNT_REDRAWS_JS, window)
                at = "the default refresh" if refresh == "default" else f"refresh {refresh} s"
                print(f"loss chart redraws per second at {at}: {rate:.2f}")
                button(pg, "Stop").click()
                if pg is not page:
                    pg.close()

            found = playground_pictures(browser, server, window)
            rates = {k: n / window for k, n in found["changes"].items()}
            print("Playground redraws per second at the default refresh: "
                  + ", ".join(f"{'output map' if k == 'pg-output' else 'network drawing'} "
                              f"{rates[k]:.2f}" for k in PICTURES)
                  + (f" (not on screen at {found['missing']} of {found['looks']} looks)"
                     if any(found["missing"].values()) else ""), flush=True)

            playground = playground_steps_per_cpu(browser, server, window)
            headless = headless_steps_per_cpu(window)
            train_page = statistics.median(per_cpu) if per_cpu else float("nan")
            print(f"steps per CPU-second of the training thread: Train page open "
                  f"{train_page:,.0f} (ratio {train_page / headless:.2f}), Playground open "
                  + ("not measured" if playground is None else
                     f"{playground:,.0f} (ratio {playground / headless:.2f})")
                  + f", headless {headless:,.0f}", flush=True)
            try:
                from ui.pages import NEEDED_PROBES

                probed = headless_steps_per_cpu(window, NEEDED_PROBES)
            except (ImportError, TypeError):  # an engine without page needs
                probed = None
            if probed and playground:
                print(f"  headless recording what the pages need: {probed:,.0f} (Playground "
                      f"open: ratio {playground / probed:.2f})", flush=True)
            if args.minutes <= 0:
                browser.close()
                return

            button(page, "Reset").click()
            wait_ready(page)
            button(page, "Train").click()
            proc = psutil.Process(server.proc.pid)
            end = time.monotonic() + args.minutes * 60
            samples = []
            while time.monotonic() < end:
                samples.append(proc.memory_info().rss / 2**20)
                time.sleep(1)
            steps = page.evaluate(STEP_JS)
            tenth = max(len(samples) // 10, 1)
            print(f"server memory over {args.minutes:g} min ({steps:,} steps): start "
                  f"{samples[0]:.0f} MB, after the first tenth {max(samples[:tenth]):.0f} MB, "
                  f"peak {max(samples):.0f} MB, end {samples[-1]:.0f} MB")
            browser.close()
    finally:
        for srv in servers.values():
            srv.stop()


if __name__ == "__main__":
    main()
