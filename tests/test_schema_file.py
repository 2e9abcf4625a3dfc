"""presets/schema.json must be the JSON Schema the spec exports today."""

from __future__ import annotations

import json

from engine.presets import PRESET_DIR
from engine.spec import SCHEMA_VERSION, json_schema

FIX = 'python -c "from engine.presets import write_schema; write_schema()"'


def test_schema_file_is_up_to_date() -> None:
    on_disk = json.loads((PRESET_DIR / "schema.json").read_text(encoding="utf-8"))
    assert on_disk == json_schema(), f"presets/schema.json is out of date; run {FIX}"


def test_schema_describes_the_experiment() -> None:
    schema = json_schema()
    assert schema["title"] == "Experiment"
    assert {"schema", "meta", "data", "model", "train", "probes"} <= set(schema["properties"])
    assert schema["properties"]["schema"]["default"] == SCHEMA_VERSION
    assert schema["required"] == ["model"]
    assert schema["additionalProperties"] is False
