"""The CLI on a PostgreSQL store, as a team that runs one uses it: ``--store postgresql://...``
for the demo, the reading commands and verify; a schema that holds no store is said so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.postgres

CONVLOG = [sys.executable, "-m", "harness.cli"]


@pytest.fixture
def pg_store() -> Iterator[str]:
    dsn = os.environ.get("CONVLOG_TEST_POSTGRES_DSN")
    if not dsn:
        pytest.skip("set CONVLOG_TEST_POSTGRES_DSN to test the CLI on PostgreSQL")
    schema = f"convlog_cli_{os.getpid()}"
    yield f"{dsn}{'&' if '?' in dsn else '?'}schema={schema}"
    import asyncio

    import asyncpg

    async def drop() -> None:
        conn = await asyncpg.connect(dsn)
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()

    asyncio.run(drop())


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONVLOG_", "OPENAI_"))}
    return subprocess.run(
        [*CONVLOG, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_reading_a_schema_without_a_store_says_so_and_creates_nothing(
    tmp_path: Path, pg_store: str
) -> None:
    done = run(tmp_path, "conversations", "--store", pg_store)
    assert done.returncode == 1
    assert "no store at" in done.stderr
    assert "Traceback" not in done.stderr
    assert run(tmp_path, "conversations", "--store", pg_store).returncode == 1


def test_the_demo_writes_a_postgres_store_the_other_commands_read(
    tmp_path: Path, pg_store: str
) -> None:
    done = run(tmp_path, "demo", "--store", pg_store)
    assert done.returncode == 0, done.stderr
    listing = json.loads(run(tmp_path, "conversations", "--store", pg_store, "--json").stdout)
    assert len(listing["conversations"]) == 2
    cost = json.loads(run(tmp_path, "cost", "--store", pg_store, "--json").stdout)
    assert cost["total"]["totals"]["calls"] == 5
    verified = run(tmp_path, "verify", "--store", pg_store)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "verify: ok" in verified.stdout
    assert not (tmp_path / "convlog.db").exists()
