"""Event ids: UUIDv7 (time-ordered, RFC 9562) made by the store when the caller gives none,
and a fast path from stored bytes back to ``uuid.UUID``."""

from __future__ import annotations

import os
import threading
from time import time_ns
from uuid import UUID, SafeUUID

__all__ = ("uuid7s", "uuid_from_bytes")

_lock = threading.Lock()
_last_ms = 0
_counter = 0
_new = object.__new__
_set = object.__setattr__
_from_bytes = int.from_bytes
_UNKNOWN = SafeUUID.unknown


def uuid_from_bytes(raw: bytes) -> UUID:
    """``UUID(bytes=raw)`` without its argument parsing, which dominates reading ids back
    (1.4 us against 1.0 us here). Equality with ``UUID(bytes=...)`` is tested."""
    value = _new(UUID)
    _set(value, "int", _from_bytes(raw))
    _set(value, "is_safe", _UNKNOWN)
    return value


def uuid7s(count: int) -> list[UUID]:
    """``count`` new UUIDv7s, in increasing order: 48-bit Unix milliseconds, a 12-bit counter
    that keeps ids made in the same millisecond ordered, then 62 random bits. One lock and one
    ``urandom`` call per batch."""
    global _last_ms, _counter
    noise = os.urandom(8 * count)
    out = []
    with _lock:
        ms = time_ns() // 1_000_000
        if ms > _last_ms:
            # Start the counter at a random point below the middle: ordered, hard to guess.
            _last_ms, _counter = ms, noise[0] & 0x3FF
        else:
            _counter += 1
        for i in range(count):
            if _counter > 0xFFF:  # counter exhausted: borrow the next millisecond
                _last_ms, _counter = _last_ms + 1, 0
            rand = _from_bytes(noise[8 * i : 8 * i + 8]) & 0x3FFF_FFFF_FFFF_FFFF
            value = (_last_ms << 80) | (0x7 << 76) | (_counter << 64) | (0b10 << 62) | rand
            ui = _new(UUID)
            _set(ui, "int", value)
            _set(ui, "is_safe", _UNKNOWN)
            out.append(ui)
            _counter += 1
        _counter -= 1
    return out
