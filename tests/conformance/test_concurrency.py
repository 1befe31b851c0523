"""Many tasks appending at once: each gets its own result or its own error, nothing is lost or
stored twice, versions stay gapless. (Several processes: ``test_sqlite_processes.py``.)"""

from __future__ import annotations

from collections import Counter
from typing import Any
from uuid import uuid4

import anyio
import pytest

import eventstore
from eventstore import ANY, NO_CONVERSATION, DuplicateEventId, WrongExpectedVersion
from schemas import SchemaError
from schemas.types import MAX_SAFE_INT

from .support import (
    all_events,
    assert_acknowledged_stored,
    assert_stored_exactly,
    collect,
    llm_call,
    note,
)

pytestmark = pytest.mark.anyio


async def _run_all(*calls: Any) -> list[Any]:
    """Run the calls concurrently; each one's result, or the exception it raised."""
    outcomes: list[Any] = [None] * len(calls)

    async def one(i: int) -> None:
        try:
            outcomes[i] = await calls[i]()
        except eventstore.StoreError as exc:
            outcomes[i] = exc

    async with anyio.create_task_group() as tg:
        for i in range(len(calls)):
            tg.start_soon(one, i)
    return outcomes


async def test_conflicting_append_does_not_fail_the_appends_committed_with_it(
    store: eventstore.Store,
) -> None:
    taken = uuid4()
    setup = [
        await store.append("contested", [note("start")]),
        await store.append("owner", [note()], event_ids=[taken]),
    ]

    def contested(i: int) -> Any:
        return lambda: store.append("contested", [note(i)], expected_version=1)

    def fresh(i: int) -> Any:
        return lambda: store.append(f"fresh-{i}", [note(i), note(i)], expected_version=0)

    def duplicate(i: int) -> Any:
        return lambda: store.append(f"dup-{i}", [note(i)], event_ids=[taken])

    def anywhere(i: int) -> Any:
        return lambda: store.append("shared", [note(i)], expected_version=ANY)

    calls = []
    for i in range(15):  # interleaved so that conflicts sit between appends that must commit
        calls += [contested(i), fresh(i), duplicate(i), anywhere(i)]
    outcomes = await _run_all(*calls)

    contested_outcomes = outcomes[0::4]
    winners = [o for o in contested_outcomes if isinstance(o, eventstore.AppendResult)]
    assert len(winners) == 1
    assert winners[0].version == 2
    losers = [o for o in contested_outcomes if o not in winners]
    assert all(isinstance(o, WrongExpectedVersion) and o.actual == 2 for o in losers)
    assert all(isinstance(o, eventstore.AppendResult) for o in outcomes[1::4])
    assert all(isinstance(o, DuplicateEventId) for o in outcomes[2::4])
    assert sorted(o.version for o in outcomes[3::4]) == list(range(1, 16))

    events = await all_events(store)
    assert not [e for e in events if e.conversation_id.startswith("dup-")]
    acknowledged = [o for o in outcomes if isinstance(o, eventstore.AppendResult)]
    assert_stored_exactly(setup + acknowledged, events)
    assert [e.data for e in await collect(store.read("contested"))][1] == note(
        contested_outcomes.index(winners[0])
    )
    assert (await store.verify()).ok


async def test_concurrent_appends_with_any_are_all_stored_once_and_gapless(
    store: eventstore.Store,
) -> None:
    tasks, appends_each = 64, 4
    acknowledged: list[eventstore.AppendResult] = []

    async def appender(n: int) -> None:
        for i in range(appends_each):
            acknowledged.append(await store.append(f"c{(n + i) % 3}", [note((n, i))] * (1 + i % 2)))

    async with anyio.create_task_group() as tg:
        for n in range(tasks):
            tg.start_soon(appender, n)

    assert len(acknowledged) == tasks * appends_each
    assert_stored_exactly(acknowledged, await all_events(store))
    assert (await store.verify()).ok


async def test_optimistic_retry_loops_serialize_concurrent_writers(
    store: eventstore.Store,
) -> None:
    writers = 50
    acknowledged: list[eventstore.AppendResult] = []
    conflicts = Counter[str]()

    async def writer(n: int) -> None:
        cid = f"c{n % 2}"
        expected: eventstore.ExpectedVersion | int = NO_CONVERSATION
        while True:
            try:
                result = await store.append(
                    cid, [note((n, 0)), note((n, 1))], expected_version=expected
                )
            except WrongExpectedVersion as exc:
                conflicts[cid] += 1
                expected = exc.actual
                continue
            acknowledged.append(result)
            return

    async with anyio.create_task_group() as tg:
        for n in range(writers):
            tg.start_soon(writer, n)

    assert sum(conflicts.values()) > 0, "the writers never raced; the test proves nothing"
    assert len(acknowledged) == writers
    assert_stored_exactly(acknowledged, await all_events(store))
    for cid in ("c0", "c1"):
        events = await collect(store.read(cid))
        assert len(events) == writers
        # Each writer's two events sit together: nobody appended between its check and write.
        pairs = [(events[k].data, events[k + 1].data) for k in range(0, writers, 2)]
        assert all(a.payload[0] == b.payload[0] for a, b in pairs)  # type: ignore[union-attr]


async def test_concurrent_identical_retries_store_the_append_once(
    store: eventstore.Store,
) -> None:
    ids = [uuid4(), uuid4()]
    outcomes = await _run_all(
        *[
            lambda: store.append("c", [note(1), note(2)], expected_version=0, event_ids=ids)
            for _ in range(20)
        ]
    )

    assert all(isinstance(o, eventstore.AppendResult) for o in outcomes)
    assert len(set(outcomes)) == 1
    assert [e.id for e in await all_events(store)] == ids


async def test_one_id_raced_into_many_conversations_is_stored_once(
    store: eventstore.Store,
) -> None:
    the_id = uuid4()
    outcomes = await _run_all(
        *[(lambda i=i: store.append(f"c{i}", [note(i)], event_ids=[the_id])) for i in range(20)]
    )

    winners = [o for o in outcomes if isinstance(o, eventstore.AppendResult)]
    assert len(winners) == 1
    assert all(isinstance(o, DuplicateEventId) for o in outcomes if o is not winners[0])
    [stored] = await all_events(store)
    assert (stored.id, stored.conversation_id) == (the_id, winners[0].conversation_id)


async def test_cancelled_appends_leave_the_store_consistent_and_usable(
    store: eventstore.Store,
) -> None:
    acknowledged: list[eventstore.AppendResult] = []

    async def appender(i: int) -> None:
        acknowledged.append(await store.append(f"c{i % 3}", [note(i), note(i), note(i)]))

    with anyio.move_on_after(0.002):  # cancels the appenders while many are in flight
        async with anyio.create_task_group() as tg:
            for i in range(300):
                tg.start_soon(appender, i)
    after = await store.append("c0", [note("after")])

    events = await all_events(store)
    assert [e.data for e in events][-1] == note("after")
    assert after.version == len([e for e in events if e.conversation_id == "c0"])
    parts = Counter(e.data.payload for e in events[:-1])  # type: ignore[union-attr]
    assert set(parts.values()) <= {3}, "a cancelled append was stored in part"
    assert_acknowledged_stored([*acknowledged, after], events)
    assert (await store.verify()).ok


async def test_refused_input_does_not_fail_the_appends_committed_with_it(
    store: eventstore.Store,
) -> None:
    bad = [
        lambda: store.append("bad\ud800", [note()]),
        lambda: store.append("c", [note()], session_id="s\udfff"),
        lambda: store.append("c", [note("\ud800")]),
    ]
    calls: list[Any] = []
    for i, refused in enumerate(bad):
        calls += [lambda i=i: store.append(f"good-{i}", [note(i)]), refused]
    outcomes = await _run_all_or_schema_errors(*calls)
    assert all(isinstance(o, eventstore.AppendResult) for o in outcomes[0::2])
    assert all(isinstance(o, SchemaError) for o in outcomes[1::2])
    assert sorted(e.conversation_id for e in await all_events(store)) == [
        "good-0",
        "good-1",
        "good-2",
    ]


async def test_an_append_past_a_token_total_fails_alone_and_writes_nothing(
    store: eventstore.Store,
) -> None:
    # 1,024 calls of the largest count fit in a 64-bit total; one more does not.
    await store.append("big", [llm_call(prompt=MAX_SAFE_INT, completion=1)] * 1024)
    before = await store.get_conversation("big")
    assert before is not None
    assert before.totals.prompt_tokens == 1024 * MAX_SAFE_INT

    outcomes = await _run_all_or_schema_errors(
        lambda: store.append("other", [llm_call()]),
        lambda: store.append("big", [llm_call(), llm_call(prompt=MAX_SAFE_INT)]),
        lambda: store.append("big", [llm_call(completion=MAX_SAFE_INT)]),
    )
    assert isinstance(outcomes[0], eventstore.AppendResult)
    assert isinstance(outcomes[1], SchemaError)
    assert outcomes[1].path == "$.events[1].usage.prompt_tokens"
    assert "prompt_tokens total would exceed" in outcomes[1].problem
    assert isinstance(outcomes[2], eventstore.AppendResult)  # other totals have room
    after = await store.get_conversation("big")
    assert after is not None
    assert after.totals.prompt_tokens == before.totals.prompt_tokens + 10
    assert after.version == 1025
    assert (await store.verify()).ok


async def _run_all_or_schema_errors(*calls: Any) -> list[Any]:
    async def guarded(call: Any) -> Any:
        try:
            return await call()
        except SchemaError as exc:
            return exc

    return await _run_all(*(lambda c=c: guarded(c) for c in calls))
