"""SQLite only: a damaged file is reported, never a raw driver error, and never written on;
a store whose files were deleted or replaced behind it says so and stops appending.

A store is written and closed, then real bytes of the file are overwritten: the b-tree header
of a page of the events table, of the conversations table, of an index, the file's header,
or the file is cut short. Every read then returns its result or raises ``StoreCorrupted``
naming the file (never ``sqlite3.*``), and once the store has seen the damage it refuses
every append without changing the file further.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

import eventstore
import eventstore.sqlite
from eventstore import StoreCorrupted, StoreError

from .support import all_events, collect, llm_call, note, said

pytestmark = pytest.mark.anyio

#: Conversations c0..c6, appended in turn, 20 events an append: the events table, both of its
#: indexes and the conversations' activity index span several pages, with interior roots.
APPENDS, EVENTS, CONVERSATIONS = 30, 20, 7

# Page types of SQLite's file format (section 1.6): interior and leaf, of indexes and tables.
INTERIOR_INDEX, INTERIOR_TABLE, LEAF_INDEX, LEAF_TABLE = 2, 5, 10, 13

Read = Callable[[eventstore.Store], Awaitable[Any]]

#: Every read of the API, each touching conversation "c0" (the first conversation, whose events
#: come first in the table and in the index on (conversation_id, version)).
READS: dict[str, Read] = {
    "read": lambda s: collect(s.read("c0")),
    "read_all": lambda s: collect(s.read_all()),
    "list_events": lambda s: s.list_events("c0", limit=1000),
    "list_conversations": lambda s: s.list_conversations(),
    "get_conversation": lambda s: s.get_conversation("c0"),
    "replay": lambda s: s.replay("c0"),
}


async def _write_history(url: str) -> None:
    async with eventstore.connect(url) as store:
        for i in range(APPENDS):
            events = [note(i) if j % 2 else llm_call(10 + j, 5, 0.001) for j in range(EVENTS)]
            await store.append(f"c{i % CONVERSATIONS}", events)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed store file holding the history above (written once for the module)."""
    path = tmp_path_factory.mktemp("pristine") / "convlog.db"
    asyncio.run(_write_history(f"sqlite:///{path}"))
    return path


class File:
    """The store file of one test, a copy of the pristine one, and ways to damage it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"sqlite:///{path}"
        with sqlite3.connect(path) as conn:
            self.page_size: int = conn.execute("PRAGMA page_size").fetchone()[0]
            self.roots: dict[str, int] = dict(
                conn.execute("SELECT name, rootpage FROM sqlite_master WHERE rootpage > 0")
            )
            # The automatic indexes of events, by the columns they index.
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE tbl_name = 'events' AND type = 'index'"
            ).fetchall():
                columns = [row[2] for row in conn.execute(f"PRAGMA index_info('{name}')")]
                self.roots[f"events({', '.join(columns)})"] = self.roots[name]
        conn.close()

    def _page(self, number: int) -> tuple[bytes, int]:
        """Page ``number`` (1-based) and where its b-tree header starts in it."""
        data = self.path.read_bytes()
        start = (number - 1) * self.page_size
        return data[start : start + self.page_size], 100 if number == 1 else 0

    def leaf(self, tree: str, which: str) -> int:
        """The first or last leaf page of the b-tree named ``tree``, found from its root by
        following the leftmost or rightmost child pointers (file format, section 1.6)."""
        number = self.roots[tree]
        page, at = self._page(number)
        assert page[at] in (INTERIOR_INDEX, INTERIOR_TABLE), f"{tree} fits in one page"
        while page[at] in (INTERIOR_INDEX, INTERIOR_TABLE):
            if which == "last":
                number = int.from_bytes(page[at + 8 : at + 12], "big")
            else:
                cell = int.from_bytes(page[at + 12 : at + 14], "big")
                number = int.from_bytes(page[cell : cell + 4], "big")
            page, at = self._page(number)
        assert page[at] in (LEAF_INDEX, LEAF_TABLE)
        return number

    def first_cell(self, number: int) -> int:
        """Where in page ``number`` its first cell starts (its first cell pointer)."""
        page, at = self._page(number)
        header = 12 if page[at] in (INTERIOR_INDEX, INTERIOR_TABLE) else 8
        return int.from_bytes(page[at + header : at + header + 2], "big")

    def overwrite(self, page: int, offset: int = 0, length: int = 64) -> None:
        """Overwrite ``length`` bytes of ``page`` from ``offset`` (the b-tree page header and
        the start of its cell pointers, by default) with a pattern no valid page holds."""
        with self.path.open("r+b") as f:
            f.seek((page - 1) * self.page_size + offset)
            f.write(b"\xa5" * length)

    def overwrite_id(self) -> None:
        """Overwrite 8 bytes of the id held by an entry of the index on id: the page stays
        sound, but the entry no longer matches a row of the table (only integrity_check
        compares the two). The id starts at most 5 bytes into the cell (payload size, record
        header size and two serial types, each a varint of 1 or 2 bytes) and is 16 long."""
        page = self.leaf("events(id)", "first")
        self.overwrite(page, self.first_cell(page) + 6, 8)


@pytest.fixture
def file(pristine: Path, tmp_path: Path) -> File:
    path = tmp_path / "convlog.db"
    shutil.copyfile(pristine, path)
    return File(path)


# (how the file is damaged, the reads that must find it). A read not listed may find it or
# not, depending on the pages its query plan visits; either way it raises nothing else.
PAGE_DAMAGE: list[Any] = [
    pytest.param(
        lambda f: f.overwrite(f.roots["events"]),
        {"read", "read_all", "list_events", "replay"},
        id="events-root",
    ),
    pytest.param(
        lambda f: f.overwrite(f.leaf("events", "first")),
        {"read", "read_all", "list_events", "replay"},
        id="events-leaf",
    ),
    pytest.param(
        lambda f: f.overwrite(f.roots["conversations"]),
        {"list_conversations", "get_conversation"},
        id="conversations",
    ),
    pytest.param(
        lambda f: f.overwrite(f.leaf("events(conversation_id, version)", "first")),
        {"read", "list_events", "replay"},
        id="index",
    ),
]


# Damage no read meets, for verify: the index on id is only read by appends with event ids.
UNREAD_DAMAGE: list[Any] = [
    pytest.param(lambda f: f.overwrite(f.leaf("events(id)", "first")), id="id-index"),
    pytest.param(lambda f: f.overwrite_id(), id="id-index-entry"),
]


def assert_names_the_damage(error: StoreCorrupted, file: File) -> None:
    message = str(error)
    assert str(file.path) in message
    assert "database disk image is malformed" in message
    assert ".recover" in message


@pytest.mark.parametrize(("damage", "found_by"), PAGE_DAMAGE)
async def test_reads_of_a_damaged_file_raise_store_corrupted_and_appends_are_refused(
    file: File, damage: Callable[[File], None], found_by: set[str]
) -> None:
    damage(file)
    damaged = file.path.read_bytes()
    async with eventstore.connect(file.url) as store:
        for name, read in READS.items():
            try:
                await read(store)
            except StoreCorrupted as exc:
                assert_names_the_damage(exc, file)
            else:
                assert name not in found_by, f"{name} read the damaged page without error"
        with pytest.raises(StoreCorrupted) as refused:
            await store.append("new", [note()])
        assert "appends to it are refused" in str(refused.value)
        with pytest.raises(StoreCorrupted):
            await store.append("c0", [note()])
        with pytest.raises(StoreCorrupted):
            await store.rebuild_summaries()
    assert file.path.read_bytes() == damaged


async def test_damage_the_writer_meets_refuses_every_later_append(file: File) -> None:
    """An append to a new conversation (sorting last) meets the damaged last page of the index
    on (conversation_id, version); an append to "c0" would touch none of it, and is refused
    all the same."""
    file.overwrite(file.leaf("events(conversation_id, version)", "last"))
    damaged = file.path.read_bytes()
    async with eventstore.connect(file.url) as store:
        with pytest.raises(StoreCorrupted) as found:
            await store.append("new", [note()])
        assert_names_the_damage(found.value, file)
        for _ in range(2):
            with pytest.raises(StoreCorrupted):
                await store.append("c0", [note()])
        results = await asyncio.gather(
            *(store.append("c0", [note(i)]) for i in range(5)), return_exceptions=True
        )
        assert all(isinstance(r, StoreCorrupted) for r in results)
    assert file.path.read_bytes() == damaged


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        pytest.param(lambda f: f.overwrite(1, 0, 16), "file is not a database", id="header-magic"),
        pytest.param(
            lambda f: f.path.write_bytes(f.path.read_bytes()[: -f.page_size]),
            "database disk image is malformed",
            id="truncated",
        ),
    ],
)
async def test_a_file_damaged_at_its_header_or_cut_short_does_not_open(
    file: File, damage: Callable[[File], None], said: str
) -> None:
    damage(file)
    damaged = file.path.read_bytes()
    with pytest.raises(StoreCorrupted) as refused:
        async with eventstore.connect(file.url):
            pass  # pragma: no cover - must not open
    assert str(file.path) in str(refused.value)
    assert said in str(refused.value)
    assert ".recover" in str(refused.value)
    assert file.path.read_bytes() == damaged


@pytest.mark.parametrize(
    "damage", [pytest.param(p.values[0], id=p.id) for p in PAGE_DAMAGE] + UNREAD_DAMAGE
)
async def test_verify_reports_a_damaged_file_and_appends_are_refused_after(
    file: File, damage: Callable[[File], None]
) -> None:
    damage(file)
    damaged = file.path.read_bytes()
    async with eventstore.connect(file.url) as store:
        report = await store.verify()  # first: nothing else has seen the damage
        assert not report.ok
        assert report.problem is not None
        assert f"{file.path} is damaged (SQLite says: " in report.problem
        assert ".recover" in report.problem
        with pytest.raises(StoreCorrupted, match="appends to it are refused"):
            await store.append("c0", [note()])
    assert file.path.read_bytes() == damaged


async def test_verify_quotes_sqlites_integrity_check(file: File) -> None:
    file.overwrite_id()
    async with eventstore.connect(file.url) as store:
        for read in READS.values():  # no read goes through the index on id
            await read(store)
        report = await store.verify()
    assert report.problem is not None
    assert "(SQLite says: PRAGMA integrity_check: " in report.problem
    assert "missing from index sqlite_autoindex_events_1" in report.problem


async def test_verify_reports_damage_its_walk_meets(
    file: File, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Damage that comes after the engine's check (or that it cannot see) and that the walk
    over the events meets is reported too, not raised."""

    async def sound(self: object) -> None:
        return None

    monkeypatch.setattr(eventstore.sqlite.SQLiteBackend, "check_storage", sound)
    file.overwrite(file.leaf("events", "last"))
    async with eventstore.connect(file.url) as store:
        report = await store.verify()
        assert report.problem is not None
        assert "database disk image is malformed" in report.problem
        with pytest.raises(StoreCorrupted):
            await store.append("c0", [note()])


# -- durability: the files deleted or replaced behind an open store ---------------------------


async def test_a_deleted_wal_file_is_found_at_the_next_commit_and_appends_are_refused(
    sqlite_file: Path, sqlite_url: str
) -> None:
    async with eventstore.connect(sqlite_url) as store:
        await store.append("c", [note(0)])
        os.unlink(f"{sqlite_file}-wal")
        ids = [uuid4()]
        with pytest.raises(StoreError, match="durability lost") as lost:
            await store.append("c", [note(1)], event_ids=ids)
        message = str(lost.value)
        assert f"{sqlite_file}-wal was deleted while the store was open" in message
        assert "close the store and open it again" in message
        for _ in range(2):
            with pytest.raises(StoreError, match="appends are refused since durability was lost"):
                await store.append("c", [note(2)])
        results = await asyncio.gather(
            *(store.append("d", [note(i)]) for i in range(5)), return_exceptions=True
        )
        assert all(isinstance(r, StoreError) for r in results), results
        assert [e.data.payload for e in await all_events(store)] == [0, 1]  # still readable
    # Closing copied what the deleted file held into the database: the retry finds it.
    async with eventstore.connect(sqlite_url) as store:
        retried = await store.append("c", [note(1)], event_ids=ids)
        assert retried.positions == (2,)
        await store.append("c", [note(2)])
        assert [e.data.payload for e in await all_events(store)] == [0, 1, 2]
        assert (await store.verify()).ok


async def test_a_replaced_database_file_is_found_at_the_next_commit(
    sqlite_file: Path, sqlite_url: str, tmp_path: Path
) -> None:
    async with eventstore.connect(sqlite_url) as store:
        await store.append("c", [note(0)])
        copy = tmp_path / "copy.db"
        shutil.copyfile(sqlite_file, copy)
        os.replace(copy, sqlite_file)
        with pytest.raises(StoreError, match="durability lost") as lost:
            await store.append("c", [note(1)])
        assert f"{sqlite_file} was replaced by another file" in str(lost.value)
        with pytest.raises(StoreError, match="appends are refused"):
            await store.append("c", [note(2)])


async def test_the_file_checks_never_trip_in_normal_operation(
    sqlite_file: Path, sqlite_url: str, raw_sqlite: Callable[[], sqlite3.Connection]
) -> None:
    """Checkpoints (automatic, and TRUNCATE from another connection), another store appending
    to the same file and closing, and closing and reopening leave the files the store opened
    in place: no append is refused. (Other processes: test_sqlite_processes.py.)"""
    big = "x" * 4000  # a page an event: the -wal file passes SQLite's 1,000-page checkpoint
    async with eventstore.connect(sqlite_url) as store:
        wal = f"{sqlite_file}-wal"
        for i in range(30):
            await store.append("c", [said(f"{big}{i}") for _ in range(50)])
        assert os.stat(wal).st_size < 1500 * 4096  # rewound by a checkpoint, not grown
        conn = raw_sqlite()
        conn.execute("INSERT INTO convlog_meta (key, value) VALUES ('other', 'x')")
        assert conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
        conn.close()
        assert os.stat(wal).st_size == 0
        await store.append("c", [note()])
        async with eventstore.connect(sqlite_url) as other:
            await other.append("o", [note()])
        await store.append("c", [note()])
        await asyncio.gather(*(store.append(f"g{i}", [note(i)]) for i in range(20)))
    for _ in range(2):
        async with eventstore.connect(sqlite_url) as store:
            await store.append("c", [note()])
            assert (await store.verify()).ok
