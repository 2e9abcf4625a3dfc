"""Files some data sets download once: where they are kept, how they are fetched and checked.

Each file is pinned by its SHA-256 (the checksums TensorFlow Datasets publishes for the
same mirrors), so a half-written, cut or substituted file is never read: a download goes
to ``<name>.part`` and is renamed only once its checksum matches; a cut one is resumed
(HTTP Range) or restarted; a kept file that no longer matches is deleted and fetched
again, and the data set's notes say so.

The folder is ``$NP_DATA_DIR`` (the command line's ``--data-dir`` sets it), else
``cache/data`` in the project, with one subfolder per data set. A user who already has
the files puts them there (or points ``NP_DATA_DIR`` at a folder laid out that way).
Messages name the folder relative to the project, or by the variable's name, never as an
absolute server path.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path

from engine.errors import Issue, SpecError
from engine.i18n import t

ENV_DIR = "NP_DATA_DIR"
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = ROOT / "cache" / "data"
CHUNK = 1 << 16
TIMEOUT_S = 30.0  # per connection attempt and per read: a stalled mirror is a failure
ATTEMPTS = 3  # a cut download is resumed this many times in one call before giving up
# After a failed download, loads within this many seconds fail at once with the same
# message instead of waiting on the network again (a page re-checks its spec on every rerun).
RETRY_AFTER_S = 30.0

Progress = Callable[[int, int], None]  # (bytes done, bytes in all) over a data set's files


@dataclass(frozen=True)
class RemoteFile:
    name: str
    url: str
    sha256: str
    size: int  # bytes


_MNIST = "https://storage.googleapis.com/cvdf-datasets/mnist/"
_FASHION = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
SOURCES: dict[str, tuple[RemoteFile, ...]] = {
    "mnist": (
        RemoteFile("train-images-idx3-ubyte.gz", _MNIST + "train-images-idx3-ubyte.gz",
                   "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422),
        RemoteFile("train-labels-idx1-ubyte.gz", _MNIST + "train-labels-idx1-ubyte.gz",
                   "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881),
        RemoteFile("t10k-images-idx3-ubyte.gz", _MNIST + "t10k-images-idx3-ubyte.gz",
                   "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877),
        RemoteFile("t10k-labels-idx1-ubyte.gz", _MNIST + "t10k-labels-idx1-ubyte.gz",
                   "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542),
    ),
    "fashion_mnist": (
        RemoteFile("train-images-idx3-ubyte.gz", _FASHION + "train-images-idx3-ubyte.gz",
                   "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                   26421880),
        RemoteFile("train-labels-idx1-ubyte.gz", _FASHION + "train-labels-idx1-ubyte.gz",
                   "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29515),
        RemoteFile("t10k-images-idx3-ubyte.gz", _FASHION + "t10k-images-idx3-ubyte.gz",
                   "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4422102),
        RemoteFile("t10k-labels-idx1-ubyte.gz", _FASHION + "t10k-labels-idx1-ubyte.gz",
                   "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5148),
    ),
    "cifar10": (
        RemoteFile("cifar-10-binary.tar.gz", "https://www.cs.toronto.edu/~kriz/"
                   "cifar-10-binary.tar.gz",
                   "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
                   170052171),
    ),
}

_PROGRESS: ContextVar[Progress | None] = ContextVar("download_progress", default=None)
_LOCK = threading.Lock()
_FILE_LOCKS: dict[Path, threading.Lock] = {}
_VERIFIED: set[tuple[str, int, int]] = set()  # (path, size, mtime): hashed once per process
_FAILED: dict[str, tuple[float, SpecError]] = {}


class _Offline(Exception):
    """The server could not be reached or refused the file."""


class _Cut(Exception):
    """The connection ended before the whole file arrived."""


def data_dir() -> Path:
    """The folder downloaded data sets are kept in."""
    env = os.environ.get(ENV_DIR)
    return Path(env).expanduser() if env else DEFAULT_DIR


def folder(dataset: str) -> Path:
    return data_dir() / dataset


def where(dataset: str) -> str:
    """The data set's folder as the user may be shown it: relative to the project, or
    by the environment variable that chose it."""
    path = folder(dataset).resolve()
    if path.is_relative_to(ROOT):
        return path.relative_to(ROOT).as_posix()
    return f"${ENV_DIR}/{dataset}"


@contextlib.contextmanager
def reporting(progress: Progress | None) -> Iterator[None]:
    """Report the downloads started inside the block (e.g. by ``load_data``) to ``progress``."""
    token = _PROGRESS.set(progress)
    try:
        yield
    finally:
        _PROGRESS.reset(token)


def missing(dataset: str) -> list[RemoteFile]:
    """The data set's files not in its folder yet (by presence and size; the checksum is
    checked when the data set is loaded). Empty for data sets that download nothing."""
    out = []
    for f in SOURCES.get(dataset, ()):
        path = folder(dataset) / f.name
        if not path.is_file() or path.stat().st_size != f.size:
            out.append(f)
    return out


def ensure(dataset: str, progress: Progress | None = None,
           retry: bool = False) -> tuple[dict[str, Path], list[str]]:
    """The data set's files, downloaded and checked: (path by file name, notes for the user).

    Raises SpecError (at ``data.name``) when a file cannot be had; a failure is repeated
    without a new attempt for ``RETRY_AFTER_S`` seconds unless ``retry``."""
    failed = _FAILED.get(dataset)
    if failed and not retry and time.monotonic() - failed[0] < RETRY_AFTER_S:
        raise failed[1]
    progress = progress or _PROGRESS.get()
    files = SOURCES[dataset]
    notes: list[str] = []
    try:
        todo = [f for f in files if not _good(dataset, f, notes)]
        total = sum(f.size for f in todo)
        done = 0
        for f in todo:
            _fetch(dataset, f, _offset(progress, done, total))
            done += f.size
    except SpecError as e:
        # The deleted files must not go unmentioned when their download fails.
        error = SpecError([*e.issues, *(Issue("data.name", n, "data_deleted") for n in notes)])
        _FAILED[dataset] = (time.monotonic(), error)
        raise error from None
    _FAILED.pop(dataset, None)
    return {f.name: folder(dataset) / f.name for f in files}, notes


def _offset(progress: Progress | None, start: int, total: int) -> Progress | None:
    if progress is None:
        return None
    return lambda done, _size: progress(start + done, total)


def _lock(path: Path) -> threading.Lock:
    with _LOCK:
        return _FILE_LOCKS.setdefault(path, threading.Lock())


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _good(dataset: str, f: RemoteFile, notes: list[str]) -> bool:
    """Whether the kept file is there and matches; a mismatching one is deleted (noted)."""
    path = folder(dataset) / f.name
    with _lock(path):
        if not path.is_file():
            return False
        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime_ns)
        if key in _VERIFIED:
            return True
        if st.st_size == f.size and sha256(path) == f.sha256:
            _VERIFIED.add(key)
            return True
        path.unlink(missing_ok=True)
        notes.append(t("{file} in {folder} did not match its published checksum (damaged or a "
                       "different file), so it was deleted and downloaded again", file=f.name,
                       folder=where(dataset)))
        return False


def _fetch(dataset: str, f: RemoteFile, progress: Progress | None) -> None:
    """Download ``f`` into the data set's folder, resuming a cut transfer."""
    dest = folder(dataset) / f.name
    part = dest.with_name(dest.name + ".part")
    with _lock(dest):
        if dest.is_file():  # another session fetched it while this one waited
            return
        restarted = resumed = False
        attempt = 0
        while True:
            attempt += 1
            try:
                resumed = _stream(f, part, progress) or resumed
            except _Offline as e:
                raise _offline_error(dataset, str(e)) from None
            except _Cut as e:
                resumed = True  # the next attempt continues this piece
                if attempt < ATTEMPTS:
                    continue
                raise SpecError(Issue(
                    "data.name", t("the download of {file} stopped at {done} (the connection "
                                   "was cut); load the data set again to resume it",
                                   file=f.name, done=e), "data_incomplete")
                ) from None
            if sha256(part) == f.sha256:
                os.replace(part, dest)  # atomic: the final name only ever holds a good file
                st = dest.stat()
                _VERIFIED.add((str(dest), st.st_size, st.st_mtime_ns))
                return
            part.unlink(missing_ok=True)
            if resumed and not restarted:  # a continued piece may not belong: start afresh once
                restarted, resumed = True, False
                continue
            raise SpecError(Issue(
                "data.name", t("the downloaded {file} does not match its published checksum, "
                               "so it was deleted and not used; load the data set again to "
                               "download it once more (if this repeats, the mirror {host} "
                               "serves a different file)", file=f.name, host=_host(f.url)),
                "data_checksum"))


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc


def _stream(f: RemoteFile, part: Path, progress: Progress | None) -> bool:
    """One HTTP transfer into ``part``, continuing what it holds when the server allows
    (then True). Raises _Cut when the transfer ends early, _Offline when none starts."""
    start = part.stat().st_size if part.is_file() else 0
    if start >= f.size:  # nothing left to ask for: the piece is wrong, start again
        part.unlink()
        start = 0
    req = urllib.request.Request(f.url, headers={"User-Agent": "neural-playground"})
    if start:
        req.add_header("Range", f"bytes={start}-")
    try:
        resp = urllib.request.urlopen(req, timeout=TIMEOUT_S)  # noqa: S310 - pinned URLs
    except urllib.error.HTTPError as e:
        if e.code == 416 and start:  # the server will not resume this piece
            part.unlink(missing_ok=True)
            raise _Cut(t("{done} of {size}", done=_mb(start), size=_mb(f.size))) from None
        raise _Offline(t("the server answered {code} {reason}", code=e.code,
                         reason=e.reason)) from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)  # e.g. "Connection refused", without its errno
        raise _Offline(t("no connection: {reason}",
                         reason=getattr(reason, "strerror", None) or reason)) from None
    part.parent.mkdir(parents=True, exist_ok=True)  # only once there is something to keep
    with resp:
        resumed = resp.status == 206 and _range_start(resp.headers.get("Content-Range")) == start
        done = start if resumed else 0
        with open(part, "ab" if resumed else "wb") as out:
            try:
                while chunk := resp.read(CHUNK):
                    out.write(chunk)
                    done += len(chunk)
                    if done > f.size:  # not the pinned file: its checksum will say so
                        break
                    if progress:
                        progress(done, f.size)
            except (OSError, HTTPException):  # reset or stalled mid-transfer: keep what came
                pass
    if done < f.size:
        raise _Cut(t("{done} of {size}", done=_mb(done), size=_mb(f.size)))
    return resumed


def _range_start(content_range: str | None) -> int | None:
    """The first byte of ``bytes a-b/total``."""
    try:
        return int(content_range.split()[1].split("-")[0])  # type: ignore[union-attr]
    except (AttributeError, IndexError, ValueError):
        return None


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.0f} kB"


def _offline_error(dataset: str, reason: str) -> SpecError:
    files = missing(dataset) or list(SOURCES[dataset])
    urls = ", ".join(f.url for f in files)
    place = where(dataset)
    if place.startswith("$"):
        place = t("{place} (the data folder {env} names; --data-dir sets it on the command line)",
                  place=place, env=ENV_DIR)
    if len(files) > 1:
        text = t("{dataset} needs {n} files that could not be downloaded ({reason}). Download "
                 "{urls} and put them in {place} as they are (still compressed), then load the "
                 "data set again", dataset=dataset, n=len(files), reason=reason, urls=urls,
                 place=place)
    else:
        text = t("{dataset} needs 1 file that could not be downloaded ({reason}). Download "
                 "{urls} and put it in {place} as it is (still compressed), then load the data "
                 "set again", dataset=dataset, reason=reason, urls=urls, place=place)
    return SpecError(Issue("data.name", text, "data_offline"))

