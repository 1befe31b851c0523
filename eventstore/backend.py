"""The interface every storage backend implements, and the values that cross it.

A backend is one module (``eventstore.sqlite``, or a third party's) that defines::

    def create_backend(url: str, options: Mapping[str, object]) -> Backend

``connect()`` finds the module by the URL's scheme (see ``eventstore._backends``) and calls it
with the whole URL and the options the caller gave (``durability``, ``busy_timeout``,
``readers``, ``read_only``); the backend parses its URL and checks its options itself, raising
``ValueError`` for what it cannot open, before any I/O. The store then ``await``s
:meth:`Backend.open`.

A backend stores and orders events; it decides nothing: every append is planned by the shared
rules of ``eventstore._planner`` (idempotency, expected versions, positions, the hash chain,
the summary fold). Input validation, encoding, cursors, subscriptions, replay and verification
live once in the ``Store`` facade. The conformance suite in ``tests/conformance/`` is what a
backend must pass, unchanged.

Orders: wherever a method below orders by conversation id, it is code point order (SQLite's
``BINARY`` collation, PostgreSQL's ``COLLATE "C"``), the order of Python's ``str``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any, Protocol
from uuid import UUID

import msgspec

from schemas import Body, StoredEvent

from ._fold import Fold
from ._model import AppendResult, ConversationSummary, Direction, ExpectedVersion
from .errors import IntegrityError

__all__ = ("AppendRequest", "Backend", "BackendModule", "PreparedEvent")


class PreparedEvent(msgspec.Struct, frozen=True, gc=False):
    """One validated event ready to store: ``key`` is ``id.bytes`` (made once: the planner
    and a backend both need it), ``data`` the exact bytes to persist, ``body`` their decoded
    form (for the summary fold)."""

    id: UUID
    key: bytes
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

    #: The largest encoded event (its ``data`` bytes) the backend can store; the store
    #: refuses a larger one before it reaches the backend.
    max_event_bytes: int

    async def open(self) -> None:
        """Connect, and create the schema if the store is new.

        :raises StoreError: if the store cannot be opened or is not a convlog store.
        """
        ...

    def append(self, request: AppendRequest) -> Awaitable[AppendResult]:
        """Store all of ``request.events`` atomically, or nothing. An ``async def`` does; so
        does a plain method returning a future, which spares the hot path a coroutine.

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
        self,
        after_position: int | None,
        direction: Direction,
        limit: int,
        parent_id: str | None = None,
    ) -> list[ConversationSummary]:
        """Summaries ordered by ``last_position`` (most recent activity last for ``asc``),
        strictly after ``after_position`` in that direction; only those whose ``parent_id``
        is the one given, if given."""
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

    async def hash_page(
        self, after_position: int, max_position: int, limit: int
    ) -> list[tuple[int, bytes]]:
        """The positions and stored hashes of the events with ``after_position < position <=
        max_position``, in position order. Used by ``verify`` for the store-wide digest."""
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

    async def check_storage(self) -> str | None:
        """The engine's own consistency check of what it stores (SQLite: ``PRAGMA
        integrity_check``, every page of every table and index). ``None`` when it finds
        nothing; else what is damaged, naming the store and quoting the engine. ``verify``
        runs it first. Once damage is found, the backend refuses every later append with
        :class:`~eventstore.errors.StoreCorrupted`. A backend with nothing to check (it keeps
        no file of its own) returns ``None``."""
        ...

    async def rebuild_summaries(self, force: bool) -> int:
        """Recompute every summary with the planner's :func:`~eventstore._planner.rebuild`, in
        one transaction, checked against the stored summaries unless ``force``. Returns the
        number of conversations.

        :raises IntegrityError: if the check finds evidence of deleted events (nothing
            written)."""
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


class BackendModule(Protocol):
    """What ``connect()`` needs of a backend's module."""

    def create_backend(self, url: str, options: Mapping[str, object]) -> Backend:
        """A backend for ``url``, not yet opened.

        :raises ValueError: naming the URL or option, if it is malformed or not supported.
        """
        ...
