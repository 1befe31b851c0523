"""``convlog prices``, run the way a user runs it (CliRunner), text and ``--json``."""

from __future__ import annotations

import http.server
import json
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from harness.cli import cli

FIXTURE = Path(__file__).parent / "fixtures" / "litellm_prices_subset.json"
_real_getaddrinfo = socket.getaddrinfo


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Cache in tmp_path, no price env vars, and no host but 127.0.0.1 resolves."""

    def local_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("127.0.0.1", "localhost"):
            raise socket.gaierror(socket.EAI_NONAME, f"no network in tests ({host})")
        return _real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", local_only)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("CONVLOG_PRICES_PATH", raising=False)
    monkeypatch.delenv("CONVLOG_PRICES_URL", raising=False)
    return tmp_path / "xdg" / "convlog"


def run(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == code, (result.output, result.stderr)
    return result


PRICES = ("--prices", str(FIXTURE))


# --- help and docs --------------------------------------------------------------------------


def commands() -> list[str]:
    group = cli.commands["prices"]
    assert isinstance(group, click.Group)
    return sorted(group.commands)


def test_prices_has_show_update_and_cost() -> None:
    assert commands() == ["cost", "show", "update"]


def test_update_help_states_the_default_timeout() -> None:
    from harness.pricing import DEFAULT_FETCH_TIMEOUT

    shown = " ".join(run("prices", "update", "--help").output.split())
    assert f"Seconds the download may take (default: {DEFAULT_FETCH_TIMEOUT:g})." in shown


# --- show -----------------------------------------------------------------------------------


def test_show_text() -> None:
    out = run("prices", "show", "claude-sonnet-4-6-20251022", *PRICES).output
    assert "resolved to  claude-sonnet-4-6  (anthropic, chat)" in out
    assert re.search(r"table\s+litellm:[0-9a-f]{12}\s+\(222 models from .*subset.json\)", out)
    assert re.search(r"standard\s+any\s+3\s+0\.3\s+3\.75\s+6\s+15\s+-", out)
    assert re.search(r"batch\s+any\s+1\.5\s+0\.15\s+1\.875", out)


def test_show_json_with_provider_and_tiers() -> None:
    doc = json.loads(
        run("prices", "show", "gemini-2.5-pro", "--provider", "gemini", *PRICES, "--json").output
    )
    assert doc["key"] == "gemini/gemini-2.5-pro"
    assert doc["litellm_provider"] == "gemini"
    assert doc["pricing"].startswith("litellm:")
    assert doc["table"]["models"] == 222
    standard = doc["usd_per_mtok"]["standard"]
    assert [row["above_tokens"] for row in standard] == [0, 200000]
    assert (standard[0]["input"], standard[1]["input"]) == ("1.25", "2.5")
    assert doc["usd_per_mtok"]["priority"][0]["output"] == "18"
    assert set(doc["usd_per_mtok"]) == {"standard", "batch", "flex", "priority"}


def test_show_unknown_model_fails_clearly() -> None:
    result = run("prices", "show", "no-such-model", *PRICES, code=1)
    assert "no price for model 'no-such-model' in litellm:" in result.stderr
    doc = json.loads(run("prices", "show", "no-such-model", *PRICES, "--json", code=1).stdout)
    assert (doc["key"], doc["pricing"]) == (None, "unpriced:model_not_found")


def test_a_bad_prices_flag_is_an_error_not_a_fallback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = run("prices", "show", "gpt-4o", "--prices", str(bad), code=1)
    assert f"cannot use --prices {bad}: not a JSON document" in result.stderr


@pytest.mark.parametrize("command", ["show", "cost", "update"])
@pytest.mark.parametrize("what", ["missing", "directory"])
def test_an_unreadable_price_file_exits_1_like_every_failure(
    isolated: Path, tmp_path: Path, command: str, what: str
) -> None:
    # docs/pricing.md: "exits 1 when it cannot answer"; 2 stays for a malformed command line.
    path = tmp_path / "nowhere.json" if what == "missing" else tmp_path
    args = {
        "show": ("show", "gpt-4o", "--prices", str(path)),
        "cost": ("cost", "--model", "gpt-4o", "--prompt", "10", "--prices", str(path)),
        "update": ("update", "--path", str(path)),
    }[command]
    result = run("prices", *args, code=1)
    assert f"cannot read {path}: " in result.stderr
    assert not (isolated / "litellm_prices.json").exists()


def test_env_var_then_cache_then_empty(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CONVLOG_PRICES_PATH", str(FIXTURE))
    assert json.loads(run("prices", "show", "gpt-4o", "--json").output)["table"]["models"] == 222
    monkeypatch.delenv("CONVLOG_PRICES_PATH")
    isolated.mkdir(parents=True)
    (isolated / "litellm_prices.json").write_bytes(FIXTURE.read_bytes())
    doc = json.loads(run("prices", "show", "gpt-4o", "--offline", "--json").output)
    assert doc["table"]["source"].endswith("(fresh cache)")
    # nothing on disk and genai-prices unavailable: an empty table and one warning
    (isolated / "litellm_prices.json").unlink()
    monkeypatch.setitem(__import__("sys").modules, "genai_prices", None)
    result = run("prices", "show", "gpt-4o", "--offline", "--json", code=1)
    assert json.loads(result.stdout)["pricing"] == "unpriced:table_unavailable"
    assert result.stderr.count("warning: no price table available") == 1


def test_verbose_names_the_source() -> None:
    result = run("prices", "-v", "show", "gpt-4o", "--offline")
    assert "info: using genai-prices bundled data" in result.stderr
    assert "resolved to  gpt-4o  (openai" in result.stdout
    result = run("prices", "-v", "cost", "--model", "gpt-4o", "--prompt", "10", *PRICES)
    assert f"info: using --prices {FIXTURE} (litellm:" in result.stderr
    assert (
        "info:" not in run("prices", "cost", "--model", "gpt-4o", "--prompt", "10", *PRICES).stderr
    )


# --- cost -----------------------------------------------------------------------------------


def test_cost_text_itemizes_and_totals() -> None:
    out = run(
        "prices", "cost", "--model", "claude-sonnet-4-5", "--prompt", "3000",
        "--cached", "2000", "--completion", "500", *PRICES,
    ).output  # fmt: skip
    assert "claude-sonnet-4-5 -> claude-sonnet-4-5  (litellm:" in out
    assert re.search(r"input\s+1,000 x \$3/MTok\s+= \$0\.003\n", out)
    assert re.search(r"cache_read\s+2,000 x \$0\.3/MTok\s+= \$0\.0006\n", out)
    assert re.search(r"output\s+500 x \$15/MTok\s+= \$0\.0075\n", out)
    assert out.rstrip().endswith("total  $0.0111")


def test_cost_json() -> None:
    doc = json.loads(
        run(
            "prices", "cost", "--model", "gpt-4o-2024-08-06", "--prompt", "3000", "--cached",
            "2000", "--completion", "500", "--service-tier", "priority", *PRICES, "--json",
        ).output
    )  # fmt: skip
    assert doc["key"] == "gpt-4o-2024-08-06"
    assert doc["cost_usd"] == 0.017  # 1000 x 4.25 + 2000 x 2.125 + 500 x 17, per MTok
    assert doc["service_tier"] == "priority"
    assert [(line["component"], line["usd_per_mtok"]) for line in doc["lines"]] == [
        ("input", "4.25"),
        ("cache_read", "2.125"),
        ("output", "17"),
    ]
    assert sum(float(line["cost_usd"]) for line in doc["lines"]) == pytest.approx(0.017)


def test_cost_with_every_kind_of_token() -> None:
    doc = json.loads(
        run(
            "prices", "cost", "--model", "claude-opus-4-6", "--provider", "anthropic",
            "--prompt", "10000", "--cached", "2000", "--cache-write", "3000",
            "--cache-write-1h", "1000", "--completion", "800", "--reasoning", "300",
            *PRICES, "--json",
        ).output
    )  # fmt: skip
    # 5000 x 5 + 2000 x 0.5 + 2000 x 6.25 + 1000 x 10 + 800 x 25, per MTok
    assert doc["cost_usd"] == 0.0685
    assert [line["component"] for line in doc["lines"]] == [
        "input", "cache_read", "cache_write", "cache_write_1h", "output", "reasoning",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("--model", "mystery", "--prompt", "10"), "unpriced:model_not_found"),
        (("--model", "gpt-4o", "--prompt", "10", "--cached", "11"), "unpriced:invalid_usage"),
        (("--model", "whisper-1", "--prompt", "10"), "unpriced:no_input_price"),
    ],
)
def test_cost_unpriced_says_why(args: tuple[str, ...], reason: str) -> None:
    result = run("prices", "cost", *args, *PRICES, code=1)
    assert f"Error: {reason}: " in result.stderr
    doc = json.loads(run("prices", "cost", *args, *PRICES, "--json", code=1).stdout)
    assert (doc["cost_usd"], doc["pricing"]) == (None, reason)
    assert doc["detail"]


def test_cost_rejects_negative_counts() -> None:
    result = run("prices", "cost", "--model", "gpt-4o", "--prompt", "-1", *PRICES, code=2)
    assert "Invalid value for '--prompt'" in result.stderr


# --- update ---------------------------------------------------------------------------------


class Server:
    def __init__(self, body: bytes, status: int = 200) -> None:
        self.hits = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits += 1
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/prices.json"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[Server] = []

    def start(body: bytes, status: int = 200) -> Server:
        servers.append(Server(body, status))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_update_from_url_then_show_uses_the_fresh_cache(isolated: Path, serve: Any) -> None:
    url = serve(FIXTURE.read_bytes()).url
    out = run("prices", "update", "--url", url).output
    assert re.match(
        rf"updated {isolated}/litellm_prices.json: litellm:[0-9a-f]{{12}}, 222 models", out
    )
    assert (isolated / "litellm_prices.json").read_bytes() == FIXTURE.read_bytes()
    doc = json.loads(run("prices", "show", "gpt-4o", "--json").output)  # no fetch: fresh cache
    assert doc["table"]["source"].endswith("(fresh cache)")


def test_update_from_path_json(isolated: Path) -> None:
    doc = json.loads(run("prices", "update", "--path", str(FIXTURE), "--json").output)
    assert doc["cache"] == str(isolated / "litellm_prices.json")
    assert (doc["models"], doc["skipped"], doc["source"]) == (222, 0, str(FIXTURE))


def test_update_refuses_garbage_and_keeps_the_old_cache(isolated: Path, serve: Any) -> None:
    isolated.mkdir(parents=True)
    cached = isolated / "litellm_prices.json"
    cached.write_bytes(FIXTURE.read_bytes())
    old = time.time() - 3 * 86400
    os.utime(cached, (old, old))
    result = run("prices", "update", "--url", serve(b"<html>oops</html>").url, code=1)
    assert "Error: cannot update prices: not a JSON document" in result.stderr
    assert cached.read_bytes() == FIXTURE.read_bytes()
    result = run("prices", "update", "--url", serve(b"", 503).url, code=1)
    assert "HTTP 503" in result.stderr


def test_update_without_network_fails_clearly() -> None:
    result = run("prices", "update", "--timeout", "2", code=1)  # LiteLLM's URL; DNS refused
    assert "Error: cannot update prices: cannot fetch" in result.stderr


def test_update_url_and_path_are_exclusive() -> None:
    result = run(
        "prices", "update", "--url", "http://127.0.0.1:9/x", "--path", str(FIXTURE), code=2
    )
    assert "give --url or --path, not both" in result.stderr


def test_offline_fetches_nothing_not_even_the_url_in_the_environment(
    isolated: Path, serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(FIXTURE.read_bytes())
    monkeypatch.setenv("CONVLOG_PRICES_URL", server.url)
    isolated.mkdir(parents=True)
    (isolated / "litellm_prices.json").write_bytes(FIXTURE.read_bytes())
    result = run("prices", "show", "gpt-4o", "--offline", "--json")
    assert json.loads(result.stdout)["table"]["source"].endswith("(fresh cache)")
    assert f"warning: offline: not fetching prices from {server.url}" in result.stderr
    assert server.hits == 0
    run("prices", "show", "gpt-4o", "--json")  # without --offline the URL is the source
    assert server.hits == 1


def test_cost_total_of_a_tiny_call_is_in_plain_notation() -> None:
    out = run("prices", "cost", "--model", "gpt-4o", "--prompt", "10", *PRICES).output
    assert out.rstrip().endswith("total  $0.000025")


def test_show_text_rows_have_no_trailing_spaces() -> None:
    out = run("prices", "show", "gpt-4o", *PRICES).output
    assert all(line == line.rstrip() for line in out.splitlines())
