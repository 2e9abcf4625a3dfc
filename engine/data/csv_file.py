"""A user's CSV file, read with pandas.

Rules: the target is a named column (default: the last). ``task`` auto makes a
non-numeric target, or a whole-number target with at most 20 distinct values,
a classification; anything else a regression. Rows with missing values are
dropped and reported. A column whose values are mostly (80% or more) numbers
but not all is a typing mistake, reported with its first bad row; other text
columns are one-hot encoded (or refused). Inputs, and a regression target,
are standardised on the training split.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from pandas.api.types import is_numeric_dtype

from engine.data.base import DATASETS, TRAIN_RATIO, DataBundle, DatasetType, split
from engine.data.tabular import standardize
from engine.errors import Issue, SpecError
from engine.params import Param

MAX_BYTES = 50 * 1024 * 1024
MAX_CLASSES = 20
MOSTLY_NUMERIC = 0.8


def _fail(message: str, code: str) -> SpecError:
    return SpecError(Issue("data.params", message, code))


def _numeric(col: pd.Series) -> pd.Series:
    return pd.to_numeric(col, errors="coerce")


def read_table(p: dict[str, Any]) -> tuple[pd.DataFrame, list[str]]:
    """The file as a clean table, and notes about what was dropped."""
    path = Path(p["path"])
    if not p["path"] or not path.is_file():
        raise _fail(f"file {path.name or '(none)'!r} not found; upload it again or fix the path",
                    "csv_missing")
    if path.stat().st_size > MAX_BYTES:
        raise _fail(f"file {path.name!r} is larger than {MAX_BYTES // 2**20} MB; use a sample",
                    "csv_too_large")
    try:
        df = pd.read_csv(path, nrows=p["max_rows"] + 1, skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
        raise _fail(f"file {path.name!r} is not a readable CSV ({e})", "csv_unreadable") from None
    if len(df) > p["max_rows"]:
        raise _fail(f"file {path.name!r} has more than {p['max_rows']} rows (max_rows); raise "
                    "max_rows or use a sample", "csv_too_many_rows")
    if df.shape[1] < 2:
        raise _fail("the CSV needs at least one input column and a target column", "csv_columns")
    for name in df.columns:
        col = df[name]
        if is_numeric_dtype(col):
            continue
        present = col.dropna()
        as_num = _numeric(present)
        if len(present) and as_num.notna().mean() >= MOSTLY_NUMERIC and as_num.isna().any():
            bad = as_num[as_num.isna()].index[0]
            raise _fail(f"column {name!r} is numeric except row {bad + 1} "
                        f"({present[bad]!r}); fix the value or remove the row", "csv_text")
    notes = []
    missing = df.columns[df.isna().any()].tolist()
    if missing:
        before = len(df)
        df = df.dropna().reset_index(drop=True)
        notes.append(f"dropped {before - len(df)} rows with missing values in columns "
                     f"{', '.join(map(str, missing))}")
        if df.empty:
            raise _fail("every row has a missing value; fill them in first", "csv_empty")
    return df, notes


def load(p: dict[str, Any], seed: int, features: Sequence[str] | None) -> DataBundle:
    df, notes = read_table(p)
    target = p["target"] or df.columns[-1]
    if target not in df.columns:
        raise _fail(f"target column {target!r} is not in the file (columns: "
                    f"{', '.join(map(str, df.columns))})", "csv_target")
    y_raw, x_df = df[target], df.drop(columns=[target])
    text = [c for c in x_df.columns if not is_numeric_dtype(x_df[c])]
    if text and p["categorical"] == "refuse":
        raise _fail(f"columns {', '.join(map(str, text))} hold text; set categorical to onehot "
                    "or remove them", "csv_categorical")
    x_df = pd.get_dummies(x_df, columns=text, dtype=float)
    kind = p["task"]
    if kind == "auto":
        numeric = is_numeric_dtype(y_raw)
        whole = numeric and np.allclose(y_raw, np.round(y_raw))
        kind = ("classification" if not numeric or (whole and y_raw.nunique() <= MAX_CLASSES)
                else "regression")
    tr, te = split(len(df), p["train_ratio"], np.random.default_rng(seed))
    x_tr, x_te = standardize(x_df.to_numpy(np.float64)[tr], x_df.to_numpy(np.float64)[te])
    if kind == "classification":
        classes = sorted(y_raw.astype(str).unique())
        codes = y_raw.astype(str).map({c: i for i, c in enumerate(classes)}).to_numpy(np.int64)
        y_tr, y_te = torch.from_numpy(codes[tr]), torch.from_numpy(codes[te])
        names: tuple[str, ...] = tuple(classes)
    else:
        values = _numeric(y_raw)
        if values.isna().any():
            raise _fail(f"target {target!r} holds text; set task to classification",
                        "csv_target_text")
        t_tr, t_te = standardize(values.to_numpy(np.float64)[tr].reshape(-1, 1),
                                 values.to_numpy(np.float64)[te].reshape(-1, 1))
        y_tr, y_te = (torch.from_numpy(t.astype(np.float32)) for t in (t_tr, t_te))
        names = ()
    return DataBundle(torch.from_numpy(x_tr.astype(np.float32)), y_tr,
                      torch.from_numpy(x_te.astype(np.float32)), y_te, kind, names,
                      tuple(map(str, x_df.columns)), notes=tuple(notes))


# The task is decided from the file, so the declared kind is only the usual one.
DATASETS.register(DatasetType(
    "csv", "Your CSV file", "classification", "A table you upload; choose the target column.",
    (Param("path", str, "", "The uploaded file."),
     Param("target", str, "", "Target column (empty: the last column)."),
     Param("task", str, "auto", "What to predict.", choices=("auto", "classification",
                                                            "regression")),
     TRAIN_RATIO,
     Param("categorical", str, "onehot", "Text columns: one-hot encode or refuse.",
           choices=("onehot", "refuse")),
     Param("max_rows", int, 100_000, "Refuse files with more rows.", min=10, max=1_000_000)),
    load, "file"))
