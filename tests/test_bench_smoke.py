"""The store benchmark still runs against the current code, at toy sizes. Nothing here is
timed: figures belong to ``bench/``, not to the test suite."""

from __future__ import annotations

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
