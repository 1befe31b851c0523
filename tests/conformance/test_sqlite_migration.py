"""SQLite only: a store written by convlog with schema 1 (before the summaries kept messages
and per-model totals) is upgraded to schema 2 when it is opened to write, in one transaction;
a read-only open refuses it with what to do. The schema 1 tables are kept here as they were
(``V1_DDL``), so the fixture is a schema 1 file whatever the code does now."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

import eventstore
from eventstore import StoreError
from eventstore.sqlite._sql import SCHEMA_VERSION
from schemas import ErrorEvent

from .support import created, llm_call, note, said

pytestmark = pytest.mark.anyio

RawSQLite = Callable[[], sqlite3.Connection]

#: eventstore/sqlite/_sql.py's DDL at schema 1 (convlog 0.1, up to commit e878615).
V1_DDL = (
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
V1_SUMMARY_COLUMNS = (
    "conversation_id, version, created_at, updated_at, last_position, head_hash, title, "
    "parent_id, calls, unpriced_calls, prompt_tokens, completion_tokens, prompt_cached_tokens, "
    "prompt_cache_creation_tokens, completion_reasoning_tokens, cost_usd"
)


async def _history(url: str) -> None:
    async with eventstore.connect(url) as store:
        await store.append("a", [created(title="root"), said("hi"), llm_call(10, 5, 0.0111)])
        await store.append("b", [created(parent_id="a"), llm_call(7, 3, None, model="other")])
        await store.append("a", [llm_call(1, 2, 0.018, model="other"), note(), said("bye")])
        await store.append("c", [note(), ErrorEvent(message="boom")])
        await store.append("d", [said("x"), llm_call(4, 4, 0.5), llm_call(4, 4, 0.25)])


def _make_v1(source: Path, target: Path) -> None:
    """A schema 1 file at ``target`` holding ``source``'s events and the schema 1 columns of
    its summaries: what convlog 0.1 wrote for the same appends (the hashes do not depend on
    the summary table)."""
    conn = sqlite3.connect(target, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        for statement in V1_DDL:
            conn.execute(statement)
        conn.execute("INSERT INTO convlog_meta (key, value) VALUES ('schema', '1')")
        conn.execute("ATTACH DATABASE ? AS source", (str(source),))
        conn.execute("BEGIN")
        conn.execute("INSERT INTO events SELECT * FROM source.events")
        conn.execute(
            f"INSERT INTO conversations ({V1_SUMMARY_COLUMNS}) "
            f"SELECT {V1_SUMMARY_COLUMNS} FROM source.conversations"
        )
        conn.execute("COMMIT")
        conn.execute("DETACH DATABASE source")
    finally:
        conn.close()


@pytest.fixture
async def v1_store(tmp_path: Path) -> tuple[Path, list[eventstore.ConversationSummary]]:
    """A schema 1 store, and the summaries schema 2 keeps of the same history."""
    source = tmp_path / "v2.db"
    await _history(f"sqlite:///{source}")
    async with eventstore.connect(f"sqlite:///{source}") as store:
        expected = (await store.list_conversations(limit=100)).items
    target = tmp_path / "v1.db"
    _make_v1(source, target)
    return target, expected


def _schema(path: Path) -> tuple[str, list[str]]:
    conn = sqlite3.connect(path)
    try:
        (version,) = conn.execute("SELECT value FROM convlog_meta WHERE key = 'schema'").fetchone()
        columns = [row[1] for row in conn.execute("PRAGMA table_info(conversations)")]
    finally:
        conn.close()
    return version, columns


def _tamper(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        conn.execute("DROP TRIGGER events_append_only_update")
        conn.execute("DROP TRIGGER events_append_only_delete")
        for statement in statements:
            conn.execute(statement)
        conn.execute("COMMIT")
    finally:
        conn.close()


async def test_the_fixture_is_a_schema_1_file(
    v1_store: tuple[Path, list[eventstore.ConversationSummary]],
) -> None:
    path, _ = v1_store
    version, columns = _schema(path)
    assert version == "1"
    assert "messages" not in columns
    assert "by_model" not in columns


async def test_opening_to_write_upgrades_a_schema_1_store(
    v1_store: tuple[Path, list[eventstore.ConversationSummary]],
) -> None:
    path, expected = v1_store
    async with eventstore.connect(f"sqlite:///{path}") as store:
        assert (await store.list_conversations(limit=100)).items == expected
        a = await store.get_conversation("a")
        assert a.messages == 4
        assert list(a.by_model) == ["other", "test-model"]
        assert (await store.get_conversation("c")).by_model == {}
        report = await store.verify()
        assert report.ok, report.problems
        for summary in expected:
            assert (await store.replay(summary.conversation_id)).summary == summary
        await store.append("a", [llm_call(1, 1, 0.5, model="new")])
        assert list((await store.get_conversation("a")).by_model) == ["new", "other", "test-model"]
        assert (await store.verify()).ok
    assert _schema(path) == (str(SCHEMA_VERSION), [*_schema(path)[1][:16], "messages", "by_model"])
    async with eventstore.connect(f"sqlite:///{path}", read_only=True) as store:
        assert (await store.verify()).ok


async def test_a_read_only_open_of_a_schema_1_store_says_what_to_do(
    v1_store: tuple[Path, list[eventstore.ConversationSummary]],
) -> None:
    path, _ = v1_store
    with pytest.raises(StoreError, match="has schema version 1, older than") as caught:
        await eventstore.connect(f"sqlite:///{path}", read_only=True)
    assert "open it once to write" in str(caught.value)
    assert _schema(path)[0] == "1"  # nothing written


async def test_the_upgrade_fills_only_the_new_columns_and_launders_nothing(
    v1_store: tuple[Path, list[eventstore.ConversationSummary]],
) -> None:
    """A deleted event, an edited total and an event that does not decode: after the upgrade
    verify still finds each, and a rebuild still refuses."""
    path, _ = v1_store
    _tamper(
        path,
        "DELETE FROM events WHERE conversation_id = 'd' AND version = 3",
        "UPDATE conversations SET prompt_tokens = prompt_tokens + 100 WHERE conversation_id = 'b'",
        "UPDATE events SET data = CAST('{not json' AS BLOB) "
        "WHERE conversation_id = 'a' AND version = 4",
    )
    async with eventstore.connect(f"sqlite:///{path}") as store:
        report = await store.verify()
        found = {p.conversation_id: p.problem for p in report.problems}
        assert "does not decode" in found["a"]
        assert "summary is ahead of its events (prompt_tokens 107 > 7)" in found["b"]
        assert found["d"] == "events missing: the summary says version 3, the events end at 2"
        assert set(found) == {"a", "b", "d"}
        with pytest.raises(eventstore.IntegrityError):  # a's event, then d's deletion
            await store.rebuild_summaries()
        assert (await store.get_conversation("d")).version == 3  # the evidence stays
    conn = sqlite3.connect(path)
    try:
        rows = dict(conn.execute("SELECT conversation_id, by_model FROM conversations"))
    finally:
        conn.close()
    assert rows["a"] == "{}"  # an event of it does not decode: left for verify to report
    assert rows["d"] == '{"test-model":[1,0,4,4,0,0,0,"0.5"]}'  # from the events left


async def test_the_upgrade_is_all_or_nothing(
    v1_store: tuple[Path, list[eventstore.ConversationSummary]],
) -> None:
    """A failure inside the upgrade (here: a column already there) leaves schema 1."""
    path, _ = v1_store
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("ALTER TABLE conversations ADD COLUMN by_model TEXT")
    conn.close()
    with pytest.raises(StoreError, match="by_model"):
        await eventstore.connect(f"sqlite:///{path}")
    version, columns = _schema(path)
    assert version == "1"
    assert "messages" not in columns


async def test_a_new_store_stores_the_canonical_by_model_text(
    sqlite_url: str, raw_sqlite: RawSQLite
) -> None:
    async with eventstore.connect(sqlite_url) as store:
        await store.append("x", [llm_call(10, 5, 0.1, model="z"), llm_call(3, 2, None)])
        await store.append("x", [llm_call(1, 1, 0.2, model="z", cached=1)])
    row = raw_sqlite().execute("SELECT messages, by_model FROM conversations").fetchone()
    assert row == (
        3,
        '{"test-model":[1,1,3,2,0,0,0,"0"],"z":[2,0,11,6,1,0,0,"0.3"]}',
    )
