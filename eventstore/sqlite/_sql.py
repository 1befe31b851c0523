"""SQLite's tables and statements, and the functions that run them on a worker thread.

History is append-only in the database itself: triggers abort any UPDATE or DELETE on
``events``. ``data`` holds the validated JSON bytes exactly as they were appended.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from schemas import StoredEvent

from .. import _planner as planner
from .._event_rows import chain_entries, events_from_rows
from .._fold import Fold
from .._model import ConversationSummary
from .._planner import IdHit, Plan
from .._summary_row import SUMMARY_COLUMNS, fold_from_row, fold_or_error, models_json, summary_row
from ..errors import IntegrityError

__all__ = (
    "DDL",
    "EVENT_COLS",
    "INSERT_EVENT",
    "MIGRATE_1_TO_2",
    "PAGE_COLS",
    "SCHEMA_VERSION",
    "SELECT_SUMMARIES",
    "SUMMARY_COLS",
    "check_integrity",
    "load_folds",
    "lookup_ids",
    "migrate_1_to_2",
    "query_chain",
    "query_events",
    "query_first_missing",
    "query_folds",
    "query_head",
    "query_page",
    "query_rows",
    "query_summaries",
    "rebuild",
    "write_plan",
)

#: 2 added the summary columns ``messages`` and ``by_model`` (:data:`MIGRATE_1_TO_2`).
SCHEMA_VERSION = 2
MAX_VERSION = (1 << 63) - 1
_CHUNK = 500  # ids per IN (...) list
_PROBLEMS = 10  # problems an integrity check lists at most

DDL = (
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
        cost_usd                     TEXT    NOT NULL,
        messages                     INTEGER NOT NULL,
        by_model                     TEXT    NOT NULL
    ) WITHOUT ROWID""",
    "CREATE UNIQUE INDEX IF NOT EXISTS conversations_by_activity ON conversations (last_position)",
    """CREATE INDEX IF NOT EXISTS conversations_by_parent ON conversations (parent_id)
       WHERE parent_id IS NOT NULL""",
    "CREATE TABLE IF NOT EXISTS convlog_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)

#: What turns a schema 1 store into a schema 2 one, before its new columns are filled
#: (:func:`migrate_1_to_2`). A column added to a table with rows needs a default; the writer
#: stores every column explicitly, so the defaults are never used after.
MIGRATE_1_TO_2 = (
    "ALTER TABLE conversations ADD COLUMN messages INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE conversations ADD COLUMN by_model TEXT NOT NULL DEFAULT '{}'",
)

# A page of one conversation: its id is the one asked for, not fetched again (a str per row).
PAGE_COLS = "position, version, id, recorded_at, session_id, turn_id, harness, data"
# Events of any conversation: the same columns, then the conversation.
EVENT_COLS = f"{PAGE_COLS}, conversation_id"
INSERT_EVENT = (
    "INSERT INTO events (position, conversation_id, version, id, type, recorded_at, "
    "session_id, turn_id, harness, data, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# Most appends carry no session, turn or harness: leaving the columns out stores the same NULLs
# without binding three Nones (see _blob).
INSERT_EVENT_BARE = (
    "INSERT INTO events (position, conversation_id, version, id, type, recorded_at, data, hash) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
SUMMARY_COLS = ", ".join(SUMMARY_COLUMNS)
_INSERT_SUMMARY = (
    f"INSERT INTO conversations ({SUMMARY_COLS}) VALUES ({', '.join('?' * len(SUMMARY_COLUMNS))})"
)
# Updated in place (not INSERT OR REPLACE): a replace deletes and re-inserts the row and every
# index entry, which costs WAL pages on every append. The common case, no title and no parent,
# writes its NULLs as literals (see _blob).
_UPDATE_SUMMARY_SET = (
    "UPDATE conversations SET version = ?, created_at = ?, updated_at = ?, last_position = ?, "
    "head_hash = ?, {title_parent}calls = ?, unpriced_calls = ?, prompt_tokens = ?, "
    "completion_tokens = ?, prompt_cached_tokens = ?, prompt_cache_creation_tokens = ?, "
    "completion_reasoning_tokens = ?, cost_usd = ?, messages = ?, by_model = ? "
    "WHERE conversation_id = ?"
)
_UPDATE_SUMMARY = _UPDATE_SUMMARY_SET.format(title_parent="title = ?, parent_id = ?, ")
_UPDATE_SUMMARY_BARE = _UPDATE_SUMMARY_SET.format(title_parent="title = NULL, parent_id = NULL, ")

# Blobs are bound as ``bytearray``: CPython's sqlite3 binds int, float, str and bytearray
# directly but looks every other type (bytes and None included) up in its adapter registry
# first; for the three blobs of an event row that lookup costs more than the copy (insert time
# per row 10.5 us with bytes, 7.6 us with bytearray, in memory, 1,000-row batches). The type
# itself, not a function wrapping it, so the copy costs no Python call.
_blob = bytearray


SELECT_SUMMARIES = f"SELECT {SUMMARY_COLS} FROM conversations"
# Each summary with the hash of the event at its version: the head an append chains onto.
_SELECT_SUMMARY_AND_HEAD = (
    f"SELECT {', '.join('c.' + c for c in SUMMARY_COLUMNS)}, e.hash FROM conversations c "
    "LEFT JOIN events e ON e.conversation_id = c.conversation_id AND e.version = c.version"
)


# -- the write transaction ------------------------------------------------------------------


def load_folds(conn: sqlite3.Connection, conversation_ids: set[str]) -> dict[str, Fold]:
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
            fold = fold_from_row(row[:-1])
            if row[-1] != fold.head_hash:
                raise IntegrityError(
                    f"summary of conversation {fold.conversation_id!r} disagrees with its last "
                    "event (run verify, then rebuild_summaries)",
                    fold.conversation_id,
                )
            folds[fold.conversation_id] = fold
    return folds


def lookup_ids(conn: sqlite3.Connection, ids: list[bytes]) -> dict[bytes, IdHit]:
    """Where each of ``ids`` that is stored is: (conversation, version, position)."""
    known: dict[bytes, IdHit] = {}
    for chunk in _chunks(ids):
        sql = (
            "SELECT id, conversation_id, version, position FROM events "
            f"WHERE id IN ({','.join('?' * len(chunk))})"
        )
        for id_bytes, cid, version, position in conn.execute(sql, chunk):
            known[id_bytes] = (cid, version, position)
    return known


def write_plan(conn: sqlite3.Connection, plan: Plan) -> None:
    """Insert the plan's events and store its summaries."""
    bare: list[tuple[Any, ...]] = []  # rows without session, turn and harness
    full: list[tuple[Any, ...]] = []
    at = plan.recorded_at_us
    for req, version, position, hashes in plan.appends:
        cid, events = req.conversation_id, req.events
        # One tuple per event, built straight from the request: this is the hot path.
        if req.session_id is None and req.turn_id is None and req.harness is None:
            if len(events) == 1:
                e = events[0]
                bare.append(
                    (position, cid, version, _blob(e.key), e.type, at, _blob(e.data),
                     _blob(hashes[0]))
                )  # fmt: skip
            else:
                bare += [
                    (position + i, cid, version + i, _blob(e.key), e.type, at, _blob(e.data),
                     _blob(h))
                    for i, (e, h) in enumerate(zip(events, hashes, strict=True))
                ]  # fmt: skip
        else:
            session_id, turn_id, harness = req.session_id, req.turn_id, req.harness
            full += [
                (position + i, cid, version + i, _blob(e.key), e.type, at, session_id,
                 turn_id, harness, _blob(e.data), _blob(h))
                for i, (e, h) in enumerate(zip(events, hashes, strict=True))
            ]  # fmt: skip
    if bare:
        conn.executemany(INSERT_EVENT_BARE, bare)
    if full:
        conn.executemany(INSERT_EVENT, full)
    if plan.created:
        conn.executemany(_INSERT_SUMMARY, [_summary_params(f) for f in plan.created])
    if plan.updated:
        updates: list[tuple[Any, ...]] = []  # no title and no parent: the common case
        titled: list[tuple[Any, ...]] = []
        for f in plan.updated:
            row = summary_row(f)
            if f.title is None and f.parent_id is None:
                updates.append((*row[1:5], _blob(row[5]), *row[8:], f.conversation_id))
            else:
                titled.append((*row[1:5], _blob(row[5]), *row[6:], f.conversation_id))
        if updates:
            conn.executemany(_UPDATE_SUMMARY_BARE, updates)
        if titled:
            conn.executemany(_UPDATE_SUMMARY, titled)


def _summary_params(f: Fold) -> tuple[Any, ...]:
    row = summary_row(f)
    return (*row[:5], _blob(row[5]), *row[6:])


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


# -- reads ----------------------------------------------------------------------------------


def query_page(
    conn: sqlite3.Connection, sql: str, args: Sequence[Any], cid: str
) -> list[StoredEvent]:
    """Rows of ``PAGE_COLS``, all of conversation ``cid``, as ``StoredEvent``s (the hot path
    of ``Store.read``)."""
    rows = conn.execute(sql, args).fetchall()
    return events_from_rows(rows, [cid] * len(rows))


def query_events(conn: sqlite3.Connection, sql: str, args: Sequence[Any]) -> list[StoredEvent]:
    """Rows of ``EVENT_COLS`` as ``StoredEvent``s."""
    rows = conn.execute(sql, args).fetchall()
    return events_from_rows(rows, [row[8] for row in rows])


def query_summaries(
    conn: sqlite3.Connection, sql: str, args: Sequence[Any]
) -> list[ConversationSummary]:
    return [fold_from_row(row).summary() for row in conn.execute(sql, args)]


def query_folds(
    conn: sqlite3.Connection, sql: str, args: Sequence[Any]
) -> list[tuple[Any, Fold | IntegrityError]]:
    """Summary rows for verify, each with its key: a row that does not hold what the writer
    stores comes as the IntegrityError describing it, so verify can report it in place."""
    return [fold_or_error(row) for row in conn.execute(sql, args)]


def query_chain(
    conn: sqlite3.Connection, sql: str, args: Sequence[Any]
) -> list[tuple[StoredEvent | IntegrityError, bytes]]:
    """Rows of ``EVENT_COLS, hash, type`` for verify (see ``chain_entries``)."""
    return chain_entries(conn.execute(sql, args).fetchall())


def query_rows(conn: sqlite3.Connection, sql: str, args: Sequence[Any]) -> list[Any]:
    return conn.execute(sql, args).fetchall()


def query_head(conn: sqlite3.Connection) -> int:
    head: int = conn.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()[0]
    return head


def query_first_missing(conn: sqlite3.Connection, head: int) -> int | None:
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


def check_integrity(conn: sqlite3.Connection) -> list[str]:
    """SQLite's own check of the file, the problems it reports (none when it is sound).

    ``PRAGMA integrity_check`` reads every page of every table and index and compares each
    index with its table: 0.11-0.15 s on a store of 100,000 events (32 MB), against 2.3 s for
    the rest of ``verify``. ``quick_check`` skips the comparison (0.05-0.08 s) and so misses
    an index that lost an entry, which reads through the index then miss too. When the full
    check stops on a page it cannot read, the quick one still lists the damaged pages; if it
    stops too, the full check's error is raised.
    """
    try:
        return _problems(conn, "integrity_check")
    except sqlite3.DatabaseError:
        with contextlib.suppress(sqlite3.DatabaseError):
            if problems := _problems(conn, "quick_check"):
                return problems
        raise


def _problems(conn: sqlite3.Connection, pragma: str) -> list[str]:
    rows = conn.execute(f"PRAGMA {pragma}({_PROBLEMS})").fetchall()
    lines = [
        line
        for (text,) in rows
        for line in str(text).splitlines()
        if line and not line.startswith("*** in database")  # a heading, not a problem
    ]
    return [] if lines == ["ok"] else lines


# -- rebuilding summaries -------------------------------------------------------------------


def rebuild(conn: sqlite3.Connection, force: bool) -> int:
    """Replace every summary by the planner's rebuild of it, in one transaction: first checked
    against the stored summaries (a rebuild must not launder a deletion; ``force`` skips the
    check), then written."""
    events_sql = f"SELECT {EVENT_COLS}, hash FROM events ORDER BY conversation_id, version"
    conn.execute("BEGIN IMMEDIATE")
    try:
        if not force:
            stored = conn.execute(f"{SELECT_SUMMARIES} ORDER BY conversation_id")
            checked = planner.rebuild(
                _events_with_hash(conn.execute(events_sql)), map(fold_or_error, stored)
            )
            for _ in checked:
                pass
        conn.execute("DELETE FROM conversations")
        count = 0
        batch: list[tuple[Any, ...]] = []
        for fold in planner.rebuild(_events_with_hash(conn.execute(events_sql)), None):
            batch.append(_summary_params(fold))
            count += 1
            if len(batch) == _CHUNK:
                conn.executemany(_INSERT_SUMMARY, batch)
                batch.clear()
        conn.executemany(_INSERT_SUMMARY, batch)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return count


def migrate_1_to_2(conn: sqlite3.Connection) -> None:
    """Add schema 2's summary columns and fill them from the events, inside the caller's
    transaction. Only the new columns are written: the rest of each summary stays as it was,
    so whatever ``verify`` would have found in it (a deletion, an edit) it still finds. A
    conversation with an event that does not decode keeps the defaults (``verify`` reports
    that event); so does a summary without events."""
    for statement in MIGRATE_1_TO_2:
        conn.execute(statement)
    rows = conn.execute(
        f"SELECT {EVENT_COLS} FROM events WHERE type = 'messages' ORDER BY conversation_id, version"
    )
    update = "UPDATE conversations SET messages = ?, by_model = ? WHERE conversation_id = ?"
    batch: list[tuple[Any, ...]] = []

    def done(fold: Fold | None, bad: bool) -> None:
        if fold is not None and not bad:
            batch.append((fold.message_events, models_json(fold), fold.conversation_id))
        if len(batch) >= _CHUNK:
            conn.executemany(update, batch)
            batch.clear()

    fold: Fold | None = None
    bad = False  # an event of this conversation does not decode
    for row in rows:
        cid = row[8]
        if fold is None or fold.conversation_id != cid:
            done(fold, bad)
            fold, bad = Fold(cid), False
        if not bad:
            try:
                fold.add(events_from_rows([row], (cid,))[0].data)
            except IntegrityError:
                bad = True
    done(fold, bad)
    conn.executemany(update, batch)
    conn.execute("UPDATE convlog_meta SET value = '2' WHERE key = 'schema'")


def _events_with_hash(rows: Iterable[Sequence[Any]]) -> Iterable[tuple[StoredEvent, bytes]]:
    for row in rows:
        yield events_from_rows([row], (row[8],))[0], row[9]
