"""CIFAR-10, the binary version: 60,000 colour 32x32 photos in 10 classes.

The download is one tar.gz of six batch files; each record is one label byte and 3072
pixel bytes (1024 red, then green, then blue, rows top to bottom). The archive is read in
memory with tarfile, taking only the regular files with the six expected names and
extracting nothing, and the records with numpy: the Python version of the set is pickled
and is never opened here. Images end as one uint8 array per split (150 MB for training).
"""

from __future__ import annotations

import tarfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from engine.data import download
from engine.data.base import DATASETS, DataBundle, DatasetType
from engine.data.idx import Corrupt, corrupt, read_exact
from engine.data.images import PER_CLASS, first_per_class, image_bundle
from engine.i18n import N_, t

ARCHIVE = "cifar-10-binary.tar.gz"
FOLDER = "cifar-10-batches-bin"
TRAIN = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST = ("test_batch.bin",)
RECORD = 1 + 3 * 32 * 32
MAX_RECORDS = 10_000  # per batch file, as published
# Class names are data (kept in English in the bundle); marked so a page can show t(name).
CLASS_NAMES = (N_("airplane"), N_("automobile"), N_("bird"), N_("cat"), N_("deer"), N_("dog"),
               N_("frog"), N_("horse"), N_("ship"), N_("truck"))


def read_batches(path: Path) -> dict[str, np.ndarray]:
    """The raw records [n, 3073] of each expected batch file. Raises Corrupt."""
    wanted = {f"{FOLDER}/{name}" for name in TRAIN + TEST}
    found: dict[str, np.ndarray] = {}
    try:
        # Stream mode reads the archive once, front to back, without an index.
        with tarfile.open(path, "r|gz") as tar:
            for member in tar:
                if member.name not in wanted:
                    continue
                name = member.name.rsplit("/", 1)[1]
                if not member.isfile():
                    raise Corrupt(t("its {name} is not a regular file", name=name))
                if member.size == 0 or member.size % RECORD or \
                        member.size > MAX_RECORDS * RECORD:
                    raise Corrupt(t("its {name} holds {size} bytes, not whole records of "
                                    "{record} bytes", name=name, size=member.size,
                                    record=RECORD))
                records = np.empty((member.size // RECORD, RECORD), np.uint8)
                fh = tar.extractfile(member)
                if fh is None:
                    raise Corrupt(t("its {name} cannot be opened", name=name))
                read_exact(fh, records)
                found[name] = records
    except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
        raise Corrupt(t("it is not a complete tar.gz archive ({error})", error=e)) from None
    lost = [n for n in TRAIN + TEST if n not in found]
    if lost:
        raise Corrupt(t("it lacks {files} (expected in its folder {folder})",
                        files=", ".join(lost), folder=FOLDER))
    return found


def split_records(batches: dict[str, np.ndarray],
                  names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 [N, 3, 32, 32] and labels from the named batches' raw records, each
    batch dropped from ``batches`` once copied (so the raw and final arrays barely
    overlap in memory)."""
    n = sum(len(batches[name]) for name in names)
    x = np.empty((n, 3, 32, 32), np.uint8)
    y = np.empty(n, np.int64)
    at = 0
    for name in names:
        b = batches.pop(name)
        x[at:at + len(b)] = b[:, 1:].reshape(-1, 3, 32, 32)
        y[at:at + len(b)] = b[:, 0]
        at += len(b)
    return x, y


def load(p: dict[str, Any], seed: int, features: Sequence[str] | None) -> DataBundle:
    paths, notes = download.ensure("cifar10")
    try:
        batches = read_batches(paths[ARCHIVE])
        for name, b in batches.items():
            if b[:, 0].max() >= len(CLASS_NAMES):
                raise Corrupt(t("its {name} has a label {label}; the classes are 0 to {last}",
                                name=name, label=int(b[:, 0].max()),
                                last=len(CLASS_NAMES) - 1))
    except Corrupt as e:
        raise corrupt("cifar10", ARCHIVE, str(e)) from None
    x_tr, y_tr = split_records(batches, TRAIN)
    x_te, y_te = split_records(batches, TEST)
    if p["per_class"]:
        keep = first_per_class(y_tr, p["per_class"])
        x_tr, y_tr = x_tr[keep], y_tr[keep]
    return image_bundle(x_tr, y_tr, x_te, y_te, CLASS_NAMES, notes=tuple(notes))


DATASETS.register(DatasetType(
    "cifar10", N_("CIFAR-10 photos"), "classification",
    N_("60,000 colour 32×32 photos of planes, cars, birds, cats, deer, dogs, frogs, horses, "
       "ships and trucks (50,000 for training), downloaded once (170 MB)."),
    (PER_CLASS,), load, "image"))
