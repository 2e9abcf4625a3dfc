"""A class at once: many real browser sessions on one app server, training together.

Starts the app as the browser tests do, opens N browser contexts in one Debian chromium
(each its own Streamlit session), each opening a link (preset links and share links, on
the Train page and the Playground), and clicks Train on all of them at once. Then it
measures, and prints as one table:

- steps per second per session over a window (from the step each page shows), and
  whether each session progressed or showed the queued message;
- any error on any page (Streamlit exception boxes, error lines, the connection box);
- click latency: from a click on Pause, Step or Resume to the page showing its effect,
  timed inside the browser, p50 and p95 over every click of every session, by button and
  by page;
- the server's memory (its process and children, from /proc): at start, peak and end;
- trainer threads (named "np-trainer" in /proc/<pid>/task/*/comm) while training and
  left after every context is closed, with the time they took to go;
- the most the server adds to each click's wait (its callback to the end of its page run,
  which the server writes to ``NP_ANSWER_LOG``; the answer is sent before the end);
- where the CPU went while watching and while clicking: the server's cores, the browsers'
  cores, the bench's own driving (this script and Playwright's driver, which a class does
  not have), and the pages' main threads as Chrome counts them.

``--zips N``: N sessions each open a LeNet link on Build, choose "Your images", upload
their own zip of class folders (real PNGs), go to Train and train on it.

Run: ``python bench/load.py --sessions 20`` or ``python bench/load.py --zips 5``
(``--max-trainers K`` sets the server's NP_MAX_TRAINERS, to compare queue sizes).
The browser and the server share the machine, so the figures include the browser's
own drawing of every page.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import psutil  # noqa: E402

from engine.limits import TRAINER_THREAD, RunSlots  # noqa: E402
from engine.presets import encode_share, load_preset  # noqa: E402
from tests.browser.conftest import (  # noqa: E402
    ARTIFACTS,
    CHROMIUM,
    FLAGS,
    AppServer,
    ensure_chromium,
    start_server,
)
from tests.browser.helpers import MAIN, STEP_JS, wait_ready  # noqa: E402

QUEUED_WORDS = "Waiting for a free slot"
ANSWER_WITHIN = 2.0  # seconds: a click answered later than this counts against the page
UNANSWERED = 15.0  # seconds: a click still unanswered after this is given up on
# Seconds from an answer to the next click: as fast as a person clicks again on seeing the
# answer, every session all the time, which is more than a class does (README).
THINK = (0.3, 1.2)

# What a page shows at one look: the step, the run's words, its buttons and any error.
LOOK_JS = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const step = (STEP)();
  if (!main) return {step, status: [], buttons: [], errors: [
    `no page drawn (${document.readyState}, ${document.body.children.length} elements, `
    + `"${document.body.innerText.trim().slice(0, 80)}")`]};
  const text = e => e.innerText.trim().replace(/\\s+/g, ' ').slice(0, 300);
  const status = [...main.querySelectorAll('[data-testid="stCaptionContainer"], '
      + '[data-testid="stAlert"], [data-testid="stProgress"]')]
    .filter(e => e.offsetParent !== null).map(text).filter(Boolean);
  const buttons = [...main.querySelectorAll('button')].filter(b => b.checkVisibility())
    .map(b => b.innerText.trim());
  const errors = [
    ...[...document.querySelectorAll('[data-testid="stException"]')]
      .map(e => 'exception: ' + text(e)),
    ...[...main.querySelectorAll('[data-testid="stAlertContentError"]')]
      .map(e => 'error: ' + text(e)),
    ...[...document.querySelectorAll('[role="dialog"]')].map(text)
      .filter(t => /connection error|still running/i.test(t)).map(t => 'dialog: ' + t)];
  return {step, status, buttons, errors};
}""".replace("STEP", STEP_JS)

# Click the main-area button named ``name`` and time, inside the browser, until the page
# shows its effect: Pause and Resume are replaced by the other button; Step shows a higher
# step, or the queued message. Returns false when there is no such button to click.
CLICK_JS = """([name, queuedWords]) => {
  const main = document.querySelector('[data-testid="stMain"]');
  // Only what is on screen: Streamlit keeps a replaced widget in the page, hidden, until
  // its run's clean-up, and its text still reads in the page. The text is read first, as
  // textContent: asking for layout on every change would slow the page being measured.
  const named = () => [...main.querySelectorAll('button')]
    .filter(b => b.textContent.trim() === name && b.checkVisibility());
  const btn = named().find(b => !b.disabled);
  if (!btn) return false;
  const step = STEP;
  const before = step();
  const queued = () => main.textContent.includes(queuedWords);
  const gone = () => named().length === 0;
  const done = name === 'Step' ? () => step() > before || queued()
             : name === 'Pause' ? gone : () => gone() || step() > before;
  const w = window.__npLoad = window.__npLoad || {answered: [], pending: null};
  const t0 = performance.now();
  w.pending = {name, t0};
  let watcher, timer;
  const check = () => {
    if (!w.pending || w.pending.t0 !== t0 || !done()) return;
    w.answered.push([name, (performance.now() - t0) / 1000]);
    w.pending = null;
    watcher.disconnect();
    clearInterval(timer);
  };
  watcher = new MutationObserver(check);
  watcher.observe(main, {subtree: true, childList: true, characterData: true,
                         attributes: true});
  timer = setInterval(check, 250);  // the observer sees every change; this is a fallback
  btn.click();
  return true;
}""".replace("STEP", STEP_JS)

# The clicks answered since the last call, and how long the one in flight has waited.
TAKE_JS = """() => {
  const w = window.__npLoad || {answered: [], pending: null};
  const answered = w.answered.splice(0);
  const waiting = w.pending ? [w.pending.name,
                               (performance.now() - w.pending.t0) / 1000] : null;
  return {answered, waiting};
}"""


# --- the links a class opens ----------------------------------------------------------

def long_share(preset: str, epochs: int = 100_000) -> str:
    """A share link to ``preset`` with a long budget, so it trains through the window."""
    exp = load_preset(preset)
    return encode_share(exp.replace(train={**exp.to_dict()["train"], "epochs": epochs}))


def class_links(n: int) -> list[str]:
    """Paths (with query) for ``n`` sessions: preset links (which finish on their own
    budget and free their slot) and share links with long runs, on Train and the
    Playground."""
    kinds = [f"train?s={long_share('spiral')}", "train?preset=spiral",
             f"train?s={long_share('circle')}", "?preset=xor_hidden",
             f"train?s={long_share('overfitting')}", "train?preset=sine",
             f"?s={long_share('spiral_multi')}", "train?preset=iris"]
    return [kinds[i % len(kinds)] for i in range(n)]


def zip_link(epochs: int = 1000) -> str:
    return f"build?s={long_share('cnn_lenet', epochs)}"


def image_zip(seed: int, per_class: int = 24, side: int = 32) -> bytes:
    """A zip of three class folders of real PNG pictures (squares, discs, stripes on
    noise), different for each seed."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:side, :side]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for c, name in enumerate(("squares", "discs", "stripes")):
            for i in range(per_class):
                img = rng.integers(0, 60, (side, side, 3), dtype=np.uint8)
                colour = rng.integers(120, 256, 3, dtype=np.uint8)
                cy, cx = rng.integers(side // 4, 3 * side // 4, 2)
                r = int(rng.integers(side // 8, side // 4))
                if c == 0:
                    img[max(cy - r, 0):cy + r, max(cx - r, 0):cx + r] = colour
                elif c == 1:
                    img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = colour
                else:
                    img[:, int(rng.integers(0, 4))::4] = colour
                png = io.BytesIO()
                Image.fromarray(img).save(png, "PNG")
                z.writestr(f"pictures/{name}/{name}{i:02d}.png", png.getvalue())
    return buf.getvalue()


# --- the server, from outside ---------------------------------------------------------

def trainer_threads(pid: int) -> int:
    """Threads of the server named as trainers (a trainer and any worker thread it made)."""
    found = 0
    for comm in Path(f"/proc/{pid}/task").glob("*/comm"):
        with contextlib.suppress(OSError):  # the thread ended while we looked
            found += comm.read_text().strip() == TRAINER_THREAD
    return found


def server_procs(pid: int) -> list[psutil.Process]:
    """The server's process and its children (none once it has gone)."""
    try:
        proc = psutil.Process(pid)
        return [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def browser_procs(server_pid: int) -> list[psutil.Process]:
    """Every process this one started except the server and Playwright's driver: the
    browser, which in a class runs on the students' own machines."""
    server = {p.pid for p in server_procs(server_pid)} | {server_pid}
    return [p for p in psutil.Process().children(recursive=True)
            if p.pid not in server and not is_driver(p)]


def is_driver(proc: psutil.Process) -> bool:
    """Playwright's driver (a node process), which plays the students' hands here."""
    with contextlib.suppress(psutil.Error):
        return Path(proc.exe()).name == "node"
    return False


def driving_procs() -> list[psutil.Process]:
    """What drives the browsers: this script and Playwright's driver. A class has neither,
    but here they share the server's cores."""
    me = psutil.Process()
    return [me, *(p for p in me.children(recursive=True) if is_driver(p))]


def server_rss(pid: int) -> float:
    """Resident memory of the server and its children, in MB."""
    total = 0
    for p in server_procs(pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total / 2**20


BROWSER_NICE = 10  # the students' browsers, here on the server's cores, let it go first


def step_aside(server_pid: int) -> None:
    """Lower the priority of the browsers below the server's."""
    for proc in browser_procs(server_pid):
        with contextlib.suppress(psutil.Error):
            if proc.nice() < BROWSER_NICE:
                proc.nice(BROWSER_NICE)


def cpu_seconds(server_pid: int) -> tuple[float, float, float]:
    """(server, browsers, the bench's own driving) CPU seconds so far."""
    def used(procs: list[psutil.Process]) -> float:
        total = 0.0
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                c = proc.cpu_times()
                total += c.user + c.system
        return total

    return (used(server_procs(server_pid)), used(browser_procs(server_pid)),
            used(driving_procs()))


# Chrome's own counters of a page's main thread (seconds, cumulative): all its tasks, and
# the parts spent in scripts, layout and style.
PAGE_TIMES = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")


def page_times(tab: Tab) -> dict[str, float]:
    metrics = tab.cdp.send("Performance.getMetrics")["metrics"]
    return {m["name"]: m["value"] for m in metrics if m["name"] in PAGE_TIMES}


@dataclass
class Phase:
    """Where the CPU went over one phase (watching or clicking)."""
    name: str
    seconds: float
    server_cpu: float
    browsers_cpu: float
    driving_cpu: float
    page: dict[str, float]  # PAGE_TIMES summed over the tabs

    def line(self) -> str:
        per = self.seconds or 1.0
        busy = " / ".join(f"{self.page.get(k, 0) / per:.2f}" for k in PAGE_TIMES)
        return (f"{self.server_cpu / per:.2f} / {self.browsers_cpu / per:.2f} / "
                f"{self.driving_cpu / per:.2f} cores; "
                f"pages' main threads (all / scripts / layout / style) {busy}")


class PhaseClock:
    def __init__(self, server_pid: int, tabs: list[Tab]) -> None:
        self.pid, self.tabs = server_pid, tabs
        self._start = self._read()

    def _read(self) -> tuple[float, tuple[float, float, float], dict[str, float]]:
        total: dict[str, float] = {}
        for tab in self.tabs:
            with contextlib.suppress(Exception):  # a crashed page has no counters
                for k, v in page_times(tab).items():
                    total[k] = total.get(k, 0.0) + v
        return time.monotonic(), cpu_seconds(self.pid), total

    def lap(self, name: str) -> Phase:
        (t0, c0, p0), (t1, c1, p1) = self._start, self._read()
        self._start = (t1, c1, p1)
        return Phase(name, t1 - t0, *(b - a for a, b in zip(c0, c1, strict=True)),
                     {k: p1.get(k, 0.0) - p0.get(k, 0.0) for k in PAGE_TIMES})


class Sampler(threading.Thread):
    """Samples the server's memory and trainer threads twice a second (and, with
    ``aside``, keeps the browsers' new processes behind the server)."""

    def __init__(self, pid: int, aside: bool = False) -> None:
        super().__init__(name="load-sampler", daemon=True)
        self.pid, self.rss, self.threads, self.aside = pid, [], [], aside
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            if self.aside:
                step_aside(self.pid)
            self.rss.append(server_rss(self.pid))
            self.threads.append(trainer_threads(self.pid))
            self._halt.wait(0.5)

    def halt(self) -> None:
        self._halt.set()
        self.join(5)


# --- one class ------------------------------------------------------------------------

@dataclass
class Tab:
    """One student: a browser context, its page, and what was seen on it."""
    link: str
    context: Any = None
    page: Any = None
    cdp: Any = None  # a DevTools session on the page, for its main thread's counters
    steps: list[tuple[float, int]] = field(default_factory=list)
    queued_seen: bool = False
    finished: bool = False  # a short preset run may end before the first look
    errors: list[str] = field(default_factory=list)
    seen_errors: set[str] = field(default_factory=set)
    opened_at: float = field(default_factory=time.monotonic)
    latencies: list[tuple[str, float]] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)
    unanswered_seen: list[str] = field(default_factory=list)  # what the page showed then
    clicks_left: int = 0
    steps_in_pause: int = 0
    next_at: float = 0.0
    where: str = ""  # the page clicked on, in the navigation's words

    def look(self) -> dict[str, Any]:
        seen = self.page.evaluate(LOOK_JS)
        if seen["step"] >= 0:
            self.steps.append((time.monotonic(), seen["step"]))
        self.queued_seen |= any(QUEUED_WORDS in s for s in seen["status"])
        self.finished |= any(s.startswith("Finished at step") for s in seen["status"])
        for e in seen["errors"]:
            if e not in self.seen_errors:
                self.seen_errors.add(e)
                self.errors.append(f"{e} (first seen {time.monotonic() - self.opened_at:.0f} s "
                                   "after opening)")
        return seen

    @property
    def progressed(self) -> bool:
        return self.finished or (len(self.steps) > 1 and self.steps[-1][1] > self.steps[0][1])

    def rate(self) -> float:
        """Steps per second between the first and the last look."""
        if len(self.steps) < 2 or self.steps[-1][0] <= self.steps[0][0]:
            return 0.0
        (t0, s0), (t1, s1) = self.steps[0], self.steps[-1]
        return max(s1 - s0, 0) / (t1 - t0)


def open_tabs(browser: Any, server: AppServer, links: list[str]) -> list[Tab]:
    """One context per link, all loading at once; returns when every page is drawn."""
    tabs = [Tab(link) for link in links]
    for tab in tabs:
        tab.context = browser.new_context(viewport={"width": 1280, "height": 900})
        tab.page = tab.context.new_page()
        tab.page.on("crash", lambda _page, tab=tab: tab.errors.append("the page crashed"))
        tab.page.on("pageerror", lambda e, tab=tab: tab.errors.append(
            f"script error in the page: {str(e)[:300]}"))
        tab.cdp = tab.context.new_cdp_session(tab.page)
        tab.cdp.send("Performance.enable")
        tab.page.goto(f"{server.url}/{tab.link}", wait_until="commit")
    for tab in tabs:
        wait_ready(tab.page, timeout=180)
    return tabs


def upload_zips(tabs: list[Tab], seed: int = 0) -> None:
    """On Build, each tab chooses "Your images", uploads its own zip and goes to Train.
    Each step is taken on every tab before the next, so the server sees them together."""
    for tab in tabs:
        box = tab.page.locator(MAIN).get_by_role("combobox", name="Data set", exact=True)
        box.first.click()
        tab.page.keyboard.type("zip of class")
        tab.page.get_by_role("option", name="Your images", exact=False).first.wait_for()
        tab.page.keyboard.press("Enter")
    for i, tab in enumerate(tabs):
        wait_ready(tab.page, timeout=120)
        tab.page.locator(f'{MAIN} input[type="file"]').set_input_files(
            {"name": f"class{i}.zip", "mimeType": "application/zip",
             "buffer": image_zip(seed + i)})
    for tab in tabs:
        tab.page.locator(MAIN).get_by_text("3 classes").first.wait_for(timeout=120_000)
        wait_ready(tab.page, timeout=120)
        tab.page.locator('[data-testid="stSidebarNav"] a', has_text="Train").first.click()
    for tab in tabs:
        tab.page.wait_for_url("**/train?**", timeout=120_000)
        wait_ready(tab.page, timeout=120)


# Click Train from inside the page: Playwright's click first waits for the button to keep
# still over two animation frames, which on eight starved renderers took seconds a tab.
TRAIN_JS = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const btn = main && [...main.querySelectorAll('button')]
    .find(b => b.innerText.trim() === 'Train' && !b.disabled && b.checkVisibility());
  if (btn) btn.click();
  return Boolean(btn);
}"""


def train_all(tabs: list[Tab]) -> None:
    for tab in tabs:
        end = time.monotonic() + 30
        while not tab.page.evaluate(TRAIN_JS):
            if time.monotonic() > end:
                tab.errors.append(f"no Train button to click; the page showed {tab.look()}")
                break
            time.sleep(0.2)


def watch(tabs: list[Tab], seconds: float, every: float = 2.0) -> None:
    """Look at every page every ``every`` seconds for ``seconds``."""
    end = time.monotonic() + seconds
    while True:
        for tab in tabs:
            tab.look()
        if time.monotonic() >= end:
            return
        time.sleep(max(0.0, min(every, end - time.monotonic())))


def click_round(tabs: list[Tab], clicks: int, limit: float, seed: int = 0,
                give_up: float = UNANSWERED, think: tuple[float, float] = THINK) -> None:
    """Every tab clicks ``clicks`` times, on its own clock: Pause when training, then Step
    twice, then Resume; each click waits for the last to be answered (or given up), then
    for a time drawn from ``think`` (seconds), as a person looks before clicking again."""
    rng = np.random.default_rng(seed)
    now = time.monotonic()
    for tab in tabs:
        tab.clicks_left, tab.next_at = clicks, now + float(rng.uniform(0, 1.5))
    end = now + limit
    while time.monotonic() < end and any(t.clicks_left > 0 for t in tabs):
        for tab in tabs:
            taken = tab.page.evaluate(TAKE_JS)
            tab.latencies += [(n, s) for n, s in taken["answered"]]
            if taken["answered"]:
                tab.next_at = time.monotonic() + float(rng.uniform(*think))
            if taken["waiting"] is not None:
                name, waited = taken["waiting"]
                if waited < give_up:
                    continue
                tab.unanswered.append(name)
                tab.unanswered_seen.append(f"{name}: the page showed {tab.look()}")
                tab.page.evaluate("() => { window.__npLoad.pending = null; }")
            if tab.clicks_left <= 0 or time.monotonic() < tab.next_at:
                continue
            seen = tab.look()
            name = _next_click(tab, seen["buttons"])
            if name and tab.page.evaluate(CLICK_JS, [name, QUEUED_WORDS]):
                tab.where = page_name(tab.page.url)
                tab.clicks_left -= 1
                tab.steps_in_pause = tab.steps_in_pause + 1 if name == "Step" else 0
            else:
                tab.next_at = time.monotonic() + 0.5
        time.sleep(0.25)  # the latency is timed in the page; looking costs it time
    for tab in tabs:  # the last answers
        taken = tab.page.evaluate(TAKE_JS)
        tab.latencies += [(n, s) for n, s in taken["answered"]]
        if taken["waiting"] is not None:
            tab.unanswered.append(taken["waiting"][0])


def _next_click(tab: Tab, buttons: list[str]) -> str | None:
    if "Pause" in buttons:
        return "Pause"
    if "Resume" in buttons:
        return "Step" if tab.steps_in_pause < 2 else "Resume"
    return None  # finished, stopped or diverged: nothing of this round to click


def close_all(tabs: list[Tab]) -> None:
    for tab in tabs:
        tab.context.close()


def wait_for_no_trainers(pid: int, limit: float) -> tuple[int, float]:
    """(trainer threads left, seconds waited) once none are left or ``limit`` passes."""
    start = time.monotonic()
    left = trainer_threads(pid)
    while left and time.monotonic() - start < limit:
        time.sleep(0.25)
        left = trainer_threads(pid)
    return left, time.monotonic() - start


def page_name(url: str) -> str:
    """The page at ``url``, in the navigation's words."""
    path = url.partition("?")[0].rstrip("/").rpartition("/")[2]
    return path.capitalize() if path and ":" not in path else "Playground"


def percentile(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


@dataclass
class Result:
    sessions: int
    opened_s: float
    rates: list[float]
    progressed: int
    queued_only: int
    stuck: int  # neither progressed nor showed the queued message
    errors: list[str]
    latencies: list[float]
    latency_by_click: dict[str, list[float]]
    latency_by_page: dict[str, list[float]]
    unanswered: int
    rss_start: float
    rss_peak: float
    rss_end: float
    trainers_peak: int
    trainers_left: int
    trainers_gone_s: float
    max_trainers: int
    give_up: float = UNANSWERED
    unanswered_seen: list[str] = field(default_factory=list)  # what those pages showed
    phases: list[Phase] = field(default_factory=list)
    server_answers: dict[str, list[float]] = field(default_factory=dict)  # NP_ANSWER_LOG

    def table(self) -> str:
        lat = self.latencies
        within = sum(x <= ANSWER_WITHIN for x in lat)
        rows = [
            ("sessions", f"{self.sessions} (all pages drawn in {self.opened_s:.0f} s)"),
            ("trainers at once (NP_MAX_TRAINERS)", str(self.max_trainers)),
            ("steps/s per session, min / median / max",
             " / ".join(f"{x:,.0f}" for x in (min(self.rates), statistics.median(self.rates),
                                               max(self.rates))) if self.rates else "-"),
            ("steps/s, all sessions together", f"{sum(self.rates):,.0f}"),
            ("progressed / only queued (with the message) / neither",
             f"{self.progressed} / {self.queued_only} / {self.stuck}"),
            ("errors on pages", str(len(self.errors))),
            ("click latency p50 / p95 / max (s)",
             f"{percentile(lat, .5):.2f} / {percentile(lat, .95):.2f} / "
             f"{max(lat, default=float('nan')):.2f}"),
            ("clicks answered within 2 s",
             f"{within} of {len(lat)}"
             + (f" ({self.unanswered} not in {self.give_up:g} s)" if self.unanswered else "")),
            *((f"  {name} p50 / p95 (s)",
               f"{percentile(xs, .5):.2f} / {percentile(xs, .95):.2f} ({len(xs)} clicks"
               + (f", {xs.count(self.give_up)} unanswered)" if self.give_up in xs else ")"))
              for name, xs in sorted(self.latency_by_click.items())),
            *((f"  on {name}, p50 / p95 (s)",
               f"{percentile(xs, .5):.2f} / {percentile(xs, .95):.2f} ({len(xs)} clicks)")
              for name, xs in sorted(self.latency_by_page.items())),
            *((f"  {name}: the server's part at most, p50 / p95 (s)",
               f"{percentile(xs, .5):.2f} / {percentile(xs, .95):.2f} ({len(xs)} clicks)")
              for name, xs in sorted(self.server_answers.items())),
            ("server memory start / peak / end (MB)",
             f"{self.rss_start:,.0f} / {self.rss_peak:,.0f} / {self.rss_end:,.0f}"),
            ("trainer threads at peak", str(self.trainers_peak)),
            ("trainer threads left after closing",
             f"{self.trainers_left} (after {self.trainers_gone_s:.1f} s)"),
            *((f"CPU while {ph.name}: server / browsers / driving",
               ph.line()) for ph in self.phases),
        ]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def run_class(browser: Any, server: AppServer, links: list[str], *, zips: bool = False,
              window: float = 30.0, clicks: int = 8, click_limit: float = 90.0,
              give_up: float = UNANSWERED, think: tuple[float, float] = THINK,
              max_trainers: int = 0, aside: bool = False,
              answer_log: Path | None = None, log: Any = print) -> Result:
    """Open ``links`` at once, train, watch, click, close; measure as the module says.
    ``aside``: the browsers run at a lower priority than the server (see ``step_aside``).
    ``answer_log``: the server's NP_ANSWER_LOG, to tell its part of each click's wait."""
    pid = server.proc.pid
    sampler = Sampler(pid, aside)
    if aside:
        step_aside(pid)
    rss_start = server_rss(pid)
    sampler.start()
    tabs: list[Tab] = []
    phases: list[Phase] = []
    try:
        t0 = time.monotonic()
        tabs = open_tabs(browser, server, links)
        if zips:
            upload_zips(tabs)
        opened = time.monotonic() - t0
        log(f"{len(tabs)} pages drawn in {opened:.0f} s; training on all of them")
        train_all(tabs)
        time.sleep(1.0)
        clock = PhaseClock(pid, tabs)
        watch(tabs, window)
        phases.append(clock.lap("watching"))
        log(f"watched {window:g} s; clicking Pause, Step and Resume")
        click_round(tabs, clicks, click_limit, give_up=give_up, think=think)
        phases.append(clock.lap("clicking"))
        for tab in tabs:
            tab.look()
        for i, tab in enumerate(tabs):
            if tab.errors:
                ARTIFACTS.mkdir(exist_ok=True)
                tab.page.screenshot(path=str(ARTIFACTS / f"load-error-{i}.png"),
                                    full_page=True)
    finally:
        close_all(tabs)
    left, gone = wait_for_no_trainers(pid, 60.0)
    time.sleep(1.0)
    sampler.halt()
    # A click never answered counts as answered at the give-up time: it still weighs in
    # the percentiles instead of vanishing from them.
    by_click: dict[str, list[float]] = {}
    for tab in tabs:
        for name, secs in [*tab.latencies, *((n, give_up) for n in tab.unanswered)]:
            by_click.setdefault(name, []).append(secs)
    by_page: dict[str, list[float]] = {}
    for tab in tabs:
        for _, secs in [*tab.latencies, *((n, give_up) for n in tab.unanswered)]:
            by_page.setdefault(tab.where, []).append(secs)
    return Result(
        sessions=len(tabs), opened_s=opened,
        rates=[t.rate() for t in tabs if t.progressed],
        progressed=sum(t.progressed for t in tabs),
        queued_only=sum(t.queued_seen and not t.progressed for t in tabs),
        stuck=sum(not t.progressed and not t.queued_seen for t in tabs),
        errors=[f"session {i} ({t.link[:40]}): {e}" for i, t in enumerate(tabs)
                for e in t.errors],
        unanswered_seen=[f"session {i}: {u}" for i, t in enumerate(tabs)
                         for u in t.unanswered_seen],
        latencies=[s for xs in by_click.values() for s in xs], latency_by_click=by_click,
        latency_by_page=by_page, unanswered=sum(len(t.unanswered) for t in tabs),
        rss_start=rss_start, rss_peak=max(sampler.rss, default=rss_start),
        rss_end=server_rss(pid), trainers_peak=max(sampler.threads, default=0),
        trainers_left=left, trainers_gone_s=gone,
        max_trainers=max_trainers or RunSlots().limit, give_up=give_up, phases=phases,
        server_answers=server_answers(answer_log, set(by_click)))


def server_answers(path: Path | None, names: set[str]) -> dict[str, list[float]]:
    """The server's time from each click's callback to the end of its page run, by button
    (those of the click round only: the Train clicks that started the class are left out)."""
    found: dict[str, list[float]] = {}
    if path is None or not path.exists():
        return found
    for line in path.read_text(encoding="utf-8").splitlines():
        name, _, secs = line.partition("\t")
        if name in names:
            found.setdefault(name, []).append(float(secs))
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=20, help="browser sessions (links)")
    ap.add_argument("--zips", type=int, default=0,
                    help="instead: this many sessions each uploading an image-folder zip")
    ap.add_argument("--max-trainers", type=int, default=0,
                    help="the server's NP_MAX_TRAINERS (default: the app's own default)")
    ap.add_argument("--window", type=float, default=30.0,
                    help="seconds of training watched before the clicks")
    ap.add_argument("--clicks", type=int, default=8, help="clicks per session")
    ap.add_argument("--think", type=float, nargs=2, default=THINK, metavar=("LEAST", "MOST"),
                    help="seconds a session waits after an answer before its next click, "
                         "drawn between these (default: %(default)s)")
    ap.add_argument("--browsers-aside", action="store_true",
                    help="run the browsers at a lower priority than the server, as if they "
                         "were the students' own machines")
    args = ap.parse_args()
    ensure_chromium()
    from playwright.sync_api import sync_playwright

    scratch = tempfile.TemporaryDirectory(prefix="np-load-")
    answers = Path(scratch.name) / "answers.tsv"
    env = {"NP_ANSWER_LOG": str(answers)}
    if args.max_trainers:
        env["NP_MAX_TRAINERS"] = str(args.max_trainers)
    limit = RunSlots(args.max_trainers or None).limit  # as the server counts
    links = [zip_link()] * args.zips if args.zips else class_links(args.sessions)
    mode = f"--zips {args.zips}" if args.zips else f"--sessions {args.sessions}"
    started = time.monotonic()
    server = start_server(env)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            result = run_class(browser, server, links, zips=bool(args.zips),
                               window=args.window, clicks=args.clicks, think=tuple(args.think),
                               max_trainers=limit,
                               aside=args.browsers_aside, answer_log=answers,
                               log=lambda s: print(s, flush=True))
            browser.close()
    finally:
        server.stop()
        scratch.cleanup()
    print(f"\npython bench/load.py {mode}"
          + (f" --max-trainers {args.max_trainers}" if args.max_trainers else "")
          + (f" --think {args.think[0]:g} {args.think[1]:g}"
             if tuple(args.think) != THINK else "")
          + (" --browsers-aside" if args.browsers_aside else "")
          + f"  ({psutil.cpu_count()} cores, {time.monotonic() - started:.0f} s in all)")
    print(result.table())
    for e in result.errors[:10]:
        print("  " + e)
    for u in result.unanswered_seen[:10]:
        print("  unanswered: " + u[:400])


if __name__ == "__main__":
    main()
