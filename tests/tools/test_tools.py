"""The agent tools of ``harness.tools``: pages that see every event once, outputs that never
exceed their bound whatever the store holds, cost totals that agree with ``convlog cost``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eventstore
from harness import tools
from harness.cli._spend import from_events
from harness.tools import MAX_OUTPUT_BYTES, PREVIEW_CHARS, ToolError
from schemas import (
    EVENT_TYPES,
    Body,
    ConversationCreated,
    Custom,
    ErrorEvent,
    Message,
    Messages,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    UsageRecord,
)
from schemas.strategies import bodies, from_schema

T = TypeVar("T")
CID = "conv-1"


def run(main: Callable[[eventstore.Store], Awaitable[T]], url: str = "sqlite://:memory:") -> T:
    async def go() -> T:
        async with eventstore.connect(url) as store:
            return await main(store)

    return asyncio.run(go())


async def fill(store: eventstore.Store, events: list[Body], cid: str = CID) -> None:
    # One append an event: each gets its own version, as a long conversation has them.
    for body in events:
        await store.append(cid, [body])


async def call(store: eventstore.Store, name: str, **arguments: Any) -> dict[str, Any]:
    text = await tools.call(store, name, arguments)
    assert len(text.encode()) <= MAX_OUTPUT_BYTES
    out: dict[str, Any] = json.loads(text)
    return out


async def every_page(store: eventstore.Store, **arguments: Any) -> list[list[dict[str, Any]]]:
    pages = []
    cursor = arguments.pop("cursor", None)
    while True:
        extra = {} if cursor is None else {"cursor": cursor}
        page = await call(store, "list_conversation_events", **arguments, **extra)
        pages.append(page["events"])
        cursor = page["next_cursor"]
        if cursor is None:
            assert page["next"] == "no more events"
            return pages
        assert cursor in page["next"]
        assert len(pages) < 10_000


@contextmanager
def scan_limit(limit: int) -> Iterator[None]:
    saved = tools.SCAN_LIMIT
    tools.SCAN_LIMIT = limit
    try:
        yield
    finally:
        tools.SCAN_LIMIT = saved


# --- paging ---------------------------------------------------------------------------------


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    events=st.lists(bodies().filter(lambda b: not isinstance(b, ConversationCreated)), max_size=40),
    limit=st.integers(1, 7),
    kinds=st.none() | st.sets(st.sampled_from(sorted(EVENT_TYPES)), max_size=4).map(sorted),
    direction=st.sampled_from(["newest_first", "oldest_first", None]),
    scan=st.sampled_from([1, 3, 2000]),
)
def test_pages_list_every_matching_event_once_in_order(
    events: list[Body],
    limit: int,
    kinds: list[str] | None,
    direction: str | None,
    scan: int,
) -> None:
    events = [ConversationCreated(title="t"), *events]
    arguments: dict[str, Any] = {"conversation_id": CID, "limit": limit}
    if kinds is not None:
        arguments["kinds"] = kinds
    if direction is not None:
        arguments["direction"] = direction

    async def main(store: eventstore.Store) -> list[list[dict[str, Any]]]:
        await fill(store, events)
        with scan_limit(scan):
            return await every_page(store, **arguments)

    pages = run(main)
    expected = [
        version
        for version, body in enumerate(events, 1)
        if kinds is None or body.__struct_config__.tag in kinds  # type: ignore[union-attr]
    ]
    if direction in (None, "newest_first"):
        expected.reverse()
    seen = [event["version"] for page in pages for event in page]
    assert seen == expected
    assert all(len(page) <= limit for page in pages)
    if scan >= 2 * limit:  # a page is short only where the conversation ends
        assert all(len(page) == limit for page in pages[:-1]) or kinds is not None


def test_a_page_started_before_appends_goes_on_where_it_stopped() -> None:
    async def main(store: eventstore.Store) -> tuple[list[int], list[int]]:
        await fill(
            store, [Messages(messages=[Message(role="user", content=f"{i}")]) for i in range(5)]
        )
        first = await call(store, "list_conversation_events", conversation_id=CID, limit=2)
        await fill(store, [Messages(messages=[Message(role="user", content="late")])])
        rest = await every_page(store, conversation_id=CID, limit=2, cursor=first["next_cursor"])
        return [e["version"] for e in first["events"]], [e["version"] for p in rest for e in p]

    first, rest = run(main)
    # Newest first: the page after the first one goes on downwards; the late event is on top
    # of a new listing, not slipped into this one.
    assert (first, rest) == ([5, 4], [3, 2, 1])


# --- bounds ---------------------------------------------------------------------------------

# Characters JSON escapes (6 bytes each), four-byte ones, and plain ones.
CHARS = st.sampled_from(["\x01", '"', "😀", "é", "a", "\\"])


@st.composite
def huge_bodies(draw: st.DrawFn) -> Body:
    """Events whose every string may be far past any preview."""

    def text() -> str:
        return draw(CHARS) * draw(st.sampled_from([0, 1, 300, 5000, 100_000]))

    def name() -> str:
        return draw(st.sampled_from(["a", "😀"])) * draw(st.sampled_from([1, 80, 3000]))

    kind = draw(st.sampled_from(["messages", "error", "custom"]))
    if kind == "error":
        return ErrorEvent(message=text(), error_type=name(), status_code=500, duration_ms=12)
    if kind == "custom":
        return Custom(event_type="acme.plan", payload={"text": text(), "n": [1, 2, 3]})
    parts = [
        TextPart(text=text()),
        ToolCallPart(id="c1", name=name(), arguments=text()),
        ToolResultPart(tool_call_id="c1", content=text()),
        ReasoningPart(text=text()),
    ]
    count = draw(st.integers(1, 30))
    usage = UsageRecord(
        model=name(),
        provider=name(),
        prompt_tokens=10,
        completion_tokens=5,
        cost_usd=draw(st.none() | st.just(1e-300) | st.just(123456.789012345)),
        pricing=name(),
        ttft_ms=1,
        duration_ms=2,
    )
    return Messages(
        messages=[Message(role=draw(st.sampled_from(["user", "assistant", "tool"])), content=parts)]
        * count,
        usage=draw(st.none() | st.just(usage)),
    )


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    events=st.lists(huge_bodies(), min_size=1, max_size=12),
    cid=st.sampled_from([CID, "😀" * 200, "é" * 200]),
    limit=st.sampled_from([1, 50, 200]),
)
def test_no_output_exceeds_the_bound_and_every_page_makes_progress(
    events: list[Body], cid: str, limit: int
) -> None:
    events = [ConversationCreated(title="😀" * 100_000), *events]

    async def main(store: eventstore.Store) -> list[list[dict[str, Any]]]:
        await fill(store, events, cid)
        # ``call`` checks each output's size; every page holds at least one event.
        pages = await every_page(store, conversation_id=cid, limit=limit)
        await call(store, "get_conversation_cost", conversation_id=cid, include_children=True)
        return pages

    pages = run(main)
    assert all(pages)
    assert sum(len(page) for page in pages) == len(events)
    for event in (event for page in pages for event in page):
        assert len(event.get("preview", "")) <= PREVIEW_CHARS


def test_the_page_stops_at_the_byte_bound_before_the_limit() -> None:
    big = "\x01" * 100_000  # each escaped as \u0001 up to the preview's length
    events: list[Body] = [ErrorEvent(message=big, error_type="x" * 3000)] * 200

    async def main(store: eventstore.Store) -> list[list[dict[str, Any]]]:
        await fill(store, events)
        return await every_page(store, conversation_id=CID, limit=200)

    pages = run(main)
    assert len(pages) > 1
    assert sum(len(page) for page in pages) == 200


def test_a_preview_is_the_start_of_the_text_and_says_how_long_it_is() -> None:
    message = Message(
        role="assistant",
        content=[
            TextPart(text="Let me check. "),
            ToolCallPart(id="c", name="get_weather", arguments='{"city": "Paris"}'),
        ],
    )
    long = Message(role="user", content="x" * 10_000)

    async def main(store: eventstore.Store) -> list[dict[str, Any]]:
        await fill(store, [Messages(messages=[message]), Messages(messages=[long])])
        page = await call(
            store, "list_conversation_events", conversation_id=CID, direction="oldest_first"
        )
        events: list[dict[str, Any]] = page["events"]
        return events

    short, cut = run(main)
    assert short["preview"] == 'Let me check.  get_weather({"city": "Paris"})'
    assert "chars" not in short
    assert cut["preview"] == "x" * (PREVIEW_CHARS - 1) + "…"
    assert cut["chars"] == 10_000


def test_usage_comes_with_its_cost_and_timing_and_unpriced_is_null() -> None:
    priced = UsageRecord(
        model="gpt-4o", provider="openai", prompt_tokens=100, completion_tokens=10,
        prompt_cached_tokens=50, cost_usd=0.0012, pricing="litellm:abc", ttft_ms=200, duration_ms=900,
    )  # fmt: skip
    unpriced = UsageRecord(model="mystery", prompt_tokens=1, completion_tokens=1)
    answer = Message(role="assistant", content="hi")

    async def main(store: eventstore.Store) -> list[dict[str, Any]]:
        await fill(
            store,
            [
                Messages(messages=[answer], usage=priced),
                Messages(messages=[answer], usage=unpriced),
            ],
        )
        page = await call(
            store, "list_conversation_events", conversation_id=CID, kinds=["messages"]
        )
        events: list[dict[str, Any]] = page["events"]
        return events

    second, first = run(main)
    assert first["usage"] == {
        "model": "gpt-4o", "provider": "openai", "prompt_tokens": 100, "completion_tokens": 10,
        "cached_tokens": 50, "cost_usd": 0.0012, "pricing": "litellm:abc", "ttft_ms": 200,
        "duration_ms": 900,
    }  # fmt: skip
    assert first["role"] == "assistant"
    assert second["usage"]["cost_usd"] is None


# --- cost -----------------------------------------------------------------------------------

usages = st.builds(
    UsageRecord,
    model=st.sampled_from(["gpt-4o", "gpt-4o-mini", "claude"]),
    prompt_tokens=st.integers(0, 10_000),
    completion_tokens=st.integers(0, 1000),
    cost_usd=st.none() | st.floats(0, 10, allow_nan=False, allow_infinity=False),
)


@given(
    parent=st.lists(usages, max_size=8),
    child=st.lists(usages, max_size=8),
    include_children=st.booleans(),
)
def test_cost_by_model_agrees_with_the_cost_command(
    parent: list[UsageRecord], child: list[UsageRecord], include_children: bool
) -> None:
    answer = Message(role="assistant", content="ok")

    async def main(store: eventstore.Store) -> tuple[dict[str, Any], Any]:
        await fill(
            store, [ConversationCreated(), *(Messages(messages=[answer], usage=u) for u in parent)]
        )
        await fill(
            store,
            [
                ConversationCreated(parent_id=CID),
                *(Messages(messages=[answer], usage=u) for u in child),
            ],
            "child",
        )
        got = await call(
            store, "get_conversation_cost", conversation_id=CID, include_children=include_children
        )
        report = await from_events(store, CID, include_children, "model", (None, None), None)
        return got, report

    got, report = run(main)
    assert got["conversations"] == (2 if include_children else 1) == report.conversations
    total = report.total.totals
    assert got["total"]["calls"] == total.calls
    assert got["total"]["unpriced_calls"] == total.unpriced_calls
    assert got["total"]["cost_usd"] == total.cost_usd
    assert {
        row["model"]: (row["calls"], row["unpriced_calls"], row["cost_usd"])
        for row in got["by_model"]
    } == {
        row.key: (row.totals.calls, row.totals.unpriced_calls, row.totals.cost_usd)
        for row in report.rows
    }
    assert ("note" in got) == (total.unpriced_calls > 0)


def test_cost_lists_the_costliest_models_and_counts_the_rest() -> None:
    answer = Message(role="assistant", content="ok")
    events: list[Body] = [
        Messages(messages=[answer], usage=UsageRecord(model=f"m{i:03}", cost_usd=float(i)))
        for i in range(tools.MAX_MODELS + 7)
    ]

    async def main(store: eventstore.Store) -> dict[str, Any]:
        await fill(store, events)
        return await call(store, "get_conversation_cost", conversation_id=CID)

    got = run(main)
    assert len(got["by_model"]) == tools.MAX_MODELS
    assert got["more_models"] == 7
    assert got["by_model"][0]["model"] == f"m{tools.MAX_MODELS + 6:03}"
    assert got["total"]["calls"] == tools.MAX_MODELS + 7


# --- arguments ------------------------------------------------------------------------------


@pytest.mark.parametrize("tool", tools.TOOLS, ids=lambda t: t.name)
def test_the_parameters_are_a_valid_json_schema(tool: tools.Tool) -> None:
    jsonschema.Draft202012Validator.check_schema(tool.parameters)
    definition = tool.definition()
    assert definition["function"]["name"] == tool.name
    assert tools.tool(tool.name) is tool


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
@pytest.mark.parametrize("tool", tools.TOOLS, ids=lambda t: t.name)
def test_any_arguments_the_schema_allows_are_accepted(
    tool: tools.Tool, data: st.DataObject
) -> None:
    schema = dict(tool.parameters)
    schema["properties"] = {
        k: v for k, v in schema["properties"].items() if k not in ("cursor", "conversation_id")
    }
    arguments = data.draw(from_schema(schema))

    async def main(store: eventstore.Store) -> dict[str, Any]:
        await fill(
            store, [ConversationCreated(), Messages(messages=[Message(role="user", content="hi")])]
        )
        text = await tools.call(store, tool.name, json.dumps(arguments), conversation_id=CID)
        out: dict[str, Any] = json.loads(text)
        return out

    assert run(main)["conversation_id"] == CID


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("list_conversation_events", {"limit": 0}, "limit: expected an integer 1..200, got 0"),
        (
            "list_conversation_events",
            {"limit": True},
            "limit: expected an integer 1..200, got True",
        ),
        ("list_conversation_events", {"kinds": ["chat"]}, "kinds[0]: expected one of"),
        ("list_conversation_events", {"direction": "up"}, "direction: expected newest_first"),
        ("list_conversation_events", {"cursor": "%%"}, "cursor: not a cursor"),
        (
            "list_conversation_events",
            {"page": 2},
            "page: unknown argument; arguments: conversation_id",
        ),
        (
            "list_conversation_events",
            {"conversation_id": "nope"},
            "conversation_id: no conversation 'nope'",
        ),
        (
            "get_conversation_cost",
            {"conversation_id": "nope"},
            "conversation_id: no conversation 'nope'",
        ),
        (
            "get_conversation_cost",
            {"include_children": "yes"},
            "include_children: expected true or false",
        ),
        (
            "get_conversation_cost",
            {"conversation_id": ""},
            "conversation_id: expected 1..200 characters",
        ),
        (
            "search_conversation",
            {},
            "name: no tool 'search_conversation'; tools: list_conversation_events",
        ),
    ],
)
def test_a_wrong_argument_is_one_line_naming_it(
    name: str, arguments: dict[str, Any], message: str
) -> None:
    async def main(store: eventstore.Store) -> None:
        await fill(store, [ConversationCreated()])
        await tools.call(store, name, arguments, conversation_id=CID)

    with pytest.raises(ToolError) as error:
        run(main)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)
    assert json.loads(tools.error_text(error.value)) == {"error": str(error.value)}


def test_a_cursor_only_continues_its_own_listing() -> None:
    async def main(store: eventstore.Store) -> None:
        await fill(store, [ConversationCreated(), ErrorEvent(message="a"), ErrorEvent(message="b")])
        page = await call(store, "list_conversation_events", conversation_id=CID, limit=1)
        await tools.call(
            store,
            "list_conversation_events",
            {"conversation_id": CID, "cursor": page["next_cursor"], "direction": "oldest_first"},
        )

    with pytest.raises(
        ToolError, match="cursor: made for another conversation_id, kinds or direction"
    ):
        run(main)


def test_without_a_current_conversation_the_id_is_required() -> None:
    async def main(store: eventstore.Store) -> None:
        await tools.call(store, "get_conversation_cost", "{}")

    with pytest.raises(ToolError, match="conversation_id: required"):
        run(main)


def test_arguments_that_are_not_json_are_refused() -> None:
    async def main(store: eventstore.Store) -> None:
        await tools.call(store, "get_conversation_cost", "{", conversation_id=CID)

    with pytest.raises(ToolError, match="arguments: not valid JSON"):
        run(main)
