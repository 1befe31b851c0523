"""OpenAI Chat Completions: the SDK's own objects and the API's JSON map alike, both ways."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openai.types import CompletionUsage
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessageParam,
)
from pydantic import TypeAdapter

from harness.providers.openai_chat import (
    OpenAIChatStream,
    message_from_openai_chat,
    messages_from_openai_chat,
    to_openai_chat_messages,
    usage_from_openai_chat,
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

REQUEST = TypeAdapter(list[ChatCompletionMessageParam])
COMPLETION = fixture("openai_chat_completion.json")
EXPECTED_USAGE = UsageRecord(
    model="gpt-4o-2024-08-06",
    provider="openai",
    prompt_tokens=3000,
    completion_tokens=500,
    prompt_cached_tokens=2000,
    completion_reasoning_tokens=128,
    service_tier="default",
)
EXPECTED_MESSAGE = Message(
    role="assistant",
    content=[
        TextPart(text="Let me check the weather in Paris."),
        # OpenAI's arguments are text as the model produced it: kept verbatim.
        ToolCallPart(id="call_12345xyz", name="get_weather", arguments='{"city": "Paris"}'),
        ToolCallPart(id="call_67890abc", name="get_time", arguments='{"tz":"Europe/Paris"}'),
    ],
)


@pytest.mark.parametrize(
    "response",
    [COMPLETION, ChatCompletion.model_validate(COMPLETION), ChatCompletion.construct(**COMPLETION)],
)
def test_a_completion_gives_usage_and_the_message(response: Any) -> None:
    assert usage_from_openai_chat(response) == EXPECTED_USAGE
    assert message_from_openai_chat(response) == EXPECTED_MESSAGE
    stored([message_from_openai_chat(response)], usage_from_openai_chat(response))


def test_a_completion_usage_alone_maps_and_its_total_is_ignored() -> None:
    usage = CompletionUsage.model_validate(COMPLETION["usage"])
    record = usage_from_openai_chat(usage, model="gpt-4o")
    assert record == UsageRecord(
        model="gpt-4o",
        provider="openai",
        prompt_tokens=3000,
        completion_tokens=500,
        prompt_cached_tokens=2000,
        completion_reasoning_tokens=128,
    )


def test_compatible_servers_name_their_provider_and_reasoning() -> None:
    deepseek = {
        "model": "deepseek-reasoner",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "42", "reasoning_content": "6*7"},
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5},
    }
    assert usage_from_openai_chat(deepseek, provider="deepseek").provider == "deepseek"
    reply = message_from_openai_chat(deepseek)
    assert reply.content == [ReasoningPart(text="6*7"), TextPart(text="42")]
    # The chat format has no field to send reasoning back: it is left out of the request.
    assert to_openai_chat_messages([reply]) == [
        {"role": "assistant", "content": [{"type": "text", "text": "42"}]}
    ]


def test_a_refusal_is_kept_and_sent_back_as_openais_refusal_part() -> None:
    reply = message_from_openai_chat(
        {"choices": [{"message": {"role": "assistant", "content": None, "refusal": "I can't."}}]}
    )
    assert reply.content == [UnknownPart({"type": "refusal", "refusal": "I can't."})]
    request = to_openai_chat_messages([reply])
    assert request == [
        {"role": "assistant", "content": [{"type": "refusal", "refusal": "I can't."}]}
    ]
    REQUEST.validate_python(request)


def test_the_reply_replays_as_the_next_request() -> None:
    history = [
        Message(role="developer", content="Be brief."),
        Message(
            role="user",
            content=[
                TextPart(text="What's in this image, and the weather?"),
                ImagePart(data="iVBORw0KGgo=", media_type="image/png", detail="low"),
            ],
        ),
        EXPECTED_MESSAGE,
        Message(role="tool", tool_call_id="call_12345xyz", content="18C"),
        Message(role="tool", tool_call_id="call_67890abc", content=[TextPart(text="14:00")]),
    ]
    request = to_openai_chat_messages(history)
    REQUEST.validate_python(request)  # the SDK's own request types accept it
    assert request[1]["content"][1] == {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"},
    }
    assert request[2] == {
        "role": "assistant",
        "content": [{"type": "text", "text": "Let me check the weather in Paris."}],
        "tool_calls": [
            {
                "id": "call_12345xyz",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            },
            {
                "id": "call_67890abc",
                "type": "function",
                "function": {"name": "get_time", "arguments": '{"tz":"Europe/Paris"}'},
            },
        ],
    }
    assert messages_from_openai_chat(request) == history


def test_anthropic_shaped_tool_results_become_tool_messages_first() -> None:
    request = to_openai_chat_messages(
        [
            Message(
                role="user",
                content=[
                    ToolResultPart(tool_call_id="a", content="1"),
                    ToolResultPart(tool_call_id="b", content="2", is_error=True),
                    TextPart(text="and now?"),
                ],
            )
        ]
    )
    assert request == [
        {"role": "tool", "tool_call_id": "a", "content": "1"},
        {"role": "tool", "tool_call_id": "b", "content": "2"},
        {"role": "user", "content": [{"type": "text", "text": "and now?"}]},
    ]


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (Message(role="user", content=[ToolCallPart(id="1", name="f")]), "only an assistant"),
        (Message(role="user", content=[ImagePart(data="AA==")]), "needs a media_type"),
        (Message(role="tool", content=[ToolCallPart(id="1", name="f")]), "tool_call part cannot"),
    ],
)
def test_what_the_chat_format_cannot_carry_is_refused(message: Message, error: str) -> None:
    with pytest.raises(ValueError, match=rf"messages\[0\].*{error}"):
        to_openai_chat_messages([message])


# --- round trip -----------------------------------------------------------------------------

_details = st.none() | st.sampled_from(["auto", "low", "high"])
_user_part = st.one_of(
    ps.text_parts(),
    ps.url_images(detail=_details),
    ps.inline_images(detail=_details),
    ps.unknown(frozenset({"text", "image_url"})),
)
_names = st.none() | ps.ids
_user = st.builds(
    Message,
    role=st.sampled_from(["system", "developer", "user"]),
    content=ps.text | st.lists(_user_part, max_size=3),
    name=_names,
)
_said = st.lists(ps.text_parts() | ps.unknown(frozenset({"text", "image_url"})), max_size=2)
_calls = st.lists(ps.tool_calls(), min_size=1, max_size=2)
_assistant_content = st.one_of(
    st.none(),
    ps.text,
    _said,
    st.builds(lambda said, calls: [*said, *calls], _said, _calls),
)
_assistant = st.builds(Message, role=st.just("assistant"), content=_assistant_content, name=_names)
_tool = st.builds(
    Message,
    role=st.just("tool"),
    content=ps.text | st.lists(ps.text_parts(), max_size=2),
    tool_call_id=ps.ids,
)


@given(st.lists(_user | _assistant | _tool, max_size=6))
def test_every_history_the_chat_format_can_carry_survives_a_round_trip(
    history: list[Message],
) -> None:
    request = to_openai_chat_messages(history)
    assert messages_from_openai_chat(request) == history
    stored(messages_from_openai_chat(request))


# --- streaming ------------------------------------------------------------------------------


@pytest.mark.parametrize("sdk", [False, True])
def test_a_stream_gives_the_message_and_the_last_chunks_usage(sdk: bool) -> None:
    chunks = events("openai_chat_stream.jsonl")
    stream = OpenAIChatStream(clock=Clock())
    firsts = [stream.feed(ChatCompletionChunk.model_validate(c) if sdk else c) for c in chunks]
    # The role chunk (content "") is not content; the first text is.
    assert [i for i, first in enumerate(firsts) if first] == [1]
    assert stream.first_content_at == 1.0
    assert stream.finish_reason == "tool_calls"
    assert stream.message() == Message(
        role="assistant",
        content=[
            TextPart(text="Checking now."),
            ToolCallPart(
                id="call_DdmO9pD3xa9XTPNJ32zg2hcA",
                name="get_weather",
                arguments='{"city": "Paris"}',
            ),
            ToolCallPart(id="call_Xy2", name="get_time", arguments="{}"),
        ],
    )
    assert stream.usage() == UsageRecord(
        model="gpt-4o-mini-2024-07-18",
        provider="openai",
        prompt_tokens=3000,
        completion_tokens=500,
        prompt_cached_tokens=2000,
        completion_reasoning_tokens=0,
        service_tier="default",
    )
    final = chunks[-1] if not sdk else ChatCompletionChunk.model_validate(chunks[-1])
    assert usage_from_openai_chat(final) == stream.usage()


def test_a_tool_call_chunk_first_takes_the_ttft_reading() -> None:
    stream = OpenAIChatStream()
    role, *_ = events("openai_chat_stream.jsonl")
    assert stream.feed(role) is False
    assert stream.feed({"choices": []}) is False  # a keep-alive
    assert stream.feed(events("openai_chat_stream.jsonl")[3]) is True


def test_a_stream_without_usage_says_how_to_ask_for_it() -> None:
    stream = OpenAIChatStream()
    for chunk in events("openai_chat_stream.jsonl")[:-1]:
        stream.feed(chunk)
    with pytest.raises(ValueError, match="include_usage"):
        stream.usage()
