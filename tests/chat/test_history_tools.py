"""The basic harness offers the history tools (``--tools history``): an agent loop in which the
model, scripted on the fake server, reads its own usage through ``list_conversation_events``;
the tool calls and results are events like any others."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import eventstore
from harness.fake import FakeProvider, Reply, ToolCall, Usage
from harness.harnesses.basic import HARNESS, MAX_TOOL_ROUNDS
from harness.plugins import Harness, HarnessContext, HarnessError
from harness.pricing import read_prices
from harness.recorder import Recorder
from schemas import Message, Messages, ToolCallPart

from .support import PRICES, run, stored

pytestmark = pytest.mark.anyio
MODEL = "gpt-4o-mini"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[eventstore.Store]:
    async with eventstore.connect(f"sqlite:///{tmp_path}/convlog.db") as opened:
        yield opened


@pytest.fixture
def recorder(store: eventstore.Store) -> Recorder:
    return Recorder(store, harness="basic/test", prices=read_prices(PRICES))


def build(
    recorder: Recorder, server: FakeProvider, tools: tuple[str, ...] = ("history",)
) -> Harness:
    return HARNESS.factory(
        HarnessContext(
            recorder=recorder,
            session_id="s1",
            base_url=server.openai_base_url,
            model=MODEL,
            api_key="test",
            tools=tools,
        )
    )


def tool_messages(body: dict[str, Any] | None) -> list[dict[str, Any]]:
    assert body is not None
    return [m for m in body["messages"] if m["role"] == "tool"]


async def test_an_agent_reads_its_own_usage_and_cost_through_the_history_tools(
    recorder: Recorder, store: eventstore.Store, server: FakeProvider
) -> None:
    look = ToolCall(
        id="call_look",
        name="list_conversation_events",
        arguments='{"kinds": ["messages"], "limit": 5}',
    )
    server.add(
        Reply(tool_calls=(look,), usage=Usage(prompt_tokens=1234, completion_tokens=21)),
        Reply(
            tool_calls=(ToolCall(id="call_cost", name="get_conversation_cost"),),
            usage=Usage(prompt_tokens=1500, completion_tokens=9),
        ),
        Reply(
            text="I have used 2,734 prompt tokens so far.",
            usage=Usage(prompt_tokens=1700, completion_tokens=12),
        ),
    )
    harness = build(recorder, server)
    try:
        cid = await recorder.start(title="budget")
        turn = await harness.chat_turn(cid, "How many tokens have you used?", lambda _text: None)
    finally:
        await harness.aclose()
    assert turn.reply == "I have used 2,734 prompt tokens so far."

    # Every request offered both tools.
    assert len(server.requests) == 3
    for request in server.requests:
        assert request.body is not None
        offered = [t["function"]["name"] for t in request.body["tools"]]
        assert offered == ["list_conversation_events", "get_conversation_cost"]

    # The model read its own first call: its tokens and persisted cost, newest first.
    (listing,) = tool_messages(server.requests[1].body)
    assert listing["tool_call_id"] == "call_look"
    page = json.loads(listing["content"])
    newest, question = page["events"]
    assert question["role"] == "user"
    assert question["preview"] == "How many tokens have you used?"
    assert newest["role"] == "assistant"
    assert newest["preview"] == 'list_conversation_events({"kinds": ["messages"], "limit": 5})'
    usage = newest["usage"]
    assert (usage["model"], usage["prompt_tokens"], usage["completion_tokens"]) == (MODEL, 1234, 21)
    assert usage["cost_usd"] > 0
    assert usage["duration_ms"] >= 0

    # Then what the two calls so far cost in total.
    cost_result = tool_messages(server.requests[2].body)[-1]
    assert cost_result["tool_call_id"] == "call_cost"
    cost = json.loads(cost_result["content"])
    assert cost["total"]["calls"] == 2
    assert cost["total"]["prompt_tokens"] == 1234 + 1500
    assert cost["by_model"][0]["model"] == MODEL

    # The calls and results are events like any others, in one turn.
    events = [e async for e in store.read(cid)]
    kinds = []
    for event in events[1:]:
        assert isinstance(event.data, Messages)
        content = event.data.messages[0].content
        parts = [type(p).__name__ for p in content] if isinstance(content, list) else []
        kinds.append((event.data.messages[0].role, event.data.usage is not None, parts))
    assert kinds == [
        ("user", False, []),
        ("assistant", True, ["ToolCallPart"]),
        ("tool", False, []),
        ("assistant", True, ["ToolCallPart"]),
        ("tool", False, []),
        ("assistant", True, []),
    ]
    assert len({e.turn_id for e in events[1:]}) == 1
    summary = await store.get_conversation(cid)
    assert summary.totals.calls == 3


async def test_a_wrong_tool_call_gets_its_error_as_the_result(
    recorder: Recorder, store: eventstore.Store, server: FakeProvider
) -> None:
    server.add(
        Reply(
            tool_calls=(
                ToolCall(id="a", name="list_conversation_events", arguments='{"limit": 500}'),
                ToolCall(id="b", name="search_conversation", arguments='{"query": "x"}'),
            ),
            usage=Usage(prompt_tokens=10, completion_tokens=2),
        ),
        Reply(text="sorry", usage=Usage(prompt_tokens=20, completion_tokens=1)),
    )
    harness = build(recorder, server)
    try:
        cid = await recorder.start()
        await harness.chat_turn(cid, "look", lambda _text: None)
    finally:
        await harness.aclose()
    first, second = tool_messages(server.requests[1].body)
    assert json.loads(first["content"]) == {"error": "limit: expected an integer 1..200, got 500"}
    assert json.loads(second["content"])["error"].startswith("name: no tool 'search_conversation'")


async def test_a_model_that_keeps_calling_tools_is_stopped_after_the_rounds(
    recorder: Recorder, server: FakeProvider
) -> None:
    again = Reply(
        tool_calls=(ToolCall(name="get_conversation_cost"),),
        usage=Usage(prompt_tokens=10, completion_tokens=2),
    )
    server.add(*[again] * (MAX_TOOL_ROUNDS + 2))
    harness = build(recorder, server)
    try:
        cid = await recorder.start()
        turn = await harness.chat_turn(cid, "loop", lambda _text: None)
    finally:
        await harness.aclose()
    assert len(server.requests) == MAX_TOOL_ROUNDS
    assert turn.message is not None
    assert any(isinstance(p, ToolCallPart) for p in turn.message.content or [])


async def test_without_tools_nothing_is_offered(recorder: Recorder, server: FakeProvider) -> None:
    server.add(Reply(text="hi", usage=Usage(prompt_tokens=1, completion_tokens=1)))
    harness = build(recorder, server, tools=())
    try:
        cid = await recorder.start()
        await harness.chat_turn(cid, "hello", lambda _text: None)
    finally:
        await harness.aclose()
    (request,) = server.requests
    assert request.body is not None
    assert "tools" not in request.body


async def test_an_unknown_tool_set_is_refused(recorder: Recorder, server: FakeProvider) -> None:
    with pytest.raises(HarnessError, match="no tool set 'web'"):
        build(recorder, server, tools=("web",))


def test_chat_tools_history_from_the_command_line(server: FakeProvider, store_path: Path) -> None:
    server.add(
        Reply(
            tool_calls=(ToolCall(id="c", name="get_conversation_cost", arguments="{}"),),
            usage=Usage(prompt_tokens=100, completion_tokens=5),
        ),
        Reply(text="About a tenth of a cent.", usage=Usage(prompt_tokens=200, completion_tokens=7)),
    )
    done = run(
        "chat", "--base-url", server.openai_base_url, "--model", MODEL, "--store", str(store_path),
        "--prices", str(PRICES), "--tools", "history", "--message", "What did this cost?",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == "About a tenth of a cent.\n"
    events = stored(store_path)
    result = events[3].data
    assert isinstance(result, Messages)
    (message,) = result.messages
    assert (message.role, message.tool_call_id, message.name) == (
        "tool",
        "c",
        "get_conversation_cost",
    )
    assert isinstance(message.content, str)
    assert json.loads(message.content)["total"]["calls"] == 1
    assert Message(role="user", content="What did this cost?") in events[1].data.messages  # type: ignore[union-attr]
