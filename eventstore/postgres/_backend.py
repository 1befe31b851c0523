"""The PostgreSQL backend: one history for many writers on many hosts.

Appends. One writer task per store owns one connection and commits every append queued
behind the one it is working on as one transaction (group commit), as the SQLite backend's
writer thread does. The transaction locks the store's head row first, so transactions of all
processes commit one at a time in position order (see ``_sql``), then reads the summaries and
ids the planner needs, plans (``eventstore._planner``), inserts the events in one multi-row
statement and stores summaries, head and the commit's notification in another. Five round
trips and one WAL flush per group, whatever its size.

Reads run on a pool of connections; each page is one statement and so one snapshot.
Subscribers wake on ``LISTEN`` (a dedicated connection) and poll as well, so a lost
notification or a dropped listener costs latency, never an event.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from schemas import StoredEvent

from .. import _planner as planner
from .._event_rows import chain_entries, events_from_rows
from .._fold import Fold
from .._model import AppendResult, ConversationSummary, Direction
from .._summary_row import fold_from_row, fold_or_error, summary_row
from ..backend import AppendRequest
from ..errors import IntegrityError, StoreClosed, StoreError
from . import _sql as sql
from ._url import PostgresConfig

if TYPE_CHECKING:
    import asyncpg

__all__ = ("MAX_EVENT_BYTES", "PostgresBackend")

#: The largest event stored. PostgreSQL keeps a ``bytea`` value of up to 1 GB, but a value
#: travels in one protocol message, held in memory on both sides; past a few hundred MB that
#: is a mistake, not a message.
MAX_EVENT_BYTES = 256 * 1024 * 1024
#: Appends one transaction takes at most, and the data bytes one INSERT carries at most (one
#: ``bytea[]`` parameter must stay well under PostgreSQL's 1 GB).
_GROUP = 2_000
_INSERT_BYTES = 64 * 1024 * 1024
_REMEMBERED = 10_000  # summaries the writer keeps at most (then it starts over)


class PostgresBackend:
    """PostgreSQL storage. Use through :func:`eventstore.connect`, not directly."""

    def __init__(self, config: PostgresConfig) -> None:
        self._config = config
        self._sql = sql.Statements(config.schema)
        self.max_event_bytes = MAX_EVENT_BYTES
        self._pool: asyncpg.Pool | None = None
        self._writer: asyncpg.Connection | None = None
        self._listener: asyncpg.Connection | None = None
        self._queue: list[tuple[AppendRequest, asyncio.Future[Any]]] = []
        # The summaries this writer last stored, valid while the head row still holds the
        # (position, generation) of its own last commit: then no one else has written since,
        # and an append needs not read them back.
        self._folds: dict[str, Fold] = {}
        self._folds_at: tuple[int, int] | None = None
        self._work = asyncio.Event()
        self._writer_task: asyncio.Task[None] | None = None
        self._commits = 0
        self._committed = asyncio.Event()
        self._waiting = 0
        self._closing = False

    @property
    def _name(self) -> str:
        return f"{self._config.shown} (schema {self._config.schema})"

    # -- lifecycle -----------------------------------------------------------------------

    async def open(self) -> None:
        asyncpg = _asyncpg()
        settings = {"application_name": "convlog"}
        if self._config.read_only:
            settings["default_transaction_read_only"] = "on"
        try:
            self._pool = await asyncpg.create_pool(
                self._config.dsn,
                min_size=1,
                max_size=self._config.readers,
                server_settings=settings,
                timeout=10,
            )
        except Exception as exc:
            raise StoreError(f"cannot connect to {self._config.shown}: {_reason(exc)}") from None
        try:
            if self._config.read_only:
                await self._check_schema()
            else:
                await self._migrate()
                self._writer = await self._connect_writer()
                self._writer_task = asyncio.create_task(self._write_loop(), name="convlog-pg")
            await self._listen()
        except BaseException:
            await self.aclose()
            raise

    async def _connect_writer(self) -> asyncpg.Connection:
        pg = _asyncpg()
        settings = {
            "application_name": "convlog-writer",
            "synchronous_commit": "on" if self._config.durability == "full" else "off",
            # How long an append waits for another writer's transaction (busy_timeout).
            "lock_timeout": str(int(self._config.busy_timeout * 1000)),
        }
        try:
            conn: asyncpg.Connection = await pg.connect(
                self._config.dsn, server_settings=settings, timeout=10
            )
        except Exception as exc:
            raise StoreError(f"cannot connect to {self._config.shown}: {_reason(exc)}") from None
        return conn

    async def _migrate(self) -> None:
        """Create the schema, or bring it to this version, under an advisory lock: workers
        that start at once wait for the first, then find the store made."""
        assert self._pool is not None
        s = self._sql
        async with self._pool.acquire() as conn:
            try:
                async with conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock($1)", _lock_key(s.schema))
                    version = await self._stored_version(conn)
                    if version is None:
                        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {s.schema}")
                        await conn.execute(
                            f"CREATE TABLE {s.meta_table} (key text PRIMARY KEY, value text "
                            "NOT NULL)"
                        )
                        await conn.execute(f"INSERT INTO {s.meta_table} VALUES ('schema', '0')")
                        version = 0
                    for step in sql.MIGRATIONS[version:]:
                        for statement in step(s.schema):
                            await conn.execute(statement)
                    if version < sql.SCHEMA_VERSION:
                        await conn.execute(
                            f"UPDATE {s.meta_table} SET value = $1 WHERE key = 'schema'",
                            str(sql.SCHEMA_VERSION),
                        )
            except StoreError:
                raise
            except Exception as exc:
                raise StoreError(f"cannot open {self._name}: {_reason(exc)}") from None

    async def _check_schema(self) -> None:
        assert self._pool is not None
        async with self._pool.acquire() as conn:
            try:
                version = await self._stored_version(conn)
            except StoreError:
                raise
            except Exception as exc:
                raise StoreError(f"cannot open {self._name}: {_reason(exc)}") from None
        if version is None:
            raise StoreError(f"no store at {self._name}: the schema holds no convlog store")
        if version < sql.SCHEMA_VERSION:
            raise StoreError(
                f"{self._name} has schema version {version}; open it once read-write to "
                f"migrate it to {sql.SCHEMA_VERSION}"
            )

    async def _stored_version(self, conn: asyncpg.Connection) -> int | None:
        """The store's schema version, ``None`` if the schema holds no store.

        :raises StoreError: if the schema holds tables that are not a convlog store, or a
            store newer than this convlog.
        """
        s = self._sql
        schema = self._config.schema
        if await conn.fetchval("SELECT to_regclass($1)", f"{s.meta_table}") is None:
            tables = await conn.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 "
                "ORDER BY 1 LIMIT 5",
                schema,
            )
            if tables:
                names = ", ".join(row[0] for row in tables)
                raise StoreError(
                    f"schema {schema!r} of {self._config.shown} holds tables but no convlog "
                    f"store (it has {names}); refusing to add tables to it"
                )
            return None
        value = await conn.fetchval(f"SELECT value FROM {s.meta_table} WHERE key = 'schema'")
        if type(value) is not str or not value.isdigit():
            raise StoreError(
                f"{self._name}: convlog_meta holds no schema version (found {value!r:.40})"
            )
        if int(value) > sql.SCHEMA_VERSION:
            raise StoreError(
                f"database schema version {value} is newer than this convlog supports "
                f"({sql.SCHEMA_VERSION}); upgrade convlog"
            )
        return int(value)

    async def _listen(self) -> None:
        """Wake subscribers when any process commits to this store."""
        asyncpg = _asyncpg()
        try:
            self._listener = await asyncpg.connect(self._config.dsn, timeout=10)
            await self._listener.add_listener(self._sql.channel, self._notified)
        except Exception:  # polling still finds every commit; a listener only makes it prompt
            if self._listener is not None:
                with contextlib.suppress(Exception):
                    await self._listener.close()
            self._listener = None

    def _notified(self, *_: object) -> None:
        self._after_commit()

    async def aclose(self) -> None:
        self._closing = True
        self._committed.set()
        self._work.set()
        if self._writer_task is not None:
            # Every queued append is finished first.
            await asyncio.shield(self._writer_task)
        for conn in (self._writer, self._listener):
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close(timeout=5)
        self._writer = self._listener = None
        if self._pool is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._pool.close(), 10)
            self._pool = None

    # -- appends -------------------------------------------------------------------------

    async def append(self, request: AppendRequest) -> AppendResult:
        if self._config.read_only:
            raise StoreError(
                f"the store {self._name} is open read-only (read_only=True): nothing is written"
            )
        if self._closing:
            raise StoreClosed("the store is closed")
        future: asyncio.Future[AppendResult] = asyncio.get_running_loop().create_future()
        self._queue.append((request, future))
        self._work.set()
        return await future

    async def _write_loop(self) -> None:
        """Commit what is queued, one group per transaction, until the store closes."""
        while True:
            if not self._queue:
                if self._closing:
                    return
                self._work.clear()
                await self._work.wait()
                continue
            # An append whose caller gave up waiting is written all the same (as with SQLite):
            # the caller cannot know how far it got, and a retry with its ids finds it.
            group, self._queue = self._queue[:_GROUP], self._queue[_GROUP:]
            try:
                outcomes = await self._commit([r for r, _ in group])
            except Exception as exc:  # a fault of ours, not the database's: fail this group
                # alone, and keep serving, rather than leave every later caller waiting
                outcomes = [StoreError(f"cannot append: {_reason(exc)}")] * len(group)
            for (_, future), outcome in zip(group, outcomes, strict=True):
                if future.cancelled():
                    continue
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
            self._after_commit()

    async def _commit(self, requests: Sequence[AppendRequest]) -> list[Any]:
        """One transaction for all ``requests``: one outcome (result or error) for each."""
        conn = self._writer
        if conn is None or conn.is_closed():
            try:
                conn = self._writer = await self._connect_writer()
            except StoreError as exc:
                return [exc for _ in requests]
        committing = False
        try:
            async with conn.transaction():
                plan, generation = await self._plan(conn, requests)
                if plan.appends:
                    await self._write(conn, plan)
                committing = True
        except Exception as exc:
            self._folds.clear()  # advanced by a plan that did not commit
            self._folds_at = None
            if _connection_lost(exc):
                self._writer = None
                return [_lost(exc, committing) for _ in requests]
            if len(requests) == 1:
                return [_translate(exc)]
            # Something unexpected failed the shared transaction: retry one by one, so the
            # failure stays with the append that caused it.
            return [(await self._commit([request]))[0] for request in requests]
        self._folds_at = (plan.head, generation)
        if len(self._folds) > _REMEMBERED:
            self._folds.clear()
        return plan.outcomes

    async def _plan(
        self, conn: asyncpg.Connection, requests: Sequence[AppendRequest]
    ) -> tuple[planner.Plan, int]:
        s = self._sql
        # The head row's lock first, in a statement of its own: every later statement of the
        # transaction then sees whatever committed before the lock was granted.
        head, generation = await conn.fetchrow(s.lock_head)
        folds = self._folds
        if self._folds_at != (head, generation):
            # Another writer committed (or summaries were rebuilt) since this one's last
            # commit: what it remembers may be stale.
            folds.clear()
        if missing := planner.conversations_of(requests) - folds.keys():
            for row in await conn.fetch(s.folds, list(missing)):
                fold = fold_from_row(tuple(row[:-1]))
                if row[-1] != fold.head_hash:
                    raise IntegrityError(
                        f"summary of conversation {fold.conversation_id!r} disagrees with its "
                        "last event (run verify, then rebuild_summaries)",
                        fold.conversation_id,
                    )
                folds[fold.conversation_id] = fold
        known: dict[bytes, planner.IdHit] = {}
        if ids := planner.given_ids(requests):
            for id_bytes, cid, version, position in await conn.fetch(s.lookup_ids, ids):
                known[id_bytes] = (cid, version, position)
        plan = planner.plan(requests, folds, known, head, time.time_ns() // 1000)
        return plan, generation

    async def _write(self, conn: asyncpg.Connection, plan: planner.Plan) -> None:
        """Insert the plan's events and store its summaries and head: one statement, unless
        the events' data is too large for one (then the excess goes first, in chunks)."""
        columns: list[list[Any]] = [[] for _ in range(10)]
        positions, cids, versions, ids, types, sessions, turns, harnesses, datas, hashes = columns
        at = plan.recorded_at_us
        size = 0
        for req, version, position, event_hashes in plan.appends:
            cid, session_id, turn_id, harness = (
                req.conversation_id, req.session_id, req.turn_id, req.harness
            )  # fmt: skip
            for i, (event, hash) in enumerate(zip(req.events, event_hashes, strict=True)):
                positions.append(position + i)
                cids.append(cid)
                versions.append(version + i)
                ids.append(event.key)
                types.append(event.type)
                sessions.append(session_id)
                turns.append(turn_id)
                harnesses.append(harness)
                datas.append(event.data)
                hashes.append(hash)
                size += len(event.data)
                if size >= _INSERT_BYTES:
                    p, c, v, k, t, st, tt, ht, d, h = columns
                    await conn.execute(self._sql.insert_events, p, c, v, k, t, at, st, tt, ht, d, h)
                    for column in columns:
                        column.clear()
                    size = 0
        p, c, v, k, t, st, tt, ht, d, h = columns
        await conn.fetchval(
            self._sql.write_group,
            *(p, c, v, k, t, at, st, tt, ht, d, h),
            *_by_column(plan.updated),
            *_by_column(plan.created),
            plan.head,
            self._sql.channel,
        )

    def _after_commit(self) -> None:
        self._commits += 1
        if self._waiting:
            self._committed.set()
            self._committed = asyncio.Event()

    @property
    def commits(self) -> int:
        return self._commits

    async def wait_for_commit(self, seen: int, seconds: float) -> None:
        if self._commits != seen or self._closing:
            return
        self._waiting += 1
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._committed.wait(), seconds)
        finally:
            self._waiting -= 1

    # -- reads ---------------------------------------------------------------------------

    async def _fetch(self, query: str, *args: Any) -> list[Any]:
        if self._pool is None:
            raise StoreClosed("the store is closed")
        try:
            rows = await self._pool.fetch(query, *args)
        except Exception as exc:
            raise StoreError(f"cannot read {self._name}: {_reason(exc)}") from None
        return list(rows)

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
            f"SELECT {sql.PAGE_COLS} FROM {self._sql.events} "
            "WHERE conversation_id = $1 AND version BETWEEN $2 AND $3"
        )
        args: list[Any] = [conversation_id, lo, sql.MAX_VERSION if hi is None else hi]
        if types is not None:
            query += " AND type = ANY($5::text[])"
        query += f" ORDER BY version {'ASC' if direction == 'asc' else 'DESC'} LIMIT $4"
        args.append(limit)
        if types is not None:
            args.append(list(types))
        rows = await self._fetch(query, *args)
        return events_from_rows(rows, [conversation_id] * len(rows))

    async def read_all_page(self, from_position: int, limit: int) -> list[StoredEvent]:
        query = (
            f"SELECT {sql.EVENT_COLS} FROM {self._sql.events} WHERE position >= $1 "
            "ORDER BY position LIMIT $2"
        )
        rows = await self._fetch(query, from_position, limit)
        return events_from_rows(rows, [row[8] for row in rows])

    async def conversations_page(
        self,
        after_position: int | None,
        direction: Direction,
        limit: int,
        parent_id: str | None = None,
    ) -> list[ConversationSummary]:
        op, order = (">", "ASC") if direction == "asc" else ("<", "DESC")
        conditions: list[str] = []
        args: list[Any] = [limit]
        if after_position is not None:
            args.append(after_position)
            conditions.append(f"last_position {op} ${len(args)}")
        if parent_id is not None:
            args.append(parent_id)
            conditions.append(f"parent_id = ${len(args)}")
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        query = f"{self._sql.summaries} {where} ORDER BY last_position {order} LIMIT $1"
        return [fold_from_row(tuple(row)).summary() for row in await self._fetch(query, *args)]

    async def get_summary(self, conversation_id: str) -> ConversationSummary | None:
        rows = await self._fetch(
            f"{self._sql.summaries} WHERE conversation_id = $1", conversation_id
        )
        return fold_from_row(tuple(rows[0])).summary() if rows else None

    async def summaries_page(
        self, after: Any, limit: int
    ) -> list[tuple[Any, Fold | IntegrityError]]:
        if after is None:
            query = f"{self._sql.summaries} ORDER BY conversation_id LIMIT $1"
            rows = await self._fetch(query, limit)
        else:
            query = f"{self._sql.summaries} WHERE conversation_id > $2 ORDER BY conversation_id LIMIT $1"
            rows = await self._fetch(query, limit, after)
        return [fold_or_error(tuple(row)) for row in rows]

    async def hash_page(
        self, after_position: int, max_position: int, limit: int
    ) -> list[tuple[int, bytes]]:
        query = (
            f"SELECT position, hash FROM {self._sql.events} WHERE position > $1 AND "
            "position <= $2 ORDER BY position LIMIT $3"
        )
        return [
            (row[0], row[1])
            for row in await self._fetch(query, after_position, max_position, limit)
        ]

    async def head_position(self) -> int:
        # The highest committed event, not the head row: a reader of a replica, or one
        # without the head table's grant, still sees the events.
        rows = await self._fetch(f"SELECT coalesce(max(position), 0) FROM {self._sql.events}")
        head: int = rows[0][0]
        return head

    async def first_missing_position(self, head: int) -> int | None:
        # Positions are numbered under the head row's lock, in commit order, with no gaps:
        # a missing one was deleted (by someone who got past the trigger).
        if head == 0:
            return None
        e = self._sql.events
        rows = await self._fetch(
            f"SELECT min(p) FROM (SELECT 1 AS p WHERE NOT EXISTS (SELECT 1 FROM {e} WHERE "
            f"position = 1) UNION ALL SELECT position + 1 FROM {e} AS x WHERE position < $1 "
            f"AND NOT EXISTS (SELECT 1 FROM {e} WHERE position = x.position + 1)) AS gaps",
            head,
        )
        found: int | None = rows[0][0]
        return found

    async def chain_page(
        self, after: tuple[str, int] | None, max_position: int, limit: int
    ) -> list[tuple[StoredEvent | IntegrityError, bytes]]:
        where = "WHERE position <= $1"
        args: list[Any] = [max_position, limit]
        if after is not None:
            where += " AND (conversation_id, version) > ($3, $4)"
            args.extend(after)
        query = (
            f"SELECT {sql.EVENT_COLS}, hash, type FROM {self._sql.events} {where} "
            "ORDER BY conversation_id, version LIMIT $2"
        )
        return chain_entries(await self._fetch(query, *args))

    async def check_storage(self) -> str | None:
        # PostgreSQL checks its own pages (and their checksums, where the cluster has them)
        # as it reads them; a read that finds damage fails with the server's error.
        return None

    async def rebuild_summaries(self, force: bool) -> int:
        if self._config.read_only:
            raise StoreError(
                f"the store {self._name} is open read-only (read_only=True): nothing is written"
            )
        assert self._pool is not None
        async with self._pool.acquire() as conn:
            try:
                async with conn.transaction():
                    return await self._rebuild(conn, force)
            except StoreError:
                raise
            except Exception as exc:
                raise _translate(exc) from None

    async def _rebuild(self, conn: asyncpg.Connection, force: bool) -> int:
        """Rebuild the summaries a slice of conversations at a time, in one transaction that
        holds the head lock: a check that fails in any slice rolls back every slice."""
        s = self._sql
        await conn.fetchval(s.lock_head)
        await conn.execute(s.next_generation)
        count = 0
        after = ""  # below every conversation id (ids are never empty)
        while True:
            ids = await conn.fetch(
                f"SELECT DISTINCT conversation_id FROM {s.events} WHERE conversation_id > $1 "
                "ORDER BY 1 LIMIT 500",
                after,
            )
            last = ids[-1][0] if len(ids) == 500 else None  # None: to the end
            bound = "" if last is None else " AND conversation_id <= $2"
            args = (after,) if last is None else (after, last)
            rows = await conn.fetch(
                f"SELECT {sql.EVENT_COLS}, hash FROM {s.events} WHERE conversation_id > $1"
                f"{bound} ORDER BY conversation_id, version",
                *args,
            )
            events = [
                (event, row[9])
                for row, event in zip(
                    rows, events_from_rows(rows, [r[8] for r in rows]), strict=True
                )
            ]
            stored = None
            if not force:
                stored_rows = await conn.fetch(
                    f"{s.summaries} WHERE conversation_id > $1{bound} ORDER BY conversation_id",
                    *args,
                )
                stored = [fold_or_error(tuple(row)) for row in stored_rows]
            folds = list(planner.rebuild(events, stored))
            await conn.execute(
                f"DELETE FROM {s.conversations} WHERE conversation_id > $1{bound}", *args
            )
            await conn.execute(s.insert_summaries, *_by_column(folds))
            count += len(folds)
            if last is None:
                return count
            after = last


def _by_column(folds: list[Fold]) -> list[Any]:
    """The summary rows of ``folds`` as one list per column (unnest's parameters)."""
    if not folds:
        return [[] for _ in sql.SUMMARY_TYPES]
    return [list(column) for column in zip(*map(summary_row, folds), strict=True)]


def _lock_key(schema: str) -> int:
    """The advisory lock of a store's migrations: a signed 64-bit number from its schema."""
    digest = hashlib.blake2b(f"convlog:{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _asyncpg() -> Any:
    try:
        import asyncpg
    except ImportError:
        raise StoreError(
            "the PostgreSQL backend needs asyncpg: pip install 'convlog[postgres]'"
        ) from None
    return asyncpg


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _connection_lost(exc: BaseException) -> bool:
    asyncpg = _asyncpg()
    return isinstance(
        exc,
        OSError
        | asyncpg.exceptions.ConnectionDoesNotExistError
        | asyncpg.exceptions.InterfaceError
        | asyncpg.exceptions.AdminShutdownError
        | asyncpg.exceptions.CannotConnectNowError,
    )


def _lost(exc: BaseException, committing: bool) -> StoreError:
    if committing:
        return StoreError(
            f"the connection to the database was lost while committing ({_reason(exc)}): the "
            "append may have been stored. Retry it with the same event_ids to find out"
        )
    return StoreError(
        f"the connection to the database was lost ({_reason(exc)}); nothing was stored"
    )


def _translate(exc: Exception) -> StoreError:
    if isinstance(exc, StoreError):
        return exc
    asyncpg = _asyncpg()
    if isinstance(exc, asyncpg.exceptions.LockNotAvailableError):
        return StoreError(
            "another writer held the store's write lock past busy_timeout; nothing was stored"
        )
    if isinstance(exc, asyncpg.exceptions.IntegrityConstraintViolationError):
        return StoreError(f"the database refused the append: {_reason(exc)}")
    error = StoreError(f"cannot append: {_reason(exc)}")
    error.__cause__ = exc
    return error
