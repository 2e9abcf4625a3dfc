"""Presets, atomic saving, and the share codec."""

from __future__ import annotations

import base64
import json
import os
import re
import zlib
from pathlib import Path

import pytest

from engine import Experiment, SpecError, load_experiment
from engine.presets import (
    MAX_SHARE,
    OLD_SHARE_PREFIX,
    PRESET_DIR,
    SHARE_PREFIX,
    canonical_json,
    decode_share,
    encode_share,
    experiment_from_share,
    list_presets,
    load_preset,
    preset_path,
    save_experiment,
    write_atomic,
)
from engine.share_words import SHARE_DICTIONARY
from engine.spec import sparse_dict

REQUIRED = ("spiral", "xor_hidden", "xor_perceptron", "circle", "spiral_linear", "sine", "iris",
            "spiral_multi")
PRESETS = list_presets()
DICTIONARY_ADLER32, DICTIONARY_LENGTH = 4130418106, 1661  # of engine/share_words.py, frozen


def test_the_required_presets_exist() -> None:
    missing = [n for n in REQUIRED if n not in PRESETS]
    assert not missing, missing
    assert "schema" not in PRESETS


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_validates(name: str) -> None:
    exp = load_preset(name)
    assert isinstance(exp, Experiment)
    assert exp.meta.name and exp.meta.name != "Untitled"
    # A preset file is the canonical form: loading and dumping changes nothing.
    on_disk = json.loads((PRESET_DIR / f"{name}.json").read_text(encoding="utf-8"))
    assert load_experiment(on_disk).to_dict() == exp.to_dict()


def test_an_unknown_preset_is_a_spec_error() -> None:
    with pytest.raises(SpecError) as info:
        load_preset("spirall")
    assert info.value.code == "unknown_preset"
    assert str(info.value).startswith("preset: no preset named 'spirall' (available: ")
    with pytest.raises(SpecError):
        preset_path("../README")


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    exp = load_preset("spiral")
    path = tmp_path / "mine.json"
    save_experiment(exp, path)
    assert load_experiment(path) == exp
    assert [p.name for p in tmp_path.iterdir()] == ["mine.json"]  # no temporary file left
    changed = exp.replace(meta={"name": "Changed"})
    save_experiment(changed, path)
    assert load_experiment(path).meta.name == "Changed"
    assert [p.name for p in tmp_path.iterdir()] == ["mine.json"]
    assert list_presets(tmp_path) == ["mine"]
    assert load_preset("mine", tmp_path) == changed


def test_a_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "keep.json"
    path.write_text("old", encoding="utf-8")
    with pytest.raises(TypeError):
        write_atomic(path, 12345)  # type: ignore[arg-type] - write() refuses a non-string
    assert path.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.json"]


def test_a_crash_mid_write_leaves_the_old_file(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "keep.json"
    save_experiment(load_preset("xor_hidden"), path)
    before = path.read_bytes()

    def crash(fd: int) -> None:
        raise KeyboardInterrupt  # the text is written, the rename has not happened

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(KeyboardInterrupt):
        save_experiment(load_preset("spiral"), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.json"]


def test_canonical_json_is_sorted_and_compact() -> None:
    exp = load_preset("xor_hidden")
    text = canonical_json(exp)
    assert text == canonical_json(exp.to_dict())
    assert text == json.dumps(exp.to_dict(), sort_keys=True, separators=(",", ":"),
                              ensure_ascii=False)
    assert list(json.loads(text)) == sorted(exp.to_dict())


# Share codec --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", PRESETS)
def test_share_round_trip_for_every_preset(name: str) -> None:
    exp = load_preset(name)
    text = encode_share(exp)
    assert re.fullmatch(r"np2\.[A-Za-z0-9_-]+", text), text[:40]
    assert decode_share(text) == sparse_dict(exp)
    assert load_experiment(decode_share(text)) == exp
    assert experiment_from_share(text) == exp
    assert canonical_json(experiment_from_share(text)) == canonical_json(exp)
    # The same spec, the same link, however it was reached.
    assert encode_share(load_experiment(exp.to_dict())) == text
    assert decode_share(f"  {text}\n") == sparse_dict(exp)  # pasted with whitespace


def old_link(spec: Experiment | dict) -> str:
    """A link as the first codec wrote it: the full canonical form, plain zlib."""
    raw = zlib.compress(canonical_json(spec).encode("utf-8"), 9)
    return OLD_SHARE_PREFIX + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


@pytest.mark.parametrize("name", ["spiral", "vanishing_residual"])
def test_old_full_form_links_still_open(name: str) -> None:
    exp = load_preset(name)
    assert decode_share(old_link(exp)) == exp.to_dict()
    assert experiment_from_share(old_link(exp)) == exp


def test_links_are_short() -> None:
    # The spiral's link was 863 characters in the full form; its lesson steps travel with
    # it now. The QR code and the class hold the short link (?l=), so this bounds what a
    # link in a document or a message has to carry.
    assert len(encode_share(load_preset("spiral"))) < 650
    for name in PRESETS:
        # A deep CNN's graph, or a lesson in steps, is most of its link.
        assert len(encode_share(load_preset(name))) < 1100, name


def test_a_link_carries_only_what_differs_from_the_defaults(spec) -> None:
    exp = load_experiment(spec())
    assert decode_share(encode_share(exp)) == {
        "schema": 1,
        "data": {"name": "xor", "params": {"n_samples": 100}},
        "model": {"nodes": [
            {"id": "h1", "type": "linear", "params": {"units": 8, "activation": "tanh"}},
            {"id": "out", "type": "linear", "params": {"units": 2}}]},
        "train": {"device": "cpu", "epochs": 5},
        "probes": [],
    }
    bare = load_experiment({"schema": 1, "model": exp.to_dict()["model"]})
    assert sparse_dict(bare) == {"schema": 1, "model": sparse_dict(exp)["model"]}


def test_sparse_dict_keeps_a_changed_field_inside_a_default_section(spec) -> None:
    # Fields are compared with their section's own defaults: what fills a partial section.
    exp = load_experiment(spec(optimizer={"name": "sgd", "lr": 0.5}, epochs=None,
                               regularization={"l2": 0.001}))
    d = sparse_dict(exp)
    assert d["train"] == {"device": "cpu", "epochs": None, "optimizer": {"lr": 0.5},
                          "regularization": {"l2": 0.001}}
    assert load_experiment(d) == exp


def test_the_share_dictionary_never_changes() -> None:
    # Every np2 link already shared depends on these exact bytes; a new dictionary needs a
    # new prefix, with this one kept for the old links.
    assert zlib.adler32(SHARE_DICTIONARY) == DICTIONARY_ADLER32
    assert len(SHARE_DICTIONARY) == DICTIONARY_LENGTH


def _code(text: str) -> str:
    with pytest.raises(SpecError) as info:
        decode_share(text)
    assert len(info.value.issues) == 1 and info.value.issues[0].path == "share"
    assert "\n" not in str(info.value)
    return info.value.code


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def test_one_changed_character_anywhere_is_caught() -> None:
    exp = load_preset("spiral")
    good = encode_share(exp)
    body_start = len(SHARE_PREFIX)
    for i in range(body_start, len(good)):
        c = good[i]
        other = ALPHABET[(ALPHABET.index(c) + 17) % len(ALPHABET)]
        bad = good[:i] + other + good[i + 1:]
        try:
            decoded = decode_share(bad)
        except SpecError as e:
            assert e.code == "share_damaged", (i, str(e))
        else:
            # Only the last character's unused low bits may change without effect.
            assert decoded == sparse_dict(exp) and i == len(good) - 1, i


def test_truncated_strings_are_caught() -> None:
    good = encode_share(load_preset("spiral"))
    for cut in (1, 2, 3, 4, 10, len(good) // 2, len(good) - len(SHARE_PREFIX) - 1):
        assert _code(good[:-cut]) == "share_damaged", cut
    assert _code(SHARE_PREFIX) == "share_damaged"


@pytest.mark.parametrize("extra", ["A", "AAAA", "eJw", "x" * 50, "AA=="])
def test_padded_strings_are_caught(extra: str) -> None:
    good = encode_share(load_preset("xor_hidden"))
    assert _code(good + extra) == "share_damaged"


def test_base64_padding_and_stray_characters_never_change_the_spec() -> None:
    # The base64 decoder skips '=' and characters outside its alphabet; the zlib checksum
    # still guards the bytes, so such a string decodes to the same spec or is refused.
    exp = load_preset("xor_hidden")
    good = encode_share(exp)
    for pad in ("=", "=="):
        assert decode_share(good + pad) == sparse_dict(exp)
    for odd in (good + "==A", good[:10] + "!" + good[10:], good + "=" * 9):
        try:
            assert decode_share(odd) == sparse_dict(exp)
        except SpecError as e:
            assert e.code == "share_damaged"


def test_two_links_glued_together_are_caught() -> None:
    a, b = encode_share(load_preset("xor_hidden")), encode_share(load_preset("spiral"))
    assert _code(a + b) == "share_damaged"


@pytest.mark.parametrize("text", ["", "   ", "hello", "np3.eJwLycgs", "NP1.abc", "NP2.abc",
                                  "https://x.org/?s=np1.abc", '{"schema": 1}'])
def test_a_wrong_prefix(text: str) -> None:
    assert _code(text) == "share_prefix"


def _payload(raw: bytes, prefix: str = OLD_SHARE_PREFIX) -> str:
    if prefix == OLD_SHARE_PREFIX:
        packed = zlib.compress(raw)
    else:
        deflate = zlib.compressobj(zdict=SHARE_DICTIONARY)
        packed = deflate.compress(raw) + deflate.flush()
    return prefix + base64.urlsafe_b64encode(packed).decode().rstrip("=")


def test_a_new_body_under_the_old_prefix_is_caught() -> None:
    # zlib's header names the dictionary it needs, so the old reader cannot misread it.
    body = _payload(b'{"schema": 1}', SHARE_PREFIX)[len(SHARE_PREFIX):]
    assert _code(OLD_SHARE_PREFIX + body) == "share_damaged"


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2, 3]", b'"a string"', b"\xff\xfe",
                                 b"", b"null"])
def test_payloads_that_are_not_a_json_object(raw: bytes) -> None:
    assert _code(_payload(raw)) == "share_damaged"
    assert _code(_payload(raw, SHARE_PREFIX)) == "share_damaged"


def test_base64_that_is_not_compressed_data() -> None:
    text = SHARE_PREFIX + base64.urlsafe_b64encode(b'{"schema": 1}').decode().rstrip("=")
    assert _code(text) == "share_damaged"
    assert _code(SHARE_PREFIX + "!!!!") == "share_damaged"


@pytest.mark.parametrize("prefix", [SHARE_PREFIX, OLD_SHARE_PREFIX])
def test_a_decompression_bomb_is_refused(prefix: str) -> None:
    bomb = _payload(b'{"a": "' + b"x" * 5_000_000 + b'"}', prefix)
    assert len(bomb) < MAX_SHARE
    assert _code(bomb) == "share_damaged"


def test_an_overlong_link_is_refused() -> None:
    assert _code(SHARE_PREFIX + "A" * MAX_SHARE) == "share_too_long"


def test_a_valid_payload_with_a_bad_spec_is_a_spec_error_naming_the_field(spec) -> None:
    s = spec()
    s["model"]["nodes"][0]["params"]["units"] = 0
    text = encode_share(s)
    assert decode_share(text) == s
    with pytest.raises(SpecError) as info:
        experiment_from_share(text)
    assert str(info.value) == "model.nodes[0] (h1): units must be between 1 and 4096, got 0"


def _one_per_data_set() -> list[str]:
    """The first preset of each data set: every kind of data and model the course has."""
    seen: dict[str, str] = {}
    for name in PRESETS:
        seen.setdefault(load_preset(name).data.name, name)
    return list(seen.values())


@pytest.mark.slow
@pytest.mark.parametrize("name", _one_per_data_set())
def test_every_kind_of_preset_trains_an_epoch_with_every_page_s_probes(name: str) -> None:
    """The pages record every probe on every experiment: none may break a kind of model
    it was not written for (a picture grid on a sequence model, say)."""
    from engine import Trainer
    from ui.pages import NEEDED_PROBES

    exp = load_preset(name)
    tr = Trainer(exp.replace(train=exp.train.model_copy(update={"epochs": 1})),
                 needs=NEEDED_PROBES)
    snap = tr.run()
    assert snap.status != "failed" and snap.error is None, (name, snap.error)
