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

import io
import re
from collections.abc import Sequence
from functools import lru_cache
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
MAX_COLUMNS = 5000  # MNIST as a table is 785 columns, CIFAR-10 3,073
# Read in this order; UTF-16 only when the file starts with its byte-order mark.
ENCODINGS = ("utf-8-sig", "gb18030")
SEPARATORS = (";", "\t", "|")  # besides the comma, when the header line has no comma
SHOWN_CHARS = 40  # of a bad cell quoted back in a message


def _fail(message: str, code: str) -> SpecError:
    return SpecError(Issue("data.params", message, code))


def _shown(value: Any) -> str:
    """A cell quoted in a message: as written in the file, cut short."""
    text = str(value.item() if isinstance(value, np.generic) else value)
    return repr(text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS - 1] + "…")


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
                              row=bad[0] + 1, value=_shown(col[bad[0]])), "csv_not_finite")
            continue
        present = col.dropna()
        as_num = _numeric(present)
        if len(present) and as_num.notna().mean() >= MOSTLY_NUMERIC and as_num.isna().any():
            bad = as_num.index[as_num.isna()][0]
            raise _fail(t("column {name} is numeric except row {row} ({value}); fix the value "
                          "or remove the row", name=repr(name), row=bad + 1,
                          value=_shown(present[bad])), "csv_text")


def _text(path: Path) -> str:
    """The file's text: UTF-8 (with or without Excel's byte-order mark), UTF-16 with its
    mark (Excel's "Unicode text"), else GB18030 (Chinese Excel's default); anything else,
    or a binary file, is refused with the fix."""
    raw = path.read_bytes()
    encodings = ("utf-16",) if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else ENCODINGS
    for encoding in encodings:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:  # a zip, a spreadsheet or a picture renamed to .csv
            return text
    raise _fail(t("file {file} is not a readable CSV: it is not text in UTF-8; in Excel "
                  "choose Save As, CSV UTF-8, and upload that file", file=repr(path.name)),
                "csv_unreadable")


def _header(text: str) -> str:
    end = text.find("\n")
    return text if end < 0 else text[:end]


def _separator(text: str) -> str:
    """A comma, unless the header line has none and is split by one of SEPARATORS."""
    header = _header(text)
    if "," in header:
        return ","
    return max(SEPARATORS, key=header.count) if any(c in header for c in SEPARATORS) else ","


def _parser_words(error: Exception, name: str) -> str:
    """pandas' parser errors as the row to fix (its own words name its C internals)."""
    message = str(error)
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if found:
        want, line, got = found.groups()
        return t("file {file} is not a readable CSV: line {line} has {got} values but the "
                 "first line names {want} columns; fix that line", file=repr(name),
                 line=line, got=got, want=want)
    if "EOF inside string" in message:
        return t("file {file} is not a readable CSV: a quotation mark is opened and never "
                 "closed; fix it", file=repr(name))
    return t("file {file} is not a readable CSV: it is empty or has no column names in its "
             "first line", file=repr(name))


def _allowed(path: Path) -> bool:
    return ALLOWED_DIRS is None or any(path.resolve().is_relative_to(d.resolve())
                                       for d in ALLOWED_DIRS)


@lru_cache(maxsize=8)  # uploads are stored under their content's hash: a path never changes
def columns(path: str) -> list[str]:
    """The column names of a CSV file, read as ``load`` reads it (empty when it cannot be
    read: the data set's own check then says why)."""
    p = Path(path)
    if not _allowed(p) or not p.is_file() or p.stat().st_size > MAX_BYTES:
        return []
    try:
        text = _text(p)
        sep = _separator(text)
        return [str(c) for c in pd.read_csv(io.StringIO(_header(text)), nrows=0, sep=sep,
                                            skipinitialspace=True).columns]
    except (OSError, SpecError, ValueError, pd.errors.ParserError):
        return []


def _drop_empty_columns(df: pd.DataFrame, target: str, notes: list[str]) -> pd.DataFrame:
    """Columns without a single value (an Excel export's trailing columns) are dropped and
    said so; an empty target column cannot be learned and is refused."""
    empty = [c for c in df.columns if df[c].isna().all()]
    if not empty or df.empty:  # no rows at all: the row count says so, not every column
        return df
    if target in empty:  # an unnamed target is the last column left after the drop
        raise _fail(t("target column {target} has no values; choose another target or "
                      "fill it in", target=repr(target)), "csv_empty")
    df = df.drop(columns=empty)
    if df.shape[1] < 2:
        raise _fail(t("the CSV needs at least one input column and a target column"),
                    "csv_columns")
    notes.append(t("left out columns {columns}: they have no values",
                   columns=", ".join(map(str, empty))))
    return df


def read_table(p: dict[str, Any]) -> tuple[pd.DataFrame, list[str]]:
    """The file as a clean table, and notes about what was dropped."""
    if not p["path"]:
        raise _fail(t("no file given; upload a CSV file or set path"), "csv_missing")
    path = Path(p["path"])
    if not _allowed(path):
        # A spec from a link must not make the server read (and quote) any file it can see.
        raise _fail(t("file {file} is not an uploaded file; upload it again",
                      file=repr(path.name)), "csv_outside")
    if not path.is_file():
        raise _fail(t("file {file} not found; upload it again or fix the path",
                      file=repr(path.name)), "csv_missing")
    if path.stat().st_size > MAX_BYTES:
        raise _fail(t("file {file} is larger than {mb} MB; use a sample", file=repr(path.name),
                      mb=MAX_BYTES // 2**20), "csv_too_large")
    text = _text(path)
    sep = _separator(text)
    width = _header(text).count(sep) + 1
    if width > MAX_COLUMNS:  # counted on the first line, before pandas builds the columns
        raise _fail(t("file {file} has {n} columns, more than {most}; keep the columns you "
                      "need and upload it again", file=repr(path.name), n=f"{width:,}",
                      most=f"{MAX_COLUMNS:,}"), "csv_too_many_columns")
    try:
        # One row past the cap is enough to know the file is too long, without reading it all.
        # A semicolon-separated file is Europe's Excel export, whose decimal mark is a comma.
        df = pd.read_csv(io.StringIO(text), nrows=p["max_rows"] + 1, skipinitialspace=True,
                         sep=sep, decimal="," if sep == ";" else ".")
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise _fail(_parser_words(e, path.name), "csv_unreadable") from None
    if len(df) > p["max_rows"]:
        raise _fail(t("file {file} has more than {n} rows (max_rows); raise max_rows or use a "
                      "sample", file=repr(path.name), n=p["max_rows"]), "csv_too_many_rows")
    if df.shape[1] < 2:
        raise _fail(t("the CSV needs at least one input column and a target column"),
                    "csv_columns")
    _check_values(df)
    notes = []
    df = _drop_empty_columns(df, p["target"], notes)
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
