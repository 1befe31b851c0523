"""Event ids: UUIDv7 (time-ordered, RFC 9562) made by the store when the caller gives none."""

from __future__ import annotations

import os
import struct
import threading
from time import time_ns
from uuid import UUID, SafeUUID

__all__ = ("uuid7s",)

_lock = threading.Lock()
_last_ms = 0
_counter = 0

# Random bits come from os.urandom, fetched 64 KiB at a time: a getrandom() call releases the
# GIL, and on a busy event loop getting it back costs far more than the call itself. A forked
# child must not reuse its parent's unread bits.
_POOL_SIZE = 65536
_pool = b""
_offset = 0


def _reset_pool() -> None:
    global _pool, _offset
    _pool, _offset = b"", 0


os.register_at_fork(after_in_child=_reset_pool)


def _random_bytes(n: int) -> bytes:
    """``n`` bytes from the OS CSPRNG, through the pool. Call with ``_lock`` held."""
    global _pool, _offset
    if _offset + n > len(_pool):
        _pool, _offset = os.urandom(max(_POOL_SIZE, n)), 0
    chunk = _pool[_offset : _offset + n]
    _offset += n
    return chunk


_new = object.__new__
# The slot descriptors themselves: ``UUID.__setattr__`` refuses writes, and calling the
# descriptor skips the attribute lookup ``object.__setattr__`` would do.
_set_int = UUID.__dict__["int"].__set__
_set_safe = UUID.__dict__["is_safe"].__set__
_from_bytes = int.from_bytes
_unpack = struct.unpack
_UNKNOWN = SafeUUID.unknown

# UUIDv7 layout (RFC 9562), most significant bit first: 48-bit Unix milliseconds, version 7,
# a 12-bit counter, variant 0b10, 62 random bits.
_VERSION = 0x7 << 76
_VARIANT = 0b10 << 62
_COUNTER_ONE = 1 << 64


def _uuid(value: int) -> UUID:
    u = _new(UUID)
    _set_int(u, value)
    _set_safe(u, _UNKNOWN)
    return u


def uuid7s(count: int) -> list[UUID]:
    """``count`` new UUIDv7s, in increasing order: 48-bit Unix milliseconds, a 12-bit counter
    that keeps ids made in the same millisecond ordered, then 62 random bits. One lock and no
    system call in the common case."""
    global _last_ms, _counter, _pool, _offset
    out = []
    with _lock:
        # _random_bytes, written out: this runs on every append.
        n = 8 * count
        if _offset + n > len(_pool):
            _pool, _offset = os.urandom(max(_POOL_SIZE, n)), 0
        noise = _pool[_offset : _offset + n]
        _offset += n
        ms = time_ns() // 1_000_000
        if ms > _last_ms:
            # Start the counter at a random point below the middle: ordered, hard to guess.
            _last_ms, _counter = ms, noise[0] & 0x3FF
        else:
            _counter += 1
        # Everything but the random bits, for the current millisecond and counter; the
        # counter is advanced by adding to it, so each id costs two integer operations.
        high = (_last_ms << 80) | _VERSION | (_counter << 64) | _VARIANT
        rands = (_from_bytes(noise),) if count == 1 else _unpack(f"<{count}Q", noise)
        for rand in rands:
            if _counter > 0xFFF:  # counter exhausted: borrow the next millisecond
                _last_ms, _counter = _last_ms + 1, 0
                high = (_last_ms << 80) | _VERSION | _VARIANT
            out.append(_uuid(high | (rand >> 2)))
            _counter += 1
            high += _COUNTER_ONE
        _counter -= 1
    return out
