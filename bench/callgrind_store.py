"""Instructions per event of the store's scenarios, counted by callgrind (deterministic, unlike
this VM's clock).

    python bench/callgrind_store.py            # every scenario, median of 3
    python bench/callgrind_store.py tasks seq  # some of them

Each scenario runs in two processes under ``valgrind --tool=callgrind``: one does everything
up to the appends and stops (``--skip``), the other also appends; the difference, divided by
the events appended, is the count per event. Stores use ``durability=normal`` (an fsync is a
system call whose wait callgrind does not count anyway). Scenarios:

  batch  two appends of 1,000 events (c)
  tasks  50 tasks appending one event each, 2,000 in all (a)
  seq    one task appending 2,000 events one at a time (b)
  read   reading a 2,000-event conversation into typed events (d)
  rawgc  raw ``sqlite3`` behind the same architecture as (a) (``raw_group_commit``): the
         instructions no store on this design can go below
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile

N = 2000
SCENARIOS = ("batch", "tasks", "seq", "read", "rawgc")


async def drive(scenario: str, path: str, skip: bool) -> None:
    sys.path.insert(0, os.path.dirname(__file__))
    from bench_store import BODIES, raw_group_commit, raw_rows

    import eventstore

    if scenario == "rawgc":
        from pathlib import Path

        rows = raw_rows(N, 200)
        await raw_group_commit(Path(path).parent, rows[:50])  # warm
        # Each call makes a database: the skipped run makes as many, with 50 rows (see main).
        await raw_group_commit(Path(path).parent, rows[:50] if skip else rows)
        return
    async with eventstore.connect(f"sqlite:///{path}", durability="normal") as store:
        await store.append("warm", [BODIES[0]])  # every code path imported and warm
        if scenario == "read":
            await store.append("long", BODIES[:N])
            async for _ in store.read("warm"):
                pass
        if skip:
            return
        if scenario == "batch":
            for i in range(N // 1000):
                await store.append(f"conv-{i}", BODIES[i * 1000 : (i + 1) * 1000])
        elif scenario == "tasks":
            per = N // 50

            async def worker(w: int) -> None:
                for i in range(per):
                    await store.append(f"conv-{(w * 7 + i) % 200}", [BODIES[w * per + i]])

            await asyncio.gather(*(worker(w) for w in range(50)))
        elif scenario == "seq":
            for i in range(N):
                await store.append("conv-seq", [BODIES[i]])
        elif scenario == "read":
            async for _ in store.read("long"):
                pass


def count(scenario: str, skip: bool) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        cmd = [
            "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
            sys.executable, __file__, "--drive", scenario, os.path.join(tmp, "s.db"),
        ]  # fmt: skip
        if skip:
            cmd.append("--skip")
        subprocess.run(cmd, check=True, capture_output=True)
        with open(out) as f:
            text = f.read()
    return int(re.search(r"^summary: (\d+)", text, re.M).group(1))  # type: ignore[union-attr]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenarios", nargs="*", default=list(SCENARIOS))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--drive", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--skip", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        asyncio.run(drive(args.drive[0], args.drive[1], args.skip))
        return
    for scenario in args.scenarios:
        per_event = []
        for _ in range(args.runs):
            events = N - 50 if scenario == "rawgc" else N
            per_event.append((count(scenario, False) - count(scenario, True)) / events)
        spread = (max(per_event) - min(per_event)) / statistics.median(per_event) * 100
        print(
            f"{scenario:6s} {statistics.median(per_event):10,.0f} instructions/event "
            f"(median of {args.runs}, spread {spread:.1f}%)",
            flush=True,
        )


if __name__ == "__main__":
    main()
