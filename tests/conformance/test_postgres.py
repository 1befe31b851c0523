"""PostgreSQL only: the global order a subscriber can trust, history append-only in the
database, a role that may only insert and read, migrations, and the URLs and errors a user
meets. The engine-neutral guarantees are the rest of this suite, run against it too."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

import eventstore

from .conftest import POSTGRES_DSN, postgres_urls
from .support import PATIENCE, all_events, note, subscribed

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]


@pytest.fixture
def pg_url() -> str:
    return postgres_urls()()


@pytest.fixture
async def raw(pg_url: str) -> AsyncIterator[Any]:
    """A plain asyncpg connection to the test database, as a tool or a hostile role has."""
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_DSN)
    yield conn
    await conn.close()


def _schema(url: str) -> str:
    return url.rsplit("schema=", 1)[1]


# -- the global order --------------------------------------------------------------------------


async def test_a_subscriber_never_skips_an_event_that_commits_after_a_later_position_is_seen(
    pg_url: str,
) -> None:
    # Writer A takes position 2 and holds its transaction open before COMMIT; writer B (another
    # store, another connection, as another host) appends meanwhile. Were B's position 3 to
    # become visible before A's 2, a subscriber past 3 would never see 2. B must wait for A,
    # and the subscriber sees both, in order, once each.
    async with (
        eventstore.connect(pg_url) as a,
        eventstore.connect(pg_url) as b,
        eventstore.connect(pg_url, poll_interval=0.01) as reader,
    ):
        await a.append("warm-up", [note("0")])
        inserted, release = asyncio.Event(), asyncio.Event()
        backend: Any = a._backend
        write = backend._write

        async def write_then_hold(conn: Any, plan: Any) -> None:
            await write(conn, plan)
            inserted.set()
            await release.wait()

        backend._write = write_then_hold
        try:
            subscriber = asyncio.create_task(subscribed(reader, 2, from_position=2))
            first = asyncio.create_task(a.append("x", [note("A")]))
            await asyncio.wait_for(inserted.wait(), PATIENCE)
            second = asyncio.create_task(b.append("y", [note("B")]))
            await asyncio.sleep(0.3)
            assert not second.done(), "a later append committed while an earlier one was open"
            assert [e async for e in reader.read_all(from_position=2)] == []
        finally:
            release.set()
        results = await asyncio.wait_for(asyncio.gather(first, second), PATIENCE)
        received = await asyncio.wait_for(subscriber, PATIENCE)
    assert [r.positions for r in results] == [(2,), (3,)]
    assert [(e.position, e.data.payload) for e in received] == [(2, "A"), (3, "B")]  # type: ignore[union-attr]


async def test_an_open_foreign_transaction_on_the_head_holds_appends_until_it_ends(
    pg_url: str, raw: Any
) -> None:
    # A transaction that holds the head row (a writer on another host, mid-append) orders every
    # append after it; once it rolls back, the append goes ahead at the next position.
    async with eventstore.connect(pg_url) as store:
        await store.append("c", [note("1")])
        schema = _schema(pg_url)
        await raw.execute("BEGIN")
        await raw.fetchval(f'SELECT position FROM "{schema}".convlog_head FOR UPDATE')
        pending = asyncio.create_task(store.append("c", [note("2")]))
        await asyncio.sleep(0.2)
        assert not pending.done()
        await raw.execute("ROLLBACK")
        result = await asyncio.wait_for(pending, PATIENCE)
    assert result.positions == (2,)


async def test_a_lock_held_past_busy_timeout_fails_the_append_and_stores_nothing(
    pg_url: str, raw: Any
) -> None:
    async with eventstore.connect(pg_url, busy_timeout=0.2) as store:
        await store.append("c", [note("1")])
        async with raw.transaction():
            await raw.fetchval(f'SELECT position FROM "{_schema(pg_url)}".convlog_head FOR UPDATE')
            with pytest.raises(eventstore.StoreError, match="busy_timeout; nothing was stored"):
                await store.append("c", [note("2")])
        assert [e.version for e in await all_events(store)] == [1]
        assert (await store.append("c", [note("3")])).version == 2


# -- append-only, in the database ------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {s}.events SET data = 'x'::bytea",
        "DELETE FROM {s}.events",
        "TRUNCATE {s}.events",
        "INSERT INTO {s}.events SELECT * FROM {s}.events ON CONFLICT (position) DO UPDATE "
        "SET data = 'x'::bytea",
    ],
    ids=["update", "delete", "truncate", "upsert"],
)
async def test_the_database_refuses_to_change_history(
    pg_url: str, raw: Any, statement: str
) -> None:
    import asyncpg

    async with eventstore.connect(pg_url) as store:
        await store.append("c", [note("kept")])
        with pytest.raises(asyncpg.PostgresError, match="append-only"):
            await raw.execute(statement.format(s=f'"{_schema(pg_url)}"'))
        [event] = await all_events(store)
        assert event.data.payload == "kept"  # type: ignore[union-attr]
        assert (await store.verify()).ok


async def test_a_role_that_may_only_insert_and_read_events_runs_a_store(
    pg_url: str, raw: Any
) -> None:
    # The grants docs/store.md shows for a worker's role.
    import asyncpg

    async with eventstore.connect(pg_url) as store:  # the owner creates the schema
        await store.append("c", [note("by the owner")])
    schema = f'"{_schema(pg_url)}"'
    role = f"convlog_worker_{_schema(pg_url)}"
    await raw.execute(f"CREATE ROLE {role} LOGIN")
    try:
        for grant in (
            f"GRANT USAGE ON SCHEMA {schema} TO {role}",
            f"GRANT SELECT, INSERT ON {schema}.events TO {role}",
            f"GRANT SELECT, INSERT, UPDATE ON {schema}.conversations, {schema}.convlog_head "
            f"TO {role}",
            f"GRANT SELECT ON {schema}.convlog_meta TO {role}",
        ):
            await raw.execute(grant)
        worker_url = pg_url.replace("postgres@", f"{role}@", 1)
        async with eventstore.connect(worker_url) as worker:
            await worker.append("c", [note("by the worker")])
            assert (await worker.verify()).ok
        conn = await asyncpg.connect(POSTGRES_DSN.replace("postgres@", f"{role}@", 1))
        try:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(f"DELETE FROM {schema}.events")
        finally:
            await conn.close()
    finally:
        await raw.execute(f"DROP OWNED BY {role}")
        await raw.execute(f"DROP ROLE {role}")


# -- opening --------------------------------------------------------------------------------


async def test_workers_opening_a_new_store_at_once_all_succeed(pg_url: str) -> None:
    async def open_and_append(i: int) -> eventstore.AppendResult:
        async with eventstore.connect(pg_url) as store:
            return await store.append(f"w{i}", [note(str(i))])

    results = await asyncio.gather(*(open_and_append(i) for i in range(8)))
    assert sorted(p for r in results for p in r.positions) == list(range(1, 9))


async def test_a_schema_holding_other_tables_is_not_taken_over(pg_url: str, raw: Any) -> None:
    schema = f'"{_schema(pg_url)}"'
    await raw.execute(f"CREATE SCHEMA {schema}")
    await raw.execute(f"CREATE TABLE {schema}.orders (id int)")
    with pytest.raises(
        eventstore.StoreError, match=r"holds tables but no convlog store \(it has orders\)"
    ):
        async with eventstore.connect(pg_url):
            pass
    assert (
        await raw.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = $1", _schema(pg_url))
        == 1
    )


async def test_a_store_from_a_newer_convlog_is_refused(pg_url: str, raw: Any) -> None:
    async with eventstore.connect(pg_url):
        pass
    await raw.execute(f"UPDATE \"{_schema(pg_url)}\".convlog_meta SET value = '99'")
    with pytest.raises(eventstore.StoreError, match="schema version 99 is newer"):
        async with eventstore.connect(pg_url):
            pass


async def test_read_only_opens_an_existing_store_and_refuses_to_write(pg_url: str) -> None:
    with pytest.raises(eventstore.StoreError, match="no store at"):
        async with eventstore.connect(pg_url, read_only=True):
            pass
    async with eventstore.connect(pg_url) as store:
        await store.append("c", [note("1")])
    async with eventstore.connect(pg_url, read_only=True) as store:
        assert [e.version for e in await all_events(store)] == [1]
        with pytest.raises(eventstore.StoreError, match="read-only"):
            await store.append("c", [note("2")])


async def test_an_unreachable_server_is_one_error_that_hides_the_password() -> None:
    url = "postgresql://someone:s3cret@127.0.0.1:1/test"
    with pytest.raises(eventstore.StoreError) as caught:
        async with eventstore.connect(url):
            pass
    assert "cannot connect to postgresql://someone:***@127.0.0.1:1/test" in str(caught.value)
    assert "s3cret" not in str(caught.value)


# -- URLs and options (no server needed) -------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "options", "message"),
    [
        ("postgresql://u:pw@h/db?schema=Bad", {}, "schema must be a lower-case identifier"),
        ("postgresql://u:pw@h/db", {"schema": "x" * 51}, "schema must be a lower-case"),
        ("postgresql://u:pw@h/db?schema=a&schema=b", {}, "'schema' is given twice"),
        ("postgresql://u:pw@h/db?schema=a", {"schema": "a"}, "given both in the store URL"),
        ("postgresql://u:pw@h/db", {"durability": "off"}, "durability must be 'full' or"),
        ("postgresql://u:pw@h/db", {"readers": 0}, "readers must be an int >= 1"),
        ("postgresql://u:pw@h/db", {"busy_timeout": -1}, "busy_timeout must be a number"),
        ("postgresql://u:pw@h:port/db", {}, "malformed store URL"),
        ("postgresql://u:pw@h/db#x", {}, "a fragment"),
    ],
)
def test_a_bad_url_or_option_is_refused_naming_it_without_the_password(
    url: str, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        eventstore.connect(url, **options)
    assert "pw" not in str(caught.value)


def test_the_stores_own_parameters_are_not_passed_to_the_server() -> None:
    from eventstore.postgres._url import parse

    config = parse("postgres://u:pw@h:5433/db?sslmode=disable&schema=t1&durability=normal", {})
    assert (config.schema, config.durability) == ("t1", "normal")
    assert config.dsn == "postgres://u:pw@h:5433/db?sslmode=disable"
    assert config.shown == "postgres://u:***@h:5433/db?sslmode=disable"


async def test_a_group_too_large_for_one_statement_is_written_in_chunks(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("eventstore.postgres._backend._INSERT_BYTES", 500)
    async with eventstore.connect(pg_url) as store:
        results = await asyncio.gather(
            store.append("big", [note("x" * 300) for _ in range(7)]),
            *(store.append(f"c{i}", [note(i)]) for i in range(20)),
        )
        events = await all_events(store)
        assert (await store.verify()).ok
    assert sorted(p for r in results for p in r.positions) == list(range(1, 28))
    assert [e.position for e in events] == list(range(1, 28))
