"""SQLite only: the store file itself. Private permissions, WAL, append-only enforced by the
database (not only by the API), the exact bytes in the ``data`` column, URLs and options."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio
import pytest

import eventstore
import eventstore.sqlite
from eventstore import StoreError

from .support import all_events, contents, note

pytestmark = pytest.mark.anyio

RawSQLite = Callable[[], sqlite3.Connection]


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """A umask that hides nothing, so only the store's own choice of mode protects the file."""
    old = os.umask(0)
    yield
    os.umask(old)


@pytest.mark.usefixtures("permissive_umask")
async def test_new_store_file_is_readable_and_writable_by_its_owner_only(
    sqlite_file: Path, sqlite_url: str
) -> None:
    async with eventstore.connect(sqlite_url) as store:
        await store.append("c", [note()])
        files = {
            path.name: stat.S_IMODE(path.stat().st_mode)
            for path in sqlite_file.parent.glob(f"{sqlite_file.name}*")
        }
    assert files == {
        "convlog.db": 0o600,
        "convlog.db-wal": 0o600,  # prompts and answers sit in the WAL before a checkpoint
        "convlog.db-shm": 0o600,
    }


async def test_store_file_uses_write_ahead_logging(sqlite_url: str, raw_sqlite: RawSQLite) -> None:
    async with eventstore.connect(sqlite_url) as store:
        await store.append("c", [note()])
    assert raw_sqlite().execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_data_column_holds_exactly_the_validated_bytes(
    sqlite_url: str, raw_sqlite: RawSQLite
) -> None:
    bodies = [
        b'{ "type":"custom" ,"event_type":"x","payload":{"z":1,"a":"\\u00e9"} }\n',
        '{"type":"custom","event_type":"日本"}'.encode(),
    ]
    async with eventstore.connect(sqlite_url) as store:
        await store.append_raw("c", bodies)
    rows = raw_sqlite().execute("SELECT data FROM events ORDER BY position").fetchall()
    assert [bytes(data) for (data,) in rows] == bodies


# Rewrites a buggy or hostile harness could try on the events table with a plain connection:
# (preparation, rewrite). ``forged`` starts as a copy of the first event with other data.
REWRITES = [
    pytest.param([], "UPDATE events SET data = CAST('{}' AS BLOB)", id="update"),
    pytest.param([], "UPDATE events SET conversation_id = 'x' WHERE version = 1", id="move"),
    pytest.param([], "DELETE FROM events WHERE version = 2", id="delete-one"),
    pytest.param([], "DELETE FROM events", id="delete-all"),
    pytest.param([], "INSERT OR REPLACE INTO events SELECT * FROM forged", id="insert-or-replace"),
    pytest.param([], "REPLACE INTO events SELECT * FROM forged", id="replace-into"),
    pytest.param(
        ["UPDATE forged SET position = (SELECT max(position) + 1 FROM events), version = 99"],
        "INSERT OR REPLACE INTO events SELECT * FROM forged",
        id="replace-by-id",
    ),
    pytest.param(
        [],
        "INSERT INTO events SELECT * FROM forged WHERE true "
        "ON CONFLICT (conversation_id, version) DO UPDATE SET data = excluded.data",
        id="upsert",
    ),
]


@pytest.mark.parametrize(("preparation", "rewrite"), REWRITES)
async def test_database_refuses_to_rewrite_stored_events(
    sqlite_url: str, raw_sqlite: RawSQLite, preparation: list[str], rewrite: str
) -> None:
    async with eventstore.connect(sqlite_url) as store:
        await store.append("c", [note(1), note(2), note(3)])
        await store.append("d", [note(4)])
        before = await contents(store)

        hostile = raw_sqlite()
        hostile.execute("CREATE TEMP TABLE forged AS SELECT * FROM events WHERE position = 1")
        hostile.execute(
            'UPDATE forged SET data = CAST(\'{"type":"custom","event_type":"forged"}\' AS BLOB)'
        )
        for statement in preparation:
            hostile.execute(statement)
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            hostile.execute(rewrite)

        assert await contents(store) == before
        assert (await store.verify()).ok


async def test_durability_normal_is_an_explicit_opt_in(tmp_path: Path) -> None:
    for options, url in [
        ({"durability": "normal"}, f"sqlite:///{tmp_path}/a.db"),
        ({}, f"sqlite:///{tmp_path}/b.db?durability=normal"),
        ({"durability": "full"}, f"sqlite:///{tmp_path}/c.db"),
    ]:
        async with eventstore.connect(url, **options) as store:
            await store.append("c", [note()])
            assert len(await all_events(store)) == 1
    for options, url in [
        ({"durability": "fast"}, f"sqlite:///{tmp_path}/d.db"),
        ({}, f"sqlite:///{tmp_path}/e.db?durability=off"),
        ({}, f"sqlite:///{tmp_path}/f.db?synchronous=off"),
    ]:
        with pytest.raises(ValueError, match=r"durability|synchronous"):
            eventstore.connect(url, **options)


async def test_busy_timeout_zero_fails_an_append_at_once_while_another_connection_writes(
    sqlite_url: str, raw_sqlite: RawSQLite
) -> None:
    async with eventstore.connect(sqlite_url, busy_timeout=0) as store:
        await store.append("c", [note(1)])
        other = raw_sqlite()
        other.execute("BEGIN IMMEDIATE")  # holds the write lock
        with anyio.fail_after(1), pytest.raises(StoreError, match="locked"):
            await store.append("c", [note(2)])
        other.execute("ROLLBACK")
        await store.append("c", [note(3)])
        assert [e.data for e in await all_events(store)] == [note(1), note(3)]


async def test_relative_and_absolute_urls_name_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    async with eventstore.connect("sqlite:///relative.db") as store:
        await store.append("c", [note("rel")])
    async with eventstore.connect(f"sqlite:///{tmp_path / 'relative.db'}") as store:
        assert [e.data for e in await all_events(store)] == [note("rel")]
    assert (tmp_path / "relative.db").exists()


def _garbage_file(path: Path) -> None:
    path.write_bytes(b"these bytes are not an SQLite database " * 200)


def _foreign_database(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE events (what TEXT)")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("make_file", [_garbage_file, _foreign_database])
async def test_a_file_that_is_not_a_convlog_store_is_refused_with_a_store_error(
    sqlite_file: Path, sqlite_url: str, make_file: Callable[[Path], None]
) -> None:
    make_file(sqlite_file)
    with pytest.raises(StoreError):
        async with eventstore.connect(sqlite_url):
            pass


def _thread_name(conn: sqlite3.Connection, barrier: threading.Barrier | None = None) -> str:
    if barrier is not None:
        barrier.wait(timeout=10)
    return threading.current_thread().name


async def test_a_lone_reader_keeps_to_one_reader_thread_and_concurrent_reads_spread(
    sqlite_file: Path,
) -> None:
    """Reads go to the first reader with nothing in flight: one task reading on its own keeps
    one connection's page cache warm; reads that overlap run on different threads."""
    backend = eventstore.sqlite.create_backend(f"sqlite:///{sqlite_file}", {"readers": 3})
    await backend.open()
    try:
        alone = [await backend._read(_thread_name) for _ in range(4)]
        barrier = threading.Barrier(3)  # passes only if all three run at once
        together = await asyncio.gather(*(backend._read(_thread_name, barrier) for _ in range(3)))
    finally:
        await backend.aclose()

    assert alone == ["convlog-reader-0"] * 4
    assert sorted(together) == [f"convlog-reader-{i}" for i in range(3)]
