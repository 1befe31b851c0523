"""Opaque keyset cursors.

A cursor is URL-safe base64 of a small JSON array: the query it belongs to and the key of the
last item returned. Paging cost is independent of the store's size because the next page starts
from that key through an index. A cursor handed to a different query is refused rather than
silently giving a wrong page.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import msgspec

from schemas import SchemaError

__all__ = ("decode_cursor", "encode_cursor")

_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder(tuple[list[Any], int])


def encode_cursor(query: list[Any], key: int) -> str:
    return base64.urlsafe_b64encode(_enc.encode((query, key))).decode().rstrip("=")


def decode_cursor(cursor: str, query: list[Any]) -> int:
    """The key stored in ``cursor``.

    :raises SchemaError: if the cursor is malformed or was made for another query.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        found_query, key = _dec.decode(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, msgspec.DecodeError, TypeError):
        raise SchemaError("$.cursor", "not a cursor returned by this store") from None
    if found_query != query:
        raise SchemaError("$.cursor", "this cursor belongs to a different query")
    if not 0 <= key < 1 << 63:
        raise SchemaError("$.cursor", "not a cursor returned by this store")
    return key
