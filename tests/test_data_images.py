"""The local image sets: digits, generated shapes and the user's image folder."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine.data import DATASETS, load_data
from engine.data import image_folder as imf
from engine.data.shapes import CLASSES, generate
from engine.errors import SpecError
from engine.spec import DataSpec


def digits(**params: object):  # noqa: ANN201
    return load_data(DataSpec(name="digits", params=params))


def test_image_sets_are_registered_as_images() -> None:
    for name in ("digits", "shapes", "image_folder"):
        assert DATASETS.get(name).category == "image"


def test_digits_are_uint8_images_of_ten_classes_split_by_train_ratio() -> None:
    b = digits()
    assert b.x_train.dtype == b.x_test.dtype == torch.uint8
    assert b.x_train.shape[1:] == (1, 8, 8) and b.input_shape == (1, 8, 8)
    assert len(b.x_train) + len(b.x_test) == 1797
    assert len(b.x_train) == round(1797 * 0.75)
    assert b.class_names == tuple(str(i) for i in range(10)) and b.n_outputs == 10
    assert set(b.y_test.tolist()) == set(range(10)) and b.y_train.dtype == torch.int64
    # 0-16 in scikit-learn becomes 0-255: the full range is used, and the statistics
    # are the training split's on the 0-1 scale.
    assert int(b.x_train.max()) == 255 and int(b.x_train.min()) == 0
    pixels = b.x_train.double() / 255
    assert b.image.mean[0] == pytest.approx(float(pixels.mean()), rel=1e-6)
    assert b.image.std[0] == pytest.approx(float(pixels.std(unbiased=False)), rel=1e-6)
    assert 0.2 < b.image.mean[0] < 0.4


def test_digits_match_scikit_learn_pixels() -> None:
    import sklearn.datasets

    raw = sklearn.datasets.load_digits()
    b = digits(train_ratio=0.5)
    # Find the first training image among the originals: same picture, scaled by 255 / 16.
    x = b.x_train[0, 0].numpy().astype(float)
    match = [i for i in range(len(raw.images))
             if np.allclose(raw.images[i] * 255 / 16, x, atol=0.5)]
    assert match and raw.target[match[0]] == int(b.y_train[0])


def test_digits_seeded_split() -> None:
    a, b = digits(), digits()
    c = load_data(DataSpec(name="digits", seed=1))
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
    assert not torch.equal(a.y_train, c.y_train)


@pytest.mark.parametrize("size", [16, 28])
def test_digits_upscaled_keep_the_picture(size: int) -> None:
    small, big = digits(), digits(size=size)
    assert big.x_train.shape[1:] == (1, size, size) and big.x_train.dtype == torch.uint8
    assert torch.equal(small.y_train, big.y_train)
    # Shrinking the upscaled image back gives roughly the original.
    back = torch.nn.functional.interpolate(big.x_train[:50].float(), size=(8, 8), mode="area")
    assert (back - small.x_train[:50].float()).abs().mean() < 25
    assert abs(big.image.mean[0] - small.image.mean[0]) < 0.02


def test_digits_subset_takes_the_first_of_each_class_from_the_training_split() -> None:
    full, sub = digits(), digits(per_class=5)
    assert len(sub.x_train) == 50 and torch.bincount(sub.y_train).tolist() == [5] * 10
    assert torch.equal(sub.x_test, full.x_test)  # the test split is never cut
    first = [int(np.flatnonzero(full.y_train.numpy() == c)[0]) for c in range(10)]
    assert any(torch.equal(full.x_train[i], sub.x_train[j]) for i in first for j in range(50))


def test_bad_digit_size_is_refused() -> None:
    with pytest.raises(SpecError, match="size"):
        digits(size=12)


# --- shapes -------------------------------------------------------------------------------

def test_shapes_are_seeded_and_balanced() -> None:
    a = load_data(DataSpec(name="shapes", params={"n_per_class": 40}))
    b = load_data(DataSpec(name="shapes", params={"n_per_class": 40}))
    c = load_data(DataSpec(name="shapes", params={"n_per_class": 40}, seed=3))
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.x_test, b.x_test)
    assert not torch.equal(a.x_train, c.x_train)
    assert a.class_names == CLASSES and a.x_train.dtype == torch.uint8
    assert a.x_train.shape[1:] == (1, 28, 28)
    assert torch.bincount(a.y_train).tolist() == [30] * len(CLASSES)
    assert torch.bincount(a.y_test).tolist() == [10] * len(CLASSES)


def test_shapes_in_colour_and_32_pixels() -> None:
    b = load_data(DataSpec(name="shapes", params={"n_per_class": 20, "size": 32,
                                                  "colour": True}))
    assert b.x_train.shape[1:] == (3, 32, 32) and b.image.channels == 3
    # Colours differ between images (not one tint for all).
    corners = b.x_train[:, :, 0, 0].float()
    assert corners.std(0).min() > 20


def test_shapes_draw_what_the_class_says() -> None:
    x, y = generate(30, 28, False, 0.0, seed=0)
    ink = x[:, 0].astype(float) / 255 > 0.5
    rows, cols = ink.any(2).sum(1), ink.any(1).sum(1)  # height and width of the ink
    horizontal, vertical = y == 0, y == 1
    assert (cols[horizontal] > 2 * rows[horizontal]).all()
    assert (rows[vertical] > 2 * cols[vertical]).all()
    # A ring leaves its centre dark; every clean image has ink on a dark background.
    assert ink.sum((1, 2)).min() > 10 and (~ink).sum((1, 2)).min() > 400


def test_shapes_are_fast() -> None:
    generate(10, 28, True, 0.1, seed=0)
    # CPU time of this process, so other work on a shared machine does not count.
    start = time.process_time()
    x, _ = generate(300, 28, True, 0.1, seed=1)  # 2100 images
    assert len(x) == 2100 and time.process_time() - start < 1.0


# --- image folder ---------------------------------------------------------------------------

def png(colour: int | tuple[int, ...], size: tuple[int, int] = (12, 10), mode: str = "RGB",
        fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, colour).save(buf, fmt)
    return buf.getvalue()


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


@pytest.fixture
def allow_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(imf, "ALLOWED_DIRS", None)
    return tmp_path


def folder_data(path: Path, **params: object):  # noqa: ANN201
    return load_data(DataSpec(name="image_folder", params={"path": str(path), **params}))


def good_members(n: int = 6) -> dict[str, bytes]:
    m: dict[str, bytes] = {}
    for i in range(n):
        m[f"pets/cats/c{i}.png"] = png((200, 30, 30))
        m[f"pets/dogs/d{i}.jpg"] = png((30, 30, 200), (20, 16), fmt="JPEG")
    return m


def test_image_folder_reads_one_class_per_folder(allow_tmp: Path) -> None:
    z = make_zip(allow_tmp / "pets.zip", good_members())
    b = folder_data(z, size=16, colour=True, train_ratio=0.5)
    assert b.class_names == ("cats", "dogs") and b.kind == "classification"
    assert b.x_train.dtype == torch.uint8 and b.x_train.shape[1:] == (3, 16, 16)
    assert len(b.x_train) + len(b.x_test) == 12
    assert torch.bincount(b.y_train).tolist() == [3, 3]
    cats = torch.cat([b.x_train[b.y_train == 0], b.x_test[b.y_test == 0]])
    assert (cats[:, 0].float().mean() - 200).abs() < 3 and cats[:, 2].float().mean() < 40
    grey = folder_data(z, size=8)
    assert grey.x_train.shape[1:] == (1, 8, 8) and grey.notes == ()


def test_image_folder_skips_bad_files_and_says_which(allow_tmp: Path) -> None:
    members = good_members(3)
    members["pets/cats/broken.png"] = png((1, 2, 3))[:40]  # truncated
    members["pets/dogs/notes.txt"] = b"not a picture"
    members["pets/dogs/fake.jpg"] = b"\xff\xd8\xff garbage"
    members["pets/dogs/huge.png"] = png(0, (imf.MAX_SIDE + 1, 4), mode="L")
    members["../../evil/x.png"] = png((9, 9, 9))
    members["/abs/cats/y.png"] = png((9, 9, 9))
    members["pets/__MACOSX/._c0.png"] = b"resource fork"
    z = make_zip(allow_tmp / "messy.zip", members)
    b = folder_data(z, size=8)
    assert b.class_names == ("cats", "dogs")
    assert len(b.x_train) + len(b.x_test) == 6
    notes = " ".join(b.notes)
    for name in ("broken.png", "notes.txt", "fake.jpg", "huge.png", "../../evil/x.png",
                 "/abs/cats/y.png"):
        assert name in notes, name
    assert "__MACOSX" not in notes  # archive clutter is ignored without a word
    assert not (allow_tmp / "evil").exists() and not Path("/abs").exists()


def test_image_folder_refuses_a_decompression_bomb_from_the_directory(allow_tmp: Path) -> None:
    # A tiny compressed member that would unpack to more than the cap is never read.
    members = good_members(2)
    members["pets/cats/bomb.png"] = b"\0" * (imf.MAX_MEMBER_BYTES + 1)
    z = allow_tmp / "bomb.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as f:
        for name, data in members.items():
            f.writestr(name, data)
    assert z.stat().st_size < imf.MAX_MEMBER_BYTES // 100
    b = folder_data(z, size=8)
    assert "bomb.png" in " ".join(b.notes) and len(b.x_train) + len(b.x_test) == 4


def test_image_folder_refuses_too_many_pixels_without_decoding(allow_tmp: Path) -> None:
    # A small PNG whose header claims a huge canvas is stopped by Pillow's own bomb check
    # (lowered to our cap), before any pixel is decoded.
    members = good_members(2)
    members["pets/dogs/wide.png"] = png(0, (9000, 9000), mode="1")
    assert len(members["pets/dogs/wide.png"]) < 100_000
    z = make_zip(allow_tmp / "wide.zip", members)
    b = folder_data(z, size=8)
    assert "wide.png" in " ".join(b.notes) and len(b.x_train) + len(b.x_test) == 4


def test_image_folder_per_class_cap_and_a_plain_folder(allow_tmp: Path) -> None:
    root = allow_tmp / "photos"
    for name, data in good_members(5).items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    b = folder_data(root, size=8, max_per_class=3, train_ratio=0.5)
    assert len(b.x_train) + len(b.x_test) == 6
    assert "cats: used the first 3 of 5" in " ".join(b.notes)


@pytest.mark.parametrize("members, message", [
    ({}, "no images"),
    ({"only/one/a.png": png((1, 1, 1)), "only/one/b.png": png((1, 1, 1))}, "two classes"),
    ({"x.png": png((1, 1, 1))}, "one folder per class"),
])
def test_image_folder_without_usable_classes_says_so(allow_tmp: Path, members: dict,
                                                     message: str) -> None:
    z = make_zip(allow_tmp / "few.zip", members)
    with pytest.raises(SpecError, match=message):
        folder_data(z)


def test_image_folder_refuses_files_it_cannot_read(allow_tmp: Path) -> None:
    bad = allow_tmp / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(SpecError, match="not a readable zip"):
        folder_data(bad)
    with pytest.raises(SpecError, match="upload"):
        folder_data(allow_tmp / "missing.zip")
    with pytest.raises(SpecError, match="upload"):
        load_data(DataSpec(name="image_folder"))


def test_image_folder_only_reads_uploads_when_confined(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    uploads, elsewhere = tmp_path / "uploads", tmp_path / "elsewhere"
    uploads.mkdir()
    elsewhere.mkdir()
    monkeypatch.setattr(imf, "ALLOWED_DIRS", [uploads])
    inside = make_zip(uploads / "a.zip", good_members(2))
    outside = make_zip(elsewhere / "b.zip", good_members(2))
    assert folder_data(inside, size=8).class_names == ("cats", "dogs")
    with pytest.raises(SpecError, match="not an uploaded file"):
        folder_data(outside, size=8)
    with pytest.raises(SpecError, match="not an uploaded file"):
        folder_data(uploads / ".." / "elsewhere" / "b.zip", size=8)


# --- the upload on Build ---------------------------------------------------------------------

def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


@pytest.mark.slow
def test_a_zip_uploaded_on_build_becomes_the_data_set(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    from tests.apptest import session
    from tests.test_build import PAGE, key

    monkeypatch.setattr("ui.uploads.UPLOADS", tmp_path)
    monkeypatch.setattr(imf, "ALLOWED_DIRS", [tmp_path])  # as the app sets it
    members = good_members(4)
    members["pets/dogs/notes.txt"] = b"not a picture"
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["preset"] = "cnn_lenet"
    at.run()
    at.selectbox(key=key(at, "data")).set_value("image_folder").run()
    assert not at.exception, at.exception
    at.file_uploader(key="build-images").set_value(
        ("my pets.zip", zip_bytes(members), "application/zip")).run()
    assert not at.exception, at.exception
    spec = session().draft or session().exp.to_dict()
    path = Path(spec["data"]["params"]["path"])
    assert spec["data"]["name"] == "image_folder"
    assert path.parent == tmp_path and path.suffix == ".zip"  # stored by content
    captions = " ".join(c.value for c in at.caption)
    assert "my pets.zip" in captions and str(tmp_path) not in captions
    assert "notes.txt" in captions  # the skipped file is named
    assert "2 classes: cats, dogs" in captions
    # The path is the page's business, not a text box.
    assert not [w for w in at.text_input if w.key.endswith("dp-path")]
    # The same file still in the box does not undo a later change of data set.
    at.selectbox(key=key(at, "data")).set_value("digits").run()
    spec = session().draft or session().exp.to_dict()
    assert spec["data"]["name"] == "digits"


def test_the_app_confines_image_reads_to_its_uploads() -> None:
    from tests.apptest import open_app
    from ui.uploads import UPLOADS

    open_app("spiral")
    assert imf.ALLOWED_DIRS == [UPLOADS]


def test_data_sets_are_listed_from_the_simplest_to_the_user_s_own() -> None:
    from engine.data import DATASETS

    names = DATASETS.names()
    assert names.index("spiral") < names.index("iris") < names.index("digits")
    assert names.index("digits") < names.index("shapes") < names.index("mnist")
    assert names.index("cifar10") < names.index("image_folder")
