"""Backends that outlive a process (an SQLite file, a PostgreSQL schema): a writer killed with SIGKILL at random moments, many times, loses no
acknowledged append and leaves no partial one.

A child process appends three-event appends in a loop (with ``durability="full"``) and prints
each result once it is acknowledged. The parent kills it after a random delay (sometimes while
it is still starting up or creating the schema), reopens the store and checks everything the
child ever acknowledged, across all the runs so far.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
from collections import Counter

import anyio
import pytest
from anyio.abc import ByteReceiveStream

import eventstore

from .support import (
    acknowledged_results,
    all_events,
    append_child,
    assert_acknowledged_stored,
)

pytestmark = pytest.mark.anyio

KILLS = 30
EVENTS_PER_APPEND = 3


async def _read_all(stream: ByteReceiveStream) -> bytes:
    chunks = []
    async for chunk in stream:
        chunks.append(chunk)
    return b"".join(chunks)


async def _run_and_kill(command: list[str], after: float) -> bytes:
    """Start ``command``, SIGKILL it ``after`` seconds later; what it wrote to stdout."""
    output = b""
    async with await anyio.open_process(command) as process:
        assert process.stdout is not None
        assert process.stderr is not None

        async def drain() -> None:
            nonlocal output
            output = await _read_all(process.stdout)  # type: ignore[arg-type]

        async with anyio.create_task_group() as tg:
            tg.start_soon(drain)
            await anyio.sleep(after)
            if process.returncode is None:  # else it died on its own: said below
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGKILL)
        errors = await _read_all(process.stderr)
        code = await process.wait()
    assert code == -signal.SIGKILL, f"the writer died on its own ({code}): {errors.decode()}"
    return output


@pytest.mark.slow
async def test_sigkill_loses_no_acknowledged_append_and_leaves_no_partial_one(
    shared_url: str,
) -> None:
    seed = int.from_bytes(os.urandom(4))
    rng = random.Random(seed)
    acknowledged: list[eventstore.AppendResult] = []
    for run in range(KILLS):
        options = ["--conversations", "a,b,c", "--events", str(EVENTS_PER_APPEND)]
        if run % 2:
            options.append("--retry")
        output = await _run_and_kill(
            append_child(shared_url, f"run-{run}", *options), after=rng.uniform(0.05, 0.6)
        )
        acknowledged.extend(acknowledged_results(output))

        async with eventstore.connect(shared_url) as store:
            events = await all_events(store)
            report = await store.verify()
        context = f"after kill {run + 1} (seed {seed})"

        assert report.ok, f"{context}: {report}"
        assert_acknowledged_stored(acknowledged, events)
        parts = Counter((e.data.payload[0], e.data.payload[1]) for e in events)  # type: ignore[union-attr]
        assert set(parts.values()) <= {EVENTS_PER_APPEND}, f"{context}: partial append"

    assert len(acknowledged) > KILLS, "the writer was killed before it ever appended"
