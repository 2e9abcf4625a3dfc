"""MNIST and Fashion-MNIST: 28x28 grey images in gzip-compressed IDX files.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), one big-endian 32-bit size per dimension, then the values. Only unsigned
bytes (type 0x08) are read; every size is checked against what the data set holds before
anything is allocated, and a file that ends early, runs on past its sizes or fails its
gzip checksum is refused with its name. The images are read straight into one uint8
array (no float copy): 47 MB for MNIST's training split.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from engine.data import download
from engine.data.base import DATASETS, DataBundle, DatasetType
from engine.data.images import PER_CLASS, first_per_class, image_bundle
from engine.errors import Issue, SpecError
from engine.i18n import N_, t

UBYTE = 0x08
SIDE = 28
MAX_ITEMS = 100_000  # more than either split holds; a larger size means a damaged header
FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
         "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}
# Class names are data (kept in English in the bundle); marked so a page can show t(name).
FASHION_NAMES = (N_("T-shirt/top"), N_("Trouser"), N_("Pullover"), N_("Dress"), N_("Coat"),
                 N_("Sandal"), N_("Shirt"), N_("Sneaker"), N_("Bag"), N_("Ankle boot"))


class Corrupt(Exception):
    """What is wrong with a file, in words."""


def corrupt(dataset: str, name: str, why: str) -> SpecError:
    return SpecError(Issue(
        "data.name", t("{file} in {folder} cannot be read: {why}. Delete it so that it is "
                       "downloaded again", file=name, folder=download.where(dataset), why=why),
        "data_corrupt"))


def read_exact(fh: Any, out: np.ndarray) -> None:
    """Fill ``out`` from the file; Corrupt when it ends first."""
    view = memoryview(out).cast("B")
    got = 0
    while got < len(view):
        n = fh.readinto(view[got:])
        if not n:
            raise Corrupt(t("it ends after {got} of the {n} bytes expected", got=got,
                            n=len(view)))
        got += n


def read_idx(path: Path, dims: tuple[int | None, ...]) -> np.ndarray:
    """The uint8 array in a gzip IDX file whose sizes match ``dims`` (None: any size up to
    MAX_ITEMS). Raises Corrupt."""
    try:
        with gzip.open(path, "rb") as fh:
            head = fh.read(4)
            if len(head) < 4 or head[:2] != b"\0\0":
                raise Corrupt(t("it is not an IDX file (its first bytes are not an IDX magic "
                                "number)"))
            if head[2] != UBYTE:
                raise Corrupt(t("it holds values of type {found}; these files hold unsigned "
                                "bytes ({wanted})", found=f"0x{head[2]:02X}",
                                wanted=f"0x{UBYTE:02X}"))
            if head[3] != len(dims):
                raise Corrupt(t("it has {n} dimensions where {want} are expected", n=head[3],
                                want=len(dims)))
            raw = fh.read(4 * len(dims))
            if len(raw) < 4 * len(dims):
                raise Corrupt(t("it ends inside its header"))
            shape = tuple(int(v) for v in np.frombuffer(raw, ">u4"))
            for size, want in zip(shape, dims, strict=True):
                if (want is None and not 0 < size <= MAX_ITEMS) or want not in (None, size):
                    raise Corrupt(t("its sizes {sizes} do not fit this data set",
                                    sizes="×".join(map(str, shape))))
            out = np.empty(shape, np.uint8)
            read_exact(fh, out)
            if fh.read(1):  # reading to the end also makes gzip check its CRC
                raise Corrupt(t("it is longer than its header says"))
    except (OSError, EOFError, zlib.error) as e:  # not gzip, cut short, failed CRC
        raise Corrupt(t("it is not a complete gzip file ({error})", error=e)) from None
    return out


def read_split(dataset: str, paths: dict[str, Path], split: str,
               n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 [N, 1, 28, 28] and labels of one split. Raises SpecError."""
    images_name, labels_name = FILES[split]
    try:
        x = read_idx(paths[images_name], (None, SIDE, SIDE))
    except Corrupt as e:
        raise corrupt(dataset, images_name, str(e)) from None
    try:
        y = read_idx(paths[labels_name], (None,))
    except Corrupt as e:
        raise corrupt(dataset, labels_name, str(e)) from None
    if len(y) != len(x):
        raise corrupt(dataset, labels_name, t("it has {labels} labels for the {images} images "
                                              "of {file}", labels=len(y), images=len(x),
                                              file=images_name))
    if y.max(initial=0) >= n_classes:
        raise corrupt(dataset, labels_name, t("it has a label {label}; the classes are 0 to "
                                              "{last}", label=int(y.max()), last=n_classes - 1))
    return x[:, None], y.astype(np.int64)


def loader(dataset: str, class_names: tuple[str, ...]):  # noqa: ANN201 - a DatasetType.load
    def load(p: dict[str, Any], seed: int, features: Sequence[str] | None) -> DataBundle:
        paths, notes = download.ensure(dataset)
        x_tr, y_tr = read_split(dataset, paths, "train", len(class_names))
        x_te, y_te = read_split(dataset, paths, "test", len(class_names))
        if p["per_class"]:  # a subset is a copy; the whole set is used as read
            keep = first_per_class(y_tr, p["per_class"])
            x_tr, y_tr = x_tr[keep], y_tr[keep]
        return image_bundle(x_tr, y_tr, x_te, y_te, class_names, notes=tuple(notes))

    return load


DATASETS.register(DatasetType(
    "mnist", N_("MNIST handwritten digits"), "classification",
    N_("70,000 grey 28×28 handwritten digits (60,000 for training), downloaded once "
       "(11 MB)."),
    (PER_CLASS,), loader("mnist", tuple(str(i) for i in range(10))), "image"))
DATASETS.register(DatasetType(
    "fashion_mnist", N_("Fashion-MNIST clothes"), "classification",
    N_("70,000 grey 28×28 pictures of clothes and shoes in 10 classes (60,000 for training), "
       "downloaded once (30 MB)."),
    (PER_CLASS,), loader("fashion_mnist", FASHION_NAMES), "image"))
