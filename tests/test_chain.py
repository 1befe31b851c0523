"""The hash chain is a stored format: databases written by any earlier version must verify.

Known answers pin the exact bytes; the property test pins the documented framing,
``sha256(prev | JSON header | newline | data)``, for any envelope values.
"""

from __future__ import annotations

import hashlib
import json

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


@given(
    prev=st.binary(min_size=32, max_size=32),
    conversation_id=texts,
    version=st.integers(1, 2**63 - 1),
    event_id=st.binary(min_size=16, max_size=16),
    recorded_at_us=st.integers(0, 2**62),
    session_id=st.none() | texts,
    turn_id=st.none() | texts,
    harness=st.none() | texts,
    data=st.binary(max_size=200),
)
def test_link_is_the_documented_framing(
    prev: bytes,
    conversation_id: str,
    version: int,
    event_id: bytes,
    recorded_at_us: int,
    session_id: str | None,
    turn_id: str | None,
    harness: str | None,
    data: bytes,
) -> None:
    header = json.dumps(
        [conversation_id, version, event_id.hex(), recorded_at_us, session_id, turn_id, harness],
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    expected = hashlib.sha256(prev + header + b"\n" + data).digest()
    assert (
        link(prev, conversation_id, version, event_id, recorded_at_us, session_id, turn_id,
             harness, data)
        == expected
    )  # fmt: skip
