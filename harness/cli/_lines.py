"""One event as JSON: the line ``export`` writes and ``import`` reads, and the item of
``events --json`` and ``tail --json``.

The whole envelope, then ``data``: the body's stored JSON embedded as it is (``msgspec.Raw``,
never decoded and re-encoded), so a line carries the exact bytes the store holds and ``import``
hands them back to ``append_raw`` unchanged. Stored JSON that contains a line break (possible
only through ``append_raw`` of pretty-printed JSON) cannot sit verbatim on one line: ``data``
is then a JSON *string* holding that JSON text. A body is always an object, so the two never
mix up.

Imported by the commands that use it, not at ``convlog --help`` (it needs msgspec).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from schemas import StoredEvent

__all__ = ("EventLine", "LineError", "decode_line", "encode_line", "line_of", "stored_json")


class EventLine(msgspec.Struct, kw_only=True):
    """One event of an export file. ``recorded_at`` may be absent (``export
    --no-recorded-at``): the store assigns its own on import either way. Fields a later
    version adds are ignored, as the schemas ignore unknown fields."""

    id: UUID
    conversation_id: str
    version: int
    position: int
    recorded_at: datetime | None = None
    session_id: str | None
    turn_id: str | None
    harness: str | None
    data: msgspec.Raw


class _Timeless(msgspec.Struct, kw_only=True):
    """:class:`EventLine` without ``recorded_at``, for round trips compared byte for byte."""

    id: UUID
    conversation_id: str
    version: int
    position: int
    session_id: str | None
    turn_id: str | None
    harness: str | None
    data: msgspec.Raw


class LineError(ValueError):
    """A line that is not an event line; the message says what is wrong with it."""


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(EventLine)


def line_of(event: StoredEvent, *, recorded_at: bool = True) -> EventLine | _Timeless:
    """The JSON-ready form of ``event``: its envelope and its stored JSON."""
    raw = event.raw
    data = msgspec.Raw(
        raw if b"\n" not in raw and b"\r" not in raw else _encoder.encode(raw.decode())
    )
    if not recorded_at:
        return _Timeless(
            id=event.id,
            conversation_id=event.conversation_id,
            version=event.version,
            position=event.position,
            session_id=event.session_id,
            turn_id=event.turn_id,
            harness=event.harness,
            data=data,
        )
    return EventLine(
        id=event.id,
        conversation_id=event.conversation_id,
        version=event.version,
        position=event.position,
        recorded_at=event.recorded_at,
        session_id=event.session_id,
        turn_id=event.turn_id,
        harness=event.harness,
        data=data,
    )


def encode_line(event: StoredEvent, *, recorded_at: bool = True) -> bytes:
    """``event`` as one line of JSON, newline included."""
    return _encoder.encode(line_of(event, recorded_at=recorded_at)) + b"\n"


def decode_line(line: bytes) -> EventLine:
    """An export line, checked for shape (the body is checked by the store on import).

    :raises LineError: naming what is wrong.
    """
    try:
        found = _decoder.decode(line)
    except msgspec.ValidationError as exc:
        raise LineError(str(exc)) from None
    except msgspec.DecodeError as exc:
        raise LineError(f"not JSON: {exc}") from None
    if found.version < 1:
        raise LineError(f"version must be >= 1, got {found.version}")
    return found


def stored_json(line: EventLine) -> bytes:
    """The body's stored JSON a line carries: ``data`` itself, or the text of a string
    ``data`` (see the module docstring)."""
    raw = bytes(line.data)
    if raw[:1] != b'"':
        return raw
    try:
        text = msgspec.json.decode(raw, type=str)
    except msgspec.DecodeError as exc:
        raise LineError(f"data: {exc}") from None
    return text.encode()
