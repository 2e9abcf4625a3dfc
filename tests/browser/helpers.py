"""What the browser tests and the UI benchmark do to a page."""

from __future__ import annotations

import time
from typing import Any

from tests.preset_families import DIVERGE_BY_DESIGN  # noqa: F401  # the browser tests' name for it

MAIN = '[data-testid="stMain"]'

# The loss chart: titled "loss", or drawn under the Playground's or the Train page's key.
LOSS_CHART_JS = """() => {
  const charts = [...document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot')];
  const title = c => String((c.layout && c.layout.title && (c.layout.title.text ||
                             c.layout.title)) || '').replace(/<[^>]+>/g, '');
  return charts.find(c => c.closest('.st-key-pg-loss-curve, .st-key-train-loss'))
    || charts.find(c => title(c) === 'loss');
}"""

# The number of points in the loss chart's traces, or -1 while it is not drawn yet.
POINTS_JS = """() => {
  const loss = (LOSS)();
  if (!loss || !loss._fullData) return -1;
  // _fullData holds the decoded arrays (the figure itself ships base64 typed arrays).
  return loss._fullData.reduce((n, t) => n + (t._length || 0), 0);
}""".replace("LOSS", LOSS_CHART_JS)

STEP_JS = """() => {
  // Not inside charts: a plotly chart holds thousands of nodes, and the step is in words.
  const els = [...document.querySelectorAll('[data-testid="stMain"] :not(svg, svg *)')]
    .filter(e => e.children.length === 0
                 && /epoch \\d+(?:\\/\\d+| of \\d+)? · step \\d+/.test(e.textContent));
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


# --- What a person sees: pictures, status words, cut texts -------------------------------

# Texts that overflow their box, as ../shared/tools/screens.py finds them (an ellipsis or a
# clipped leaf), plus what that check misses: a select box's or number box's shown value
# (an <input>, which has no innerText), any text inside a metric or a button, text pushed
# past the edge of a box that clips it (a multiselect's last tag), and a control's word
# wider than its box (broken in the middle: "Momentu / m").
CUT_JS = """() => {
  const scope = [...document.querySelectorAll(
    '[data-testid="stMainBlockContainer"] *, [data-testid="stSidebar"] *')];
  // Inline elements (a tag's words) have no clientWidth: only their visibility counts.
  const shown = e => e.offsetParent !== null && getComputedStyle(e).visibility !== 'hidden';
  const over = e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1;
  const text = e => (e.innerText || '').trim();
  const style = e => getComputedStyle(e);
  const skip = 'svg, canvas, pre, code, textarea, .js-plotly-plot, [data-testid="stCode"]';
  const control = 'label, button, [data-testid="stWidgetLabel"], [data-testid="stMetric"], '
    + '[role="tab"], [data-baseweb="tag"]';
  const pen = document.createElement('canvas').getContext('2d');
  const cut = [];
  const say = (words, kind, need, room) => cut.push(
    `${words.replace(/\\s+/g, ' ').slice(0, 40)} (${kind}: ${Math.round(need)} px of text `
    + `in ${Math.round(room)} px)`);
  for (const e of scope) {
    if (!shown(e) || e.closest(skip)) continue;
    if (e.matches('input[role="combobox"], input[type="number"]')) {
      if (e.value && over(e)) say(e.value, 'value', e.scrollWidth, e.clientWidth);
      continue;
    }
    if (over(e) && text(e) && !e.querySelector('canvas, svg, img, pre, code, textarea, input')
        && ['ellipsis', 'clip'].includes(style(e).textOverflow)) {
      say(text(e), 'ellipsis', e.scrollWidth, e.clientWidth);
    } else if (over(e) && text(e) && e.children.length === 0
               && ['hidden', 'clip'].includes(style(e).overflowX)) {
      say(text(e), 'clipped', e.scrollWidth, e.clientWidth);
    } else if (over(e) && text(e) && style(e).overflowX !== 'visible'
               && e.closest('button, [data-testid="stMetric"]')
               && !e.querySelector('canvas, svg, img')) {
      say(text(e), e.closest('button') ? 'button' : 'metric', e.scrollWidth, e.clientWidth);
    }
    for (const node of e.childNodes) {
      if (node.nodeType !== Node.TEXT_NODE || !node.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      const r = range.getBoundingClientRect();
      if (!r.width) continue;
      for (let a = e; a && a !== document.body; a = a.parentElement) {
        if (!['hidden', 'clip'].includes(style(a).overflowX)) continue;
        const box = a.getBoundingClientRect();
        if (r.right > box.right + 1 || r.left < box.left - 1) {
          say(node.textContent.trim(), 'past the edge', r.width,
              Math.max(0, Math.min(r.right, box.right) - Math.max(r.left, box.left)));
          break;
        }
      }
      if (e.closest(control)) {
        const cs = style(e);
        pen.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
        const room = e.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
        for (const word of node.textContent.trim().split(/\\s+/)) {
          const need = pen.measureText(word).width;
          if (room > 0 && need > room + 1) say(word, 'word broken', need, room);
        }
      }
    }
  }
  return [...new Set(cut)];
}"""

# The run's status as the page words it: the captions and messages of the main area.
STATUS_JS = """() => [...document.querySelectorAll(
    '[data-testid="stMain"] [data-testid="stCaptionContainer"], '
    + '[data-testid="stMain"] [data-testid="stAlert"], '
    + '[data-testid="stMain"] [data-testid="stProgress"]')]
  .filter(e => e.offsetParent !== null)
  .map(e => e.innerText.trim().replace(/\\s+/g, ' ')).filter(Boolean)"""

# The y values of the loss chart's "train loss" line (the evaluations), as drawn.
TRAIN_LOSS_JS = """() => {
  const loss = (LOSS)();
  const line = loss && (loss._fullData || []).find(t => t.name === 'train loss');
  return line ? Array.from(line.y || []).map(Number) : [];
}""".replace("LOSS", LOSS_CHART_JS)


def status(page: Any) -> list[str]:
    return page.evaluate(STATUS_JS)


def training(page: Any) -> bool:
    """The page says the run is going (the status line reads "Training…")."""
    return any(s.startswith(("Training…", "Training...")) for s in status(page))


def chart(page: Any, key: str) -> Any:
    """A chart drawn with this Streamlit key (its container carries the key as a class)."""
    return page.locator(f'{MAIN} .st-key-{key}').first


def picture(page: Any, key: str) -> bytes | None:
    """A screenshot of the chart as it is on screen (a plotly chart, or the picture drawn in
    its place while training), or None when it is not drawn."""
    box = chart(page, key)
    try:
        if not box.is_visible() or box.locator(".js-plotly-plot, img").count() == 0:
            return None
        return box.screenshot(timeout=5000, animations="disabled")
    except Exception:  # noqa: BLE001  # vanished between the check and the shot
        return None


def why_not_shown(page: Any, key: str) -> str:  # noqa: ANN401
    """What the browser holds where the chart ``key`` should be: for a failure's message."""
    return page.evaluate("""(key) => {
      const c = document.querySelector('.st-key-' + key);
      if (!c) return 'no element';
      const r = c.getBoundingClientRect(), img = c.querySelector('img');
      let faint = 1;
      for (let e = c; e; e = e.parentElement) faint = Math.min(faint, +getComputedStyle(e).opacity);
      return `box ${Math.round(r.width)}x${Math.round(r.height)}, opacity ${faint}, ` +
        `stale ${!!c.closest('[data-stale="true"]')}, ` +
        (img ? `picture ${img.naturalWidth}x${img.naturalHeight} complete ${img.complete}`
             : `chart ${!!c.querySelector('.js-plotly-plot .main-svg')}`) +
        `, skeleton ${!!c.querySelector('[data-testid="stSkeleton"]')}`;
    }""", key)


def pixels_changed(a: bytes, b: bytes, level: int = 8) -> int:
    """How many pixels differ by more than ``level`` (of 255) in some channel; a change
    of size counts as all of them."""
    import io

    from PIL import Image, ImageChops

    x, y = (Image.open(io.BytesIO(p)).convert("RGB") for p in (a, b))
    if x.size != y.size:
        return x.size[0] * x.size[1]
    diff = ImageChops.difference(x, y).convert("L").point(lambda v: 255 if v > level else 0)
    return diff.histogram()[255]


def blank(png: bytes) -> bool:
    """A picture without colour: an empty chart (grey axes and text on white), not a map
    or a drawing, which show their classes in colour."""
    import io

    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("HSV")
    saturated = img.getchannel("S").point(lambda v: 255 if v > 60 else 0)
    return saturated.histogram()[255] < 200


def choose(page: Any, label: str, option: str) -> None:
    """Pick ``option`` (its shown words, in any case) in the select box labelled ``label``."""
    import re

    page.locator(MAIN).get_by_role("combobox", name=label, exact=True).first.click()
    page.get_by_role("option", name=re.compile(rf"^\s*{re.escape(option)}\s*$", re.I)
                     ).first.click()


def metric(page: Any, label: str) -> str | None:
    """The value a metric shows under this label."""
    found = page.locator(f'{MAIN} [data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=label))
    if not found.count():
        return None
    return found.first.locator('[data-testid="stMetricValue"]').inner_text().strip()


def train_loss_shown(page: Any) -> str | None:
    """The training loss as the page prints it: a "Train loss" metric, or a line such as
    "Test loss 0.12 · train 0.10"."""
    import re

    shown = metric(page, "Train loss")
    if shown is not None:
        return shown
    found = re.search(r"\btrain(?:ing)?(?: loss)?\s*:?\s*(-?[\d.,]+(?:e[+-]?\d+)?|–)",
                      page.locator(MAIN).inner_text(), re.I)
    return found.group(1) if found else None


def changes_while_training(page: Any, key: str, what: str,  # noqa: ANN401
                           visible: int = 20) -> None:
    """Click Train, then require the picture ``key`` on screen, not blank, and changed by at
    least ``visible`` pixels between two looks while the page still says it is training."""
    assert poll(lambda: picture(page, key), bool, timeout=20), (
        f"the {what} is not on screen before training")
    button(page, "Train").click()
    assert poll(lambda: training(page), bool, timeout=20), (
        f"the page never said it was training; it showed: {status(page)}")
    time.sleep(1.0)
    # A plotly chart given a new figure is mounted again (Streamlit gives it a new identity),
    # so one instant may catch it between the old drawing and the new: a frame, not a gap.
    before = poll(lambda: picture(page, key), lambda png: png is not None and not blank(png),
                  timeout=20, every=0.3)
    assert before is not None and not blank(before), (
        f"no {what} while training: {why_not_shown(page, key)}; the page showed {status(page)}")
    changed = poll(lambda: pixels_changed(before, picture(page, key) or before),
                   lambda n: n >= visible, timeout=20, every=0.5)
    assert training(page), f"the run ended before a second look: {status(page)}"
    assert changed >= visible, (
        f"the {what} on screen did not change while training ({changed} pixels)")
