"""The user's own images: a zip (or a folder) holding one sub-folder per class, the layout
torchvision's ImageFolder reads.

Rules:

- Class names are the sub-folder names, in alphabetical order; images may sit deeper
  inside a class folder. A single top folder around the classes (``pets/cats/...``) is
  looked through.
- Every file is tried with Pillow whatever its extension; what cannot be read (damaged,
  not an image, too large) is skipped and named in ``DataBundle.notes``. Hidden files and
  ``__MACOSX`` folders are archive clutter, skipped without a word.
- Zip members are read into memory, never extracted, so a member's name cannot choose
  where anything is written; names that climb out of the archive (``../``, absolute
  paths) are skipped with a note all the same, since they are a sign of a crafted file.
- Decompression bombs are refused before decoding: the sizes in the zip's directory are
  checked before a member is read, and the pixel size in an image's header before its
  pixels are decoded (Pillow's own MAX_IMAGE_PIXELS is lowered to the same cap).
- Each class is split with ``train_ratio`` on its own, so both splits hold every class.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from engine.data.base import DATASETS, DataBundle, DatasetType
from engine.data.images import PER_CLASS, first_per_class, image_bundle
from engine.errors import Issue, SpecError
from engine.i18n import N_, t
from engine.params import Param

MAX_ZIP_BYTES = 200 * 2**20
MAX_FILES = 20_000  # entries in a zip or files in a folder
MAX_MEMBER_BYTES = 20 * 2**20  # one file, uncompressed
MAX_TOTAL_BYTES = 1024 * 2**20  # everything read, uncompressed
MAX_SIDE = 8192
MAX_PIXELS = 40_000_000
MAX_CLASSES = 1000
MAX_NAMED = 12  # skipped files named one by one; the rest are counted
# Folders the data may be read from; None (the engine's default, on a user's own machine)
# is anywhere. The app sets it to its upload folder, because its specs arrive from links.
ALLOWED_DIRS: list[Path] | None = None

# Pillow refuses (raises) at twice this and warns above it, while opening; _decode then
# refuses anything above it itself, so the warning would only repeat a skip already noted.
Image.MAX_IMAGE_PIXELS = min(Image.MAX_IMAGE_PIXELS or MAX_PIXELS, MAX_PIXELS)
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


def _fail(message: str, code: str) -> SpecError:
    return SpecError(Issue("data.params", message, code))


def _clutter(parts: list[str]) -> bool:
    return any(p.startswith(".") or p == "__MACOSX" for p in parts)


def _escapes(name: str) -> bool:
    return name.startswith("/") or bool(re.match(r"^[A-Za-z]:", name)) or ".." in name.split("/")


class _Notes:
    """Skipped files in plain words: the first few by name, then a count."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.unnamed = 0

    def skip(self, name: str, why: str) -> None:
        if len(self.lines) < MAX_NAMED:
            self.lines.append(t("skipped {name}: {why}", name=name, why=why))
        else:
            self.unnamed += 1

    def done(self) -> list[str]:
        more = [t("skipped {n} more files", n=self.unnamed)] if self.unnamed else []
        return self.lines + more


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise _fail(t("file {file} is not a readable zip file; make a zip of the folder again",
                      file=repr(path.name)), "images_unreadable") from None


def _zip_members(z: zipfile.ZipFile, notes: _Notes) -> Iterator[tuple[str, int, Any]]:
    """(name, uncompressed size, read function) of every file worth trying in the zip."""
    infos = z.infolist()
    if len(infos) > MAX_FILES:
        raise _fail(t("the zip holds {n} files, more than {most}; use a smaller sample",
                      n=len(infos), most=MAX_FILES), "images_too_many_files")
    for info in infos:
        name = info.filename.replace("\\", "/")
        if info.is_dir():
            continue
        if _escapes(name):
            notes.skip(name, t("its path points outside the zip"))
            continue

        def read(info: zipfile.ZipInfo = info) -> bytes:
            with z.open(info) as f:  # bounded even if the directory lies about the size
                return f.read(MAX_MEMBER_BYTES + 1)

        yield name, info.file_size, read


def _folder_files(root: Path) -> Iterator[tuple[str, int, Any]]:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    if len(files) > MAX_FILES:
        raise _fail(t("the folder holds {n} files, more than {most}; use a smaller sample",
                      n=len(files), most=MAX_FILES), "images_too_many_files")
    for p in files:
        yield p.relative_to(root).as_posix(), p.stat().st_size, p.read_bytes


def _by_class(members: list[tuple[str, int, Any]], notes: _Notes
              ) -> dict[str, list[tuple[str, int, Any]]]:
    """Files grouped by class folder, after looking through one shared top folder."""
    kept = [(n.split("/"), size, read) for n, size, read in members]
    kept = [m for m in kept if not _clutter(m[0])]
    while (kept and all(len(parts) >= 3 for parts, _, _ in kept)
           and len({parts[0] for parts, _, _ in kept}) == 1):
        kept = [(parts[1:], size, read) for parts, size, read in kept]
    classes: dict[str, list[tuple[str, int, Any]]] = {}
    for parts, size, read in kept:
        if len(parts) < 2:
            notes.skip("/".join(parts), t("it is not inside a class folder"))
            continue
        classes.setdefault(parts[0], []).append(("/".join(parts), size, read))
    return dict(sorted(classes.items()))


def _decode(data: bytes, size: int, mode: str) -> np.ndarray | str:
    """The image as uint8 [C, size, size], or why it cannot be used."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
            if max(w, h) > MAX_SIDE or w * h > MAX_PIXELS:
                return t("{w} x {h} pixels is too large (at most {most} pixels a side)", w=w,
                         h=h, most=MAX_SIDE)
            im.draft(mode, (size, size))  # JPEG: decode at a reduced scale, much faster
            im = im.convert(mode).resize((size, size), Image.Resampling.BILINEAR)
            arr = np.asarray(im, np.uint8)
    except Image.DecompressionBombError:
        return t("too many pixels")
    except Exception:  # noqa: BLE001 - Pillow's decoders raise many kinds on damaged input
        return t("not a readable image")
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)


def _source(p: dict[str, Any]) -> Path:
    if not p["path"]:
        raise _fail(t("no images given; upload a zip of class folders or set path"),
                    "images_missing")
    path = Path(p["path"])
    if ALLOWED_DIRS is not None and not any(
            path.resolve().is_relative_to(d.resolve()) for d in ALLOWED_DIRS):
        # A spec from a link must not make the server read any file it can see.
        raise _fail(t("file {file} is not an uploaded file; upload it again",
                      file=repr(path.name)), "images_outside")
    if not path.exists():
        raise _fail(t("{file} not found; upload it again or fix the path",
                      file=repr(path.name)), "images_missing")
    if path.is_file() and path.stat().st_size > MAX_ZIP_BYTES:
        raise _fail(t("file {file} is larger than {mb} MB; use a smaller sample",
                      file=repr(path.name), mb=MAX_ZIP_BYTES // 2**20), "images_too_large")
    return path


def read_images(p: dict[str, Any]) -> tuple[list[np.ndarray], list[int], list[str], list[str]]:
    """Decoded images, their class indices, the class names and notes on what was skipped."""
    path = _source(p)
    if path.is_dir():
        return _read(path, list(_folder_files(path)), _Notes(), p)
    with _open_zip(path) as z:
        notes = _Notes()
        return _read(path, list(_zip_members(z, notes)), notes, p)


def _read(path: Path, members: list[tuple[str, int, Any]], notes: _Notes, p: dict[str, Any]
          ) -> tuple[list[np.ndarray], list[int], list[str], list[str]]:
    mode = "RGB" if p["colour"] else "L"
    grouped = _by_class(members, notes)
    if len(grouped) > MAX_CLASSES:
        raise _fail(t("found {n} class folders, more than {most}", n=len(grouped),
                      most=MAX_CLASSES), "images_too_many_classes")
    images, labels, names, capped = [], [], [], []
    total = 0
    for cls, files in grouped.items():
        got: list[np.ndarray] = []
        for name, size, read in files:
            if len(got) >= p["max_per_class"]:
                break
            if size > MAX_MEMBER_BYTES:
                notes.skip(name, t("larger than {mb} MB", mb=MAX_MEMBER_BYTES // 2**20))
                continue
            if total + size > MAX_TOTAL_BYTES:
                notes.skip(name, t("the images read so far already reach {mb} MB",
                                   mb=MAX_TOTAL_BYTES // 2**20))
                continue
            try:
                data = read()
            except Exception:  # noqa: BLE001 - damaged or encrypted zip members vary
                notes.skip(name, t("it could not be read from the zip"))
                continue
            total += len(data)
            if len(data) > MAX_MEMBER_BYTES:
                notes.skip(name, t("larger than {mb} MB", mb=MAX_MEMBER_BYTES // 2**20))
                continue
            arr = _decode(data, p["size"], mode)
            if isinstance(arr, str):
                notes.skip(name, arr)
            else:
                got.append(arr)
        if len(got) < len(files) and len(got) == p["max_per_class"]:
            capped.append(t("{cls}: used the first {n} of {total} files (max per class)",
                            cls=cls, n=len(got), total=len(files)))
        if len(got) < 2:
            if files:
                notes.skip(t("class {name}", name=cls),
                           t("it has {n} usable images; a class needs at least 2 (one to train "
                             "on, one to test)", n=len(got)))
            continue
        images.extend(got)
        labels.extend([len(names)] * len(got))
        names.append(cls)
    lines = capped + notes.done()
    if not images and not grouped:
        text = (t("no images found in {file}", file=repr(path.name)) if not members else
                t("no images found in {file}; put each class's images in its own folder (one "
                  "folder per class)", file=repr(path.name)))
        raise _fail(text, "images_empty")
    if len(names) < 2:
        found = (t("only one class ({name}); a classification needs at least two classes, "
                   "each in its own folder (one folder per class)", name=names[0]) if names else
                 t("no class with usable images; a classification needs at least two classes, "
                   "each in its own folder (one folder per class)"))
        raise _fail(found + (f". {'; '.join(lines)}" if lines else ""), "images_one_class")
    return images, labels, names, lines


def load(p: dict[str, Any], seed: int, features: Sequence[str] | None) -> DataBundle:
    images, labels, names, notes = read_images(p)
    x, y = np.stack(images), np.asarray(labels, np.int64)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in range(len(names)):
        idx = rng.permutation(np.flatnonzero(y == c))
        cut = max(1, min(len(idx) - 1, round(len(idx) * p["train_ratio"])))
        train.append(idx[:cut])
        test.append(idx[cut:])
    tr, te = rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))
    tr = tr[first_per_class(y[tr], p["per_class"])]
    return image_bundle(x[tr], y[tr], x[te], y[te], tuple(names), notes=tuple(notes))


DATASETS.register(DatasetType(
    "image_folder", N_("Your images (a zip of class folders)"), "classification",
    N_("A zip you upload with one folder per class (cats/, dogs/, ...), each holding its "
       "pictures; they are resized to one size."),
    (Param("path", str, "", N_("The uploaded zip (or a folder of class folders).")),
     Param("size", int, 32, N_("Image side in pixels after resizing."), min=8, max=64),
     Param("colour", bool, False, N_("Keep colour (otherwise grey).")),
     Param("max_per_class", int, 1000, N_("Read at most this many images of each class."),
           min=2, max=20_000),
     Param("train_ratio", float, 0.75, N_("Share of images used for training."), min=0.1, max=0.9),
     PER_CLASS),
    load, "image"))
