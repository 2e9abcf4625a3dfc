"""Faults: a full disk on save, a trainer that raises, two sessions side by side, and the
exported script's batch norm on a batch of one (issue 11, items 4 and 5)."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import select
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from engine.export.model_code import model_code
from engine.export.script import WEIGHTS, build_script
from engine.runs import DISK_FULL, RunError, RunStore
from engine.validate import load_experiment
from tests.conftest import build_spec

OWNER = "faults-owner-0123456789"


# A full disk on save ---------------------------------------------------------------------

@contextlib.contextmanager
def file_size_limit(nbytes: int) -> Iterator[None]:
    """The OS refuses to grow any file of this process past ``nbytes`` (EFBIG), for real:
    RLIMIT_FSIZE, with SIGXFSZ ignored so the write fails instead of the process dying."""
    old = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old)


def _weights(n_bytes: int) -> dict[str, torch.Tensor]:
    # Many small tensors: copying one never starts torch's thread pool (see the fork below).
    k = max(1, n_bytes // (16 * 1024 * 4))
    return {f"layers.l{i}.weight": torch.full((16, 1024), float(i)) for i in range(k)}


def _save(store: RunStore, weights: dict[str, torch.Tensor], name: str,
          history_points: int = 2) -> str:
    exp = load_experiment(build_spec(epochs=1))
    history = {"steps": {"step": list(range(history_points)),
                         "loss": [1.0 / (i + 1) for i in range(history_points)]}}
    return store.save(exp, history, {"test_loss": 0.5}, weights, name, OWNER)


def _files(store: RunStore) -> list[str]:
    return sorted(p.name for p in store.weights_dir.iterdir())


def test_a_file_too_large_for_the_os_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    kept = _save(store, _weights(64 * 1024), "kept")
    before = _files(store)
    with file_size_limit(256 * 1024), pytest.raises(RunError) as refused:
        _save(store, _weights(1024 * 1024), "too big")
    message = str(refused.value)
    assert message == ("The server does not allow a file as large as this run's weights "
                       "(1 MB), so the run was not saved. Ask whoever runs the server to "
                       "raise its file-size limit, or save a smaller model.")
    # No torn file (nor its temporary), no row; the run kept before is whole.
    assert _files(store) == before == [f"{kept}.safetensors"]
    assert [r.id for r in store.list(OWNER)] == [kept]
    assert store.weights(kept, OWNER)["layers.l0.weight"].shape == (16, 1024)
    assert _save(store, _weights(1024 * 1024), "once there is room")  # the store goes on


_CLONE_NEWNS, _CLONE_NEWUSER = 0x00020000, 0x10000000
_MS_REC, _MS_PRIVATE = 0x4000, 1 << 18


def _mount_small_tmpfs(folder: Path, size: str) -> str | None:
    """In this (forked) process only: a private mount namespace with a tmpfs of ``size``
    over ``folder``. Returns why not, or None when mounted."""
    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS) == 0:
        # Map ourselves to ourselves, so files on the tmpfs have an owner.
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
        Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
    elif libc.unshare(_CLONE_NEWNS) != 0 or libc.mount(
            b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
        return f"no private mount namespace ({os.strerror(ctypes.get_errno())})"
    if libc.mount(b"tmpfs", str(folder).encode(), b"tmpfs", 0,
                  f"size={size}".encode()) != 0:
        return f"tmpfs not mounted ({os.strerror(ctypes.get_errno())})"
    return None


def _in_a_small_disk(folder: Path, size: str, job: Callable[[], dict[str, Any]],
                     timeout: float = 60.0) -> dict[str, Any]:
    """``job()`` in a forked child that sees ``folder`` as a disk of ``size``; its result
    comes back as JSON. Everything the child needs is imported here, before the fork."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            os.close(read)
            torch.set_num_threads(1)
            why = _mount_small_tmpfs(folder, size)
            result = {"unavailable": why} if why else job()
            os.write(write, json.dumps(result).encode())
        except BaseException as e:  # noqa: BLE001 - reported to the parent
            with contextlib.suppress(Exception):
                os.write(write, json.dumps({"crash": repr(e)}).encode())
            code = 1
        finally:
            os._exit(code)
    os.close(write)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while True:
            ready, _, _ = select.select([read], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                os.kill(pid, signal.SIGKILL)
                pytest.fail("the child on the small disk hung")
            chunk = os.read(read, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read)
        os.waitpid(pid, 0)
    return json.loads(b"".join(chunks) or b'{"crash": "no answer"}')


def test_a_full_disk_is_one_line_and_leaves_no_torn_file_or_row(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    folder = tmp_path / "disk"
    folder.mkdir()
    _save(RunStore(tmp_path / "warm"), _weights(1024), "warm-up")  # every import, before fork

    def job() -> dict[str, Any]:
        store = RunStore(folder)
        kept = _save(store, _weights(64 * 1024), "kept")
        out: dict[str, Any] = {"kept": kept}
        # The weights do not fit: ENOSPC from the weights' write.
        try:
            _save(store, _weights(2 * 1024 * 1024), "weights too big")
        except RunError as e:
            out["weights"] = str(e)
        out["files_after_weights"] = _files(store)
        # The weights fit, the curves do not: SQLITE_FULL from the row's insert, after the
        # weights file was written (it must go again).
        try:
            _save(store, _weights(64 * 1024), "curves too long", history_points=60_000)
        except RunError as e:
            out["row"] = str(e)
        out["files_after_row"] = _files(store)
        out["listed"] = [r.id for r in store.list(OWNER)]
        out["kept_loads"] = store.weights(kept, OWNER)["layers.l0.weight"].shape[0] == 16
        out["later"] = bool(_save(store, _weights(1024), "small, later"))
        return out

    result = _in_a_small_disk(folder, "640k", job)
    if "unavailable" in result:
        # No mount namespace here (a locked-down container): the kernel's own ENOSPC from
        # /dev/full, through the same write path.
        real_open = open
        monkeypatch.setattr("engine.runs.open", lambda path, mode="r": real_open(
            "/dev/full" if str(path).endswith(".tmp") else path, mode), raising=False)
        store = RunStore(folder)
        with pytest.raises(RunError) as refused:
            _save(store, _weights(1024), "no room")
        assert str(refused.value) == DISK_FULL and _files(store) == []
        pytest.skip(f"ENOSPC checked through /dev/full only: {result['unavailable']}")
    assert "crash" not in result, result
    assert result["weights"] == DISK_FULL, result
    assert result["row"] == DISK_FULL, result
    kept = f"{result['kept']}.safetensors"
    assert result["files_after_weights"] == [kept]
    assert result["files_after_row"] == [kept]
    assert result["listed"] == [result["kept"]] and result["kept_loads"]
    assert result["later"]
    assert not any(folder.iterdir())  # the tmpfs is gone with the child


def _bn_spec(flat: bool) -> dict[str, Any]:
    """A small network with batch norm: flat (moons) or on 1x1 maps (digits, 8x8)."""
    if flat:
        data = {"name": "moons", "params": {"n_samples": 64}}
        nodes = [{"id": "h", "type": "linear", "params": {"units": 6, "activation": "none"}},
                 {"id": "bn", "type": "batchnorm1d"}, {"id": "act", "type": "tanh"},
                 {"id": "out", "type": "linear", "params": {"units": 2}}]
    else:
        data = {"name": "digits", "params": {}}
        nodes = [{"id": "c", "type": "conv2d", "params": {"filters": 4, "kernel_size": 8,
                                                          "padding": 0, "activation": "none"}},
                 {"id": "bn", "type": "batchnorm2d"}, {"id": "act", "type": "relu"},
                 {"id": "flat", "type": "flatten"},
                 {"id": "out", "type": "linear", "params": {"units": 10}}]
    return {"schema": 1, "meta": {"name": "bn"}, "data": data, "model": {"nodes": nodes},
            "train": {"batch_size": 16, "epochs": 1}}


@pytest.mark.parametrize("flat", [True, False], ids=["batchnorm1d", "batchnorm2d"])
def test_exported_batch_norm_takes_a_batch_of_one_as_the_engine_does(flat: bool) -> None:
    from engine.trainer import Trainer

    exp = load_experiment(_bn_spec(flat))
    export = build_script(exp)
    scope: dict[str, Any] = {"__name__": "np_export_test", "__file__": "exported.py"}
    exec(compile(export.code, "exported.py", "exec"), scope)  # noqa: S102 - the export's own code
    theirs = scope["Model"]()
    # Weights and running statistics after real training, so the running statistics are
    # not the defaults (a batch of one is normalised by them).
    trainer = Trainer(exp)
    trainer.run()
    engine = trainer.model.cpu()
    code = model_code(trainer.plan, trainer.data.image)
    assert code.source in export.code  # the class under test is the script's own
    state = {code.key_map(k): v.detach().clone() for k, v in engine.state_dict().items()}
    assert {WEIGHTS + k for k in state} <= set(export.arrays)
    theirs.load_state_dict(state)
    engine.train(True)
    theirs.train(True)
    one = trainer.x_test[:1].cpu()
    before = {k: v.clone() for k, v in theirs.state_dict().items() if "running" in k}
    with torch.no_grad():
        ours_out, theirs_out = engine(one), theirs(one)
    torch.testing.assert_close(theirs_out, ours_out, rtol=1e-6, atol=1e-6)
    # Like the engine's, the written layer leaves its running statistics alone on such a batch.
    after = {k: v for k, v in theirs.state_dict().items() if "running" in k}
    for k, v in before.items():
        torch.testing.assert_close(after[k], v)
    # A real batch still uses its own statistics, as nn.BatchNorm does.
    many = trainer.x_test[:8].cpu()
    with torch.no_grad():
        torch.testing.assert_close(theirs(many), engine(many), rtol=1e-5, atol=1e-5)


def _texts(at: Any, *kinds: str) -> list[str]:  # noqa: ANN401
    return [e.value for kind in kinds for e in at.get(kind)]


def test_the_train_page_says_the_disk_refused_and_keeps_the_session(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.presets import encode_share
    from engine.runs import default_store
    from tests.apptest import ROOT, open_app, session

    monkeypatch.setenv("NP_RUNS_DIR", str(tmp_path))
    # A 300 x 300 layer: about 360 kB, far past the 128 kB the OS will allow below.
    spec = build_spec([{"id": "h1", "type": "linear", "params": {"units": 300,
                                                                 "activation": "tanh"}},
                       {"id": "h2", "type": "linear", "params": {"units": 300,
                                                                 "activation": "tanh"}},
                       {"id": "out", "type": "linear", "params": {"units": 2}}], epochs=1)
    spec["meta"] = {"name": "Wide net"}
    at = open_app(share=encode_share(spec), script=str(ROOT / "views" / "train.py"))
    s = session()
    trainer = s.get_trainer()
    trainer.run()
    at.run()
    from ui.runs_panel import owner

    store = default_store()
    assert store.list(owner(s)) == []  # the database exists before the limit
    exp, step = s.exp, trainer.snapshot().step
    with file_size_limit(128 * 1024):
        at.button(key="train-save-run").click().run()
    assert not at.exception, at.exception
    errors = _texts(at, "error")
    assert errors == ["The server does not allow a file as large as this run's weights "
                      "(359 kB), so the run was not saved. Ask whoever runs the server to "
                      "raise its file-size limit, or save a smaller model."], errors
    assert not _texts(at, "success")
    assert store.list(owner(s)) == [] and _files(store) == []
    # Nothing else is lost: the same experiment, the same trained run, still savable.
    assert s.exp == exp and s.trainer is trainer and trainer.snapshot().step == step
    at.button(key="train-save-run").click().run()
    assert [r.name for r in store.list(owner(s))] == ["Wide net"]


# A trainer that raises -------------------------------------------------------------------

class BrokenTanh(torch.nn.Tanh):
    """A tanh whose kernel breaks from its ``at``-th call in training on, with a long
    multi-line message, as a native library's failure reads."""

    calls = 0
    at = 8

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and torch.is_grad_enabled():
            BrokenTanh.calls += 1
            if BrokenTanh.calls >= BrokenTanh.at:
                raise RuntimeError("tanh kernel failed: illegal instruction\n"
                                   "  File \"kernel.py\", line 3, in tanh\n"
                                   "Traceback (most recent call last): ...")
        return super().forward(x)


def _until(ok: Callable[[], bool], timeout: float = 30.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if ok():
            return True
        time.sleep(0.05)
    return ok()


def test_a_trainer_that_raises_fails_in_one_sentence_and_the_session_trains_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.layers.activations import ACTIVATIONS
    from tests.apptest import ROOT, open_app, session

    _, words, params = ACTIVATIONS["tanh"]
    monkeypatch.setitem(ACTIVATIONS, "tanh", (BrokenTanh, words, params))
    monkeypatch.setattr(BrokenTanh, "calls", 0)
    at = open_app("spiral", script=str(ROOT / "views" / "playground.py"))
    s = session()
    at.button(key="pg-train").click().run()
    broken = s.get_trainer()
    assert _until(lambda: not broken.alive)
    at.run()
    assert not at.exception, at.exception
    snap = broken.snapshot()
    assert (snap.status, snap.stop_reason) == ("failed", "error") and snap.step >= 2
    errors = _texts(at, "error")
    assert errors == [f"Training failed: the engine stopped at step {snap.step} (tanh kernel "
                      "failed: illegal instruction); change the experiment and train again."
                      ], errors
    page = "\n".join(_texts(at, "markdown", "caption", "error", "warning", "info", "code"))
    assert "Traceback" not in page and "File \"" not in page and "RuntimeError" not in page
    # The user changes the activation on the page and trains again: real progress.
    at.selectbox(key="pg-activation-tanh").set_value("relu").run()
    assert not at.exception, at.exception
    fresh = s.get_trainer()
    assert fresh is not broken and fresh.snapshot().status == "ready"
    s.set_speed(None)  # full speed: the test needs progress, not a show
    at.button(key="pg-train").click().run()
    assert _until(lambda: fresh.snapshot().step >= 200)
    fresh.pause()
    assert fresh.wait(5.0)
    at.run()
    snap = fresh.snapshot()
    assert snap.error is None and snap.status == "paused"
    first, last = snap.steps["loss"][:20].mean(), snap.steps["loss"][-20:].mean()
    assert last < first * 0.9, (first, last)
    assert not _texts(at, "error") and not at.exception


# Two sessions side by side ----------------------------------------------------------------

@pytest.fixture
def tabs(monkeypatch: pytest.MonkeyPatch) -> Callable[[], Any]:
    """Browser tabs in one server: AppTest gives every app the session id "test session
    id", so here each AppTest runs under its own (keyed by its session state, which lives
    as long as the AppTest does), as two browsers would."""
    from streamlit.testing.v1 import app_test

    real = app_test.LocalScriptRunner

    class OwnSession(real):  # type: ignore[misc, valid-type]
        def __init__(self, script_path: str, session_state: Any, *args: Any,  # noqa: ANN401
                     **kwargs: Any) -> None:  # noqa: ANN401
            super().__init__(script_path, session_state, *args, **kwargs)
            self._session_id = f"tab-{id(session_state)}"

    monkeypatch.setattr(app_test, "LocalScriptRunner", OwnSession)
    monkeypatch.setenv("NP_MAX_TRAINERS", "4")  # both tabs train at once, neither queued

    def open_tab(query: dict[str, str] | None = None) -> tuple[Any, Any]:  # noqa: ANN401
        from streamlit.testing.v1 import AppTest

        from tests.apptest import APP, session

        at = AppTest.from_file(APP, default_timeout=60)
        for k, v in (query or {"preset": "spiral"}).items():
            at.query_params[k] = v
        at.run()
        assert not at.exception, at.exception
        return at, session()

    return open_tab


def _go(at: Any, page: str) -> None:  # noqa: ANN401
    from tests.apptest import ROOT

    at.switch_page(str(ROOT / "views" / page)).run()
    assert not at.exception, at.exception


def test_one_session_cannot_reach_anothers_runs(tabs: Callable[..., Any], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.presets import encode_share
    from engine.runs import default_store
    from ui.runs_panel import owner

    monkeypatch.setenv("NP_RUNS_DIR", str(tmp_path))
    spec = build_spec(epochs=2)
    spec["meta"] = {"name": "Anna's run"}
    a, sa = tabs({"s": encode_share(spec)})
    sa.get_trainer().run()
    _go(a, "runs.py")
    a.button(key="runs-save").click().run()
    (mine,) = default_store().list(owner(sa))
    assert mine.name == "Anna's run"

    # B arrives by every link that names A's run or A's key: none of it is B's.
    b, sb = tabs({"preset": "spiral", "run": mine.id, "owner": owner(sa), "key": owner(sa),
                  "runs-pick": mine.id})
    assert sb is not sa and owner(sb) != owner(sa)
    _go(b, "runs.py")
    page = "\n".join(_texts(b, "markdown", "info", "warning", "error"))
    assert "No saved runs yet" in page and not b.table and "Anna" not in page
    # B keeps a run of its own: B's page offers that one alone.
    sb.get_trainer().run(epochs=1)
    b.run()
    b.button(key="runs-save").click().run()
    assert not b.exception, b.exception
    (theirs,) = default_store().list(owner(sb))
    pick = b.selectbox(key="runs-pick")
    assert pick.value == theirs.id and len(pick.options) == 1
    assert list(b.table[0].value["Name"]) == ["Spiral, tanh MLP"]
    # What B's page does, it does to B's runs only: rename, delete.
    b.text_input(key=f"runs-name-{theirs.id}").set_value("Renamed by B")
    b.button(key="runs-rename").click().run()
    b.button(key="runs-delete").click().run()
    b.button(key="runs-delete-yes").click().run()
    assert not b.exception, b.exception
    assert default_store().list(owner(sb)) == []
    # A's run is as A left it, and the store refuses B's owner on A's id.
    assert [(r.id, r.name) for r in default_store().list(owner(sa))] == [(mine.id, mine.name)]
    for act in (lambda: default_store().load(mine.id, owner(sb)),
                lambda: default_store().weights(mine.id, owner(sb)),
                lambda: default_store().rename(mine.id, owner(sb), "taken"),
                lambda: default_store().delete(mine.id, owner(sb))):
        with pytest.raises(RunError, match="no saved run .* among yours"):
            act()
    _go(a, "runs.py")
    assert list(a.table[0].value["Name"]) == ["Anna's run"]


def test_one_sessions_controls_act_on_its_own_trainer_only(tabs: Callable[..., Any]) -> None:
    a, sa = tabs()
    _go(a, "train.py")
    sa.set_speed(40.0)  # slow enough to leave the cores to the test, fast enough to see
    a.button(key="train-train").click().run()
    ta = sa.get_trainer()
    ta.set_epochs(100_000)
    b, sb = tabs()
    assert sb is not sa
    _go(b, "train.py")
    sb.set_speed(40.0)
    tb = sb.get_trainer()
    assert tb is not ta

    def a_moves() -> bool:
        step = ta.snapshot().step
        return _until(lambda: ta.snapshot().step > step + 2, 10.0) and \
            ta.snapshot().status == "running"

    b.button(key="train-train").click().run()
    assert _until(lambda: tb.snapshot().step > 2)
    b.run()
    b.button(key="train-pause").click().run()
    assert tb.snapshot().status == "paused" and a_moves()
    b.button(key="train-stop").click().run()
    assert tb.snapshot().status == "stopped" and not tb.alive and a_moves()
    b.button(key="train-reset").click().run()
    assert tb.snapshot().step == 0 and a_moves()
    assert not b.exception, b.exception
    # And A's own Pause still pauses A.
    a.run()
    a.button(key="train-pause").click().run()
    assert ta.snapshot().status == "paused" and tb.snapshot().status == "ready"
