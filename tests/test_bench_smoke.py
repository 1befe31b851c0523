"""The store benchmark still runs against the current code, at toy sizes. Nothing here is
timed: figures belong to ``bench/``, not to the test suite."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture(scope="module")
def bench_store() -> Iterator[ModuleType]:
    sys.path.insert(0, str(BENCH))
    try:
        import bench_store

        yield bench_store
    finally:
        sys.path.remove(str(BENCH))


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_every_store_scenario_runs_at_toy_sizes(
    bench_store: ModuleType, tmp_path: Path, anyio_backend: str
) -> None:
    assert await bench_store.scenario_a(tmp_path, 100) > 0
    assert await bench_store.scenario_b(tmp_path, 5) > 0
    assert await bench_store.scenario_c(tmp_path, 1) > 0
    ours, raw = await bench_store.scenario_d(tmp_path, 1)
    assert ours > 0
    assert raw > 0
    (listing,) = await bench_store.scenario_e(tmp_path, [200], 3)
    assert listing["events"] == 200
    assert listing["p50_ms"] > 0
    (memory,) = await bench_store.scenario_f(tmp_path, [1000])
    assert memory["events"] == 1000
    rows = bench_store.raw_rows(100, 10)
    assert bench_store.raw_executemany(tmp_path, rows, per_txn=50) > 0
    assert bench_store.raw_per_row(tmp_path, rows[:5]) > 0
    assert bench_store.required_us(20) > 0


def test_judge_applies_each_target(bench_store: ModuleType) -> None:
    # Issue #21: every target is a ratio to a baseline of the same run; (a) also to the peers.
    def results(
        ratios: dict[str, float], p50: list[float], peak: list[float], peers: list[float | None]
    ) -> dict:
        rates = {k: {"events_per_s": 20_000.0, "ratio": ratios[k]} for k in bench_store.RATES}
        return {
            **rates,
            "a_peers": {f"peer-{i}": rate for i, rate in enumerate(peers)},
            "e_list_conversations": [{"p50_ms": p} for p in p50],
            "f_read_memory": [{"peak_kib": k} for k in peak],
        }

    at_target = dict(bench_store.MIN_RATIO)
    good = bench_store.judge(results(at_target, [0.3, 0.5, 0.8], [3000, 3100], [1900.0, 1500.0]))
    assert good == dict.fromkeys(good, True)
    assert set(good) == {*bench_store.RATES, "a_peers", "e_list_conversations", "f_read_memory"}
    for key in bench_store.RATES:
        below = {**at_target, key: at_target[key] - 0.01}
        judged = bench_store.judge(results(below, [0.3], [3000], [1900.0]))
        assert [k for k, v in judged.items() if not v] == [key]
    # 10x the better peer: 20,000/s against 2,100/s is not.
    assert not bench_store.judge(results(at_target, [0.3], [3000], [2100.0, 10.0]))["a_peers"]
    # Peers not installed: no verdict on them, the rest judged as ever.
    assert "a_peers" not in bench_store.judge(results(at_target, [0.3], [3000], [None, None]))
    assert not bench_store.judge(results(at_target, [1.0, 2.5], [3000], []))["e_list_conversations"]
    growing = results(at_target, [0.2, 0.7], [3000, 31000], [])
    assert not bench_store.judge(growing)["e_list_conversations"]
    assert not bench_store.judge(growing)["f_read_memory"]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_peers_run_workload_a_or_say_they_are_not_installed(
    bench_store: ModuleType, tmp_path: Path, anyio_backend: str
) -> None:
    for peer in bench_store.PEERS.values():
        rate = await peer(tmp_path, 100)
        assert rate is None or rate > 0


def test_raw_rows_carry_time_ordered_ids_like_the_store(bench_store: ModuleType) -> None:
    # Random ids would dirty a page of the id index per row and flatter the store's ratios.
    ids = [row[3] for row in bench_store.raw_rows(500, 10)]
    assert ids == sorted(ids)
    assert all(len(i) == 16 and i[6] >> 4 == 7 for i in ids)  # UUIDv7


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_architecture_ceiling_commits_every_row_in_groups(
    bench_store: ModuleType, tmp_path: Path, anyio_backend: str
) -> None:
    # A ceiling for (a) only if it does the same hand-offs as the store: every caller's row
    # committed, several callers' rows to a transaction.
    rows = bench_store.raw_rows(200, 10)
    rate, rows_per_txn = await bench_store.raw_group_commit(tmp_path, rows, callers=20)
    assert rate > 0
    assert 1 < rows_per_txn <= 20
    assert stored_positions_and_ids(tmp_path, "raw-gc-*.db") == sorted(
        (row[0], row[3]) for row in rows
    )


def stored_positions_and_ids(directory: Path, pattern: str) -> list[tuple[int, bytes]]:
    (path,) = directory.glob(pattern)
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT position, id FROM events ORDER BY position").fetchall()


@pytest.fixture(scope="module")
def bench_cli() -> Iterator[ModuleType]:
    sys.path.insert(0, str(BENCH))
    try:
        import bench_cli

        yield bench_cli
    finally:
        sys.path.remove(str(BENCH))


def test_the_cli_bench_builds_its_store_once_and_times_every_command(
    bench_cli: ModuleType, tmp_path: Path
) -> None:
    store = bench_cli.cached_store(tmp_path, 500)
    assert bench_cli.cached_store(tmp_path, 500) == store  # built once, then reused
    assert [p.name for p in tmp_path.iterdir()] == [store.name]
    figures = bench_cli.measure(store, runs=1, help_runs=1)
    assert figures["help_ratio"] > 0
    assert set(figures["commands"]) == {
        "conversations",
        "conversations --json",
        "cost",
        "cost --by conversation",
        "cost --by model",
        "cost --by day",
    }
    report = bench_cli.report(figures, 500)
    assert "convlog cost --by model" in report
    assert "reads every event" in report  # --by day


@pytest.mark.postgres
def test_the_postgres_bench_runs_and_drops_what_it_made() -> None:
    import json
    import os
    import subprocess

    dsn = os.environ.get("CONVLOG_TEST_POSTGRES_DSN")
    if not dsn:
        pytest.skip("set CONVLOG_TEST_POSTGRES_DSN to run the PostgreSQL bench")
    done = subprocess.run(
        [sys.executable, str(BENCH / "bench_store.py"), "--backend", "postgres", "--quick",
         "--runs", "1", "--json"],
        env={**os.environ, "CONVLOG_BENCH_POSTGRES_DSN": dsn},
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    results = json.loads(done.stdout)
    a = results["a_concurrent_50_tasks"]
    assert a["events_per_s"] > 0
    assert a["raw_copy_events_per_s"] > 0
    assert results["a4_four_processes"]["events_per_s"] > 0
