"""Compatibility with every frozen release, property-tested from the snapshots themselves.

Backward: documents drawn from a release's JSON Schema decode in this version, and re-encoding
them loses nothing the release knew. Forward: everything this version's strategies draw is
valid under every release's schema (extra fields are allowed; event and part types a release
does not know are what its decoder keeps as ``UnknownEvent``/``UnknownPart``), so an older
reader accepts it.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

import schemas
from schemas import compat
from schemas import strategies as cst
from schemas.json_schema import RELEASES_DIR

RELEASES = sorted(
    (p for p in RELEASES_DIR.iterdir() if p.is_dir()), key=lambda p: compat.parse_version(p.name)
)


def load(release: Path, name: str) -> dict[str, Any]:
    return json.loads((release / name).read_bytes())


def test_there_is_a_release_to_test_against():
    assert [r.name for r in RELEASES][:1] == ["0.1"]


# --- backward: old documents decode and keep every field --------------------------------------


def reread_body(doc: Any) -> Any:
    body = schemas.decode(msgspec.json.encode(doc))
    assert not isinstance(body, schemas.UnknownEvent), "a released event type is unknown now"
    refused = _refused_on_write(doc)
    if refused is None:
        return msgspec.json.decode(schemas.encode(body))
    # A release's documents may hold what a write may no longer add: an image part with
    # neither url nor data, usage whose parts exceed their whole. encode refuses it; the body
    # decoded from it must still have lost nothing, so its JSON is compared all the same.
    with pytest.raises(schemas.SchemaError, match=refused):
        schemas.encode(body)
    return msgspec.json.decode(msgspec.json.encode(body, enc_hook=lambda p: p.data))


def _refused_on_write(doc: Any) -> str | None:
    """What encode says of ``doc`` if it holds something a write may no longer add."""
    if _has_image_of_nothing(doc):
        return "an image part needs a url or data"
    usage = doc.get("usage") if isinstance(doc, dict) else None
    if isinstance(usage, dict):
        get = usage.get
        pairs = [
            (get("prompt_cached_tokens"), get("prompt_tokens")),
            (get("prompt_cache_creation_tokens"), get("prompt_tokens")),
            (get("prompt_cache_creation_1h_tokens"), get("prompt_cache_creation_tokens")),
            (get("completion_reasoning_tokens"), get("completion_tokens")),
        ]
        if any(part is not None and whole is not None and part > whole for part, whole in pairs):
            return "which counts it"
        read, written, prompt = (
            get("prompt_cached_tokens"), get("prompt_cache_creation_tokens"), get("prompt_tokens")
        )  # fmt: skip
        if None not in (read, written, prompt) and read + written > prompt:
            return "add up to more than prompt_tokens"
    return None


def _has_image_of_nothing(doc: Any) -> bool:
    """Whether a message content list of ``doc`` (tool results' included) holds one."""

    def in_content(content: Any) -> bool:
        return isinstance(content, list) and any(
            (part.get("type") == "image" and part.get("url") is None and part.get("data") is None)
            or (part.get("type") == "tool_result" and in_content(part.get("content")))
            for part in content
        )

    return isinstance(doc, dict) and any(
        in_content(message.get("content")) for message in doc.get("messages", [])
    )


def reread_message(doc: Any) -> Any:
    wrapped = {"type": "messages", "messages": [doc]}
    return reread_body(wrapped)["messages"][0]


def reread_usage(doc: Any) -> Any:
    wrapped = {"type": "messages", "messages": [], "usage": doc}
    return reread_body(wrapped)["usage"]


REREAD = {
    "event.json": reread_body,
    "message.json": reread_message,
    "usage_record.json": reread_usage,
}


@pytest.mark.parametrize("release", RELEASES, ids=lambda p: p.name)
@pytest.mark.parametrize("name", sorted(REREAD))
@given(data=st.data())
def test_documents_of_every_release_decode_now_without_loss(release, name, data):
    snapshot = load(release, name)
    doc = data.draw(cst.from_schema(snapshot))
    reread = REREAD[name](doc)
    assert compat.lost_fields(snapshot, doc, reread) == []


def test_every_release_document_has_a_reader():
    for release in RELEASES:
        assert {p.name for p in release.glob("*.json")} <= set(REREAD), release.name


# --- forward: what we write now, older readers accept -----------------------------------------


def tolerant(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` as an older *reader* applies it: a tagged union also admits objects whose
    tag it does not list (its decoder keeps them as UnknownEvent or UnknownPart)."""
    out = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            discriminator = node.get("discriminator")
            if isinstance(discriminator, dict) and "anyOf" in node:
                field = discriminator["propertyName"]
                known = sorted(discriminator.get("mapping", {}))
                node["anyOf"].append(
                    {
                        "type": "object",
                        "required": [field],
                        "properties": {field: {"type": "string", "not": {"enum": known}}},
                    }
                )
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(out)
    return out


def readers(release: Path) -> dict[str, jsonschema.Draft202012Validator]:
    return {
        p.name: jsonschema.Draft202012Validator(tolerant(load(release, p.name)))
        for p in release.glob("*.json")
    }


READERS = {release.name: readers(release) for release in RELEASES}


def as_json(value: Any) -> Any:
    if isinstance(value, schemas.Event):
        return msgspec.json.decode(schemas.encode(value))
    body = schemas.Messages(messages=[value]) if isinstance(value, schemas.Message) else None
    if body is not None:
        return as_json(body)["messages"][0]
    return as_json(schemas.Messages(messages=[], usage=value))["usage"]


@pytest.mark.parametrize("release", [r.name for r in RELEASES])
@given(cst.bodies())
def test_every_body_we_write_is_valid_for_every_release(release, body):
    READERS[release]["event.json"].validate(as_json(body))


@pytest.mark.parametrize("release", [r.name for r in RELEASES])
@given(cst.future_documents())
def test_documents_with_fields_older_releases_lack_are_valid_for_them(release, pair):
    READERS[release]["event.json"].validate(msgspec.json.decode(pair[0]))


@pytest.mark.parametrize("release", [r.name for r in RELEASES])
@given(cst.messages())
def test_every_message_we_write_is_valid_for_every_release(release, message):
    READERS[release]["message.json"].validate(as_json(message))


@pytest.mark.parametrize("release", [r.name for r in RELEASES])
@given(cst.usage_records())
def test_every_usage_record_we_write_is_valid_for_every_release(release, usage):
    READERS[release]["usage_record.json"].validate(as_json(usage))


# --- the tolerant reader view is itself right ---------------------------------------------------


def test_tolerant_view_admits_unknown_tags_but_still_checks_known_ones():
    strict = load(RELEASES[-1], "event.json")
    reader = jsonschema.Draft202012Validator(tolerant(strict))
    unknown_event = {"type": "conversation_forked", "anything": [1]}
    unknown_part = {"type": "messages", "messages": [{"role": "u", "content": [{"type": "audio"}]}]}
    assert reader.is_valid(unknown_event)
    assert reader.is_valid(unknown_part)
    assert not jsonschema.Draft202012Validator(strict).is_valid(unknown_event)
    assert not reader.is_valid({"type": "messages"})  # known tag, required field missing
    assert not reader.is_valid({"type": "error", "message": 1})
    assert not reader.is_valid(
        {"type": "messages", "messages": [{"role": "u", "content": [{"type": "text"}]}]}
    )
    assert strict == load(RELEASES[-1], "event.json")  # the snapshot is not modified
