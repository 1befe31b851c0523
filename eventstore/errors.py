"""Errors the store raises. The full hierarchy (see ``schemas._errors``)::

    ConvlogError
      SchemaError              bad input; names the field path (from ``schemas``)
      StoreError               the store refused or failed an operation
        WrongExpectedVersion   optimistic concurrency check failed; nothing written
        DuplicateEventId       an event id is already stored elsewhere; nothing written
        ConversationNotFound   the conversation has no events
        IntegrityError         verify() found a problem, or the database is not a convlog store
          StoreCorrupted       the database file is damaged; appends to it are refused
        StoreClosed            the store was used after ``aclose()``

Driver exceptions (``sqlite3.Error``) are translated at the backend boundary.
"""

from __future__ import annotations

from schemas import ConvlogError

__all__ = (
    "ConversationNotFound",
    "DuplicateEventId",
    "IntegrityError",
    "StoreClosed",
    "StoreCorrupted",
    "StoreError",
    "WrongExpectedVersion",
)


class StoreError(ConvlogError):
    """The store refused or failed an operation."""


class WrongExpectedVersion(StoreError):
    """The conversation's version is not what the caller expected. Nothing was written."""

    def __init__(self, conversation_id: str, expected: object, actual: int) -> None:
        self.conversation_id = conversation_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"conversation {conversation_id!r}: expected version {expected}, found {actual}"
        )

    def __reduce__(self) -> tuple[type[WrongExpectedVersion], tuple[str, object, int]]:
        return (type(self), (self.conversation_id, self.expected, self.actual))


class DuplicateEventId(StoreError):
    """An event id given to ``append`` is already stored somewhere else. Nothing was written."""


class ConversationNotFound(StoreError, LookupError):
    """The conversation has no events."""


class IntegrityError(StoreError):
    """The stored history is inconsistent (broken hash chain, gap, undecodable event).

    ``conversation_id`` and ``version`` locate the problem when it concerns one event.
    """

    def __init__(
        self, message: str, conversation_id: str | None = None, version: int | None = None
    ) -> None:
        super().__init__(message)
        self.conversation_id = conversation_id
        self.version = version


class StoreCorrupted(IntegrityError):
    """The database file is damaged: the engine found a page it cannot read, or the file is
    not a database at all. The message names the file, quotes what the engine said, and says
    how to recover (restore a backup; for SQLite, ``sqlite3 FILE .recover``). Once a store has
    seen this, it refuses every later append: writing on top of damage spreads it."""


class StoreClosed(StoreError):
    """The store is closed."""
