"""``convlog tail`` as a process: it follows new events live, from the head or from a
position, and Ctrl-C (SIGINT) ends it with exit 0 and no traceback."""

from __future__ import annotations

import asyncio
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import eventstore
from schemas import Message, Messages

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def tail(store: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "tail", "--store", str(store), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=0,  # unbuffered: a line read never leaves the next one hidden from select()
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        assert proc.stdout is not None
        assert proc.stderr is not None
        proc.stdout.close()
        proc.stderr.close()


def read_line(proc: subprocess.Popen[bytes], timeout: float) -> bytes | None:
    """The next line tail prints, or None if none comes within ``timeout`` seconds."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return None
    return proc.stdout.readline()


def say(store: Path, conversation: str, text: str) -> int:
    async def append() -> int:
        async with eventstore.connect(f"sqlite:///{store}") as opened:
            result = await opened.append(
                conversation, [Messages(messages=[Message(role="user", content=text)])]
            )
            return result.positions[0]

    return asyncio.run(append())


def interrupt(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=20) == 0
    assert proc.stderr is not None
    assert b"Traceback" not in proc.stderr.read()


def test_tail_follows_from_the_head_until_ctrl_c(store_path: Path) -> None:
    with tail(store_path) as proc:
        # tail starts at the head it finds; until it is subscribed, what is appended may fall
        # before that head, so append until a line comes through.
        deadline = time.monotonic() + 60
        line = None
        n = 0
        while line is None and time.monotonic() < deadline:
            n += 1
            say(store_path, "live", f"hello {n}")
            line = read_line(proc, 0.5)
        assert line is not None, "tail printed nothing"
        text = line.decode()
        assert " live v" in text
        assert "messages user: hello" in text
        assert int(text.split()[0]) > 11  # nothing from before the head
        position = say(store_path, "live", "and more")
        line = read_line(proc, 20)
        assert line is not None
        assert line.decode().split()[0] == str(position)
        assert "user: and more" in line.decode()
        interrupt(proc)


def test_tail_json_from_a_position_of_one_conversation(store_path: Path) -> None:
    with tail(store_path, "support", "--json", "--from-position", "3") as proc:
        versions = []
        for _ in range(3):
            line = read_line(proc, 20)
            assert line is not None
            event = json.loads(line)
            assert event["conversation_id"] == "support"
            versions.append((event["version"], event["position"]))
        assert versions == [(3, 3), (4, 4), (5, 7)]
        say(store_path, "quiet", "not this one")
        position = say(store_path, "support", "this one")
        line = read_line(proc, 20)
        assert line is not None
        event = json.loads(line)
        assert (event["position"], event["data"]["messages"][0]["content"]) == (
            position,
            "this one",
        )
        interrupt(proc)
