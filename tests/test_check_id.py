"""Ids passed as arguments are checked by the same rule the schema applies in documents."""

from __future__ import annotations

import re

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas import SchemaError
from schemas.types import ConversationId, check_id

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
