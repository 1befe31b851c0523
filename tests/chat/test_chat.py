"""``convlog chat --message`` through the ``basic`` harness, run as a user runs it: the real
``openai`` SDK streams from the fake provider, and the store holds what the script says."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner

from harness.cli import cli
from harness.fake import FakeProvider, Reply, StatusError, Usage
from harness.pricing import apply_price, read_prices
from schemas import ConversationCreated, ErrorEvent, Message, Messages

from .support import CONVLOG, PRICES, environment, run, stored

MODEL = "gpt-4o-mini"
USAGE = Usage(prompt_tokens=1200, cached_tokens=1000, completion_tokens=80)
#: How far the recorded TTFT may be from the scripted first-chunk delay.
TTFT_SLACK_MS = 50


def chat(server: FakeProvider, store_path: Path, *args: str) -> list[str]:
    return [
        "chat",
        "--base-url",
        server.openai_base_url,
        "--model",
        MODEL,
        "--store",
        str(store_path),
        "--prices",
        str(PRICES),
        *args,
    ]


def test_one_message_is_recorded_with_the_scripted_tokens_cost_and_ttft(
    server: FakeProvider, store_path: Path
) -> None:
    server.add(Reply(text=("Hel", "lo!"), usage=USAGE, first_chunk_delay=0.3))
    done = run(*chat(server, store_path, "--message", "Hi there"), env={"OPENAI_API_KEY": ""})

    assert done.returncode == 0, done.stderr
    assert done.stdout == "Hello!\n"
    created, question, answer = stored(store_path)
    cid = created.conversation_id
    assert done.stderr.startswith(f"conversation {cid} · 1,200 in / 80 out tokens · $")
    assert created.data == ConversationCreated(title="Hi there")
    assert question.data == Messages(messages=[Message(role="user", content="Hi there")])
    assert isinstance(answer.data, Messages)
    assert answer.data.messages == [Message(role="assistant", content="Hello!")]
    usage = answer.data.usage
    assert usage is not None
    assert (usage.model, usage.provider) == (MODEL, "openai")
    assert (usage.prompt_tokens, usage.prompt_cached_tokens, usage.completion_tokens) == (
        1200,
        1000,
        80,
    )
    unpriced = msgspec.structs.replace(usage, cost_usd=None, pricing=None)
    expected = apply_price(unpriced, read_prices(PRICES))
    assert usage.cost_usd is not None
    assert (usage.cost_usd, usage.pricing) == (expected.cost_usd, expected.pricing)
    assert f"${usage.cost_usd}" in done.stderr
    assert usage.ttft_ms is not None
    assert usage.duration_ms is not None
    print(f"TTFT {usage.ttft_ms} ms for a scripted 300 ms")  # shown with -s: the error
    assert abs(usage.ttft_ms - 300) <= TTFT_SLACK_MS
    assert usage.duration_ms >= usage.ttft_ms
    assert f"TTFT {usage.ttft_ms} ms" in done.stderr
    # One session, one turn: the question and its answer share the turn id.
    assert {e.harness for e in (created, question, answer)} == {"basic/0.1.0"}
    assert len({e.session_id for e in (created, question, answer)}) == 1
    assert question.turn_id == answer.turn_id is not None
    (request,) = server.requests
    assert request.body is not None
    assert request.body["messages"] == [{"role": "user", "content": "Hi there"}]
    assert request.body["stream"] is True
    assert request.body["stream_options"] == {"include_usage": True}


def test_a_conversation_continues_with_its_history_replayed(
    server: FakeProvider, store_path: Path
) -> None:
    server.add(Reply(text="Paris.", usage=USAGE), Reply(text="About 2 million.", usage=USAGE))
    first = run(*chat(server, store_path, "--message", "Capital of France?"))
    assert first.returncode == 0, first.stderr
    cid = first.stderr.split()[1]
    second = run(*chat(server, store_path, "--conversation", cid, "--message", "Population?"))

    assert second.returncode == 0, second.stderr
    assert second.stdout == "About 2 million.\n"
    assert server.requests[1].body is not None
    assert server.requests[1].body["messages"] == [
        {"role": "user", "content": "Capital of France?"},
        {"role": "assistant", "content": "Paris."},
        {"role": "user", "content": "Population?"},
    ]
    events = stored(store_path)
    assert {e.conversation_id for e in events} == {cid}
    assert [e.type for e in events] == ["conversation_created"] + ["messages"] * 4
    assert len({e.session_id for e in events[:3]} | {e.session_id for e in events[3:]}) == 2


def test_a_rate_limit_is_one_line_exit_1_and_an_error_event(
    server: FakeProvider, store_path: Path
) -> None:
    server.add(StatusError(status=429, should_retry=False))
    done = run(*chat(server, store_path, "--message", "Hi"))

    assert done.returncode == 1
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"Error: {server.openai_base_url} answered 429: Rate limit")
    *_, error = stored(store_path)
    assert isinstance(error.data, ErrorEvent)
    assert (error.data.status_code, error.data.error_type) == (429, "RateLimitError")
    assert error.data.retryable is True
    assert line.endswith(f"(conversation {error.conversation_id})")


def test_an_unreachable_endpoint_is_one_line_exit_1_and_an_error_event(
    store_path: Path,
) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    done = run("chat", "--base-url", url, "--model", MODEL, "--store", str(store_path),
               "--prices", str(PRICES), "--message", "Hi")  # fmt: skip

    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"Error: cannot reach {url}: Connection error")
    *_, error = stored(store_path)
    assert isinstance(error.data, ErrorEvent)
    assert error.data.error_type == "APIConnectionError"


def test_ctrl_c_cancels_the_reply_records_an_error_and_exits_130(
    server: FakeProvider, store_path: Path
) -> None:
    server.add(Reply(text=("Once ", "upon ", "a ", "time"), chunk_delay=10, usage=USAGE))
    proc = subprocess.Popen(
        [*CONVLOG, *chat(server, store_path, "--message", "A story?")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(),
    )
    assert proc.stdout is not None
    assert proc.stdout.read(5) == "Once "  # the reply is streaming
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)

    assert proc.returncode == 130
    assert out == "\n"
    *_, question, cancelled = stored(store_path)
    assert isinstance(question.data, Messages)
    assert isinstance(cancelled.data, ErrorEvent)
    assert cancelled.data.error_type == "CancelledError"
    assert err == f"cancelled (conversation {cancelled.conversation_id})\n"


def test_hooks_see_the_persisted_cost(
    server: FakeProvider, store_path: Path, tmp_path: Path
) -> None:
    seen = tmp_path / "payload.json"
    hooks = tmp_path / "hooks.toml"
    copy = f"import sys; open({str(seen)!r}, 'wb').write(sys.stdin.buffer.read())"
    hooks.write_text(f"[[after_llm_call]]\ncommand = {json.dumps([sys.executable, '-c', copy])}\n")
    server.add(Reply(text="ok", usage=USAGE))
    done = run(*chat(server, store_path, "--hooks", str(hooks), "--message", "Hi"))

    assert done.returncode == 0, done.stderr
    *_, answer = stored(store_path)
    assert isinstance(answer.data, Messages)
    assert answer.data.usage is not None
    payload = json.loads(seen.read_text())
    assert payload["cost"] == answer.data.usage.cost_usd
    assert payload["session_id"] == answer.session_id


def test_store_and_prices_come_from_the_environment_and_a_path_is_escaped(
    server: FakeProvider, tmp_path: Path
) -> None:
    server.add(Reply(text="ok", usage=USAGE))
    odd = tmp_path / "a store #1?%20.db"
    env = {"CONVLOG_STORE": str(odd), "CONVLOG_PRICES_PATH": str(PRICES)}
    done = run("chat", "--base-url", server.openai_base_url, "--model", MODEL, "--message", "Hi",
               env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert odd.exists()
    assert "unpriced" not in done.stderr


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--model", MODEL, "--message", "Hi"], "Missing option '--base-url'"),
        (["--base-url", "http://127.0.0.1:1/v1", "--message", "Hi"], "Missing option '--model'"),
        (["--harness", "nope", "--message", "Hi"], "no harness 'nope' is installed; installed:"),
        (["--base-url", "http://127.0.0.1:1/v1", "--model", MODEL], "stdin is not a terminal"),
        (["--base-url", "http://127.0.0.1:1/v1", "--model", MODEL, "--message", " "], "empty"),
    ],
)
def test_usage_errors_exit_2(args: list[str], said: str, store_path: Path) -> None:
    result = CliRunner().invoke(cli, ["chat", "--store", str(store_path), *args])
    assert result.exit_code == 2, result.output
    assert said in result.output
    assert not store_path.exists()


def test_continuing_a_conversation_that_does_not_exist_exits_1(store_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["chat", "--base-url", "http://127.0.0.1:1/v1", "--model", MODEL,
         "--store", str(store_path), "--conversation", "nope", "--message", "Hi"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "Error: no conversation 'nope' in sqlite:///" in result.output


def test_without_the_openai_sdk_chat_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, store_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "openai", None)  # import openai raises ImportError
    result = CliRunner().invoke(
        cli,
        ["chat", "--base-url", "http://127.0.0.1:1/v1", "--model", MODEL,
         "--store", str(store_path), "--message", "Hi"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "pip install 'convlog[chat]'" in result.output
    assert "Traceback" not in result.output
