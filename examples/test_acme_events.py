"""Property-test the evolution of a harness's own custom events, the way convlog tests its own.

Copy this file (and ``conftest.py`` for the hypothesis profiles) into your harness's tests and
change the three settings below. It needs ``pip install 'convlog[testing]'`` and, for the
forward-compatibility test, ``jsonschema``. What it checks, for every custom event type:

- every payload the strategies draw encodes, decodes back equal, and re-encodes to the same
  bytes (also when a later version added fields to it);
- the committed schema files match the payload Structs (regenerate them with
  ``python -m schemas.json_schema --custom acme_events:PAYLOADS --dir acme_schemas``);
- no breaking change since any frozen release (``python -m schemas.compat``);
- payloads drawn from every frozen release's schema decode now and lose nothing (backward);
- payloads written now are valid under every frozen release's schema (forward).

Freeze a release when you ship one:
``python -m schemas.json_schema --custom acme_events:PAYLOADS --dir acme_schemas --freeze 1.1``.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import acme_events  # your harness's module with the payload Structs
import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

import schemas
from schemas import compat, json_schema
from schemas import strategies as cst

# --- the three settings to change ------------------------------------------------------------
PAYLOADS = acme_events.PAYLOADS  # {event type: payload Struct}
SCHEMA_DIR = Path(__file__).parent / "acme_schemas"  # current schemas, committed
RELEASES_DIR = SCHEMA_DIR / "releases"  # one frozen directory per release
# ---------------------------------------------------------------------------------------------

EVENT_TYPES = sorted(PAYLOADS)
RELEASES = sorted(
    (p for p in RELEASES_DIR.iterdir() if p.is_dir()), key=lambda p: compat.parse_version(p.name)
)


@pytest.fixture(autouse=True, scope="module")
def registered():
    """Register the payload types for these tests only (the registry is process-wide)."""
    with ExitStack() as stack:
        for event_type, payload_type in PAYLOADS.items():
            stack.enter_context(schemas.custom_registration(event_type, payload_type))
        yield


def payload_json(body: schemas.Custom) -> Any:
    return msgspec.json.decode(schemas.encode(body))["payload"]


# --- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("event_type", EVENT_TYPES)
@given(data=st.data())
def test_payloads_round_trip(event_type, data):
    body = data.draw(cst.custom_bodies(event_type))
    assert isinstance(body.payload, PAYLOADS[event_type])
    raw = schemas.encode(body)
    assert schemas.decode(raw) == body
    assert schemas.encode(schemas.decode(raw)) == raw


@pytest.mark.parametrize("event_type", EVENT_TYPES)
@given(data=st.data())
def test_payloads_written_by_a_later_version_decode_without_loss(event_type, data):
    raw, body = data.draw(cst.future_documents(cst.custom_bodies(event_type)))
    assert schemas.decode(raw) == body


# --- schema files and releases ---------------------------------------------------------------


def test_schema_files_match_the_payload_types():
    generated = json_schema.generate_custom(PAYLOADS)
    on_disk = {p.name: p.read_bytes() for p in SCHEMA_DIR.glob("*.json")}
    assert on_disk == generated, "regenerate: python -m schemas.json_schema --custom ..."


@pytest.mark.parametrize("release", RELEASES, ids=lambda p: p.name)
def test_no_breaking_change_since_release(release):
    violations = compat.check(release, SCHEMA_DIR)
    assert violations == [], "\n".join(map(str, violations))


def _snapshots() -> list[tuple[Path, str]]:
    return [(r, f"{t}.json") for r in RELEASES for t in EVENT_TYPES if (r / f"{t}.json").exists()]


@pytest.mark.parametrize(
    ("release", "file_name"), _snapshots(), ids=lambda v: getattr(v, "name", v)
)
@given(data=st.data())
def test_payloads_of_every_release_decode_now_without_loss(release, file_name, data):
    snapshot = json.loads((release / file_name).read_bytes())
    written = data.draw(cst.from_schema(snapshot))
    event_type = file_name.removesuffix(".json")
    raw = msgspec.json.encode({"type": "custom", "event_type": event_type, "payload": written})
    body = schemas.decode(raw)
    assert isinstance(body, schemas.Custom)
    assert compat.lost_fields(snapshot, written, payload_json(body)) == []


@pytest.mark.parametrize(
    ("release", "file_name"), _snapshots(), ids=lambda v: getattr(v, "name", v)
)
@given(data=st.data())
def test_payloads_written_now_are_valid_for_every_release(release, file_name, data):
    jsonschema = pytest.importorskip("jsonschema")
    snapshot = json.loads((release / file_name).read_bytes())
    body = data.draw(cst.custom_bodies(file_name.removesuffix(".json")))
    jsonschema.Draft202012Validator(snapshot).validate(payload_json(body))
