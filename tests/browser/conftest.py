"""A real app server and a real browser (Debian's chromium driven by Playwright)."""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "artifacts"


def ensure_chromium() -> None:
    """Install Debian's chromium when it is missing (never a browser download)."""
    _apt_install("chromium", lambda: Path(CHROMIUM).exists(),
                 "Debian's chromium is missing: run `apt-get install -y chromium`")


def _has_cjk_font() -> bool:
    found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True,
                           check=False) if shutil.which("fc-list") else None
    return found is not None and bool(found.stdout.strip())


def ensure_cjk_font() -> None:
    """Install Debian's Noto CJK fonts when no font has Chinese glyphs: without one the
    browser draws the Chinese pages as empty boxes."""
    _apt_install("fonts-noto-cjk", _has_cjk_font,
                 "No font with Chinese glyphs: run `apt-get install -y fonts-noto-cjk`")


def _apt_install(package: str, present: Callable[[], bool], otherwise: str) -> None:
    """Install ``package`` with apt unless ``present()``. The suite's workers start at once
    and apt takes one at a time (a second one fails on its lock), so each waits for the
    others here and looks again before installing."""
    if present():
        return
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.fail(otherwise)
    with open(Path(tempfile.gettempdir()) / "np-apt.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if present():  # another worker installed it meanwhile
            return
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-q", package], check=True, env=env,
                       stdout=subprocess.DEVNULL)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    def __init__(self, port: int, proc: subprocess.Popen, log: Path) -> None:
        self.port, self.proc, self.log = port, proc, log
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def cpu_seconds(self) -> float:
        import psutil

        t = psutil.Process(self.proc.pid).cpu_times()
        return t.user + t.system


def start_server(extra_env: dict[str, str] | None = None) -> AppServer:
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / f"server-{port}.log"
    env = {k: v for k, v in os.environ.items() if k != "NP_CORES"}  # the server's own
    env = {**env, "NP_IDLE_TIMEOUT": "600", **(extra_env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--server.fileWatcherType", "none", "--server.disconnectedSessionTTL", "2",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return AppServer(port, proc, log)
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.3)
    proc.kill()
    pytest.fail(f"the app did not start; its log:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def app_server() -> Iterator[AppServer]:
    server = start_server()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    ensure_chromium()
    ensure_cjk_font()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)
