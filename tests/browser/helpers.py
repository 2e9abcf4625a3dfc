"""What the browser tests and the UI benchmark do to a page."""

from __future__ import annotations

import time
from typing import Any

MAIN = '[data-testid="stMain"]'

# The number of points in the loss chart's traces, or -1 while it is not drawn yet.
POINTS_JS = """() => {
  const charts = [...document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot')];
  const title = c => String((c.layout && c.layout.title && (c.layout.title.text ||
                             c.layout.title)) || '').replace(/<[^>]+>/g, '');
  const loss = charts.find(c => title(c) === 'loss');
  if (!loss || !loss._fullData) return -1;
  // _fullData holds the decoded arrays (the figure itself ships base64 typed arrays).
  return loss._fullData.reduce((n, t) => n + (t._length || 0), 0);
}"""

STEP_JS = """() => {
  const els = [...document.querySelectorAll('[data-testid="stMain"] *')]
    .filter(e => e.children.length === 0 && /epoch \\d+\\/\\d+ · step \\d+/.test(e.textContent));
  if (!els.length) return -1;
  return parseInt(els[0].textContent.match(/step (\\d+)/)[1]);
}"""


def button(page: Any, name: str) -> Any:
    return page.locator(MAIN).get_by_role("button", name=name, exact=True).first


def wait_ready(page: Any, timeout: float = 60) -> None:
    """Until the page's run controls are drawn and no rerun is in flight."""
    page.locator(MAIN).get_by_role("button").first.wait_for(timeout=timeout * 1000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
        timeout=timeout * 1000)


def poll(fn: Any, until: Any, timeout: float, every: float = 0.05) -> Any:
    end = time.monotonic() + timeout
    value = fn()
    while not until(value) and time.monotonic() < end:
        time.sleep(every)
        value = fn()
    return value
