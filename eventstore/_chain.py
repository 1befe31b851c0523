"""The per-conversation hash chain that makes tampering evident.

Each event's hash covers the previous event's hash, its envelope (everything but the global
position, which is store-local order) and its data bytes verbatim.
"""

from __future__ import annotations

import hashlib

import msgspec

__all__ = ("GENESIS", "link")

#: The "previous hash" of a conversation's first event.
GENESIS = bytes(32)

_header = msgspec.json.Encoder()
_sha256 = hashlib.sha256


def link(
    prev: bytes,
    conversation_id: str,
    version: int,
    event_id: bytes,
    recorded_at_us: int,
    session_id: str | None,
    turn_id: str | None,
    harness: str | None,
    data: bytes,
) -> bytes:
    """Hash of one event chained to ``prev``. The header is JSON (no raw newlines), so the
    ``prev | header | newline | data`` framing is unambiguous."""
    header = _header.encode(
        (conversation_id, version, event_id.hex(), recorded_at_us, session_id, turn_id, harness)
    )
    # One buffer hashed at once: a third cheaper than four updates of a running hash.
    return _sha256(b"".join((prev, header, b"\n", data))).digest()
