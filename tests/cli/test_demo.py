"""``convlog demo`` as a newcomer runs it: in an empty directory, no key, no network."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import eventstore
from schemas import ErrorEvent, Messages, ToolCallPart

CONVLOG = [sys.executable, "-m", "harness.cli"]


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONVLOG_", "OPENAI_"))}
    return subprocess.run(
        [*CONVLOG, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


async def contents(db: Path) -> list[eventstore.ConversationSummary]:
    async with eventstore.connect(f"sqlite:///{db}", read_only=True) as store:
        assert (await store.verify()).ok
        return (await store.list_conversations(limit=100)).items


async def main_events(db: Path, cid: str) -> list[object]:
    async with eventstore.connect(f"sqlite:///{db}", read_only=True) as store:
        return [e.data async for e in store.read(cid)]


def test_the_demo_records_shows_and_prices_a_conversation_in_an_empty_directory(
    tmp_path: Path,
) -> None:
    done = run(tmp_path, "demo")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    out = done.stdout
    first_line = out.splitlines()[0]
    assert first_line.startswith("Recorded conversation ")
    cid = first_line.split()[2]
    for section in ("$ convlog conversations", f"$ convlog show {cid}", "$ convlog cost"):
        assert section in out
    assert "get_weather" in out
    assert "It is 18 °C and sunny in Paris" in out

    db = tmp_path / "convlog.db"
    summaries = asyncio.run(contents(db))
    assert len(summaries) == 2  # the conversation and its sub-agent's
    by_id = {s.conversation_id: s for s in summaries}
    main, child = by_id[cid], next(s for s in summaries if s.parent_id == cid)
    assert (main.totals.calls, main.totals.unpriced_calls) == (4, 0)
    assert main.totals.prompt_cached_tokens == 384 + 448 + 512
    assert child.totals.completion_reasoning_tokens == 64
    assert main.totals.cost_usd is not None
    assert child.totals.cost_usd is not None

    events = asyncio.run(main_events(db, cid))
    assert not any(isinstance(e, ErrorEvent) for e in events)
    calls = [e for e in events if isinstance(e, Messages) and e.usage is not None]
    assert [c.usage.model for c in calls if c.usage] == ["gpt-4o-mini"] * 4
    first = calls[0].messages[0].content
    assert isinstance(first, list)
    assert isinstance(first[0], ToolCallPart)
    assert all(c.usage and c.usage.ttft_ms and c.usage.ttft_ms >= 250 for c in calls)
    assert all(
        c.usage and c.usage.pricing and c.usage.pricing.startswith("litellm:") for c in calls
    )


def test_a_second_run_adds_a_conversation_beside_the_first(tmp_path: Path) -> None:
    assert run(tmp_path, "demo").returncode == 0
    again = run(tmp_path, "demo", "--store", str(tmp_path / "convlog.db"))
    assert again.returncode == 0, again.stderr
    summaries = asyncio.run(contents(tmp_path / "convlog.db"))
    assert len(summaries) == 4
    assert len({s.title for s in summaries if s.parent_id is None}) == 1  # same script, twice
    assert run(tmp_path, "verify").returncode == 0
