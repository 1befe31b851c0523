"""The load chain: explicit path or URL, fresh cache, fetch, stale cache, genai-prices, empty.

Every branch is exercised against files in tmp_path and an HTTP server on 127.0.0.1 started by
the test; name resolution for any other host is refused, so nothing here reaches the internet.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.pricing import (
    LITELLM_PRICES_URL,
    PATH_ENV,
    URL_ENV,
    PriceTable,
    PriceTableError,
    _loader,
    default_cache_dir,
    load_prices,
    read_prices,
    update_prices,
)

FIXTURE = Path(__file__).parent / "fixtures" / "litellm_prices_subset.json"
SMALL = json.dumps(
    {
        "gpt-4o": {
            "litellm_provider": "openai",
            "mode": "chat",
            "input_cost_per_token": 2.5e-06,
            "output_cost_per_token": 1e-05,
        }
    }
).encode()
DAY = 24 * 3600

# --- no internet, ever ----------------------------------------------------------------------

_real_getaddrinfo = socket.getaddrinfo


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only 127.0.0.1 resolves: the default LiteLLM URL fails like it does on a plane."""

    def local_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("127.0.0.1", "localhost"):
            raise socket.gaierror(socket.EAI_NONAME, f"no network in tests ({host})")
        return _real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", local_only)
    monkeypatch.delenv(PATH_ENV, raising=False)
    monkeypatch.delenv(URL_ENV, raising=False)


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "convlog"


@pytest.fixture
def no_genai(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if the ``prices`` extra were not installed."""
    monkeypatch.setitem(sys.modules, "genai_prices", None)


# --- a local HTTP server --------------------------------------------------------------------

Route = Callable[[http.server.BaseHTTPRequestHandler], None]


class PriceServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits.append(self.path)
                route = server.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    route(self)  # a client that gives up early is what some tests want

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def serve(self, path: str, body: bytes, status: int = 200) -> str:
        def route(h: http.server.BaseHTTPRequestHandler) -> None:
            h.send_response(status)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)

        self.routes[path] = route
        return self.url(path)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[PriceServer]:
    s = PriceServer()
    yield s
    s.close()


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/prices.json"  # nothing listens: connection refused


def write_cache(cache: Path, raw: bytes, age_s: float) -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / "litellm_prices.json"
    path.write_bytes(raw)
    then = time.time() - age_s
    os.utime(path, (then, then))
    return path


def messages(caplog: pytest.LogCaptureFixture, level: int = logging.WARNING) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= level]


@pytest.fixture(autouse=True)
def _capture(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="convlog.pricing")


# --- 1. explicit sources --------------------------------------------------------------------


def test_explicit_path_wins(tmp_path: Path, server: PriceServer, cache_home: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_bytes(FIXTURE.read_bytes())
    write_cache(cache_home, SMALL, age_s=60)
    table = load_prices(path, fetch_url=server.url("/never"))
    assert table.source == str(path)
    assert table.provenance == PriceTable.from_litellm_json(FIXTURE.read_bytes()).provenance
    assert table.lookup("claude-sonnet-4-5") is not None
    assert server.hits == []


def test_explicit_url(server: PriceServer) -> None:
    url = server.serve("/p.json", SMALL)
    table = load_prices(url=url, fetch_url=None)
    assert (table.source, len(table)) == (url, 1)


def test_env_path_then_env_url(
    tmp_path: Path, server: PriceServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = server.serve("/p.json", SMALL)
    monkeypatch.setenv(URL_ENV, url)
    assert load_prices(fetch_url=None).source == url
    path = tmp_path / "p.json"
    path.write_bytes(FIXTURE.read_bytes())
    monkeypatch.setenv(PATH_ENV, str(path))
    assert load_prices(fetch_url=None).source == str(path)
    # an argument (the CLI flag) beats both variables
    other = tmp_path / "other.json"
    other.write_bytes(SMALL)
    assert load_prices(other, fetch_url=None).source == str(other)


def test_corrupt_explicit_file_is_logged_and_the_chain_continues(
    tmp_path: Path, cache_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"gpt-4o": {"input_cost_per_token": 2.5e-06,')  # truncated
    write_cache(cache_home, SMALL, age_s=60)
    table = load_prices(bad, fetch_url=None)
    assert table.source.endswith("(fresh cache)")
    assert any(f"cannot use price file {bad}: not a JSON document" in m for m in messages(caplog))


def test_missing_explicit_file_is_logged(
    tmp_path: Path, cache_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_cache(cache_home, SMALL, age_s=60)
    assert load_prices(tmp_path / "nope.json", fetch_url=None).available
    assert any("cannot read" in m and "nope.json" in m for m in messages(caplog))


# --- 2. fresh cache -------------------------------------------------------------------------


def test_fresh_cache_is_used_without_touching_the_network(
    server: PriceServer, cache_home: Path
) -> None:
    write_cache(cache_home, FIXTURE.read_bytes(), age_s=DAY - 60)
    table = load_prices(fetch_url=server.url("/p.json"))
    assert table.source == f"{cache_home / 'litellm_prices.json'} (fresh cache)"
    assert server.hits == []


def test_cache_dir_argument_beats_xdg(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    write_cache(elsewhere, SMALL, age_s=1)
    assert load_prices(cache_dir=elsewhere, fetch_url=None).source.startswith(str(elsewhere))


# --- 3. fetch -------------------------------------------------------------------------------


def test_stale_cache_is_refreshed_by_a_fetch(server: PriceServer, cache_home: Path) -> None:
    cached = write_cache(cache_home, SMALL, age_s=DAY + 60)
    url = server.serve("/p.json", FIXTURE.read_bytes())
    table = load_prices(fetch_url=url)
    assert table.source == url
    assert cached.read_bytes() == FIXTURE.read_bytes()  # rewritten, byte for byte
    assert time.time() - cached.stat().st_mtime < 60
    # and the next load is served from the now-fresh cache
    again = load_prices(fetch_url=server.url("/gone"))
    assert again.provenance == table.provenance
    assert again.source.endswith("(fresh cache)")


def test_first_fetch_creates_the_cache(server: PriceServer, cache_home: Path) -> None:
    assert not cache_home.exists()
    load_prices(fetch_url=server.serve("/p.json", SMALL))
    assert (cache_home / "litellm_prices.json").read_bytes() == SMALL


@pytest.mark.parametrize(
    ("body", "status", "why"),
    [
        (b"<html>Service Unavailable</html>", 200, "not a JSON document"),
        (b"[1, 2, 3]", 200, "expected a JSON object"),
        (b"{}", 200, "no priced model"),
        (b'{"a": [1], "b": "x"}', 200, "no priced model in the document (2 unreadable)"),
        # JSON objects that parse but price nothing: an error body, per-second prices only
        (b'{"error": {"code": 404, "message": "Not Found"}}', 200, "no priced model"),
        (b'{"whisper-1": {"input_cost_per_second": 0.0001}}', 200, "no priced model"),
        (SMALL, 500, "HTTP 500"),
    ],
)
def test_fetched_garbage_is_never_cached_and_the_stale_cache_serves(
    server: PriceServer,
    cache_home: Path,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    status: int,
    why: str,
) -> None:
    cached = write_cache(cache_home, SMALL, age_s=3 * DAY)
    url = server.serve("/p.json", body, status)
    table = load_prices(fetch_url=url)
    assert cached.read_bytes() == SMALL  # untouched
    assert table.source.endswith("(stale cache)")
    assert len(table) == 1
    warnings = messages(caplog)
    assert any(f"cannot use prices from {url}: " in m and why in m for m in warnings), warnings
    assert any("stale price cache (72.0 hours old)" in m for m in warnings)


def test_fetch_timeout(
    server: PriceServer, cache_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    release = threading.Event()

    def hang(h: http.server.BaseHTTPRequestHandler) -> None:
        release.wait(5)

    server.routes["/slow"] = hang
    write_cache(cache_home, SMALL, age_s=2 * DAY)
    start = time.monotonic()
    table = load_prices(fetch_url=server.url("/slow"), timeout=0.3)
    elapsed = time.monotonic() - start
    release.set()
    assert elapsed < 2
    assert table.source.endswith("(stale cache)")
    assert any("timed out" in m for m in messages(caplog)), messages(caplog)


def test_a_trickling_server_cannot_hold_the_caller_past_the_deadline(
    server: PriceServer, no_genai: None, caplog: pytest.LogCaptureFixture
) -> None:
    stop = threading.Event()

    def trickle(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "100000")
        h.end_headers()
        while not stop.wait(0.05):
            h.wfile.write(b" ")
            h.wfile.flush()

    server.routes["/trickle"] = trickle
    start = time.monotonic()
    table = load_prices(fetch_url=server.url("/trickle"), timeout=0.4)
    elapsed = time.monotonic() - start
    stop.set()
    assert elapsed < 1.5
    assert not table.available
    assert any("timed out after 0.4 s" in m for m in messages(caplog))


def test_oversized_responses_are_refused(
    server: PriceServer, no_genai: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_loader, "MAX_BYTES", 1000)
    with pytest.raises(PriceTableError, match="exceeds 1000 bytes"):
        update_prices(url=server.serve("/big.json", FIXTURE.read_bytes()))


def test_no_network_at_all(cache_home: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_cache(cache_home, SMALL, age_s=10 * DAY)
    # the real default URL: name resolution fails, as offline
    table = load_prices()
    assert table.source.endswith("(stale cache)")
    assert any(f"cannot use prices from {LITELLM_PRICES_URL}" in m for m in messages(caplog))
    # a refused connection reads the same way
    caplog.clear()
    assert load_prices(fetch_url=closed_port_url()).source.endswith("(stale cache)")
    assert any("cannot fetch" in m for m in messages(caplog))


def test_a_read_only_cache_does_not_stop_pricing(
    server: PriceServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the cache directory should be")
    table = load_prices(cache_dir=blocked, fetch_url=server.serve("/p.json", SMALL))
    assert len(table) == 1
    assert any("cannot write the price cache" in m for m in messages(caplog))


# --- 4. stale cache, 5. genai-prices, 6. empty ----------------------------------------------


def test_corrupt_fresh_cache_is_not_offered_again_as_stale(
    cache_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_cache(cache_home, b"\x00\x01 not json", age_s=60)
    table = load_prices(fetch_url=closed_port_url())
    assert table.provenance.startswith("genai-prices:")
    assert table.lookup("claude-sonnet-4-5") is not None
    assert sum("price cache" in m for m in messages(caplog)) == 1


def test_genai_prices_when_nothing_else_works(caplog: pytest.LogCaptureFixture) -> None:
    table = load_prices(fetch_url=closed_port_url())
    assert table.provenance.startswith("genai-prices:")
    assert table.source == "genai-prices bundled data"
    assert any("using genai-prices" in m for m in messages(caplog, logging.INFO))


def test_empty_table_with_one_clear_warning(
    no_genai: None, caplog: pytest.LogCaptureFixture
) -> None:
    table = load_prices(fetch_url=closed_port_url())
    assert not table.available
    assert table.provenance == ""
    final = [m for m in messages(caplog) if "no price table available" in m]
    assert len(final) == 1
    assert "unpriced:table_unavailable" in final[0]
    assert "genai-prices is not installed" in " ".join(messages(caplog, logging.INFO))


def test_an_unexpected_failure_in_a_step_is_logged_not_raised(
    tmp_path: Path,
    cache_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def explode(raw: bytes, *, source: str = "") -> PriceTable:
        raise RecursionError("maximum recursion depth exceeded")

    path = tmp_path / "p.json"
    path.write_bytes(SMALL)
    write_cache(cache_home, SMALL, age_s=60)
    monkeypatch.setattr(PriceTable, "from_litellm_json", staticmethod(explode))
    table = load_prices(path, fetch_url=None, timeout=-1)
    assert table.provenance.startswith("genai-prices:")
    warnings = messages(caplog)
    assert any(f"cannot use price file {path}: RecursionError" in m for m in warnings)
    assert any("cannot use price cache" in m and "RecursionError" in m for m in warnings)


def test_a_broken_genai_prices_is_logged_not_raised(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from harness.pricing import _genai

    def broken(**_: Any) -> PriceTable:
        raise RuntimeError("pydantic exploded")

    monkeypatch.setattr(_genai, "table_from_genai_prices", broken)
    assert not load_prices(fetch_url=None).available
    assert any("RuntimeError: pydantic exploded" in m for m in messages(caplog))


# --- update_prices (convlog prices update) ---------------------------------------------------


def test_update_from_url_and_path(server: PriceServer, tmp_path: Path, cache_home: Path) -> None:
    table, cached = update_prices(url=server.serve("/p.json", SMALL))
    assert cached == cache_home / "litellm_prices.json"
    assert (cached.read_bytes(), len(table)) == (SMALL, 1)
    source = tmp_path / "p.json"
    source.write_bytes(FIXTURE.read_bytes())
    table, cached = update_prices(path=source)
    assert cached.read_bytes() == FIXTURE.read_bytes()
    assert table.provenance == read_prices(source).provenance


@pytest.mark.parametrize(
    ("body", "status", "match"),
    [
        (b"garbage", 200, "not a JSON document"),
        (b"{}", 200, "no priced model"),
        (b"", 404, "HTTP 404"),
    ],
)
def test_update_refuses_garbage_and_keeps_the_cache(
    server: PriceServer, cache_home: Path, body: bytes, status: int, match: str
) -> None:
    cached = write_cache(cache_home, SMALL, age_s=5 * DAY)
    with pytest.raises(PriceTableError, match=match):
        update_prices(url=server.serve("/p.json", body, status))
    assert cached.read_bytes() == SMALL


def test_update_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(PriceTableError, match="unsupported URL scheme 'ftp'"):
        update_prices(url="ftp://example.com/p.json")
    with pytest.raises(PriceTableError, match="cannot read"):
        update_prices(path=tmp_path / "missing.json")
    with pytest.raises(PriceTableError, match="cannot fetch"):
        update_prices(url=closed_port_url(), timeout=2)


def test_file_urls_work(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_bytes(SMALL)
    assert load_prices(url=path.as_uri(), fetch_url=None).source == path.as_uri()


# --- the cache directory --------------------------------------------------------------------


def test_default_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "convlog"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for ignored in ("", "relative/path"):  # the XDG spec: only absolute paths count
        monkeypatch.setenv("XDG_CACHE_HOME", ignored)
        assert default_cache_dir() == tmp_path / "home" / ".cache" / "convlog"


def test_offline_skips_every_network_step(
    server: PriceServer, cache_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = server.serve("/explicit.json", SMALL)
    fetch = server.serve("/fetch.json", SMALL)
    write_cache(cache_home, SMALL, age_s=3 * DAY)  # stale: a fetch would be tried next
    table = load_prices(url=url, fetch_url=fetch, offline=True)
    assert table.source.endswith("(stale cache)")
    assert server.hits == []
    assert any(f"offline: not fetching prices from {url}" in m for m in messages(caplog))
