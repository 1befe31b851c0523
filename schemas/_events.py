"""Event bodies: the ``data`` of an event, a tagged union on the JSON field ``type``.

Tags are explicit strings so that renaming a class never changes the wire. A body whose tag
this version does not know decodes to :class:`UnknownEvent`, which keeps the raw bytes.
"""

from __future__ import annotations

from typing import Any, TypeAlias, get_args

import msgspec

from ._messages import Message
from ._usage import UsageRecord
from .types import ConversationId, CorrelationId, Millis

__all__ = (
    "EVENT_TYPES",
    "Body",
    "ConversationCreated",
    "Custom",
    "ErrorEvent",
    "Event",
    "Messages",
    "UnknownEvent",
)


class _Body(
    msgspec.Struct, frozen=True, omit_defaults=True, kw_only=True, tag_field="type", gc=False
):
    """Base of every event body."""


class ConversationCreated(_Body, tag="conversation_created", frozen=True):
    """Opens a conversation. ``parent_id`` names the conversation this one is a sub-session or
    fork of; its summary lists the parent (summaries do not yet roll spend up along it)."""

    title: str | None = None
    parent_id: ConversationId | None = None
    metadata: dict[str, str] = msgspec.field(default_factory=dict)


class Messages(_Body, tag="messages", frozen=True):
    """Messages added to the conversation, with the usage of the call that produced them.

    A legacy event without ``usage`` (or with ``"usage": null``) decodes with ``usage=None``.
    """

    messages: list[Message]
    # The provider's id, as given: no length or character rule (refusing it would make a real
    # conversation unstorable), and no regex on the hot path (one costs ~700 ns a decode).
    response_id: str | None = None
    usage: UsageRecord | None = None


class ErrorEvent(_Body, tag="error", frozen=True):
    """A failed call or step, kept in the history so replays and audits see it."""

    message: str
    error_type: str | None = None
    status_code: int | None = None
    retryable: bool | None = None
    #: How long the failed call ran before it failed, integer milliseconds (added in 0.2).
    duration_ms: Millis | None = None


class Custom(_Body, tag="custom", frozen=True):
    """A harness-defined event: ``event_type`` names it (namespaced, e.g. ``acme.plan``).

    ``payload`` is any JSON value, or, when a Struct is registered for ``event_type``
    (:func:`schemas.register_custom`), an instance of that Struct.
    """

    event_type: CorrelationId
    payload: Any = None


#: The union the decoder knows. New body types are added here, never removed.
Event: TypeAlias = ConversationCreated | Messages | ErrorEvent | Custom

#: Every known ``type`` tag, mapped to its class.
EVENT_TYPES: dict[str, type[Event]] = {cls.__struct_config__.tag: cls for cls in get_args(Event)}


class UnknownEvent:
    """A body whose ``type`` this version does not know: kept byte for byte.

    Old readers never crash on new writers' events, and nothing is lost: encoding an
    ``UnknownEvent`` returns ``raw`` unchanged. The store refuses to *append* one, since it
    cannot validate what it does not know.
    """

    __slots__ = ("raw", "type")

    def __init__(self, type: str, raw: bytes) -> None:
        self.type = type
        self.raw = raw

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnknownEvent) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(self.raw)

    def __repr__(self) -> str:
        return f"UnknownEvent(type={self.type!r}, raw={self.raw!r})"


#: Anything :func:`schemas.decode` returns.
Body: TypeAlias = Event | UnknownEvent
