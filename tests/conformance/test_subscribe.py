"""``subscribe``: catch-up, then live, in commit order, resumable without gaps or duplicates."""

from __future__ import annotations

import anyio
import pytest

import eventstore

from .conftest import BackendUnderTest
from .support import PATIENCE, all_events, note, subscribed

pytestmark = pytest.mark.anyio


def _keys(events: list[eventstore.StoredEvent]) -> list[tuple[int, str, int]]:
    return [(e.position, e.conversation_id, e.version) for e in events]


async def test_subscribe_catches_up_then_follows_live_appends_in_commit_order(
    store: eventstore.Store,
) -> None:
    for i in range(5):
        await store.append(f"c{i % 2}", [note(i)])
    received: list[eventstore.StoredEvent] = []

    async def appender() -> None:
        for i in range(20):
            await store.append(f"c{i % 3}", [note(i), note(i)])
            await anyio.sleep(0.002)

    async def subscriber() -> None:
        received.extend(await subscribed(store, 5 + 40))

    async with anyio.create_task_group() as tg:
        tg.start_soon(subscriber)
        await anyio.sleep(0.01)  # let it catch up and start waiting
        tg.start_soon(appender)

    assert _keys(received) == _keys(await all_events(store))
    assert [e.raw for e in received] == [e.raw for e in await all_events(store)]


async def test_subscriber_waiting_on_an_empty_store_wakes_for_the_first_append(
    store: eventstore.Store,
) -> None:
    received: list[eventstore.StoredEvent] = []

    async def subscriber() -> None:
        received.extend(await subscribed(store, 1))

    async with anyio.create_task_group() as tg:
        tg.start_soon(subscriber)
        await anyio.sleep(0.05)
        result = await store.append("c", [note("first")])

    assert [(e.position, e.id) for e in received] == [(result.positions[0], result.ids[0])]


async def test_resuming_from_last_position_plus_one_has_no_gaps_or_duplicates(
    store: eventstore.Store,
) -> None:
    for i in range(10):
        await store.append(f"c{i % 3}", [note(i)])

    first = await subscribed(store, 7)
    for i in range(10, 15):
        await store.append(f"c{i % 3}", [note(i)])
    rest = await subscribed(store, 15 - 7, from_position=first[-1].position + 1)

    assert _keys(first + rest) == _keys(await all_events(store))


async def test_subscriber_sees_every_concurrent_append_once_in_commit_order(
    store: eventstore.Store,
) -> None:
    tasks, per_task = 60, 3
    received: list[eventstore.StoredEvent] = []

    async def subscriber() -> None:
        received.extend(await subscribed(store, tasks * per_task))

    async def appender(n: int) -> None:
        for i in range(per_task):
            await store.append(f"c{n % 4}", [note((n, i))])

    async with anyio.create_task_group() as tg:
        tg.start_soon(subscriber)
        for n in range(tasks):
            tg.start_soon(appender, n)

    positions = [e.position for e in received]
    assert positions == sorted(set(positions))
    assert _keys(received) == _keys(await all_events(store))


async def test_an_append_that_commits_while_the_subscriber_reads_still_wakes_it(
    backend: BackendUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race behind an intermittent late delivery, forced: the subscriber's read sees the
    store just before an append commits, and the appending task has returned before the
    subscriber starts to wait. The append must still wake it, not its next poll."""
    async with backend.connect(poll_interval=PATIENCE * 10) as store:
        read_all_page = store._backend.read_all_page
        appended: list[eventstore.AppendResult] = []

        async def read_then_append(from_position: int, limit: int) -> list[eventstore.StoredEvent]:
            page = await read_all_page(from_position, limit)
            if not appended:
                appended.append(await store.append("c", [note()]))
            return page

        monkeypatch.setattr(store._backend, "read_all_page", read_then_append)
        received = await subscribed(store, 1)  # fails after PATIENCE

    assert [e.id for e in received] == list(appended[0].ids)


async def test_an_append_whose_caller_was_cancelled_still_wakes_subscribers(
    backend: BackendUnderTest,
) -> None:
    # The append commits all the same (its caller gave up waiting, not the store), so the
    # subscribers of the store must hear of it at once, not at their next poll.
    async with backend.connect(poll_interval=PATIENCE * 10) as store:
        async with anyio.create_task_group() as tg:
            received: list[eventstore.StoredEvent] = []

            async def subscriber() -> None:
                received.extend(await subscribed(store, 1))

            tg.start_soon(subscriber)
            await anyio.sleep(0.05)  # the subscriber has read an empty store and waits
            with anyio.CancelScope() as scope:
                scope.cancel()
                await store.append("c", [note()])
        assert [e.conversation_id for e in received] == ["c"]
