"""PostgreSQL's tables, migrations and statements, for one store in one schema.

History is append-only in the database itself: a trigger refuses every UPDATE, DELETE and
TRUNCATE of ``events``, whatever the role. ``data`` is ``bytea``: the validated JSON bytes
exactly as appended (``jsonb`` would re-encode them, ``json`` would keep them only as text).
Conversation ids and types are ``COLLATE "C"``: code point order, the order of Python's
``str`` and of SQLite's ``BINARY``, which paging and ``verify`` rely on.

The global order. ``convlog_head`` holds one row: the highest committed position. Every
append transaction locks that row first (``SELECT ... FOR UPDATE``), numbers its events after
it, and stores the new head before it commits. So appends commit one at a time, in position
order, and a row lock is released only once its transaction is visible: a reader never sees a
position while a lower one is still to commit, and positions have no gaps. See
``docs/decisions.md`` for why this and not transaction-id visibility.
"""

from __future__ import annotations

import typing
from typing import Any

import msgspec

from .._summary_row import SUMMARY_COLUMNS, _SummaryRow

__all__ = (
    "EVENT_COLS",
    "MIGRATIONS",
    "PAGE_COLS",
    "SCHEMA_VERSION",
    "SUMMARY_COLS",
    "Statements",
)

# A page of one conversation, as the shared row decoder takes it (eventstore._event_rows).
PAGE_COLS = "position, version, id, recorded_at, session_id, turn_id, harness, data"
EVENT_COLS = f"{PAGE_COLS}, conversation_id"
SUMMARY_COLS = ", ".join(SUMMARY_COLUMNS)
MAX_VERSION = (1 << 63) - 1

_PG_TYPES = {int: "bigint", bytes: "bytea", str: 'text COLLATE "C"'}


def _summary_types() -> list[tuple[str, str, bool]]:
    """(column, PostgreSQL type, nullable) of each summary column, from the summary row's own
    type declarations: a column added there is created here by a migration, not by hand."""
    out = []
    for field in msgspec.structs.fields(_SummaryRow):
        kind = field.type
        nullable = typing.get_origin(kind) in (typing.Union, type(int | None)) and type(
            None
        ) in typing.get_args(kind)
        if nullable:
            (kind,) = [k for k in typing.get_args(kind) if k is not type(None)]
        out.append((field.name, _PG_TYPES[kind], nullable))
    return out


SUMMARY_TYPES = _summary_types()


def _conversations_table(s: str) -> str:
    columns = ",\n".join(
        f"{name} {kind}{'' if nullable else ' NOT NULL'}"
        + (" PRIMARY KEY" if name == "conversation_id" else "")
        for name, kind, nullable in SUMMARY_TYPES
    )
    return f"CREATE TABLE {s}.conversations (\n{columns}\n)"


def _v1(s: str) -> list[str]:
    return [
        f"""CREATE TABLE {s}.events (
            position        bigint  PRIMARY KEY,
            conversation_id text    COLLATE "C" NOT NULL,
            version         bigint  NOT NULL CHECK (version >= 1),
            id              bytea   NOT NULL UNIQUE CHECK (length(id) = 16),
            type            text    COLLATE "C" NOT NULL,
            recorded_at     bigint  NOT NULL,
            session_id      text,
            turn_id         text,
            harness         text,
            data            bytea   NOT NULL,
            hash            bytea   NOT NULL,
            UNIQUE (conversation_id, version)
        )""",
        f"""CREATE FUNCTION {s}.convlog_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'convlog: events are append-only (% refused)', TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END $$""",
        f"""CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON {s}.events
            FOR EACH ROW EXECUTE FUNCTION {s}.convlog_append_only()""",
        f"""CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON {s}.events
            FOR EACH STATEMENT EXECUTE FUNCTION {s}.convlog_append_only()""",
        _conversations_table(s),
        f"CREATE UNIQUE INDEX conversations_by_activity ON {s}.conversations (last_position)",
        f"""CREATE INDEX conversations_by_parent ON {s}.conversations (parent_id)
            WHERE parent_id IS NOT NULL""",
        # generation: moved by every rebuild of the summaries, so that a writer that
        # remembers summaries knows to read them again.
        f"""CREATE TABLE {s}.convlog_head (
            one        boolean PRIMARY KEY DEFAULT true CHECK (one),
            position   bigint  NOT NULL,
            generation bigint  NOT NULL
        )""",
        f"INSERT INTO {s}.convlog_head (position, generation) VALUES (0, 0)",
    ]


#: Each schema version's DDL, in order; ``MIGRATIONS[n - 1]`` takes a store from version
#: ``n - 1`` to ``n``. Applied on open, under an advisory lock, in one transaction each.
MIGRATIONS: tuple[Any, ...] = (_v1,)
SCHEMA_VERSION = len(MIGRATIONS)


class Statements:
    """The statements of one store, its schema name filled in."""

    def __init__(self, schema: str) -> None:
        s = self.schema = f'"{schema}"'
        #: The notification channel of this store's commits.
        self.channel = f"convlog.{schema}"
        #: An advisory lock key for this store's migrations.
        self.migration_lock = f"convlog.{schema}"
        self.meta_table = f"{s}.convlog_meta"
        self.lock_head = f"SELECT position, generation FROM {s}.convlog_head FOR UPDATE"
        self.next_generation = f"UPDATE {s}.convlog_head SET generation = generation + 1"
        # Each summary with the hash of the event at its version: the head an append chains
        # onto (see eventstore.sqlite._sql.load_folds for why it is taken from the event).
        self.folds = (
            f"SELECT {', '.join('c.' + c for c in SUMMARY_COLUMNS)}, e.hash "
            f"FROM {s}.conversations c LEFT JOIN {s}.events e "
            "ON e.conversation_id = c.conversation_id AND e.version = c.version "
            "WHERE c.conversation_id = ANY($1::text[])"
        )
        self.lookup_ids = (
            f"SELECT id, conversation_id, version, position FROM {s}.events "
            "WHERE id = ANY($1::bytea[])"
        )
        # A chunk of events, when a group's data is too large for one statement (see _write).
        self.insert_events = (
            f"INSERT INTO {s}.events (position, conversation_id, version, id, type, "
            "recorded_at, session_id, turn_id, harness, data, hash) "
            "SELECT p, c, v, i, t, $6, st, tt, ht, d, h FROM unnest($1::bigint[], $2::text[], "
            "$3::bigint[], $4::bytea[], $5::text[], $7::text[], $8::text[], $9::text[], "
            "$10::bytea[], $11::bytea[]) AS u(p, c, v, i, t, st, tt, ht, d, h)"
        )
        # Everything a group writes, in one statement and so one round trip: its events, its
        # updated and created summaries, the new head and the commit's notification. Each
        # parameter is one column as an array: $1-$11 the events (as insert_events), then the
        # updated summaries' columns, the created ones', the head and the channel.
        n = len(SUMMARY_TYPES)

        def arrays(first: int) -> str:
            return ", ".join(
                f"${first + i}::{kind.split(' ')[0]}[]"
                for i, (_, kind, _) in enumerate(SUMMARY_TYPES)
            )

        sets = ", ".join(f"{c} = u.{c}" for c in SUMMARY_COLUMNS[1:])
        self.write_group = (
            f"WITH ev AS ({self.insert_events}), "
            f"upd AS (UPDATE {s}.conversations t SET {sets} FROM unnest({arrays(12)}) "
            f"AS u({SUMMARY_COLS}) WHERE t.conversation_id = u.conversation_id), "
            f"ins AS (INSERT INTO {s}.conversations ({SUMMARY_COLS}) "
            f"SELECT * FROM unnest({arrays(12 + n)})), "
            f"hd AS (UPDATE {s}.convlog_head SET position = ${12 + 2 * n}) "
            f"SELECT pg_notify(${13 + 2 * n}, ${12 + 2 * n}::text)"
        )
        unnest = arrays(1)
        self.insert_summaries = (
            f"INSERT INTO {s}.conversations ({SUMMARY_COLS}) SELECT * FROM unnest({unnest})"
        )
        self.summaries = f"SELECT {SUMMARY_COLS} FROM {s}.conversations"
        self.events = f"{s}.events"
        self.conversations = f"{s}.conversations"
