"""LiteLLM: its own ModelResponse and ModelResponseStream objects, as litellm.completion
returns them for an Anthropic model, and their JSON."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

# LiteLLM fetches its price map from the network on import unless told not to.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
from litellm.types.utils import ModelResponse, ModelResponseStream, Usage

from harness.pricing import PriceTable
from harness.providers.litellm import (
    LiteLLMStream,
    message_from_litellm,
    messages_from_litellm,
    to_litellm_messages,
    usage_from_litellm,
)
from schemas import Message, ReasoningPart, TextPart, ToolCallPart, UsageRecord

from . import strategies as ps
from .support import Clock, stored

MODEL = "claude-sonnet-4-5-20250929"
SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"
TABLE = PriceTable.from_litellm_json(
    (Path(__file__).parents[1] / "fixtures" / "litellm_prices_subset.json").read_bytes()
)
# LiteLLM's own types make pydantic warn while it builds their schema; not ours to fix.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:Item .* on TypedDict class 'ChatCompletion\w+' is using the `ReadOnly`:UserWarning"
)


def response(cost: float | None = 0.0111) -> ModelResponse:
    """A ModelResponse as litellm.completion builds it for Claude: inclusive prompt_tokens,
    the cache split in prompt_tokens_details, thinking blocks, and its cost hidden."""
    built = ModelResponse(
        id="chatcmpl-5f2c",
        model=MODEL,
        choices=[
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": "Let me check the weather in Paris.",
                    "reasoning_content": "The user wants Paris.",
                    "thinking_blocks": [
                        {
                            "type": "thinking",
                            "thinking": "The user wants Paris.",
                            "signature": SIGNATURE,
                        }
                    ],
                    "tool_calls": [
                        {
                            "id": "toolu_01A09q90qw90lq917835lq9",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                        }
                    ],
                },
            }
        ],
        usage=Usage(
            prompt_tokens=6000,
            completion_tokens=500,
            total_tokens=6500,
            prompt_tokens_details={
                "cached_tokens": 2000,
                "cache_creation_tokens": 3000,
                "cache_creation_token_details": {
                    "ephemeral_5m_input_tokens": 2000,
                    "ephemeral_1h_input_tokens": 1000,
                },
            },
            cache_read_input_tokens=2000,
            cache_creation_input_tokens=3000,
        ),
    )
    hidden: dict[str, Any] = {"custom_llm_provider": "anthropic"}
    if cost is not None:
        hidden["response_cost"] = cost
    built._hidden_params = hidden
    return built


def test_usage_is_inclusive_and_litellms_cost_is_recorded_as_reported() -> None:
    assert usage_from_litellm(response()) == UsageRecord(
        model=MODEL,
        provider="anthropic",
        prompt_tokens=6000,
        completion_tokens=500,
        prompt_cached_tokens=2000,
        prompt_cache_creation_tokens=3000,
        prompt_cache_creation_1h_tokens=1000,
        cost_usd=0.0111,
        pricing="reported:litellm",
    )


def test_litellms_zero_for_a_model_missing_from_its_map_is_priced_from_the_table() -> None:
    priced = usage_from_litellm(response(cost=0.0), table=TABLE)
    assert priced.pricing == TABLE.provenance
    assert (priced.cost_usd or 0) > 0


def test_json_and_the_usage_alone_carry_counts_but_no_cost() -> None:
    as_json = response().model_dump()
    assert usage_from_litellm(as_json) == UsageRecord(
        model=MODEL,
        prompt_tokens=6000,
        completion_tokens=500,
        prompt_cached_tokens=2000,
        prompt_cache_creation_tokens=3000,
        prompt_cache_creation_1h_tokens=1000,
    )
    assert usage_from_litellm(response().usage, model=MODEL).prompt_tokens == 6000
    assert usage_from_litellm(response(cost=None)).pricing is None


@pytest.mark.parametrize("sdk", [True, False])
def test_thinking_blocks_keep_their_signature_both_ways(sdk: bool) -> None:
    reply = message_from_litellm(response() if sdk else response().model_dump())
    assert reply == Message(
        role="assistant",
        content=[
            ReasoningPart(text="The user wants Paris.", signature=SIGNATURE),
            TextPart(text="Let me check the weather in Paris."),
            ToolCallPart(
                id="toolu_01A09q90qw90lq917835lq9",
                name="get_weather",
                arguments='{"city": "Paris"}',
            ),
        ],
    )
    stored([reply], usage_from_litellm(response()))
    request = to_litellm_messages([reply])
    assert request[0]["thinking_blocks"] == [
        {"type": "thinking", "thinking": "The user wants Paris.", "signature": SIGNATURE}
    ]
    assert messages_from_litellm(request) == [reply]


def test_reasoning_content_alone_is_a_reasoning_part() -> None:
    deepseek = {
        "model": "deepseek-reasoner",
        "choices": [
            {"message": {"role": "assistant", "content": "42", "reasoning_content": "6*7"}}
        ],
    }
    assert message_from_litellm(deepseek).content == [
        ReasoningPart(text="6*7"),
        TextPart(text="42"),
    ]


# --- round trip -----------------------------------------------------------------------------

_assistant = st.builds(
    lambda thoughts, said, calls: Message(role="assistant", content=[*thoughts, *said, *calls]),
    st.lists(ps.reasoning_signed(), min_size=1, max_size=2),
    st.lists(ps.text_parts(), max_size=2),
    st.lists(ps.tool_calls(), max_size=2),
)
_user = ps.message("user", ps.text | st.lists(ps.text_parts() | ps.inline_images(), max_size=2))
_tool = st.builds(Message, role=st.just("tool"), tool_call_id=ps.ids, content=ps.text)


@given(st.lists(_user | _assistant | _tool, max_size=5))
def test_every_history_litellm_can_carry_survives_a_round_trip(history: list[Message]) -> None:
    request = to_litellm_messages(history)
    assert messages_from_litellm(request) == history
    stored(messages_from_litellm(request))


# --- streaming ------------------------------------------------------------------------------


def test_a_stream_of_model_response_stream_chunks() -> None:
    def chunk(delta: dict[str, Any], **fields: Any) -> ModelResponseStream:
        return ModelResponseStream(
            id="chatcmpl-5f2c", model=MODEL, choices=[{"index": 0, "delta": delta}], **fields
        )

    chunks = [
        chunk({"role": "assistant", "content": ""}),
        chunk(
            {
                "reasoning_content": "The user ",
                "thinking_blocks": [{"type": "thinking", "thinking": "The user "}],
            }
        ),
        chunk(
            {
                "reasoning_content": "wants Paris.",
                "thinking_blocks": [{"type": "thinking", "thinking": "wants Paris."}],
            }
        ),
        chunk({"thinking_blocks": [{"type": "thinking", "thinking": "", "signature": SIGNATURE}]}),
        chunk({"content": "Sunny."}),
        ModelResponseStream(
            id="chatcmpl-5f2c",
            model=MODEL,
            choices=[],
            usage=Usage(prompt_tokens=10, completion_tokens=5, total_tokens=15),
        ),
    ]
    stream = LiteLLMStream(clock=Clock())
    firsts = [stream.feed(c) for c in chunks]
    assert [i for i, first in enumerate(firsts) if first] == [1]
    assert stream.message() == Message(
        role="assistant",
        content=[
            ReasoningPart(text="The user wants Paris.", signature=SIGNATURE),
            TextPart(text="Sunny."),
        ],
    )
    assert (stream.usage().prompt_tokens, stream.usage().completion_tokens) == (10, 5)
