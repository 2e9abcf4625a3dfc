"""Downloaded data sets (mnist, fashion_mnist, cifar10): the real download path against a
local HTTP server, checksums, cut and offline downloads, and the readers on tiny files
written in the real formats, corrupt ones included. Nothing here reaches the internet."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from engine.data import _load, download, load_data
from engine.data.download import RemoteFile
from engine.errors import SpecError
from engine.spec import DataSpec

ROOT = Path(__file__).resolve().parent.parent
MNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
CIFAR = "cifar-10-binary.tar.gz"


# -- files in the real formats ----------------------------------------------------------
def idx(values: np.ndarray, type_code: int = 0x08) -> bytes:
    """An IDX file: two zero bytes, the type, the number of dimensions, the sizes (big-endian
    32-bit), the values."""
    head = bytes([0, 0, type_code, values.ndim]) + np.asarray(values.shape, ">u4").tobytes()
    return head + values.astype(np.uint8).tobytes()


def gz(raw: bytes) -> bytes:
    return gzip.compress(raw, mtime=0)


def tiny_mnist(n_train: int = 20, n_test: int = 10) -> tuple[dict[str, bytes], dict]:
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              "y_train": np.arange(n_train, dtype=np.uint8) % 10,
              "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              "y_test": np.arange(n_test, dtype=np.uint8)[::-1] % 10}
    files = dict(zip(MNIST_FILES, (gz(idx(arrays[k])) for k in
                                   ("x_train", "y_train", "x_test", "y_test")), strict=True))
    return files, arrays


def cifar_records(n: int, first_label: int = 0) -> tuple[bytes, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(first_label + n)
    labels = (np.arange(n) + first_label) % 10
    images = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    records = np.concatenate([labels[:, None].astype(np.uint8), images.reshape(n, -1)], 1)
    return records.tobytes(), images, labels


def tar_gz(members: dict[str, bytes], links: tuple[str, ...] = ()) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name in links:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tar.addfile(info)
    return buf.getvalue()


def tiny_cifar(per_batch: int = 3, n_test: int = 4) -> tuple[bytes, dict[str, bytes], dict]:
    members, xs, ys = {}, [], []
    for i in range(1, 6):
        raw, x, y = cifar_records(per_batch, first_label=i)
        members[f"cifar-10-batches-bin/data_batch_{i}.bin"] = raw
        xs.append(x)
        ys.append(y)
    raw, x_test, y_test = cifar_records(n_test, first_label=7)
    members["cifar-10-batches-bin/test_batch.bin"] = raw
    members["cifar-10-batches-bin/batches.meta.txt"] = b"airplane\nautomobile\n"
    arrays = {"x_train": np.concatenate(xs), "y_train": np.concatenate(ys),
              "x_test": x_test, "y_test": y_test}
    return tar_gz(members), members, arrays


# -- a local mirror ------------------------------------------------------------------------
class Mirror:
    """Serves files by path, with Range support; ``cut[path]`` ends a transfer at that byte
    of the file although its Content-Length promised more."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.cut: dict[str, int] = {}
        self.requests: list[tuple[str, str | None]] = []
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server hook
                rng = self.headers.get("Range")
                mirror.requests.append((self.path, rng))
                data = mirror.files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                start = int(rng.split("=")[1].split("-")[0]) if rng else 0
                self.send_response(206 if rng else 200)
                if rng:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                end = min(len(data), mirror.cut.get(self.path, len(data)))
                self.wfile.write(data[start:end])

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish(self, monkeypatch: pytest.MonkeyPatch, dataset: str,
                files: dict[str, bytes], sha: dict[str, str] | None = None) -> None:
        """Serve ``files`` and pin the data set's download table to them (their real
        checksums unless ``sha`` says otherwise)."""
        table = []
        for name, data in files.items():
            self.files[f"/{dataset}/{name}"] = data
            table.append(RemoteFile(name, f"{self.url}/{dataset}/{name}",
                                    (sha or {}).get(name, hashlib.sha256(data).hexdigest()),
                                    len(data)))
        monkeypatch.setitem(download.SOURCES, dataset, tuple(table))


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The data folder in tmp_path; no bundle or failure remembered from another test."""
    folder = tmp_path / "data"
    monkeypatch.setenv(download.ENV_DIR, str(folder))
    monkeypatch.setattr(download, "_FAILED", {})
    _load.cache_clear()
    yield folder
    _load.cache_clear()


@pytest.fixture
def mirror() -> Iterator[Mirror]:
    m = Mirror()
    yield m
    m.server.shutdown()
    m.server.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def place(cache: Path, monkeypatch: pytest.MonkeyPatch, dataset: str,
          files: dict[str, bytes]) -> None:
    """Files already in the data folder, pinned to their own checksums (no download)."""
    (cache / dataset).mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (cache / dataset / name).write_bytes(data)
    port = closed_port()
    monkeypatch.setitem(download.SOURCES, dataset, tuple(
        RemoteFile(n, f"http://127.0.0.1:{port}/{n}", hashlib.sha256(d).hexdigest(), len(d))
        for n, d in files.items()))


def failure(dataset: str = "mnist", **params: object) -> SpecError:
    _load.cache_clear()
    with pytest.raises(SpecError) as e:
        load_data(DataSpec(name=dataset, params=params))
    return e.value


# -- the download path ---------------------------------------------------------------------
def test_mnist_is_downloaded_checked_and_read(cache: Path, mirror: Mirror,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    files, arrays = tiny_mnist()
    mirror.publish(monkeypatch, "mnist", files)
    seen: list[tuple[int, int]] = []
    with download.reporting(lambda done, total: seen.append((done, total))):
        b = load_data(DataSpec(name="mnist"))
    assert b.x_train.dtype == b.x_test.dtype == __import__("torch").uint8
    assert tuple(b.x_train.shape) == (20, 1, 28, 28) and tuple(b.x_test.shape) == (10, 1, 28, 28)
    assert np.array_equal(b.x_train[:, 0].numpy(), arrays["x_train"])
    assert np.array_equal(b.y_test.numpy(), arrays["y_test"])
    assert b.class_names == tuple("0123456789") and b.image is not None
    assert abs(b.image.mean[0] - arrays["x_train"].mean() / 255) < 1e-6
    total = sum(map(len, files.values()))
    assert seen[-1] == (total, total) and all(t == total for _, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert sorted(p.name for p in (cache / "mnist").iterdir()) == sorted(MNIST_FILES)  # no .part

    asked = len(mirror.requests)
    _load.cache_clear()
    again = load_data(DataSpec(name="mnist"))
    assert len(mirror.requests) == asked  # kept files are used, not fetched again
    assert np.array_equal(again.x_train.numpy(), b.x_train.numpy())


def test_fashion_has_its_class_names_and_a_subset_per_class(
        cache: Path, mirror: Mirror, monkeypatch: pytest.MonkeyPatch) -> None:
    files, arrays = tiny_mnist()
    mirror.publish(monkeypatch, "fashion_mnist", files)
    b = load_data(DataSpec(name="fashion_mnist", params={"per_class": 1}))
    assert b.class_names[0] == "T-shirt/top" and b.class_names[9] == "Ankle boot"
    assert b.y_train.tolist() == list(range(10))  # the first image of each class
    assert np.array_equal(b.x_train[:, 0].numpy(), arrays["x_train"][:10])
    assert len(b.x_test) == 10  # the test split is kept whole
    assert (cache / "fashion_mnist" / MNIST_FILES[0]).is_file()


def test_cifar10_binary_is_downloaded_and_read_without_extracting(
        cache: Path, mirror: Mirror, monkeypatch: pytest.MonkeyPatch) -> None:
    archive, _, arrays = tiny_cifar()
    mirror.publish(monkeypatch, "cifar10", {CIFAR: archive})
    b = load_data(DataSpec(name="cifar10"))
    assert tuple(b.x_train.shape) == (15, 3, 32, 32) and b.x_train.dtype.itemsize == 1
    assert np.array_equal(b.x_train.numpy(), arrays["x_train"])  # red, green, blue planes
    assert np.array_equal(b.y_train.numpy(), arrays["y_train"])
    assert np.array_equal(b.x_test.numpy(), arrays["x_test"])
    assert b.class_names == ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                             "horse", "ship", "truck")
    assert len(b.image.mean) == 3
    assert [p.name for p in (cache / "cifar10").iterdir()] == [CIFAR]  # nothing extracted


def test_a_cut_download_is_not_used_and_is_resumed(cache: Path, mirror: Mirror,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    files, _ = tiny_mnist()
    mirror.publish(monkeypatch, "mnist", files)
    mirror.cut["/mnist/" + MNIST_FILES[0]] = 1000
    e = failure()
    assert e.code == "data_incomplete" and e.issues[0].path == "data.name"
    assert MNIST_FILES[0] in str(e) and "resume" in str(e)
    final = cache / "mnist" / MNIST_FILES[0]
    assert not final.exists()  # the half-written file never takes the real name
    assert final.with_name(final.name + ".part").stat().st_size == 1000

    mirror.cut.clear()
    download.ensure("mnist", retry=True)
    assert ("/mnist/" + MNIST_FILES[0], "bytes=1000-") in mirror.requests  # resumed
    assert final.read_bytes() == files[MNIST_FILES[0]]
    assert not final.with_name(final.name + ".part").exists()
    _load.cache_clear()
    assert len(load_data(DataSpec(name="mnist")).x_train) == 20


def test_a_wrong_checksum_is_refused_and_the_file_deleted(
        cache: Path, mirror: Mirror, monkeypatch: pytest.MonkeyPatch) -> None:
    files, _ = tiny_mnist()
    wrong = hashlib.sha256(b"another file").hexdigest()
    mirror.publish(monkeypatch, "mnist", files, sha={MNIST_FILES[2]: wrong})
    e = failure()
    assert e.code == "data_checksum"
    assert MNIST_FILES[2] in str(e) and "checksum" in str(e) and "deleted" in str(e)
    assert not (cache / "mnist" / MNIST_FILES[2]).exists()
    assert not (cache / "mnist" / (MNIST_FILES[2] + ".part")).exists()


def test_a_damaged_kept_file_is_deleted_fetched_again_and_noted(
        cache: Path, mirror: Mirror, monkeypatch: pytest.MonkeyPatch) -> None:
    files, _ = tiny_mnist()
    mirror.publish(monkeypatch, "mnist", files)
    (cache / "mnist").mkdir(parents=True)
    damaged = bytearray(files[MNIST_FILES[1]])
    damaged[-1] ^= 0xFF  # same size, one byte changed
    (cache / "mnist" / MNIST_FILES[1]).write_bytes(bytes(damaged))
    b = load_data(DataSpec(name="mnist"))
    assert (cache / "mnist" / MNIST_FILES[1]).read_bytes() == files[MNIST_FILES[1]]
    assert any(MNIST_FILES[1] in n and "deleted" in n for n in b.notes), b.notes


def test_offline_one_clear_message_with_files_urls_and_folder(
        cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    port = closed_port()
    monkeypatch.setitem(download.SOURCES, "mnist", tuple(
        RemoteFile(n, f"http://127.0.0.1:{port}/mnist/{n}", "0" * 64, 10) for n in MNIST_FILES))
    e = failure()
    assert len(e.issues) == 1 and e.code == "data_offline" and e.issues[0].path == "data.name"
    text = str(e)
    for name in MNIST_FILES:
        assert f"http://127.0.0.1:{port}/mnist/{name}" in text
    assert "$NP_DATA_DIR/mnist" in text and str(tmp_path) not in text
    assert not (cache / "mnist").exists()  # nothing written when nothing came


def test_a_failed_download_is_not_retried_on_every_check(
        cache: Path, mirror: Mirror, monkeypatch: pytest.MonkeyPatch) -> None:
    files, _ = tiny_mnist()
    mirror.publish(monkeypatch, "mnist", files)
    mirror.files.clear()  # the mirror answers 404
    assert failure().code == "data_offline" and "404" in str(failure())
    assert len(mirror.requests) == 1  # the second check repeated the answer
    with pytest.raises(SpecError):
        download.ensure("mnist", retry=True)
    assert len(mirror.requests) == 2


def test_the_folder_is_named_relative_to_the_project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(download.ENV_DIR, raising=False)
    assert download.where("mnist") == "cache/data/mnist"
    monkeypatch.setenv(download.ENV_DIR, str(ROOT / "somewhere"))
    assert download.where("cifar10") == "somewhere/cifar10"
    monkeypatch.setenv(download.ENV_DIR, "/srv/elsewhere")
    assert download.where("cifar10") == "$NP_DATA_DIR/cifar10"


def test_channel_statistics_need_no_float_copy_of_a_big_set(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A float64 copy of one CIFAR-10 channel is 400 MB; the statistics must not make one."""
    import tracemalloc

    from engine.data import images
    from engine.data.images import channel_stats

    monkeypatch.setattr(images, "STATS_CHUNK", 1 << 16)  # a big set is many such chunks
    x = np.random.default_rng(1).integers(0, 256, (3000, 3, 32, 32), dtype=np.uint8)
    tracemalloc.start()
    try:
        info = channel_stats(x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < x.nbytes / 4, peak  # a float copy of one channel alone is 2.7 times x
    for ch in range(3):
        v = x[:, ch].astype(np.float64) / 255
        assert abs(info.mean[ch] - v.mean()) < 1e-12 and abs(info.std[ch] - v.std()) < 1e-12


# -- the readers refuse damaged files -----------------------------------------------------
def _mnist_with(**changes: bytes) -> dict[str, bytes]:
    files, _ = tiny_mnist()
    return {**files, **{MNIST_FILES[int(k[1:])]: v for k, v in changes.items()}}


def _images(n: int = 20, side: int = 28) -> np.ndarray:
    return np.zeros((n, side, side), np.uint8)


MNIST_DAMAGE: dict[str, tuple[Callable[[], dict[str, bytes]], int, str]] = {
    "not gzip": (lambda: _mnist_with(f0=idx(_images())), 0, "gzip"),
    "gzip cut short": (lambda: _mnist_with(f0=gz(idx(_images()))[:-30]), 0, "gzip"),
    "not idx": (lambda: _mnist_with(f0=gz(b"<html>not found</html>")), 0, "not an IDX file"),
    "wrong type": (lambda: _mnist_with(f0=gz(idx(_images(), 0x0D))), 0, "0x0D"),
    "payload cut": (lambda: _mnist_with(f0=gz(idx(_images())[:-500])), 0, "ends after"),
    "header cut": (lambda: _mnist_with(f1=gz(bytes([0, 0, 8, 1, 0]))), 1, "header"),
    "too long": (lambda: _mnist_with(f0=gz(idx(_images()) + b"\0")), 0, "longer"),
    "wrong size": (lambda: _mnist_with(f2=gz(idx(_images(10, 27)))), 2, "do not fit"),
    "labels short": (lambda: _mnist_with(f1=gz(idx(np.zeros(19, np.uint8)))), 1, "19 labels"),
    "bad label": (lambda: _mnist_with(f3=gz(idx(np.full(10, 12, np.uint8)))), 3, "label 12"),
}


@pytest.mark.parametrize("damage", MNIST_DAMAGE)
def test_a_damaged_idx_file_is_refused_by_name(cache: Path, monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path, damage: str) -> None:
    make, which, words = MNIST_DAMAGE[damage]
    place(cache, monkeypatch, "mnist", make())
    e = failure()
    assert e.code == "data_corrupt" and e.issues[0].path == "data.name"
    text = str(e)
    assert MNIST_FILES[which] in text and words in text, text
    assert "Delete it" in text and str(tmp_path) not in text and "Traceback" not in text


def _cifar_with(drop: str = "", replace: dict[str, bytes] | None = None,
                links: tuple[str, ...] = ()) -> bytes:
    _, members, _ = tiny_cifar()
    members = {k: v for k, v in members.items() if not k.endswith(drop) or not drop}
    return tar_gz({**members, **(replace or {})}, links)


CIFAR_DAMAGE: dict[str, tuple[Callable[[], bytes], str]] = {
    "member missing": (lambda: _cifar_with(drop="data_batch_4.bin"), "lacks data_batch_4.bin"),
    "partial record": (lambda: _cifar_with(replace={
        "cifar-10-batches-bin/test_batch.bin": b"\1" * 3000}), "whole records"),
    "archive cut": (lambda: _cifar_with()[:-200], "not a complete tar.gz"),
    "not an archive": (lambda: gz(b"just text"), "not a complete tar.gz"),
    "bad label": (lambda: _cifar_with(replace={
        "cifar-10-batches-bin/data_batch_2.bin": bytes([11]) + bytes(3072)}), "label 11"),
    "link in place of a batch": (lambda: _cifar_with(
        drop="test_batch.bin", links=("cifar-10-batches-bin/test_batch.bin",)),
        "not a regular file"),
}


@pytest.mark.parametrize("damage", CIFAR_DAMAGE)
def test_a_damaged_cifar_archive_is_refused_by_name(
        cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, damage: str) -> None:
    make, words = CIFAR_DAMAGE[damage]
    place(cache, monkeypatch, "cifar10", {CIFAR: make()})
    e = failure("cifar10")
    assert e.code == "data_corrupt"
    assert CIFAR in str(e) and words in str(e) and str(tmp_path) not in str(e), str(e)


# -- the command line ----------------------------------------------------------------------
def mnist_spec(tmp_path: Path) -> Path:
    spec = {"schema": 1, "data": {"name": "mnist"},
            "model": {"nodes": [{"id": "flat", "type": "flatten"},
                                {"id": "out", "type": "linear", "params": {"units": 10}}]},
            "train": {"device": "cpu", "epochs": 1, "batch_size": 8}, "probes": []}
    path = tmp_path / "tiny_mnist.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


def test_cli_data_dir_downloads_there_with_a_bar_and_trains(
        tmp_path: Path, mirror: Mirror, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from engine.cli import main

    monkeypatch.delenv(download.ENV_DIR, raising=False)
    monkeypatch.setattr(download, "_FAILED", {})
    _load.cache_clear()
    files, _ = tiny_mnist()
    mirror.publish(monkeypatch, "mnist", files)
    folder = tmp_path / "my data"
    assert main(["run", str(mnist_spec(tmp_path)), "--data-dir", str(folder)]) == 0
    out = capsys.readouterr()
    assert "downloading [" in out.err and " MB" in out.err
    assert "status: finished" in out.out
    assert sorted(p.name for p in (folder / "mnist").iterdir()) == sorted(MNIST_FILES)
    assert download.ENV_DIR not in os.environ  # the flag holds for that command only
    _load.cache_clear()


def test_cli_offline_says_what_to_download_and_where_without_a_traceback(
        tmp_path: Path) -> None:
    port = closed_port()  # every request goes through a proxy that is not there: offline
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("no_proxy", download.ENV_DIR.lower())}
    env.update(http_proxy=f"http://127.0.0.1:{port}", https_proxy=f"http://127.0.0.1:{port}",
               HTTP_PROXY=f"http://127.0.0.1:{port}", HTTPS_PROXY=f"http://127.0.0.1:{port}")
    r = subprocess.run([sys.executable, "-m", "engine", "run", str(mnist_spec(tmp_path)),
                        "--data-dir", str(tmp_path / "empty")], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert "Traceback" not in r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: data.name: mnist needs 4 files")
    for name in MNIST_FILES:
        assert f"https://storage.googleapis.com/cvdf-datasets/mnist/{name}" in lines[0]
    assert "$NP_DATA_DIR/mnist" in lines[0] and str(tmp_path) not in lines[0]


# -- the page ------------------------------------------------------------------------------
def test_build_page_fetches_a_chosen_set_or_explains_and_offers_to_try_again(
        cache: Path, mirror: Mirror, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.apptest import session

    files, _ = tiny_mnist()
    mirror.publish(monkeypatch, "mnist", files)
    at = AppTest.from_file(str(ROOT / "views" / "build.py"), default_timeout=60)
    at.query_params["preset"] = "xor_hidden"
    at.run()
    rev = at.session_state["build-rev"]
    served = dict(mirror.files)
    mirror.files.clear()  # offline at first: the mirror has nothing
    at.selectbox(key=f"b{rev}-data").set_value("mnist").run()
    assert not at.exception, at.exception
    errors = " ".join(e.value for e in at.error)
    assert "could not be downloaded" in errors and MNIST_FILES[0] in errors
    assert str(cache) not in errors
    assert session().draft is not None
    again = next(b for b in at.button if b.label == "Download the data again")

    mirror.files.update(served)
    again.click().run()
    assert not at.exception, at.exception
    assert not any("could not be downloaded" in e.value for e in at.error)
    # Only the model's own problem is left (the MLP needs a flatten node for images).
    assert not [i for i in session().draft_issues if i.path.startswith("data")]
    assert session().draft["data"]["name"] == "mnist"
    captions = " ".join(c.value for c in at.caption)
    assert "20 training and 10 test rows" in captions
    assert (cache / "mnist" / MNIST_FILES[0]).is_file()
