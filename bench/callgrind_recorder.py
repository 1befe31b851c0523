"""Instructions the recorder adds to a model call, counted by callgrind in the calling process.

    python bench/callgrind_recorder.py [--calls 200] [--chunks 20]

The real ``openai`` SDK streams a reply of ``--chunks`` chunks from the bundled fake provider,
which serves from a process of its own (callgrind counts only the caller's). Three runs under
``valgrind --tool=callgrind``: warm-up only, then ``--calls`` bare calls, then as many recorded
ones (``Recorder.call`` on an in-memory store: the adapter, pricing, validating, hashing and
committing the event, with no fsync). Counts per call are the differences; the figure is the
recorded call's instructions over the bare call's, every thread of the caller included. The
server's own work is not counted: against wall time, which includes it, the share is smaller.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile


async def drive(mode: str, calls: int, chunks: int) -> None:
    sys.path.insert(0, os.path.dirname(__file__))
    import openai
    from bench_recorder import PRICES, bare, provider, recorded

    import eventstore
    from harness.pricing import read_prices
    from harness.recorder import Recorder

    with provider(chunks, "process") as base_url:
        async with (
            openai.AsyncOpenAI(base_url=base_url, api_key="bench", max_retries=0) as client,
            eventstore.connect("sqlite://:memory:") as store,
        ):
            recorder = Recorder(store, harness="bench/1", prices=read_prices(PRICES))
            for i in range(20):  # warm-up: connections, caches, the price memo
                await bare(client)
                await recorded(client, recorder, f"warm-{i % 4}")
            for i in range(calls if mode != "skip" else 0):
                if mode == "bare":
                    await bare(client)
                else:
                    await recorded(client, recorder, f"c-{i % 10}")


def count(mode: str, calls: int, chunks: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        cmd = [
            "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
            __file__, "--drive", mode, "--calls", str(calls), "--chunks", str(chunks),
        ]  # fmt: skip
        subprocess.run(cmd, check=True, capture_output=True)
        with open(out) as f:
            text = f.read()
    return int(re.search(r"^summary: (\d+)", text, re.M).group(1))  # type: ignore[union-attr]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--chunks", type=int, default=20)
    parser.add_argument("--drive", choices=("skip", "bare", "recorded"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        asyncio.run(drive(args.drive, args.calls, args.chunks))
        return
    base = count("skip", args.calls, args.chunks)
    bare_i = (count("bare", args.calls, args.chunks) - base) / args.calls
    recorded_i = (count("recorded", args.calls, args.chunks) - base) / args.calls
    print(f"bare call      {bare_i:12,.0f} instructions")
    print(f"recorded call  {recorded_i:12,.0f} instructions")
    print(f"the recorder adds {recorded_i - bare_i:,.0f} instructions a call, "
          f"{(recorded_i / bare_i - 1) * 100:.1f}% of the bare call's")  # fmt: skip


if __name__ == "__main__":
    main()
