"""Live redraws: a fragment that reads the latest snapshot on a timer.

The page never waits for the trainer: each tick takes the newest published
snapshot. Figures are rebuilt only when the snapshot's version changed (versions
never repeat within a process, so a new trainer after an edit never hits an old
figure); in between, the cached ones are sent again (an element a fragment run leaves out
would vanish). When training ends, one full rerun switches the timer off.

Every tick costs the server a little, and one server's sessions share its cores: when more
sessions are watching a run than the server has cores, each one's pace is stretched by
their ratio, so a class at once leaves the server time to answer clicks. A run waiting in
the queue counts too, but its pictures are drawn once, and only its status is looked at,
on one timer for the page.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import streamlit as st

from engine.i18n import language, t
from engine.trainer import Snapshot
from ui.session import Session

REFRESH_CHOICES = (0.25, 0.5, 1.0, 2.0)
DEFAULT_REFRESH = float(os.environ.get("NP_REFRESH", "0.5"))  # seconds; a server setting
ACTIVE = ("running", "queued")
# Sessions watching at full pace: one per core by default (a server setting).
FULL_PACE_SESSIONS = max(1, int(os.environ.get("NP_FULL_PACE_SESSIONS", os.cpu_count() or 1)))
MOST_STRETCH = 10.0  # a crowded server refreshes at most this many times slower
WATCHING_WINDOW = 5.0  # seconds: a session that ticked this recently is watching
REPACE = 1.5  # a running timer is set again when the crowd moved its pace this much

_watching: dict[str, float] = {}  # session id: until when it counts as watching
_watching_lock = threading.Lock()


def _session_id() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else ""


def watched(now: float | None = None) -> int:
    """How many sessions are watching a run now; this one counts from its first tick."""
    now = time.monotonic() if now is None else now
    with _watching_lock:
        for sid in [k for k, until in _watching.items() if now > until]:
            del _watching[sid]
        return len(_watching)


def watch(session_id: str | None = None, now: float | None = None, every: float = 0.0) -> None:
    """Count this session (or ``session_id``) as watching a run, from now (or ``now``) until
    the window has passed, or two of its ticks ``every`` seconds apart if that is longer:
    a session slowed by the crowd must not drop out of it between ticks."""
    now = time.monotonic() if now is None else now
    sid = session_id or _session_id()
    with _watching_lock:
        _watching[sid] = max(_watching.get(sid, now), now + max(WATCHING_WINDOW, 2 * every))


def crowding(now: float | None = None) -> float:
    """How much slower than chosen the live views refresh, for the sessions watching."""
    return min(MOST_STRETCH, max(1.0, watched(now) / FULL_PACE_SESSIONS))


def refresh_interval() -> float:
    return float(st.session_state.get("np-refresh", DEFAULT_REFRESH))


def live_interval(slower: float = 1.0) -> float:
    """Seconds between a live view's redraws: the chosen refresh, for this view, on a
    server shared by the sessions watching now."""
    watch()
    every = refresh_interval() * slower * crowding()
    watch(every=every)
    return every


def refresh_picker() -> None:
    choices = sorted({*REFRESH_CHOICES, refresh_interval()})
    st.select_slider(t("Refresh every (s)"), choices, value=refresh_interval(), key="np-refresh")
    if crowding() > 1:
        st.caption(t("{n} sessions are watching a run on this server, so the views refresh "
                     "{times:.1f} times slower than chosen.", n=watched(), times=crowding()))


def live(session: Session, draw: Callable[[Snapshot], None], key: str,
         slower: float = 1.0) -> None:
    """Call ``draw(snapshot)`` now, and again on a timer while the trainer runs.

    ``slower`` stretches the interval for views that change less than the loss curve,
    so each refresh only redraws what is worth redrawing."""
    snap = session.get_trainer().snapshot()
    if snap.status == "queued":
        with st.container():
            draw(snap)
        st.session_state[_QUEUED_VIEWS] = True  # the page's one look is set at its end
        return
    running = snap.status in ACTIVE
    # Only a session with a run counts as watching.
    every = st.session_state[f"{key}-every"] = live_interval(slower) if running else None
    # What this page run drew the controls for: a run that ends (or diverges) before the
    # first tick must still bring the full redraw, whatever an earlier tick had seen.
    st.session_state[f"{key}-active"] = running

    def tick() -> None:
        snap = session.get_trainer().snapshot()
        was = st.session_state[f"{key}-active"]
        st.session_state[f"{key}-active"] = snap.status in ACTIVE
        if snap.status in ACTIVE:
            _keep_pace(key, live_interval(slower))
        draw(snap)
        if was and snap.status not in ACTIVE:
            st.rerun()  # training ended: redraw the whole page once, timer off

    # In a box of its own: a fragment's elements sit in its parent by position, so a tick
    # that draws more of them than the page run did (a queue message, a first evaluation)
    # would write over the next live view's, and the browser gives up on the page.
    with st.container():
        st.fragment(tick, run_every=every if running else None)()


def _keep_pace(key: str, every: float) -> None:
    """Set the running timer to ``every`` seconds if the crowd has moved its pace since.

    Streamlit sends a fragment's timer to the browser only from the page run that defines
    it, so a run started while the class was still arriving would tick at that first pace
    to its end, and twenty browsers redrawing at full pace leave the server no time for
    clicks. The tick sends the same message again, with the pace the crowd allows now."""
    was = st.session_state.get(f"{key}-every")
    if was and max(every / was, was / every) < REPACE:
        return
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    from streamlit.runtime.scriptrunner_utils.script_run_context import ThreadState

    ctx, fragment = get_script_run_ctx(), ThreadState.get().fragment_id
    if ctx is None or not fragment:
        return
    msg = ForwardMsg()
    msg.auto_rerun.interval = every
    msg.auto_rerun.fragment_id = fragment
    ctx.enqueue(msg)
    st.session_state[f"{key}-every"] = every


_QUEUED_VIEWS = "np-queued-views"  # this page run drew live views of a queued run
_LOOK = "np-queued-look"


def look_while_queued(session: Session) -> None:
    """At the end of a page run that drew a queued run's live views: one timer for the page
    that reads the run's status, and draws the page again once the run has its slot (or
    has ended). A queued run has nothing new to draw until it starts.

    One timer, not one per view, at the chosen refresh (not a picture's quicker one):
    every fragment run makes the browser render the whole page again, whatever the fragment
    drew (some 40 ms for the Playground), and a class's queued pages are most of its pages.
    """
    if not st.session_state.pop(_QUEUED_VIEWS, False):
        return
    every = st.session_state[f"{_LOOK}-every"] = live_interval()

    def look() -> None:
        _keep_pace(_LOOK, live_interval())
        if session.get_trainer().snapshot().status != "queued":
            st.rerun()

    st.fragment(look, run_every=every)()


class _Drawn(NamedTuple):
    shows: object  # held, so an identity seen again is the same data
    digest: bytes
    language: str
    figure: object


def cached_figure(key: str, shows: object, build: Callable[[], object]) -> object:
    """The figure for what it ``shows``, built once. ``shows`` is what the figure is drawn
    from: the snapshot's version for a figure of the whole run, or the data itself (a
    probe's record, the evaluations) for one that changes less often than the run
    publishes. Such a figure is not built again at every tick or click, and the same figure
    sent again is one the browser keeps: only a chart whose figure changed is drawn anew.

    A probe's record is one object until it records again, so the same objects (or a tuple
    of them) are a hit at no cost; others are compared by a fingerprint of their content.
    Versions never repeat within a process, so a figure is never taken from another
    experiment's trainer. ``key`` names the figure and its options, unique across pages.
    """
    store = st.session_state.setdefault("np-figures", {})
    hit, lang = store.get(key), language()  # its words are in the language it was built in
    if hit is not None and hit.language == lang and _same_objects(hit.shows, shows):
        return hit.figure
    content = digest(shows)
    if hit is None or hit.language != lang or hit.digest != content:
        hit = _Drawn(shows, content, lang, build())
    else:
        hit = hit._replace(shows=shows)  # the next look at these objects is free
    store[key] = hit
    return hit.figure


def _same_objects(a: object, b: object) -> bool:
    if a is b:
        return True
    return (isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b)
            and all(x is y for x, y in zip(a, b, strict=True)))


def digest(data: object) -> bytes:
    """A short fingerprint of numbers, strings, arrays and the lists and dicts of them."""
    h = hashlib.blake2b(digest_size=16)
    _feed(h, data)
    return h.digest()


def _feed(h: Any, data: object) -> None:  # noqa: ANN401
    if isinstance(data, np.ndarray) and data.dtype != object:
        h.update(f"a{data.dtype}{data.shape}".encode())
        h.update(np.ascontiguousarray(data).tobytes())
    elif isinstance(data, dict):
        h.update(f"d{len(data)}".encode())
        for k, v in data.items():
            _feed(h, k)
            _feed(h, v)
    elif isinstance(data, (list, tuple, np.ndarray)):
        h.update(f"l{len(data)}".encode())
        for v in data:
            _feed(h, v)
    else:  # a number, a string, None: its type and its exact value
        h.update(f"{type(data).__name__}:{data!r};".encode())
