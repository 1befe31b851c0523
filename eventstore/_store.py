"""The ``Store``: the one public face of every backend.

Everything a harness hands in is validated here, before it reaches a backend: envelope fields,
event ids, and every body (encoded and re-decoded by the schema codec). A backend only ever sees
an :class:`~eventstore.backend.AppendRequest` that is valid in shape; it decides order and
conflicts. Paging, subscriptions, replay and verification are written once, here, for all
backends.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable, Sequence
from types import TracebackType
from typing import Any, TypeVar
from uuid import UUID

from schemas import (
    EVENT_TYPES,
    Body,
    SchemaError,
    StoredEvent,
    UnknownEvent,
    check_new,
    decode,
    encode_checked,
)
from schemas.types import check_id, check_new_id, check_utf8

from . import _backends
from ._cursor import decode_cursor, encode_cursor
from ._fold import Fold, to_us
from ._ids import uuid7s
from ._model import (
    ANY,
    AppendResult,
    ConversationState,
    ConversationSummary,
    Direction,
    ExpectedVersion,
    Page,
    VerifyReport,
)
from ._verify import MAX_PROBLEMS, parse_digest, verify
from .backend import AppendRequest, Backend, PreparedEvent
from .errors import ConversationNotFound, IntegrityError, StoreClosed

__all__ = ("Store", "connect")

T = TypeVar("T")

MAX_LIMIT = 1000
MAX_INT = (1 << 63) - 1
_TAGS: dict[type, str] = {cls: tag for tag, cls in EVENT_TYPES.items()}
_READ_PAGE = 1000
_CHECKED_IDS = 4096  # ids an open store remembers as checked, at most


class Store:
    """An open event store. Use ``async with eventstore.connect(url) as store``."""

    def __init__(self, backend: Backend, *, poll_interval: float = 0.05) -> None:
        self._backend = backend
        self._poll_interval = poll_interval
        self._closing: asyncio.Task[None] | None = None  # set once: the store is closed
        self._checked_ids: dict[str, object] = {}  # id -> the check_new_id that passed it

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Finish every queued append, then close. Idempotent.

        The closing runs as a task of its own: cancelling a caller (a shutdown timeout) does
        not stop it halfway, with connections and threads left open, and every call returns
        once it has ended."""
        if self._closing is None:
            self._closing = asyncio.create_task(self._backend.aclose(), name="convlog-aclose")
        await asyncio.shield(self._closing)

    # -- writing -------------------------------------------------------------------------

    async def append(
        self,
        conversation_id: str,
        events: Sequence[Body],
        *,
        expected_version: ExpectedVersion | int = ANY,
        event_ids: Sequence[UUID | str] | None = None,
        session_id: str | None = None,
        turn_id: str | None = None,
        harness: str | None = None,
    ) -> AppendResult:
        """Append ``events`` to the conversation, atomically: all of them or none.

        ``expected_version`` is ``ANY``, ``NO_CONVERSATION`` (same as ``0``), ``EXISTS`` or the
        exact current version. ``event_ids`` (one per event) make the call idempotent: if they
        are already stored in this conversation, in this order, the original result is returned
        and nothing is written. Without them the store makes UUIDv7 ids.

        :raises SchemaError: if any argument or event is invalid, or ``event_ids`` repeats an id
            (nothing is written).
        :raises WrongExpectedVersion: if the version check fails (nothing is written).
        :raises DuplicateEventId: if an id is stored elsewhere, or only some of them are stored.
        """
        limit = self._backend.max_event_bytes
        prepared = []
        for i, body in enumerate(_as_list(events, "events")):
            tag = _TAGS.get(type(body))
            if tag is None:
                if isinstance(body, UnknownEvent):
                    raise SchemaError(f"$.events[{i}].type", f"unknown event type {body.type!r}")
                raise SchemaError(
                    f"$.events[{i}]",
                    f"expected an event body ({', '.join(c.__name__ for c in _TAGS)}), "
                    f"got {type(body).__name__}; use append_raw for JSON",
                )
            try:
                # The body as it reads back from its bytes is what summaries fold, as replay
                # and verify fold what they read.
                data, body = encode_checked(body)
            except SchemaError as exc:
                raise SchemaError(f"$.events[{i}]{exc.path[1:]}", exc.problem) from None
            if len(data) > limit:
                self._check_size(data, i)
            prepared.append((data, body, tag))
        # The backend's awaitable, awaited here: one coroutine per append, not one per layer.
        return await self._backend.append(
            self._request(
                conversation_id, prepared, expected_version, event_ids, session_id, turn_id,
                harness,
            )
        )  # fmt: skip

    async def append_raw(
        self,
        conversation_id: str,
        events: Sequence[bytes | str],
        *,
        expected_version: ExpectedVersion | int = ANY,
        event_ids: Sequence[UUID | str] | None = None,
        session_id: str | None = None,
        turn_id: str | None = None,
        harness: str | None = None,
    ) -> AppendResult:
        """Like :meth:`append`, for JSON bodies from harnesses in other languages. Each body is
        validated against the schema first and stored byte for byte as given."""
        prepared = []
        for i, raw in enumerate(_as_list(events, "events")):
            if isinstance(raw, str):
                try:
                    raw = raw.encode()
                except UnicodeEncodeError as exc:
                    raise SchemaError(
                        f"$.events[{i}]", f"not encodable as UTF-8 at index {exc.start}"
                    ) from None
            if not isinstance(raw, bytes | bytearray | memoryview):
                raise SchemaError(
                    f"$.events[{i}]", f"expected JSON bytes, got {type(raw).__name__}"
                )
            self._check_size(raw, i)
            data = bytes(raw)
            body = decode(data, path=f"$.events[{i}]")
            if isinstance(body, UnknownEvent):
                raise SchemaError(f"$.events[{i}].type", f"unknown event type {body.type!r}")
            check_new(body, f"$.events[{i}]")  # what encode refuses though decode reads it
            prepared.append((data, body, body.__struct_config__.tag))
        return await self._backend.append(
            self._request(
                conversation_id, prepared, expected_version, event_ids, session_id, turn_id,
                harness,
            )
        )  # fmt: skip

    def _request(
        self,
        conversation_id: str,
        prepared: Sequence[tuple[bytes, Body, Any]],
        expected_version: ExpectedVersion | int,
        event_ids: Sequence[UUID | str] | None,
        session_id: str | None,
        turn_id: str | None,
        harness: str | None,
    ) -> AppendRequest:
        """The request of one append, its arguments checked (its bodies already are)."""
        if self._closing is not None:
            raise StoreClosed("the store is closed")
        # Writes take the stricter rule; reads take check_id, so ids stored before it still
        # read. An id checked once is remembered, with the check that passed it: the check is
        # a pure function of the string (and a rule that changes is applied again).
        checked = self._checked_ids
        if type(conversation_id) is not str or checked.get(conversation_id) is not check_new_id:
            check_new_id(conversation_id, "$.conversation_id")
            self._remember_id(conversation_id)
        if session_id is not None or turn_id is not None or harness is not None:
            for value, path in (
                (session_id, "$.session_id"),
                (turn_id, "$.turn_id"),
                (harness, "$.harness"),
            ):
                if value is not None and (
                    type(value) is not str or checked.get(value) is not check_new_id
                ):
                    check_new_id(value, path)
                    self._remember_id(value)
        if expected_version is not ANY:
            _check_expected(expected_version)
        if not prepared:
            raise SchemaError("$.events", "expected at least one event")
        ids = uuid7s(len(prepared)) if event_ids is None else _event_ids(event_ids, len(prepared))
        if len(prepared) == 1:
            (data, body, tag), id = prepared[0], ids[0]
            events: tuple[PreparedEvent, ...] = (
                PreparedEvent(id, id.int.to_bytes(16), tag, data, body),
            )
        else:
            events = tuple(
                [
                    PreparedEvent(id, id.int.to_bytes(16), tag, data, body)
                    for id, (data, body, tag) in zip(ids, prepared, strict=True)
                ]
            )
        return AppendRequest(
            conversation_id=conversation_id,
            expected=expected_version,
            events=events,
            ids_given=event_ids is not None,
            session_id=session_id,
            turn_id=turn_id,
            harness=harness,
        )

    def _remember_id(self, value: str) -> None:
        checked = self._checked_ids
        if len(checked) >= _CHECKED_IDS:
            checked.clear()
        checked[value] = check_new_id

    # -- reading -------------------------------------------------------------------------

    async def read(
        self,
        conversation_id: str,
        *,
        from_version: int = 1,
        to_version: int | None = None,
        direction: Direction = "asc",
    ) -> AsyncIterator[StoredEvent]:
        """Yield the conversation's events with ``from_version <= version <= to_version`` in
        ``direction`` order, a page at a time (memory stays flat). Yields nothing for an
        unknown conversation."""
        self._check_open()
        check_id(conversation_id, "$.conversation_id")
        _check_direction(direction)
        lo, hi = _int(from_version, "$.from_version", 0), to_version
        if hi is not None:
            hi = _int(hi, "$.to_version", 0)
        while True:
            # One event more than a page tells whether anything follows, so a conversation
            # that ends with a full page costs no extra round trip to the reader thread.
            try:
                page = await self._backend.read_page(
                    conversation_id, lo, hi, direction, _READ_PAGE + 1
                )
            except IntegrityError:
                # Perhaps the event past the page: yield the page's own events before the error.
                page = await self._backend.read_page(conversation_id, lo, hi, direction, _READ_PAGE)
                more = len(page) == _READ_PAGE
            else:
                more = len(page) > _READ_PAGE
                del page[_READ_PAGE:]
            for event in page:
                yield event
            if not more:
                return
            if direction == "asc":
                lo = page[-1].version + 1
            else:
                hi = page[-1].version - 1

    async def list_events(
        self,
        conversation_id: str,
        *,
        types: Sequence[str] | None = None,
        limit: int = 50,
        cursor: str | None = None,
        direction: Direction = "asc",
    ) -> Page[StoredEvent]:
        """One page of the conversation's events, optionally only the given ``types``.
        ``limit`` is clamped to 1..1000; pass ``next_cursor`` back for the next page."""
        self._check_open()
        check_id(conversation_id, "$.conversation_id")
        _check_direction(direction)
        type_filter = None
        if types is not None:
            wanted = _as_list(types, "types")
            for i, name in enumerate(wanted):
                if type(name) is not str:
                    raise SchemaError(f"$.types[{i}]", f"expected str, got {name!r:.60}")
                check_utf8(name, f"$.types[{i}]")
            type_filter = tuple(sorted(set(wanted)))
        limit = _clamp(limit)
        query = ["events", conversation_id, direction, list(type_filter or ())]
        lo, hi = 1, None
        if cursor is not None:
            key = decode_cursor(cursor, query)
            lo, hi = (key + 1, None) if direction == "asc" else (1, key - 1)
        items = await self._backend.read_page(
            conversation_id, lo, hi, direction, limit + 1, type_filter
        )
        return _page(items, limit, query, lambda event: event.version)

    async def list_conversations(
        self,
        *,
        limit: int = 50,
        cursor: str | None = None,
        direction: Direction = "desc",
        parent_id: str | None = None,
    ) -> Page[ConversationSummary]:
        """One page of conversation summaries, most recently active first (``desc``);
        with ``parent_id``, only the children of that conversation (those whose
        ``conversation_created`` names it as parent), to roll a sub-agent's spend up."""
        self._check_open()
        _check_direction(direction)
        if parent_id is not None:
            check_id(parent_id, "$.parent_id")
        limit = _clamp(limit)
        query = ["conversations", direction, parent_id]
        after = None if cursor is None else decode_cursor(cursor, query)
        items = await self._backend.conversations_page(after, direction, limit + 1, parent_id)
        return _page(items, limit, query, lambda summary: summary.last_position)

    async def get_conversation(self, conversation_id: str) -> ConversationSummary:
        """The conversation's summary.

        :raises ConversationNotFound: if it has no events.
        """
        self._check_open()
        check_id(conversation_id, "$.conversation_id")
        summary = await self._backend.get_summary(conversation_id)
        if summary is None:
            raise ConversationNotFound(f"no conversation {conversation_id!r}")
        return summary

    async def read_all(
        self, *, from_position: int = 0, to_position: int | None = None
    ) -> AsyncIterator[StoredEvent]:
        """Yield every event with ``from_position <= position <= to_position`` in global
        order, then stop."""
        self._check_open()
        position = _int(from_position, "$.from_position", 0)
        end = None if to_position is None else _int(to_position, "$.to_position", 0)
        while True:
            page = await self._backend.read_all_page(position, _READ_PAGE)
            for event in page:
                if end is not None and event.position > end:
                    return
                yield event
            if len(page) < _READ_PAGE:
                return
            position = page[-1].position + 1

    async def subscribe(self, *, from_position: int = 0) -> AsyncIterator[StoredEvent]:
        """Yield every event with ``position >= from_position`` in commit order: first those
        already stored (catch-up), then each new one as it commits, forever.

        Commits of this store wake the subscriber at once; commits of other processes on the
        same file are found by polling every ``poll_interval`` seconds. A subscriber never
        skips an event and never sees one twice; to resume, pass the last position + 1.
        """
        self._check_open()
        position = _int(from_position, "$.from_position", 0)
        while True:
            # Taken before the read: an append that commits after the read's snapshot moves
            # it, and the wait below then returns at once even if that append's wake-up came
            # before this task began to wait.
            seen = self._backend.commits
            page = await self._backend.read_all_page(position, _READ_PAGE)
            for event in page:
                yield event
            if page:
                position = page[-1].position + 1
            if len(page) < _READ_PAGE:
                self._check_open()
                await self._backend.wait_for_commit(seen, self._poll_interval)

    # -- folding and checking -------------------------------------------------------------

    async def replay(self, conversation_id: str) -> ConversationState:
        """Fold the conversation's events into its state: messages in order, usage totals,
        persisted cost, title, parent and metadata. The same fold maintains the summaries.

        :raises ConversationNotFound: if it has no events.
        """
        fold = Fold(conversation_id, keep_messages=True)
        async for event in self.read(conversation_id):
            fold.apply(
                event.data,
                version=event.version,
                position=event.position,
                recorded_at_us=to_us(event.recorded_at),
                hash=b"",
            )
        if fold.version == 0:
            raise ConversationNotFound(f"no conversation {conversation_id!r}")
        return fold.state()

    async def verify(
        self, *, expect: str | None = None, max_problems: int = MAX_PROBLEMS
    ) -> VerifyReport:
        """Check the whole store: the engine finds its file sound, every event decodes,
        versions are gapless, hash chains and summaries match. Returns a report naming the
        first problem of each conversation that has one, and each problem of the store as a
        whole, up to ``max_problems`` of them, counting the rest (``report.ok`` if none); a
        damaged file is reported, not raised.

        The report's ``digest`` covers the whole history up to its head position. Kept
        somewhere the store's owner cannot rewrite, it is an anchor: ``expect=`` a digest
        recorded earlier checks that the history it covered is still there, unchanged, which
        also catches a deleted tail of the whole store (see ``docs/store.md``).

        :raises SchemaError: if ``expect`` is not a digest this store makes, or
            ``max_problems`` is not a positive integer.
        """
        self._check_open()
        anchor = None if expect is None else parse_digest(expect)
        limit = _int(max_problems, "$.max_problems", 1)
        return await verify(self._backend, anchor, limit)

    async def rebuild_summaries(self, *, force: bool = False) -> int:
        """Recompute every conversation summary from its events; returns how many.

        Summaries are derived data, and a rebuild mends one that is behind or altered. It does
        not launder a deletion: where the events show that some were deleted (a gap in a
        conversation's versions, a summary that claims more than its events hold, a summary
        whose events are gone), it refuses and writes nothing. ``force=True`` rebuilds anyway,
        erasing that evidence: for after the deletion has been looked into.

        :raises IntegrityError: naming the conversation, if the events show a deletion.
        """
        self._check_open()
        if type(force) is not bool:
            raise SchemaError("$.force", f"expected True or False, got {force!r}")
        return await self._backend.rebuild_summaries(force)

    def _check_size(self, data: bytes | bytearray | memoryview, i: int) -> None:
        """Refuse an event the backend cannot store before it costs a transaction (SQLite
        fails a 1 GB value only once it has been bound, after seconds and gigabytes)."""
        limit = self._backend.max_event_bytes
        if len(data) > limit:
            raise SchemaError(
                f"$.events[{i}]",
                f"the event is {len(data):,} bytes encoded; this store holds at most "
                f"{limit:,} bytes an event",
            )

    def _check_open(self) -> None:
        if self._closing is not None:
            raise StoreClosed("the store is closed")


# -- connecting ---------------------------------------------------------------------------


#: An option ``connect()`` was not given (``None`` is a value, and a wrong one).
_UNSET: Any = type("Unset", (), {"__repr__": lambda self: "<backend default>"})()


class _Connector:
    """What :func:`connect` returns: ``async with`` it for an open :class:`Store`."""

    def __init__(self, backend: Backend, poll_interval: float) -> None:
        self._backend = backend
        self._poll_interval = poll_interval
        self._store: Store | None = None

    async def __aenter__(self) -> Store:
        await self._backend.open()
        self._store = Store(self._backend, poll_interval=self._poll_interval)
        return self._store

    async def __aexit__(self, *exc_info: object) -> None:
        if self._store is not None:
            await self._store.aclose()

    def __await__(self) -> Any:
        """``store = await eventstore.connect(url)``; then ``await store.aclose()``."""
        return self.__aenter__().__await__()


def connect(
    url: str,
    *,
    durability: str = _UNSET,
    busy_timeout: float = _UNSET,
    readers: int = _UNSET,
    read_only: bool = _UNSET,
    schema: str = _UNSET,
    poll_interval: float = 0.05,
) -> _Connector:
    """Open a store: ``async with eventstore.connect("sqlite:///convlog.db") as store``.

    The URL's scheme picks the backend (``sqlite:``, or one a package registers; see
    ``docs/store.md``), which parses the rest of the URL and checks its own options.
    SQLite URLs: ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``,
    ``sqlite://:memory:`` (private, in memory); percent-escapes are decoded; anything else is
    refused. Options (left out: the backend's default; a backend refuses those it lacks):

    - ``durability``: ``full`` (default) fsyncs every commit; ``normal`` may lose the last
      commits on power loss, never consistency. Also ``?durability=`` in the URL.
    - ``busy_timeout``: seconds an append waits for another connection's write lock, from 0
      (do not wait) to about 24 days (SQLite's limit); default 5.
    - ``readers``: read connections of a file store, at least 1; default 2.
    - ``read_only``: open without taking any lock or creating anything; appends are refused.
    - ``schema``: the database schema that holds the store, for backends that have schemas
      (PostgreSQL), so tenants or test runs can share a database.
    - ``poll_interval``: seconds between a live subscriber's looks for other processes'
      commits, more than 0.

    :raises ValueError: for a URL or option this installation cannot open, naming it.
    """
    if not _is_number(poll_interval) or not 0 < poll_interval < math.inf:
        raise ValueError(
            f"poll_interval must be a finite number of seconds > 0, got {poll_interval!r}"
        )
    given = {"durability": durability, "busy_timeout": busy_timeout, "readers": readers}
    given.update(read_only=read_only, schema=schema)
    options = {name: value for name, value in given.items() if value is not _UNSET}
    backend = _backends.load(url).create_backend(url, options)
    return _Connector(backend, poll_interval)


# -- validation helpers ---------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_expected(expected: Any) -> None:
    if isinstance(expected, ExpectedVersion):
        return
    if type(expected) is not int or expected < 0:
        raise SchemaError(
            "$.expected_version",
            f"expected ANY, NO_CONVERSATION, EXISTS or an int >= 0, got {expected!r}",
        )


def _check_direction(direction: Any) -> None:
    if direction not in ("asc", "desc"):
        raise SchemaError("$.direction", f"expected 'asc' or 'desc', got {direction!r}")


def _int(value: Any, path: str, minimum: int) -> int:
    """A version or position bound. Beyond anything storable it means "no bound": clamped to
    SQLite's largest integer rather than overflowing the driver."""
    if type(value) is not int or value < minimum:
        raise SchemaError(path, f"expected an int >= {minimum}, got {value!r}")
    return min(value, MAX_INT)


def _page(items: list[T], limit: int, query: list[Any], key: Callable[[T], int]) -> Page[T]:
    """A page of ``items``, fetched with one row more than ``limit`` to tell whether another
    page exists: only then does it get a cursor, resuming after ``key`` of its last item."""
    if len(items) <= limit:
        return Page(items)
    del items[limit:]
    return Page(items, encode_cursor(query, key(items[-1])))


def _clamp(limit: Any) -> int:
    if type(limit) is not int:
        raise SchemaError("$.limit", f"expected an int, got {limit!r}")
    return min(max(limit, 1), MAX_LIMIT)


def _as_list(values: Any, name: str) -> list[Any]:
    if type(values) is list:  # the common case, without an ABC instance check
        return values
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise SchemaError(f"$.{name}", f"expected a list, got {type(values).__name__}")
    return list(values)


def _event_ids(event_ids: Sequence[UUID | str] | None, count: int) -> list[UUID]:
    if event_ids is None:
        return uuid7s(count)
    given = _as_list(event_ids, "event_ids")
    if len(given) != count:
        raise SchemaError("$.event_ids", f"expected {count} ids (one per event), got {len(given)}")
    ids = []
    for i, value in enumerate(given):
        if isinstance(value, UUID):
            ids.append(value)
            continue
        try:
            ids.append(UUID(value))
        except (ValueError, TypeError, AttributeError):
            raise SchemaError(f"$.event_ids[{i}]", f"expected a UUID, got {value!r:.60}") from None
    if len(set(ids)) != len(ids):
        raise SchemaError("$.event_ids", "ids must be unique within one append")
    return ids
