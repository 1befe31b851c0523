"""Golden files: bodies as real writers stored them, kept forever, decoded by every version.

Every ``*.json`` file in ``tests/golden/`` is read; ``tests/golden/manifest.toml`` says what
each must decode to and how it re-encodes. A file without an entry fails, so a new golden file
is covered as soon as it is added.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path
from typing import Any

import msgspec
import pytest

import schemas

GOLDEN = Path(__file__).parent / "golden"
MANIFEST: dict[str, dict[str, Any]] = tomllib.loads((GOLDEN / "manifest.toml").read_text())
FILES = sorted(p.name for p in GOLDEN.glob("*.json"))
KEYS = {"about", "decodes_to", "reencoded", "expect", "types"}


def test_every_golden_file_is_described_and_every_description_has_a_file():
    assert set(FILES) == set(MANIFEST)


@pytest.mark.parametrize("name", MANIFEST)
def test_manifest_entries_are_well_formed(name):
    entry = MANIFEST[name]
    assert set(entry) <= KEYS, f"unknown keys {set(entry) - KEYS}"
    assert {"about", "decodes_to", "reencoded"} <= set(entry)
    assert hasattr(schemas, entry["decodes_to"])


@pytest.mark.parametrize("name", FILES)
def test_golden_file_decodes_to_the_described_body(name):
    entry = MANIFEST[name]
    body = schemas.decode((GOLDEN / name).read_bytes())
    assert type(body).__name__ == entry["decodes_to"]
    for path, literal in entry.get("expect", {}).items():
        expected = ast.literal_eval(literal)
        actual = attribute(body, path)
        assert actual == expected, path
        if expected is None or isinstance(expected, bool | int | float | str):
            assert type(actual) is type(expected), f"{path}: {actual!r} is not {expected!r}"
    for path, class_name in entry.get("types", {}).items():
        assert type(attribute(body, path)).__name__ == class_name, path


@pytest.mark.parametrize("name", FILES)
def test_golden_file_reencodes_as_described(name):
    entry = MANIFEST[name]
    raw = (GOLDEN / name).read_bytes()
    encoded = schemas.encode(schemas.decode(raw))
    if entry["reencoded"] == "same":
        assert encoded == raw
    else:
        assert encoded == entry["reencoded"].encode()
        # The description is itself canonical: what our encoder writes, not merely equivalent.
        assert msgspec.json.encode(msgspec.json.decode(encoded)) == encoded


@pytest.mark.parametrize("name", FILES)
def test_golden_file_is_stable_after_one_round_trip(name):
    body = schemas.decode((GOLDEN / name).read_bytes())
    encoded = schemas.encode(body)
    assert schemas.decode(encoded) == body
    assert schemas.encode(schemas.decode(encoded)) == encoded


_STEP = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def attribute(obj: Any, path: str) -> Any:
    """Follow ``usage.cost_usd`` or ``messages[0].content[1]`` from ``obj``."""
    pos = 0
    while pos < len(path):
        m = _STEP.match(path, pos)
        assert m, f"bad attribute path {path!r} at {pos}"
        obj = getattr(obj, m[1]) if m[1] is not None else obj[int(m[2])]
        pos = m.end()
    return obj
