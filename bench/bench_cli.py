"""The command line as people run it: whole processes, timed on a store of 1,000,000 events,
each figure next to the baseline measured in the same run.

    python bench/bench_cli.py                 # builds the store once (cached), then times
    python bench/bench_cli.py --events 10000  # a smaller store, for a smoke check
    python bench/bench_cli.py --json          # machine-readable

What is timed (median of ``--runs`` whole processes, stdout to a pipe):

- ``convlog --help`` against ``python -c pass``. Target: under 2x. The listing is printed
  without click; ``python -c "import click"`` is timed too: the floor of every other command.
- ``convlog conversations`` (text and ``--json``), ``convlog cost``, ``convlog cost --by
  conversation`` and ``convlog cost --by model``: answered from the summaries (which keep
  each conversation's totals per model). Target: under 1 s on 1,000,000 events.
- ``convlog cost --by day``: needs each call's time, so it reads every event. Reported, with
  the rate it reads at; no target can hold for a scan.

The store is built once into ``--cache`` (default ``~/.cache/convlog/bench``) with big
batched appends at ``durability=normal``: conversations of 100 events (a
``conversation_created``, then user messages and priced, unpriced and cached assistant calls
over four models and three harnesses), a tenth of them sub-conversations of another.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import eventstore
from schemas import ConversationCreated, Message, Messages, UsageRecord

#: Bump when the store's contents or schema change, so a cached store of the old shape is not
#: reused (2: schema 2, summaries with messages and per-model totals).
LAYOUT = 2
CONVERSATION = 100  # events a conversation
MODELS = ("gpt-4o", "claude-sonnet-4-5", "gemini-2.5-pro", "in-house-7b")
HARNESSES = ("basic/0.2.0", "acme-agent/1.4", "batch/0.1")
TARGET_HELP = 2.0
TARGET_SUMMARY_S = 1.0


def conversation(n: int) -> tuple[str, list[Any], str]:
    """The ``n``th conversation: its id, its events and its harness."""
    parent = f"conv-{n - 1:07d}" if n % 10 == 9 else None
    events: list[Any] = [ConversationCreated(title=f"Conversation {n}", parent_id=parent)]
    for i in range(1, CONVERSATION):
        if i % 2:
            text = f"Question {i} of conversation {n}, asked at some length. " * 2
            events.append(Messages(messages=[Message(role="user", content=text)]))
            continue
        model = MODELS[(n + i) % len(MODELS)]
        unpriced = model == "in-house-7b"
        usage = UsageRecord(
            model=model,
            provider="openai",
            prompt_tokens=1200 + i,
            prompt_cached_tokens=1000 if i % 4 == 0 else None,
            completion_tokens=300 + n % 13,
            completion_reasoning_tokens=64 if i % 6 == 0 else None,
            cost_usd=None if unpriced else round(0.001 + (n % 7) * 0.0003 + i * 1e-5, 6),
            pricing="unpriced:model_not_found" if unpriced else "litellm:bench",
            ttft_ms=300 + i,
            duration_ms=1500 + i,
        )
        answer = Message(role="assistant", content=f"Answer {i}, at some length. " * 4)
        events.append(Messages(messages=[answer], usage=usage))
    return f"conv-{n:07d}", events, HARNESSES[n % len(HARNESSES)]


async def build(path: Path, events: int) -> None:
    """A store of ``events`` events at ``path``, written with concurrent batched appends so
    that the writer commits many conversations a transaction."""
    tmp = path.with_name(path.name + ".building")
    for stale in tmp.parent.glob(tmp.name + "*"):
        stale.unlink()
    count = max(1, events // CONVERSATION)
    started = time.perf_counter()
    async with eventstore.connect(f"sqlite:///{tmp}?durability=normal") as store:
        for first in range(0, count, 50):
            batch = [conversation(n) for n in range(first, min(first + 50, count))]
            await asyncio.gather(
                *(store.append(cid, evs, harness=harness) for cid, evs, harness in batch)
            )
            if first % 2000 == 0:
                done = first * CONVERSATION
                print(
                    f"  building: {done:,} events, {time.perf_counter() - started:.0f} s",
                    file=sys.stderr,
                )
    os.replace(tmp, path)
    for extra in tmp.parent.glob(tmp.name + "-*"):
        extra.unlink()


def cached_store(cache: Path, events: int) -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"cli-{events}-v{LAYOUT}.db"
    if not path.exists():
        print(f"building {path} ({events:,} events, once)", file=sys.stderr)
        asyncio.run(build(path, events))
    return path


def timed(argv: list[str], runs: int) -> float:
    """Median seconds of ``runs`` whole processes of ``argv`` (after one warm-up run), stdout
    to a pipe as in a script. A failing run stops the bench."""
    times = []
    for i in range(runs + 1):
        started = time.perf_counter()
        done = subprocess.run(argv, capture_output=True)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.decode()[-500:]}")
        if i:  # the first run warms the page cache and the .pyc files
            times.append(elapsed)
    return statistics.median(times)


def convlog() -> list[str]:
    found = shutil.which("convlog", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "harness.cli"]


def measure(store: Path, runs: int, help_runs: int) -> dict[str, Any]:
    cmd = convlog()
    bare = timed([sys.executable, "-c", "pass"], help_runs)
    click_s = timed([sys.executable, "-c", "import click"], help_runs)
    help_s = timed([*cmd, "--help"], help_runs)
    figures: dict[str, Any] = {
        "python_c_pass_s": bare,
        "import_click_s": click_s,
        "help_s": help_s,
        "help_ratio": help_s / bare,
        "import_click_ratio": click_s / bare,
        "commands": {},
    }
    where = ["--store", str(store)]
    for name, args in [
        ("conversations", ["conversations"]),
        ("conversations --json", ["conversations", "--json"]),
        ("cost", ["cost"]),
        ("cost --by conversation", ["cost", "--by", "conversation"]),
        ("cost --by model", ["cost", "--by", "model"]),
        ("cost --by day", ["cost", "--by", "day"]),
    ]:
        figures["commands"][name] = timed([*cmd, *args, *where], runs)
    return figures


def report(figures: dict[str, Any], events: int) -> str:
    lines = [
        f"convlog --help: {figures['help_s'] * 1000:.0f} ms, python -c pass "
        f"{figures['python_c_pass_s'] * 1000:.0f} ms: {figures['help_ratio']:.2f}x "
        f"(target < {TARGET_HELP}x: {'met' if figures['help_ratio'] < TARGET_HELP else 'not met'})",
        f"  floor of the commands: python -c 'import click' {figures['import_click_s'] * 1000:.0f} ms, "
        f"{figures['import_click_ratio']:.2f}x",
        f"store of {events:,} events, median of whole processes:",
    ]
    for name, seconds in figures["commands"].items():
        if name == "cost --by day":
            verdict = f"reads every event: {events / seconds:,.0f} events/s"
        else:
            met = "met" if seconds < TARGET_SUMMARY_S else "not met"
            verdict = f"target < {TARGET_SUMMARY_S:.0f} s: {met}"
        lines.append(f"  convlog {name:<24} {seconds * 1000:>8,.0f} ms   {verdict}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the store")
    parser.add_argument("--runs", type=int, default=5, help="processes timed per command")
    parser.add_argument("--help-runs", type=int, default=20, help="processes timed for --help")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
        / "convlog"
        / "bench",
        help="where the store is built once and kept",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args()
    store = cached_store(args.cache, args.events)
    figures = measure(store, args.runs, args.help_runs)
    figures["events"] = args.events
    print(json.dumps(figures, indent=2) if args.json else report(figures, args.events))


if __name__ == "__main__":
    main()
