"""What the recorder adds to a model call: the real ``openai`` SDK streaming a reply from the
bundled fake provider (no delays), bare against wrapped in ``Recorder.call``, in one run.

The bare call is the baseline: the SDK's request, the server's SSE stream, the SDK parsing
each chunk. The recorded call adds feeding each chunk to the adapter, building the message
and usage, pricing, the append (validation, hash chain, fold, the commit) and hooks (none).
Bare and recorded calls alternate, so the machine's drift hits both alike; the figure is the
ratio of their medians. Stores: SQLite with ``durability=full`` (an fsync per commit, the
default), ``normal``, and in memory, to separate the store's commit from the rest.

    python bench/bench_recorder.py [--calls 300] [--runs 5] [--chunks 20] [--server thread]

The fake provider serves from a process of its own, as a provider does (``--server thread``:
from a thread of the bench's process, where its Python shares one GIL with the client and the
store's writer thread, and the recorder is charged for that contention too). The bench also
times an fsync of the store's file system alone, to set ``durability=full`` against.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path

import openai

import eventstore
from harness.fake import FakeProvider, Reply, Usage
from harness.pricing import read_prices
from harness.recorder import Recorder

PRICES = (
    Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "litellm_prices_subset.json"
)
USER = [{"role": "user", "content": "Hello?"}]


async def bare(client: openai.AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model="gpt-4o", messages=USER, stream=True, stream_options={"include_usage": True}
    )
    async for _ in stream:
        pass


async def recorded(client: openai.AsyncOpenAI, recorder: Recorder, cid: str) -> None:
    async with recorder.call(cid, provider="openai", model="gpt-4o") as call:
        stream = await client.chat.completions.create(
            model="gpt-4o", messages=USER, stream=True, stream_options={"include_usage": True}
        )
        async for chunk in stream:
            call.chunk(chunk)


def _reply(chunks: int) -> Reply:
    return Reply(
        text=tuple(f"word{i} " for i in range(chunks)),
        usage=Usage(prompt_tokens=1200, completion_tokens=chunks, cached_tokens=1000),
        keepalive=False,
    )


def _serve(conn: Connection, chunks: int) -> None:
    """The fake provider in a process of its own: sends its base URL, serves until told."""
    with FakeProvider(default=_reply(chunks)) as server:
        conn.send(server.openai_base_url)
        conn.recv()


@contextlib.contextmanager
def provider(chunks: int, where: str) -> Iterator[str]:
    """The fake provider's OpenAI base URL, served from a thread or a process."""
    if where == "thread":
        with FakeProvider(default=_reply(chunks)) as server:
            yield server.openai_base_url
        return
    ours, theirs = multiprocessing.get_context("spawn").Pipe()
    process = multiprocessing.get_context("spawn").Process(target=_serve, args=(theirs, chunks))
    process.start()
    try:
        yield ours.recv()
    finally:
        ours.send(None)
        process.join(10)


def fsync_ms(directory: str, samples: int = 200) -> float:
    """Median time of one fsync after a 4 KiB write, in the store's directory: what
    ``durability=full`` adds to each commit, at the least."""
    times = []
    fd = os.open(os.path.join(directory, "fsync-probe"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for _ in range(samples):
            os.write(fd, b"x" * 4096)
            start = time.perf_counter()
            os.fsync(fd)
            times.append(time.perf_counter() - start)
    finally:
        os.close(fd)
    return statistics.median(times) * 1e3


async def measure(
    url: str, options: dict[str, object], calls: int, runs: int, base_url: str
) -> tuple[float, float]:
    """The median ratio recorded / bare, and the median bare call in ms."""
    prices = read_prices(PRICES)
    async with (
        openai.AsyncOpenAI(base_url=base_url, api_key="bench", max_retries=0) as client,
        eventstore.connect(url, **options) as store,  # type: ignore[arg-type]
    ):
        recorder = Recorder(store, harness="bench/1", prices=prices)
        for i in range(20):  # warm-up: connections, caches, the price memo
            await bare(client)
            await recorded(client, recorder, f"warm-{i % 4}")
        ratios, bares = [], []
        for run in range(runs):
            bare_times, recorded_times = [], []
            for i in range(calls):
                t0 = time.perf_counter()
                await bare(client)
                t1 = time.perf_counter()
                await recorded(client, recorder, f"c-{run}-{i % 10}")
                t2 = time.perf_counter()
                bare_times.append(t1 - t0)
                recorded_times.append(t2 - t1)
            b, r = statistics.median(bare_times), statistics.median(recorded_times)
            ratios.append(r / b)
            bares.append(b)
            print(
                f"  run {run + 1}: bare {b * 1e3:.2f} ms, recorded {r * 1e3:.2f} ms, "
                f"+{(r / b - 1) * 100:.1f}%"
            )
        return statistics.median(ratios), statistics.median(bares) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--chunks", type=int, default=20)
    parser.add_argument("--server", choices=("process", "thread"), default="process")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, provider(args.chunks, args.server) as base_url:
        stores: list[tuple[str, str, dict[str, object]]] = [
            ("sqlite, durability=full", f"sqlite:///{tmp}/full.db", {}),
            ("sqlite, durability=normal", f"sqlite:///{tmp}/normal.db", {"durability": "normal"}),
            ("sqlite, in memory", "sqlite://:memory:", {}),
        ]
        results = []
        for name, url, options in stores:
            print(f"{name}:")
            results.append(
                (name, *asyncio.run(measure(url, options, args.calls, args.runs, base_url)))
            )
        fsync = fsync_ms(tmp)
    print(f"\nrecorded / bare call, median of runs (target: < 1.05; server in a {args.server}):")
    for name, ratio, _ in results:
        print(f"  {name:28} {ratio:.3f}x  (+{(ratio - 1) * 100:.1f}%)")
    bare = statistics.median(b for _, _, b in results)
    print(f"one fsync alone: {fsync:.2f} ms = {fsync / bare * 100:.1f}% of a bare call "
          f"({bare:.2f} ms)")  # fmt: skip


if __name__ == "__main__":
    main()
