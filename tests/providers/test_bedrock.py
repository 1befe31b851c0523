"""Bedrock Converse: captured JSON (boto3 returns the same dicts, with raw bytes)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.providers.bedrock import (
    BedrockStream,
    message_from_bedrock_converse,
    messages_from_bedrock_converse,
    to_bedrock_converse_request,
    usage_from_bedrock_converse,
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

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
EXPECTED_MESSAGE = Message(
    role="assistant",
    content=[
        ReasoningPart(
            text="The user wants the weather. I will call the tool.",
            signature="ErcBCkgIBRABGAIiQMN2fBMvCh7bV0dmn8dpP4iK",
        ),
        TextPart(text="I'll look up the weather in Paris."),
        ToolCallPart(
            id="tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", name="get_weather", arguments='{"city":"Paris"}'
        ),
    ],
)


def test_a_response_gives_inclusive_usage_and_the_server_latency() -> None:
    record = usage_from_bedrock_converse(fixture("bedrock_converse.json"), model=MODEL)
    assert record == UsageRecord(
        model=MODEL,
        provider="bedrock",
        prompt_tokens=6000,
        completion_tokens=500,
        prompt_cached_tokens=2000,
        prompt_cache_creation_tokens=3000,
        prompt_cache_creation_1h_tokens=1000,
        server_duration_ms=1830,
    )


def test_bedrock_echoes_no_model_so_one_is_required() -> None:
    with pytest.raises(ValueError, match="pass model="):
        usage_from_bedrock_converse(fixture("bedrock_converse.json"))


def test_message_from_a_response() -> None:
    response = fixture("bedrock_converse.json")
    reply = message_from_bedrock_converse(response)
    assert reply == EXPECTED_MESSAGE
    stored([reply], usage_from_bedrock_converse(response, model=MODEL))


def test_boto3_bytes_and_json_base64_read_the_same() -> None:
    png = b"\x89PNG\r\n\x1a\n"
    encoded = base64.b64encode(png).decode()
    for raw in (png, encoded):
        reply = message_from_bedrock_converse(
            {
                "output": {
                    "message": {
                        "role": "assistant",
                        "content": [
                            {"image": {"format": "png", "source": {"bytes": raw}}},
                            {"reasoningContent": {"redactedContent": raw}},
                        ],
                    }
                }
            }
        )
        assert reply.content == [
            ImagePart(data=encoded, media_type="image/png"),
            ReasoningPart(encrypted=encoded),
        ]
    request = to_bedrock_converse_request([reply])
    assert request["messages"][0]["content"][0]["image"]["source"]["bytes"] == png
    as_json = to_bedrock_converse_request([reply], binary=False)
    assert as_json["messages"][0]["content"][0]["image"]["source"]["bytes"] == encoded


def test_the_reply_replays_with_tool_results_and_system_blocks() -> None:
    history = [
        Message(role="system", content="Be brief."),
        Message(role="user", content="Weather in Paris?"),
        EXPECTED_MESSAGE,
        Message(role="tool", tool_call_id="tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", content="18C"),
    ]
    request = to_bedrock_converse_request(history)
    assert request["system"] == [{"text": "Be brief."}]
    assert request["messages"][1]["content"][0] == {
        "reasoningContent": {
            "reasoningText": {
                "text": "The user wants the weather. I will call the tool.",
                "signature": "ErcBCkgIBRABGAIiQMN2fBMvCh7bV0dmn8dpP4iK",
            }
        }
    }
    assert request["messages"][2] == {
        "role": "user",
        "content": [
            {
                "toolResult": {
                    "toolUseId": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q",
                    "content": [{"text": "18C"}],
                }
            }
        ],
    }
    back = messages_from_bedrock_converse(request)
    assert back[2] == EXPECTED_MESSAGE
    assert back[3] == Message(
        role="user",
        content=[ToolResultPart(tool_call_id="tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", content="18C")],
    )


def test_blocks_no_part_describes_are_kept_by_their_key() -> None:
    cache_point = {"cachePoint": {"type": "default"}}
    document = {"document": {"format": "pdf", "name": "a", "source": {"bytes": "JVBERg=="}}}
    history = messages_from_bedrock_converse(
        {"messages": [{"role": "user", "content": [cache_point, document]}]}
    )
    assert history[0].content == [
        UnknownPart({"type": "bedrock.cachePoint", "cachePoint": {"type": "default"}}),
        UnknownPart({"type": "bedrock.document", **document}),
    ]
    assert to_bedrock_converse_request(history)["messages"][0]["content"] == [cache_point, document]


@pytest.mark.parametrize(
    ("part", "error"),
    [
        (ImagePart(url="https://example.com/a.png", media_type="image/png"), "s3:// URLs"),
        (ImagePart(data="AAAA", media_type="image/bmp"), "png, jpeg, gif or webp"),
        (ImagePart(data="not base64!", media_type="image/png"), "not valid base64"),
        (ToolCallPart(id="1", name="f", arguments="1"), "not a JSON object"),
        (UnknownPart({"type": "input_audio", "data": "x"}), "did not come from bedrock"),
    ],
)
def test_what_bedrock_cannot_carry_is_refused_with_its_place(part: Any, error: str) -> None:
    with pytest.raises(ValueError, match=rf"messages\[0\]\.content\[0\].*{error}"):
        to_bedrock_converse_request([Message(role="user", content=[part])])


# --- round trip -----------------------------------------------------------------------------

_RESERVED = frozenset({"text", "image", "toolUse", "toolResult", "reasoningContent"})
_images = ps.inline_images() | ps.url_images(
    st.sampled_from(["s3://bucket/a.png", "s3://b/c/d.jpg"]), media_type=ps.media_types
)
_leaf = ps.text_parts() | _images
_result_content = ps.text | st.lists(_leaf, max_size=2).filter(
    lambda parts: not (len(parts) == 1 and isinstance(parts[0], TextPart))
)
_part = st.one_of(
    _leaf,
    ps.tool_calls(ps.json_object_text()),
    ps.tool_results(_result_content),
    ps.reasoning_signed(),
    ps.keyed_unknown("bedrock", _RESERVED),
)
_content = st.lists(_part, max_size=4)
_turn = ps.message("user", _content) | ps.message("assistant", _content)
_system = ps.message("system", st.lists(ps.text_parts(), min_size=1, max_size=2))


@given(ps.history(_turn, _system), st.booleans())
def test_every_history_bedrock_can_carry_survives_a_round_trip(
    history: list[Message], binary: bool
) -> None:
    request = to_bedrock_converse_request(history, binary=binary)
    assert messages_from_bedrock_converse(request) == history
    stored(messages_from_bedrock_converse(request))


# --- streaming ------------------------------------------------------------------------------


def test_a_stream_gives_the_message_usage_and_latency() -> None:
    stream = BedrockStream(model=MODEL, clock=Clock())
    firsts = [stream.feed(e) for e in events("bedrock_stream.jsonl")]
    assert [i for i, first in enumerate(firsts) if first] == [1]  # not messageStart
    assert stream.message() == EXPECTED_MESSAGE
    assert stream.stop_reason == "tool_use"
    usage = stream.usage()
    assert (usage.prompt_tokens, usage.completion_tokens, usage.server_duration_ms) == (
        6000,
        500,
        1830,
    )


def test_a_metadata_event_alone_gives_usage() -> None:
    metadata = events("bedrock_stream.jsonl")[-1]
    assert usage_from_bedrock_converse(metadata, model=MODEL).server_duration_ms == 1830
