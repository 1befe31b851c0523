"""Constrained scalar types shared by every schema module, defined once.

The constraints are enforced by msgspec whenever a document is decoded, so every backend and
every ``append_raw`` caller gets the same validation. Struct constructors do not validate, which
is why :func:`schemas.encode` re-decodes what it encodes.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

import msgspec

from ._errors import SchemaError

__all__ = (
    "ID_MAX_LENGTH",
    "MAX_SAFE_INT",
    "ConversationId",
    "CorrelationId",
    "Count",
    "HarnessName",
    "Millis",
    "Usd",
    "check_id",
    "check_new_id",
    "check_utf8",
)

#: Largest integer every JSON reader represents exactly (2**53 - 1). Token counts and
#: durations are capped there so a harness in any language can read what we store.
MAX_SAFE_INT = 9_007_199_254_740_991

# No C0 control characters and no DEL: ids end up in terminals, logs and URLs. Written as a
# lookahead because Python's `$` also matches before a trailing newline ("id\n" would pass
# `^[^...]+$`), and the pattern must mean the same in JSON Schema (ECMA) validators.
_PRINTABLE = r"^(?![\s\S]*[\x00-\x1f\x7f])"
# Arguments (ids a caller passes to the store, which land in columns, not in documents) refuse
# the C1 controls too: U+009B is a terminal's CSI. Documents keep the rule released in 0.1
# (see docs/decisions.md), since tightening it would stop stored documents from decoding.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

#: Longest conversation, session, turn or response id, and harness name.
ID_MAX_LENGTH = 200

ConversationId = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=ID_MAX_LENGTH,
        pattern=_PRINTABLE,
        description="Stream id: 1..200 characters, no control characters.",
    ),
]
CorrelationId = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=ID_MAX_LENGTH,
        pattern=_PRINTABLE,
        description="Caller-chosen id (session, turn, response): 1..200 characters.",
    ),
]
HarnessName = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=ID_MAX_LENGTH,
        pattern=_PRINTABLE,
        description="Provenance claim such as 'basic/0.3.1'.",
    ),
]
Count = Annotated[
    int,
    msgspec.Meta(ge=0, le=MAX_SAFE_INT, description="A token count: integer >= 0."),
]
Millis = Annotated[
    int,
    msgspec.Meta(ge=0, le=MAX_SAFE_INT, description="A duration in integer milliseconds."),
]
Usd = Annotated[
    float,
    msgspec.Meta(ge=0.0, description="US dollars: finite and >= 0."),
]


def check_id(value: object, path: str) -> None:
    """Check an id outside a decoded document (an argument) by the rule of
    :data:`ConversationId`, and refuse C1 control characters (U+0080..U+009F) as well, without
    building a msgspec type per call (that costs ~6 us).

    :raises SchemaError: naming ``path`` if ``value`` is not a valid id.
    """
    if type(value) is not str:
        raise SchemaError(path, f"expected str, got {type(value).__name__}")
    if not 0 < len(value) <= ID_MAX_LENGTH:
        raise SchemaError(path, f"expected 1..{ID_MAX_LENGTH} characters, got {len(value)}")
    bad = _CONTROL.search(value)
    if bad is not None:
        raise SchemaError(path, f"control character {bad.group()!r} at index {bad.start()}")
    check_utf8(value, path)


def check_new_id(value: object, path: str) -> None:
    """Check an id a write introduces: :func:`check_id`, and nothing that makes it print like
    another id. Refused: format characters (Unicode category Cf: zero-width space and joiners,
    the byte order mark, bidirectional overrides and isolates, soft hyphen, tags) anywhere,
    and whitespace (``str.isspace``) at either end. ``"conv-1\u200b"``, ``"\ufeffconv-1"`` and
    ``" conv-1"`` would otherwise be three more conversations that all read ``conv-1``.

    Ids stored before this rule keep reading: reads check ids with :func:`check_id`, and
    documents keep the 0.1 pattern (see docs/schema.md).

    :raises SchemaError: naming ``path``, the character's index and its code point.
    """
    check_id(value, path)
    assert isinstance(value, str)  # (check_id refuses anything else)
    for index in (0, len(value) - 1):
        if value[index].isspace():
            raise SchemaError(
                path,
                f"whitespace {_code_point(value[index])} at index {index} is not allowed at "
                "either end of an id",
            )
    if not value.isascii():  # ASCII has no format characters
        for index, char in enumerate(value):
            if unicodedata.category(char) == "Cf":
                raise SchemaError(
                    path,
                    f"format character {_code_point(char)} at index {index} is not allowed in ids",
                )


def _code_point(char: str) -> str:
    return f"U+{ord(char):04X}"


def check_utf8(value: str, path: str) -> None:
    """Refuse a str holding a lone surrogate: UTF-8 cannot encode it, so no stored document or
    column can hold it (a JSON decode refuses one too).

    :raises SchemaError: naming ``path`` and the index of the surrogate.
    """
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError as exc:
            raise SchemaError(path, f"not encodable as UTF-8 at index {exc.start}") from None
