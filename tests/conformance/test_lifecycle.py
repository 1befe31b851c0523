"""Opening and closing: ``aclose`` drains queued appends; a closed store refuses everything."""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.lowlevel
import anyio.to_thread
import pytest

import eventstore
from eventstore import StoreClosed

from .conftest import BackendUnderTest
from .support import PATIENCE, all_events, collect, note, subscribed

pytestmark = pytest.mark.anyio

OPERATIONS: list[Any] = [
    pytest.param(lambda s: s.append("c", [note()]), id="append"),
    pytest.param(
        lambda s: s.append_raw("c", [b'{"type":"custom","event_type":"x"}']), id="append_raw"
    ),
    pytest.param(lambda s: collect(s.read("c")), id="read"),
    pytest.param(lambda s: s.list_events("c"), id="list_events"),
    pytest.param(lambda s: s.list_conversations(), id="list_conversations"),
    pytest.param(lambda s: s.get_conversation("c"), id="get_conversation"),
    pytest.param(lambda s: collect(s.read_all()), id="read_all"),
    pytest.param(lambda s: subscribed(s, 1), id="subscribe"),
    pytest.param(lambda s: s.replay("c"), id="replay"),
    pytest.param(lambda s: s.verify(), id="verify"),
    pytest.param(lambda s: s.rebuild_summaries(), id="rebuild_summaries"),
]


@pytest.mark.parametrize("operation", OPERATIONS)
async def test_closed_store_raises_store_closed(
    backend: BackendUnderTest, operation: Callable[[eventstore.Store], Awaitable[Any]]
) -> None:
    async with backend.connect() as store:
        await store.append("c", [note()])
    with pytest.raises(StoreClosed):
        await operation(store)


async def test_aclose_is_idempotent(backend: BackendUnderTest) -> None:
    store = await backend.connect()
    await store.append("c", [note()])
    await store.aclose()
    await store.aclose()
    with pytest.raises(StoreClosed):
        await store.append("c", [note()])


# The subscriber must end when the store closes, not at its next poll for other processes'
# commits: with the second interval the test fails if it waits for that poll.
@pytest.mark.parametrize(
    "poll_interval", [0.05, PATIENCE * 10], ids=["poll-default", "poll-past-patience"]
)
async def test_live_subscription_ends_with_store_closed_when_the_store_closes(
    backend: BackendUnderTest, poll_interval: float
) -> None:
    store = await backend.connect(poll_interval=poll_interval)
    await store.append("c", [note()])
    outcome: list[BaseException] = []

    async def subscriber() -> None:
        try:
            await subscribed(store, 2)  # only one event will ever come
        except StoreClosed as exc:
            outcome.append(exc)

    with anyio.fail_after(PATIENCE):
        async with anyio.create_task_group() as tg:
            tg.start_soon(subscriber)
            await anyio.sleep(0.05)
            await store.aclose()
    assert len(outcome) == 1


async def _append_then_close(store: eventstore.Store, count: int) -> list[Any]:
    """Start ``count`` appends, let each reach the store's queue, close the store while most
    are still pending, and return what each append returned or raised."""
    outcomes: list[Any] = [None] * count

    async def one(i: int) -> None:
        try:
            outcomes[i] = await store.append(f"c{i % 5}", [note(i), note(i)])
        except Exception as exc:
            outcomes[i] = exc

    async with anyio.create_task_group() as tg:
        for i in range(count):
            tg.start_soon(one, i)
        await anyio.lowlevel.checkpoint()  # every task runs until its append is queued
        await store.aclose()
    return outcomes


async def test_a_cancelled_aclose_still_closes_and_a_second_aclose_waits_for_it(
    backend: BackendUnderTest,
) -> None:
    """A shutdown timeout may cancel the task awaiting ``aclose``: the closing goes on to its
    end all the same, and ``aclose`` called again returns once it has, with every queued
    append finished and every thread the store started stopped."""
    before = set(threading.enumerate())
    store = await backend.connect()
    outcomes: list[Any] = []

    async def one(i: int) -> None:
        try:
            outcomes.append(await store.append(f"c{i % 5}", [note(i), note(i)]))
        except Exception as exc:
            outcomes.append(exc)

    async with anyio.create_task_group() as tg:
        for i in range(100):
            tg.start_soon(one, i)
        await anyio.lowlevel.checkpoint()  # every task runs until its append is queued
        with anyio.CancelScope() as scope:
            scope.cancel()
            await store.aclose()  # cancelled at its first wait
        await store.aclose()
        assert len(outcomes) == 100, "the second aclose returned before the closing ended"

    assert [type(o) for o in outcomes] == [eventstore.AppendResult] * 100
    started = [t for t in threading.enumerate() if t not in before]
    for thread in started:  # each has stopped, or is about to return
        await anyio.to_thread.run_sync(thread.join, PATIENCE)
    assert [t.name for t in started if t.is_alive()] == []


async def test_aclose_finishes_every_append_queued_before_it(backend: BackendUnderTest) -> None:
    store = await backend.connect()
    outcomes = await _append_then_close(store, 300)
    assert [type(o) for o in outcomes] == [eventstore.AppendResult] * 300


async def test_appends_acknowledged_before_close_are_all_there_after_reopening(
    persistent_backend: BackendUnderTest,
) -> None:
    store = await persistent_backend.connect()
    outcomes = await _append_then_close(store, 300)
    acknowledged = [o for o in outcomes if isinstance(o, eventstore.AppendResult)]
    assert acknowledged

    async with persistent_backend.connect() as reopened:
        stored = {(e.conversation_id, e.version): e for e in await all_events(reopened)}
        assert (await reopened.verify()).ok
    expected = {
        (r.conversation_id, r.first_version + k): (i, p)
        for r in acknowledged
        for k, (i, p) in enumerate(zip(r.ids, r.positions, strict=True))
    }
    assert {key: (e.id, e.position) for key, e in stored.items()} == expected


BAD_OPTIONS = [
    pytest.param("poll_interval", 0, id="poll_interval-zero"),  # an idle subscriber would spin
    pytest.param("poll_interval", -1, id="poll_interval-negative"),
    pytest.param("poll_interval", None, id="poll_interval-none"),  # would never poll
    pytest.param("poll_interval", math.inf, id="poll_interval-inf"),
    pytest.param("poll_interval", math.nan, id="poll_interval-nan"),
    pytest.param("poll_interval", "0.05", id="poll_interval-str"),
    pytest.param("poll_interval", True, id="poll_interval-bool"),
]
# Options of the SQLite backend: each backend checks its own.
SQLITE_BAD_OPTIONS = [
    pytest.param("busy_timeout", -1, id="busy_timeout-negative"),
    pytest.param("busy_timeout", math.inf, id="busy_timeout-inf"),
    pytest.param("busy_timeout", math.nan, id="busy_timeout-nan"),
    pytest.param("busy_timeout", 1e10, id="busy_timeout-past-sqlite"),  # SQLite would read 0
    pytest.param("busy_timeout", None, id="busy_timeout-none"),
    pytest.param("busy_timeout", "5", id="busy_timeout-str"),
    pytest.param("busy_timeout", False, id="busy_timeout-bool"),
    pytest.param("readers", 0, id="readers-zero"),
    pytest.param("readers", -1, id="readers-negative"),
    pytest.param("readers", 2.0, id="readers-float"),
    pytest.param("readers", "2", id="readers-str"),
    pytest.param("readers", True, id="readers-bool"),
    pytest.param("readers", None, id="readers-none"),
]


@pytest.mark.parametrize(("option", "value"), BAD_OPTIONS)
async def test_connect_refuses_a_bad_option_with_a_value_error_naming_it(
    backend: BackendUnderTest, option: str, value: Any
) -> None:
    with pytest.raises(ValueError, match=rf"^{option} .*, got {re.escape(repr(value))}$"):
        backend.connect(**{option: value})


@pytest.mark.parametrize(("option", "value"), SQLITE_BAD_OPTIONS)
async def test_connect_refuses_a_bad_sqlite_option_with_a_value_error_naming_it(
    sqlite_backend: BackendUnderTest, option: str, value: Any
) -> None:
    with pytest.raises(ValueError, match=rf"^{option} .*, got {re.escape(repr(value))}$"):
        sqlite_backend.connect(**{option: value})


async def test_a_backend_refuses_an_option_it_does_not_have(backend: BackendUnderTest) -> None:
    with pytest.raises(ValueError, match="schema"):
        backend.connect(schema="tenant_1")


@pytest.mark.parametrize(
    "options",
    [
        {"poll_interval": 1},
        {"poll_interval": 0.001},
    ],
)
async def test_connect_accepts_options_in_range(
    backend: BackendUnderTest, options: dict[str, Any]
) -> None:
    async with backend.connect(**options) as store:
        await store.append("c", [note()])
        assert len(await subscribed(store, 1)) == 1


@pytest.mark.parametrize(
    "options",
    [
        {"busy_timeout": 0},  # do not wait for another writer's lock
        {"busy_timeout": 30},
        {"busy_timeout": 0.25},
        {"readers": 1},
        {"readers": 3},
    ],
)
async def test_connect_accepts_sqlite_options_in_range(
    sqlite_backend: BackendUnderTest, options: dict[str, Any]
) -> None:
    async with sqlite_backend.connect(**options) as store:
        await store.append("c", [note()])
        assert len(await subscribed(store, 1)) == 1
