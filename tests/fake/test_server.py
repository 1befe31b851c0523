"""The server itself: where it listens, what it records, how it answers plain HTTP, how it
consumes its script and closes, and the script's own validation and file formats."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest

from harness.fake import (
    HOST,
    FakeProvider,
    Reply,
    Script,
    StatusError,
    ToolCall,
    Usage,
    load_script,
)

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def events(self) -> list[str]:
        return self.body.decode().split("\n\n")


def request(server: FakeProvider, method: str, path: str, body: object = None) -> Answer:
    """One request on its own connection, read whole and closed."""
    connection = http.client.HTTPConnection(HOST, server.port, timeout=10)
    try:
        data = body if isinstance(body, bytes | None) else json.dumps(body).encode()
        headers = {"content-type": "application/json", "authorization": "Bearer x"}
        connection.request(method, path, data, headers)
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def post(server: FakeProvider, path: str, body: object) -> Answer:
    return request(server, "POST", path, body)


def test_it_binds_the_loopback_address_only(server):
    assert server.base_url == f"http://127.0.0.1:{server.port}"
    with socket.create_connection((HOST, server.port), timeout=5) as sock:
        assert sock.getpeername() == ("127.0.0.1", server.port)
    if sys.platform != "linux":
        return
    # Linux routes all of 127/8 to loopback: a server bound to 0.0.0.0 would answer here.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", server.port), timeout=5).close()


def test_each_sdk_gets_its_own_base_url(server):
    assert server.openai_base_url == server.base_url + "/v1"
    assert server.anthropic_base_url == server.base_url


def test_plain_http_gets_the_openai_body(server):
    server.add(Reply(text="plain", usage=Usage(prompt_tokens=5, completion_tokens=1)))
    answer = post(server, "/v1/chat/completions", {"model": "m", "messages": []})
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["x-request-id"] == "req_fake1"
    body = answer.json()
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["content"] == "plain"
    assert body["usage"]["total_tokens"] == 6


def test_an_openai_stream_is_chunked_sse_ending_in_done(server):
    server.add(Reply(text=("x", "y"), keepalive=False))
    answer = post(server, "/v1/chat/completions", {"model": "m", "stream": True})
    assert answer.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert answer.headers["transfer-encoding"] == "chunked"
    events = answer.events()
    assert events[-2:] == ["data: [DONE]", ""]
    payloads = [json.loads(e.removeprefix("data: ")) for e in events[:-2]]
    assert [p["choices"][0]["delta"].get("content") for p in payloads] == ["x", "y", None]
    assert all("usage" not in p for p in payloads)


def test_an_openai_keepalive_is_an_sse_comment_then_a_role_chunk(server):
    server.add(Reply(text="x"))
    events = post(server, "/v1/chat/completions", {"stream": True}).events()
    assert events[0] == ": keep-alive"
    assert json.loads(events[1].removeprefix("data: "))["choices"][0]["delta"] == {
        "role": "assistant",
        "content": "",
        "refusal": None,
    }


def test_an_anthropic_stream_names_every_event(server):
    server.add(Reply(text="x"))
    answer = post(server, "/v1/messages", {"model": "m", "stream": True})
    assert answer.headers["request-id"] == "req_fake1"
    for event in answer.events()[:-1]:
        name, data = event.split("\n")
        assert name.startswith("event: ")
        assert json.loads(data.removeprefix("data: "))["type"] == name.removeprefix("event: ")


def test_requests_are_recorded_in_order_without_credentials(server):
    server.add(Reply(text="a"), Reply(text="b"))
    post(server, "/v1/chat/completions?api-version=1", {"model": "m", "n": 1})
    post(server, "/v1/messages", {"model": "c"})

    first, second = server.requests
    assert (first.method, first.path, first.query) == (
        "POST",
        "/v1/chat/completions",
        "api-version=1",
    )
    assert first.body == {"model": "m", "n": 1}
    assert "authorization" not in first.headers
    assert first.headers["content-type"] == "application/json"
    assert second.path == "/v1/messages"
    with pytest.raises(TypeError):
        first.headers["x"] = "y"  # type: ignore[index]


def test_unknown_routes_are_404_and_consume_no_step(server):
    server.add(Reply(text="kept"))
    assert post(server, "/v1/embeddings", {}).status == 404
    assert request(server, "GET", "/v1/models").status == 404
    assert server.remaining == 1
    assert [(r.method, r.path, r.body) for r in server.requests] == [
        ("POST", "/v1/embeddings", {}),
        ("GET", "/v1/models", None),
    ]


def test_a_body_that_is_not_a_json_object_is_400_and_consumes_no_step(server):
    server.add(Reply(text="kept"))
    answer = post(server, "/v1/messages", b"not json")
    assert answer.status == 400
    assert answer.json()["error"]["type"] == "invalid_request_error"
    assert server.remaining == 1
    assert server.requests[0].body is None


def test_steps_are_consumed_in_order_then_the_default_answers_forever():
    with FakeProvider([Reply(text="one")], default=Reply(text="again")) as server:
        server.add(StatusError(status=429))
        answers = [post(server, "/v1/chat/completions", {}) for _ in range(4)]
        texts = [
            a.json().get("choices", [{}])[0].get("message", {}).get("content") for a in answers
        ]
        assert [a.status for a in answers] == [200, 429, 200, 200]
        assert texts == ["one", None, "again", "again"]
        assert server.remaining == 0


def test_an_exhausted_script_tells_the_client_not_to_retry(server):
    answer = post(server, "/v1/chat/completions", {})
    assert answer.status == 500
    assert answer.headers["x-should-retry"] == "false"
    assert "no step for request 1" in answer.json()["error"]["message"]


def test_concurrent_requests_each_get_one_step(server):
    server.add(*(Reply(text=str(i), first_chunk_delay=0.05) for i in range(8)))
    results: list[str] = []

    def ask() -> None:
        body = post(server, "/v1/chat/completions", {}).json()
        results.append(body["choices"][0]["message"]["content"])

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [str(i) for i in range(8)]


def test_close_cuts_a_pending_stream_and_returns_promptly():
    server = FakeProvider([Reply(text="late", first_chunk_delay=60)]).start()
    connection = http.client.HTTPConnection(HOST, server.port, timeout=10)
    try:
        connection.request("POST", "/v1/chat/completions", b'{"stream": true}')
        response = connection.getresponse()  # headers come at once; the text would not
        started = time.monotonic()
        server.close()
        assert time.monotonic() - started < 5
        with pytest.raises(http.client.IncompleteRead):
            response.read()
    finally:
        connection.close()
    server.close()  # idempotent


def test_a_server_starts_once_and_has_no_port_when_not_running():
    server = FakeProvider()
    with pytest.raises(RuntimeError):
        _ = server.port
    with server, pytest.raises(RuntimeError):
        server.start()
    with pytest.raises(RuntimeError):
        server.start()


@pytest.mark.parametrize(
    "make",
    [
        lambda: Usage(prompt_tokens=-1),
        lambda: Usage(prompt_tokens=10, cached_tokens=8, cache_creation_tokens=3),
        lambda: Usage(prompt_tokens=10, cache_creation_tokens=2, cache_creation_1h_tokens=3),
        lambda: Usage(completion_tokens=1, reasoning_tokens=2),
        lambda: ToolCall(name="f", arguments="[1]"),
        lambda: ToolCall(name="f", arguments="{"),
        lambda: ToolCall(name="", arguments="{}"),
        lambda: Reply(first_chunk_delay=-1),
        lambda: Reply(drop_after=-1),
        lambda: StatusError(status=200),
        lambda: StatusError(status=500, retry_after=-1),
    ],
)
def test_impossible_steps_are_refused_when_built(make):
    with pytest.raises(ValueError):  # noqa: PT011 - each case words its own message
        make()


SCRIPT = Script(
    steps=(
        Reply(
            text=("Hel", "lo"),
            tool_calls=(ToolCall(name="f", arguments='{"a": 1}'),),
            usage=Usage(prompt_tokens=10, completion_tokens=2, cached_tokens=4),
            first_chunk_delay=0.5,
        ),
        StatusError(status=429, retry_after=2),
    ),
    default=Reply(text="bye"),
)


def test_a_script_loads_from_json(tmp_path):
    path = tmp_path / "script.json"
    path.write_bytes(msgspec.json.encode(SCRIPT))
    assert load_script(path) == SCRIPT


def test_a_script_loads_from_toml(tmp_path):
    path = tmp_path / "script.toml"
    path.write_text(
        """
        [[steps]]
        type = "reply"
        text = ["Hel", "lo"]
        tool_calls = [{name = "f", arguments = '{"a": 1}'}]
        usage = {prompt_tokens = 10, completion_tokens = 2, cached_tokens = 4}
        first_chunk_delay = 0.5

        [[steps]]
        type = "error"
        status = 429
        retry_after = 2

        [default]
        type = "reply"
        text = "bye"
        """
    )
    assert load_script(path) == SCRIPT


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ('{"steps": [{"type": "reply", "txt": "typo"}]}', "$.steps[0]"),
        ('{"steps": [{"type": "reply", "usage": {"prompt_tokens": -1}}]}', "$.steps[0].usage"),
        ('{"steps": [{"type": "nope"}]}', "$.steps[0]"),
    ],
)
def test_a_bad_script_file_names_where_it_is_wrong(tmp_path, content, where):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=r"\$\.steps\[0\]") as caught:
        load_script(path)
    assert where in str(caught.value)


def test_the_command_line_serves_a_script_until_interrupted(tmp_path):
    path = tmp_path / "script.json"
    path.write_bytes(msgspec.json.encode(Script(default=Reply(text="from the file"))))
    with subprocess.Popen(
        [sys.executable, "-m", "harness.fake", "--port", "0", str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            openai_line = process.stdout.readline()
            assert "Anthropic" in process.stdout.readline()
            port = int(openai_line.rsplit(":", 1)[1].split("/")[0])
            connection = http.client.HTTPConnection(HOST, port, timeout=10)
            try:
                connection.request("POST", "/v1/chat/completions", b"{}")
                body = json.loads(connection.getresponse().read())
            finally:
                connection.close()
            assert body["choices"][0]["message"]["content"] == "from the file"
        finally:
            process.send_signal(signal.SIGINT)
            returncode = process.wait(timeout=10)
    assert returncode == 0


def test_the_command_line_refuses_a_bad_script(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{")
    result = subprocess.run(
        [sys.executable, "-m", "harness.fake", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: ")


def test_importing_the_fake_imports_neither_sdk():
    code = "import sys, harness.fake; assert not {'openai', 'anthropic'} & set(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
