"""Saved runs: the round trip, owners, damaged entries, and a real kill -9 mid-save."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from engine import SpecError, Trainer, load_experiment
from engine import runs as runs_mod
from engine.runs import MAX_NAME, RunError, RunStore, save_trainer
from tests.apptest import ROOT


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunStore:
    monkeypatch.setenv("NP_RUNS_DIR", str(tmp_path / "runs"))
    return runs_mod.default_store()


@pytest.fixture(scope="module")
def trained() -> Trainer:
    from tests.conftest import build_spec

    trainer = Trainer(build_spec(epochs=3))
    trainer.run()
    return trainer


def test_round_trip_rename_delete(store: RunStore, trained: Trainer) -> None:
    assert not store.db_path.exists()  # created when first needed
    run_id = save_trainer(store, trained, "  first\nrun\t ", "alice")
    assert store.db_path.is_file() and store.weights_path(run_id).is_file()
    assert len(run_id) >= 20  # secrets.token_urlsafe(16)
    (info,) = store.list("alice")
    s = trained.snapshot()
    assert info.id == run_id and info.name == "first run"
    assert info.figure("test_loss") == pytest.approx(s.final["test_loss"])
    assert info.figure("test_accuracy") == pytest.approx(s.final["test_accuracy"])
    assert info.summary["step"] == s.step and info.experiment == trained.exp.meta.name

    saved = store.load(run_id, "alice")
    assert saved.spec == trained.exp
    for part, cols in (("steps", s.steps), ("evals", s.evals)):
        assert set(saved.history[part]) == set(cols)
        for k, v in cols.items():
            np.testing.assert_allclose(saved.history[part][k], v)
    again = saved.snapshot()  # what the pages' curves draw
    assert again.status == "finished" and again.final == pytest.approx(s.final)
    weights = store.weights(run_id, "alice")
    mine = trained.model.state_dict()
    assert set(weights) == set(mine)
    for k, v in mine.items():
        assert torch.equal(weights[k], v)

    assert store.rename(run_id, "alice", "x" * 500) == "x" * MAX_NAME
    with pytest.raises(RunError, match="needs a name"):
        store.rename(run_id, "alice", " \n ")
    assert store.list("alice")[0].name == "x" * MAX_NAME
    second = save_trainer(store, trained, "", "alice")  # no name: the experiment's
    assert [r.id for r in store.list("alice")] == [second, run_id]  # newest first
    assert store.list("alice")[0].name == trained.exp.meta.name
    store.delete(run_id, "alice")
    assert [r.id for r in store.list("alice")] == [second]
    assert not store.weights_path(run_id).exists()
    with pytest.raises(RunError, match="no saved run"):
        store.load(run_id, "alice")


def test_only_the_owner_sees_a_run(store: RunStore, trained: Trainer) -> None:
    run_id = save_trainer(store, trained, "mine", "alice")
    assert store.list("bob") == []
    for call in (lambda: store.load(run_id, "bob"), lambda: store.weights(run_id, "bob"),
                 lambda: store.rename(run_id, "bob", "taken"),
                 lambda: store.delete(run_id, "bob")):
        with pytest.raises(RunError, match="no saved run"):  # the same as a missing run
            call()
    assert [(r.id, r.name) for r in store.list("alice")] == [(run_id, "mine")]
    with pytest.raises(RunError, match="owner"):
        store.list("")


def test_a_full_account_is_refused_with_a_message(store: RunStore, trained: Trainer,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runs_mod, "MAX_RUNS", 2)
    kept = [save_trainer(store, trained, f"run {i}", "alice") for i in range(2)]
    with pytest.raises(RunError, match="already keep 2 saved runs"):
        save_trainer(store, trained, "one too many", "alice")
    assert sorted(r.id for r in store.list("alice")) == sorted(kept)  # nothing dropped
    assert len(list(store.weights_dir.iterdir())) == 2  # and no stray file
    save_trainer(store, trained, "another owner", "bob")  # the bound is per owner


def test_an_unfinished_run_is_not_saved(store: RunStore) -> None:
    from tests.conftest import build_spec

    with pytest.raises(RunError, match="train first"):
        save_trainer(store, Trainer(build_spec()), "empty", "alice")


def test_damaged_entries_are_reported_and_skipped(store: RunStore, trained: Trainer) -> None:
    names = ["good", "flipped", "truncated", "missing", "broken json", "invalid spec"]
    ids = {n: save_trainer(store, trained, n, "alice") for n in names}
    path = store.weights_path(ids["flipped"])
    blob = bytearray(path.read_bytes())
    blob[-5] ^= 0xFF  # a byte of the data, not the header: only the checksum sees it
    path.write_bytes(bytes(blob))
    path = store.weights_path(ids["truncated"])
    path.write_bytes(path.read_bytes()[:100])
    store.weights_path(ids["missing"]).unlink()
    with sqlite3.connect(store.db_path) as con:
        con.execute("UPDATE runs SET spec = '{\"schema\": 1, \"mod' WHERE id = ?",
                    (ids["broken json"],))
        con.execute("UPDATE runs SET spec = '{\"schema\": 1, \"bogus\": 3}' WHERE id = ?",
                    (ids["invalid spec"],))
    runs, problems = store.scan("alice")
    assert [r.name for r in runs] == ["good"]
    assert len(problems) == 5
    for name, why in (("flipped", "checksum"), ("truncated", "incomplete"),
                      ("missing", "missing"), ("broken json", "damaged"),
                      ("invalid spec", "no longer valid")):
        line = next(p for p in problems if f"\u201c{name}\u201d" in p)
        assert ids[name] in line and why in line and "\n" not in line
    with pytest.raises(RunError, match="checksum"):
        store.weights(ids["flipped"], "alice")
    with pytest.raises(RunError, match="no longer valid"):
        store.load(ids["invalid spec"], "alice")
    store.delete(ids["missing"], "alice")  # a damaged run can still be deleted
    assert store.load(ids["good"], "alice").spec == trained.exp


def test_init_from_is_checked_by_validation(store: RunStore, trained: Trainer) -> None:
    d = trained.exp.to_dict()
    d["train"]["init_from"] = {"run": "no-such-run", "freeze": ["h1", "nowhere"]}
    with pytest.raises(SpecError) as e:
        load_experiment(d)
    paths = {i.path: i for i in e.value.issues}
    assert paths["train.init_from.run"].code == "unknown_run"
    assert "no-such-run" in paths["train.init_from.run"].message
    assert "nowhere" in paths["train.init_from.freeze[1]"].message
    d["train"]["init_from"] = {"run": save_trainer(store, trained, "ok", "alice"),
                               "freeze": ["h1"]}
    assert load_experiment(d).train.init_from.freeze == ["h1"]


# A server-like process: it imports the engine once, then for each line it reads forks a
# writer that saves runs as fast as it can (each line the writer prints is a save that
# returned) until it is killed with SIGKILL: by the test at a random moment, or by itself at
# a chosen point of its second save (a "trap" on fsync or rename), so each step of a save is
# cut at least once whatever the timing. Forking spares a fresh interpreter per kill.
WRITER = textwrap.dedent("""
    import os, signal, sys, torch
    from engine.runs import RunStore
    from engine.spec import Experiment
    exp = Experiment.model_validate({"schema": 1, "data": {"name": "xor"}, "model": {
        "nodes": [{"id": "a", "type": "linear", "params": {"units": 2}}]}})
    print("ready", flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if cmd[0] == "reap":
            os.waitpid(int(cmd[1]), 0)
            print("reaped", flush=True)
            continue
        i, out, trap = int(cmd[0]), cmd[1], cmd[2]
        pid = os.fork()
        if pid == 0:
            store = RunStore(sys.argv[1])
            armed = [False]
            def die():
                os.kill(os.getpid(), signal.SIGKILL)
            def hooked(real, before, after):
                def call(*args):
                    if armed[0] and before:
                        die()
                    real(*args)
                    if armed[0] and after:
                        die()
                return call
            os.fsync = hooked(os.fsync, trap == "fsync", False)
            os.replace = hooked(os.replace, trap == "before-rename", trap == "after-rename")
            with open(out, "w") as f:
                while True:
                    # 256 kB: a random kill lands inside the weights' write now and then.
                    w = {"layers.a.weight": torch.full((64, 1024), float(i)),
                         "layers.a.bias": torch.arange(7.0) + i}
                    rid = store.save(exp, {"steps": {"step": [1.0, 2.0], "loss": [i, i / 2]}},
                                     {"test_loss": float(i)}, w, f"run {i}", "killer")
                    print(rid, i, file=f, flush=True)
                    i += 1
                    armed[0] = trap != "none"
        print(pid, flush=True)
""")


def dead(pid: int) -> bool:
    """Whether the (unreaped) child has died: a zombie, or gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] in "ZX"
    except OSError:
        return True


def test_a_kill_mid_save_leaves_old_or_new_state(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = dict(os.environ, NP_MAX_RUNS="100000", PYTHONPATH=str(ROOT))
    server = subprocess.Popen([sys.executable, str(script), str(root)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, cwd=ROOT, env=env, text=True)

    def ask(line: str) -> str:
        server.stdin.write(line + "\n")
        server.stdin.flush()
        return server.stdout.readline().strip()

    try:
        assert server.stdout.readline().strip() == "ready"
        rng = random.Random(0)
        confirmed: dict[str, int] = {}
        n = 0
        traps = ["fsync", "before-rename", "after-rename"] + ["none"] * 4
        for k, trap in enumerate(traps):
            out = tmp_path / f"out{k}.txt"
            pid = int(ask(f"{n} {out} {trap}"))
            end = time.monotonic() + 30
            while not (out.exists() and out.read_text()) and time.monotonic() < end:
                time.sleep(0.005)  # its first save returned: now saving in a loop
            if trap == "none":
                time.sleep(rng.uniform(0.0, 0.25))  # somewhere inside a save
            else:
                while not dead(pid) and time.monotonic() < end:
                    time.sleep(0.005)
                assert dead(pid), f"the {trap} trap never fired"
            os.kill(pid, signal.SIGKILL)  # unreaped, so the pid is still this child's
            assert ask(f"reap {pid}") == "reaped"
            for line in out.read_text().splitlines():
                rid, i = line.split()
                confirmed[rid] = int(i)
                n = max(n, int(i) + 1)
            n += 1  # a save that was cut may have committed under this index

            store = RunStore(root)  # a fresh view: nothing cached
            runs, problems = store.scan("killer")
            assert problems == [], trap
            listed = {r.id for r in runs}
            assert set(confirmed) <= listed  # every save that returned is durable
            for r in runs:  # and every listed run loads completely
                i = int(r.name.split()[1])
                assert r.figure("test_loss") == i
                assert store.load(r.id, "killer").history["steps"]["loss"][1] == i / 2
                w = store.weights(r.id, "killer")
                assert torch.equal(w["layers.a.weight"], torch.full((64, 1024), float(i)))
                assert torch.equal(w["layers.a.bias"], torch.arange(7.0) + i)
            store.sweep(min_age=0)  # what a kill left (a temporary or orphan file) goes
            assert {p.name for p in store.weights_dir.iterdir()} == {
                f"{rid}.safetensors" for rid in listed}
        assert len(confirmed) >= len(traps)
    finally:
        server.kill()
        server.wait()
