"""A user's CSV file, read with pandas.

Rules:

- The target is a named column (default: the last). ``task`` auto makes a
  non-numeric target, or a whole-number target with at most 20 distinct values,
  a classification; anything else a regression.
- Class names are the distinct target values as text, in numeric order for a
  numeric target (so class 2 comes before class 10) and alphabetical otherwise.
- Rows with missing values are dropped and reported in ``DataBundle.notes``.
- A text column whose non-missing values are mostly (80% or more) numbers is a
  typing mistake, reported with its first bad row; row numbers count data rows
  from 1 (the header line is not a row). Other text input columns are one-hot
  encoded, or refused when ``categorical`` is refuse; a text column with more
  than 50 distinct values (a name, an id, free text) is always refused, since
  one-hot encoding it would add a column per value.
- Inputs are standardised on the training split only. A regression target is
  standardised on the training split too: raw targets such as prices in the
  hundreds of thousands give MSE values near 1e10 and gradients that blow up at
  the default learning rates, while a standardised target starts near MSE 1
  for every file. Losses and predictions are then in standard-deviation units.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from engine.data.base import DATASETS, TRAIN_RATIO, DataBundle, DatasetType, split
from engine.data.tabular import standardize
from engine.errors import Issue, SpecError
from engine.i18n import N_, t
from engine.params import Param

MAX_BYTES = 50 * 1024 * 1024
# Folders a CSV may be read from; None (the engine's default, on a user's own machine) is
# anywhere. The app sets it to its upload folder, because its specs arrive from links.
ALLOWED_DIRS: list[Path] | None = None
MAX_CLASSES = 20  # auto: a whole-number target with more distinct values is a regression
MAX_ANY_CLASSES = 1000  # even when classification is asked for: more is not a class label
MAX_CATEGORIES = 50  # per one-hot encoded input column
MOSTLY_NUMERIC = 0.8


def _fail(message: str, code: str) -> SpecError:
    return SpecError(Issue("data.params", message, code))


def _numeric(col: pd.Series) -> pd.Series:
    return pd.to_numeric(col, errors="coerce")


def _check_values(df: pd.DataFrame) -> None:
    """Refuse numeric columns with a stray word or an infinite number in them."""
    for name in df.columns:
        col = df[name]
        if is_numeric_dtype(col):
            if is_bool_dtype(col):
                continue
            bad = col.index[np.isinf(col.to_numpy(np.float64))]
            if len(bad):
                raise _fail(t("column {name} has an infinite value in row {row} ({value}); "
                              "fix the value or remove the row", name=repr(name),
                              row=bad[0] + 1, value=repr(col[bad[0]])), "csv_not_finite")
            continue
        present = col.dropna()
        as_num = _numeric(present)
        if len(present) and as_num.notna().mean() >= MOSTLY_NUMERIC and as_num.isna().any():
            bad = as_num.index[as_num.isna()][0]
            raise _fail(t("column {name} is numeric except row {row} ({value}); fix the value "
                          "or remove the row", name=repr(name), row=bad + 1,
                          value=repr(present[bad])), "csv_text")


def read_table(p: dict[str, Any]) -> tuple[pd.DataFrame, list[str]]:
    """The file as a clean table, and notes about what was dropped."""
    if not p["path"]:
        raise _fail(t("no file given; upload a CSV file or set path"), "csv_missing")
    path = Path(p["path"])
    if ALLOWED_DIRS is not None and not any(
            path.resolve().is_relative_to(d.resolve()) for d in ALLOWED_DIRS):
        # A spec from a link must not make the server read (and quote) any file it can see.
        raise _fail(t("file {file} is not an uploaded file; upload it again",
                      file=repr(path.name)), "csv_outside")
    if not path.is_file():
        raise _fail(t("file {file} not found; upload it again or fix the path",
                      file=repr(path.name)), "csv_missing")
    if path.stat().st_size > MAX_BYTES:
        raise _fail(t("file {file} is larger than {mb} MB; use a sample", file=repr(path.name),
                      mb=MAX_BYTES // 2**20), "csv_too_large")
    try:
        # One row past the cap is enough to know the file is too long, without reading it all.
        df = pd.read_csv(path, nrows=p["max_rows"] + 1, skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
        raise _fail(t("file {file} is not a readable CSV ({error})", file=repr(path.name),
                      error=e), "csv_unreadable") from None
    if len(df) > p["max_rows"]:
        raise _fail(t("file {file} has more than {n} rows (max_rows); raise max_rows or use a "
                      "sample", file=repr(path.name), n=p["max_rows"]), "csv_too_many_rows")
    if df.shape[1] < 2:
        raise _fail(t("the CSV needs at least one input column and a target column"),
                    "csv_columns")
    _check_values(df)
    notes = []
    missing = df.columns[df.isna().any()].tolist()
    if missing:
        before = len(df)
        df = df.dropna().reset_index(drop=True)
        notes.append(t("dropped {n} rows with missing values in columns {columns}",
                       n=before - len(df), columns=", ".join(map(str, missing))))
        if df.empty:
            raise _fail(t("every row has a missing value; fill them in first"), "csv_empty")
    if len(df) < 2:
        raise _fail(t("file {file} has {n} usable rows; a train and a test split need at "
                      "least 2", file=repr(path.name), n=len(df)), "csv_too_few_rows")
    return df, notes


def _inputs(x_df: pd.DataFrame, categorical: str) -> pd.DataFrame:
    text = [c for c in x_df.columns if not is_numeric_dtype(x_df[c])]
    if text and categorical == "refuse":
        raise _fail(t("columns {columns} hold text; set categorical to onehot or remove them",
                      columns=", ".join(map(str, text))), "csv_categorical")
    wide = [c for c in text if x_df[c].nunique() > MAX_CATEGORIES]
    if wide:
        raise _fail(t("columns {columns} have more than {n} different text values, too many "
                      "to one-hot encode; remove them", columns=", ".join(map(str, wide)),
                      n=MAX_CATEGORIES), "csv_too_many_categories")
    return pd.get_dummies(x_df, columns=text, dtype=float).astype(np.float64)


def _is_classification(y: pd.Series, task: str) -> bool:
    if task != "auto":
        return task == "classification"
    if not is_numeric_dtype(y) or is_bool_dtype(y):
        return True
    values = y.to_numpy(np.float64)
    return bool(np.all(values == np.round(values))) and y.nunique() <= MAX_CLASSES


def _class_codes(y: pd.Series, target: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Class index per row and the class names, in numeric order for numeric targets."""
    if is_numeric_dtype(y) and not is_bool_dtype(y):
        values = np.unique(y.to_numpy(np.float64))
        whole = np.all(values == np.round(values))
        names = tuple(str(int(v)) if whole else str(v) for v in values)
        codes = np.searchsorted(values, y.to_numpy(np.float64))
    else:
        labels = y.astype(str)
        names = tuple(sorted(labels.unique()))
        codes = labels.map({c: i for i, c in enumerate(names)}).to_numpy()
    if len(names) < 2:
        raise _fail(t("target {target} has only one value ({value}); a classification needs "
                      "at least two classes", target=repr(target), value=names[0]),
                    "csv_one_class")
    if len(names) > MAX_ANY_CLASSES:
        raise _fail(t("target {target} has {n} different values, too many classes (at most "
                      "{most}); set task to regression", target=repr(target), n=len(names),
                      most=MAX_ANY_CLASSES), "csv_too_many_classes")
    return codes.astype(np.int64), names


def load(p: dict[str, Any], seed: int, features: Sequence[str] | None) -> DataBundle:
    df, notes = read_table(p)
    target = p["target"] or df.columns[-1]
    if target not in df.columns:
        raise _fail(t("target column {target} is not in the file (columns: {columns})",
                      target=repr(target), columns=", ".join(map(str, df.columns))),
                    "csv_target")
    y_raw = df[target]
    x_df = _inputs(df.drop(columns=[target]), p["categorical"])
    tr, te = split(len(df), p["train_ratio"], np.random.default_rng(seed))
    x = x_df.to_numpy(np.float64)
    x_tr, x_te = standardize(x[tr], x[te])
    if _is_classification(y_raw, p["task"]):
        codes, names = _class_codes(y_raw, target)
        y_tr, y_te = torch.from_numpy(codes[tr]), torch.from_numpy(codes[te])
        kind = "classification"
    else:
        values = _numeric(y_raw)
        if values.isna().any():
            raise _fail(t("target {target} holds text; set task to classification",
                          target=repr(target)), "csv_target_text")
        y = values.to_numpy(np.float64).reshape(-1, 1)
        t_tr, t_te = standardize(y[tr], y[te])
        y_tr, y_te = (torch.from_numpy(a.astype(np.float32)) for a in (t_tr, t_te))
        kind, names = "regression", ()
    return DataBundle(torch.from_numpy(x_tr.astype(np.float32)), y_tr,
                      torch.from_numpy(x_te.astype(np.float32)), y_te, kind, names,
                      tuple(map(str, x_df.columns)), notes=tuple(notes))


# The task is decided from the file, so the declared kind is only the usual one.
DATASETS.register(DatasetType(
    "csv", N_("Your CSV file"), "classification",
    N_("A table you upload; choose the target column."),
    (Param("path", str, "", N_("The uploaded file.")),
     Param("target", str, "", N_("Target column (empty: the last column).")),
     Param("task", str, "auto", N_("What to predict (auto: text or a few whole numbers are "
                                   "classes, other numbers a regression)."),
           choices=("auto", "classification", "regression")),
     TRAIN_RATIO,
     Param("categorical", str, "onehot", N_("Text columns: one-hot encode or refuse."),
           choices=("onehot", "refuse")),
     Param("max_rows", int, 100_000, N_("Refuse files with more rows."), min=10, max=1_000_000)),
    load, "file"))
