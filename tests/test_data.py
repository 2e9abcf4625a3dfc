"""Every data set: shapes, determinism, parameters, and the CSV rules."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.data import DATASETS, DataBundle, load_data
from engine.errors import SpecError
from engine.spec import DataSpec

# Image, sequence and text sets have their own tests (tests/test_data_images.py,
# tests/test_data_sequences.py).
GENERATED = [d.name for d in DATASETS
             if d.name != "csv" and d.category not in ("image", "sequence", "text")]
TABULAR_ROWS = {"iris": (150, 4), "wine": (178, 13), "breast_cancer": (569, 30),
                "diabetes": (442, 10)}


def defaults(name: str) -> dict:
    return {p.name: p.default for p in DATASETS.get(name).params}


def test_the_expected_sets_are_registered() -> None:
    expected = {"circle", "xor", "spiral", "sine", "polynomial", "csv", *TABULAR_ROWS}
    assert expected <= set(DATASETS.names())


@pytest.mark.parametrize("name", GENERATED)
def test_loads_with_defaults_in_the_declared_sizes_and_shapes(name: str) -> None:
    ds, b = DATASETS.get(name), load_data(DataSpec(name=name))
    p = defaults(name)
    total = p["n_samples"] if "n_samples" in p else TABULAR_ROWS[name][0]
    assert (len(b.x_train), len(b.x_test)) == (round(total * p["train_ratio"]),
                                               total - round(total * p["train_ratio"]))
    assert len(b.y_train) == len(b.x_train) and len(b.y_test) == len(b.x_test)
    assert b.kind == ds.kind
    width = 2 if ds.two_d else 1 if ds.category == "toy" else TABULAR_ROWS[name][1]
    assert b.input_shape == (width,) and len(b.feature_names) == width
    assert b.x_train.dtype == b.x_test.dtype == torch.float32
    assert torch.isfinite(b.x_train).all() and torch.isfinite(b.x_test).all()
    if b.kind == "classification":
        assert b.y_train.dtype == b.y_test.dtype == torch.int64 and b.y_train.ndim == 1
        assert set(torch.cat([b.y_train, b.y_test]).tolist()) == set(range(len(b.class_names)))
    else:
        assert b.y_train.dtype == torch.float32 and b.y_train.shape == (len(b.x_train), 1)
        assert b.class_names == () and b.n_outputs == 1
    if ds.two_d:
        assert b.points_train.shape == (len(b.x_train), 2) and b.domain is not None
    else:
        assert b.points_train is None and b.points_test is None and b.domain is None


@pytest.mark.parametrize("name", GENERATED)
def test_seeded(name: str) -> None:
    a, b = load_data(DataSpec(name=name, seed=1)), load_data(DataSpec(name=name, seed=1))
    c = load_data(DataSpec(name=name, seed=2))
    for t in ("x_train", "y_train", "x_test", "y_test"):
        assert torch.equal(getattr(a, t), getattr(b, t))
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
    b = load_data(DataSpec(name="circle", features=["x1^2", "x2^2"]))
    p = b.points_train
    assert b.input_shape == (2,) and b.feature_names == ("x1^2", "x2^2")
    np.testing.assert_allclose(b.x_train[:, 0].numpy(), p[:, 0] ** 2, rtol=1e-5)
    np.testing.assert_allclose(b.x_train[:, 1].numpy(), p[:, 1] ** 2, rtol=1e-5)
    b = load_data(DataSpec(name="circle", features=["sin_x1"]))
    np.testing.assert_allclose(b.x_train[:, 0].numpy(), np.sin(b.points_train[:, 0]), atol=1e-6)


def xy(b: DataBundle) -> tuple[np.ndarray, np.ndarray]:
    return (torch.cat([b.x_train, b.x_test]).numpy()[:, 0],
            torch.cat([b.y_train, b.y_test]).numpy()[:, 0])


def test_sine_is_sin_of_x_over_the_chosen_periods() -> None:
    x, y = xy(load_data(DataSpec(name="sine", params={"periods": 2})))
    assert x.min() >= -np.pi and x.max() <= np.pi and x.max() - x.min() > 6
    np.testing.assert_allclose(y, np.sin(2 * x), atol=1e-5)
    x, y = xy(load_data(DataSpec(name="sine", params={"noise": 0.3})))
    assert 0.2 < np.std(y - np.sin(x)) < 0.4


@pytest.mark.parametrize("degree, f", [(1, lambda t: t), (2, lambda t: 2 * t**2 - 1),
                                       (3, lambda t: 4 * t**3 - 3 * t),
                                       (5, lambda t: 16 * t**5 - 20 * t**3 + 5 * t)])
def test_polynomial_is_the_documented_curve(degree: int, f: Callable) -> None:
    x, y = xy(load_data(DataSpec(name="polynomial", params={"degree": degree})))
    np.testing.assert_allclose(y, f(x / np.pi), atol=1e-5)


@pytest.mark.parametrize("spec, where, words", [
    (DataSpec(name="spiral", params={"noise": 5}), "data.params", "noise must be between"),
    (DataSpec(name="polynomial", params={"degree": 9}), "data.params", "degree must be between"),
    (DataSpec(name="spiral", params={"colour": 1}), "data.params", "unknown parameter 'colour'"),
    (DataSpec(name="iris", params={"standardize": "yes"}), "data.params",
     "standardize must be true or false"),
    (DataSpec(name="spirall"), "data.name", "did you mean spiral"),
    (DataSpec(name="iris", features=["x1"]), "data.features", "2-D toy sets only"),
    (DataSpec(name="circle", features=["x3"]), "data.features", "unknown feature"),
])
def test_bad_data_specs_name_the_place(spec: DataSpec, where: str, words: str) -> None:
    with pytest.raises(SpecError) as e:
        load_data(spec)
    assert len(e.value.issues) == 1 and "\n" not in str(e.value)
    assert e.value.issues[0].path == where and words in str(e.value)


def test_tabular_standardises_on_the_training_split_only() -> None:
    b = load_data(DataSpec(name="wine"))
    np.testing.assert_allclose(b.x_train.mean(0).numpy(), 0, atol=1e-5)
    np.testing.assert_allclose(b.x_train.std(0, unbiased=False).numpy(), 1, atol=1e-4)
    assert np.abs(b.x_test.mean(0).numpy()).max() > 0.01  # the test split is not re-centred
    assert b.class_names == ("class_0", "class_1", "class_2")


def test_tabular_names_and_raw_values() -> None:
    from sklearn.datasets import load_iris

    raw = load_iris()
    b = load_data(DataSpec(name="iris", params={"standardize": False}))
    assert b.class_names == ("setosa", "versicolor", "virginica")
    assert b.feature_names == tuple(raw.feature_names)
    rows = {tuple(np.round(r, 4)) for r in raw.data}
    assert all(tuple(np.round(r, 4)) in rows for r in b.x_train.numpy().astype(np.float64))


def test_diabetes_target_is_standardised_on_the_training_split() -> None:
    b = load_data(DataSpec(name="diabetes"))
    assert abs(float(b.y_train.mean())) < 1e-5
    assert abs(float(b.y_train.std(unbiased=False)) - 1) < 1e-4
    assert abs(float(b.y_test.mean())) > 1e-3


# --- CSV files ------------------------------------------------------------------------------

def csv(tmp_path: Path, text: str, name: str = "data.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def load_csv(**params: object) -> DataBundle:
    return load_data(DataSpec(name="csv", params=params))


def csv_error(code: str, **params: object) -> str:
    with pytest.raises(SpecError) as e:
        load_csv(**params)
    assert len(e.value.issues) == 1
    issue = e.value.issues[0]
    assert (issue.path, issue.code) == ("data.params", code)
    return str(e.value)


def test_csv_numeric_classification(tmp_path: Path) -> None:
    rows = "\n".join(f"{i},{i % 3},{(i * 7) % 5}" for i in range(40))
    b = load_csv(path=csv(tmp_path, "x,y,label\n" + rows))
    assert b.kind == "classification" and b.class_names == ("0", "1", "2", "3", "4")
    assert b.feature_names == ("x", "y") and b.n_outputs == 5
    assert len(b.x_train) == len(b.x_test) == 20
    np.testing.assert_allclose(b.x_train.mean(0).numpy(), 0, atol=1e-5)
    x = torch.cat([b.x_train, b.x_test])[:, 0].numpy()
    labels = torch.cat([b.y_train, b.y_test]).numpy()
    # x rises with the row number, so sorting by it recovers the file's order
    np.testing.assert_array_equal(labels[np.argsort(x)], (np.arange(40) * 7) % 5)


def test_csv_labels_follow_their_rows(tmp_path: Path) -> None:
    # Labels 2 and 10: numeric order (2 before 10), not text order, and whole floats stay whole.
    rows = "\n".join(f"{i},{10.0 if i % 2 else 2.0}" for i in range(30))
    b = load_csv(path=csv(tmp_path, "x,label\n" + rows), train_ratio=0.5)
    assert b.class_names == ("2", "10")
    x = torch.cat([b.x_train, b.x_test])[:, 0].numpy()
    y = torch.cat([b.y_train, b.y_test]).numpy()
    order = np.argsort(x)  # x rises with the row number, so sorting recovers the file's order
    np.testing.assert_array_equal(y[order], np.arange(30) % 2)


def test_csv_regression_target_is_standardised_on_train(tmp_path: Path) -> None:
    rows = "\n".join(f"{i},{1000 + i * 37.5:.2f}" for i in range(40))
    b = load_csv(path=csv(tmp_path, "x,price\n" + rows))
    assert b.kind == "regression" and b.n_outputs == 1 and b.y_train.shape == (20, 1)
    assert abs(float(b.y_train.mean())) < 1e-5
    assert abs(float(b.y_train.std(unbiased=False)) - 1) < 1e-4
    # x and price are both linear in the row, so their standardised values match on train.
    np.testing.assert_allclose(b.x_train[:, 0].numpy(), b.y_train[:, 0].numpy(), atol=1e-4)
    b = load_csv(path=csv(tmp_path, "x,price\n" + rows, "reg2.csv"), task="classification")
    assert b.kind == "classification" and len(b.class_names) == 40


def test_csv_auto_task_rules(tmp_path: Path) -> None:
    many = "\n".join(f"{i},{i}" for i in range(30))  # 30 whole values: a regression
    assert load_csv(path=csv(tmp_path, "x,t\n" + many, "many.csv")).kind == "regression"
    few = "\n".join(f"{i},{i % 20}" for i in range(30))  # 20 whole values: classes
    assert load_csv(path=csv(tmp_path, "x,t\n" + few, "few.csv")).kind == "classification"
    frac = "\n".join(f"{i},{(i % 2) / 2}" for i in range(30))  # 0 and 0.5: a regression
    assert load_csv(path=csv(tmp_path, "x,t\n" + frac, "frac.csv")).kind == "regression"


def test_csv_text_target_and_one_hot_features(tmp_path: Path) -> None:
    text = "size,colour,kind\n" + "\n".join(
        f"{i},{'red' if i % 2 else 'blue'},{'cat' if i % 3 else 'dog'}" for i in range(30))
    b = load_csv(path=csv(tmp_path, text))
    assert b.kind == "classification" and b.class_names == ("cat", "dog")
    assert b.feature_names == ("size", "colour_blue", "colour_red")
    x = torch.cat([b.x_train, b.x_test]).numpy()
    assert len(np.unique(np.round(x[:, 1], 4))) == 2  # one-hot columns, then standardised
    assert (x[:, 1] * x[:, 2] < 0).all()  # blue and red are exclusive
    message = csv_error("csv_categorical", path=csv(tmp_path, text, "r.csv"),
                        categorical="refuse")
    assert "columns colour hold text" in message
    assert "regression" not in message
    with pytest.raises(SpecError, match="holds text; set task to classification"):
        load_csv(path=csv(tmp_path, text, "r2.csv"), task="regression")


def test_csv_refuses_a_text_column_with_too_many_values(tmp_path: Path) -> None:
    text = "name,x,t\n" + "\n".join(f"person{i},{i},{i % 2}" for i in range(80))
    message = csv_error("csv_too_many_categories", path=csv(tmp_path, text))
    assert "columns name have more than 50 different text values" in message


def test_csv_missing_values_are_dropped_and_reported(tmp_path: Path) -> None:
    text = "a,b,t\n" + "\n".join(f"{i},{'' if i in (3, 8) else i},{i % 2}" for i in range(20))
    b = load_csv(path=csv(tmp_path, text))
    assert len(b.x_train) + len(b.x_test) == 18
    assert b.notes == ("dropped 2 rows with missing values in columns b",)
    assert torch.isfinite(b.x_train).all() and torch.isfinite(b.x_test).all()
    text = "a,b,t\n" + "\n".join(f"{i},{'' if i % 2 else i},{'' if i % 2 == 0 else 1}"
                                 for i in range(20))
    assert "every row has a missing value" in csv_error(
        "csv_empty", path=csv(tmp_path, text, "all.csv"))


def test_csv_text_in_a_numeric_column_names_column_and_row(tmp_path: Path) -> None:
    text = "age,t\n" + "\n".join(f"{'abc' if i == 6 else i},{i % 2}" for i in range(20))
    assert csv_error("csv_text", path=csv(tmp_path, text)) == (
        "data.params: column 'age' is numeric except row 7 ('abc'); "
        "fix the value or remove the row")
    text = "age,t\n" + "\n".join(f"{'inf' if i == 2 else i},{i % 2}" for i in range(20))
    assert "column 'age' has an infinite value in row 3" in csv_error(
        "csv_not_finite", path=csv(tmp_path, text, "inf.csv"))


def test_csv_file_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert csv_error("csv_missing", path=str(tmp_path / "none.csv")) == (
        "data.params: file 'none.csv' not found; upload it again or fix the path")
    assert "no file given" in csv_error("csv_missing")
    good = csv(tmp_path, "a,t\n" + "\n".join(f"{i},{i % 2}" for i in range(20)), "g.csv")
    assert "target column 'z' is not in the file (columns: a, t)" in csv_error(
        "csv_target", path=good, target="z")
    assert "more than 10 rows (max_rows)" in csv_error("csv_too_many_rows", path=good,
                                                       max_rows=10)
    assert len(load_csv(path=good, max_rows=20).x_train) == 10  # exactly at the cap is fine
    import engine.data.csv_file as csv_file
    monkeypatch.setattr(csv_file, "MAX_BYTES", 20)
    assert "larger than" in csv_error("csv_too_large", path=good, max_rows=30)
    monkeypatch.undo()
    one = csv(tmp_path, "a,t\n" + "\n".join(f"{i},1" for i in range(20)), "one.csv")
    assert "only one value" in csv_error("csv_one_class", path=one)
    assert "needs at least one input column" in csv_error(
        "csv_columns", path=csv(tmp_path, "t\n1\n2\n", "narrow.csv"))
    assert "at least 2" in csv_error("csv_too_few_rows", path=csv(tmp_path, "a,t\n1,0\n",
                                                                  "short.csv"))
    assert "not a readable CSV" in csv_error("csv_unreadable",
                                             path=csv(tmp_path, "", "empty.csv"))


def test_the_app_reads_csv_files_only_from_its_upload_folder(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    from engine.data import csv_file

    inside = tmp_path / "uploads"
    inside.mkdir()
    rows = "a,t\n" + "\n".join(f"{i},{i % 2}" for i in range(20))
    (inside / "ok.csv").write_text(rows)
    (tmp_path / "secret.csv").write_text(rows)
    monkeypatch.setattr(csv_file, "ALLOWED_DIRS", [inside])
    assert len(load_data(DataSpec(name="csv", params={"path": str(inside / "ok.csv")})).x_train)
    with pytest.raises(SpecError, match="not an uploaded file"):
        load_data(DataSpec(name="csv", params={"path": str(tmp_path / "secret.csv")}))
    with pytest.raises(SpecError, match="not an uploaded file"):
        load_data(DataSpec(name="csv", params={"path": str(inside / ".." / "secret.csv")}))
