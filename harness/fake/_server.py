"""The fake provider's HTTP server: the standard library's threading HTTP/1.1 server on a
background thread, bound to 127.0.0.1 only.

Every request is recorded. ``POST /v1/chat/completions`` and ``POST /v1/messages`` each take
the next scripted step (else the default) and answer it in that provider's wire format;
streams go out as chunked ``text/event-stream``, one HTTP chunk per SSE event, so a drop is a
socket closed mid-body, which every HTTP client reports as an error. Anything else is a 404
that consumes no step.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType, TracebackType
from typing import Self

import msgspec

from ._anthropic import ANTHROPIC
from ._openai import OPENAI
from ._script import Reply, StatusError, Step
from ._wire import Call, Dialect, Frame

__all__ = ("HOST", "FakeProvider", "RecordedRequest")

HOST = "127.0.0.1"
"""The only address the server binds: it is never reachable from another machine."""

_ROUTES: Mapping[str, Dialect] = {"/v1/chat/completions": OPENAI, "/v1/messages": ANTHROPIC}
# Credentials never reach the record, so a test can print or snapshot it safely.
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "api-key"})
_log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class RecordedRequest:
    """One request the server received, as the client sent it.

    ``path`` is without the query string, which is in ``query`` (``"beta=true"``, or ``""``).
    ``headers`` has lower-case names and no credentials (``authorization``,
    ``proxy-authorization``, ``x-api-key``, ``api-key``). ``body`` is the decoded JSON body,
    ``None`` if there was none or it was not JSON.
    """

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: object


class _Closing(Exception):
    """The server is closing: abandon the response and drop the connection."""


class _State:
    """What the handler threads share, under one lock."""

    def __init__(self, steps: Iterable[Step], default: Step | None) -> None:
        self.lock = threading.Lock()
        self.steps: deque[Step] = deque(steps)
        self.default = default
        self.calls = 0
        self.requests: list[RecordedRequest] = []
        self.closing = threading.Event()
        self.connections: dict[socket.socket, threading.Thread] = {}

    def next_call(self, body: Mapping[str, object]) -> tuple[Call, Step]:
        with self.lock:
            self.calls += 1
            number = self.calls
            step = self.steps.popleft() if self.steps else self.default
        if step is None:
            message = f"convlog fake provider: the script has no step for request {number}"
            step = StatusError(status=500, message=message, should_retry=False)
        return Call(number=number, body=body, created=int(time.time())), step

    def wait(self, seconds: float) -> None:
        if seconds > 0 and self.closing.wait(seconds):
            raise _Closing


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # close() joins them; an unclosed server must not block exit

    def __init__(self, port: int, state: _State) -> None:
        self.state = state
        super().__init__((HOST, port), _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that goes away mid-response is routine for a test double, not an error.
        if not isinstance(sys.exc_info()[1], OSError):
            _log.exception("fake provider failed answering %s", client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked streams, as the real APIs
    server_version = "convlog-fake-provider"

    @property
    def _state(self) -> _State:
        assert isinstance(self.server, _HTTPServer)
        return self.server.state

    def setup(self) -> None:
        super().setup()
        # Each SSE event goes out when written, as a streaming server's must; with Nagle's
        # algorithm a small write waits for the client's delayed ACK (~40 ms on Linux).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._state.lock:
            self._state.connections[self.connection] = threading.current_thread()

    def finish(self) -> None:
        with self._state.lock:
            self._state.connections.pop(self.connection, None)
        super().finish()

    def log_message(self, format: str, *args: object) -> None:
        _log.debug(format, *args)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        try:
            self._answer()
        except (_Closing, ConnectionError):
            self._drop()

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        try:
            body: object = msgspec.json.decode(raw) if raw else None
        except msgspec.DecodeError:
            body = None
        path, _, query = self.path.partition("?")
        headers = {k.lower(): v for k, v in self.headers.items()}
        record = RecordedRequest(
            method=self.command,
            path=path,
            query=query,
            headers=MappingProxyType(
                {k: v for k, v in headers.items() if k not in _SECRET_HEADERS}
            ),
            body=body,
        )
        with self._state.lock:
            self._state.requests.append(record)

        dialect = _ROUTES.get(path) if self.command == "POST" else None
        if dialect is None:
            error = {
                "error": {"type": "not_found_error", "message": f"no route {self.command} {path}"}
            }
            self._send_json(404, error, {})
            return
        if not isinstance(body, dict):
            # A malformed request is the client's bug: answer it without consuming a step.
            call = Call(number=0, body={}, created=int(time.time()))
            failure = StatusError(status=400, message="the request body is not a JSON object")
            self._send_error(dialect, failure, call)
            return

        call, step = self._state.next_call(body)
        if isinstance(step, StatusError):
            self._state.wait(step.delay)
            self._send_error(dialect, step, call)
        elif call.streamed:
            self._send_stream(dialect, step, call)
        else:
            self._send_reply(dialect, step, call)

    def _send_json(self, status: int, body: object, headers: Mapping[str, str]) -> None:
        data = msgspec.json.encode(body)
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_error(self, dialect: Dialect, failure: StatusError, call: Call) -> None:
        headers = {dialect.request_id_header: call.request_id}
        if failure.retry_after is not None:
            seconds = float(failure.retry_after)  # an int from Python code is fine too
            headers["retry-after"] = str(int(seconds)) if seconds.is_integer() else str(seconds)
        if failure.should_retry is not None:
            headers["x-should-retry"] = "true" if failure.should_retry else "false"
        self._send_json(failure.status, dialect.error(failure, call), headers)

    def _send_reply(self, dialect: Dialect, reply: Reply, call: Call) -> None:
        # As long as the stream would have taken, so timing tests hold for both modes.
        chunks = sum(frame.content for frame in dialect.stream(reply, call))
        self._state.wait(reply.first_chunk_delay + reply.chunk_delay * max(chunks - 1, 0))
        if reply.drop_after is not None:
            self._drop()
            return
        headers = {dialect.request_id_header: call.request_id}
        self._send_json(200, dialect.complete(reply, call), headers)

    def _send_stream(self, dialect: Dialect, reply: Reply, call: Call) -> None:
        frames = list(dialect.stream(reply, call))
        last_content = max((i for i, f in enumerate(frames) if f.content), default=-1)
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.send_header(dialect.request_id_header, call.request_id)
        self.end_headers()
        sent = 0
        for i, frame in enumerate(frames):
            cut = reply.drop_after is not None and sent >= reply.drop_after
            if cut and (frame.content or i > last_content):
                self._drop()
                return
            if frame.content:
                self._state.wait(reply.first_chunk_delay if sent == 0 else reply.chunk_delay)
                sent += 1
            self._write_chunk(frame)
        self.wfile.write(b"0\r\n\r\n")

    def _write_chunk(self, frame: Frame) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(frame.data), frame.data))

    def _drop(self) -> None:
        """Close the connection at once: no terminating chunk, no further requests."""
        self.close_connection = True
        with contextlib.suppress(OSError):  # already gone
            self.connection.shutdown(socket.SHUT_RDWR)


class FakeProvider:
    """A scripted OpenAI- and Anthropic-compatible model server on ``127.0.0.1``.

    Each ``POST /v1/chat/completions`` or ``POST /v1/messages`` takes the next of ``steps``,
    then ``default`` once they run out; with neither left it answers 500 (with
    ``x-should-retry: false``) naming the request. Use it as a context manager::

        with FakeProvider([Reply(text="Hi!")]) as server:
            OpenAI(base_url=server.openai_base_url, api_key="test", max_retries=0)
            Anthropic(base_url=server.anthropic_base_url, api_key="test", max_retries=0)

    ``port=0`` (the default) lets the OS choose a free port. The server answers requests
    concurrently, one thread per connection; the script is consumed in arrival order.
    """

    def __init__(
        self, steps: Iterable[Step] = (), *, default: Step | None = None, port: int = 0
    ) -> None:
        self._state = _State(steps, default)
        self._requested_port = port
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        """Bind ``127.0.0.1`` and serve on a background thread; returns ``self``.

        :raises RuntimeError: if the server was already started.
        :raises OSError: if the port cannot be bound.
        """
        if self._httpd is not None or self._state.closing.is_set():
            raise RuntimeError("a FakeProvider starts once")
        self._httpd = _HTTPServer(self._requested_port, self._state)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-provider:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, cut every open connection (a stream in progress is dropped, a
        pending delay ends) and wait for the handler threads. Idempotent."""
        self._state.closing.set()
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        with self._state.lock:
            connections = list(self._state.connections.items())
        for sock, _ in connections:
            with contextlib.suppress(OSError):  # the handler closed it meanwhile
                sock.shutdown(socket.SHUT_RDWR)
        for _, thread in connections:
            thread.join(timeout=5)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def port(self) -> int:
        """The bound port.

        :raises RuntimeError: if the server is not running.
        """
        if self._httpd is None:
            raise RuntimeError("the FakeProvider is not running")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``: the root, which the ``anthropic`` SDK takes."""
        return f"http://{HOST}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``: the ``openai`` SDK's ``base_url`` includes ``/v1``."""
        return f"{self.base_url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        """The same as :attr:`base_url`: the ``anthropic`` SDK appends ``/v1/messages``."""
        return self.base_url

    @property
    def requests(self) -> tuple[RecordedRequest, ...]:
        """Every request received so far, in arrival order (a snapshot)."""
        with self._state.lock:
            return tuple(self._state.requests)

    @property
    def remaining(self) -> int:
        """How many scripted steps are not consumed yet (the default not counted)."""
        with self._state.lock:
            return len(self._state.steps)

    def add(self, *steps: Step) -> None:
        """Append ``steps`` to the script; safe while serving."""
        with self._state.lock:
            self._state.steps.extend(steps)
