"""The interface every storage backend implements, and the values that cross it.

A backend is one module (``sqlite.py``, later ``postgres.py``). It stores and orders events and
maintains summaries with :class:`~eventstore._fold.Fold`, deciding each append with the shared
rules below (:func:`version_conflict`, :func:`original_result`); everything else (input validation,
encoding, cursors, subscriptions, replay, verification) lives once in the ``Store`` facade.
The conformance suite in ``tests/conformance/`` is what a backend must pass, unchanged.
"""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID

import msgspec

from schemas import Body, Messages, SchemaError, StoredEvent
from schemas.types import MAX_SAFE_INT

from ._fold import Fold
from ._model import (
    ANY,
    EXISTS,
    NO_CONVERSATION,
    AppendResult,
    ConversationSummary,
    Direction,
    ExpectedVersion,
)
from .errors import DuplicateEventId, IntegrityError, WrongExpectedVersion

__all__ = (
    "MAX_TOTAL",
    "AppendRequest",
    "Backend",
    "PreparedEvent",
    "original_result",
    "total_overflow",
    "version_conflict",
)


class PreparedEvent(msgspec.Struct, frozen=True, gc=False):
    """One validated event ready to store: ``data`` are the exact bytes to persist, ``body``
    their decoded form (for the summary fold)."""

    id: UUID
    type: str
    data: bytes
    body: Body


class AppendRequest(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One validated ``append`` call. ``ids_given`` says the caller chose the ids, which makes
    the call idempotent on them."""

    conversation_id: str
    expected: ExpectedVersion | int
    events: tuple[PreparedEvent, ...]
    ids_given: bool
    session_id: str | None = None
    turn_id: str | None = None
    harness: str | None = None


class Backend(Protocol):
    """What the ``Store`` needs from a storage engine.

    Every method may raise :class:`~eventstore.errors.StoreError` subclasses; driver exceptions
    never escape. Reads return at most ``limit`` items and are each one consistent snapshot.
    """

    async def append(self, request: AppendRequest) -> AppendResult:
        """Store all of ``request.events`` atomically, or nothing.

        :raises WrongExpectedVersion: if the version check fails.
        :raises DuplicateEventId: if a given id is stored elsewhere or repeated.
        """
        ...

    async def read_page(
        self,
        conversation_id: str,
        lo: int,
        hi: int | None,
        direction: Direction,
        limit: int,
        types: tuple[str, ...] | None = None,
    ) -> list[StoredEvent]:
        """Events with ``lo <= version <= hi`` (``hi=None``: no upper bound), optionally only
        of the given ``types``, in ``direction`` order."""
        ...

    async def read_all_page(self, from_position: int, limit: int) -> list[StoredEvent]:
        """Events with ``position >= from_position`` in position order."""
        ...

    async def conversations_page(
        self, after_position: int | None, direction: Direction, limit: int
    ) -> list[ConversationSummary]:
        """Summaries ordered by ``last_position`` (most recent activity last for ``asc``),
        strictly after ``after_position`` in that direction."""
        ...

    async def get_summary(self, conversation_id: str) -> ConversationSummary | None: ...

    async def summaries_page(
        self, after: Any, limit: int
    ) -> list[tuple[Any, Fold | IntegrityError]]:
        """Summaries as the folds they store (head hash included), ordered by their stored
        ``conversation_id`` key, strictly after the key ``after``; each with that key, to page
        on. A row that does not hold what the writer stores comes as the
        :class:`IntegrityError` describing it. Used by ``verify``."""
        ...

    async def head_position(self) -> int:
        """The highest committed position (0 for an empty store)."""
        ...

    async def first_missing_position(self, head: int) -> int | None:
        """The lowest of positions 1..``head`` that holds no event, for a backend whose
        committed positions have no gaps (SQLite numbers events in commit order under its
        write lock), so a missing one was deleted; ``None`` if there is none, or if the
        backend's positions may have gaps (a sequence that skips rolled-back numbers)."""
        ...

    async def chain_page(
        self, after: tuple[str, int] | None, max_position: int, limit: int
    ) -> list[tuple[StoredEvent | IntegrityError, bytes]]:
        """Events with ``position <= max_position`` and their stored hash, ordered by
        ``(conversation_id, version)``, strictly after ``after``. An event that does not decode,
        or whose stored type disagrees with its data, comes as the :class:`IntegrityError`
        describing it. Used by ``verify``."""
        ...

    async def rebuild_summaries(self) -> int:
        """Recompute every summary from the events with the shared fold, in one transaction.
        Returns the number of conversations."""
        ...

    @property
    def commits(self) -> int:
        """A count that moves whenever an append through this store commits. A subscriber
        reads it before each read and hands it to :meth:`wait_for_commit`."""
        ...

    async def wait_for_commit(self, seen: int, seconds: float) -> None:
        """Return once :attr:`commits` has moved past ``seen`` (at once if it already has),
        when the store closes, or after ``seconds`` (other processes' commits are found by
        polling)."""
        ...

    async def aclose(self) -> None:
        """Finish queued appends, then release every resource."""
        ...


# -- the append rules every backend applies, inside its write transaction ------------------


def original_result(
    req: AppendRequest, hits: list[tuple[str, int, int] | None]
) -> AppendResult | DuplicateEventId:
    """The outcome of an append whose given ids are partly or wholly stored already.

    ``hits`` holds, per event, where its id is stored (conversation, version, position) or
    ``None``. If every id is stored in this conversation at consecutive versions in this
    order, the append is a retry and this is its original result; otherwise a conflict."""
    first = hits[0]
    ok = first is not None and all(
        hit is not None and hit[0] == req.conversation_id and hit[1] == first[1] + i
        for i, hit in enumerate(hits)
    )
    if ok:
        assert first is not None
        return AppendResult(
            conversation_id=req.conversation_id,
            version=first[1] + len(hits) - 1,
            positions=tuple(hit[2] for hit in hits if hit is not None),
            ids=tuple(e.id for e in req.events),
        )
    for event, hit in zip(req.events, hits, strict=True):
        if hit is not None:
            return DuplicateEventId(
                f"event id {event.id} is already stored in conversation {hit[0]!r} at version "
                f"{hit[1]}; an idempotent retry must repeat the same events in the same place"
            )
    missing = next(e.id for e, hit in zip(req.events, hits, strict=True) if hit is None)
    return DuplicateEventId(f"event id {missing} is not stored but others of this append are")


#: The largest token total a summary keeps: a signed 64-bit integer (SQLite INTEGER,
#: PostgreSQL bigint).
MAX_TOTAL = (1 << 63) - 1
_TOTALS = (
    "prompt_tokens",
    "completion_tokens",
    "prompt_cached_tokens",
    "prompt_cache_creation_tokens",
    "completion_reasoning_tokens",
)


def total_overflow(fold: Fold | None, req: AppendRequest) -> SchemaError | None:
    """The error an append must fail with when it would carry one of the conversation's token
    totals (``fold``, ``None`` for a new conversation) past :data:`MAX_TOTAL`, or ``None``.

    Each count is at most ``MAX_SAFE_INT`` (2**53 - 1), so a conversation holds about a
    thousand calls of that size before this can happen; until then one sum decides."""
    room = MAX_TOTAL - len(req.events) * MAX_SAFE_INT
    if fold is None:
        if room >= 0:
            return None
        totals = [0] * len(_TOTALS)
    else:
        # Written out: this runs for every append, and getattr by name costs three times more.
        if (
            fold.prompt_tokens
            + fold.completion_tokens
            + fold.prompt_cached_tokens
            + fold.prompt_cache_creation_tokens
            + fold.completion_reasoning_tokens
            <= room
        ):
            return None
        totals = [getattr(fold, name) for name in _TOTALS]
    for i, event in enumerate(req.events):
        body = event.body
        if type(body) is not Messages or body.usage is None:
            continue
        for j, name in enumerate(_TOTALS):
            totals[j] += getattr(body.usage, name) or 0
            if totals[j] > MAX_TOTAL:
                return SchemaError(
                    f"$.events[{i}].usage.{name}",
                    f"the conversation's {name} total would exceed {MAX_TOTAL}, the largest "
                    "a summary keeps",
                )
    return None


def version_conflict(
    cid: str, expected: ExpectedVersion | int, current: int
) -> WrongExpectedVersion | None:
    """The error an append expecting ``expected`` must fail with when the conversation is at
    version ``current`` (0: no events), or ``None`` if it may go ahead."""
    if expected is ANY:
        return None
    if expected is NO_CONVERSATION:
        ok = current == 0
    elif expected is EXISTS:
        ok = current > 0
    else:
        ok = current == expected
    return None if ok else WrongExpectedVersion(cid, expected, current)
