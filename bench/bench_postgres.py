"""PostgreSQL store throughput, each figure beside raw asyncpg doing the same inserts in the
same run, against the same server, durable (``synchronous_commit=on``).

    python bench/bench_store.py --backend postgres            # or run this file
    python bench/bench_store.py --backend postgres --quick
    CONVLOG_BENCH_POSTGRES_DSN=postgresql://... (default: the local server's test database)

Scenarios:
  a   50 concurrent tasks appending one event each, spread over 200 conversations
      vs raw: asyncpg ``executemany`` of the same rows in one transaction, in transactions
      of 50 rows (the most 50 waiting callers can put in one commit), and ``COPY``
  a4  the same from 4 processes at once into one store (many workers, one primary)
  b   one task appending sequentially vs raw one transaction per row
  c   appends of 1000-event batches vs raw ``executemany`` of 1000 rows per transaction

Every store and raw table is a schema of its own, dropped at the end. Median of ``--runs``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg

import eventstore
from eventstore._ids import uuid7s
from schemas import Message, Messages, UsageRecord, encode

DSN = os.environ.get("CONVLOG_BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
PREFIX = f"convlog_bench_{os.getpid()}_"
TARGET_A = 15_000  # events/s, issue #20


def body(i: int) -> Messages:
    """A typical assistant turn with usage (~340 bytes encoded), as in bench_store.py."""
    return Messages(
        messages=[Message(role="assistant", content=f"Answer {i}, at some length. " * 5)],
        usage=UsageRecord(
            model="gpt-4o", provider="openai", prompt_tokens=1200 + i % 97,
            completion_tokens=300 + i % 13, prompt_cached_tokens=1000,
            cost_usd=0.0061 + (i % 89) * 1e-6, ttft_ms=340 + i % 7, duration_ms=2100 + i % 11,
        ),
    )  # fmt: skip


BODIES = [body(i) for i in range(20_000)]
_schemas = iter(range(1_000_000))


def new_schema() -> str:
    return f"{PREFIX}{next(_schemas)}"


def store_url(schema: str) -> str:
    return f"{DSN}{'&' if '?' in DSN else '?'}schema={schema}"


# -- convlog ----------------------------------------------------------------------------------


async def timed(fn: Callable[[], Awaitable[int]]) -> float:
    start = time.perf_counter()
    count = await fn()
    return count / (time.perf_counter() - start)


async def scenario_a(n: int, url: str | None = None) -> float:
    async with eventstore.connect(url or store_url(new_schema())) as store:
        await store.append("warm-up", [BODIES[0]])

        async def worker(w: int) -> None:
            for i in range(n // 50):
                await store.append(f"conv-{(w * 7 + i) % 200}", [BODIES[w * (n // 50) + i]])

        async def run() -> int:
            await asyncio.gather(*(worker(w) for w in range(50)))
            return n // 50 * 50

        return await timed(run)


async def scenario_b(n: int) -> float:
    async with eventstore.connect(store_url(new_schema())) as store:

        async def run() -> int:
            for i in range(n):
                await store.append("conv-seq", [BODIES[i]])
            return n

        return await timed(run)


async def scenario_c(batches: int) -> float:
    async with eventstore.connect(store_url(new_schema())) as store:

        async def run() -> int:
            for i in range(batches):
                await store.append(f"conv-{i}", BODIES[i * 1000 : (i + 1) * 1000])
            return batches * 1000

        return await timed(run)


async def scenario_a_processes(n: int, processes: int) -> float:
    """``processes`` OS processes, each running scenario a (``n`` events) on one store at
    once; all events over the wall time from the first start to the last end."""
    url = store_url(new_schema())
    await _create(url)
    return await asyncio.to_thread(_run_children, url, n, processes)


def _run_children(url: str, n: int, processes: int) -> float:
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--child", url, str(n)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    for child in children:  # each has opened the store and waits for "go"
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
    start = time.perf_counter()
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    for child in children:
        child.wait()
        assert child.returncode == 0
    return processes * (n // 50 * 50) / (time.perf_counter() - start)


async def _create(url: str) -> None:
    async with eventstore.connect(url):
        pass


async def child(url: str, n: int) -> None:
    async with eventstore.connect(url) as store:
        await store.append("warm-up", [BODIES[0]])
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)

        async def worker(w: int) -> None:
            for i in range(n // 50):
                await store.append(f"conv-{os.getpid()}-{(w * 7 + i) % 200}", [BODIES[i]])

        await asyncio.gather(*(worker(w) for w in range(50)))


# -- raw asyncpg ------------------------------------------------------------------------------

_RAW_TABLE = """CREATE TABLE {s}.events (
    position bigint PRIMARY KEY, conversation_id text COLLATE "C" NOT NULL,
    version bigint NOT NULL, id bytea NOT NULL UNIQUE, type text COLLATE "C" NOT NULL,
    recorded_at bigint NOT NULL, session_id text, turn_id text, harness text,
    data bytea NOT NULL, hash bytea NOT NULL, UNIQUE (conversation_id, version))"""
_RAW_INSERT = (
    "INSERT INTO {s}.events (position, conversation_id, version, id, type, recorded_at, "
    "session_id, turn_id, harness, data, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
    "$11)"
)
_COLUMNS = [
    "position", "conversation_id", "version", "id", "type", "recorded_at", "session_id",
    "turn_id", "harness", "data", "hash",
]  # fmt: skip


def raw_rows(n: int, conversations: int, per: int = 1) -> list[tuple[Any, ...]]:
    """The rows the store writes for the same events: an equivalent table, without the
    summaries, the head row and the trigger."""
    versions: dict[str, int] = {}
    ids = uuid7s(n)
    rows = []
    for i in range(n):
        cid = f"conv-{(i // per) % conversations}"
        versions[cid] = versions.get(cid, 0) + 1
        rows.append(
            (i + 1, cid, versions[cid], ids[i].bytes, "messages", time.time_ns() // 1000,
             None, None, None, encode(BODIES[i % len(BODIES)]), os.urandom(32))
        )  # fmt: skip
    return rows


async def raw_table(conn: asyncpg.Connection) -> str:
    schema = new_schema()
    await conn.execute(f'CREATE SCHEMA "{schema}"')
    await conn.execute(_RAW_TABLE.format(s=f'"{schema}"'))
    return schema


async def raw_executemany(
    conn: asyncpg.Connection, rows: list[tuple[Any, ...]], per_txn: int | None = None
) -> float:
    schema = await raw_table(conn)
    insert = _RAW_INSERT.format(s=f'"{schema}"')
    step = per_txn or len(rows)
    start = time.perf_counter()
    for i in range(0, len(rows), step):
        async with conn.transaction():
            await conn.executemany(insert, rows[i : i + step])
    return len(rows) / (time.perf_counter() - start)


async def raw_copy(conn: asyncpg.Connection, rows: list[tuple[Any, ...]]) -> float:
    schema = await raw_table(conn)
    start = time.perf_counter()
    async with conn.transaction():
        await conn.copy_records_to_table(
            "events", schema_name=schema, records=rows, columns=_COLUMNS
        )
    return len(rows) / (time.perf_counter() - start)


async def raw_per_row(conn: asyncpg.Connection, rows: list[tuple[Any, ...]]) -> float:
    schema = await raw_table(conn)
    insert = _RAW_INSERT.format(s=f'"{schema}"')
    start = time.perf_counter()
    for row in rows:
        await conn.execute(insert, *row)  # autocommit: one transaction per row
    return len(rows) / (time.perf_counter() - start)


async def drop_all() -> None:
    conn = await asyncpg.connect(DSN)
    try:
        for (name,) in await conn.fetch(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)", PREFIX
        ):
            await conn.execute(f'DROP SCHEMA "{name}" CASCADE')
    finally:
        await conn.close()


# -- the run ----------------------------------------------------------------------------------


def _ratio(ours: float, raw: float) -> float:
    return round(ours / raw, 3)


async def measure(quick: bool, runs: int) -> dict[str, Any]:
    n_a, n_b, n_c = (2000, 200, 2) if quick else (20_000, 1000, 10)
    conn = await asyncpg.connect(DSN, server_settings={"synchronous_commit": "on"})
    results: dict[str, Any] = {}
    try:
        rows_a = raw_rows(n_a, 200)
        ours, many, many_50, copy = [], [], [], []
        for _ in range(runs):
            ours.append(await scenario_a(n_a))
            many.append(await raw_executemany(conn, rows_a))
            many_50.append(await raw_executemany(conn, rows_a, per_txn=50))
            copy.append(await raw_copy(conn, rows_a))
        o = statistics.median(ours)
        results["a_concurrent_50_tasks"] = {
            "events_per_s": o,
            "raw_executemany_events_per_s": statistics.median(many),
            "raw_executemany_50_per_txn_events_per_s": statistics.median(many_50),
            "raw_copy_events_per_s": statistics.median(copy),
            "ratio_executemany": _ratio(o, statistics.median(many)),
            "ratio_executemany_50": _ratio(o, statistics.median(many_50)),
            "ratio_copy": _ratio(o, statistics.median(copy)),
            "target_events_per_s": TARGET_A,
        }
        procs = [await scenario_a_processes(n_a // 2, 4) for _ in range(max(1, runs // 2))]
        results["a4_four_processes"] = {"events_per_s": statistics.median(procs)}

        rows_b = raw_rows(n_b, 1)
        ours, raw = [], []
        for _ in range(runs):
            ours.append(await scenario_b(n_b))
            raw.append(await raw_per_row(conn, rows_b))
        results["b_sequential"] = {
            "events_per_s": statistics.median(ours),
            "raw_events_per_s": statistics.median(raw),
            "ratio": _ratio(statistics.median(ours), statistics.median(raw)),
        }
        rows_c = raw_rows(n_c * 1000, n_c, per=1000)
        ours, raw = [], []
        for _ in range(runs):
            ours.append(await scenario_c(n_c))
            raw.append(await raw_executemany(conn, rows_c, per_txn=1000))
        results["c_batches_of_1000"] = {
            "events_per_s": statistics.median(ours),
            "raw_events_per_s": statistics.median(raw),
            "ratio": _ratio(statistics.median(ours), statistics.median(raw)),
        }
        results["server"] = await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()
        await drop_all()
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (smoke check)")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (median)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--backend", choices=["postgres"], default="postgres")
    parser.add_argument("--child", nargs=2, metavar=("URL", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        asyncio.run(child(args.child[0], int(args.child[1])))
        return
    runs = 2 if args.quick else args.runs
    results = asyncio.run(measure(args.quick, runs))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    a = results["a_concurrent_50_tasks"]
    print(
        f"convlog PostgreSQL bench  (server {results['server']}, synchronous_commit=on, "
        f"median of {runs} runs)"
    )
    print(f"{'scenario':28s} {'events/s':>10s}  raw baseline (same run)")
    print(
        f"{'a  50 tasks x 1 event':28s} {a['events_per_s']:>10,.0f}  "
        f"executemany {a['raw_executemany_events_per_s']:,.0f} ({a['ratio_executemany']}x), "
        f"50/txn {a['raw_executemany_50_per_txn_events_per_s']:,.0f} "
        f"({a['ratio_executemany_50']}x), COPY {a['raw_copy_events_per_s']:,.0f} "
        f"({a['ratio_copy']}x); target >= {TARGET_A:,}: "
        f"{'met' if a['events_per_s'] >= TARGET_A else 'NOT met'}"
    )
    print(
        f"{'a4 4 processes x 50 tasks':28s} {results['a4_four_processes']['events_per_s']:>10,.0f}"
    )
    for key, label in (
        ("b_sequential", "b  sequential"),
        ("c_batches_of_1000", "c  1000-event batches"),
    ):
        r = results[key]
        print(
            f"{label:28s} {r['events_per_s']:>10,.0f}  raw {r['raw_events_per_s']:,.0f} "
            f"({r['ratio']}x)"
        )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
