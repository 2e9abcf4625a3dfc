"""The evaluation probe: confusion matrix and predicted-against-true on the test split."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import Trainer
from engine.probes.evaluation import MAX_ROWS, subsample
from engine.spec import DEFAULT_PROBES

EVAL = [{"name": "evaluation", "every": 1, "params": {"min_interval": 0}}]


def test_evaluation_is_a_default_probe() -> None:
    assert "evaluation" in [p.name for p in DEFAULT_PROBES]


def test_nothing_before_the_run_then_a_matrix_from_the_start(spec) -> None:
    t = Trainer(spec(probes=EVAL, epochs=1))
    assert t.snapshot().probes["evaluation"] is None
    t.step_n(1)
    t.wait(30)
    r = t.snapshot().probes["evaluation"]
    assert r["kind"] == "classification"
    assert r["confusion"].sum() == len(t.y_test)


def test_the_confusion_matrix_counts_the_test_split(spec) -> None:
    t = Trainer(spec(probes=EVAL, epochs=3))
    snap = t.run()
    r = snap.probes["evaluation"]
    cm = r["confusion"]
    assert isinstance(cm, np.ndarray) and cm.shape == (2, 2)
    assert r["classes"] == list(t.data.class_names)
    assert cm.sum() == len(t.y_test)
    # Rows are the true class, columns the prediction.
    assert list(cm.sum(1)) == list(np.bincount(t.y_test.numpy(), minlength=2))
    guess = t.task.predict(t.model.eval(), t.x_test).argmax(1)
    assert np.trace(cm) == int((guess == t.y_test).sum())
    assert np.trace(cm) / cm.sum() == pytest.approx(snap.evals["test_accuracy"][-1])


def test_regression_pairs_are_subsampled_evenly_and_match_the_model(spec) -> None:
    nodes = [{"id": "h1", "type": "linear", "params": {"units": 8, "activation": "tanh"}},
             {"id": "out", "type": "linear", "params": {"units": 1}}]
    t = Trainer(spec(nodes, data="sine", data_params={"n_samples": 3000, "train_ratio": 0.3},
                     probes=EVAL, epochs=1, batch_size=100))
    assert len(t.y_test) > MAX_ROWS
    r = t.run().probes["evaluation"]
    assert r["kind"] == "regression"
    assert r["true"].shape == r["pred"].shape and len(r["true"]) <= MAX_ROWS
    rows = subsample(len(t.y_test), MAX_ROWS)
    np.testing.assert_allclose(r["true"], t.y_test[rows, 0].numpy())
    with torch.no_grad():
        want = t.task.predict(t.model.eval(), t.x_test)[rows, 0].numpy()
    np.testing.assert_allclose(r["pred"], want, rtol=1e-5, atol=1e-6)


def test_subsample_keeps_both_ends() -> None:
    assert list(subsample(5, 10)) == [0, 1, 2, 3, 4]
    idx = subsample(10_000, 1000)
    assert len(idx) == 1000 and idx[0] == 0 and idx[-1] == 9999
    assert (np.diff(idx) > 0).all()


def test_the_result_is_a_copy(spec) -> None:
    t = Trainer(spec(probes=EVAL, epochs=1))
    t.run()
    probe = next(p for p in t.probes if p.name == "evaluation")
    probe.result()["confusion"][:] = -1  # a reader scribbling on its copy
    assert (probe.result()["confusion"] >= 0).all()
