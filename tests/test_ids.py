"""Event ids the store makes: UUIDv7, ordered, unique, fork-safe, and ordinary ``UUID``s."""

from __future__ import annotations

import itertools
import os
import uuid

from hypothesis import given
from hypothesis import strategies as st

from eventstore._ids import uuid7s


@given(st.integers(min_value=1, max_value=300))
def test_uuid7s_equal_the_standard_constructor_of_their_bytes(count: int) -> None:
    # They are built without UUID.__init__; nothing may tell them from ordinary ones.
    for fast in uuid7s(count):
        std = uuid.UUID(bytes=fast.bytes)
        assert fast == std
        assert hash(fast) == hash(std)
        assert str(fast) == str(std)
        assert fast.is_safe == std.is_safe
        assert fast.version == std.version == 7


def test_uuid7s_are_version_7_rfc_variant_and_strictly_increasing() -> None:
    ids = uuid7s(5000) + uuid7s(1) + uuid7s(3000)
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in ids)
    assert all(a.int < b.int for a, b in itertools.pairwise(ids))
    assert len(set(ids)) == len(ids)


def test_uuid7s_timestamp_is_now() -> None:
    import time

    (u,) = uuid7s(1)
    ms = u.int >> 80
    assert abs(ms - time.time() * 1000) < 5000


def test_forked_child_does_not_reuse_parent_randomness() -> None:
    uuid7s(1)  # fill the pool in the parent
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(r)
        os.write(w, uuid7s(1)[0].bytes)
        os._exit(0)
    os.close(w)
    child = os.read(r, 16)
    os.close(r)
    os.waitpid(pid, 0)
    parent = uuid7s(1)[0].bytes
    # The low 62 bits are random: equal ones would mean the child reused the parent's pool.
    mask = (1 << 62) - 1
    assert int.from_bytes(child) & mask != int.from_bytes(parent) & mask


def test_uuid7s_layout_counter_steps_by_one_and_every_random_bit_varies() -> None:
    ids = [u.int for u in uuid7s(2000)]
    for a, b in itertools.pairwise(ids):
        ms_a, ms_b = a >> 80, b >> 80
        counter_a, counter_b = (a >> 64) & 0xFFF, (b >> 64) & 0xFFF
        # Same millisecond: the counter steps by one; a new millisecond restarts it.
        assert (ms_b == ms_a and counter_b == counter_a + 1) or (ms_b > ms_a)
    low = [u & ((1 << 62) - 1) for u in ids]
    for bit in range(62):  # all 62 random bits are filled, none stuck at 0 or 1
        assert len({(u >> bit) & 1 for u in low}) == 2
