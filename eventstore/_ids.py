"""UUIDv7 event ids (time-ordered, RFC 9562), made by the store when the caller gives none."""

from __future__ import annotations

import os
import threading
import time
from uuid import UUID

__all__ = ("uuid7",)

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def uuid7() -> UUID:
    """A new UUIDv7: 48-bit Unix milliseconds, a 12-bit counter that keeps ids made in the same
    millisecond ordered, then 62 random bits."""
    global _last_ms, _counter
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms > _last_ms:
            _last_ms, _counter = ms, int.from_bytes(os.urandom(2)) & 0x3FF
        else:
            _counter += 1
            if _counter > 0xFFF:  # counter exhausted: borrow the next millisecond
                _last_ms, _counter = _last_ms + 1, 0
            ms = _last_ms
        counter = _counter
    rand = int.from_bytes(os.urandom(8)) & ((1 << 62) - 1)
    value = (ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | rand
    return UUID(int=value)
