"""Preset files hold only what differs from the defaults (so a teacher can write one by hand
in a few lines), and the sparse files load to the same experiments as the full ones did."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from engine.presets import PRESET_DIR, canonical_json, list_presets, load_preset
from engine.spec import sparse_dict

SNAPSHOT = Path(__file__).resolve().parent / "data" / "preset_canonical.json"
HASHES: dict[str, str] = json.loads(SNAPSHOT.read_text(encoding="utf-8"))["hashes"]


def sparse_file_form(name: str) -> dict[str, Any]:
    """What the file should hold: the differences from the defaults, with meta kept as
    written (a lesson reads better whole)."""
    on_disk = json.loads((PRESET_DIR / f"{name}.json").read_text(encoding="utf-8"))
    sparse = sparse_dict(load_preset(name))
    sparse.pop("meta", None)
    return {"schema": sparse.pop("schema"), "meta": on_disk.get("meta", {}), **sparse}


@pytest.mark.parametrize("name", list_presets())
def test_every_preset_file_is_sparse(name: str) -> None:
    text = (PRESET_DIR / f"{name}.json").read_text(encoding="utf-8")
    assert text.endswith("}\n"), f"{name}.json: end the file with one newline"
    on_disk = json.loads(text)
    assert on_disk == sparse_file_form(name), (
        f"{name}.json spells out defaults; write only what differs from them "
        "(engine.spec.sparse_dict)")


def test_the_sparse_files_load_to_the_experiments_the_full_files_were() -> None:
    # The snapshot was taken from the full files before the rewrite; meta is left out so
    # lesson steps can be added without touching it.
    changed = []
    for name, digest in HASHES.items():
        data = json.loads(canonical_json(load_preset(name)))
        data.pop("meta")
        now = hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()[:16]
        if now != digest:
            changed.append(name)
    assert not changed, f"these presets no longer load to the same experiment: {changed}"


def test_the_snapshot_check_can_fail() -> None:
    exp = load_preset("spiral")
    other = exp.replace(train=exp.train.model_copy(update={"epochs": 151})).to_dict()
    other.pop("meta")
    now = hashlib.sha256(canonical_json(other).encode("utf-8")).hexdigest()[:16]
    assert now != HASHES["spiral"]
