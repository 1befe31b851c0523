"""SQLite only: the writer remembers heads and summaries between its own commits, so an append
need not read them back. That memory must never outlive a write the writer did not make (another
store on the file, a tool), a transaction of its own that failed, or a summary rebuild."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import anyio
import pytest

import eventstore
from eventstore import StoreError
from eventstore.sqlite import _sql as sqlite_module
from eventstore.sqlite._backend import _Heads

from .support import all_events, llm_call, note

pytestmark = pytest.mark.anyio

RawSQLite = Callable[[], sqlite3.Connection]


async def _check_consistent(store: eventstore.Store) -> None:
    report = await store.verify()
    assert report.ok, report
    by_conversation: dict[str, list[int]] = {}
    for event in await all_events(store):
        by_conversation.setdefault(event.conversation_id, []).append(event.version)
    for versions in by_conversation.values():
        assert versions == list(range(1, len(versions) + 1))


async def test_appends_by_another_store_on_the_file_are_seen(sqlite_url: str) -> None:
    async with eventstore.connect(sqlite_url) as ours, eventstore.connect(sqlite_url) as theirs:
        await ours.append("c", [llm_call(cost=0.5)])
        await theirs.append("c", [llm_call(cost=0.25), note()])  # behind our writer's back
        result = await ours.append("c", [llm_call(cost=0.125)])
        assert result.version == 4
        assert result.positions == (4,)
        summary = await ours.get_conversation("c")
        assert summary is not None
        assert (summary.version, summary.totals.calls, summary.totals.cost_usd) == (4, 3, 0.875)
        await _check_consistent(ours)


async def test_a_failed_transaction_does_not_leave_advanced_heads_behind(
    sqlite_url: str, raw_sqlite: RawSQLite
) -> None:
    async with eventstore.connect(sqlite_url) as store:
        # A tool installs a trigger that refuses one harness's events; the change comes from
        # another connection, so the writer re-reads everything on its next transaction.
        raw_sqlite().execute(
            "CREATE TRIGGER refuse_bad BEFORE INSERT ON events WHEN NEW.harness = 'bad' "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
        await store.append("c", [llm_call(cost=1.0)])
        # This transaction advances the writer's fold of "c" in memory, then rolls back.
        with pytest.raises(StoreError, match="refused"):
            await store.append("c", [llm_call(cost=2.0), note()], harness="bad")
        result = await store.append("c", [llm_call(cost=4.0)])
        assert result.version == 2
        summary = await store.get_conversation("c")
        assert summary is not None
        assert (summary.version, summary.totals.calls, summary.totals.cost_usd) == (2, 2, 5.0)
        await _check_consistent(store)


async def test_conversations_forgotten_for_capacity_are_read_back(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_Heads, "CAPACITY", 2)
    async with eventstore.connect(sqlite_url) as store:
        for round_ in range(3):
            for cid in ("a", "b", "c", "d"):
                result = await store.append(cid, [llm_call(cost=1.0)])
                assert result.version == round_ + 1
        for cid in ("a", "b", "c", "d"):
            summary = await store.get_conversation(cid)
            assert summary is not None
            assert (summary.version, summary.totals.cost_usd) == (3, 3.0)
        await _check_consistent(store)


async def test_appends_after_a_summary_rebuild_continue_the_rebuilt_summaries(
    sqlite_url: str, raw_sqlite: RawSQLite
) -> None:
    async with eventstore.connect(sqlite_url) as store:
        await store.append("c", [llm_call(cost=1.0)])
        await store.rebuild_summaries()
        await store.append("c", [llm_call(cost=2.0)])
        summary = await store.get_conversation("c")
        assert summary is not None
        assert (summary.version, summary.totals.cost_usd) == (2, 3.0)
        await _check_consistent(store)


async def test_an_append_the_driver_cannot_bind_fails_alone(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Whatever slips past validation and breaks the shared transaction outside SQLite (here a
    # body whose bytes the driver cannot bind) is retried alone and reported to its caller only.
    async with eventstore.connect(sqlite_url) as store:
        await store.append("c", [note()])
        real = sqlite_module._blob

        def blob(value: bytes) -> bytearray:
            if value == b'{"type":"custom","event_type":"test.note","payload":"unbindable"}':
                raise OverflowError("cannot bind this")
            return real(value)

        monkeypatch.setattr(sqlite_module, "_blob", blob)
        outcomes: list[object] = []

        async def one(conversation: str, payload: str) -> None:
            try:
                outcomes.append(await store.append(conversation, [note(payload)]))
            except StoreError as exc:
                outcomes.append(exc)

        async with anyio.create_task_group() as tg:
            for i, payload in enumerate(["fine", "unbindable", "fine"]):
                tg.start_soon(one, f"c{i}", payload)
        errors = [o for o in outcomes if isinstance(o, StoreError)]
        assert len(errors) == 1
        assert "cannot append: OverflowError: cannot bind this" in str(errors[0])
        assert isinstance(errors[0].__cause__, OverflowError)
        assert sorted(e.conversation_id for e in await all_events(store)) == ["c", "c0", "c2"]
        await _check_consistent(store)
