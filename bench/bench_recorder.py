"""What the recorder adds to a model call: the real ``openai`` SDK streaming a reply from the
bundled fake provider (no delays), bare against wrapped in ``Recorder.call``, in one run.

The bare call is the baseline: the SDK's request, the server's SSE stream, the SDK parsing
each chunk. The recorded call adds feeding each chunk to the adapter, building the message
and usage, pricing, the append (validation, hash chain, fold, the commit) and hooks (none).
Bare and recorded calls alternate, so the machine's drift hits both alike; the figure is the
ratio of their medians. Stores: SQLite with ``durability=full`` (an fsync per commit, the
default), ``normal``, and in memory, to separate the store's commit from the rest.

    python bench/bench_recorder.py [--calls 300] [--runs 5] [--chunks 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
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


async def measure(
    url: str, options: dict[str, object], calls: int, runs: int, chunks: int
) -> float:
    reply = Reply(
        text=tuple(f"word{i} " for i in range(chunks)),
        usage=Usage(prompt_tokens=1200, completion_tokens=chunks, cached_tokens=1000),
        keepalive=False,
    )
    prices = read_prices(PRICES)
    with FakeProvider(default=reply) as server:
        async with (
            openai.AsyncOpenAI(
                base_url=server.openai_base_url, api_key="bench", max_retries=0
            ) as client,
            eventstore.connect(url, **options) as store,  # type: ignore[arg-type]
        ):
            recorder = Recorder(store, harness="bench/1", prices=prices)
            for i in range(20):  # warm-up: connections, caches, the price memo
                await bare(client)
                await recorded(client, recorder, f"warm-{i % 4}")
            ratios = []
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
                print(
                    f"  run {run + 1}: bare {b * 1e3:.2f} ms, recorded {r * 1e3:.2f} ms, "
                    f"+{(r / b - 1) * 100:.1f}%"
                )
            return statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--chunks", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stores: list[tuple[str, str, dict[str, object]]] = [
            ("sqlite, durability=full", f"sqlite:///{tmp}/full.db", {}),
            ("sqlite, durability=normal", f"sqlite:///{tmp}/normal.db", {"durability": "normal"}),
            ("sqlite, in memory", "sqlite://:memory:", {}),
        ]
        results = []
        for name, url, options in stores:
            print(f"{name}:")
            ratio = asyncio.run(measure(url, options, args.calls, args.runs, args.chunks))
            results.append((name, ratio))
    print("\nrecorded / bare call, median of runs (target: < 1.05):")
    for name, ratio in results:
        print(f"  {name:28} {ratio:.3f}x  (+{(ratio - 1) * 100:.1f}%)")


if __name__ == "__main__":
    main()
