"""SQLite only: ``connect(url, read_only=True)`` takes no lock and creates nothing, and a
damaged ``convlog_meta`` is the store's error, not a crash."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

import eventstore
from eventstore import StoreError

from .support import collect, note

pytestmark = pytest.mark.anyio

RawSQLite = Callable[[], sqlite3.Connection]


def _contents(path: Path) -> bytes:
    return path.read_bytes()


def _listing(path: Path) -> list[Path]:
    return list(path.iterdir())


async def _write(url: str, n: int = 3) -> None:
    async with eventstore.connect(url) as store:
        for i in range(n):
            await store.append("c", [note(i)])


async def test_a_read_only_store_reads_and_refuses_every_write(
    sqlite_url: str, sqlite_file: Path
) -> None:
    await _write(sqlite_url)
    before = _contents(sqlite_file)
    async with eventstore.connect(sqlite_url, read_only=True) as store:
        assert len(await collect(store.read("c"))) == 3
        assert (await store.verify()).ok
        with pytest.raises(StoreError, match=rf"the store {sqlite_file} is open read-only"):
            await store.append("c", [note()])
        with pytest.raises(StoreError, match="read-only"):
            await store.rebuild_summaries()
    assert _contents(sqlite_file) == before


async def test_a_read_only_open_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    with pytest.raises(StoreError, match=rf"no store at {missing}: the file does not exist"):
        await eventstore.connect(f"sqlite:///{missing}", read_only=True)
    assert _listing(tmp_path) == []


async def test_a_read_only_open_needs_no_write_lock(sqlite_url: str, raw_sqlite: RawSQLite) -> None:
    """A writer holding the lock blocks a normal open (it takes the lock to check the schema),
    never a read-only one."""
    await _write(sqlite_url)
    holder = raw_sqlite()
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError, match="locked"):
            await eventstore.connect(sqlite_url, busy_timeout=0)
        async with eventstore.connect(sqlite_url, read_only=True, busy_timeout=0) as store:
            assert len(await collect(store.read("c"))) == 3
    finally:
        holder.execute("ROLLBACK")


async def test_a_read_only_open_of_a_file_that_is_not_a_store_is_refused(
    sqlite_file: Path, raw_sqlite: RawSQLite
) -> None:
    raw_sqlite().execute("CREATE TABLE notes (x)")
    with pytest.raises(StoreError, match=r"is not a convlog store \(it has notes\)"):
        await eventstore.connect(f"sqlite:///{sqlite_file}", read_only=True)


@pytest.mark.parametrize(
    ("statement", "found"),
    [
        ("UPDATE convlog_meta SET value = 'one' WHERE key = 'schema'", "'one'"),
        ("UPDATE convlog_meta SET value = X'01' WHERE key = 'schema'", "b'\\x01'"),
        ("DELETE FROM convlog_meta", "None"),
    ],
)
@pytest.mark.parametrize("read_only", [False, True])
async def test_a_damaged_schema_row_is_a_store_error(
    sqlite_url: str, raw_sqlite: RawSQLite, statement: str, found: str, read_only: bool
) -> None:
    await _write(sqlite_url)
    raw_sqlite().execute(statement)
    with pytest.raises(StoreError, match="convlog_meta holds no schema version") as caught:
        await eventstore.connect(sqlite_url, read_only=read_only)
    assert f"(found {found})" in str(caught.value)
