"""``convlog chat`` in a real terminal (tmux): the prompt, a streamed reply and its footer,
Ctrl-C cancelling a reply (an ``error`` event, and the prompt again), ``/exit``."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness.fake import FakeProvider, Reply, Usage
from schemas import ErrorEvent, Messages

from .support import PRICES, stored

pytestmark = [
    pytest.mark.skipif(
        shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)"
    ),
]

#: How long to wait for the screen to show something.
PATIENCE = 30.0


class Terminal:
    """One tmux session on a private server, running one command."""

    def __init__(self, socket: Path) -> None:
        self.socket = socket

    def tmux(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            ["tmux", "-S", str(self.socket), *args],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=10,
        )
        return done.stdout

    def start(self, command: list[str], env: dict[str, str]) -> None:
        # A new server inherits this environment; the pane's command runs in it.
        self.tmux("new-session", "-d", "-s", "chat", "-x", "160", "-y", "40", shlex.join(command),
                  env=env)  # fmt: skip

    def send(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "chat", *keys)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "chat")

    def wait_for(self, seen: Callable[[str], bool], what: str) -> str:
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            screen = self.screen()
            if seen(screen):
                return screen
            time.sleep(0.05)
        raise AssertionError(f"the terminal never showed {what}:\n{self.screen()}")

    def running(self) -> bool:
        return (
            subprocess.run(
                ["tmux", "-S", str(self.socket), "has-session", "-t", "chat"],
                capture_output=True,
                check=False,
            ).returncode
            == 0
        )


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    # A short path: a tmux socket's path must fit in a sockaddr_un (about 100 bytes).
    home = Path(tempfile.mkdtemp(prefix="convlog-tmux-"))
    term = Terminal(home / "socket")
    try:
        yield term
    finally:
        subprocess.run(
            ["tmux", "-S", str(term.socket), "kill-server"], capture_output=True, check=False
        )
        shutil.rmtree(home, ignore_errors=True)


def convlog() -> list[str]:
    """The console script beside this interpreter, as a user types it; else ``-m``."""
    script = Path(sys.executable).with_name("convlog")
    return [str(script)] if script.exists() else [sys.executable, "-m", "harness.cli"]


def test_an_interactive_chat_in_a_terminal(terminal: Terminal, store_path: Path) -> None:
    usage = Usage(prompt_tokens=20, completion_tokens=5)
    slow = Reply(text=("Once ", "upon ", "a ", "time"), chunk_delay=5, usage=usage)
    with FakeProvider([Reply(text="Hello from the fake!", usage=usage), slow]) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CONVLOG_", "OPENAI_"))}
        command = [*convlog(), "chat", "--base-url", server.openai_base_url, "--model", "gpt-4o-mini",
                   "--store", str(store_path), "--prices", str(PRICES)]  # fmt: skip
        terminal.start(command, env)
        terminal.wait_for(lambda s: s.rstrip().endswith(">"), "the prompt")

        terminal.send("Hi there", "Enter")
        screen = terminal.wait_for(lambda s: "TTFT" in s, "the footer")
        assert "Hello from the fake!" in screen
        assert "20 in / 5 out tokens" in screen

        terminal.send("Tell me a story", "Enter")
        terminal.wait_for(lambda s: "Once" in s, "the start of the slow reply")
        terminal.send("C-c")
        screen = terminal.wait_for(lambda s: "cancelled" in s, "the cancellation")
        assert screen.rstrip().endswith(">")  # the prompt is back

        terminal.send("/exit", "Enter")
        deadline = time.monotonic() + PATIENCE
        while terminal.running() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not terminal.running()

    created, question, answer, story, cancelled = stored(store_path)
    assert isinstance(answer.data, Messages)
    assert answer.data.usage is not None
    assert answer.data.usage.completion_tokens == 5
    assert isinstance(story.data, Messages)
    assert isinstance(cancelled.data, ErrorEvent)
    assert cancelled.data.error_type == "CancelledError"
    assert {e.conversation_id for e in (created, question, answer, story, cancelled)} == {
        created.conversation_id
    }
