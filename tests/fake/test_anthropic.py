"""The fake speaks Anthropic Messages well enough for the real ``anthropic`` SDK: replies,
event streams, thinking, tool use, additive usage, delays and failures arrive as the SDK's own
types and errors."""

from __future__ import annotations

import time

import anthropic
import pytest

from harness.fake import FakeProvider, Reply, StatusError, ToolCall, Usage

from .conftest import USER

USAGE = Usage(
    prompt_tokens=1200,
    completion_tokens=300,
    cached_tokens=1000,
    cache_creation_tokens=100,
    cache_creation_1h_tokens=40,
    reasoning_tokens=120,
)
# The same usage in Anthropic's additive shape: input_tokens counts no cached token.
USAGE_FIELDS = {
    "input_tokens": 100,
    "cache_read_input_tokens": 1000,
    "cache_creation_input_tokens": 100,
    "cache_creation": {"ephemeral_5m_input_tokens": 60, "ephemeral_1h_input_tokens": 40},
    "output_tokens": 300,
    "output_tokens_details": {"thinking_tokens": 120},
    "service_tier": "standard",
}
WEATHER = ToolCall(id="toolu_w1", name="get_weather", arguments='{"city": "Paris", "days": [1, 2]}')
TIME = ToolCall(name="get_time", arguments=("{", '"zone"', ": ", '"CET"', "}"))


def create(client: anthropic.Anthropic, **options: object) -> anthropic.types.Message:
    return client.messages.create(model="claude-x", max_tokens=100, messages=USER, **options)


def test_a_reply_arrives_as_a_message_with_the_scripted_usage(server, claude):
    server.add(Reply(text="Hi there!", usage=USAGE))
    message = create(claude)

    assert [(b.type, b.text) for b in message.content if b.type == "text"] == [
        ("text", "Hi there!")
    ]
    assert message.stop_reason == "end_turn"
    assert message.model == "claude-x"
    assert message.usage.model_dump(exclude_none=True) == USAGE_FIELDS


def test_thinking_text_and_tool_use_are_blocks_in_that_order(server, claude):
    server.add(Reply(reasoning="Hmm.", text="Let me look.", tool_calls=(WEATHER, TIME)))
    message = create(claude)

    assert [b.type for b in message.content] == ["thinking", "text", "tool_use", "tool_use"]
    thinking, _, weather, clock = message.content
    assert thinking.type == "thinking"
    assert thinking.thinking == "Hmm."
    assert thinking.signature
    assert weather.type == "tool_use"
    assert (weather.id, weather.name, weather.input) == (
        "toolu_w1",
        "get_weather",
        {"city": "Paris", "days": [1, 2]},
    )
    assert clock.type == "tool_use"
    assert (clock.id, clock.input) == ("toolu_1_1", {"zone": "CET"})
    assert message.stop_reason == "tool_use"


def test_the_stream_helper_rebuilds_every_block_and_the_usage_exactly(server, claude):
    server.add(
        Reply(
            reasoning=("Hm", "m."),
            text=("Let ", "me ", "look."),
            tool_calls=(WEATHER, TIME),
            usage=USAGE,
        )
    )
    with claude.messages.stream(model="claude-x", max_tokens=100, messages=USER) as stream:
        texts = list(stream.text_stream)
        message = stream.get_final_message()

    assert texts == ["Let ", "me ", "look."]
    thinking, text, weather, clock = message.content
    assert thinking.type == "thinking"
    assert thinking.thinking == "Hmm."
    assert text.type == "text"
    assert text.text == "Let me look."
    assert weather.type == "tool_use"
    assert (weather.id, weather.name, weather.input) == (
        "toolu_w1",
        "get_weather",
        {"city": "Paris", "days": [1, 2]},
    )
    assert clock.type == "tool_use"
    assert clock.input == {"zone": "CET"}
    assert message.stop_reason == "tool_use"
    assert message.usage.model_dump(exclude_none=True) == USAGE_FIELDS


def test_the_event_stream_has_the_api_s_order_and_usage_placement(server, claude):
    server.add(Reply(text=("a", "b"), tool_calls=(TIME,), usage=USAGE))
    events = list(create(claude, stream=True))

    assert [e.type for e in events] == [
        "message_start",  # the SDK skips the ping that follows
        "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
        "content_block_start", *["content_block_delta"] * 5, "content_block_stop",
        "message_delta",
        "message_stop",
    ]  # fmt: skip
    start, delta = events[0], events[-2]
    assert start.type == "message_start"
    assert start.message.content == []
    assert start.message.stop_reason is None
    assert start.message.usage.input_tokens == 100
    assert start.message.usage.output_tokens == 1  # as the API: a token, not the total
    assert delta.type == "message_delta"
    assert delta.usage.output_tokens == 300  # cumulative
    assert delta.usage.cache_read_input_tokens == 1000
    partials = [
        e.delta.partial_json
        for e in events
        if e.type == "content_block_delta" and e.delta.type == "input_json_delta"
    ]
    assert partials == list(TIME.arguments)


def test_a_ping_follows_message_start_unless_keepalive_is_off(server, claude):
    server.add(Reply(text="a"), Reply(text="a", keepalive=False))
    names = []
    for _ in range(2):
        response = claude.messages.with_raw_response.create(
            model="m", max_tokens=1, messages=USER, stream=True
        )
        names.append([e.event for e in anthropic.Stream.raw_events(response.http_response)])
    assert names[0][:2] == ["message_start", "ping"]
    assert "ping" not in names[1]


def test_the_first_delta_waits_for_the_delay_message_start_does_not(server, claude):
    server.add(Reply(text=("a", "b", "c"), first_chunk_delay=0.4, chunk_delay=0.05))
    started = time.monotonic()
    arrivals = [(time.monotonic() - started, e.type) for e in create(claude, stream=True)]
    elapsed = time.monotonic() - started

    start_at = arrivals[0][0]
    first_delta_at = next(at for at, kind in arrivals if kind == "content_block_delta")
    assert start_at < first_delta_at
    assert 0.4 <= first_delta_at < 0.4 + 5
    assert elapsed >= 0.4 + 2 * 0.05


@pytest.mark.parametrize(
    ("status", "error", "kind"),
    [
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (500, anthropic.InternalServerError, "api_error"),
        (529, anthropic.InternalServerError, "overloaded_error"),
        (400, anthropic.BadRequestError, "invalid_request_error"),
    ],
)
def test_status_errors_raise_the_sdk_error_with_the_api_body(server, claude, status, error, kind):
    server.add(StatusError(status=status, retry_after=3))
    with pytest.raises(error) as caught:
        create(claude)
    assert caught.value.status_code == status
    assert caught.value.body == {
        "type": "error",
        "error": {"type": kind, "message": caught.value.body["error"]["message"]},
        "request_id": "req_fake1",
    }
    assert caught.value.response.headers["retry-after"] == "3"
    assert caught.value.request_id == "req_fake1"


def test_a_dropped_stream_raises_after_the_deltas_it_sent(server, claude):
    server.add(Reply(text=("a", "b", "c", "d"), drop_after=3))
    received = []
    with pytest.raises(anthropic.APIConnectionError):  # noqa: PT012 - the error comes mid-loop
        for event in create(claude, stream=True):
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                received.append(event.delta.text)
    assert received == ["a", "b", "c"]


def test_a_drop_before_any_content_raises_in_the_stream_helper(server, claude):
    server.add(Reply(text="never", drop_after=0))
    with (
        pytest.raises(anthropic.APIConnectionError),
        claude.messages.stream(model="m", max_tokens=1, messages=USER) as stream,
    ):
        stream.get_final_message()


def test_the_request_is_recorded_without_the_api_key(server, claude):
    server.add(Reply(text="ok"))
    create(claude, system="Be brief.")

    (request,) = server.requests
    assert (request.method, request.path) == ("POST", "/v1/messages")
    assert request.body == {
        "model": "claude-x",
        "max_tokens": 100,
        "messages": USER,
        "system": "Be brief.",
    }
    assert "x-api-key" not in request.headers
    assert request.headers["anthropic-version"]


@pytest.mark.anyio
async def test_the_async_stream_helper_rebuilds_text_and_usage(server: FakeProvider, async_claude):
    server.add(Reply(text=("async ", "hello"), tool_calls=(WEATHER,), usage=USAGE))
    async with async_claude.messages.stream(model="m", max_tokens=1, messages=USER) as stream:
        message = await stream.get_final_message()
    text, tool = message.content
    assert text.type == "text"
    assert text.text == "async hello"
    assert tool.type == "tool_use"
    assert tool.input == {"city": "Paris", "days": [1, 2]}
    assert message.usage.model_dump(exclude_none=True) == USAGE_FIELDS


@pytest.mark.anyio
async def test_an_async_dropped_stream_raises(server: FakeProvider, async_claude):
    server.add(Reply(text=("a", "b"), drop_after=1))
    stream = await async_claude.messages.create(model="m", max_tokens=1, messages=USER, stream=True)
    with pytest.raises(anthropic.APIConnectionError):
        async for _ in stream:
            pass
