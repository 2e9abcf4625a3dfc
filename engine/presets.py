"""Presets (JSON files in ``presets/``) and the share codec for links.

Both are data, never code: JSON in, validated, no pickle, no eval.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
import zlib
from pathlib import Path
from typing import Any

from engine.errors import Issue, SpecError
from engine.i18n import t
from engine.share_words import SHARE_DICTIONARY
from engine.spec import Experiment, json_schema, sparse_dict
from engine.validate import load_experiment

PRESET_DIR = Path(__file__).resolve().parent.parent / "presets"
# np2: only what differs from the defaults, compressed with a preset dictionary (short
# links). np1 (the full canonical form, plain zlib) is still read, so old links work.
SHARE_PREFIX = "np2."
OLD_SHARE_PREFIX = "np1."
_SHARE_DICTS = {SHARE_PREFIX: SHARE_DICTIONARY, OLD_SHARE_PREFIX: b""}
MAX_SHARE = 64_000  # characters; a link longer than this is not a preset anyone wrote


def canonical_json(spec: Experiment | dict[str, Any]) -> str:
    """The full form (every default spelled out), sorted and compact: for comparisons."""
    data = spec.to_dict() if isinstance(spec, Experiment) else spec
    return _compact(data)


def _compact(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# Files in presets/ that are not experiments: the JSON Schema, the course's preset order,
# the curriculum's concepts and the presets covering them.
NOT_PRESETS = ("schema.json", "course.json", "curriculum.json")


def list_presets(folder: Path = PRESET_DIR) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.json") if p.name not in NOT_PRESETS)


def preset_path(name: str, folder: Path = PRESET_DIR) -> Path:
    if name not in list_presets(folder):
        raise SpecError(Issue("preset", t("no preset named {name} (available: {available})",
                                          name=repr(name),
                                          available=", ".join(list_presets(folder))),
                              "unknown_preset"))
    return folder / f"{name}.json"


def load_preset(name: str, folder: Path = PRESET_DIR) -> Experiment:
    return load_experiment(preset_path(name, folder))


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write via a temporary file and a rename, so a crash leaves old or new, never half.
    Text is written as UTF-8; bytes as they are (an upload keeps its own encoding)."""
    path = Path(path)
    raw = content.encode("utf-8") if isinstance(content, str) else content
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_experiment(spec: Experiment, path: Path) -> None:
    write_atomic(path, json.dumps(spec.to_dict(), indent=2, ensure_ascii=False) + "\n")


def write_schema(path: Path = PRESET_DIR / "schema.json") -> None:
    write_atomic(path, json.dumps(json_schema(), indent=2, sort_keys=True) + "\n")


def encode_share(spec: Experiment | dict[str, Any]) -> str:
    """An experiment's differences from the defaults (a dict: as given), as sorted compact
    JSON, compressed with the share dictionary, URL-safe base64, behind a version prefix."""
    data = sparse_dict(spec) if isinstance(spec, Experiment) else spec
    deflate = zlib.compressobj(9, zdict=SHARE_DICTIONARY)
    raw = deflate.compress(_compact(data).encode("utf-8")) + deflate.flush()
    return SHARE_PREFIX + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_share(text: str) -> dict[str, Any]:
    """The spec dict inside a share string (np2: the differences from the defaults, which
    ``load_experiment`` fills in; np1: the full form); a tampered or truncated one is a
    SpecError."""
    bad = t("the share link is damaged or incomplete; copy the whole link again")
    text = (text or "").strip()
    if len(text) > MAX_SHARE:
        raise SpecError(Issue("share", t("the share link is too long (over {n} characters)",
                                         n=MAX_SHARE), "share_too_long"))
    prefix = text[:len(SHARE_PREFIX)]
    if prefix not in _SHARE_DICTS:
        raise SpecError(Issue("share", t("not a Neural Playground link (it should start with "
                                         "{prefix})", prefix=repr(SHARE_PREFIX)),
                              "share_prefix"))
    body = text[len(prefix):]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        # zlib's Adler-32 check catches any change to the compressed bytes (and its header
        # names the dictionary it needs, so an np2 body under np1 fails too).
        zdict = _SHARE_DICTS[prefix]
        inflate = zlib.decompressobj(zdict=zdict) if zdict else zlib.decompressobj()
        out = inflate.decompress(raw, 1_000_000)
        if not inflate.eof or inflate.unused_data or inflate.unconsumed_tail:
            raise ValueError("truncated, padded or too large")
        data = json.loads(out.decode("utf-8"))
    except (binascii.Error, ValueError, zlib.error, UnicodeDecodeError, RecursionError):
        # RecursionError: brackets nested thousands deep, which no experiment needs
        raise SpecError(Issue("share", bad, "share_damaged")) from None
    if not isinstance(data, dict):
        raise SpecError(Issue("share", bad, "share_damaged"))
    return data


def experiment_from_share(text: str) -> Experiment:
    return load_experiment(decode_share(text))
