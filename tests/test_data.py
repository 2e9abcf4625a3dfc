"""Every data set: shapes, determinism, parameters, and the CSV rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.data import DATASETS, load_data
from engine.errors import SpecError
from engine.spec import DataSpec

GENERATED = [d.name for d in DATASETS if d.category in ("toy", "tabular")]


@pytest.mark.parametrize("name", GENERATED)
def test_loads_with_defaults_in_the_declared_shapes(name: str) -> None:
    b = load_data(DataSpec(name=name))
    assert b.kind == DATASETS.get(name).kind
    assert b.x_train.dtype == torch.float32 and b.x_train.ndim == 2
    assert len(b.x_train) == len(b.y_train) and len(b.x_test) == len(b.y_test)
    assert len(b.x_train) > 0 and len(b.x_test) > 0
    if b.kind == "classification":
        assert b.y_train.dtype == torch.int64
        assert set(b.y_train.unique().tolist()) <= set(range(len(b.class_names)))
    else:
        assert b.y_train.dtype == torch.float32 and b.y_train.shape[1] == 1


@pytest.mark.parametrize("name", GENERATED)
def test_seeded(name: str) -> None:
    a, b = load_data(DataSpec(name=name, seed=1)), load_data(DataSpec(name=name, seed=1))
    c = load_data(DataSpec(name=name, seed=2))
    assert torch.equal(a.x_train, b.x_train)
    assert not torch.equal(a.x_train, c.x_train)


def test_toy_sizes_follow_the_parameters() -> None:
    b = load_data(DataSpec(name="spiral", params={"n_samples": 200, "train_ratio": 0.7}))
    assert (len(b.x_train), len(b.x_test)) == (140, 60)
    assert b.points_train.shape == (140, 2) and b.domain is not None


@pytest.mark.parametrize("name", [d.name for d in DATASETS if d.two_d and d.kind ==
                                  "classification"])
def test_two_d_classes_are_balanced(name: str) -> None:
    b = load_data(DataSpec(name=name))
    counts = np.bincount(torch.cat([b.y_train, b.y_test]).numpy())
    assert counts.min() > 0.6 * counts.max()


def test_features_are_computed_from_the_raw_points() -> None:
    b = load_data(DataSpec(name="circle", features=["x1^2", "x2^2", "sin_x1"]))
    p = b.points_train
    np.testing.assert_allclose(b.x_train[:, 0].numpy(), p[:, 0] ** 2, rtol=1e-5)
    np.testing.assert_allclose(b.x_train[:, 1].numpy(), p[:, 1] ** 2, rtol=1e-5)
    np.testing.assert_allclose(b.x_train[:, 2].numpy(), np.sin(p[:, 0]), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("spec, where, words", [
    (DataSpec(name="spiral", params={"noise": 5}), "data.params", "noise must be between"),
    (DataSpec(name="spiral", params={"colour": 1}), "data.params", "unknown parameter"),
    (DataSpec(name="spirall"), "data.name", "did you mean spiral"),
    (DataSpec(name="iris", features=["x1"]), "data.features", "2-D toy sets only"),
    (DataSpec(name="circle", features=["x3"]), "data.features", "unknown feature"),
])
def test_bad_data_specs_name_the_place(spec: DataSpec, where: str, words: str) -> None:
    with pytest.raises(SpecError) as e:
        load_data(spec)
    assert len(e.value.issues) == 1
    assert e.value.issues[0].path == where and words in str(e.value)


def test_tabular_standardises_on_the_training_split_only() -> None:
    b = load_data(DataSpec(name="wine"))
    np.testing.assert_allclose(b.x_train.mean(0).numpy(), 0, atol=1e-5)
    np.testing.assert_allclose(b.x_train.std(0, unbiased=False).numpy(), 1, atol=1e-4)
    assert np.abs(b.x_test.mean(0).numpy()).max() > 0.01  # the test split is not re-centred
    assert b.class_names == ("class_0", "class_1", "class_2")


def csv(tmp_path: Path, text: str, name: str = "data.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def load_csv(**params: object):  # noqa: ANN201
    return load_data(DataSpec(name="csv", params=params))


def test_csv_numeric_classification_and_regression(tmp_path: Path) -> None:
    rows = "\n".join(f"{i},{i % 3},{(i * 7) % 5}" for i in range(40))
    b = load_csv(path=csv(tmp_path, "x,y,label\n" + rows))
    assert b.kind == "classification" and b.class_names == ("0", "1", "2", "3", "4")
    rows = "\n".join(f"{i},{i * 0.37:.3f}" for i in range(40))
    b = load_csv(path=csv(tmp_path, "x,y\n" + rows, "reg.csv"))
    assert b.kind == "regression" and b.n_outputs == 1
    b = load_csv(path=csv(tmp_path, "x,y\n" + rows, "reg2.csv"), task="classification")
    assert b.kind == "classification"


def test_csv_text_target_and_one_hot_features(tmp_path: Path) -> None:
    text = "size,colour,kind\n" + "\n".join(
        f"{i},{'red' if i % 2 else 'blue'},{'cat' if i % 3 else 'dog'}" for i in range(30))
    b = load_csv(path=csv(tmp_path, text))
    assert b.class_names == ("cat", "dog")
    assert b.feature_names == ("size", "colour_blue", "colour_red")
    with pytest.raises(SpecError, match="columns colour hold text"):
        load_csv(path=csv(tmp_path, text, "r.csv"), categorical="refuse")


def test_csv_missing_values_are_dropped_and_reported(tmp_path: Path) -> None:
    text = "a,b,t\n" + "\n".join(f"{i},{'' if i in (3, 8) else i},{i % 2}" for i in range(20))
    b = load_csv(path=csv(tmp_path, text))
    assert len(b.x_train) + len(b.x_test) == 18
    assert b.notes == ("dropped 2 rows with missing values in columns b",)


def test_csv_errors_name_the_field_and_the_fix(tmp_path: Path) -> None:
    text = "age,t\n" + "\n".join(f"{'abc' if i == 6 else i},{i % 2}" for i in range(20))
    with pytest.raises(SpecError) as e:
        load_csv(path=csv(tmp_path, text))
    assert str(e.value) == ("data.params: column 'age' is numeric except row 7 ('abc'); "
                            "fix the value or remove the row")
    with pytest.raises(SpecError, match="file 'none.csv' not found; upload it again"):
        load_csv(path=str(tmp_path / "none.csv"))
    good = csv(tmp_path, "a,t\n" + "\n".join(f"{i},{i % 2}" for i in range(20)), "g.csv")
    with pytest.raises(SpecError, match=r"target column 'z' is not in the file \(columns: a, t"):
        load_csv(path=good, target="z")
    with pytest.raises(SpecError, match="more than 10 rows"):
        load_csv(path=good, max_rows=10)
