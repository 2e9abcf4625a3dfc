"""Saved runs: a finished run's experiment, curves, figures and weights, kept on disk.

One SQLite database (``<root>/runs.sqlite``) holds a row per run: its owner, name, time,
the experiment (canonical JSON), the metric history and the summary figures. The weights
lie beside it as safetensors files (``<root>/weights/<run id>.safetensors``): plain
tensors, never pickle. ``<root>`` is ``NP_RUNS_DIR``, else ``cache/runs`` in the project.

Atomic writes: a save writes the weights to a temporary file, fsyncs it and renames it into
place *before* the row is committed, and the row carries the file's SHA-256. A process
killed at any moment therefore leaves either no row (and at worst an orphan file, swept
later) or a row whose weights are complete. A delete commits first and unlinks after.
A save the disk refuses (full, or past a file-size limit) is one line saying so, and
leaves neither file nor row behind.

Ownership: every run has an ``owner`` string (the app gives each browser session a random
token); only that owner lists, loads, renames or deletes it, and another owner's run looks
exactly like a missing one. The run id (``secrets.token_urlsafe``) is unguessable, and it is
a capability for one thing only: ``weights_by_id`` lets an experiment's
``train.init_from.run`` start from those weights, so a teacher can share a fine-tuning
link with a class without sharing the run itself.

Bounds: names are cut to ``MAX_NAME`` characters, and an owner keeps at most ``MAX_RUNS``
runs (``NP_MAX_RUNS``); a save beyond that is refused with a message rather than dropping
the oldest run, so nothing the user kept disappears behind their back.

A row that cannot be used (its weights file missing or damaged, its JSON broken, its
experiment no longer valid) is reported with one line naming the run and skipped.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import math
import os
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import ValidationError
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from engine.errors import SpecError
from engine.i18n import N_, t
from engine.spec import Experiment

log = logging.getLogger(__name__)

PROJECT = Path(__file__).resolve().parent.parent
ROOT_ENV = "NP_RUNS_DIR"
DB_NAME = "runs.sqlite"
MAX_NAME = 120  # the same bound as an experiment's own name
MAX_OWNER = 128
MAX_RUNS = int(os.environ.get("NP_MAX_RUNS", "50"))  # per owner
MAX_HISTORY_BYTES = 4 * 2**20  # the trainer's history is bounded far below this
# An unreferenced weights file younger than this may belong to a save in progress in
# another process (renamed, row not yet committed), so the sweep leaves it alone.
ORPHAN_AGE = 600.0  # seconds
RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
FORMAT = "np-run-1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    created REAL NOT NULL,
    spec TEXT NOT NULL,
    history TEXT NOT NULL,
    summary TEXT NOT NULL,
    weights_sha256 TEXT NOT NULL,
    weights_bytes INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_owner ON runs (owner, created);
"""


# What the user can do about a full disk: the runs they keep are the space they control.
DISK_FULL = N_("The server's disk is full, so this run was not saved. Delete saved runs you "
               "no longer need on the Saved runs page, or ask whoever runs the server to "
               "free space, then save again.")


class RunError(ValueError):
    """A saved-runs operation that cannot be done, in one line for the user."""


@dataclass(frozen=True)
class RunInfo:
    id: str
    name: str
    created: float  # seconds since the epoch
    summary: dict[str, Any]  # final figures: test_loss, test_accuracy, step, epoch...
    experiment: str  # the experiment's own name, for the list

    def figure(self, key: str) -> float | None:
        value = self.summary.get(key)
        return float(value) if isinstance(value, int | float) else None


@dataclass(frozen=True)
class SavedRun:
    info: RunInfo
    spec: Experiment
    history: dict[str, dict[str, np.ndarray]]  # "steps" and "evals": column -> values
    summary: dict[str, Any]

    def snapshot(self) -> Any:  # noqa: ANN401 (engine.trainer.Snapshot, imported late)
        """The run as a finished trainer's snapshot, so the pages' curves draw it as is."""
        from engine.trainer import FINISHED, Snapshot

        s = self.summary
        return Snapshot(
            status=FINISHED, step=int(s.get("step", 0)), epoch=int(s.get("epoch", 0)),
            epochs=s.get("epochs"), steps_per_epoch=int(s.get("steps_per_epoch", 1)),
            lr=float(s.get("lr", self.spec.train.optimizer.lr)), steps_per_sec=0.0,
            elapsed=float(s.get("elapsed", 0.0)), steps=self.history.get("steps", {}),
            evals=self.history.get("evals", {}), probes={}, stop_reason=s.get("stop_reason"),
            seed=int(s.get("seed", self.spec.train.seed)),
            final={k: float(v[-1]) for k, v in self.history.get("evals", {}).items()
                   if len(v)})


def default_root() -> Path:
    return Path(os.environ.get(ROOT_ENV) or PROJECT / "cache" / "runs")


class RunStore:
    """Saved runs under ``root`` (default: ``default_root()``); safe across threads and
    processes (each call opens its own connection)."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()
        self.db_path = self.root / DB_NAME
        self.weights_dir = self.root / "weights"
        self._ready = False
        self._lock = threading.Lock()
        # (run id, size, mtime_ns) of weights files whose SHA-256 was checked: a listing
        # reads each file once per process, not once per page run.
        self._verified: set[tuple[str, int, int]] = set()

    # storage ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self._prepare()
        con = sqlite3.connect(self.db_path, timeout=30.0, isolation_level=None)
        try:
            con.execute("PRAGMA synchronous=FULL")
            yield con
        except sqlite3.OperationalError as e:  # locked past the timeout, disk full...
            if getattr(e, "sqlite_errorname", "") == "SQLITE_FULL":
                raise RunError(t(DISK_FULL)) from None
            raise RunError(t("The saved-runs database {path} is busy or cannot be written "
                             "({error}); try again in a moment.", path=self._db_name(),
                             error=str(e))) from None
        except sqlite3.DatabaseError as e:
            raise RunError(t("The saved-runs database {path} cannot be read ({error}); move "
                             "it away to start a new one.", path=self._db_name(),
                             error=str(e))) from None
        finally:
            con.close()

    def _prepare(self) -> None:
        """Create the folders and the table when first needed."""
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            try:
                self.weights_dir.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise RunError(t("The folder for saved runs, {path}, cannot be created "
                                 "({error}); set NP_RUNS_DIR to a folder the server may "
                                 "write.", path=str(self.root), error=e.strerror or str(e))
                               ) from None
            con = sqlite3.connect(self.db_path, timeout=30.0, isolation_level=None)
            try:
                # WAL: readers (other sessions listing) never wait for a writer.
                con.execute("PRAGMA journal_mode=WAL")
                con.executescript(_SCHEMA)
            except sqlite3.DatabaseError as e:
                if getattr(e, "sqlite_errorname", "") == "SQLITE_FULL":
                    raise RunError(t(DISK_FULL)) from None
                raise RunError(t("The saved-runs database {path} cannot be read ({error}); "
                                 "move it away to start a new one.", path=self._db_name(),
                                 error=str(e))) from None
            finally:
                con.close()
            self._ready = True

    def _db_name(self) -> str:
        """The database as messages name it: its file name; the folder goes to the log."""
        log.error("saved-runs database %s is not usable", self.db_path)
        return self.db_path.name

    def weights_path(self, run_id: str) -> Path:
        return self.weights_dir / f"{run_id}.safetensors"

    # the API --------------------------------------------------------------------------------
    def save(self, experiment: Experiment | Mapping[str, Any],
             history: Mapping[str, Mapping[str, Any]], summary: Mapping[str, Any],
             state_dict: Mapping[str, torch.Tensor], name: str, owner: str) -> str:
        """Keep a run; returns its new id. Refused (RunError) past ``MAX_RUNS`` for the owner."""
        owner = _check_owner(owner)
        exp = experiment if isinstance(experiment, Experiment) else Experiment.model_validate(
            dict(experiment))
        name = clean_name(name) or clean_name(exp.meta.name) or t("Untitled run")
        history_json = json.dumps({part: {k: _plain(v) for k, v in cols.items()}
                                   for part, cols in history.items()}, allow_nan=False)
        if len(history_json) > MAX_HISTORY_BYTES:
            raise RunError(t("This run's history is too long to save ({mb:.1f} MB; at most "
                             "{limit} MB).", mb=len(history_json) / 2**20,
                             limit=MAX_HISTORY_BYTES // 2**20))
        summary_json = json.dumps({k: _plain(v) for k, v in summary.items()}, allow_nan=False)
        spec_json = json.dumps(exp.to_dict(), sort_keys=True, separators=(",", ":"))
        with self._db() as con:  # before any file is written: a full account costs nothing
            self._check_room(con, owner)
        self.sweep()
        run_id = secrets.token_urlsafe(16)
        tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in state_dict.items()}
        blob = st_save(tensors, metadata={"format": FORMAT, "run": run_id})
        path = self.weights_path(run_id)
        try:
            try:
                _write_atomic(path, blob)  # complete on disk before the row can point at it
            except OSError as e:
                raise RunError(write_problem(e, len(blob))) from None
            with self._db() as con:
                con.execute("BEGIN IMMEDIATE")  # the count and the insert as one step
                try:
                    self._check_room(con, owner)
                    con.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                (run_id, owner, name, time.time(), spec_json, history_json,
                                 summary_json, hashlib.sha256(blob).hexdigest(), len(blob)))
                    con.execute("COMMIT")
                except BaseException:
                    # SQLite may have rolled back already (a full disk does): a second
                    # ROLLBACK would then replace the real error with its own.
                    if con.in_transaction:
                        with contextlib.suppress(sqlite3.Error):
                            con.execute("ROLLBACK")
                    raise
        except BaseException:
            path.unlink(missing_ok=True)  # no row points at it, so it must not stay
            raise
        return run_id

    def _check_room(self, con: sqlite3.Connection, owner: str) -> None:
        (n,) = con.execute("SELECT COUNT(*) FROM runs WHERE owner = ?", (owner,)).fetchone()
        if n >= MAX_RUNS:
            raise RunError(t("You already keep {n} saved runs, the most allowed; delete one "
                             "to save this one.", n=n))

    def scan(self, owner: str) -> tuple[list[RunInfo], list[str]]:
        """The owner's usable runs, newest first, and one line per run that was skipped."""
        owner = _check_owner(owner)
        with self._db() as con:
            rows = con.execute(
                "SELECT id, name, created, spec, summary, weights_sha256, weights_bytes "
                "FROM runs WHERE owner = ? ORDER BY created DESC", (owner,)).fetchall()
        runs, problems = [], []
        for run_id, name, created, spec, summary, sha, size in rows:
            try:
                exp = _spec_of(spec)
                figures = json.loads(summary)
                if not isinstance(figures, dict):
                    raise RunError(t("its summary figures are damaged"))
                self._verify_file(run_id, sha, size)
                runs.append(RunInfo(run_id, str(name), float(created), figures, exp.meta.name))
            except (RunError, ValueError, TypeError) as e:
                problems.append(_problem(run_id, name, e))
        for line in problems:
            log.warning("%s", line)
        return runs, problems

    def list(self, owner: str) -> list[RunInfo]:
        """The owner's usable runs, newest first; unusable ones are logged and skipped."""
        return self.scan(owner)[0]

    def load(self, run_id: str, owner: str) -> SavedRun:
        """The run's experiment (fully validated), history and summary."""
        row = self._row(run_id, owner, "id, name, created, spec, history, summary")
        _, name, created, spec, history, summary = row
        try:
            exp = _spec_of(spec, full=True)
            try:
                hist = json.loads(history)
            except ValueError:  # the parser's own words name characters, not the problem
                raise RunError(t("its curves are damaged")) from None
            figures = json.loads(summary)
            arrays = {part: {k: np.asarray([math.nan if v is None else v for v in col],
                                           dtype=np.float64) for k, col in cols.items()}
                      for part, cols in hist.items()}
            info = RunInfo(run_id, str(name), float(created), dict(figures), exp.meta.name)
        except (RunError, ValueError, TypeError, AttributeError) as e:
            raise RunError(_problem(run_id, name, e)) from None
        return SavedRun(info, exp, arrays, info.summary)

    def weights(self, run_id: str, owner: str) -> dict[str, torch.Tensor]:
        """The run's tensors (its model's state dict), checked against the saved checksum."""
        self._row(run_id, owner, "id")
        return self.weights_by_id(run_id)

    def weights_by_id(self, run_id: str) -> dict[str, torch.Tensor]:
        """The tensors of run ``run_id`` whoever owns it: the id is the capability (see the
        module's notes). An unknown id is a SpecError naming ``train.init_from.run``."""
        if not isinstance(run_id, str) or not RUN_ID.match(run_id):
            raise _unknown(run_id)
        with self._db() as con:
            row = con.execute("SELECT name, weights_sha256, weights_bytes FROM runs WHERE id = ?",
                              (run_id,)).fetchone()
        if row is None:
            raise _unknown(run_id)
        name, sha, size = row
        try:
            blob = self.weights_path(run_id).read_bytes()
            _check_blob(blob, sha, size)
            return st_load(blob)
        except SafetensorError:  # the library's words are about headers and offsets
            raise RunError(_problem(run_id, name, RunError(t(
                "its weights file is not a weights file that can be read")))) from None
        except FileNotFoundError:  # the file's name only: the folder is the server's
            raise RunError(_problem(run_id, name, RunError(t(
                "its weights file {file} is missing", file=f"{run_id}.safetensors")))) from None
        except OSError as e:
            raise RunError(_problem(run_id, name, RunError(t(
                "its weights file {file} cannot be read ({error})", file=f"{run_id}.safetensors",
                error=e.strerror or type(e).__name__)))) from None
        except RunError as e:
            raise RunError(_problem(run_id, name, e)) from None

    def weights_problem(self, run_id: str) -> str | None:
        """Why run ``run_id``'s weights cannot be used (missing, incomplete, damaged), or
        None; checked once per file version, so validating a spec stays cheap."""
        with self._db() as con:
            row = con.execute("SELECT name, weights_sha256, weights_bytes FROM runs WHERE id = ?",
                              (run_id,)).fetchone()
        if row is None:
            return None
        try:
            self._verify_file(run_id, row[1], row[2])
        except RunError as e:
            return _problem(run_id, row[0], e)
        return None

    def exists(self, run_id: str) -> bool:
        """Whether any owner has a run with this id (for checking ``train.init_from``)."""
        if not isinstance(run_id, str) or not RUN_ID.match(run_id) or not self.db_path.exists():
            return False  # validating a spec never creates the database
        with self._db() as con:
            return con.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is not None

    def rename(self, run_id: str, owner: str, name: str) -> str:
        """Give the run a new name; returns the name as kept (trimmed, bounded)."""
        new = clean_name(name)
        if not new:
            raise RunError(t("A saved run needs a name; type one."))
        with self._db() as con:
            cur = con.execute("UPDATE runs SET name = ? WHERE id = ? AND owner = ?",
                              (new, run_id, _check_owner(owner)))
        if cur.rowcount != 1:
            raise RunError(_missing(run_id))
        return new

    def delete(self, run_id: str, owner: str) -> None:
        with self._db() as con:
            cur = con.execute("DELETE FROM runs WHERE id = ? AND owner = ?",
                              (run_id, _check_owner(owner)))
        if cur.rowcount != 1:
            raise RunError(_missing(run_id))
        # After the commit: a kill in between leaves an orphan file, which sweep() removes.
        self.weights_path(run_id).unlink(missing_ok=True)

    def sweep(self, min_age: float = ORPHAN_AGE) -> int:
        """Remove weights and temporary files no row points at (left by a killed save or
        delete) that are older than ``min_age`` seconds; returns how many."""
        with self._db() as con:
            known = {r for (r,) in con.execute("SELECT id FROM runs")}
        removed = 0
        now = time.time()
        for path in self.weights_dir.iterdir():
            run_id = path.name.split(".", 1)[0]
            if run_id in known and path.name.endswith(".safetensors"):
                continue
            with contextlib.suppress(OSError):
                if now - path.stat().st_mtime >= min_age:
                    path.unlink()
                    removed += 1
        return removed

    # helpers ------------------------------------------------------------------------------
    def _row(self, run_id: str, owner: str, columns: str) -> tuple[Any, ...]:
        owner = _check_owner(owner)
        with self._db() as con:
            row = con.execute(f"SELECT {columns} FROM runs WHERE id = ? AND owner = ?",  # noqa: S608
                              (run_id, owner)).fetchone()
        if row is None:
            raise RunError(_missing(run_id))
        return row

    def _verify_file(self, run_id: str, sha: str, size: int) -> None:
        path = self.weights_path(run_id)
        try:
            st = path.stat()
        except OSError:
            raise RunError(t("its weights file {file} is missing", file=path.name)) from None
        key = (run_id, st.st_size, st.st_mtime_ns)
        if key in self._verified:
            return
        try:
            blob = path.read_bytes()
        except OSError as e:
            raise RunError(t("its weights file {file} cannot be read ({error})",
                             file=path.name, error=e.strerror or str(e))) from None
        _check_blob(blob, sha, size)
        self._verified.add(key)


def save_trainer(store: RunStore, trainer: Any, name: str, owner: str) -> str:  # noqa: ANN401
    """Save a trainer's run (finished, paused or stopped after some training)."""
    s = trainer.snapshot()
    if s.status in ("running", "queued"):
        raise RunError(t("The run is still training; pause it or let it finish, then save."))
    if s.status == "failed":
        raise RunError(t("This run failed, so there is nothing to keep; fix it and train "
                         "again."))
    if s.step == 0:
        raise RunError(t("Nothing has been trained yet; train first, then save."))
    summary = dict(s.final) | {
        "step": s.step, "epoch": s.epoch, "epochs": s.epochs,
        "steps_per_epoch": s.steps_per_epoch, "lr": s.lr, "elapsed": s.elapsed,
        "seed": s.seed, "stop_reason": s.stop_reason, "status": s.status,
        "params": trainer.plan.total_params}
    return store.save(trainer.exp, {"steps": s.steps, "evals": s.evals}, summary,
                      trainer.model.state_dict(), name, owner)


def clean_name(name: object) -> str:
    """A name as kept: one line, no control characters, at most MAX_NAME characters."""
    if not isinstance(name, str):
        return ""
    text = " ".join("".join(c if c.isprintable() else " " for c in name).split())
    return text[:MAX_NAME].strip()


def _check_owner(owner: object) -> str:
    if not isinstance(owner, str) or not owner or len(owner) > MAX_OWNER:
        raise RunError(t("Saved runs need an owner: a non-empty text of at most {n} "
                         "characters.", n=MAX_OWNER))
    return owner


def _spec_of(text: str, full: bool = False) -> Experiment:
    """The stored experiment; ``full`` also runs the registry checks (data, graph...)."""
    from engine.validate import load_experiment, migrate

    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("the experiment is not a JSON object")
        exp = Experiment.model_validate(migrate(data))
        if full:
            load_experiment(exp)
    except json.JSONDecodeError as e:
        raise RunError(t("its experiment is damaged ({error})", error=str(e))) from None
    except (ValidationError, SpecError) as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise RunError(t("its experiment is no longer valid ({error})", error=first)) from None
    return exp


def _check_blob(blob: bytes, sha: str, size: int) -> None:
    if len(blob) != size:
        raise RunError(t("its weights file is incomplete ({got} of {want} bytes)",
                         got=len(blob), want=size))
    if hashlib.sha256(blob).hexdigest() != sha:
        raise RunError(t("its weights file is damaged (the checksum differs)"))


def _problem(run_id: str, name: str, error: BaseException) -> str:
    return t("Saved run \u201c{name}\u201d ({id}) was skipped: {problem}.", name=name,
             id=run_id, problem=str(error).rstrip("."))


def _missing(run_id: str) -> str:
    return t("There is no saved run {id} among yours; it may have been deleted.", id=run_id)


def _unknown(run_id: object) -> SpecError:
    from engine.errors import Issue

    return SpecError(Issue("train.init_from.run", t(
        "there is no saved run {id}; choose one from the Saved runs page, or remove "
        "train.init_from to start from fresh weights", id=run_id), "unknown_run"))


def _plain(value: Any) -> Any:  # noqa: ANN401
    """JSON-safe: arrays to lists, non-finite numbers to null."""
    if isinstance(value, np.ndarray | list | tuple):
        return [_plain(v) for v in (value.tolist() if isinstance(value, np.ndarray) else value)]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_problem(error: OSError, size: int) -> str:
    """Why a file of ``size`` bytes could not be written, in one line with what to do."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return t(DISK_FULL)
    if error.errno == errno.EFBIG:
        return t("The server does not allow a file as large as this run's weights ({size}), "
                 "so the run was not saved. Ask whoever runs the server to raise its "
                 "file-size limit, or save a smaller model.", size=_size(size))
    return t("This run could not be written to the server's disk ({error}), so it was not "
             "saved. Try again; if it keeps failing, ask whoever runs the server.",
             error=error.strerror or type(error).__name__)


def _size(n: int) -> str:
    """Bytes in words with two meaningful digits: 940 kB, 1.3 MB."""
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if n >= scale:
            value = n / scale
            return f"{value:.0f} {unit}" if value >= 10 else f"{value:.2g} {unit}"
    return f"{n} B"


def _write_atomic(path: Path, blob: bytes) -> None:
    """Write, fsync, rename, fsync the folder: the file is whole under its name or absent."""
    tmp = path.with_name(f"{path.stem}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_STORES: dict[Path, RunStore] = {}
_STORES_LOCK = threading.Lock()


def default_store() -> RunStore:
    """One store per root folder in this process (it caches which files were verified)."""
    root = default_root().resolve()
    with _STORES_LOCK:
        store = _STORES.get(root)
        if store is None:
            store = _STORES[root] = RunStore(root)
        return store
