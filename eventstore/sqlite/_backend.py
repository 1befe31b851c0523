"""The SQLite backend: embedded, durable, safe for several processes on one file.

One writer thread per store owns the write connection and commits every append queued behind
the one it is working on as one ``BEGIN IMMEDIATE`` transaction (group commit). Heads, ids and
the global position are re-read inside that transaction, so several processes can append to
one file: SQLite's write lock orders them, ``busy_timeout`` makes them wait their turn. Reads
run on their own connections and threads, each page one statement and so one snapshot (WAL).

What an append stores is decided by the shared planner (``eventstore._planner``); this module
only reads what the planner needs and writes what it returns.
"""

from __future__ import annotations

import itertools
import os
import shlex
import sqlite3
import time
import urllib.parse
from collections.abc import Awaitable, Sequence
from typing import Any, TypeGuard

import anyio

from schemas import StoredEvent

from .. import _planner as planner
from .._fold import Fold
from .._model import AppendResult, ConversationSummary, Direction
from ..backend import AppendRequest
from ..errors import IntegrityError, StoreCorrupted, StoreError
from . import _sql as sql
from ._files import FileWatch
from ._url import SQLiteConfig
from ._worker import Worker

__all__ = ("MAX_EVENT_BYTES", "SQLiteBackend")

#: The largest value SQLite stores, its SQLITE_MAX_LENGTH as compiled by default (the limit a
#: connection reports may be lower; open() takes the lower of the two).
MAX_EVENT_BYTES = 1_000_000_000


class SQLiteBackend:
    """SQLite storage. Use through :func:`eventstore.connect`, not directly."""

    def __init__(self, config: SQLiteConfig) -> None:
        self.path = config.path
        self._config = config
        self._writer: Worker[sqlite3.Connection] | None = None
        self._readers: list[Worker[sqlite3.Connection]] = []
        self._in_flight: list[int] = []  # reads queued or running, per reader
        self._commits = 0  # group commits through this store (see wait_for_commit)
        self._committed = anyio.Event()
        self._waiting = 0
        self._closing = False
        self._heads = _Heads()  # touched by the writer thread only
        self.max_event_bytes = MAX_EVENT_BYTES
        # Why every later append is refused, once one is: the file was found damaged, or it
        # or its -wal file was deleted (see _files). Set by the writer thread or the event
        # loop, read by the writer before it touches the file.
        self._refusal: tuple[type[StoreError], str] | None = None
        self._files: FileWatch | None = None  # a file store's files, as opened

    # -- lifecycle -----------------------------------------------------------------------

    async def open(self) -> None:
        if self._config.read_only:
            await self._open_read_only()
        elif self.path is None:
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
            self._files = FileWatch(self.path)
            for i in range(self._config.readers):
                conn = self._connect(self.path)
                conn.execute("PRAGMA query_only = ON")
                self._readers.append(Worker(f"convlog-reader-{i}", conn, None, _close))
        self._in_flight = [0] * len(self._readers)

    async def _open_read_only(self) -> None:
        """Readers only, on a file opened with ``mode=ro``: no lock is taken and nothing is
        created, so a store in a read-only directory, or one a busy writer holds, opens."""
        assert self.path is not None
        uri = _read_only_uri(self.path)
        for i in range(self._config.readers):
            conn = self._connect(uri)
            self._readers.append(Worker(f"convlog-reader-{i}", conn, None, _close))
        try:
            await self._readers[0].call(self._check_schema)
        except BaseException:
            await self.aclose()
            raise

    def _check_schema(self, conn: sqlite3.Connection) -> None:
        """The file is a convlog store this version can read.

        :raises StoreError: if it is not, naming the file.
        """
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
            if "convlog_meta" not in tables:
                raise StoreError(
                    f"{self.path} is not a convlog store"
                    + (f" (it has {', '.join(sorted(tables)[:5])})" if tables else " (it is empty)")
                )
            row = conn.execute("SELECT value FROM convlog_meta WHERE key = 'schema'").fetchone()
        except sqlite3.Error as exc:
            if _is_damage(exc):
                raise StoreCorrupted(_damaged(str(self.path), exc, "cannot open it")) from None
            raise StoreError(f"cannot open {self.path}: {exc}") from None
        _check_schema_version(self.path, row)

    async def aclose(self) -> None:
        self._closing = True
        self._committed.set()  # subscribers waiting for a commit: the store closes instead
        # The writer first: it finishes every queued append before it stops.
        if self._writer is not None:
            await self._writer.aclose()
        for reader in self._readers:
            if reader is not self._writer:
                await reader.aclose()

    @property
    def _name(self) -> str:
        """The store as messages name it."""
        return self.path or "the in-memory store"

    def _connect(self, target: str) -> sqlite3.Connection:
        timeout = self._config.busy_timeout
        read_only = target.startswith("file:")  # a mode=ro URI (see _open_read_only)
        try:
            conn = sqlite3.connect(
                target,
                timeout=timeout,
                isolation_level=None,  # we issue BEGIN/COMMIT ourselves
                check_same_thread=False,  # each connection is used by one worker thread
                uri=read_only,
            )
            conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            if read_only:
                conn.execute("PRAGMA query_only = ON")
            elif target != ":memory:":
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if mode != "wal":
                    raise StoreError(f"cannot switch {target} to WAL mode (got {mode!r})")
            conn.execute(f"PRAGMA synchronous = {self._config.durability.upper()}")
            # The whole row is one record: leave room beside the data for the envelope.
            limit = conn.getlimit(sqlite3.SQLITE_LIMIT_LENGTH) - 4096
            self.max_event_bytes = min(self.max_event_bytes, limit)
        except sqlite3.Error as exc:
            if _is_damage(exc):
                raise StoreCorrupted(_damaged(self.path or target, exc, "cannot open it")) from None
            raise StoreError(f"cannot open {self.path or target}: {exc}") from None
        return conn

    def _init_schema(self, conn: sqlite3.Connection) -> None:
        try:
            self._create_schema(conn)
        except sqlite3.Error as exc:
            if _is_damage(exc):
                raise StoreCorrupted(_damaged(self._name, exc, "cannot open it")) from None
            raise StoreError(f"cannot open {self._name}: {exc}") from None

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
            if tables and "convlog_meta" not in tables:
                raise StoreError(
                    f"{self.path} is an SQLite database but not a convlog store "
                    f"(it has {', '.join(sorted(tables)[:5])}); refusing to add tables to it"
                )
            for statement in sql.DDL:
                conn.execute(statement)
            row = conn.execute("SELECT value FROM convlog_meta WHERE key = 'schema'").fetchone()
            if row is None and not tables:
                conn.execute(
                    "INSERT INTO convlog_meta (key, value) VALUES ('schema', ?)",
                    (str(sql.SCHEMA_VERSION),),
                )
            elif _check_schema_version(self.path, row, writing=True) == 1:
                sql.migrate_1_to_2(conn)  # in this transaction: all of it, or nothing
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    # -- appends -------------------------------------------------------------------------

    def append(self, request: AppendRequest) -> Awaitable[AppendResult]:
        # Not a coroutine: the writer's future is what the store awaits.
        if self._writer is None:
            raise self._read_only_error()
        return self._writer.submit_batched(request)

    def _after_commit(self) -> None:
        """Run on the event loop after each group commit, even one whose callers were all
        cancelled: wake this store's subscribers (others poll)."""
        self._commits += 1
        if self._waiting:
            self._committed.set()
            self._committed = anyio.Event()

    def _commit(self, conn: sqlite3.Connection, requests: Sequence[AppendRequest]) -> list[Any]:
        """Batch function of the writer thread: one transaction for all ``requests``."""
        if self._refusal is not None:  # never write on top of damage, or where none can see
            return [self._refused() for _ in requests]
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
        except Exception as exc:
            if _is_damage(exc):  # every caller refused, none retried one by one
                message = self._found_damage(exc)
                return [StoreCorrupted(message) for _ in requests]
            if len(requests) == 1:
                return [_translate(exc)]
            # Something unexpected failed the shared transaction (the database, or a value
            # the driver cannot bind). Retry one by one so the failure stays with the append
            # that caused it.
            return [self._commit(conn, [request])[0] for request in requests]
        if lost := self._lost():
            # Committed, but where a crash loses it: each caller whose append was stored
            # hears so (the others' own errors stand: they stored nothing).
            return [o if isinstance(o, Exception) else StoreError(lost) for o in outcomes]
        return outcomes

    def _apply(
        self, conn: sqlite3.Connection, requests: Sequence[AppendRequest], heads: _Heads
    ) -> list[Any]:
        """Read what the planner needs (from the cache where it is valid), plan, write."""
        folds = heads.folds
        if missing := planner.conversations_of(requests) - folds.keys():
            folds.update(sql.load_folds(conn, missing))
        known = sql.lookup_ids(conn, planner.given_ids(requests))
        if heads.position is None:
            heads.position = sql.query_head(conn)
        plan = planner.plan(requests, folds, known, heads.position, time.time_ns() // 1000)
        sql.write_plan(conn, plan)
        heads.position = plan.head
        heads.remember(plan.created, plan.updated)
        return plan.outcomes

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

    def _read_only_error(self) -> StoreError:
        return StoreError(
            f"the store {self.path} is open read-only (read_only=True): nothing is written"
        )

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
        except sqlite3.Error as exc:
            if _is_damage(exc):
                raise StoreCorrupted(self._found_damage(exc)) from None
            raise StoreError(f"cannot read {self._name}: {exc}") from None
        finally:
            in_flight[i] -= 1

    def _found_damage(self, exc: sqlite3.Error | str) -> str:
        """Refuse every later append (from any thread), and return the message saying why."""
        message = _damaged(self._name, exc)
        if self._refusal is None:
            self._refusal = (StoreCorrupted, message)
        return message

    def _lost(self) -> str | None:
        """After a commit: if the store's files were deleted or replaced behind it, refuse
        every later append, and return what to tell the callers of this commit."""
        if self._files is None or (lost := self._files.lost()) is None:
            return None
        if self._refusal is None:
            self._refusal = (
                StoreError,
                f"appends are refused since durability was lost: {lost}. Close the store and "
                "open it again",
            )
        return (
            f"durability lost: {lost}. This append was committed there. Appends are refused "
            "from now on: close the store and open it again, then retry this append with its "
            "event_ids, if it had them, to learn whether it was stored"
        )

    def _refused(self) -> StoreError:
        assert self._refusal is not None
        cls, message = self._refusal
        return cls(message)

    async def read_page(
        self,
        conversation_id: str,
        lo: int,
        hi: int | None,
        direction: Direction,
        limit: int,
        types: tuple[str, ...] | None = None,
    ) -> list[StoredEvent]:
        query = (
            f"SELECT {sql.PAGE_COLS} FROM events "
            "WHERE conversation_id = ? AND version BETWEEN ? AND ?"
        )
        args: list[Any] = [conversation_id, lo, sql.MAX_VERSION if hi is None else hi]
        if types is not None:
            query += f" AND type IN ({','.join('?' * len(types))})"
            args.extend(types)
        query += f" ORDER BY version {'ASC' if direction == 'asc' else 'DESC'} LIMIT ?"
        args.append(limit)
        events: list[StoredEvent] = await self._read(sql.query_page, query, args, conversation_id)
        return events

    async def read_all_page(self, from_position: int, limit: int) -> list[StoredEvent]:
        query = f"SELECT {sql.EVENT_COLS} FROM events WHERE position >= ? ORDER BY position LIMIT ?"
        events: list[StoredEvent] = await self._read(
            sql.query_events, query, (from_position, limit)
        )
        return events

    async def conversations_page(
        self,
        after_position: int | None,
        direction: Direction,
        limit: int,
        parent_id: str | None = None,
    ) -> list[ConversationSummary]:
        op, order = (">", "ASC") if direction == "asc" else ("<", "DESC")
        conditions: list[str] = []
        args: list[Any] = []
        if after_position is not None:
            conditions.append(f"last_position {op} ?")
            args.append(after_position)
        if parent_id is not None:
            conditions.append("parent_id = ?")
            args.append(parent_id)
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        query = f"{sql.SELECT_SUMMARIES} {where} ORDER BY last_position {order} LIMIT ?"
        summaries: list[ConversationSummary] = await self._read(
            sql.query_summaries, query, (*args, limit)
        )
        return summaries

    async def get_summary(self, conversation_id: str) -> ConversationSummary | None:
        query = f"{sql.SELECT_SUMMARIES} WHERE conversation_id = ?"
        found: list[ConversationSummary] = await self._read(
            sql.query_summaries, query, (conversation_id,)
        )
        return found[0] if found else None

    async def summaries_page(
        self, after: Any, limit: int
    ) -> list[tuple[Any, Fold | IntegrityError]]:
        where = "" if after is None else "WHERE conversation_id > ?"
        query = f"{sql.SELECT_SUMMARIES} {where} ORDER BY conversation_id LIMIT ?"
        args = (limit,) if after is None else (after, limit)
        page: list[tuple[Any, Fold | IntegrityError]] = await self._read(
            sql.query_folds, query, args
        )
        return page

    async def hash_page(
        self, after_position: int, max_position: int, limit: int
    ) -> list[tuple[int, bytes]]:
        query = (
            "SELECT position, hash FROM events WHERE position > ? AND position <= ? "
            "ORDER BY position LIMIT ?"
        )
        page: list[tuple[int, bytes]] = await self._read(
            sql.query_rows, query, (after_position, max_position, limit)
        )
        return page

    async def head_position(self) -> int:
        head: int = await self._read(sql.query_head)
        return head

    async def first_missing_position(self, head: int) -> int | None:
        missing: int | None = await self._read(sql.query_first_missing, head)
        return missing

    async def chain_page(
        self, after: tuple[str, int] | None, max_position: int, limit: int
    ) -> list[tuple[StoredEvent | IntegrityError, bytes]]:
        where = "WHERE position <= ?"
        if after is not None:
            where += " AND (conversation_id, version) > (?, ?)"
        query = (
            f"SELECT {sql.EVENT_COLS}, hash, type FROM events {where} "
            "ORDER BY conversation_id, version LIMIT ?"
        )
        args = (max_position, *(after or ()), limit)
        page: list[tuple[StoredEvent | IntegrityError, bytes]] = await self._read(
            sql.query_chain, query, args
        )
        return page

    async def check_storage(self) -> str | None:
        problems: list[str] = await self._read(sql.check_integrity)
        if not problems:
            return None
        return self._found_damage(f"PRAGMA integrity_check: {'; '.join(problems[:3])}")

    async def rebuild_summaries(self, force: bool) -> int:
        if self._writer is None:
            raise self._read_only_error()
        count: int = await self._writer.call(self._rebuild, force)
        return count

    def _rebuild(self, conn: sqlite3.Connection, force: bool) -> int:
        if self._refusal is not None:
            raise self._refused()
        self._heads.forget()
        try:
            return sql.rebuild(conn, force)
        except sqlite3.Error as exc:
            if _is_damage(exc):
                raise StoreCorrupted(self._found_damage(exc)) from None
            raise _translate(exc) from None


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

    def remember(self, *touched: list[Fold]) -> None:
        """Keep the folds an append just moved as the most recent (the planner already put
        them in ``folds``), and forget the least recent past :attr:`CAPACITY`."""
        folds = self.folds
        for group in touched:
            for fold in group:
                cid = fold.conversation_id
                del folds[cid]
                folds[cid] = fold
        excess = len(folds) - self.CAPACITY
        if excess > 0:
            for cid in list(itertools.islice(folds, excess)):
                del folds[cid]


# -- helpers -------------------------------------------------------------------------------


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


def _read_only_uri(path: str) -> str:
    """The ``mode=ro`` URI of an existing file (a read-only open never creates one).

    :raises StoreError: if there is no file at ``path``.
    """
    if not os.path.isfile(path):
        raise StoreError(f"no store at {path}: the file does not exist")
    return f"file:{urllib.parse.quote(os.path.abspath(path))}?mode=ro"


def _check_schema_version(path: str | None, row: Any, *, writing: bool = False) -> int:
    """The version ``convlog_meta``'s schema row names, if this convlog reads it: its own, or,
    when ``writing`` (the store is opened to write, and will migrate it), an older one.

    :raises StoreError: if the row is missing or not a version (a damaged or foreign file),
        names a newer schema, or, read-only, an older one.
    """
    where = path or "the in-memory store"
    value = row[0] if row is not None else None
    if type(value) is not str or not value.isdigit():
        raise StoreError(
            f"{where}: convlog_meta holds no schema version (found {value!r:.40}); the file is "
            "damaged or was not written by convlog"
        )
    if int(value) > sql.SCHEMA_VERSION:
        raise StoreError(
            f"database schema version {value} is newer than this convlog supports "
            f"({sql.SCHEMA_VERSION}); upgrade convlog"
        )
    if int(value) < sql.SCHEMA_VERSION and not writing:
        raise StoreError(
            f"{where} has schema version {value}, older than this convlog's "
            f"({sql.SCHEMA_VERSION}), and a read-only open cannot upgrade it: open it once to "
            "write (for example `convlog rebuild-summaries`), which upgrades it in place"
        )
    return int(value)


def _is_damage(exc: BaseException) -> TypeGuard[sqlite3.Error]:
    """SQLite found the file damaged (``SQLITE_CORRUPT``) or not a database at all
    (``SQLITE_NOTADB``): unlike a busy lock, a full disk or an I/O error, retrying cannot
    help, and writing on would spread the damage."""
    code = getattr(exc, "sqlite_errorcode", None)
    return (
        isinstance(exc, sqlite3.Error)
        and code is not None
        and code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
    )


def _damaged(
    name: str, exc: sqlite3.Error | str, consequence: str = "appends to it are refused"
) -> str:
    """What :class:`StoreCorrupted` says: the file, SQLite's words, and what to do."""
    what = "is damaged"
    if getattr(exc, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_NOTADB:
        what = "is not an SQLite database, or its header is damaged"
    return (
        f"{name} {what} (SQLite says: {exc}); {consequence}. Restore it from a "
        "backup, or salvage what it still holds with "
        f"`sqlite3 {shlex.quote(name)} .recover | sqlite3 recovered.db`"
    )


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
