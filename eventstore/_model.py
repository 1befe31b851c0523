"""Values the store API takes and returns."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Generic, Literal, TypeAlias, TypeVar
from uuid import UUID

import msgspec

from schemas import Message

__all__ = (
    "ANY",
    "EXISTS",
    "NO_CONVERSATION",
    "AppendResult",
    "ConversationState",
    "ConversationSummary",
    "Direction",
    "ExpectedVersion",
    "Page",
    "UsageTotals",
    "VerifyProblem",
    "VerifyReport",
)

T = TypeVar("T")

Direction: TypeAlias = Literal["asc", "desc"]


class ExpectedVersion(enum.Enum):
    """What ``append`` requires of the conversation's current version (or pass an ``int``)."""

    ANY = "any"
    """No check."""
    NO_CONVERSATION = "no_conversation"
    """The conversation must have no events yet (same as ``0``)."""
    EXISTS = "exists"
    """The conversation must have at least one event."""

    def __str__(self) -> str:
        return self.name


ANY = ExpectedVersion.ANY
NO_CONVERSATION = ExpectedVersion.NO_CONVERSATION
EXISTS = ExpectedVersion.EXISTS


class AppendResult(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """What one ``append`` stored: the conversation's new ``version`` and, per event, its
    global ``position`` and ``id``, in the order given."""

    conversation_id: str
    version: int
    positions: tuple[int, ...]
    ids: tuple[UUID, ...]

    @property
    def first_version(self) -> int:
        return self.version - len(self.ids) + 1


class UsageTotals(msgspec.Struct, frozen=True, kw_only=True):
    """Persisted usage summed over a conversation's ``messages`` events.

    ``calls`` counts events that carry a ``UsageRecord``; ``unpriced_calls`` those among them
    without ``cost_usd``. ``cost_usd`` sums the persisted costs exactly (a sum of claims, not a
    price computation); it covers ``calls - unpriced_calls`` calls, and is ``None`` when that
    is 0 (no call at all, or none priced): an unknown cost, never a made-up ``0.0``. A sum of
    some priced calls beside unpriced ones is a lower bound; ``unpriced_calls`` says so.
    """

    calls: int = 0
    unpriced_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    prompt_cached_tokens: int = 0
    prompt_cache_creation_tokens: int = 0
    completion_reasoning_tokens: int = 0
    cost_usd: float | None = None


class ConversationSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A conversation at a glance, maintained in the same transaction as every append."""

    conversation_id: str
    version: int
    created_at: datetime
    updated_at: datetime
    last_position: int
    title: str | None = None
    parent_id: str | None = None
    totals: UsageTotals = UsageTotals()
    messages: int = 0
    """How many ``messages`` events the conversation holds."""
    by_model: dict[str, UsageTotals] = msgspec.field(default_factory=dict)
    """``totals`` split by each call's ``UsageRecord.model``, models in code point order:
    the same sums, kept per model (a model's ``cost_usd`` is ``None`` unless one of its calls
    was priced)."""

    @property
    def event_count(self) -> int:
        return self.version


class ConversationState(msgspec.Struct, frozen=True, kw_only=True):
    """A conversation folded from its events by :meth:`Store.replay`."""

    summary: ConversationSummary
    messages: list[Message]
    metadata: dict[str, str]


class Page(msgspec.Struct, Generic[T], frozen=True):
    """One page of a keyset-paged listing. Pass ``next_cursor`` back for the next page; it is
    ``None`` on the last page."""

    items: list[T]
    next_cursor: str | None = None


class VerifyProblem(msgspec.Struct, frozen=True, kw_only=True):
    """One problem :meth:`Store.verify` found: the first of its conversation, or one of the
    whole store (``conversation_id`` ``None``: a damaged file, a deleted position, a digest
    that differs)."""

    problem: str
    conversation_id: str | None = None
    version: int | None = None


class VerifyReport(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of :meth:`Store.verify`. ``problem`` is ``None`` when everything checks out;
    otherwise it describes the first problem found, located by conversation and version, and
    ``problems`` lists the first problem of each conversation that has one and every
    store-wide problem, in the order found: at most 100 (``Store.verify``'s ``max_problems``),
    ``more_problems`` counting those past it."""

    events: int
    conversations: int
    problem: str | None = None
    conversation_id: str | None = None
    version: int | None = None
    digest: str | None = None
    """The store-wide digest ``"<head position>:<hex>"`` of the history verify read: every
    event's hash folded in position order. Record it where the store's owner cannot rewrite
    it; ``verify(expect=digest)`` later checks that history is still there, unchanged."""
    problems: tuple[VerifyProblem, ...] = ()
    more_problems: int = 0

    @property
    def ok(self) -> bool:
        return self.problem is None
