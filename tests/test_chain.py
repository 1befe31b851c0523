"""The hash chain is a stored format: databases written by any earlier version must verify.

Known answers pin the exact bytes; the property test pins the documented framing,
``sha256(prev | JSON header | newline | data)``, for any envelope values.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from eventstore._chain import GENESIS, link

# Computed by the implementation that shipped in 0.1; a change here breaks every stored chain.
KNOWN = [
    (
        (
            GENESIS, "conv-1", 1, bytes(range(16)), 1_700_000_000_000_000, None, None, None,
            b'{"type":"messages","messages":[]}',
        ),
        "29b01a8b107b206cbbb2cb3cc369ce64f3650df3bb94c0d96119197b97118dbe",
    ),
    (
        (
            bytes(range(32)), 'c\u00e9 "q"\n', 7, b"\xff" * 16, 5, "s-1", "t\u2603", "basic",
            b'{"type":"custom","event_type":"x"}',
        ),
        "e1cb520a26498609c0e0dedfa43d33931dc844271230be3707ccb40e505fd7c9",
    ),
]  # fmt: skip


def test_known_answers() -> None:
    for args, digest in KNOWN:
        assert link(*args).hex() == digest


texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)


envelopes = st.tuples(
    st.binary(min_size=32, max_size=32),  # prev
    texts,  # conversation id
    st.integers(1, 2**63 - 1),  # version
    st.binary(min_size=16, max_size=16),  # event id
    st.integers(0, 2**62),  # recorded_at, microseconds
    st.none() | texts,  # session id
    st.none() | texts,  # turn id
    st.none() | texts,  # harness
    st.binary(max_size=200),  # data
)


@given(envelopes)
def test_link_is_the_documented_framing(args: tuple[Any, ...]) -> None:
    prev, *header_fields, data = args
    header_fields[2] = header_fields[2].hex()  # the event id, as hex
    header = json.dumps(header_fields, separators=(",", ":"), ensure_ascii=False).encode()
    assert link(*args) == hashlib.sha256(prev + header + b"\n" + data).digest()
