"""SQLite only: tamper evidence. Someone drops the triggers and edits the file behind the
store's back; ``verify`` must report the first problem, located by conversation and version."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest

import eventstore
from eventstore import Direction
from schemas import SchemaError, UnknownEvent

from .support import collect, llm_call, note, said

pytestmark = pytest.mark.anyio

Tamper = Callable[..., None]
RawSQLite = Callable[[], sqlite3.Connection]

#: The history every case starts from: conversations "a" (5 events), "b" (3), "c" (4),
#: appended interleaved so that their positions mix.
HISTORY = [("a", 2), ("b", 1), ("c", 2), ("a", 1), ("b", 2), ("a", 2), ("c", 2)]


@pytest.fixture
async def tamper(sqlite_url: str, raw_sqlite: Callable[[], sqlite3.Connection]) -> Tamper:
    """Writes HISTORY, closes the store, and returns ``tamper(*statements)``, which runs SQL on
    the file with the append-only triggers dropped (the next ``connect`` may restore them)."""
    async with eventstore.connect(sqlite_url) as store:
        for n, (cid, count) in enumerate(HISTORY):
            await store.append(
                cid, [note(n), llm_call(10 + n, 5, 0.001 * n or None)][:count], session_id="s"
            )
        assert (await store.verify()).ok

    def run(*statements: str) -> None:
        conn = raw_sqlite()
        triggers = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'"
        ).fetchall()
        conn.execute("BEGIN")
        for (name,) in triggers:
            conn.execute(f'DROP TRIGGER "{name}"')
        for statement in statements:
            conn.execute(statement)
        conn.execute("COMMIT")

    return run


def _event(cid: str, version: int) -> str:
    return f"conversation_id = '{cid}' AND version = {version}"


FORGED = 'CAST(\'{"type":"custom","event_type":"forged"}\' AS BLOB)'

# (column, SQL value, what it is, what a read's error says): edits that change a column's type,
# not only its value.
RETYPED = [
    ("data", "CAST(data AS TEXT)", "text", "data holds str"),
    ("data", "replace(data, 'custom', 'custom')", "text-via-replace", "data holds str"),
    ("recorded_at", "'yesterday'", "text", "recorded_at holds str 'yesterday'"),
    ("recorded_at", "1e300", "real", "recorded_at holds float"),
    ("id", "hex(randomblob(8))", "text", "id holds str"),
    ("session_id", "X'00'", "blob", "session_id holds bytes"),
    # Converted or hashed as if unchanged: a time with a fraction, the text's bytes as a BLOB.
    ("recorded_at", "recorded_at + 0.25", "real-fraction", "recorded_at holds float"),
    ("session_id", "CAST(session_id AS BLOB)", "blob-of-the-text", "session_id holds bytes b's'"),
]

# (statements, conversation the report must name, versions it may name). Where a version is
# missing, naming the missing one or the first one found after it is equally precise.
CASES = [
    pytest.param(
        [f"UPDATE events SET data = {FORGED} WHERE {_event('b', 2)}"], "b", {2}, id="data"
    ),
    pytest.param(
        [f"UPDATE events SET data = CAST('{{not json' AS BLOB) WHERE {_event('b', 2)}"],
        "b",
        {2},
        id="data-undecodable",
    ),
    pytest.param(
        [f'UPDATE events SET data = CAST(\'{{"type":"custom"}}\' AS BLOB) WHERE {_event("c", 3)}'],
        "c",
        {3},
        id="data-invalid-body",
    ),
    pytest.param(
        [f"UPDATE events SET session_id = 'forged' WHERE {_event('a', 3)}"], "a", {3}, id="session"
    ),
    pytest.param(
        [f"UPDATE events SET recorded_at = recorded_at + 1 WHERE {_event('a', 4)}"],
        "a",
        {4},
        id="recorded_at",
    ),
    pytest.param(
        [f"UPDATE events SET id = randomblob(16) WHERE {_event('c', 2)}"], "c", {2}, id="id"
    ),
    # SQLite keeps whatever type a statement gives a column: a careless edit retypes it.
    *[
        pytest.param(
            [f"UPDATE events SET {column} = {value} WHERE {_event('c', 2)}"],
            "c",
            {2},
            id=f"retyped-{column}-{kind}",
        )
        for column, value, kind, _ in RETYPED
    ],
    # A TEXT version sorts after every integer: version 2 is missing, 3 follows 1.
    pytest.param(
        [f"UPDATE events SET version = 'two' WHERE {_event('c', 2)}"],
        "c",
        {2, 3},
        id="retyped-version-text",
    ),
    pytest.param([f"DELETE FROM events WHERE {_event('a', 3)}"], "a", {3, 4}, id="delete-middle"),
    pytest.param([f"DELETE FROM events WHERE {_event('c', 1)}"], "c", {1, 2}, id="delete-first"),
    pytest.param([f"DELETE FROM events WHERE {_event('a', 5)}"], "a", {4, 5}, id="delete-last"),
    pytest.param(
        ["DELETE FROM events WHERE conversation_id = 'b'"], "b", {None, 1}, id="delete-conversation"
    ),
    pytest.param(
        [
            f"UPDATE events SET data = {FORGED} WHERE {_event('a', 4)}",
            f"UPDATE events SET data = {FORGED} WHERE {_event('a', 2)}",
        ],
        "a",
        {2},
        id="first-of-two",
    ),
    pytest.param(
        [
            "CREATE TEMP TABLE swap AS SELECT conversation_id, version, data FROM events "
            "WHERE conversation_id = 'a' AND version IN (2, 4)",
            "UPDATE events SET data = (SELECT data FROM swap WHERE swap.version = 6 - "
            "events.version) WHERE conversation_id = 'a' AND version IN (2, 4)",
        ],
        "a",
        {2},
        id="swap-data",
    ),
    pytest.param(
        [
            "CREATE TEMP TABLE forged AS SELECT * FROM events WHERE " + _event("a", 5),
            "UPDATE forged SET version = 6, id = randomblob(16), "
            "position = (SELECT max(position) + 1 FROM events)",
            "INSERT INTO events SELECT * FROM forged",
        ],
        "a",
        {6},
        id="forged-append",
    ),
]


@pytest.mark.parametrize(("statements", "cid", "versions"), CASES)
async def test_verify_reports_the_first_tampered_event(
    tamper: Tamper, sqlite_url: str, statements: list[str], cid: str, versions: set[int | None]
) -> None:
    tamper(*statements)

    async with eventstore.connect(sqlite_url) as store:
        report = await store.verify()

    assert not report.ok
    assert report.problem
    assert (report.conversation_id, report.version) in {(cid, v) for v in versions}


async def test_verify_reports_the_first_problem_of_every_conversation(
    tamper: Tamper, sqlite_url: str
) -> None:
    tamper(
        f"UPDATE events SET data = {FORGED} WHERE {_event('a', 4)}",
        f"UPDATE events SET data = {FORGED} WHERE {_event('a', 2)}",  # a's first problem
        f"UPDATE events SET session_id = 'forged' WHERE {_event('c', 3)}",
        "UPDATE conversations SET prompt_tokens = prompt_tokens - 1 WHERE conversation_id = 'b'",
    )

    async with eventstore.connect(sqlite_url) as store:
        report = await store.verify()
        first_only = await store.verify(max_problems=1)
        with pytest.raises(SchemaError, match="max_problems"):
            await store.verify(max_problems=0)

    assert not report.ok
    assert [(p.conversation_id, p.version) for p in report.problems] == [
        ("a", 2),
        ("b", None),
        ("c", 3),
    ]
    assert "type column says" in report.problems[0].problem
    assert "summary disagrees with the fold" in report.problems[1].problem
    assert (report.problem, report.conversation_id, report.version) == (
        report.problems[0].problem,
        "a",
        2,
    )
    assert report.more_problems == 0
    assert (report.events, report.conversations) == (12, 3)  # every event read, all checked
    assert report.digest is not None
    assert first_only.problems == report.problems[:1]
    assert first_only.more_problems == 2
    assert first_only.problem == report.problem


async def test_verify_reports_store_wide_problems_beside_conversations(
    tamper: Tamper, sqlite_url: str
) -> None:
    tamper(
        f"UPDATE events SET data = {FORGED} WHERE {_event('c', 2)}",
        "DELETE FROM events WHERE conversation_id = 'b'",
        "DELETE FROM conversations WHERE conversation_id = 'b'",
    )

    async with eventstore.connect(sqlite_url) as store:
        report = await store.verify()

    assert [(p.conversation_id, p.version) for p in report.problems] == [("c", 2), (None, None)]
    assert report.problems[1].problem.startswith("events deleted: position 3 holds no event")


async def test_verify_on_an_untouched_file_is_clean(tamper: Tamper, sqlite_url: str) -> None:
    tamper()  # drops the triggers, changes nothing else

    async with eventstore.connect(sqlite_url) as store:
        await store.append("a", [said("after reopening")])
        report = await store.verify()

    assert report.ok
    assert (report.events, report.conversations) == (13, 3)


# -- what the reads make of stored data that no append could have written -------------------

UNDECODABLE = [
    pytest.param("CAST('{not json' AS BLOB)", id="not-json"),
    pytest.param('CAST(\'{"type":"custom"}\' AS BLOB)', id="invalid-body"),
    pytest.param("X'7B22747970 65223A FF7D'".replace(" ", ""), id="invalid-utf8"),
]


@pytest.mark.parametrize("data", UNDECODABLE)
async def test_reads_refuse_an_event_that_does_not_decode_naming_where_it_is_stored(
    tamper: Tamper, sqlite_url: str, raw_sqlite: Callable[[], sqlite3.Connection], data: str
) -> None:
    tamper(f"UPDATE events SET data = {data} WHERE {_event('b', 2)}")
    (position,) = (
        raw_sqlite().execute(f"SELECT position FROM events WHERE {_event('b', 2)}").fetchone()
    )

    async with eventstore.connect(sqlite_url) as store:
        reads = {
            "read": lambda: collect(store.read("b")),
            "read-desc": lambda: collect(store.read("b", direction="desc")),
            "read_all": lambda: collect(store.read_all()),
            "list_events": lambda: store.list_events("b"),
        }
        for name, read in reads.items():
            with pytest.raises(eventstore.IntegrityError) as caught:
                await read()
            assert (caught.value.conversation_id, caught.value.version) == ("b", 2), name
            assert str(caught.value).startswith(
                f"stored event at position {position} ('b' version 2) does not decode: $.data"
            ), name
        # The events around it still read.
        assert [e.version for e in await collect(store.read("b", to_version=1))] == [1]
        assert [e.version for e in await collect(store.read("b", from_version=3))] == [3]


async def test_reads_keep_a_stored_event_of_a_type_this_version_does_not_know(
    tamper: Tamper, sqlite_url: str
) -> None:
    raw = b'{"type":"telepathy","strength":1e999,"payload":{"x":[1,2]}}'
    tamper(f"UPDATE events SET data = X'{raw.hex()}' WHERE {_event('c', 3)}")

    async with eventstore.connect(sqlite_url) as store:
        by_read = (await collect(store.read("c")))[2]
        by_read_all = [e for e in await collect(store.read_all()) if e.conversation_id == "c"][2]
        by_listing = (await store.list_events("c")).items[2]

    for event in (by_read, by_read_all, by_listing):
        assert (event.conversation_id, event.version, event.type) == ("c", 3, "telepathy")
        assert event.data == UnknownEvent("telepathy", raw)
        assert event.raw == raw
    assert by_read == by_read_all == by_listing


async def test_a_read_that_failed_leaves_no_stale_snapshot_behind(
    tamper: Tamper, sqlite_url: str
) -> None:
    """The failed page's statement must not stay open on the reader connection while the
    error is alive: later reads there would see the file as it was before the failure."""
    tamper(f"UPDATE events SET data = CAST('{{not json' AS BLOB) WHERE {_event('b', 2)}")

    async with eventstore.connect(sqlite_url, readers=1) as store:
        with pytest.raises(eventstore.IntegrityError) as caught:
            await collect(store.read("b"))
        result = await store.append("d", [note("after the failure")])
        later = await collect(store.read_all(from_position=result.positions[0]))
        assert caught.value.version == 2  # the error, and so its traceback, is still alive

    assert [(e.conversation_id, e.version) for e in later] == [("d", 1)]


@pytest.mark.parametrize(
    ("bad", "direction", "yielded"),
    [
        pytest.param(1001, "asc", 1000, id="first-past-a-page"),
        pytest.param(1000, "asc", 0, id="last-of-a-page"),
        pytest.param(1200, "desc", 1000, id="desc-first-past-a-page"),
        pytest.param(1201, "desc", 0, id="desc-last-of-a-page"),
    ],
)
async def test_a_read_yields_the_pages_before_an_event_that_does_not_decode(
    sqlite_url: str, raw_sqlite: RawSQLite, bad: int, direction: Direction, yielded: int
) -> None:
    """Reads go a page (1,000 events) at a time: every page before the bad event is yielded,
    then the error; nothing of the page holding it."""
    async with eventstore.connect(sqlite_url) as store:
        await store.append("long", [note(i) for i in range(2200)])
    conn = raw_sqlite()
    conn.execute("DROP TRIGGER events_append_only_update")
    conn.execute(f"UPDATE events SET data = CAST('{{not json' AS BLOB) WHERE {_event('long', bad)}")

    got: list[int] = []
    async with eventstore.connect(sqlite_url) as store:

        async def read() -> None:
            async for event in store.read("long", direction=direction):
                got.append(event.version)

        with pytest.raises(eventstore.IntegrityError) as caught:
            await read()
    assert caught.value.version == bad
    assert len(got) == yielded


@pytest.mark.parametrize(
    ("column", "value", "shown"),
    [
        *((column, value, shown) for column, value, _, shown in RETYPED),
        ("version", "'two'", "version holds str 'two'"),
    ],
)
async def test_reads_refuse_an_event_whose_column_was_retyped_naming_the_column(
    tamper: Tamper, sqlite_url: str, column: str, value: str, shown: str
) -> None:
    tamper(f"UPDATE events SET {column} = {value} WHERE {_event('b', 2)}")

    async with eventstore.connect(sqlite_url) as store:
        reads = [lambda: collect(store.read_all())]
        if column != "version":  # a TEXT version falls outside every version range
            reads += [lambda: collect(store.read("b")), lambda: store.list_events("b")]
        for read in reads:
            with pytest.raises(eventstore.IntegrityError, match="was altered: " + shown) as caught:
                await read()
            assert caught.value.conversation_id == "b"
            assert caught.value.version == (None if column == "version" else 2)


async def test_a_conversation_id_retyped_to_a_blob_is_refused_and_reported_as_text(
    tamper: Tamper, sqlite_url: str
) -> None:
    tamper("UPDATE events SET conversation_id = CAST(conversation_id AS BLOB) WHERE version = 1")

    async with eventstore.connect(sqlite_url) as store:
        with pytest.raises(eventstore.IntegrityError, match="conversation_id holds bytes"):
            await collect(store.read_all())
        report = await store.verify()
    assert not report.ok
    assert report.conversation_id is None or type(report.conversation_id) is str


# -- the summary table: derived data that any connection can edit, no trigger needed ----------

ALTERED = "summary of conversation 'b' was altered"
# (edit, what verify reports, whether reads of the summary refuse it, what refuses an append)
SUMMARY_EDITS = [
    pytest.param(
        "prompt_tokens = prompt_tokens - 1",
        "summary disagrees with the fold of its events",
        False,
        None,  # the new event is sound; the totals stay off by one until a rebuild
        id="tokens-off-by-one",
    ),
    # The next append would link its hash to this head: a stored event no verify could
    # accept, and no rebuild could mend.
    pytest.param(
        "head_hash = zeroblob(32)",
        "summary's head hash is not its last event's",
        False,
        "disagrees with its last event",
        id="head-not-the-last-event",
    ),
    *(
        pytest.param(edit, shown, True, ALTERED, id=name)
        for name, edit, shown in [
            ("cost-not-a-number", "cost_usd = 'abc'", "cost_usd holds str 'abc'"),
            ("cost-snan", "cost_usd = 'sNaN'", "cost_usd holds str 'sNaN'"),
            ("cost-infinite", "cost_usd = 'Infinity'", "cost_usd holds str 'Infinity'"),
            ("created-text", "created_at = 'x'", "created_at holds str 'x'"),
            ("updated-out-of-range", f"updated_at = {2**63 - 1}", "updated_at holds int"),
            ("version-text", "version = 'x'", "version holds str 'x'"),
            ("title-blob", "title = X'00'", "title holds bytes"),
            ("head-text", "head_hash = 'abc'", "head_hash holds str"),
            ("messages-text", "messages = 'x'", "messages holds str 'x'"),
            ("messages-negative", "messages = -1", "messages holds int -1"),
            ("by-model-blob", "by_model = X'7B7D'", "by_model holds bytes"),
            ("by-model-not-json", "by_model = '{'", "by_model holds str '{'"),
            ("by-model-empty-text", "by_model = ''", "by_model holds str ''"),
            # The one canonical text: no spaces, models in order, each entry complete.
            ("by-model-spaced", "by_model = replace(by_model, ',', ', ')", "by_model holds str"),
            ("by-model-short", "by_model = replace(by_model, '[1,0,', '[1,')", "by_model holds"),
            ("by-model-negative", "by_model = replace(by_model, '[1,0,', '[1,-1,')", "by_model"),
            ("by-model-no-model", "by_model = replace(by_model, 'test-model', '')", "by_model"),
            ("by-model-cost-nan", "by_model = replace(by_model, '\"0.004\"', '\"NaN\"')", "by_"),
            ("by-model-cost-number", "by_model = replace(by_model, '\"0.004\"', '0.004')", "by_"),
            # More unpriced calls than calls; a cost where no call was priced.
            ("by-model-unpriced", "by_model = replace(by_model, '[1,0,', '[1,2,')", "by_model"),
            ("by-model-cost-unpriced", "by_model = replace(by_model, '[1,0,', '[1,1,')", "by_"),
        ]
    ),
]


@pytest.mark.parametrize(("edit", "reported", "unreadable", "refused"), SUMMARY_EDITS)
async def test_an_altered_summary_is_reported_never_appended_onto_and_rebuilt(
    tamper: Tamper,
    sqlite_url: str,
    edit: str,
    reported: str,
    unreadable: bool,
    refused: str | None,
) -> None:
    tamper(f"UPDATE conversations SET {edit} WHERE conversation_id = 'b'")

    async with eventstore.connect(sqlite_url) as store:
        report = await store.verify()
        assert (report.ok, report.conversation_id) == (False, "b")
        assert reported in (report.problem or "")
        if unreadable:
            for read in (lambda: store.list_conversations(), lambda: store.get_conversation("b")):
                with pytest.raises(eventstore.IntegrityError, match=reported) as caught:
                    await read()
                assert caught.value.conversation_id == "b"
        if refused is not None:
            before = await collect(store.read("b"))
            with pytest.raises(eventstore.IntegrityError, match=refused):
                await store.append("b", [note()])
            assert await collect(store.read("b")) == before
        await store.append("a", [note()])  # other conversations are unaffected

        await store.rebuild_summaries()
        await store.append("b", [note()])
        assert (await store.verify()).ok
        assert (await store.get_conversation("b")) == (await store.replay("b")).summary


async def test_a_cost_edited_into_a_summary_with_no_priced_call_is_refused(
    tamper: Tamper, sqlite_url: str
) -> None:
    # Totals show no cost when no call was priced, so comparing them cannot see this edit.
    async with eventstore.connect(sqlite_url) as store:
        await store.append("d", [llm_call(cost=None), llm_call(cost=None)])
    tamper("UPDATE conversations SET cost_usd = '5' WHERE conversation_id = 'd'")

    async with eventstore.connect(sqlite_url) as store:
        report = await store.verify()
        assert (report.ok, report.conversation_id) == (False, "d")
        assert "cost_usd holds str '5'" in (report.problem or "")
        with pytest.raises(eventstore.IntegrityError, match="'d' was altered: cost_usd"):
            await store.get_conversation("d")
        with pytest.raises(eventstore.IntegrityError, match="'d' was altered: cost_usd"):
            await store.append("d", [llm_call(cost=0.5)])
        await store.rebuild_summaries()
        await store.append("d", [llm_call(cost=0.5)])
        assert (await store.get_conversation("d")).totals.cost_usd == 0.5
        assert (await store.verify()).ok


async def test_a_conversation_deleted_with_its_summary_leaves_a_hole_verify_finds(
    tamper: Tamper, sqlite_url: str
) -> None:
    tamper(
        "DELETE FROM events WHERE conversation_id = 'b'",
        "DELETE FROM conversations WHERE conversation_id = 'b'",
    )
    # b held positions 3, 6 and 7 (HISTORY interleaves the appends).
    async with eventstore.connect(sqlite_url) as store:
        report = await store.verify()
    assert not report.ok
    assert (
        report.problem
        == "events deleted: position 3 holds no event (9 events hold positions 1..12)"
    )


# Summary edits that claim more than the events hold: what deleting events leaves behind.
AHEAD_EDITS = [
    pytest.param("prompt_tokens = prompt_tokens + 1", "prompt_tokens", id="tokens"),
    pytest.param("calls = calls + 1", "calls", id="calls"),
    pytest.param("cost_usd = '1'", "cost_usd", id="cost"),
    pytest.param("updated_at = updated_at + 1", "updated_at_us", id="time"),
    pytest.param("messages = messages + 1", "messages", id="messages"),
    pytest.param(
        "by_model = replace(by_model, '[1,0,14,', '[1,0,15,')",
        "by_model['test-model'].prompt_tokens",
        id="by-model-tokens",
    ),
    # The same totals, claimed by another model: no deletion leaves that, but the rule is
    # "any claim above the events", and a rebuild that refuses too much can be forced.
    pytest.param(
        "by_model = replace(by_model, 'test-model', 'other-model')",
        "by_model['other-model'].calls",
        id="by-model-renamed",
    ),
    pytest.param(
        "by_model = replace(by_model, '}', ',\"zz\":[1,1,0,0,0,0,0,\"0\"]}')",
        "by_model['zz'].calls",
        id="by-model-another-model",
    ),
]


@pytest.mark.parametrize(("edit", "claim"), AHEAD_EDITS)
async def test_a_summary_ahead_of_its_events_is_not_rebuilt_unless_forced(
    tamper: Tamper, sqlite_url: str, raw_sqlite: RawSQLite, edit: str, claim: str
) -> None:
    tamper(f"UPDATE conversations SET {edit} WHERE conversation_id = 'b'")
    before = raw_sqlite().execute("SELECT * FROM conversations ORDER BY 1").fetchall()
    async with eventstore.connect(sqlite_url) as store:
        report = await store.verify()
        assert (report.ok, report.conversation_id) == (False, "b")
        assert f"summary is ahead of its events ({claim} " in (report.problem or "")
        assert "run rebuild_summaries" not in (report.problem or "")
        with pytest.raises(eventstore.IntegrityError, match="ahead of its events") as caught:
            await store.rebuild_summaries()
        assert caught.value.conversation_id == "b"
        assert raw_sqlite().execute("SELECT * FROM conversations ORDER BY 1").fetchall() == before

        assert await store.rebuild_summaries(force=True) == 3
        assert (await store.verify()).ok


async def test_a_deleted_tail_with_its_summary_edited_to_match_is_not_laundered(
    tamper: Tamper, sqlite_url: str
) -> None:
    """c's last event is the store's last (position 12): deleting it leaves no hole. The
    summary's version is edited to match the events, but it still claims their place."""
    tamper(
        f"DELETE FROM events WHERE {_event('c', 4)}",
        "UPDATE conversations SET version = 3 WHERE conversation_id = 'c'",
    )
    async with eventstore.connect(sqlite_url) as store:
        report = await store.verify()
        assert (report.ok, report.conversation_id) == (False, "c")
        assert "ahead of its events (last_position 12 > 11)" in (report.problem or "")
        with pytest.raises(eventstore.IntegrityError, match="ahead of its events"):
            await store.rebuild_summaries()
        assert not (await store.verify()).ok


async def test_a_version_gap_is_not_laundered_by_a_rebuild(tamper: Tamper, sqlite_url: str) -> None:
    tamper(
        f"DELETE FROM events WHERE {_event('a', 3)}",
        "DELETE FROM conversations WHERE conversation_id = 'a'",
    )
    async with eventstore.connect(sqlite_url) as store:
        with pytest.raises(eventstore.IntegrityError, match="version gap in 'a'") as caught:
            await store.rebuild_summaries()
        assert (caught.value.conversation_id, caught.value.version) == ("a", 3)
        assert await store.rebuild_summaries(force=True) == 3
        report = await store.verify()  # the gap itself is still there to see
        assert (report.ok, report.conversation_id) == (False, "a")


async def test_a_summary_whose_events_are_all_gone_is_not_rebuilt_away(
    tamper: Tamper, sqlite_url: str
) -> None:
    tamper("DELETE FROM events WHERE conversation_id = 'b'")
    async with eventstore.connect(sqlite_url) as store:
        with pytest.raises(eventstore.IntegrityError, match="summary of 'b' has no events"):
            await store.rebuild_summaries()
        assert len((await store.list_conversations()).items) == 3


async def test_a_deleted_tail_of_the_whole_store_is_caught_by_a_recorded_digest(
    tamper: Tamper, sqlite_url: str
) -> None:
    """The one deletion no chain or hole shows: the store's last events, with their
    conversation's summary rewritten to match. A digest recorded before catches it."""
    async with eventstore.connect(sqlite_url) as store:
        recorded = (await store.verify()).digest
        assert recorded is not None
        summary_before = await store.replay("c")
    tamper(f"DELETE FROM events WHERE {_event('c', 4)}")
    async with eventstore.connect(sqlite_url) as store:
        await store.rebuild_summaries(force=True)  # the summary made to match, as a forger would
        assert (await store.get_conversation("c")).version == summary_before.summary.version - 1
        assert (await store.verify()).ok  # nothing inside the store shows it
        report = await store.verify(expect=recorded)
    assert not report.ok
    assert report.problem is not None
    assert report.problem.startswith("history ends at position 11, but the expected digest")


async def test_an_altered_event_in_the_middle_is_caught_by_a_recorded_digest(
    tamper: Tamper, sqlite_url: str
) -> None:
    async with eventstore.connect(sqlite_url) as store:
        recorded = (await store.verify()).digest
    tamper(f"UPDATE events SET hash = zeroblob(32) WHERE {_event('b', 1)}")
    async with eventstore.connect(sqlite_url) as store:
        report = await store.verify(expect=recorded)
    assert not report.ok  # the chain break is reported first; the digest differs too
    assert report.digest != recorded
