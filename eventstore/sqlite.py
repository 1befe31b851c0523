"""The SQLite backend: embedded, durable, safe for several processes on one file.

One writer thread per store owns the write connection and commits every append queued behind
the one it is working on as one ``BEGIN IMMEDIATE`` transaction (group commit). Heads, ids and
the global position are re-read inside that transaction, so several processes can append to
one file: SQLite's write lock orders them, ``busy_timeout`` makes them wait their turn. Reads
run on their own connections and threads, each page one statement and so one snapshot (WAL).

History is append-only in the database itself: triggers abort any UPDATE or DELETE on
``events``. ``data`` holds the validated JSON bytes exactly as they were appended.
"""

from __future__ import annotations

import itertools
import os
import re
import sqlite3
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from uuid import UUID

import anyio
import msgspec

from schemas import SchemaError, StoredEvent, decode

from ._chain import GENESIS, link
from ._fold import Fold, from_us, to_us
from ._model import (
    AppendResult,
    ConversationSummary,
    Direction,
)
from ._worker import Worker
from .backend import AppendRequest, original_result, total_overflow, version_conflict
from .errors import IntegrityError, StoreError

__all__ = ("SQLiteBackend",)

SCHEMA_VERSION = 1
_MAX_VERSION = (1 << 63) - 1
_CHUNK = 500  # ids per IN (...) list

_DDL = (
    """CREATE TABLE IF NOT EXISTS events (
        position        INTEGER PRIMARY KEY,
        conversation_id TEXT    NOT NULL,
        version         INTEGER NOT NULL CHECK (version >= 1),
        id              BLOB    NOT NULL UNIQUE CHECK (length(id) = 16),
        type            TEXT    NOT NULL,
        recorded_at     INTEGER NOT NULL,
        session_id      TEXT,
        turn_id         TEXT,
        harness         TEXT,
        data            BLOB    NOT NULL,
        hash            BLOB    NOT NULL,
        UNIQUE (conversation_id, version)
    )""",
    """CREATE TRIGGER IF NOT EXISTS events_append_only_update BEFORE UPDATE ON events
       BEGIN SELECT RAISE(ABORT, 'convlog: events are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS events_append_only_delete BEFORE DELETE ON events
       BEGIN SELECT RAISE(ABORT, 'convlog: events are append-only'); END""",
    # INSERT OR REPLACE / REPLACE INTO delete the conflicting row without firing DELETE
    # triggers, so an insert that would collide with a stored event is refused before it runs.
    """CREATE TRIGGER IF NOT EXISTS events_append_only_replace BEFORE INSERT ON events
       WHEN EXISTS (SELECT 1 FROM events WHERE position = NEW.position)
         OR EXISTS (SELECT 1 FROM events WHERE id = NEW.id)
         OR EXISTS (SELECT 1 FROM events
                    WHERE conversation_id = NEW.conversation_id AND version = NEW.version)
       BEGIN SELECT RAISE(ABORT, 'convlog: events are append-only'); END""",
    """CREATE TABLE IF NOT EXISTS conversations (
        conversation_id              TEXT    PRIMARY KEY,
        version                      INTEGER NOT NULL,
        created_at                   INTEGER NOT NULL,
        updated_at                   INTEGER NOT NULL,
        last_position                INTEGER NOT NULL,
        head_hash                    BLOB    NOT NULL,
        title                        TEXT,
        parent_id                    TEXT,
        calls                        INTEGER NOT NULL,
        unpriced_calls               INTEGER NOT NULL,
        prompt_tokens                INTEGER NOT NULL,
        completion_tokens            INTEGER NOT NULL,
        prompt_cached_tokens         INTEGER NOT NULL,
        prompt_cache_creation_tokens INTEGER NOT NULL,
        completion_reasoning_tokens  INTEGER NOT NULL,
        cost_usd                     TEXT    NOT NULL
    ) WITHOUT ROWID""",
    "CREATE UNIQUE INDEX IF NOT EXISTS conversations_by_activity ON conversations (last_position)",
    """CREATE INDEX IF NOT EXISTS conversations_by_parent ON conversations (parent_id)
       WHERE parent_id IS NOT NULL""",
    "CREATE TABLE IF NOT EXISTS convlog_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)

# A page of one conversation: its id is the one asked for, not fetched again (a str per row).
_PAGE_COLS = "position, version, id, recorded_at, session_id, turn_id, harness, data"
# Events of any conversation: the same columns, then the conversation.
_EVENT_COLS = f"{_PAGE_COLS}, conversation_id"
_INSERT_EVENT = (
    "INSERT INTO events (position, conversation_id, version, id, type, recorded_at, "
    "session_id, turn_id, harness, data, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# Most appends carry no session, turn or harness: leaving the columns out stores the same NULLs
# without binding three Nones (see _blob).
_INSERT_EVENT_BARE = (
    "INSERT INTO events (position, conversation_id, version, id, type, recorded_at, data, hash) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_SUMMARY_COLS = (
    "conversation_id, version, created_at, updated_at, last_position, head_hash, title, "
    "parent_id, calls, unpriced_calls, prompt_tokens, completion_tokens, prompt_cached_tokens, "
    "prompt_cache_creation_tokens, completion_reasoning_tokens, cost_usd"
)
_INSERT_SUMMARY = (
    f"INSERT INTO conversations ({_SUMMARY_COLS}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# Updated in place (not INSERT OR REPLACE): a replace deletes and re-inserts the row and every
# index entry, which costs WAL pages on every append. The common case, no title and no parent,
# writes its NULLs as literals.
_UPDATE_SUMMARY_SET = (
    "UPDATE conversations SET version = ?, created_at = ?, updated_at = ?, last_position = ?, "
    "head_hash = ?, {title_parent}calls = ?, unpriced_calls = ?, prompt_tokens = ?, "
    "completion_tokens = ?, prompt_cached_tokens = ?, prompt_cache_creation_tokens = ?, "
    "completion_reasoning_tokens = ?, cost_usd = ? WHERE conversation_id = ?"
)
_UPDATE_SUMMARY = _UPDATE_SUMMARY_SET.format(title_parent="title = ?, parent_id = ?, ")
_UPDATE_SUMMARY_BARE = _UPDATE_SUMMARY_SET.format(title_parent="title = NULL, parent_id = NULL, ")

Durability = Literal["full", "normal"]


class SQLiteBackend:
    """SQLite storage. Use through :func:`eventstore.connect`, not directly.

    ``path=None`` is a private in-memory database (one connection serves reads and writes).
    """

    def __init__(
        self,
        path: str | None,
        *,
        durability: Durability = "full",
        busy_timeout: float = 5.0,
        readers: int = 2,
    ) -> None:
        if durability not in ("full", "normal"):
            raise ValueError(f"durability must be 'full' or 'normal', got {durability!r}")
        self.path = path
        self._durability = durability
        self._busy_timeout = busy_timeout
        self._n_readers = max(1, readers)
        self._writer: Worker[sqlite3.Connection] | None = None
        self._readers: list[Worker[sqlite3.Connection]] = []
        self._in_flight: list[int] = []  # reads queued or running, per reader
        self._commits = 0  # group commits through this store (see wait_for_commit)
        self._committed = anyio.Event()
        self._waiting = 0
        self._closing = False
        self._heads = _Heads()  # touched by the writer thread only

    # -- lifecycle -----------------------------------------------------------------------

    async def open(self) -> None:
        if self.path is None:
            conn = self._connect(":memory:")
            self._writer = Worker("convlog-sqlite", conn, self._commit, _close, self._after_commit)
            await self._writer.call(self._init_schema)
            self._readers = [self._writer]
        else:
            _create_private(self.path)
            self._writer = Worker(
                "convlog-writer", self._connect(self.path), self._commit, _close, self._after_commit
            )
            try:
                await self._writer.call(self._init_schema)
            except BaseException:
                await self._writer.aclose()
                raise
            for i in range(self._n_readers):
                conn = self._connect(self.path)
                conn.execute("PRAGMA query_only = ON")
                self._readers.append(Worker(f"convlog-reader-{i}", conn, None, _close))
        self._in_flight = [0] * len(self._readers)

    async def aclose(self) -> None:
        self._closing = True
        self._committed.set()  # subscribers waiting for a commit: the store closes instead
        # The writer first: it finishes every queued append before it stops.
        if self._writer is not None:
            await self._writer.aclose()
        for reader in self._readers:
            await reader.aclose()

    def _connect(self, target: str) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                target,
                timeout=self._busy_timeout,
                isolation_level=None,  # we issue BEGIN/COMMIT ourselves
                check_same_thread=False,  # each connection is used by one worker thread
            )
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
            if target != ":memory:":
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if mode != "wal":
                    raise StoreError(f"cannot switch {target} to WAL mode (got {mode!r})")
            conn.execute(f"PRAGMA synchronous = {self._durability.upper()}")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {target}: {exc}") from None
        return conn

    def _init_schema(self, conn: sqlite3.Connection) -> None:
        try:
            self._create_schema(conn)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {self.path or 'the in-memory store'}: {exc}") from None

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
            if tables and "convlog_meta" not in tables:
                raise StoreError(
                    f"{self.path} is an SQLite database but not a convlog store "
                    f"(it has {', '.join(sorted(tables)[:5])}); refusing to add tables to it"
                )
            for statement in _DDL:
                conn.execute(statement)
            row = conn.execute("SELECT value FROM convlog_meta WHERE key = 'schema'").fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO convlog_meta (key, value) VALUES ('schema', ?)",
                    (str(SCHEMA_VERSION),),
                )
            elif int(row[0]) > SCHEMA_VERSION:
                raise StoreError(
                    f"database schema version {row[0]} is newer than this convlog supports "
                    f"({SCHEMA_VERSION}); upgrade convlog"
                )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    # -- appends -------------------------------------------------------------------------

    async def append(self, request: AppendRequest) -> AppendResult:
        assert self._writer is not None
        result: AppendResult = await self._writer.submit_batched(request)
        return result

    def _after_commit(self) -> None:
        """Run on the event loop after each group commit, even one whose callers were all
        cancelled: wake this store's subscribers (others poll)."""
        self._commits += 1
        if self._waiting:
            self._committed.set()
            self._committed = anyio.Event()

    def _commit(self, conn: sqlite3.Connection, requests: Sequence[AppendRequest]) -> list[Any]:
        """Batch function of the writer thread: one transaction for all ``requests``."""
        heads = self._heads
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Under the write lock: if any other connection committed since our last
                # transaction, what we remember of heads and summaries may be stale.
                seen = conn.execute("PRAGMA data_version").fetchone()[0]
                if seen != heads.data_version:
                    heads.forget()
                    heads.data_version = seen
                outcomes = self._apply(conn, requests, heads)
                conn.execute("COMMIT")
            except BaseException:
                heads.forget()  # the folds were advanced for a transaction that did not commit
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return outcomes
        except Exception as exc:
            if len(requests) == 1:
                return [_translate(exc)]
            # Something unexpected failed the shared transaction (the database, or a value
            # the driver cannot bind). Retry one by one so the failure stays with the append
            # that caused it.
            return [self._commit(conn, [request])[0] for request in requests]

    def _apply(
        self, conn: sqlite3.Connection, requests: Sequence[AppendRequest], heads: _Heads
    ) -> list[Any]:
        now = time.time_ns() // 1000
        folds = heads.folds
        cids = {r.conversation_id for r in requests}
        if missing := cids - folds.keys():
            folds.update(_load_folds(conn, missing))
        # Conversations with a summary row before this transaction: updated, not inserted.
        existing = cids & folds.keys()
        known = _lookup_ids(conn, [e.id.bytes for r in requests if r.ids_given for e in r.events])
        if heads.position is None:
            heads.position = _query_head(conn)
        position = heads.position
        bare: list[tuple[Any, ...]] = []  # rows without session, turn and harness
        full: list[tuple[Any, ...]] = []
        touched: dict[str, Fold] = {}
        outcomes: list[Any] = []
        for req in requests:
            cid = req.conversation_id
            if req.ids_given:
                hits = [known.get(e.id.bytes) for e in req.events]
                if any(hits):
                    outcomes.append(original_result(req, hits))
                    continue
            fold = folds.get(cid)
            current = fold.version if fold is not None else 0
            refused = version_conflict(cid, req.expected, current) or total_overflow(fold, req)
            if refused is not None:
                outcomes.append(refused)
                continue
            if fold is None:
                fold = folds[cid] = Fold(cid)
            session_id, turn_id, harness = req.session_id, req.turn_id, req.harness
            is_bare = session_id is None and turn_id is None and harness is None
            prev = fold.head_hash or GENESIS
            first = position + 1
            add = fold.add
            for i, event in enumerate(req.events, start=current + 1):
                position += 1
                id_bytes = event.id.bytes
                data = event.data
                prev = link(prev, cid, i, id_bytes, now, session_id, turn_id, harness, data)
                if is_bare:
                    bare.append(
                        (position, cid, i, _blob(id_bytes), event.type, now, _blob(data),
                         _blob(prev))
                    )  # fmt: skip
                else:
                    full.append(
                        (position, cid, i, _blob(id_bytes), event.type, now, session_id,
                         turn_id, harness, _blob(data), _blob(prev))
                    )  # fmt: skip
                add(event.body)
                if req.ids_given:
                    known[id_bytes] = (cid, i, position)
            # The head moves once per append: only its last event's place is kept.
            fold.advance(current + len(req.events), position, now, prev)
            touched[cid] = fold
            outcomes.append(
                AppendResult(
                    conversation_id=cid,
                    version=fold.version,
                    positions=tuple(range(first, position + 1)),
                    ids=tuple(e.id for e in req.events),
                )
            )
        if bare:
            conn.executemany(_INSERT_EVENT_BARE, bare)
        if full:
            conn.executemany(_INSERT_EVENT, full)
        new = [_summary_row(f) for cid, f in touched.items() if cid not in existing]
        if new:
            conn.executemany(_INSERT_SUMMARY, new)
        updates: dict[str, list[tuple[Any, ...]]] = {}
        for cid, f in touched.items():
            if cid in existing:
                sql, params = _summary_update(f)
                updates.setdefault(sql, []).append(params)
        for sql, rows in updates.items():
            conn.executemany(sql, rows)
        heads.position = position
        heads.remember(touched)
        return outcomes

    @property
    def commits(self) -> int:
        return self._commits

    async def wait_for_commit(self, seen: int, seconds: float) -> None:
        # An append that committed after the subscriber's read saw the store, but woke
        # nobody because the subscriber was not waiting yet, has moved the count.
        if self._commits != seen or self._closing:
            return
        self._waiting += 1
        try:
            with anyio.move_on_after(seconds):
                await self._committed.wait()
        finally:
            self._waiting -= 1

    # -- reads ---------------------------------------------------------------------------

    async def _read(self, fn: Any, *args: Any) -> Any:
        # The first reader with nothing in flight, else the least busy one: a task reading on
        # its own keeps to one thread and one connection, whose page cache stays warm, while
        # concurrent reads still spread over every reader.
        in_flight = self._in_flight
        i = in_flight.index(min(in_flight))
        in_flight[i] += 1
        try:
            return await self._readers[i].call(fn, *args)
        finally:
            in_flight[i] -= 1

    async def read_page(
        self,
        conversation_id: str,
        lo: int,
        hi: int | None,
        direction: Direction,
        limit: int,
        types: tuple[str, ...] | None = None,
    ) -> list[StoredEvent]:
        sql = (
            f"SELECT {_PAGE_COLS} FROM events WHERE conversation_id = ? AND version BETWEEN ? AND ?"
        )
        args: list[Any] = [conversation_id, lo, _MAX_VERSION if hi is None else hi]
        if types is not None:
            sql += f" AND type IN ({','.join('?' * len(types))})"
            args.extend(types)
        sql += f" ORDER BY version {'ASC' if direction == 'asc' else 'DESC'} LIMIT ?"
        args.append(limit)
        events: list[StoredEvent] = await self._read(_query_page, sql, args, conversation_id)
        return events

    async def read_all_page(self, from_position: int, limit: int) -> list[StoredEvent]:
        sql = f"SELECT {_EVENT_COLS} FROM events WHERE position >= ? ORDER BY position LIMIT ?"
        events: list[StoredEvent] = await self._read(_query_events, sql, (from_position, limit))
        return events

    async def conversations_page(
        self, after_position: int | None, direction: Direction, limit: int
    ) -> list[ConversationSummary]:
        op, order = (">", "ASC") if direction == "asc" else ("<", "DESC")
        where = "" if after_position is None else f"WHERE last_position {op} ?"
        args: tuple[int, ...] = () if after_position is None else (after_position,)
        sql = (
            f"SELECT {_SUMMARY_COLS} FROM conversations {where} "
            f"ORDER BY last_position {order} LIMIT ?"
        )
        summaries: list[ConversationSummary] = await self._read(
            _query_summaries, sql, (*args, limit)
        )
        return summaries

    async def get_summary(self, conversation_id: str) -> ConversationSummary | None:
        sql = f"SELECT {_SUMMARY_COLS} FROM conversations WHERE conversation_id = ?"
        found: list[ConversationSummary] = await self._read(
            _query_summaries, sql, (conversation_id,)
        )
        return found[0] if found else None

    async def summaries_page(
        self, after: Any, limit: int
    ) -> list[tuple[Any, Fold | IntegrityError]]:
        where = "" if after is None else "WHERE conversation_id > ?"
        sql = f"SELECT {_SUMMARY_COLS} FROM conversations {where} ORDER BY conversation_id LIMIT ?"
        args = (limit,) if after is None else (after, limit)
        page: list[tuple[Any, Fold | IntegrityError]] = await self._read(_query_folds, sql, args)
        return page

    async def head_position(self) -> int:
        head: int = await self._read(_query_head)
        return head

    async def first_missing_position(self, head: int) -> int | None:
        missing: int | None = await self._read(_query_first_missing, head)
        return missing

    async def chain_page(
        self, after: tuple[str, int] | None, max_position: int, limit: int
    ) -> list[tuple[StoredEvent | IntegrityError, bytes]]:
        where = "WHERE position <= ?"
        if after is not None:
            where += " AND (conversation_id, version) > (?, ?)"
        sql = (
            f"SELECT {_EVENT_COLS}, hash, type FROM events {where} "
            "ORDER BY conversation_id, version LIMIT ?"
        )
        args = (max_position, *(after or ()), limit)
        page: list[tuple[StoredEvent | IntegrityError, bytes]] = await self._read(
            _query_chain, sql, args
        )
        return page

    async def rebuild_summaries(self) -> int:
        assert self._writer is not None
        count: int = await self._writer.call(self._rebuild)
        return count

    def _rebuild(self, conn: sqlite3.Connection) -> int:
        self._heads.forget()
        return _rebuild(conn)


class _Heads:
    """What the writer remembers of its own last commit: the global head position and the
    summary folds of recently appended conversations, so an append need not read them back.

    Valid only while no other connection has written: ``data_version`` is SQLite's
    ``PRAGMA data_version``, which changes when any other connection (another process, a
    tool) commits. The writer reads it under the write lock at the start of every transaction
    and forgets everything when it moved, or when its own transaction failed.
    """

    __slots__ = ("data_version", "folds", "position")

    #: Conversations remembered; the least recently appended are forgotten first.
    CAPACITY = 10_000

    def __init__(self) -> None:
        self.data_version: int | None = None
        self.position: int | None = None
        self.folds: dict[str, Fold] = {}

    def forget(self) -> None:
        self.data_version = None
        self.position = None
        self.folds = {}

    def remember(self, touched: dict[str, Fold]) -> None:
        folds = self.folds
        for cid, fold in touched.items():  # most recently appended last
            del folds[cid]
            folds[cid] = fold
        excess = len(folds) - self.CAPACITY
        if excess > 0:
            for cid in list(itertools.islice(folds, excess)):
                del folds[cid]


# -- helpers that run on worker threads ----------------------------------------------------


def _close(conn: sqlite3.Connection) -> None:
    conn.close()


def _create_private(path: str) -> None:
    """Create the database file readable and writable by its owner only (conversations hold
    prompts and answers). SQLite gives the -wal and -shm files the same mode."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise StoreError(f"cannot create {path}: {exc.strerror}") from None
    os.close(fd)


def _translate(exc: Exception) -> StoreError:
    if isinstance(exc, StoreError):  # ours already, e.g. an altered summary (IntegrityError)
        return exc
    if isinstance(exc, sqlite3.IntegrityError):
        return StoreError(f"the database refused the append: {exc}")
    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
        return StoreError(f"database is locked (another writer held it past busy_timeout): {exc}")
    if isinstance(exc, sqlite3.Error):
        return StoreError(f"sqlite error: {exc}")
    error = StoreError(f"cannot append: {type(exc).__name__}: {exc}")
    error.__cause__ = exc
    return error


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _load_folds(conn: sqlite3.Connection, conversation_ids: set[str]) -> dict[str, Fold]:
    """The summaries of ``conversation_ids`` that exist, as folds to append onto.

    The summary is derived data; the head an append chains onto is history. So the head hash
    is taken from the conversation's last event, and a summary that disagrees with it, or
    whose version has no event, is refused: chaining onto it would store an event no
    ``verify`` could ever accept.

    :raises IntegrityError: for the first summary that was altered.
    """
    folds: dict[str, Fold] = {}
    for chunk in _chunks(sorted(conversation_ids)):
        sql = (
            f"{_SELECT_SUMMARY_AND_HEAD} WHERE c.conversation_id IN ({','.join('?' * len(chunk))})"
        )
        for row in conn.execute(sql, chunk):
            fold = _fold_from_row(row[:-1])
            if row[-1] != fold.head_hash:
                raise IntegrityError(
                    f"summary of conversation {fold.conversation_id!r} disagrees with its last "
                    "event (run verify, then rebuild_summaries)",
                    fold.conversation_id,
                )
            folds[fold.conversation_id] = fold
    return folds


def _lookup_ids(conn: sqlite3.Connection, ids: list[bytes]) -> dict[bytes, tuple[str, int, int]]:
    known: dict[bytes, tuple[str, int, int]] = {}
    for chunk in _chunks(ids):
        sql = (
            "SELECT id, conversation_id, version, position FROM events "
            f"WHERE id IN ({','.join('?' * len(chunk))})"
        )
        for id_bytes, cid, version, position in conn.execute(sql, chunk):
            known[id_bytes] = (cid, version, position)
    return known


# Blobs are bound as ``bytearray``: CPython's sqlite3 binds int, float, str and bytearray
# directly but looks every other type (bytes and None included) up in its adapter registry
# first; for the three blobs of an event row that lookup costs more than the copy (insert time
# per row 10.5 us with bytes, 7.6 us with bytearray, in memory, 1,000-row batches). The type
# itself, not a function wrapping it, so the copy costs no Python call.
_blob = bytearray


def _summary_row(f: Fold) -> tuple[Any, ...]:
    """The summary columns in ``_SUMMARY_COLS`` order."""
    return (
        f.conversation_id, f.version, f.created_at_us, f.updated_at_us, f.last_position,
        _blob(f.head_hash), f.title, f.parent_id, f.calls, f.unpriced_calls, f.prompt_tokens,
        f.completion_tokens, f.prompt_cached_tokens, f.prompt_cache_creation_tokens,
        f.completion_reasoning_tokens, str(f.cost_usd),
    )  # fmt: skip


def _summary_update(f: Fold) -> tuple[str, tuple[Any, ...]]:
    """The UPDATE that stores ``f`` and its parameters; without a title and a parent, the one
    that writes their NULLs as literals (see ``_blob``)."""
    row = _summary_row(f)
    if f.title is None and f.parent_id is None:
        return _UPDATE_SUMMARY_BARE, (*row[1:6], *row[8:], f.conversation_id)
    return _UPDATE_SUMMARY, (*row[1:], f.conversation_id)


class _SummaryRow(msgspec.Struct, array_like=True, gc=False):
    """What the writer stores in each summary column (``_SUMMARY_COLS``, in order). The table
    is derived data any connection can edit without a trigger stopping it, so every row read
    is checked against this, in one call into msgspec (0.6 us a row), before it is trusted."""

    conversation_id: str
    version: int
    created_at: int
    updated_at: int
    last_position: int
    head_hash: bytes
    title: str | None
    parent_id: str | None
    calls: int
    unpriced_calls: int
    prompt_tokens: int
    completion_tokens: int
    prompt_cached_tokens: int
    prompt_cache_creation_tokens: int
    completion_reasoning_tokens: int
    cost_usd: str


_SUMMARY_NAMES: tuple[str, ...] = _SummaryRow.__struct_fields__
# Each summary with the hash of the event at its version: the head an append chains onto.
_SELECT_SUMMARY_AND_HEAD = (
    f"SELECT {', '.join('c.' + c for c in _SUMMARY_NAMES)}, e.hash FROM conversations c "
    "LEFT JOIN events e ON e.conversation_id = c.conversation_id AND e.version = c.version"
)
_MIN_US, _MAX_US = to_us(datetime.min.replace(tzinfo=UTC)), to_us(datetime.max.replace(tzinfo=UTC))


def _fold_from_row(row: Sequence[Any]) -> Fold:
    """A summary row as the fold it stores.

    :raises IntegrityError: naming the conversation and column, if the row does not hold what
        the writer stores (an edit behind the store's back).
    """
    try:
        msgspec.convert(row, _SummaryRow)
    except msgspec.ValidationError as exc:
        at = re.search(r"\$\[(\d+)\]", str(exc))
        column = _SUMMARY_NAMES[int(at.group(1))] if at else "a column"
        raise _summary_altered(row, column) from None
    f = Fold(row[0])
    (
        f.version, f.created_at_us, f.updated_at_us, f.last_position, f.head_hash, f.title,
        f.parent_id, f.calls, f.unpriced_calls, f.prompt_tokens, f.completion_tokens,
        f.prompt_cached_tokens, f.prompt_cache_creation_tokens, f.completion_reasoning_tokens,
    ) = row[1:15]  # fmt: skip
    try:
        f.cost_usd = Decimal(row[15])
    except InvalidOperation:
        raise _summary_altered(row, "cost_usd") from None
    # With no call priced the writer stores 0 and totals show no cost, so verify could not see
    # a cost edited in there: refused here, as any value the writer never stores.
    if not f.cost_usd.is_finite() or (f.cost_usd and f.calls <= f.unpriced_calls):
        raise _summary_altered(row, "cost_usd")
    for column, us in (("created_at", f.created_at_us), ("updated_at", f.updated_at_us)):
        if not _MIN_US <= us <= _MAX_US:
            raise _summary_altered(row, column)
    return f


def _summary_altered(row: Sequence[Any], column: str) -> IntegrityError:
    cid = row[0] if type(row[0]) is str else None
    index = _SUMMARY_NAMES.index(column) if column in _SUMMARY_NAMES else None
    held = (
        "" if index is None else f": {column} holds {type(row[index]).__name__} {row[index]!r:.40}"
    )
    return IntegrityError(
        f"summary of conversation {row[0]!r:.60} was altered{held} (run rebuild_summaries)", cid
    )


def _undecodable(exc: SchemaError, position: int, cid: str, version: int) -> IntegrityError:
    return IntegrityError(
        f"stored event at position {position} ({cid!r} version {version}) does not decode: {exc}",
        cid,
        version,
    )


_UUID_LIST = list[UUID]


def _uuids(rows: list[Any], cids: Sequence[str]) -> list[UUID]:
    """The ids of ``rows`` (starting with ``_PAGE_COLS``) as ``UUID``s, in one call into
    msgspec (0.1 us an id against 1.4 us for ``UUID(bytes=...)`` one at a time)."""
    raw = [row[2] for row in rows]
    try:
        return msgspec.convert(raw, _UUID_LIST)
    except msgspec.ValidationError:
        # Not 16 bytes: a file edited behind the store's back (the table CHECKs the length).
        for row, cid, id_bytes in zip(rows, cids, raw, strict=True):
            if type(id_bytes) is not bytes or len(id_bytes) != 16:
                raise _mistyped(row, cid) from None
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


def _mistyped(row: Sequence[Any], cid: Any) -> IntegrityError:
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


def _to_event(row: Sequence[Any]) -> StoredEvent:
    """One row of ``_EVENT_COLS`` as a ``StoredEvent``."""
    return _page_events([row], (row[8],))[0]


def _query_page(
    conn: sqlite3.Connection, sql: str, args: Sequence[Any], cid: str
) -> list[StoredEvent]:
    """Rows of ``_PAGE_COLS``, all of conversation ``cid``, as ``StoredEvent``s (the hot path
    of ``Store.read``)."""
    rows = conn.execute(sql, args).fetchall()
    return _page_events(rows, [cid] * len(rows))


def _query_events(conn: sqlite3.Connection, sql: str, args: Sequence[Any]) -> list[StoredEvent]:
    """Rows of ``_EVENT_COLS`` as ``StoredEvent``s."""
    rows = conn.execute(sql, args).fetchall()
    return _page_events(rows, [row[8] for row in rows])


def _page_events(rows: list[Any], cids: Sequence[str]) -> list[StoredEvent]:
    """Rows starting with ``_PAGE_COLS`` as ``StoredEvent``s, the per-row work hoisted out of
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
            raise _mistyped(row, cid)
        try:
            body = decode(data, path="$.data")
        except SchemaError as exc:
            raise _undecodable(exc, position, cid, version) from None
        moment = moments.get(recorded_at)
        if moment is None:
            try:
                moment = moments[recorded_at] = from_us(recorded_at)
            except OverflowError:  # an int past datetime's range (its type was checked above)
                raise _mistyped(row, cid) from None
        append(
            StoredEvent(
                id=id, conversation_id=cid, version=version, position=position,
                recorded_at=moment, data=body, raw=data, session_id=session_id,
                turn_id=turn_id, harness=harness,
            )
        )  # fmt: skip
    return out


def _query_summaries(
    conn: sqlite3.Connection, sql: str, args: Sequence[Any]
) -> list[ConversationSummary]:
    return [_fold_from_row(row).summary() for row in conn.execute(sql, args)]


def _query_folds(
    conn: sqlite3.Connection, sql: str, args: Sequence[Any]
) -> list[tuple[Any, Fold | IntegrityError]]:
    """Summary rows for verify, each with its key: a row that does not hold what the writer
    stores comes as the IntegrityError describing it, so verify can report it in place."""
    out: list[tuple[Any, Fold | IntegrityError]] = []
    for row in conn.execute(sql, args):
        try:
            out.append((row[0], _fold_from_row(row)))
        except IntegrityError as exc:
            out.append((row[0], exc))
    return out


def _query_chain(
    conn: sqlite3.Connection, sql: str, args: Sequence[Any]
) -> list[tuple[StoredEvent | IntegrityError, bytes]]:
    """Rows for verify: an event that does not decode is returned as the IntegrityError, so
    verify can report it in place."""
    out: list[tuple[StoredEvent | IntegrityError, bytes]] = []
    for row in conn.execute(sql, args):
        try:
            event = _to_event(row)
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


def _query_head(conn: sqlite3.Connection) -> int:
    head: int = conn.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()[0]
    return head


def _query_first_missing(conn: sqlite3.Connection, head: int) -> int | None:
    """The lowest empty position in 1..``head``: 1 itself, or one past an event whose
    successor is missing (``None`` if every position holds an event)."""
    if head == 0:
        return None
    found: int | None = conn.execute(
        "SELECT min(p) FROM (SELECT 1 AS p WHERE NOT EXISTS (SELECT 1 FROM events WHERE position = 1) "
        "UNION ALL SELECT position + 1 FROM events AS e WHERE position < ? "
        "AND NOT EXISTS (SELECT 1 FROM events WHERE position = e.position + 1))",
        (head,),
    ).fetchone()[0]
    return found


def _rebuild(conn: sqlite3.Connection) -> int:
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("DELETE FROM conversations")
        fold: Fold | None = None
        count = 0
        rows = conn.execute(
            f"SELECT {_EVENT_COLS}, hash FROM events ORDER BY conversation_id, version"
        )
        for row in rows:
            event = _to_event(row)
            if fold is None or fold.conversation_id != event.conversation_id:
                if fold is not None:
                    conn.execute(_INSERT_SUMMARY, _summary_row(fold))
                fold = Fold(event.conversation_id)
                count += 1
            fold.apply(
                event.data,
                version=event.version,
                position=event.position,
                recorded_at_us=row[3],
                hash=row[9],
            )
        if fold is not None:
            conn.execute(_INSERT_SUMMARY, _summary_row(fold))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return count
