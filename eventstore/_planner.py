"""The append rules every backend shares, as pure functions: what to store, decided once.

A backend does the I/O; the planner decides. Inside its write transaction, a backend

1. reads what the planner needs: the summary fold of each conversation the requests name
   (:func:`conversations_of`), where each caller-given id is already stored
   (:func:`given_ids`), and the store's head position;
2. calls :func:`plan` with what it read and the commit time;
3. inserts :attr:`Plan.rows`, inserts the summaries of :attr:`Plan.created`, updates those of
   :attr:`Plan.updated`, commits, and hands each caller its entry of :attr:`Plan.outcomes`.

The rules live here and nowhere else: idempotent retries and id conflicts, expected versions,
the token totals' overflow, positions and versions, the hash chain, the summary fold and the
result of each append. :func:`rebuild` is the same for ``rebuild_summaries``. Nothing here does
I/O or knows an engine, so a second backend writes SQL, not rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from uuid import UUID

from schemas import Messages, SchemaError, StoredEvent
from schemas.types import MAX_SAFE_INT

from ._chain import GENESIS, link
from ._fold import MODEL_FIELDS, Fold, to_us
from ._model import ANY, EXISTS, NO_CONVERSATION, AppendResult, ExpectedVersion
from .backend import AppendRequest
from .errors import DuplicateEventId, IntegrityError, StoreError, WrongExpectedVersion

__all__ = (
    "MAX_TOTAL",
    "IdHit",
    "Plan",
    "Row",
    "conversations_of",
    "given_ids",
    "original_result",
    "plan",
    "rebuild",
    "summary_ahead",
    "total_overflow",
    "version_conflict",
)

#: Where an id is stored: (conversation id, version, position).
IdHit = tuple[str, int, int]
#: One event row, in this order: position, conversation_id, version, id (16 bytes), type,
#: recorded_at (Unix microseconds), session_id, turn_id, harness, data, hash.
Row = tuple[int, str, int, bytes, str, int, str | None, str | None, str | None, bytes, bytes]

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
_CREATED = "conversation_created"
_NO_CALLS = (0, 0, 0, 0, 0, 0, 0, 0)


class Plan:
    """What one transaction stores, and what each of its appends returns.

    ``outcomes`` has one entry per request, in order: its :class:`AppendResult`, or the
    exception that refused it alone (the others still commit). ``appends`` are the accepted
    requests in position order, each as ``(request, first version, first position, hashes)``
    (one hash per event), all recorded at ``recorded_at_us``; :meth:`rows` spells them out as
    rows. ``created`` and ``updated`` are the summaries to insert and to update, as folds (at
    most one per conversation). ``head`` is the store's new head position."""

    __slots__ = ("appends", "created", "head", "outcomes", "recorded_at_us", "updated")

    def __init__(self, recorded_at_us: int) -> None:
        self.outcomes: list[AppendResult | StoreError | SchemaError] = []
        self.appends: list[tuple[AppendRequest, int, int, list[bytes]]] = []
        self.created: list[Fold] = []
        self.updated: list[Fold] = []
        self.head = 0
        self.recorded_at_us = recorded_at_us

    def rows(self) -> Iterator[Row]:
        """Every event to insert, as a :data:`Row`, in position order. (A backend on a hot
        path may build its own bind parameters from :attr:`appends` instead, in one pass.)"""
        at = self.recorded_at_us
        for req, version, position, hashes in self.appends:
            cid, session_id, turn_id, harness = (
                req.conversation_id, req.session_id, req.turn_id, req.harness
            )  # fmt: skip
            for i, (event, hash) in enumerate(zip(req.events, hashes, strict=True)):
                yield (position + i, cid, version + i, event.key, event.type, at,
                       session_id, turn_id, harness, event.data, hash)  # fmt: skip


def conversations_of(requests: Sequence[AppendRequest]) -> set[str]:
    """The conversations whose summary folds :func:`plan` needs."""
    return {r.conversation_id for r in requests}


def given_ids(requests: Sequence[AppendRequest]) -> list[bytes]:
    """The caller-given ids whose stored place :func:`plan` needs (for idempotency)."""
    return [e.key for r in requests if r.ids_given for e in r.events]


def plan(
    requests: Sequence[AppendRequest],
    folds: dict[str, Fold],
    known: dict[bytes, IdHit],
    head: int,
    now_us: int,
) -> Plan:
    """Decide a group of appends committed together, in order.

    ``folds`` maps each conversation that has a summary to its fold (the head hash taken from
    its last event); ``known`` maps each given id already stored to its place; ``head`` is the
    highest stored position. Both dicts are updated as the plan goes, so a backend that keeps
    them as a cache across transactions holds the state after this one (and must drop them if
    the transaction does not commit).
    """
    out = Plan(now_us)
    outcomes, appends = out.outcomes, out.appends
    position = head
    fresh: dict[str, Fold] = {}  # conversations this plan creates
    touched: dict[str, Fold] = {}
    for req in requests:
        cid, events = req.conversation_id, req.events
        count = len(events)
        if req.ids_given:
            hits = [known.get(e.key) for e in events]
            if any(hits):
                outcomes.append(original_result(req, hits))
                continue
        fold = folds.get(cid)
        current = fold.version if fold is not None else 0
        # The checks, each called only when it could refuse: this runs once per append.
        refused: StoreError | SchemaError | None = None
        if req.expected is not ANY:
            refused = version_conflict(cid, req.expected, current)
        if refused is None and (count > 1 or events[0].type == _CREATED):
            refused = _misplaced_created(req, current)
        if refused is None:
            totals = 0 if fold is None else (
                fold.prompt_tokens
                + fold.completion_tokens
                + fold.prompt_cached_tokens
                + fold.prompt_cache_creation_tokens
                + fold.completion_reasoning_tokens
            )  # fmt: skip
            if totals > MAX_TOTAL - count * MAX_SAFE_INT:
                refused = total_overflow(fold, req)
        if refused is not None:
            outcomes.append(refused)
            continue
        if fold is None:
            fold = folds[cid] = fresh[cid] = Fold(cid)
        session_id, turn_id, harness = req.session_id, req.turn_id, req.harness
        prev = fold.head_hash or GENESIS
        first = position + 1
        if count == 1:  # the common append, without the loop's set-up
            event = events[0]
            position = first
            prev = link(
                prev, cid, current + 1, event.key, now_us, session_id, turn_id, harness, event.data
            )
            hashes = [prev]
            fold.add(event.body)
            if req.ids_given:
                known[event.key] = (cid, current + 1, position)
            positions: tuple[int, ...] = (position,)
            ids: tuple[UUID, ...] = (event.id,)
        else:
            hashes = []
            keep = hashes.append
            add = fold.add
            for version, event in enumerate(events, start=current + 1):
                position += 1
                id_bytes = event.key
                prev = link(
                    prev, cid, version, id_bytes, now_us, session_id, turn_id, harness, event.data
                )
                keep(prev)
                add(event.body)
                if req.ids_given:
                    known[id_bytes] = (cid, version, position)
            positions = tuple(range(first, position + 1))
            ids = tuple([e.id for e in events])
        appends.append((req, current + 1, first, hashes))
        # The head moves once per append: only its last event's place is kept.
        fold.advance(current + count, position, now_us, prev)
        touched[cid] = fold
        outcomes.append(
            AppendResult(conversation_id=cid, version=fold.version, positions=positions, ids=ids)
        )
    for cid, fold in touched.items():
        (out.created if cid in fresh else out.updated).append(fold)
    out.head = position
    return out


def original_result(
    req: AppendRequest, hits: list[IdHit | None]
) -> AppendResult | DuplicateEventId:
    """The outcome of an append whose given ids are partly or wholly stored already.

    ``hits`` holds, per event, where its id is stored or ``None``. If every id is stored in
    this conversation at consecutive versions in this order, the append is a retry and this
    is its original result; otherwise a conflict."""
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


def _misplaced_created(req: AppendRequest, current: int) -> SchemaError | None:
    """A ``conversation_created`` event opens its conversation: it is refused anywhere but at
    version 1, so title, parent and metadata are set once and a summary never changes parent."""
    for i, event in enumerate(req.events):
        if event.type == _CREATED and current + i != 0:
            return SchemaError(
                f"$.events[{i}]",
                f"conversation_created must be the conversation's first event; it would be "
                f"version {current + i + 1} of {req.conversation_id!r}",
            )
    return None


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


# -- rebuilding summaries -----------------------------------------------------------------

#: What a summary claims, each as (the name a report gives, the fold's attribute).
_CLAIMS = (
    *((name, name) for name in ("version", "last_position", "updated_at_us", "calls", *_TOTALS)),
    ("messages", "message_events"),
)


def summary_ahead(stored: Fold, events: Fold) -> str | None:
    """What a stored summary claims beyond the fold of the conversation's events, or ``None``.

    A summary is derived data: one that is behind, or garbled, is mended by rebuilding it. One
    that claims *more* than the events hold (a later version, position or time, more calls,
    messages, tokens or cost, in all or for one model) is evidence that events were deleted,
    and rebuilding it from what is left would erase that evidence."""
    for name, attribute in _CLAIMS:
        if getattr(stored, attribute) > getattr(events, attribute):
            return f"{name} {getattr(stored, attribute)} > {getattr(events, attribute)}"
    if stored.cost_usd > events.cost_usd:
        return f"cost_usd {stored.cost_usd} > {events.cost_usd}"
    held_by_model = events.tallies()
    for model, claimed in stored.tallies().items():
        held = held_by_model.get(model) or _NO_CALLS
        for name, claim, have in zip(MODEL_FIELDS, claimed, held, strict=True):
            if claim > have:
                return f"by_model[{model!r}].{name} {claim} > {have}"
    return None


def rebuild(
    events: Iterable[tuple[StoredEvent, bytes]],
    summaries: Iterable[tuple[object, Fold | IntegrityError]] | None,
) -> Iterator[Fold]:
    """The summary of every conversation, folded from its ``events`` (each with its stored
    hash) ordered by conversation id, then version; checked against the stored ``summaries``
    (each with its key), ordered by conversation id in the same (code point) order, unless
    they are ``None`` (a forced rebuild: nothing is checked).

    A stored row that is altered beyond reading is simply replaced: that is what a rebuild
    mends.

    :raises IntegrityError: where the store shows a deletion that a rebuild would launder: a
        gap in a conversation's versions, a stored summary ahead of its events, or a summary
        whose conversation has no events. Nothing is yielded past it; the caller rolls back.
    """
    stored = None if summaries is None else _Merge(summaries)
    fold: Fold | None = None
    for event, hash in events:
        cid = event.conversation_id
        if fold is None or fold.conversation_id != cid:
            if fold is not None:
                if stored is not None:
                    stored.check(fold)
                yield fold
            fold = Fold(cid)
        if stored is not None and event.version != fold.version + 1:
            raise IntegrityError(
                f"version gap in {cid!r}: expected {fold.version + 1}, found {event.version}; "
                "events were deleted, and a rebuild would hide it",
                cid,
                fold.version + 1,
            )
        fold.apply(
            event.data,
            version=event.version,
            position=event.position,
            recorded_at_us=to_us(event.recorded_at),
            hash=hash,
        )
    if fold is not None:
        if stored is not None:
            stored.check(fold)
        yield fold
    if stored is not None:
        stored.check(None)


class _Merge:
    """The stored summaries, consumed in step with the folds of the events."""

    def __init__(self, summaries: Iterable[tuple[object, Fold | IntegrityError]]) -> None:
        self._rows = iter(summaries)
        self._next = next(self._rows, None)

    def check(self, fold: Fold | None) -> None:
        """Compare ``fold``'s stored summary (``None``: the end); every readable summary that
        sorts before it has no events."""
        cid = None if fold is None else fold.conversation_id
        while self._next is not None:
            key, stored = self._next
            if isinstance(stored, IntegrityError) or type(key) is not str:
                self._next = next(self._rows, None)  # garbled: the rebuild replaces it
                continue
            if cid is not None and key > cid:
                return
            self._next = next(self._rows, None)
            if key != cid:
                raise IntegrityError(
                    f"summary of {key!r} has no events: they were deleted, and a rebuild "
                    "would hide it",
                    key,
                )
            assert fold is not None
            if ahead := summary_ahead(stored, fold):
                raise IntegrityError(
                    f"summary of {key!r} is ahead of its events ({ahead}): events were "
                    "deleted, and a rebuild would hide it",
                    key,
                )
            return
