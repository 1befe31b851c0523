"""Anthropic: the SDK's own objects and the API's JSON map alike, both ways."""

from __future__ import annotations

from typing import Any

import pytest
from anthropic.types import (
    Message as SDKMessage,
)
from anthropic.types import (
    MessageDeltaUsage,
    MessageParam,
    RawMessageStreamEvent,
    TextBlockParam,
)
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from harness.providers.anthropic import (
    AnthropicStream,
    message_from_anthropic,
    messages_from_anthropic,
    to_anthropic_request,
    usage_from_anthropic,
)
from schemas import (
    ImagePart,
    Message,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    UnknownPart,
    UsageRecord,
)

from . import strategies as ps
from .support import Clock, events, fixture, stored

EVENTS = TypeAdapter(RawMessageStreamEvent)
REQUEST = TypeAdapter(list[MessageParam])
SYSTEM = TypeAdapter(str | list[TextBlockParam])

EXPECTED_USAGE = UsageRecord(
    model="claude-sonnet-4-5-20250929",
    provider="anthropic",
    prompt_tokens=6000,
    completion_tokens=500,
    prompt_cached_tokens=2000,
    prompt_cache_creation_tokens=3000,
    prompt_cache_creation_1h_tokens=1000,
    service_tier="default",
)
EXPECTED_MESSAGE = Message(
    role="assistant",
    content=[
        ReasoningPart(
            text="The user wants the weather in Paris. I should call the tool.",
            signature="EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds",
        ),
        ReasoningPart(encrypted="EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP"),
        TextPart(text="Let me check the weather in Paris."),
        ToolCallPart(
            id="toolu_01A09q90qw90lq917835lq9",
            name="get_weather",
            arguments='{"city":"Paris","unit":"celsius"}',
        ),
    ],
)


def both(data: dict[str, Any]) -> list[Any]:
    """The JSON, and the SDK's object built from it: validated, and constructed without
    validation as the SDK builds a response it parses."""
    return [data, SDKMessage.model_validate(data), SDKMessage.construct(**data)]


def sdk_events(*, keep_pings: bool = False) -> list[Any]:
    """The captured stream as the SDK's event objects (it has no type for ``ping``, which it
    consumes itself; kept as JSON on request)."""
    return [
        EVENTS.validate_python(e) if e["type"] != "ping" else e
        for e in events("anthropic_stream.jsonl")
        if keep_pings or e["type"] != "ping"
    ]


# --- usage ----------------------------------------------------------------------------------


@pytest.mark.parametrize("response", both(fixture("anthropic_message.json")))
def test_a_whole_message_gives_inclusive_usage_and_its_model(response: Any) -> None:
    assert usage_from_anthropic(response) == EXPECTED_USAGE
    usage = response["usage"] if isinstance(response, dict) else response.usage
    assert usage_from_anthropic(usage, model="claude-sonnet-4-5-20250929") == EXPECTED_USAGE


def test_the_echoed_model_wins_over_the_requested_one() -> None:
    record = usage_from_anthropic(fixture("anthropic_message.json"), model="claude-sonnet-4-5")
    assert record.model == "claude-sonnet-4-5-20250929"


def test_a_usage_block_alone_needs_the_model() -> None:
    with pytest.raises(ValueError, match="pass model="):
        usage_from_anthropic({"input_tokens": 1, "output_tokens": 1})


def test_streaming_delta_usage_alone_is_accepted() -> None:
    """``MessageDeltaUsage``: output counts, input counts only where the API sends them."""
    delta = MessageDeltaUsage.model_validate({"output_tokens": 89})
    record = usage_from_anthropic(delta, model="claude-sonnet-4-5")
    assert (record.prompt_tokens, record.completion_tokens) == (None, 89)
    full = MessageDeltaUsage.model_validate(
        {"input_tokens": 10, "cache_read_input_tokens": 20, "output_tokens": 89}
    )
    assert usage_from_anthropic(full, model="m").prompt_tokens == 30


def test_stream_events_carrying_usage_are_accepted() -> None:
    start, *_, delta, _stop = sdk_events()
    assert usage_from_anthropic(start).prompt_tokens == 472 + 2048
    assert usage_from_anthropic(delta, model="m").completion_tokens == 89


def test_thinking_tokens_are_the_reasoning_share() -> None:
    block = {
        "input_tokens": 5,
        "output_tokens": 50,
        "output_tokens_details": {"thinking_tokens": 30},
    }
    assert usage_from_anthropic(block, model="m").completion_reasoning_tokens == 30


# --- messages -------------------------------------------------------------------------------


@pytest.mark.parametrize("response", both(fixture("anthropic_message.json")))
def test_message_from_a_response(response: Any) -> None:
    reply = message_from_anthropic(response)
    assert reply == EXPECTED_MESSAGE
    stored([reply], usage_from_anthropic(response))


def test_the_reply_replays_as_the_next_request() -> None:
    history = [
        Message(role="system", content="You are terse."),
        Message(role="user", content="Weather in Paris?"),
        EXPECTED_MESSAGE,
        Message(
            role="user",
            content=[ToolResultPart(tool_call_id="toolu_01A09q90qw90lq917835lq9", content="18C")],
        ),
    ]
    request = to_anthropic_request(history)
    assert request["system"] == "You are terse."
    REQUEST.validate_python(request["messages"])  # the SDK's own request types accept it
    assistant = request["messages"][1]["content"]
    assert assistant[0] == {
        "type": "thinking",
        "thinking": "The user wants the weather in Paris. I should call the tool.",
        "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds",
    }
    assert assistant[3]["input"] == {"city": "Paris", "unit": "celsius"}
    assert messages_from_anthropic(request) == history


def test_blocks_no_part_describes_are_sent_back_as_they_came() -> None:
    server_use = {
        "type": "server_tool_use",
        "id": "srvtoolu_1",
        "name": "web_search",
        "input": {"query": "paris"},
    }
    results = {
        "type": "web_search_tool_result",
        "tool_use_id": "srvtoolu_1",
        "content": [
            {
                "type": "web_search_result",
                "url": "https://x.example",
                "title": "X",
                "encrypted_content": "abc",
            }
        ],
    }
    data = {**fixture("anthropic_message.json"), "content": [server_use, results]}
    for response in both(data):
        reply = message_from_anthropic(response)
        assert reply.content == [UnknownPart(server_use), UnknownPart(results)]
        assert to_anthropic_request([reply])["messages"][0]["content"] == [server_use, results]


def test_tool_messages_become_one_user_turn_of_results() -> None:
    request = to_anthropic_request(
        [
            Message(role="tool", tool_call_id="a", content="1"),
            Message(role="tool", tool_call_id="b", content=[TextPart(text="2")]),
        ]
    )
    assert request["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "a", "content": "1"},
                {
                    "type": "tool_result",
                    "tool_use_id": "b",
                    "content": [{"type": "text", "text": "2"}],
                },
            ],
        }
    ]


def test_system_and_developer_messages_join_the_system_blocks() -> None:
    request = to_anthropic_request(
        [
            Message(role="system", content="a"),
            Message(role="developer", content=[TextPart(text="b")]),
        ]
    )
    assert request == {
        "messages": [],
        "system": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
    }
    SYSTEM.validate_python(request["system"])


def test_inline_images_and_data_urls_become_base64_sources() -> None:
    request = to_anthropic_request(
        [
            Message(
                role="user",
                content=[
                    ImagePart(data="iVBORw0KGgo=", media_type="image/png"),
                    ImagePart(url="data:image/jpeg;base64,/9j/4AAQ"),
                    ImagePart(url="https://example.com/cat.png", detail="high"),
                ],
            )
        ]
    )
    sources = [b["source"] for b in request["messages"][0]["content"]]
    assert sources == [
        {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
        {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQ"},
        {"type": "url", "url": "https://example.com/cat.png"},
    ]
    REQUEST.validate_python(request["messages"])


@pytest.mark.parametrize(
    ("part", "error"),
    [
        (ToolCallPart(id="1", name="f", arguments="[1, 2]"), "not a JSON object"),
        (ToolCallPart(id="1", name="f", arguments="{oops"), "not a JSON object"),
        (ImagePart(data="AAAA"), "needs a media_type"),
        (ImagePart(), "neither url nor data"),
        (ReasoningPart(text="x", encrypted="y"), "both encrypted data and text"),
    ],
)
def test_what_anthropic_cannot_carry_is_refused_with_its_place(part: Any, error: str) -> None:
    with pytest.raises(ValueError, match=rf"messages\[1\]\.content\[0\].*{error}"):
        to_anthropic_request(
            [Message(role="user", content="hi"), Message(role="assistant", content=[part])]
        )


def test_roles_anthropic_has_no_place_for_are_refused() -> None:
    with pytest.raises(ValueError, match=r"messages\[0\]: role 'critic'"):
        to_anthropic_request([Message(role="critic", content="x")])


# --- round trip -----------------------------------------------------------------------------

_MAPPED = frozenset({"text", "image", "tool_use", "tool_result", "thinking", "redacted_thinking"})
_leaf = ps.text_parts() | ps.inline_images() | ps.url_images()
_part = st.one_of(
    _leaf,
    ps.tool_calls(ps.json_object_text()),
    ps.tool_results(ps.text | st.lists(_leaf, max_size=2)),
    ps.reasoning_signed(),
    ps.unknown(_MAPPED),
)
_content = ps.text | st.lists(_part, min_size=1, max_size=4)
_turn = ps.message("user", _content) | ps.message("assistant", _content)
_system = ps.message("system", ps.text | st.lists(ps.text_parts(), min_size=1, max_size=2))


@given(ps.history(_turn, _system))
def test_every_history_anthropic_can_carry_survives_a_round_trip(history: list[Message]) -> None:
    request = to_anthropic_request(history)
    assert messages_from_anthropic(request) == history
    stored(messages_from_anthropic(request))


# --- streaming ------------------------------------------------------------------------------


@pytest.mark.parametrize("sdk", [False, True])
def test_a_stream_gives_the_message_and_the_latest_cumulative_usage(sdk: bool) -> None:
    lines = events("anthropic_stream.jsonl")
    stream = AnthropicStream(clock=Clock())
    firsts = [stream.feed(e) for e in (sdk_events(keep_pings=True) if sdk else lines)]
    # TTFT is taken at the first thinking text, not at message_start, ping or an empty block.
    assert [i for i, first in enumerate(firsts) if first] == [3]
    assert stream.first_content_at == 1.0
    assert stream.response_id == "msg_014p7gG3wDgGV9EUtLvnow3U"
    assert stream.message() == Message(
        role="assistant",
        content=[
            ReasoningPart(
                text="The user asks about Paris. I will call get_weather.",
                signature="EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds",
            ),
            TextPart(text="Okay, let's check the weather for Paris."),
            ToolCallPart(
                id="toolu_01T1x1fJ34qAmk2tNTrN7Up6",
                name="get_weather",
                arguments='{"city":"Paris","unit":"celsius"}',
            ),
        ],
    )
    # message_delta counts are cumulative: 89 is the total, not 40 + 89 (nor 2 + 40 + 89).
    assert stream.usage() == UsageRecord(
        model="claude-sonnet-4-5-20250929",
        provider="anthropic",
        prompt_tokens=472 + 2048,
        completion_tokens=89,
        prompt_cached_tokens=2048,
        prompt_cache_creation_tokens=0,
    )


def test_a_streamed_tool_call_reads_as_the_same_call_unstreamed() -> None:
    stream = AnthropicStream()
    for e in events("anthropic_stream.jsonl"):
        stream.feed(e)
    whole = {
        "type": "tool_use",
        "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
        "name": "get_weather",
        "input": {"city": "Paris", "unit": "celsius"},
    }
    assert message_from_anthropic({"content": [whole]}).content == [stream.message().content[-1]]


def test_a_stream_without_usage_says_so() -> None:
    with pytest.raises(ValueError, match="no usage"):
        AnthropicStream().usage(model="m")
