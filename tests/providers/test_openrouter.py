"""OpenRouter: its chat completions through the openai SDK's objects and as JSON; the cost
it reports is recorded as reported."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openai.types.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionMessageParam
from pydantic import TypeAdapter

from harness.pricing import PriceTable
from harness.providers.openrouter import (
    OpenRouterStream,
    message_from_openrouter,
    messages_from_openrouter,
    to_openrouter_messages,
    usage_from_openrouter,
)
from schemas import Message, ReasoningPart, TextPart, ToolCallPart, UnknownPart, UsageRecord

from . import strategies as ps
from .support import Clock, events, fixture, stored

REQUEST = TypeAdapter(list[ChatCompletionMessageParam])
COMPLETION = fixture("openrouter_completion.json")
MODEL = "anthropic/claude-sonnet-4.5"
SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"
# The table prices the call at 3000 x $3 + 500 x $15 per MTok = $0.0165 (no cache rate).
TABLE = PriceTable.from_litellm(
    {
        f"openrouter/{MODEL}": {
            "litellm_provider": "openrouter",
            "mode": "chat",
            "input_cost_per_token": 3e-06,
            "output_cost_per_token": 1.5e-05,
        }
    }
)


def with_cost(cost: object) -> dict[str, Any]:
    return {**COMPLETION, "usage": {**COMPLETION["usage"], "cost": cost}}


@pytest.mark.parametrize("response", [COMPLETION, ChatCompletion.model_validate(COMPLETION)])
def test_the_reported_cost_is_recorded_as_is(response: Any) -> None:
    record = usage_from_openrouter(response)
    assert record == UsageRecord(
        model=MODEL,
        provider="openrouter",
        prompt_tokens=3000,
        completion_tokens=500,
        prompt_cached_tokens=2000,
        completion_reasoning_tokens=0,
        cost_usd=0.0111,
        pricing="reported:openrouter",
    )
    # A table that disagrees does not overwrite what OpenRouter billed.
    assert usage_from_openrouter(response, table=TABLE).cost_usd == 0.0111


def test_a_reported_zero_for_a_paid_model_is_priced_from_the_table() -> None:
    priced = usage_from_openrouter(with_cost(0), table=TABLE)
    assert priced.cost_usd == 0.0165
    assert priced.pricing == TABLE.provenance
    # Without a table nothing says the model is paid: the 0 is kept, as reported.
    kept = usage_from_openrouter(with_cost(0))
    assert (kept.cost_usd, kept.pricing) == (0.0, "reported:openrouter")


def test_no_reported_cost_leaves_the_record_for_the_caller_to_price() -> None:
    usage = {k: v for k, v in COMPLETION["usage"].items() if k != "cost"}
    record = usage_from_openrouter({**COMPLETION, "usage": usage})
    assert (record.cost_usd, record.pricing) == (None, None)


def test_an_unusable_reported_cost_is_not_a_price(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="convlog.pricing"):
        record = usage_from_openrouter(with_cost(-1.0), table=TABLE)
    assert record.pricing == TABLE.provenance
    assert "ignoring cost -1.0 reported by openrouter" in caplog.text


@pytest.mark.parametrize("response", [COMPLETION, ChatCompletion.model_validate(COMPLETION)])
def test_reasoning_details_keep_their_signature_both_ways(response: Any) -> None:
    reply = message_from_openrouter(response)
    assert reply == Message(
        role="assistant",
        content=[
            ReasoningPart(
                text="The user wants the weather in Paris. I should call the tool.",
                signature=SIGNATURE,
            ),
            TextPart(text="Let me check the weather in Paris."),
            ToolCallPart(
                id="toolu_01A09q90qw90lq917835lq9",
                name="get_weather",
                arguments='{"city": "Paris"}',
            ),
        ],
    )
    stored([reply], usage_from_openrouter(response))
    request = to_openrouter_messages([reply])
    REQUEST.validate_python(request)
    # ``format`` has no place in a reasoning part: it is not sent back.
    assert request[0]["reasoning_details"] == [
        {
            "type": "reasoning.text",
            "text": "The user wants the weather in Paris. I should call the tool.",
            "signature": SIGNATURE,
            "index": 0,
        }
    ]
    assert messages_from_openrouter(request) == [reply]


def test_encrypted_and_summary_details_and_unknown_kinds() -> None:
    details = [
        {"type": "reasoning.summary", "summary": "Thought about it.", "id": "rs_1", "index": 0},
        {"type": "reasoning.encrypted", "data": "gAAAA", "id": "rs_1", "index": 1},
        {"type": "reasoning.future", "payload": 1},
    ]
    reply = message_from_openrouter(
        {
            "choices": [
                {"message": {"role": "assistant", "content": "ok", "reasoning_details": details}}
            ]
        }
    )
    assert reply.content == [
        ReasoningPart(text="Thought about it.", id="rs_1"),
        ReasoningPart(encrypted="gAAAA", id="rs_1"),
        UnknownPart({"type": "reasoning.future", "payload": 1}),
        TextPart(text="ok"),
    ]
    assert to_openrouter_messages([reply])[0]["reasoning_details"] == [
        {"type": "reasoning.text", "text": "Thought about it.", "id": "rs_1", "index": 0},
        {"type": "reasoning.encrypted", "data": "gAAAA", "id": "rs_1", "index": 1},
        {"type": "reasoning.future", "payload": 1},
    ]


# --- round trip -----------------------------------------------------------------------------

_reasoning = st.builds(
    ReasoningPart, text=ps.text, signature=st.none() | ps.text, id=st.none() | ps.ids
) | st.builds(ReasoningPart, encrypted=ps.text, id=st.none() | ps.ids)
# Unknown parts tagged ``reasoning.*`` are reasoning details: they travel with the reasoning.
_unknown = ps.unknown(frozenset({"text", "image_url"})).filter(
    lambda p: not p.type.startswith("reasoning.")
)
_said = st.lists(ps.text_parts() | _unknown, max_size=2)
_assistant = st.builds(
    lambda thoughts, said, calls: Message(role="assistant", content=[*thoughts, *said, *calls]),
    st.lists(_reasoning, min_size=1, max_size=2),
    _said,
    st.lists(ps.tool_calls(), max_size=2),
)
_user = ps.message("user", ps.text | st.lists(ps.text_parts() | ps.url_images(), max_size=2))


@given(st.lists(_user | _assistant, max_size=5))
def test_every_history_openrouter_can_carry_survives_a_round_trip(history: list[Message]) -> None:
    request = to_openrouter_messages(history)
    assert messages_from_openrouter(request) == history
    stored(messages_from_openrouter(request))


# --- streaming ------------------------------------------------------------------------------


@pytest.mark.parametrize("sdk", [False, True])
def test_a_stream_joins_reasoning_details_and_reports_the_cost(sdk: bool) -> None:
    chunks = events("openrouter_stream.jsonl")
    stream = OpenRouterStream(clock=Clock())
    firsts = [stream.feed(ChatCompletionChunk.model_validate(c) if sdk else c) for c in chunks]
    assert [i for i, first in enumerate(firsts) if first] == [1]
    assert stream.message() == Message(
        role="assistant",
        content=[
            ReasoningPart(text="The user wants the weather.", signature=SIGNATURE),
            TextPart(text="It is sunny in Paris."),
        ],
    )
    usage = stream.usage()
    assert (usage.model, usage.cost_usd, usage.pricing) == (MODEL, 0.0111, "reported:openrouter")
    assert stream.usage(table=TABLE).cost_usd == 0.0111
