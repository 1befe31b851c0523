"""Ids passed as arguments are checked by the same rule the schema applies in documents, and
ids a write passes may not print like another id."""

from __future__ import annotations

import re
import unicodedata

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas import ConversationCreated, SchemaError, decode, encode
from schemas import strategies as cst
from schemas.types import ConversationId, check_id, check_new_id

C1 = re.compile("[\x80-\x9f]")


@given(st.text(max_size=220) | st.text(st.characters(max_codepoint=0xA0), max_size=10))
def test_check_id_agrees_with_the_schema_type_but_also_refuses_c1_controls(value: str) -> None:
    try:
        msgspec.convert(value, ConversationId)
        schema_ok = True
    except msgspec.ValidationError:
        schema_ok = False
    try:
        check_id(value, "$.conversation_id")
        ours_ok = True
    except SchemaError:
        ours_ok = False
    assert ours_ok == (schema_ok and not C1.search(value))


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "expected 1..200 characters, got 0"),
        ("x" * 201, "expected 1..200 characters, got 201"),
        ("a\nb", "control character '\\n' at index 1"),
        (42, "expected str, got int"),
        # JSON documents cannot hold a lone surrogate either: their decode refuses it.
        ("ab\ud800", "not encodable as UTF-8 at index 2"),
        ("csi\x9b31m", "control character '\\x9b' at index 3"),
    ],
)
def test_check_id_names_path_and_problem(value: object, problem: str) -> None:
    with pytest.raises(SchemaError) as info:
        check_id(value, "$.session_id")
    assert str(info.value) == f"$.session_id: {problem}"


# --- ids a write introduces: nothing that prints like another id ------------------------------

# Format characters people meet: zero-width space, non-joiner and joiner, word joiner, the byte
# order mark, left-to-right and right-to-left marks, bidi embeddings, overrides and isolates,
# the soft hyphen, a tag character.
FORMAT_CHARS = st.sampled_from(
    "\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2066\u2067\u2068\u2069\u00ad\U000e0041"
) | st.characters(categories=["Cf"])
# Every whitespace character that is not a control (controls are refused already, and first).
SPACES = st.sampled_from(
    [c for c in map(chr, range(0x20, 0x110000)) if c.isspace() and not C1.match(c)]
)


def _allowed(value: str) -> bool:
    try:
        check_new_id(value, "$.conversation_id")
    except SchemaError:
        return False
    return True


@given(cst.identifiers(max_size=190), FORMAT_CHARS, st.integers(min_value=0))
def test_a_format_character_anywhere_is_refused_naming_index_and_code_point(
    valid: str, char: str, at: int
) -> None:
    at %= len(valid) + 1
    value = valid[:at] + char + valid[at:]
    with pytest.raises(SchemaError) as info:
        check_new_id(value, "$.conversation_id")
    assert str(info.value) == (
        f"$.conversation_id: format character U+{ord(char):04X} at index {at} is not allowed in ids"
    )


@given(cst.identifiers(max_size=190), SPACES, st.booleans())
def test_whitespace_at_either_end_is_refused_naming_index_and_code_point(
    valid: str, space: str, at_end: bool
) -> None:
    value = valid + space if at_end else space + valid
    with pytest.raises(SchemaError) as info:
        check_new_id(value, "$.session_id")
    index = len(valid) if at_end else 0
    assert str(info.value) == (
        f"$.session_id: whitespace U+{ord(space):04X} at index {index} is not allowed at either "
        "end of an id"
    )


@given(st.text(max_size=220) | st.text(st.characters(max_codepoint=0x3000), max_size=10))
def test_check_new_id_is_check_id_plus_no_format_characters_and_no_edge_whitespace(
    value: str,
) -> None:
    try:
        check_id(value, "$.conversation_id")
        old_ok = True
    except SchemaError:
        old_ok = False
    look_alike = bool(value) and (
        value[0].isspace()
        or value[-1].isspace()
        or any(unicodedata.category(c) == "Cf" for c in value)
    )
    assert _allowed(value) == (old_ok and not look_alike)


@given(
    st.tuples(cst.identifiers(max_size=190), FORMAT_CHARS | SPACES, st.booleans()).map(
        lambda t: t[1] + t[0] if t[2] else t[0] + t[1]
    )
)
def test_documents_holding_such_ids_still_decode_and_encode(look_alike: str) -> None:
    # The rule is on ids a write passes to the store; documents keep the 0.1 pattern, so what
    # was stored before reads as it did.
    assert not _allowed(look_alike)
    check_id(look_alike, "$.parent_id")
    raw = msgspec.json.encode({"type": "conversation_created", "parent_id": look_alike})
    body = decode(raw)
    assert body == ConversationCreated(parent_id=look_alike)
    assert encode(body) == raw


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("conv-1\u200b", "format character U+200B at index 6 is not allowed in ids"),
        ("\ufeffconv-1", "format character U+FEFF at index 0 is not allowed in ids"),
        ("\u202e1-vnoc", "format character U+202E at index 0 is not allowed in ids"),
        ("conv\u20661\u2069", "format character U+2066 at index 4 is not allowed in ids"),
        (" conv-1", "whitespace U+0020 at index 0 is not allowed at either end of an id"),
        ("conv-1\u00a0", "whitespace U+00A0 at index 6 is not allowed at either end of an id"),
        ("\u3000", "whitespace U+3000 at index 0 is not allowed at either end of an id"),
    ],
)
def test_check_new_id_names_path_index_and_code_point(value: str, problem: str) -> None:
    with pytest.raises(SchemaError) as info:
        check_new_id(value, "$.conversation_id")
    assert str(info.value) == f"$.conversation_id: {problem}"
    check_id(value, "$.conversation_id")  # reads still take it


@pytest.mark.parametrize(
    "value", ["conv 1", "tenant/42 · chat #7", "مرحبا", "日本語", "e\u0301", "a\u00a0b"]
)
def test_inner_spaces_and_other_scripts_are_still_ids(value: str) -> None:
    check_new_id(value, "$.conversation_id")
