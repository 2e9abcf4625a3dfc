"""The live app measured in a real browser (Debian's chromium through Playwright).

Prints: time from clicking Train to the first loss point on screen (median of
several runs); redraws per second of the loss chart at the default refresh
and at 0.25 s; time from clicking Stop to the trainer halting (from the
server's trainer trace); training steps per CPU-second of the training thread
with the page open against the same run headless; peak server memory over a
long run. Run: ``python bench/ui.py [--minutes 10]``.
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
from tests.browser.helpers import POINTS_JS, STEP_JS, button, wait_ready  # noqa: E402

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
  const chart = () => [...document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot')]
    .find(c => String((c.layout && c.layout.title && (c.layout.title.text || c.layout.title))
                      || '').replace(/<[^>]+>/g, '') === 'loss');
  let last = chart() && chart()._fullData, changes = 0;
  const end = performance.now() + seconds * 1000;
  (function tick() {
    const c = chart(), now = c && c._fullData;
    if (now && now !== last) { changes++; last = now; }
    if (performance.now() < end) requestAnimationFrame(tick); else done(changes / seconds);
  })();
})"""


def spec(epochs: int = 100_000) -> str:
    base = load_preset("spiral")
    return encode_share(base.replace(train={**base.to_dict()["train"], "epochs": epochs}))


def trace(server, after: float, status: str) -> tuple[float, int, float] | None:  # noqa: ANN001
    """(time, step, cpu) of the first trainer status line after ``after``."""
    for line in server.log.read_text().splitlines():
        m = re.search(rf" {status} at step (\d+), t=([\d.]+), cpu=([\d.]+)", line)
        if m and float(m.group(2)) >= after:
            return float(m.group(2)), int(m.group(1)), float(m.group(3))
    return None


def headless_steps_per_cpu(seconds: float) -> float:
    t = Trainer(load_preset("spiral").replace(
        train={**load_preset("spiral").to_dict()["train"], "epochs": 100_000}))
    t.start()
    time.sleep(seconds)
    t.stop()
    s = t.snapshot()
    return s.step / s.cpu_seconds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the memory run")
    args = ap.parse_args()
    ensure_chromium()
    from playwright.sync_api import sync_playwright

    servers = {r: start_server({"NP_TRACE": "1", "NP_REFRESH": str(r)}) for r in (0.5, 0.25)}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            server = servers[0.5]
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
                stopped = trace(server, clicked, "stopped")
                if stopped:
                    halts.append(stopped[0] - clicked)
                    per_cpu.append(stopped[1] / stopped[2])
                button(page, "Reset").click()
                wait_ready(page)
                page.wait_for_function(f"() => ({POINTS_JS})() === 0")
            print(f"click Train -> first loss point: median {statistics.median(first):.3f} s "
                  f"(runs: {', '.join(f'{x:.2f}' for x in first)})")
            print(f"click Stop -> trainer halted:    median {statistics.median(halts):.3f} s "
                  f"(runs: {', '.join(f'{x:.3f}' for x in halts)})")

            for refresh, srv in servers.items():
                pg = page if srv is server else browser.new_page(
                    viewport={"width": 1400, "height": 1000})
                if pg is not page:
                    pg.goto(f"{srv.url}/train?s={spec()}")
                    wait_ready(pg)
                button(pg, "Train").click()
                time.sleep(2)
                rate = pg.evaluate(COUNT_REDRAWS_JS, 10)
                print(f"redraws per second at refresh {refresh} s: {rate:.2f}")
                button(pg, "Stop").click()

            headless = headless_steps_per_cpu(10)
            print(f"steps per CPU-second of the training thread: page open "
                  f"{statistics.median(per_cpu):,.0f}, headless {headless:,.0f} "
                  f"(ratio {statistics.median(per_cpu) / headless:.2f})")

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
            srv.proc.terminate()


if __name__ == "__main__":
    main()
