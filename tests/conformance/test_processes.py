"""Backends that several processes share (an SQLite file, a PostgreSQL schema): appends from
all of them land once, gapless and in one global order; conflicts surface as
``WrongExpectedVersion`` and are retried; a subscriber in one process sees the others' appends."""

from __future__ import annotations

import itertools
from collections import Counter
from contextlib import AsyncExitStack

import anyio
import pytest
from anyio.abc import ByteReceiveStream

import eventstore

from .support import (
    PATIENCE,
    acknowledged_results,
    all_events,
    append_child,
    assert_stored_exactly,
    subscribed,
)

pytestmark = pytest.mark.anyio

WRITERS = 6
APPENDS = 100  # per writer process


async def _read_all(stream: ByteReceiveStream) -> bytes:
    chunks = []
    async for chunk in stream:
        chunks.append(chunk)
    return b"".join(chunks)


async def _run_together(*commands: list[str]) -> list[list[eventstore.AppendResult]]:
    """Run writer processes (started with ``--together``) so that they all open the store
    first and then start appending at the same moment; what each acknowledged. Each must exit
    cleanly."""
    outputs: list[bytes] = [b""] * len(commands)
    errors: list[bytes] = [b""] * len(commands)

    async def drain(i: int, process: anyio.abc.Process) -> None:
        assert process.stdout is not None
        assert process.stderr is not None
        outputs[i] = await _read_all(process.stdout)
        errors[i] = await _read_all(process.stderr)

    with anyio.fail_after(60):
        async with AsyncExitStack() as stack:
            processes = [
                await stack.enter_async_context(await anyio.open_process(command))
                for command in commands
            ]
            for process in processes:
                assert process.stderr is not None
                ready = await process.stderr.receive()
                assert ready == b"ready\n", ready + await _read_all(process.stderr)
            for process in processes:
                assert process.stdin is not None
                await process.stdin.send(b"go\n")
            async with anyio.create_task_group() as tg:
                for i, process in enumerate(processes):
                    tg.start_soon(drain, i, process)
            for i, process in enumerate(processes):
                assert await process.wait() == 0, errors[i].decode()
    return [acknowledged_results(out) for out in outputs]


def _writers_in_commit_order(events: list[eventstore.StoredEvent]) -> list[str]:
    return [e.data.payload[0] for e in events]  # type: ignore[union-attr]


async def test_processes_appending_to_one_store_each_land_once_and_gapless(
    shared_url: str,
) -> None:
    any_writers = [
        append_child(shared_url, f"any-{i}", "--appends", str(APPENDS), "--together",
                     "--conversations", f"s0,s1,own-{i}")
        for i in range(WRITERS // 2)
    ]  # fmt: skip
    retrying_writers = [
        append_child(shared_url, f"retry-{i}", "--appends", str(APPENDS), "--together",
                     "--conversations", "s0,s1", "--retry")
        for i in range(WRITERS // 2)
    ]  # fmt: skip

    acknowledged = await _run_together(*any_writers, *retrying_writers)

    assert [len(results) for results in acknowledged] == [APPENDS] * WRITERS
    async with eventstore.connect(shared_url) as store:
        events = await all_events(store)
        report = await store.verify()
    assert_stored_exactly([r for results in acknowledged for r in results], events)
    parts = Counter((e.data.payload[0], e.data.payload[1]) for e in events)  # type: ignore[union-attr]
    assert set(parts.values()) == {3}, "an append was stored in part"
    assert report.ok, report
    assert report.events == WRITERS * APPENDS * 3
    writers = _writers_in_commit_order(events)
    switches = sum(a != b for a, b in itertools.pairwise(writers))
    assert switches > WRITERS, "the processes did not append concurrently"


async def test_processes_opening_a_new_store_at_once_all_succeed(shared_url: str) -> None:
    acknowledged = await _run_together(
        *[append_child(shared_url, f"w{i}", "--appends", "1", "--together") for i in range(WRITERS)]
    )

    async with eventstore.connect(shared_url) as store:
        assert_stored_exactly(
            [r for results in acknowledged for r in results], await all_events(store)
        )
        assert (await store.verify()).ok


async def test_subscriber_sees_appends_made_by_another_process(shared_url: str) -> None:
    appends, per_append = 30, 3
    async with eventstore.connect(shared_url) as store:
        received: list[eventstore.StoredEvent] = []
        acknowledged: list[eventstore.AppendResult] = []

        async def subscriber() -> None:
            received.extend(await subscribed(store, appends * per_append))

        async def writer() -> None:
            [results] = await _run_together(
                append_child(shared_url, "remote", "--appends", str(appends), "--together",
                             "--conversations", "a,b")
            )  # fmt: skip
            acknowledged.extend(results)

        with anyio.fail_after(PATIENCE * 3):
            async with anyio.create_task_group() as tg:
                tg.start_soon(subscriber)
                tg.start_soon(writer)

        assert [(e.position, e.id) for e in received] == [
            (e.position, e.id) for e in await all_events(store)
        ]
    assert_stored_exactly(acknowledged, received)
