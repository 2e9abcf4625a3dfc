"""Short links: a content-addressed store of share links, so a class types (or scans) a
few characters instead of a few hundred.

A stored link is the address's query as data: the share string ``s`` and the viewing
choices beside it (presentation mode, language, hidden controls, lesson step). Its id is a
short hash of that content, so the same link always gets the same id and an id cannot
point at anything else. The store is one SQLite file under ``NP_LINKS_DIR`` (else
``cache/links``), bounded in count and bytes (the least recently used go first). What
comes back out is checked again, as any link is: the form, the hash, and the experiment.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from pathlib import Path

from engine.errors import Issue, SpecError
from engine.i18n import t
from engine.presets import MAX_SHARE, decode_share
from engine.spec import Experiment
from engine.validate import load_experiment

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)
# The query parameters a short link may carry: the experiment and the viewing choices that
# ui/session.py keeps in the address (VIEW_PARAMS).
KEYS = ("s", "present", "lang", "hide", "step")
MAX_VIEW_VALUE = 2000  # characters of one viewing choice
ID_LENGTHS = (8, 12, 16)  # a longer id only when a shorter one is taken by other content
LINK_ID = re.compile(r"[0-9A-Za-z]{8,16}")
_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SAFE_VALUE = re.compile(r"[\x21-\x7e]*")  # printable ASCII, no spaces


def links_dir() -> Path:
    return Path(os.environ.get("NP_LINKS_DIR") or ROOT / "cache" / "links")


def link_id(body: str, length: int = ID_LENGTHS[0]) -> str:
    """The id of a stored link's content: its SHA-256 in base 62, cut to ``length``."""
    n = int.from_bytes(hashlib.sha256(body.encode("utf-8")).digest(), "big")
    out = []
    while len(out) < length:
        n, r = divmod(n, 62)
        out.append(_DIGITS[r])
    return "".join(out)


def _bad(message: str, code: str) -> SpecError:
    return SpecError(Issue("link", message, code))


def check_params(params: Mapping[str, str]) -> dict[str, str]:
    """A link's query, checked: known keys only, short printable values, ``s`` present.
    The experiment inside ``s`` is checked by ``open_link``."""
    out = {}
    for key, value in params.items():
        if key not in KEYS:
            raise _bad(t("a short link cannot hold {key}; it holds only {keys}", key=key,
                         keys=", ".join(KEYS)), "link_key")
        limit = MAX_SHARE if key == "s" else MAX_VIEW_VALUE
        if not isinstance(value, str) or len(value) > limit or not _SAFE_VALUE.fullmatch(value):
            raise _bad(t("the short link's {key} is not a short plain text", key=key),
                       "link_value")
        out[key] = value
    if not out.get("s"):
        raise _bad(t("a short link needs an experiment (s=...)"), "link_value")
    return out


class LinkStore:
    """Links by id in ``<root>/links.sqlite``; at most ``max_links`` of them and
    ``max_bytes`` of content, the least recently used removed first."""

    def __init__(self, root: Path | None = None, max_links: int = 10_000,
                 max_bytes: int = 32_000_000) -> None:
        self.root = Path(root) if root is not None else links_dir()
        self.max_links, self.max_bytes = max_links, max_bytes
        self.path = self.root / "links.sqlite"

    @contextmanager
    def _open(self) -> Iterator[sqlite3.Connection]:
        """A connection in one transaction; a store that cannot be read or written (a
        damaged file, a full or read-only disk) is a SpecError saying what still works,
        never a crash of the page that opened the link."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path, timeout=10)) as con, con:
                con.execute("CREATE TABLE IF NOT EXISTS links (id TEXT PRIMARY KEY, body "
                            "TEXT NOT NULL, size INTEGER NOT NULL, used REAL NOT NULL)")
                yield con
        except (sqlite3.Error, OSError) as e:
            log.error("short links at %s: %s", self.path, e)  # the path for whoever runs it
            raise _bad(t("short links cannot be used on this server just now; share the "
                         "long link (the address in the browser) instead"),
                       "link_store") from None

    def put(self, params: Mapping[str, str]) -> str:
        """Store a link's query (checked first; its experiment too) and return its id."""
        clean = check_params(params)
        load_experiment(decode_share(clean["s"]))
        body = json.dumps(clean, sort_keys=True, separators=(",", ":"))
        now = time.time()
        with self._open() as con:
            for length in ID_LENGTHS:
                key = link_id(body, length)
                row = con.execute("SELECT body FROM links WHERE id = ?", (key,)).fetchone()
                if row is None or row[0] == body:
                    break
            else:  # three different contents under one 16-character hash: not by chance
                raise _bad(t("that link cannot be stored; share the long link instead"),
                           "link_collision")
            con.execute("INSERT OR REPLACE INTO links VALUES (?, ?, ?, ?)",
                        (key, body, len(body), now))
            self._trim(con)
        return key

    def _trim(self, con: sqlite3.Connection) -> None:
        count, size = con.execute("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM links").fetchone()
        if count <= self.max_links and size <= self.max_bytes:
            return
        kept, total = 0, 0
        for key, n in con.execute("SELECT id, size FROM links ORDER BY used DESC").fetchall():
            if kept < self.max_links and total + n <= self.max_bytes:
                kept, total = kept + 1, total + n
            else:
                con.execute("DELETE FROM links WHERE id = ?", (key,))

    def get(self, key: str) -> dict[str, str]:
        """The query stored under ``key``; a damaged or unknown id is a SpecError saying
        what to do."""
        key = (key or "").strip()
        if not LINK_ID.fullmatch(key):
            raise _bad(t("the short link {id} is damaged (an id is 8 to 16 letters and "
                         "digits): copy the whole link again", id=key[:40]), "link_damaged")
        with self._open() as con:
            row = con.execute("SELECT body FROM links WHERE id = ?", (key,)).fetchone()
            if row is None:
                raise _bad(t("no short link {id} on this server (it may have been removed "
                             "to make room): ask for the link again", id=key),
                           "link_unknown")
            con.execute("UPDATE links SET used = ? WHERE id = ?", (time.time(), key))
        body = row[0]
        try:
            params = json.loads(body)
            ok = isinstance(params, dict) and link_id(body, len(key)) == key
        except ValueError:
            ok = False
        if not ok:
            raise _bad(t("the short link {id} is damaged on this server: ask for the link "
                         "again", id=key), "link_damaged")
        return check_params(params)

    def __len__(self) -> int:
        with self._open() as con:
            return con.execute("SELECT COUNT(*) FROM links").fetchone()[0]


def open_link(key: str, store: LinkStore | None = None) -> tuple[Experiment, dict[str, str]]:
    """The experiment a short link holds, validated as any link, and its viewing choices."""
    params = (store or LinkStore()).get(key)
    exp = load_experiment(decode_share(params.pop("s")))
    return exp, params
