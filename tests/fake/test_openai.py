"""The fake speaks OpenAI Chat Completions well enough for the real ``openai`` SDK: replies,
streams, tool calls, usage, delays and failures arrive as the SDK's own types and errors."""

from __future__ import annotations

import time

import openai
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
WEATHER = ToolCall(id="call_w1", name="get_weather", arguments='{"city": "Paris", "unit": "c"}')
TIME = ToolCall(name="get_time", arguments=("{", '"zone"', ": ", '"CET"', "}"))
# The SDK's stream helper parses the arguments of strict function tools only.
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": name,
            "parameters": {
                "type": "object",
                "properties": {key: {"type": "string"} for key in keys},
                "required": list(keys),
                "additionalProperties": False,
            },
            "strict": True,
        },
    }
    for name, keys in [("get_weather", ("city", "unit")), ("get_time", ("zone",))]
]


def test_a_reply_arrives_as_a_chat_completion_with_the_scripted_usage(server, oai):
    server.add(Reply(text="Hi there!", usage=USAGE))
    completion = oai.chat.completions.create(model="gpt-4o-mini", messages=USER)

    choice = completion.choices[0]
    assert choice.message.content == "Hi there!"
    assert choice.message.role == "assistant"
    assert choice.finish_reason == "stop"
    assert completion.model == "gpt-4o-mini"  # echoed from the request
    usage = completion.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (1200, 300, 1500)
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 1000
    assert usage.prompt_tokens_details.cache_write_tokens == 100
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 120


def test_a_scripted_model_name_replaces_the_requested_one(server, oai):
    server.add(Reply(text="ok", model="gpt-4o-mini-2024-07-18"))
    completion = oai.chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert completion.model == "gpt-4o-mini-2024-07-18"


def test_tool_calls_arrive_whole_with_null_content(server, oai):
    server.add(Reply(tool_calls=(WEATHER, TIME)))
    message = oai.chat.completions.create(model="m", messages=USER).choices[0].message

    assert message.content is None
    assert message.tool_calls is not None
    calls = [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls]
    assert calls == [
        ("call_w1", "get_weather", '{"city": "Paris", "unit": "c"}'),
        ("call_1_1", "get_time", '{"zone": "CET"}'),  # unscripted id: request 1, call 1
    ]


def test_a_stream_sends_a_role_chunk_then_the_text_pieces_then_the_finish(server, oai):
    server.add(Reply(text=("Hel", "lo", ", world")))
    chunks = list(oai.chat.completions.create(model="m", messages=USER, stream=True))

    deltas = [c.choices[0].delta for c in chunks]
    assert deltas[0].role == "assistant"
    assert deltas[0].content == ""  # the keep-alive first chunk carries no text
    assert [d.content for d in deltas[1:-1]] == ["Hel", "lo", ", world"]
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks)  # no include_usage, no usage chunk
    assert len({c.id for c in chunks}) == 1


def test_without_keepalive_the_role_rides_on_the_first_text_chunk(server, oai):
    server.add(Reply(text=("a", "b"), keepalive=False))
    chunks = list(oai.chat.completions.create(model="m", messages=USER, stream=True))
    first = chunks[0].choices[0].delta
    assert (first.role, first.content) == ("assistant", "a")


def test_usage_is_streamed_as_a_last_chunk_only_when_asked_for(server, oai):
    server.add(Reply(text="Hi", usage=USAGE))
    chunks = list(
        oai.chat.completions.create(
            model="m", messages=USER, stream=True, stream_options={"include_usage": True}
        )
    )
    *content, last = chunks
    assert all(c.usage is None for c in content)
    assert last.choices == []
    assert last.usage is not None
    assert last.usage.prompt_tokens == 1200
    assert last.usage.prompt_tokens_details is not None
    assert last.usage.prompt_tokens_details.cached_tokens == 1000


def test_the_stream_helper_rebuilds_tool_calls_and_usage_exactly(server, oai):
    server.add(Reply(text="Checking.", tool_calls=(WEATHER, TIME), usage=USAGE))
    with oai.chat.completions.stream(
        model="m", messages=USER, tools=TOOLS, stream_options={"include_usage": True}
    ) as stream:
        completion = stream.get_final_completion()

    message = completion.choices[0].message
    assert message.content == "Checking."
    assert completion.choices[0].finish_reason == "tool_calls"
    assert message.tool_calls is not None
    weather, clock = message.tool_calls
    assert (weather.id, weather.function.name) == ("call_w1", "get_weather")
    assert weather.function.arguments == WEATHER.arguments
    assert weather.function.parsed_arguments == {"city": "Paris", "unit": "c"}
    assert clock.function.parsed_arguments == {"zone": "CET"}
    assert clock.id.startswith("call_")
    assert completion.usage is not None
    assert completion.usage.model_dump(exclude_none=True) == {
        "prompt_tokens": 1200,
        "completion_tokens": 300,
        "total_tokens": 1500,
        "prompt_tokens_details": {
            "cached_tokens": 1000,
            "cache_write_tokens": 100,
            "audio_tokens": 0,
        },
        "completion_tokens_details": {
            "reasoning_tokens": 120,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def test_tool_call_deltas_are_incremental_as_the_api_sends_them(server, oai):
    server.add(Reply(tool_calls=(TIME,)))
    chunks = list(oai.chat.completions.create(model="m", messages=USER, stream=True))
    calls = [d for c in chunks for d in (c.choices[0].delta.tool_calls or [])]

    opening, *rest = calls
    assert opening.id is not None
    assert opening.function is not None
    assert (opening.index, opening.type, opening.function.name) == (0, "function", "get_time")
    assert opening.function.arguments == ""
    assert all(d.id is None and d.type is None and d.index == 0 for d in rest)
    assert [d.function.arguments for d in rest if d.function] == list(TIME.arguments)


def test_reasoning_text_streams_as_reasoning_content(server, oai):
    server.add(Reply(reasoning=("Let me ", "think."), text="42"))
    chunks = list(oai.chat.completions.create(model="m", messages=USER, stream=True))
    extras = [c.choices[0].delta.model_extra or {} for c in chunks if c.choices]
    assert "".join(e.get("reasoning_content", "") for e in extras) == "Let me think."
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "42"


def test_the_first_content_chunk_waits_for_the_delay_the_role_chunk_does_not(server, oai):
    server.add(Reply(text=("a", "b", "c"), first_chunk_delay=0.4, chunk_delay=0.05))
    started = time.monotonic()
    arrivals = []
    for chunk in oai.chat.completions.create(model="m", messages=USER, stream=True):
        arrivals.append((time.monotonic() - started, chunk.choices[0].delta.content))
    elapsed = time.monotonic() - started

    role_at = arrivals[0][0]
    first_text_at = next(at for at, text in arrivals if text)
    assert role_at < first_text_at
    assert 0.4 <= first_text_at < 0.4 + 5
    assert elapsed >= 0.4 + 2 * 0.05


def test_a_non_streamed_reply_takes_as_long_as_its_stream_would(server, oai):
    server.add(Reply(text=("a", "b", "c"), first_chunk_delay=0.2, chunk_delay=0.1))
    started = time.monotonic()
    oai.chat.completions.create(model="m", messages=USER)
    assert 0.2 + 2 * 0.1 <= time.monotonic() - started < 5


def test_429_raises_rate_limit_error_with_the_api_body_and_retry_after(server, oai):
    server.add(StatusError(status=429, retry_after=7))
    with pytest.raises(openai.RateLimitError) as caught:
        oai.chat.completions.create(model="m", messages=USER)
    error = caught.value
    assert error.status_code == 429
    assert error.response.headers["retry-after"] == "7"
    assert error.code == "rate_limit_exceeded"
    assert error.type == "requests"
    assert error.request_id == "req_fake1"


def test_500_raises_internal_server_error(server, oai):
    server.add(StatusError(status=500, message="boom"))
    with pytest.raises(openai.InternalServerError, match="boom") as caught:
        oai.chat.completions.create(model="m", messages=USER)
    assert caught.value.type == "server_error"


def test_the_sdk_retries_a_scripted_error_when_retries_are_on(server):
    server.add(StatusError(status=429, retry_after=0.01), Reply(text="second time lucky"))
    with openai.OpenAI(base_url=server.openai_base_url, api_key="k", max_retries=1) as client:
        completion = client.chat.completions.create(model="m", messages=USER)
    assert completion.choices[0].message.content == "second time lucky"
    assert [r.headers["x-stainless-retry-count"] for r in server.requests] == ["0", "1"]


def test_should_retry_false_stops_the_sdk_retrying(server):
    server.add(StatusError(status=503, should_retry=False), Reply(text="never reached"))
    with (
        openai.OpenAI(base_url=server.openai_base_url, api_key="k", max_retries=3) as client,
        pytest.raises(openai.InternalServerError),
    ):
        client.chat.completions.create(model="m", messages=USER)
    assert len(server.requests) == 1
    assert server.remaining == 1


def test_a_dropped_stream_raises_after_the_chunks_it_sent(server, oai):
    server.add(Reply(text=("a", "b", "c", "d"), drop_after=2))
    received = []
    with pytest.raises(openai.APIConnectionError):  # noqa: PT012 - the error comes mid-loop
        for chunk in oai.chat.completions.create(model="m", messages=USER, stream=True):
            received.append(chunk.choices[0].delta.content)
    assert [text for text in received if text] == ["a", "b"]


def test_a_dropped_non_streamed_request_raises_a_connection_error(server, oai):
    server.add(Reply(text="never sent", drop_after=0), Reply(text="next"))
    with pytest.raises(openai.APIConnectionError):
        oai.chat.completions.create(model="m", messages=USER)
    # The next request gets a fresh connection and the next step.
    assert (
        oai.chat.completions.create(model="m", messages=USER).choices[0].message.content == "next"
    )


def test_an_exhausted_script_answers_500_naming_the_request(server, oai):
    with pytest.raises(openai.InternalServerError, match="no step for request 1"):
        oai.chat.completions.create(model="m", messages=USER)


def test_the_request_is_recorded_as_the_sdk_sent_it(server, oai):
    history = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
        ]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ]  # fmt: skip
    server.add(Reply(text="Sunny."))
    oai.chat.completions.create(model="gpt-4o", messages=history, temperature=0)

    (request,) = server.requests
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.body == {"model": "gpt-4o", "messages": history, "temperature": 0}
    assert request.headers["content-type"] == "application/json"
    assert "authorization" not in request.headers


@pytest.mark.anyio
async def test_the_async_client_streams_text_and_usage(server: FakeProvider, async_oai):
    server.add(Reply(text="async hello", usage=USAGE))
    stream = await async_oai.chat.completions.create(
        model="m", messages=USER, stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "async hello"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 300


@pytest.mark.anyio
async def test_the_async_stream_helper_rebuilds_tool_calls(server: FakeProvider, async_oai):
    server.add(Reply(tool_calls=(WEATHER,)))
    async with async_oai.chat.completions.stream(model="m", messages=USER, tools=TOOLS) as stream:
        completion = await stream.get_final_completion()
    (call,) = completion.choices[0].message.tool_calls or []
    assert call.function.parsed_arguments == {"city": "Paris", "unit": "c"}
