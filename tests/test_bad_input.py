"""A catalogue of bad input, one table per surface: specs (every section), share links,
short links, experiment files, CSV files, image zips and pictures, pasted and uploaded
text, saved runs and weights files, and page edits (the address and widgets).

Each case is a kind of bad input a class meets (a typo, a file from the wrong program, a
link cut by a chat window) or a crafted one (a zip bomb, a path out of the upload folder).
What must hold for every one: the app says so in one clear line that names the place and
the fix, in words for a teacher and a student (no traceback, no Python names, no folder
of the server), and nothing crashes or is lost. ``plain`` is that check on the words.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import sqlite3
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from PIL import Image
from pydantic import BaseModel

from engine.data import DATASETS, load_data
from engine.data import image_folder as imf
from engine.errors import SpecError
from engine.layers import LAYERS
from engine.links import LinkStore, open_link
from engine.presets import MAX_SHARE, SHARE_PREFIX, decode_share, encode_share, list_presets
from engine.probes import PROBES
from engine.share_words import SHARE_DICTIONARY
from engine.spec import DataSpec, Experiment
from engine.validate import MAX_JSON_BYTES, load_experiment, parse_json, read_json
from tests.conftest import build_spec
from ui.words import issues_text

ROOT = Path(__file__).resolve().parent.parent


# --- the words ------------------------------------------------------------------------------
def _identifiers() -> set[str]:
    """Names a person types in a spec file (fields, parameters, registry names): a message
    may quote them. Any other snake_case word on screen is the code's, not the user's."""
    names: set[str] = set(list_presets())

    def fields(model: type[BaseModel]) -> None:
        for name, f in model.model_fields.items():
            names.add(f.alias or name)
            for arg in (f.annotation, *getattr(f.annotation, "__args__", ())):
                if isinstance(arg, type) and issubclass(arg, BaseModel):
                    fields(arg)
                for inner in getattr(arg, "__args__", ()):
                    if isinstance(inner, type) and issubclass(inner, BaseModel):
                        fields(inner)
    fields(Experiment)
    for registry in (DATASETS, LAYERS, PROBES):
        for entry in registry:
            names.add(entry.name)
            names.update(p.name for p in entry.params)
    names.update(("cross_entropy", "one_cycle", "xavier_uniform", "xavier_normal", "he_uniform",
                  "he_normal", "leaky_relu", "sin_x1", "sin_x2"))
    return names


IDENTIFIERS = _identifiers()
SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
INTERNALS = re.compile(r"Traceback|File \"|\b\w+(?:Error|Exception)\b|\bnp\.\w+\(|codec|Errno|"
                       r"\\x[0-9a-f]{2}|\b0x[0-9a-f]{2}\b|C error|deserializ")
LISTS = re.compile(r"\((?:known|available|known ids): [^)]*\)")  # what may be typed: kept whole


def plain(text: str, *also: str) -> str:
    """``text`` checked as words for a teacher and a student; returns it. ``also``: words
    the case itself put in (a bad value quoted back)."""
    assert text and "\n" not in text.strip(), f"not one line: {text!r}"
    short = LISTS.sub("", text)
    assert len(short) <= 300, f"too long to read: {text!r}"
    assert not INTERNALS.search(short), f"the code's words: {text!r}"
    for folder in {str(ROOT), tempfile.gettempdir(), "/home/", "/root", "cache/"}:
        assert folder not in text, f"a server path: {text!r}"
    odd = [w for w in SNAKE.findall(short)
           if w not in IDENTIFIERS and not any(w in a for a in also)]
    assert not odd, f"internal names {odd}: {text!r}"
    return text


def spec_error(source: Any) -> str:  # noqa: ANN401
    """The one line a bad spec (dict, share dict, path) gets on the page."""
    with pytest.raises(SpecError) as info:
        load_experiment(source)
    return issues_text(info.value.issues[:1])


# --- specs: every section --------------------------------------------------------------------
def edit(**changes: Any) -> dict[str, Any]:  # noqa: ANN401
    """A small valid spec with sections replaced (``train`` is merged: it keeps cpu)."""
    d = build_spec()
    for key, value in changes.items():
        if value is None:
            d.pop(key)
        elif key == "train" and isinstance(value, dict):
            d["train"] = {**d["train"], **value}
        else:
            d[key] = value
    return d


def node(id_: str = "a", type_: str = "linear", **params: Any) -> dict[str, Any]:  # noqa: ANN401
    return {"id": id_, "type": type_, "params": params}


LINEAR_OUT = node("out", units=2)
SPECS = [
    # (kind, spec, words the line must hold: the place, then the fix)
    ("schema_newer", edit(schema=99), ["File version", "update"]),
    ("schema_not_a_number", edit(schema="one"), ["File version", "version number"]),
    ("schema_missing", edit(schema=None), ["File version"]),
    ("schema_too_old", edit(schema=0), ["File version", "no longer supported"]),
    ("meta_name_too_long", edit(meta={"name": "x" * 5000}), ["Name and notes", "at most 120"]),
    ("meta_name_not_text", edit(meta={"name": 5}), ["Name and notes", "string"]),
    ("meta_too_many_steps", edit(meta={"steps": [{"text": "a"}] * 40}),
     ["Name and notes", "at most 30 items"]),
    ("meta_unknown_field", edit(meta={"nmae": "x"}), ["Name and notes", "remove it"]),
    ("meta_broken_character", edit(meta={"name": "bad \ud800 name"}),
     ["Name and notes", "retype"]),
    ("data_unknown_set", edit(data={"name": "spirall"}), ["Data", "did you mean spiral"]),
    ("data_points_out_of_range", edit(data={"name": "xor", "params": {"n_samples": 10**12}}),
     ["Data", "between 10 and 100000"]),
    ("data_unknown_parameter", edit(data={"name": "xor", "params": {"wobble": 1}}),
     ["Data", "unknown parameter"]),
    ("data_noise_not_a_number", edit(data={"name": "xor", "params": {"noise": "lots"}}),
     ["Data", "must be a number"]),
    ("data_noise_infinite", edit(data={"name": "xor", "params": {"noise": float("inf")}}),
     ["Data", "must be a finite number, got inf"]),
    ("data_params_a_list", edit(data={"name": "xor", "params": [1, 2]}), ["Data"]),
    ("data_unknown_feature", edit(data={"name": "xor", "features": ["x3"]}),
     ["Data, features", "unknown feature"]),
    ("data_augment_without_images", edit(data={"name": "xor", "augment": {"flip": True}}),
     ["Data, augment", "turn augmentation off"]),
    ("data_broken_character_in_text",
     edit(data={"name": "text", "params": {"source": "own", "text": "ab\ud800" * 300}}),
     ["Data, text", "retype"]),
    ("model_no_layers", edit(model={"nodes": []}), ["Model", "at least 1 item"]),
    ("model_too_many_layers", edit(model={"nodes": [node(f"n{i}", units=2) for i in range(300)]}),
     ["Model", "at most 256 items"]),
    ("model_unknown_layer", edit(model={"nodes": [node(type_="lineer", units=2)]}),
     ["Layer 1 (a)", "did you mean linear"]),
    ("model_units_zero", edit(model={"nodes": [node(units=0), LINEAR_OUT]}),
     ["Layer 1 (a)", "between 1 and 4096"]),
    ("model_units_a_fraction", edit(model={"nodes": [node(units=2.5), LINEAR_OUT]}),
     ["Layer 1 (a)", "whole number"]),
    ("model_same_id_twice", edit(model={"nodes": [node(units=2), node(units=2)]}),
     ["Layer 2 (a)", "its own id"]),
    ("model_cycle", edit(model={"nodes": [{**node(units=2), "inputs": ["b"]},
                                          {**node("b", units=2), "inputs": ["a"]}]}),
     ["Model", "cycle"]),
    ("model_wrong_output", edit(model={"nodes": [node(units=3)]}),
     ["Layer 1 (a)", "set the last layer's units to 2"]),
    ("train_learning_rate_zero", edit(train={"optimizer": {"lr": 0}}),
     ["Training, optimizer, learning rate", "greater than 0"]),
    ("train_learning_rate_text", edit(train={"optimizer": {"lr": "fast"}}),
     ["Training, optimizer, learning rate", "number"]),
    ("train_unknown_optimizer", edit(train={"optimizer": {"name": "adamm"}}),
     ["Training, optimizer", "'adam'"]),
    ("train_batch_too_big", edit(train={"batch_size": 10**9}),
     ["Training, batch size", "65536"]),
    ("train_epochs_negative", edit(train={"epochs": -3}),
     ["Training, epochs", "greater than or equal to 1"]),
    ("train_unknown_device", edit(train={"device": "tpu"}), ["Training, device", "'cpu'"]),
    ("train_unknown_saved_run", edit(train={"init_from": {"run": "nope"}}),
     ["Training, starting weights", "Saved runs page"]),
    ("train_run_id_climbing_folders", edit(train={"init_from": {"run": "../../etc"}}),
     ["Training, starting weights"]),
    ("train_cosine_without_epochs", edit(train={"epochs": None,
                                                "schedule": {"name": "cosine"}}),
     ["Training, schedule", "epoch budget"]),
    ("train_a_list", edit(train=[1, 2]), ["Training"]),
    ("probes_unknown", edit(probes=[{"name": "telepathy"}]), ["Views", "unknown probe"]),
    ("probes_every_zero", edit(probes=[{"name": "evaluation", "every": 0}]),
     ["Views, every", "greater than or equal to 1"]),
    ("probes_bad_parameter", edit(probes=[{"name": "boundary", "params": {"resolution": -1}}]),
     ["Views", "between 10 and 200"]),
    ("top_level_unknown_section", edit(extra=1), ["Extra", "remove it"]),
    ("top_level_no_model", edit(model=None), ["Model", "required"]),
]


@pytest.mark.parametrize("kind, spec, words", SPECS, ids=[c[0] for c in SPECS])
def test_spec(kind: str, spec: dict[str, Any], words: list[str]) -> None:
    line = plain(spec_error(spec), *map(str, json.dumps(spec).split('"')))
    for w in words:
        assert w in line, (w, line)


# --- share links ------------------------------------------------------------------------------
def share_of(raw: bytes, prefix: str = SHARE_PREFIX) -> str:
    """A share string around any bytes, compressed as the app compresses a link."""
    deflate = zlib.compressobj(9, zdict=SHARE_DICTIONARY)
    body = deflate.compress(raw) + deflate.flush()
    return prefix + base64.urlsafe_b64encode(body).decode("ascii").rstrip("=")


GOOD = encode_share(build_spec())
SHARES = [
    ("truncated", GOOD[:-12], "copy the whole link again"),
    ("one_letter_changed", GOOD[:20] + ("B" if GOOD[20] == "A" else "A") + GOOD[21:],
     "copy the whole link again"),
    ("oversized", SHARE_PREFIX + "A" * (MAX_SHARE + 1), "too long"),
    ("decompression_bomb", share_of(b'{"a":"' + b" " * 3_000_000 + b'"}'),
     "copy the whole link again"),
    ("nested_ten_thousand_deep", share_of(b"[" * 10_000 + b"]" * 10_000),
     "copy the whole link again"),
    ("wrong_version", "np9." + GOOD[4:], "should start with"),
    ("no_prefix", GOOD[4:], "should start with"),
    ("old_prefix_new_body", "np1." + GOOD[4:], "copy the whole link again"),
    ("not_base64", SHARE_PREFIX + "é~!*", "copy the whole link again"),
    ("not_an_object", share_of(b"[1, 2]"), "copy the whole link again"),
    ("empty", "", "should start with"),
]


@pytest.mark.parametrize("kind, link, words", SHARES, ids=[c[0] for c in SHARES])
def test_share_link(kind: str, link: str, words: str) -> None:
    with pytest.raises(SpecError) as info:
        decode_share(link)
    assert words in plain(issues_text(info.value.issues))


def test_share_link_holding_a_bad_experiment_names_its_place() -> None:
    line = spec_error(decode_share(share_of(json.dumps(edit(schema=7)).encode())))
    assert "File version" in plain(line)


# --- short links ------------------------------------------------------------------------------
def _tampered(store: LinkStore) -> str:
    key = store.put({"s": GOOD})
    with sqlite3.connect(store.path) as con:
        con.execute("UPDATE links SET body = ? WHERE id = ?", ('{"s":"np2.AAAA"}', key))
    return key


def _store_file(content: bytes) -> Callable[[LinkStore], str]:
    def damage(store: LinkStore) -> str:
        store.root.mkdir(parents=True, exist_ok=True)
        store.path.write_bytes(content)
        return "AAAAAAAA"
    return damage


SHORT = [
    ("id_climbing_folders", lambda s: "../../etc/passwd", "copy the whole link again"),
    ("id_too_short", lambda s: "abc", "8 to 16 letters"),
    ("id_very_long", lambda s: "a" * 5000, "copy the whole link again"),
    ("id_unknown", lambda s: "AAAAAAAA", "ask for the link again"),
    ("row_tampered_on_server", _tampered, "ask for the link again"),
    ("store_not_a_database", _store_file(b"not a database " * 100), "share the long link"),
]


@pytest.mark.parametrize("kind, make, words", SHORT, ids=[c[0] for c in SHORT])
def test_short_link(kind: str, make: Callable[[LinkStore], str], words: str,
                    tmp_path: Path) -> None:
    store = LinkStore(tmp_path / "links")
    key = make(store)
    with pytest.raises(SpecError) as info:
        open_link(key, store)
    assert words in plain(issues_text(info.value.issues), key[:40])


STORED = [
    ("unknown_key", {"s": GOOD, "evil": "1"}, "holds only"),
    ("value_with_spaces", {"s": GOOD, "lang": "a b"}, "plain text"),
    ("no_experiment", {"lang": "zh"}, "needs an experiment"),
    ("damaged_experiment", {"s": GOOD[:-12]}, "copy the whole link again"),
]


@pytest.mark.parametrize("kind, params, words", STORED, ids=[c[0] for c in STORED])
def test_short_link_refuses_to_store(kind: str, params: dict[str, str], words: str,
                                     tmp_path: Path) -> None:
    store = LinkStore(tmp_path / "links")
    with pytest.raises(SpecError) as info:
        store.put(params)
    assert words in plain(issues_text(info.value.issues))


# --- experiment (preset) files ------------------------------------------------------------------
FILES = [
    ("not_json", b"hello", "not valid JSON at line 1"),
    ("empty", b"", "not valid JSON"),
    ("not_utf8", '{"meta": {"name": "caf\xe9"}}'.encode("latin-1"), "save it as UTF-8"),
    ("utf16", json.dumps(build_spec()).encode("utf-16"), "save it as UTF-8"),
    ("a_list", b"[1, 2]", "an experiment is a JSON object"),
    ("nested_ten_thousand_deep", b"[" * 10_000 + b"]" * 10_000, "nested too deeply"),
    ("huge", b" " * (MAX_JSON_BYTES + 1), "larger than"),
    ("unknown_keys", json.dumps({**build_spec(), "colour": "red"}).encode(), "remove it"),
    ("lesson_too_long", json.dumps(edit(meta={"lesson": "y" * 100_000})).encode(),
     "at most 8000 characters"),
]


@pytest.mark.parametrize("kind, raw, words", FILES, ids=[c[0] for c in FILES])
def test_experiment_file(kind: str, raw: bytes, words: str, tmp_path: Path) -> None:
    path = tmp_path / "lesson.json"
    path.write_bytes(raw)
    line = plain(spec_error(path))  # the command line and a file named in a test
    assert words in line
    with pytest.raises(SpecError) as info:  # the sidebar's upload: the same words
        load_experiment(parse_json(raw, "lesson.json"))
    assert issues_text(info.value.issues[:1]) == line


def test_a_byte_order_mark_is_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "excel.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(build_spec()).encode())
    assert load_experiment(read_json(path)).data.name == "xor"


def test_a_folder_named_as_a_file_shows_no_server_path(tmp_path: Path) -> None:
    assert "cannot be read" in plain(spec_error(tmp_path), tmp_path.name)


# --- CSV files ----------------------------------------------------------------------------------
def rows(n: int = 20, sep: str = ",") -> str:
    return "".join(f"{i}{sep}{(i * 7) % 5}{sep}{'cat' if i % 2 else 'dog'}\n" for i in range(n))


HEADER = "x,y,label\n"
WIDE = 1_000_000  # columns: the header alone is 2 MB, refused before pandas builds them
CSVS = [
    # (kind, file bytes, data params, "error" words | a check of the loaded bundle)
    ("latin1", (HEADER + "".join(f"{i},{i},caf\xe9{i % 2}\n" for i in range(20))
                ).encode("latin-1"), {}, "CSV UTF-8"),
    ("binary_renamed", bytes(range(256)) * 40, {}, "CSV UTF-8"),
    ("zip_renamed", b"PK\x03\x04" + b"\x00" * 300, {}, "CSV UTF-8"),
    ("utf16_with_mark", (HEADER + rows()).encode("utf-16"),
     {}, lambda b: b.class_names == ("cat", "dog")),
    ("utf8_with_mark", b"\xef\xbb\xbf" + (HEADER + rows()).encode(),
     {}, lambda b: b.feature_names == ("x", "y")),
    ("gb18030_chinese", ("x,y,标签\n" + rows().replace("cat", "猫").replace("dog", "狗")
                         ).encode("gb18030"), {}, lambda b: b.class_names == ("狗", "猫")),
    ("semicolons_and_decimal_commas", ("x;y;label\n" + "".join(
        f"{i},5;{i % 3};{'cat' if i % 2 else 'dog'}\n" for i in range(20))).encode(),
     {}, lambda b: b.feature_names == ("x", "y")),
    ("tabs", ("x\ty\tlabel\n" + rows(sep="\t")).encode(), {},
     lambda b: b.class_names == ("cat", "dog")),
    ("huge_cell", (HEADER + rows() + "z" * 2_000_000 + ",1,cat\n").encode(), {},
     "numeric except row 21"),
    ("one_row", b"x,label\n1,0\n", {}, "at least 2"),
    ("header_only", b"x,label\n", {}, "0 usable rows"),
    ("empty_file", b"", {}, "empty or has no column names"),
    ("one_column", b"label\n1\n2\n3\n", {}, "at least one input column"),
    ("all_missing_column", ("x,empty,label\n" + "".join(
        f"{i},,{i % 2}\n" for i in range(20))).encode(), {},
     lambda b: b.feature_names == ("x",) and "empty" in b.notes[0]),
    ("all_missing_target", ("x,label\n" + "".join(f"{i},\n" for i in range(20))).encode(),
     {"target": "label"}, "has no values"),
    ("ragged_row", b"x,label\n1,0\n2,1,5,6\n3,0\n", {}, "line 3 has 4 values"),
    ("unclosed_quote", b'x,label\n"1,0\n2,1\n', {}, "never closed"),
    ("infinite_value", ("x,label\n" + "".join(f"{i},{i % 2}\n" for i in range(20))
                        + "inf,1\n").encode(), {}, "infinite value in row 21 ('inf')"),
    ("million_columns", ("1," * WIDE + "0\n" + "1," * WIDE + "1\n").encode(), {},
     "more than 5,000"),
    ("unknown_target", (HEADER + rows()).encode(), {"target": "price"}, "is not in the file"),
    ("too_many_classes", ("x,label\n" + "".join(f"{i},{i}\n" for i in range(1200))).encode(),
     {"task": "classification"}, "set task to regression"),
]


@pytest.fixture
def uploads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app's confinement to its upload folder, with a test's own folder as it."""
    from engine.data import csv_file

    folder = tmp_path / "uploads"
    folder.mkdir()
    monkeypatch.setattr(csv_file, "ALLOWED_DIRS", [folder])
    monkeypatch.setattr(imf, "ALLOWED_DIRS", [folder])
    return folder


@pytest.mark.parametrize("kind, raw, params, outcome", CSVS, ids=[c[0] for c in CSVS])
def test_csv(kind: str, raw: bytes, params: dict[str, Any], outcome: Any,  # noqa: ANN401
             uploads: Path) -> None:
    path = uploads / f"{kind}.csv"
    path.write_bytes(raw)
    spec = DataSpec(name="csv", params={"path": str(path), **params})
    if callable(outcome):
        bundle = load_data(spec)
        assert outcome(bundle), bundle
        for note in bundle.notes:
            plain(note)
        return
    with pytest.raises(SpecError) as info:
        load_data(spec)
    line = plain(issues_text(info.value.issues), kind)
    assert line.startswith("Data") and outcome in line, line


def test_csv_outside_the_upload_folder_is_neither_read_nor_listed(uploads: Path) -> None:
    from engine.data.csv_file import columns

    with pytest.raises(SpecError) as info:
        load_data(DataSpec(name="csv", params={"path": "/etc/passwd"}))
    assert "upload it again" in plain(issues_text(info.value.issues), "passwd")
    assert columns("/etc/passwd") == []  # Build's target list quotes no server file either


def test_csv_columns_for_the_target_list_are_read_as_the_data_set_reads_them(
        uploads: Path) -> None:
    from ui.uploads import csv_columns

    path = uploads / "semi.csv"
    path.write_bytes("höhe;breite;art\n1,5;2;a\n".encode("utf-16"))
    assert csv_columns(str(path)) == ["höhe", "breite", "art"]


# --- images: zips of class folders and single pictures ------------------------------------------
def picture(colour: int = 128, size: tuple[int, int] = (12, 10)) -> bytes:
    buf = io.BytesIO()
    Image.new("L", size, colour).save(buf, "PNG")
    return buf.getvalue()


def claimed_png(width: int, height: int) -> bytes:
    """A PNG of a few bytes whose header claims ``width`` x ``height`` pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0,
                                                               0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


GOOD_IMAGES = {f"{c}/{c}{i}.png": picture(40 + 150 * (c == "dogs")) for c in ("cats", "dogs")
               for i in range(3)}
ZIPS = [
    # (kind, extra members beside two good classes, the member the notes must name)
    ("path_climbing_out", {"../../evil/x.png": picture()}, "../../evil/x.png"),
    ("absolute_path", {"/etc/cats/y.png": picture()}, "/etc/cats/y.png"),
    ("not_an_image", {"cats/notes.txt": b"not a picture"}, "notes.txt"),
    ("damaged_image", {"dogs/broken.png": picture()[:30]}, "broken.png"),
    ("huge_declared_dimensions", {"dogs/wide.png": claimed_png(100_000, 100_000)}, "wide.png"),
    ("zip_bomb_member", {"cats/bomb.png": b"\0" * (imf.MAX_MEMBER_BYTES + 1)}, "bomb.png"),
    ("file_outside_class_folders", {"loose.png": picture()}, "loose.png"),
]


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


@pytest.mark.parametrize("kind, extra, named", ZIPS, ids=[c[0] for c in ZIPS])
def test_image_zip_skips_the_bad_file_and_says_which(kind: str, extra: dict[str, bytes],
                                                     named: str, uploads: Path) -> None:
    path = make_zip(uploads / f"{kind}.zip", {**GOOD_IMAGES, **extra})
    bundle = load_data(DataSpec(name="image_folder", params={"path": str(path), "size": 8}))
    assert bundle.class_names == ("cats", "dogs") and len(bundle.x_train) + len(
        bundle.x_test) == 6
    assert any(named in note for note in bundle.notes), bundle.notes
    for note in bundle.notes:
        plain(note, named)
    assert not (uploads.parent / "evil").exists()


BAD_ZIPS = [
    ("not_a_zip", b"PK\x03\x04 not really a zip", "not a readable zip"),
    ("empty_zip", None, "no images found"),
    ("one_class", {"cats/a.png": picture(), "cats/b.png": picture()}, "at least two classes"),
    ("too_many_files", {f"c{i % 2}/{i}.png": b"" for i in range(30)}, "more than 20"),
]


@pytest.mark.parametrize("kind, content, words", BAD_ZIPS, ids=[c[0] for c in BAD_ZIPS])
def test_image_zip_refused(kind: str, content: Any, words: str, uploads: Path,  # noqa: ANN401
                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imf, "MAX_FILES", 20)  # the same check as at 20,000, cheaply
    path = uploads / f"{kind}.zip"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        make_zip(path, content or {})
    with pytest.raises(SpecError) as info:
        load_data(DataSpec(name="image_folder", params={"path": str(path)}))
    assert words in plain(issues_text(info.value.issues), kind)


PICTURES = [
    ("text_file", b"hello", "not a picture that can be read"),
    ("svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a picture that can be read"),
    ("huge_declared_dimensions", claimed_png(100_000, 100_000), "not a picture"),
    ("too_many_bytes", b"\0" * (11 * 2**20), "larger than 10 MB"),
    ("damaged_jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\xff" * 40, "not a picture"),
]


@pytest.mark.parametrize("kind, raw, words", PICTURES, ids=[c[0] for c in PICTURES])
def test_uploaded_picture(kind: str, raw: bytes, words: str) -> None:
    from ui.drawing import from_upload

    with pytest.raises(ValueError) as info:
        from_upload(raw, (1, 28, 28))
    assert words in plain(str(info.value))


# --- pasted and uploaded text ------------------------------------------------------------------
UPLOADED_TEXT = [
    ("over_a_megabyte", b"a" * 1_000_001, "at most 1 MB"),
    ("binary", bytes(range(256)) * 10, "save it as UTF-8"),
    ("latin1", "café au lait".encode("latin-1"), "save it as UTF-8"),
    ("utf16", "hello".encode("utf-16"), "save it as UTF-8"),
]


@pytest.mark.parametrize("kind, raw, words", UPLOADED_TEXT, ids=[c[0] for c in UPLOADED_TEXT])
def test_uploaded_text_file(kind: str, raw: bytes, words: str) -> None:
    from ui.forms import decode_text_file

    with pytest.raises(ValueError) as info:
        decode_text_file(raw, "story.txt")
    assert words in plain(str(info.value))


OWN_TEXT = [
    ("blank", "   \n ", {}, "paste your text"),
    ("too_long", "ab" * 150_000, {}, "use a part of it"),
    ("too_short_for_windows", "hello", {}, "shorter windows"),
    ("not_text", 12345, {}, "must be text"),
    ("window_too_long", "abc" * 100, {"length": 10_000}, "between 2 and 256"),
]


@pytest.mark.parametrize("kind, text, params, words", OWN_TEXT, ids=[c[0] for c in OWN_TEXT])
def test_pasted_text(kind: str, text: Any, params: dict[str, Any], words: str) -> None:  # noqa: ANN401
    with pytest.raises(SpecError) as info:
        load_data(DataSpec(name="text", params={"source": "own", "text": text, **params}))
    assert words in plain(issues_text(info.value.issues))


def test_pasted_control_characters_and_one_letter_still_train() -> None:
    from engine.trainer import Trainer

    spec = edit(data={"name": "text", "params": {"source": "own", "n_samples": 20, "length": 4,
                                                  "text": "".join(map(chr, range(32))) * 20}},
                model={"nodes": [node("emb", "embedding", vocab_size=40, dim=4),
                                 node("out", units=31)]})  # 32 codes; \r reads as \n
    spec["train"]["batch_size"] = 4
    trainer = Trainer(load_experiment(spec))
    try:
        trainer.step_n(2)
        assert trainer.wait()
        snap = trainer.snapshot()
        assert snap.error is None and snap.step == 2
    finally:
        trainer.stop()


# --- saved runs and weights files ----------------------------------------------------------------
@pytest.fixture
def saved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """A run saved from a real model in a store of the test's own (the app's default)."""
    from engine import runs
    from engine.trainer import Trainer

    monkeypatch.setenv(runs.ROOT_ENV, str(tmp_path / "runs"))
    monkeypatch.setattr(runs, "_STORES", {})
    exp = load_experiment(build_spec())
    model = Trainer(exp).model
    store = runs.default_store()
    run_id = store.save(exp, {"steps": {"step": [1]}, "evals": {}}, {"step": 1},
                        model.state_dict(), "Spiral, first try", "me")
    return store, run_id, exp


def _set_blob(store: Any, run_id: str, blob: bytes, checksum: bool) -> None:  # noqa: ANN401
    store.weights_path(run_id).write_bytes(blob)
    if checksum:  # the row agrees with the file: only reading it can find what is wrong
        with sqlite3.connect(store.db_path) as con:
            con.execute("UPDATE runs SET weights_sha256 = ?, weights_bytes = ?",
                        (hashlib.sha256(blob).hexdigest(), len(blob)))
    store._verified.clear()


def _blob(store: Any, run_id: str) -> bytes:  # noqa: ANN401
    return store.weights_path(run_id).read_bytes()


DAMAGE = [
    ("weights_truncated", lambda s, r: _set_blob(s, r, _blob(s, r)[:-9], False), "incomplete"),
    ("weights_one_byte_changed", lambda s, r: _set_blob(
        s, r, _blob(s, r)[:-1] + bytes([_blob(s, r)[-1] ^ 1]), False), "damaged"),
    ("weights_not_safetensors", lambda s, r: _set_blob(
        s, r, b"\x08\x00\x00\x00\x00\x00\x00\x00{not}", True), "not a weights file"),
    ("weights_a_pickle", lambda s, r: _set_blob(
        s, r, b"\x80\x04\x95" + b"cos\nsystem\n" * 4, True), "not a weights file"),
    ("weights_missing", lambda s, r: s.weights_path(r).unlink(), "missing"),
]


@pytest.mark.parametrize("kind, damage, words", DAMAGE, ids=[c[0] for c in DAMAGE])
def test_damaged_weights(kind: str, damage: Callable[[Any, str], None], words: str,
                         saved: Any) -> None:  # noqa: ANN401
    from engine.pretrained import start_from
    from engine.runs import RunError

    store, run_id, exp = saved
    damage(store, run_id)
    with pytest.raises(RunError) as info:  # what the saved-runs page and fine-tuning read
        store.weights_by_id(run_id)
    assert words in plain(str(info.value), run_id) and "Spiral, first try" in str(info.value)
    # A fine-tuning link to that run is refused when it is opened (checked files only:
    # a pickle whose checksum matches is found when the weights are read, just below).
    spec = edit(train={"init_from": {"run": run_id}})
    if kind not in ("weights_not_safetensors", "weights_a_pickle"):
        assert words in plain(spec_error(spec), run_id)
    else:
        with pytest.raises(SpecError) as refused:
            from engine.trainer import Trainer

            start_from(Trainer(exp).model.layers, load_experiment(spec).train.init_from)
        assert "not a weights file" in plain(issues_text(refused.value.issues), run_id)
    runs, problems = store.scan("me")  # the list goes on without it, and says why once
    assert len(runs) + len(problems) == 1


ROWS = [
    ("experiment_damaged", "spec", "{bad", "its experiment is damaged"),
    ("curves_damaged", "history", "[1", "its curves are damaged"),
    ("experiment_no_longer_valid", "spec", json.dumps(edit(schema=99)), "no longer valid"),
]


@pytest.mark.parametrize("kind, column, value, words", ROWS, ids=[c[0] for c in ROWS])
def test_damaged_saved_run(kind: str, column: str, value: str, words: str,
                           saved: Any) -> None:  # noqa: ANN401
    from engine.runs import RunError

    store, run_id, _ = saved
    with sqlite3.connect(store.db_path) as con:
        con.execute(f"UPDATE runs SET {column} = ?", (value,))  # noqa: S608
    with pytest.raises(RunError) as info:
        store.load(run_id, "me")
    assert words in str(info.value)
    assert len(str(info.value)) < 400 and "\n" not in str(info.value)


def test_a_runs_database_that_is_not_one_names_no_server_folder(tmp_path: Path) -> None:
    from engine.runs import RunError, RunStore

    (tmp_path / "runs.sqlite").write_bytes(b"not a database " * 200)
    with pytest.raises(RunError) as info:
        RunStore(tmp_path).list("me")
    assert "runs.sqlite" in str(info.value) and str(tmp_path) not in str(info.value)


SHAPES = [
    ("another_shape", {"layers.h1.linear.weight": torch.zeros(3, 2),
                       "layers.h1.linear.bias": torch.zeros(3)},
     "h1 starts fresh: linear.weight is 8×2 here but 3×2"),
    ("another_kind", {"layers.h1.linear.weight": torch.zeros(8, 2)}, "h1 starts fresh"),
    ("keys_of_no_node", {"junk": torch.zeros(1), "layers.": torch.zeros(1)}, "starts fresh"),
]


@pytest.mark.parametrize("kind, weights, words", SHAPES, ids=[c[0] for c in SHAPES])
def test_weights_of_another_model_start_fresh_and_say_so(kind: str, weights: dict,
                                                         words: str) -> None:
    from engine.pretrained import apply_weights
    from engine.trainer import Trainer

    model = Trainer(load_experiment(build_spec())).model
    before = {k: v.clone() for k, v in model.state_dict().items()}
    lines = apply_weights(model.layers, weights).lines()
    assert any(words in line for line in lines), lines
    for line in lines:
        plain(line)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


# --- page edits: the address and widgets -------------------------------------------------------
DEEP = share_of(b"[" * 10_000 + b"]" * 10_000)
ADDRESSES = [
    # (kind, query parameters, the one line the page must show; None: opens quietly)
    ("step_not_a_number", {"step": "abc"}, "not a step number"),
    ("step_huge", {"step": "9" * 40}, None),
    ("step_negative", {"step": "-1"}, "not a step number"),
    ("hide_garbage", {"hide": "<script>alert(1)</script>..~~"}, "hidden controls is damaged"),
    ("lang_unknown", {"lang": "xx"}, "does not have"),
    ("short_link_bad_id", {"l": "../../etc/passwd"}, "copy the whole link again"),
    ("short_link_unknown", {"l": "AAAAAAAAAAAA"}, "ask for the link again"),
    ("share_garbage", {"s": "np2.garbage!!"}, "copy the whole link again"),
    ("share_nested_deep", {"s": DEEP}, "copy the whole link again"),
    ("share_of_a_bad_experiment", {"s": share_of(json.dumps(edit(schema=7)).encode())},
     "File version"),
    ("preset_climbing_folders", {"preset": "../../etc/passwd"}, "no preset named"),
]


@pytest.mark.parametrize("kind, params, words", ADDRESSES, ids=[c[0] for c in ADDRESSES])
def test_address(kind: str, params: dict[str, str], words: str | None,
                 tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    from engine.presets import load_preset
    from tests.apptest import APP, session

    monkeypatch.setenv("NP_LINKS_DIR", str(tmp_path / "links"))
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    assert session().exp == load_preset("spiral")  # the default opens, nothing else
    shown = [w.value.split("\n\n")[0] for w in at.warning]
    if words is None:
        assert not shown, shown
        return
    assert any(words in line for line in shown), shown
    for line in shown:
        plain(line, *params.values())


def _by_label(widgets: Any, label: str) -> Any:  # noqa: ANN401
    return next(w for w in widgets if w.label == label)


def _set_state(label: str, value: float) -> Callable[[Any], None]:
    """A widget's value put straight into the session state, past the browser's checks."""
    return lambda at: at.session_state.__setitem__(_by_label(at.number_input, label).key, value)


def _set_value(kind: str, label: str, value: float) -> Callable[[Any], None]:
    return lambda at: _by_label(getattr(at, kind), label).set_value(value)


WIDGETS = [
    # (kind, page, the edit as a browser could send it, whether it may change the experiment)
    ("control_a_value_in_range_does_change_it", None,
     _set_value("number_input", "Epoch budget", 200), True),
    ("epoch_budget_above_its_maximum", None,
     _set_value("number_input", "Epoch budget", 10**12), False),
    ("epoch_budget_negative", None, _set_value("number_input", "Epoch budget", -5), False),
    ("noise_slider_far_past_its_end", None, _set_value("slider", "Noise (%)", 500), False),
    ("build_units_zero_in_session_state", "views/build.py", _set_state("Units", 0), False),
    ("build_points_huge_in_session_state", "views/build.py", _set_state("Points", 10**9),
     False),
]


@pytest.mark.parametrize("kind, page, change, changes", WIDGETS, ids=[c[0] for c in WIDGETS])
def test_widget_value_out_of_range(kind: str, page: str | None,
                                   change: Callable[[Any], None], changes: bool) -> None:
    from tests.apptest import open_app, session

    at = open_app("spiral")
    if page:
        at.switch_page(page).run()
    before = session().exp
    change(at)
    at.run()
    assert not at.exception, at.exception
    assert (session().exp != before) == changes and session().draft is None


def _open_file_page(raw: bytes) -> None:
    """The sidebar's "Open an experiment file" with ``raw`` as the upload."""
    from ui.session import current
    from ui.sidebar import open_file

    open_file(current(), raw, "lesson.json")


@pytest.mark.parametrize("kind, raw, words", [
    ("nested_ten_thousand_deep", b"[" * 10_000 + b"]" * 10_000, "nested too deeply"),
    ("not_utf8", b"\xff\xfe\x00{}", "save it as UTF-8"),
    ("bad_experiment", json.dumps(edit(schema=99)).encode(), "File version"),
], ids=["nested_ten_thousand_deep", "not_utf8", "bad_experiment"])
def test_opening_a_bad_experiment_file_changes_nothing(kind: str, raw: bytes,
                                                       words: str) -> None:
    from streamlit.testing.v1 import AppTest

    from engine.presets import load_preset
    from tests.apptest import session

    at = AppTest.from_function(_open_file_page, args=(raw,), default_timeout=30).run()
    assert not at.exception, at.exception
    assert session().exp == load_preset("spiral")
    shown = [e.value for e in at.sidebar.error]
    assert len(shown) == 1 and words in shown[0], shown
    plain(shown[0].replace("\n\n", " "))
