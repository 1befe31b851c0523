"""Stored event rows as :class:`~schemas.StoredEvent`: the one place rows become events.

A row is ``(position, version, id, recorded_at, session_id, turn_id, harness, data)`` as a SQL
backend stores it: ``id`` the 16 bytes of the UUID, ``recorded_at`` integer Unix microseconds,
``data`` the JSON bytes exactly as appended. Every row is checked to hold what the writer
stored, since a statement behind the store's back can retype a column (SQLite lets it), and a
row that does not is an :class:`~eventstore.errors.IntegrityError` locating it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from schemas import SchemaError, StoredEvent, decode

from ._fold import from_us
from .errors import IntegrityError

__all__ = ("chain_entries", "events_from_rows", "mistyped")


def _undecodable(exc: SchemaError, position: int, cid: str, version: int) -> IntegrityError:
    return IntegrityError(
        f"stored event at position {position} ({cid!r} version {version}) does not decode: {exc}",
        cid,
        version,
    )


_UUID_LIST = list[UUID]


def _uuids(rows: list[Any], cids: Sequence[str]) -> list[UUID]:
    """The ids of ``rows``  as ``UUID``s, in one call into
    msgspec (0.1 us an id against 1.4 us for ``UUID(bytes=...)`` one at a time)."""
    raw = [row[2] for row in rows]
    try:
        return msgspec.convert(raw, _UUID_LIST)
    except msgspec.ValidationError:
        # Not 16 bytes: a file edited behind the store's back (the table CHECKs the length).
        for row, cid, id_bytes in zip(rows, cids, raw, strict=True):
            if type(id_bytes) is not bytes or len(id_bytes) != 16:
                raise mistyped(row, cid) from None
        raise  # pragma: no cover - msgspec refused 16-byte blobs


# What the writer stores in each column of _PAGE_COLS: the type, and whether NULL may stand.
_COLUMN_TYPES: tuple[tuple[str, type, bool], ...] = (
    ("position", int, False),
    ("version", int, False),
    ("id", bytes, False),
    ("recorded_at", int, False),
    ("session_id", str, True),
    ("turn_id", str, True),
    ("harness", str, True),
    ("data", bytes, False),
)


def _stored_as_written(name: str, kind: type, nullable: bool, value: object) -> bool:
    if value is None:
        return nullable
    if name == "id":
        return type(value) is bytes and len(value) == 16
    return type(value) is kind


def mistyped(row: Sequence[Any], cid: Any) -> IntegrityError:
    """The error for a row whose columns do not hold what the writer stores (an edit behind
    the store's back: SQLite keeps whatever type a statement gives a column)."""
    wrong = [
        f"{name} holds {type(value).__name__} {value!r:.40}"
        for (name, kind, nullable), value in zip(_COLUMN_TYPES, row, strict=False)
        if not _stored_as_written(name, kind, nullable, value)
    ]
    if type(cid) is not str:
        wrong.append(f"conversation_id holds {type(cid).__name__} {cid!r:.40}")
    version = row[1] if type(row[1]) is int else None
    return IntegrityError(
        f"stored event at position {row[0]} ({cid!r} version {row[1]!r}) was altered: "
        + "; ".join(wrong or ["a column holds a value out of range"]),
        cid if type(cid) is str else None,
        version,
    )


def events_from_rows(rows: list[Any], cids: Sequence[str]) -> list[StoredEvent]:
    """Rows (see the module docstring) as ``StoredEvent``s, the per-row work hoisted out of
    the loop; ``cids`` gives each row's conversation. The one place stored rows become events.

    :raises IntegrityError: for the first row that does not hold what the writer stored.
    """
    ids = _uuids(rows, cids)
    moments: dict[int, datetime] = {}
    out: list[StoredEvent] = []
    append = out.append
    for row, id, cid in zip(rows, ids, cids, strict=True):
        # A full slice of an 8-tuple is the tuple itself: no copy on the read() path.
        position, version, _, recorded_at, session_id, turn_id, harness, data = row[:8]
        # Columns a statement behind the store's back retyped (SQLite lets it), where they
        # would otherwise pass for an event: TEXT data decodes as well as a BLOB would, a REAL
        # time converts, a BLOB session id hashes like its text. The id fails in _uuids.
        if (
            type(data) is not bytes
            or type(version) is not int
            or type(recorded_at) is not int
            or type(cid) is not str
            or (session_id is not None and type(session_id) is not str)
            or (turn_id is not None and type(turn_id) is not str)
            or (harness is not None and type(harness) is not str)
        ):
            raise mistyped(row, cid)
        try:
            body = decode(data, path="$.data")
        except SchemaError as exc:
            raise _undecodable(exc, position, cid, version) from None
        moment = moments.get(recorded_at)
        if moment is None:
            try:
                moment = moments[recorded_at] = from_us(recorded_at)
            except OverflowError:  # an int past datetime's range (its type was checked above)
                raise mistyped(row, cid) from None
        append(
            StoredEvent(
                id=id, conversation_id=cid, version=version, position=position,
                recorded_at=moment, data=body, raw=data, session_id=session_id,
                turn_id=turn_id, harness=harness,
            )
        )  # fmt: skip
    return out


def chain_entries(
    rows: Sequence[Sequence[Any]],
) -> list[tuple[StoredEvent | IntegrityError, bytes]]:
    """Rows of the event columns, then the conversation id, the hash and the type column (what
    ``chain_page`` reads for verify), each as its event and stored hash: an event that does not
    decode, or whose type column disagrees with its data, comes as the IntegrityError, so
    verify can report it in place."""
    out: list[tuple[StoredEvent | IntegrityError, bytes]] = []
    for row in rows:
        try:
            event = events_from_rows([row], (row[8],))[0]
        except IntegrityError as exc:
            out.append((exc, row[9]))
            continue
        if event.type != row[10]:  # the column list_events filters on must match the data
            problem = IntegrityError(
                f"type column says {row[10]!r} but the data is {event.type!r}",
                event.conversation_id,
                event.version,
            )
            out.append((problem, row[9]))
        else:
            out.append((event, row[9]))
    return out
