"""Gemini: captured JSON of generateContent and streamGenerateContent, both ways."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.providers.gemini import (
    GeminiStream,
    message_from_gemini,
    messages_from_gemini,
    to_gemini_request,
    usage_from_gemini,
)
from schemas import (
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

SIGNATURE = "CiQBcsjafDK0dWQ8ajmuK1Tk2wVqeE1sdNHK6ZpXSWS0Lzry3pEKZAHLnLy5"
EXPECTED_MESSAGE = Message(
    role="assistant",
    content=[
        ReasoningPart(
            text="**Checking the weather**\nThe user wants Paris; I should call the tool."
        ),
        TextPart(text="Let me check the weather in Paris."),
        ReasoningPart(signature=SIGNATURE),  # the signature of the part after it
        ToolCallPart(id="", name="get_weather", arguments='{"city":"Paris","unit":"celsius"}'),
    ],
)


def test_usage_counts_thoughts_as_output_and_tool_prompts_as_input() -> None:
    response = fixture("gemini_response.json")
    expected = UsageRecord(
        model="gemini-2.5-pro",
        provider="gemini",
        prompt_tokens=3000 + 100,
        completion_tokens=300 + 200,
        prompt_cached_tokens=2000,
        completion_reasoning_tokens=200,
    )
    assert usage_from_gemini(response) == expected
    block = response["usageMetadata"]
    assert usage_from_gemini(block, model="gemini-2.5-pro") == expected
    vertex = usage_from_gemini(response, provider="vertex_ai")
    assert vertex.provider == "vertex_ai"


def test_counts_gemini_omits_are_zero_but_a_block_without_counts_is_an_error() -> None:
    record = usage_from_gemini({"promptTokenCount": 7, "totalTokenCount": 7}, model="m")
    assert (record.prompt_tokens, record.completion_tokens) == (7, 0)
    with pytest.raises(ValueError, match="usageMetadata has none of"):
        usage_from_gemini({"totalTokenCount": 7}, model="m")
    with pytest.raises(ValueError, match=r"usageMetadata\.thoughtsTokenCount must be"):
        usage_from_gemini({"promptTokenCount": 1, "thoughtsTokenCount": -2}, model="m")


def test_message_from_a_response_and_back_to_the_same_parts() -> None:
    response = fixture("gemini_response.json")
    reply = message_from_gemini(response)
    assert reply == EXPECTED_MESSAGE
    stored([reply], usage_from_gemini(response))
    request = to_gemini_request([reply])
    # The signature goes back on the part it came with, as Gemini requires.
    assert request == {"contents": [response["candidates"][0]["content"]]}


def test_a_blocked_prompt_has_no_candidate_and_an_empty_message() -> None:
    assert message_from_gemini({"promptFeedback": {"blockReason": "SAFETY"}}) == Message(
        role="assistant", content=[]
    )


def test_function_responses_are_tool_messages_named_by_their_function() -> None:
    history = [
        Message(role="system", content="Be brief."),
        Message(role="user", content="Weather in Paris?"),
        EXPECTED_MESSAGE,
        Message(role="tool", name="get_weather", content='{"temp":18,"sky":"clear"}'),
        Message(role="tool", name="get_weather", content="no data for Lyon"),
    ]
    request = to_gemini_request(history)
    assert request["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert request["contents"][2] == {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "get_weather", "response": {"temp": 18, "sky": "clear"}}},
            {
                "functionResponse": {
                    "name": "get_weather",
                    "response": {"result": "no data for Lyon"},
                }
            },
        ],
    }
    back = messages_from_gemini(request)
    assert back[3:] == history[3:]
    assert back[0] == Message(role="system", content=[TextPart(text="Be brief.")])


def test_a_tool_result_finds_its_function_name_by_the_call_id() -> None:
    call = ToolCallPart(id="call-1", name="lookup", arguments='{"q":"x"}')
    request = to_gemini_request(
        [
            Message(role="assistant", content=[call]),
            Message(role="user", content=[ToolResultPart(tool_call_id="call-1", content="found")]),
        ]
    )
    assert request["contents"][1]["parts"] == [
        {"functionResponse": {"name": "lookup", "response": {"result": "found"}, "id": "call-1"}}
    ]


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (Message(role="tool", tool_call_id="nope", content="x"), "needs the function's name"),
        (
            Message(role="assistant", content=[ReasoningPart(encrypted="x")]),
            "no encrypted reasoning",
        ),
        (
            Message(role="user", content=[UnknownPart({"type": "input_audio", "x": 1})]),
            "did not come from gemini",
        ),
        (
            Message(role="user", content=[ToolCallPart(id="1", name="f", arguments="[]")]),
            "JSON object",
        ),
    ],
)
def test_what_gemini_cannot_carry_is_refused_with_its_place(message: Message, error: str) -> None:
    with pytest.raises(ValueError, match=rf"messages\[0\].*{error}"):
        to_gemini_request([message])


def test_parts_no_part_describes_are_kept_by_their_key() -> None:
    code = {"executableCode": {"language": "PYTHON", "code": "print(1)"}}
    reply = message_from_gemini({"parts": [code]})
    assert reply.content == [UnknownPart({"type": "gemini.executableCode", **code})]
    assert to_gemini_request([reply])["contents"][0]["parts"] == [code]


# --- round trip -----------------------------------------------------------------------------

_RESERVED = frozenset(
    {"text", "inlineData", "fileData", "functionCall", "functionResponse", "thought",
     "thoughtSignature", "videoMetadata", "partMetadata"}
)  # fmt: skip
_file_images = ps.url_images(
    st.sampled_from(
        ["gs://bucket/cat.png", "https://generativelanguage.googleapis.com/v1/files/a"]
    ),
    media_type=ps.media_types,
)
_said = ps.text_parts() | ps.inline_images() | _file_images | ps.keyed_unknown("gemini", _RESERVED)
_thought = st.builds(ReasoningPart, text=ps.text, signature=st.none() | ps.text)
_call = ps.tool_calls(ps.json_object_text()) | st.builds(
    ToolCallPart, id=st.just(""), name=ps.ids, arguments=ps.json_object_text()
)
_user = ps.message("user", st.lists(_said, max_size=3))
_assistant = ps.message("assistant", st.lists(_said | _thought | _call, max_size=4))
_tool = st.builds(
    Message,
    role=st.just("tool"),
    name=ps.ids,
    tool_call_id=st.none() | ps.ids,
    content=ps.text | st.sampled_from(['{"a":1}', '{"result":"x"}', "[1]", '{ "a": 1 }']),
)
_system = ps.message("system", st.lists(ps.text_parts(), min_size=1, max_size=2))


@given(ps.history(_user | _assistant | _tool, _system))
def test_every_history_gemini_can_carry_survives_a_round_trip(history: list[Message]) -> None:
    request = to_gemini_request(history)
    assert messages_from_gemini(request) == history
    stored(messages_from_gemini(request))


# --- streaming ------------------------------------------------------------------------------


def test_a_stream_joins_its_pieces_into_the_unstreamed_message() -> None:
    stream = GeminiStream(clock=Clock())
    firsts = [stream.feed(chunk) for chunk in events("gemini_stream.jsonl")]
    assert [i for i, first in enumerate(firsts) if first] == [0]
    assert stream.message() == EXPECTED_MESSAGE
    assert stream.finish_reason == "STOP"
    assert stream.usage() == UsageRecord(
        model="gemini-2.5-flash",
        provider="gemini",
        prompt_tokens=3100,
        completion_tokens=500,
        prompt_cached_tokens=2000,
        completion_reasoning_tokens=200,
    )


def test_a_stream_without_usage_metadata_says_so() -> None:
    with pytest.raises(ValueError, match="no usageMetadata"):
        GeminiStream().usage(model="m")
