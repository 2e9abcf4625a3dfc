"""Bounded history: memory stays flat however long a run goes, newest rows kept in full."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine import Trainer
from engine.history import History

N = 200_000


def test_200000_appends_stay_bounded_and_keep_the_newest_rows() -> None:
    h = History()
    sizes = []
    for i in range(N):
        h.append(step=i, loss=i * 0.5)
        if i % 997 == 0:
            sizes.append(len(h))
    assert h.total == N
    assert max(sizes) <= h.cap and len(h) <= h.cap
    cols = h.arrays()
    step, loss = cols["step"], cols["loss"]
    assert len(step) == len(loss) == len(h)
    # The newest `recent` rows are exactly the last ones appended.
    assert np.array_equal(step[-h.recent:], np.arange(N - h.recent, N))
    # Older rows are thinned but in order, columns still aligned, the first row kept.
    assert (np.diff(step) > 0).all()
    assert np.array_equal(loss, step * 0.5)
    assert step[0] == 0
    older = step[:-h.recent]
    assert len(older) >= (h.cap - h.recent) // 2
    assert older[-1] > N / 2  # the thinned part still reaches the recent block


def test_small_cap_keeps_invariants_at_every_append() -> None:
    h = History(cap=10, recent=4)
    for i in range(1000):
        h.append(x=i)
        xs = h.columns["x"]
        assert len(xs) <= 10
        assert xs[-min(4, len(xs)):] == list(range(max(0, i - 3), i + 1))
        assert xs == sorted(xs) and xs[0] == 0
    assert h.last("x") == 999


@pytest.mark.parametrize(("cap", "recent"), [(10, 10), (10, 0), (5, 8), (10, -1)])
def test_cap_must_exceed_recent(cap: int, recent: int) -> None:
    with pytest.raises(ValueError):
        History(cap=cap, recent=recent)


def test_a_late_or_missing_column_is_nan() -> None:
    h = History()
    h.append(a=1)
    h.append(a=2, b=5)
    h.append(a=3)
    cols = h.arrays()
    assert list(cols["a"]) == [1, 2, 3]
    assert math.isnan(cols["b"][0]) and cols["b"][1] == 5 and math.isnan(cols["b"][2])
    assert h.last("a") == 3 and math.isnan(h.last("zz"))
    assert h.last("zz", default=-1) == -1


def test_late_columns_are_thinned_with_the_others() -> None:
    h = History(cap=20, recent=5)
    for i in range(300):
        h.append(i=i, **({"late": i} if i >= 100 else {}))
    cols = h.arrays()
    assert len(cols["i"]) == len(cols["late"]) <= 20
    known = ~np.isnan(cols["late"])
    assert np.array_equal(cols["late"][known], cols["i"][known])


def test_arrays_are_copies() -> None:
    h = History()
    for i in range(5):
        h.append(v=i)
    a = h.arrays()["v"]
    assert a.dtype == np.float64
    a[:] = -1
    assert list(h.arrays()["v"]) == [0, 1, 2, 3, 4]


def test_the_trainer_keeps_its_histories_bounded(spec) -> None:
    # 5 training points in one batch: one step per epoch, so steps are cheap.
    s = spec([{"id": "out", "type": "linear", "params": {"units": 2}}],
             data_params={"n_samples": 10}, batch_size=5, epochs=6000, eval_every=1,
             optimizer={"name": "sgd", "lr": 0.01},
             probes=[{"name": "grad_norm", "every": 1}, {"name": "weight_norm", "every": 1}])
    t = Trainer(s)
    snap = t.run()
    assert snap.step == 6000
    cap = t.step_history.cap
    assert len(snap.steps["step"]) <= cap and len(snap.evals["step"]) <= cap
    assert snap.steps["step"][-1] == 6000
    assert np.array_equal(snap.steps["step"][-t.step_history.recent:],
                          np.arange(6001 - t.step_history.recent, 6001))
    for name in ("grad_norm", "weight_norm"):
        assert len(snap.probes[name]["steps"]) <= cap
        assert snap.probes[name]["values"].shape[0] == len(snap.probes[name]["steps"])


@pytest.mark.slow
def test_a_200000_step_run_keeps_the_snapshot_history_bounded(spec) -> None:
    s = spec([{"id": "out", "type": "linear", "params": {"units": 2}}],
             data_params={"n_samples": 10}, batch_size=5, epochs=N, eval_every=1000,
             optimizer={"name": "sgd", "lr": 0.01},
             probes=[{"name": "grad_norm", "every": 10}])
    t = Trainer(s)
    snap = t.run()
    assert snap.step == N and snap.status == "finished"
    assert len(snap.steps["loss"]) <= t.step_history.cap
    assert snap.steps["step"][-1] == N and (np.diff(snap.steps["step"]) > 0).all()
    assert len(snap.evals["step"]) == N // 1000
    assert len(snap.probes["grad_norm"]["steps"]) <= 2000
