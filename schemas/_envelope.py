"""``StoredEvent``: an event body in its envelope, as a store returns it."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from ._events import Body

__all__ = ("StoredEvent",)


class StoredEvent(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One persisted event.

    ``version`` is 1-based and gapless within the conversation; ``position`` is global and
    strictly increasing in commit order; ``recorded_at`` is the UTC commit time the store
    assigned. ``raw`` is the stored JSON of ``data`` byte for byte, exactly as validated on
    append.
    """

    id: UUID
    conversation_id: str
    version: int
    position: int
    recorded_at: datetime
    data: Body
    raw: bytes
    session_id: str | None = None
    turn_id: str | None = None
    harness: str | None = None

    @property
    def type(self) -> str:
        """The body's ``type`` tag (also for an :class:`UnknownEvent`)."""
        data = self.data
        if isinstance(data, msgspec.Struct):
            return data.__struct_config__.tag  # type: ignore[return-value]
        return data.type
