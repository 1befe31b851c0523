"""OpenAI Responses: the SDK's own objects and the API's JSON map alike, both ways."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openai.types.responses import (
    Response,
    ResponseInputParam,
    ResponseStreamEvent,
    ResponseUsage,
)
from pydantic import TypeAdapter

from harness.providers.openai_responses import (
    OpenAIResponsesStream,
    message_from_openai_responses,
    messages_from_openai_responses,
    to_openai_responses_input,
    usage_from_openai_responses,
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

INPUT = TypeAdapter(ResponseInputParam)
EVENTS = TypeAdapter(ResponseStreamEvent)
RESPONSE = fixture("openai_response.json")
EXPECTED_USAGE = UsageRecord(
    model="o4-mini-2025-04-16",
    provider="openai",
    prompt_tokens=3000,
    completion_tokens=500,
    prompt_cached_tokens=2000,
    prompt_cache_creation_tokens=0,
    completion_reasoning_tokens=384,
    service_tier="default",
)
EXPECTED_MESSAGE = Message(
    role="assistant",
    id="msg_67ccd3acc8d48190a77525dc6de64b4104becb25c45c1d41",
    content=[
        ReasoningPart(
            text="**Checking the weather**\n\nThe user asks about Paris.\n\nI will call get_weather.",
            encrypted="gAAAAABodm8DmX5ZaBdVh0jHJkqCJ9tTQ9Dd4t0Rn3p",
            id="rs_6876cf02e0bc8192b74af0fb64b715ff06fa2fcced15a5ac",
        ),
        TextPart(text="Let me look that up."),
        ToolCallPart(
            id="call_unLAR8MvFNptuiZK6K6HCy5k", name="get_weather", arguments='{"city":"Paris"}'
        ),
    ],
)


@pytest.mark.parametrize(
    "response", [RESPONSE, Response.model_validate(RESPONSE), Response.construct(**RESPONSE)]
)
def test_a_response_gives_usage_and_one_message_of_its_items(response: Any) -> None:
    assert usage_from_openai_responses(response) == EXPECTED_USAGE
    assert message_from_openai_responses(response) == EXPECTED_MESSAGE
    stored([message_from_openai_responses(response)], usage_from_openai_responses(response))


def test_the_usage_block_alone_needs_the_model() -> None:
    usage = ResponseUsage.model_validate(RESPONSE["usage"])
    assert usage_from_openai_responses(usage, model="o4-mini").prompt_tokens == 3000
    with pytest.raises(ValueError, match="pass model="):
        usage_from_openai_responses(usage)


def test_the_reply_replays_as_input_items() -> None:
    history = [
        Message(role="system", content="Be brief."),
        Message(
            role="user",
            content=[
                TextPart(text="Weather here?"),
                ImagePart(url="https://example.com/sky.png", detail="high"),
            ],
        ),
        EXPECTED_MESSAGE,
        Message(role="tool", tool_call_id="call_unLAR8MvFNptuiZK6K6HCy5k", content="18C"),
    ]
    items = to_openai_responses_input(history)
    INPUT.validate_python(items)  # the SDK's own input types accept it
    assert items[2:] == [
        {
            "type": "reasoning",
            "id": "rs_6876cf02e0bc8192b74af0fb64b715ff06fa2fcced15a5ac",
            "summary": [
                {
                    "type": "summary_text",
                    "text": "**Checking the weather**\n\nThe user asks about Paris.\n\nI will call get_weather.",
                }
            ],
            "encrypted_content": "gAAAAABodm8DmX5ZaBdVh0jHJkqCJ9tTQ9Dd4t0Rn3p",
        },
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Let me look that up.", "annotations": []}],
            "id": "msg_67ccd3acc8d48190a77525dc6de64b4104becb25c45c1d41",
            "status": "completed",
        },
        {
            "type": "function_call",
            "call_id": "call_unLAR8MvFNptuiZK6K6HCy5k",
            "name": "get_weather",
            "arguments": '{"city":"Paris"}',
        },
        {
            "type": "function_call_output",
            "call_id": "call_unLAR8MvFNptuiZK6K6HCy5k",
            "output": "18C",
        },
    ]
    assert messages_from_openai_responses(items) == history


def test_output_items_no_part_describes_are_sent_back_as_they_came() -> None:
    search = {
        "type": "web_search_call",
        "id": "ws_1",
        "status": "completed",
        "action": {"type": "search", "query": "paris"},
    }
    refusal = {"type": "refusal", "refusal": "I can't help with that."}
    response = {
        **RESPONSE,
        "output": [
            search,
            {
                "type": "message",
                "id": "msg_1",
                "role": "assistant",
                "status": "completed",
                "content": [refusal],
            },
        ],
    }
    reply = message_from_openai_responses(Response.model_validate(response))
    assert reply.content == [UnknownPart(search), UnknownPart(refusal)]
    items = to_openai_responses_input([reply])
    assert items == [
        search,
        {
            "type": "message",
            "role": "assistant",
            "content": [refusal],
            "id": "msg_1",
            "status": "completed",
        },
    ]


def test_tool_results_in_a_user_message_become_call_outputs() -> None:
    items = to_openai_responses_input(
        [
            Message(
                role="user",
                content=[ToolResultPart(tool_call_id="c1", content=[TextPart(text="ok")])],
            )
        ]
    )
    assert items == [
        {
            "type": "function_call_output",
            "call_id": "c1",
            "output": [{"type": "input_text", "text": "ok"}],
        }
    ]
    INPUT.validate_python(items)


def test_a_bare_string_input_is_one_user_message() -> None:
    assert messages_from_openai_responses("hi") == [Message(role="user", content="hi")]


# --- round trip -----------------------------------------------------------------------------

_ITEM_TYPES = frozenset(
    {
        "message",
        "reasoning",
        "function_call",
        "function_call_output",
        "input_text",
        "output_text",
        "input_image",
    }
)
_unknown = ps.unknown(_ITEM_TYPES).filter(lambda p: "role" not in p.data)
_detail = st.sampled_from(["auto", "low", "high"])
_user_part = (
    ps.text_parts() | ps.url_images(detail=_detail) | ps.inline_images(detail=_detail) | _unknown
)
_user = st.builds(
    Message,
    role=st.sampled_from(["system", "developer", "user"]),
    content=ps.text | st.lists(_user_part, max_size=3),
)
_reasoning = st.builds(
    ReasoningPart, text=ps.text, encrypted=st.none() | ps.text, id=st.none() | ps.ids
)
_assistant_part = st.one_of(ps.text_parts(), ps.tool_calls(), _reasoning, _unknown)
_assistant = ps.message("assistant", ps.text | st.lists(_assistant_part, min_size=1, max_size=4))
_tool = st.builds(
    Message,
    role=st.just("tool"),
    content=ps.text | st.lists(ps.text_parts(), max_size=2),
    tool_call_id=ps.ids,
)
_exchange = st.tuples(_user | _tool, _assistant).map(list)


@given(st.lists(_exchange, max_size=3).map(lambda pairs: [m for pair in pairs for m in pair]))
def test_every_history_the_input_format_can_carry_survives_a_round_trip(
    history: list[Message],
) -> None:
    items = to_openai_responses_input(history)
    assert messages_from_openai_responses(items) == history
    stored(messages_from_openai_responses(items))


# --- streaming ------------------------------------------------------------------------------


@pytest.mark.parametrize("sdk", [False, True])
def test_a_stream_gives_the_message_and_usage_of_the_completed_response(sdk: bool) -> None:
    stream = OpenAIResponsesStream(clock=Clock())
    firsts = [
        stream.feed(EVENTS.validate_python(e) if sdk else e)
        for e in events("openai_responses_stream.jsonl")
    ]
    # The first reasoning summary delta, not response.created or an empty item.
    assert [i for i, first in enumerate(firsts) if first] == [4]
    assert stream.response_id == RESPONSE["id"]
    assert stream.message() == EXPECTED_MESSAGE
    assert stream.usage() == EXPECTED_USAGE


def test_a_cut_stream_keeps_the_items_it_completed() -> None:
    stream = OpenAIResponsesStream()
    for event in events("openai_responses_stream.jsonl")[:-1]:
        stream.feed(event)
    assert stream.message() == Message(
        role="assistant", content=EXPECTED_MESSAGE.content, id=EXPECTED_MESSAGE.id
    )
    with pytest.raises(ValueError, match=r"before response\.completed"):
        stream.usage()
