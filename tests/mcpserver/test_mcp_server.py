"""``convlog mcp`` against a store written by ``convlog demo``, driven by the MCP SDK's own
client: over stdio (as Claude Desktop starts it), over streamable HTTP on 127.0.0.1, and in
process for the error paths."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError

import eventstore
from harness.mcp_server import RESOURCE_PREFIX, build_server, resource_uri
from schemas import Messages

ROOT = Path(__file__).resolve().parents[2]
CONVLOG = [sys.executable, "-m", "harness.cli"]

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def environment() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith(("CONVLOG_", "OPENAI_"))}


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store as ``convlog demo`` writes it: a conversation and its forecaster child."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    done = subprocess.run(
        [*CONVLOG, "demo", "--store", str(path)],
        capture_output=True,
        text=True,
        env=environment(),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return path


def stdio(path: Path, *extra: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "harness.cli", "mcp", "--store", str(path), *extra],
        env=environment(),
        cwd=str(ROOT),
    )


def payload(result: types.CallToolResult) -> dict[str, Any]:
    (block,) = result.content
    assert isinstance(block, types.TextContent)
    data: dict[str, Any] = json.loads(block.text)
    return data


async def events_in(path: Path) -> int:
    async with eventstore.connect(f"sqlite:///{path}", read_only=True) as store:
        return len([e async for e in store.read_all()])


async def test_an_mcp_client_lists_and_calls_the_tools_over_stdio(demo_store: Path) -> None:
    before = await events_in(demo_store)
    async with Client(stdio(demo_store)) as client:
        listed = await client.list_tools()
        assert [t.name for t in listed.tools] == [
            "list_conversation_events",
            "get_conversation_cost",
        ]
        assert listed.tools[0].input_schema["properties"]["limit"]["maximum"] == 200

        resources = (await client.list_resources()).resources
        main = next(r for r in resources if r.title == "Trip to Paris (convlog demo)")
        cid = main.name
        assert main.uri == resource_uri(cid)
        assert len(resources) == 2  # the conversation and its forecaster sub-agent

        page = payload(
            await client.call_tool(
                "list_conversation_events",
                {"conversation_id": cid, "kinds": ["messages"], "limit": 3},
            )
        )
        assert len(page["events"]) == 3
        assert page["next_cursor"] is not None
        newest = page["events"][0]
        assert newest["role"] == "assistant"
        assert newest["usage"]["model"] == "gpt-4o-mini"
        assert newest["usage"]["cost_usd"] > 0
        rest = payload(
            await client.call_tool(
                "list_conversation_events",
                {"conversation_id": cid, "kinds": ["messages"], "cursor": page["next_cursor"]},
            )
        )
        seen = [e["version"] for e in page["events"] + rest["events"]]
        assert seen == sorted(seen, reverse=True)
        assert len(set(seen)) == len(seen)

        cost = await client.call_tool(
            "get_conversation_cost", {"conversation_id": cid, "include_children": True}
        )
        assert not cost.is_error
        totals = payload(cost)
        assert totals == cost.structured_content
        assert totals["conversations"] == 2
        assert {row["model"] for row in totals["by_model"]} == {"gpt-4o-mini", "gpt-4o"}
        assert totals["total"]["calls"] == 5

        read = await client.read_resource(main.uri)
        (contents,) = read.contents
        assert isinstance(contents, types.TextResourceContents)
        document = json.loads(contents.text)
        assert document["conversation"]["conversation_id"] == cid
        assert document["newest_events"][0]["version"] == document["conversation"]["events"]

        # Read-only: there is no append tool, and nothing was written.
        refused = await client.call_tool("append_message", {"conversation_id": cid})
        assert refused.is_error
        assert "no tool 'append_message'" in payload(refused)["error"]
    assert await events_in(demo_store) == before


async def test_allow_append_offers_an_append_tool(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    async with Client(stdio(path, "--allow-append")) as client:
        assert "append_message" in [t.name for t in (await client.list_tools()).tools]
        for text in ("remember: the budget is $5", "noted"):
            done = await client.call_tool(
                "append_message",
                {"conversation_id": "notes", "role": "user", "content": text, "title": "Notes"},
            )
            assert not done.is_error, done.content
        assert payload(done) == {"conversation_id": "notes", "version": 3}
        bad = await client.call_tool(
            "append_message", {"conversation_id": "notes", "role": "robot", "content": "x"}
        )
        assert bad.is_error
        assert payload(bad)["error"].startswith("role: expected user")
    async with eventstore.connect(f"sqlite:///{path}", read_only=True) as store:
        events = [e async for e in store.read("notes")]
        assert (await store.get_conversation("notes")).title == "Notes"
    assert [e.harness for e in events][-1].startswith("convlog-mcp/")
    assert isinstance(events[1].data, Messages)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def http_server(demo_store: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [*CONVLOG, "mcp", "--store", str(demo_store), "--http", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment(),
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.communicate(timeout=30)


async def test_streamable_http_on_the_loopback_serves_the_same_tools(http_server: str) -> None:
    async with Client(http_server) as client:
        names = [t.name for t in (await client.list_tools()).tools]
        assert names == ["list_conversation_events", "get_conversation_cost"]
        (first, *_) = (await client.list_resources()).resources
        page = payload(
            await client.call_tool("list_conversation_events", {"conversation_id": first.name})
        )
        assert page["events"]


# --- in process: the error paths ------------------------------------------------------------


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[eventstore.Store]:
    async with eventstore.connect(f"sqlite:///{tmp_path}/s.db") as opened:
        yield opened


async def test_a_wrong_argument_is_a_tool_error_naming_it(store: eventstore.Store) -> None:
    async with Client(build_server(store)) as client:
        result = await client.call_tool(
            "list_conversation_events", {"conversation_id": "x", "limit": 0}
        )
        assert result.is_error
        assert payload(result) == {"error": "limit: expected an integer 1..200, got 0"}
        missing = await client.call_tool("get_conversation_cost", {"conversation_id": "nope"})
        assert payload(missing) == {"error": "conversation_id: no conversation 'nope'"}


async def test_reading_a_resource_that_is_not_a_conversation_is_an_error(
    store: eventstore.Store,
) -> None:
    async with Client(build_server(store)) as client:
        with pytest.raises(MCPError, match="no conversation 'nope'"):
            await client.read_resource(RESOURCE_PREFIX + "nope")
        with pytest.raises(MCPError, match="not a convlog conversation"):
            await client.read_resource("file:///etc/passwd")
        templates = (await client.list_resource_templates()).resource_templates
        assert templates[0].uri_template == RESOURCE_PREFIX + "{conversation_id}"


async def test_resources_page_through_every_conversation(store: eventstore.Store) -> None:
    from schemas import ConversationCreated

    for i in range(120):
        await store.append(f"c{i:03}", [ConversationCreated(title=f"t{i}")])
    async with Client(build_server(store)) as client:
        names: list[str] = []
        cursor = None
        while True:
            page = await client.list_resources(cursor=cursor)
            names += [r.name for r in page.resources]
            cursor = page.next_cursor
            if cursor is None:
                break
    assert sorted(names) == [f"c{i:03}" for i in range(120)]
