"""Additive-provider normalizers: Anthropic, Vertex-Anthropic and Bedrock Converse counts
become inclusive ``UsageRecord``s, once, at the edge."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.pricing import PriceTable, price
from harness.providers.anthropic import usage_from_anthropic, usage_from_vertex_anthropic
from harness.providers.bedrock import usage_from_bedrock_converse
from schemas import UsageRecord

FIXTURE = Path(__file__).parents[1] / "fixtures" / "litellm_prices_subset.json"
TABLE = PriceTable.from_litellm_json(FIXTURE.read_bytes())


def test_anthropic_counts_become_inclusive() -> None:
    record = usage_from_anthropic(
        {
            "input_tokens": 1000,
            "cache_read_input_tokens": 2000,
            "cache_creation_input_tokens": 3000,
            "cache_creation": {
                "ephemeral_5m_input_tokens": 2000,
                "ephemeral_1h_input_tokens": 1000,
            },
            "output_tokens": 500,
            "service_tier": "standard",
            "server_tool_use": {"web_search_requests": 0},
        },
        model="claude-sonnet-4-5-20250929",
    )
    assert record == UsageRecord(
        model="claude-sonnet-4-5-20250929",
        provider="anthropic",
        prompt_tokens=6000,
        completion_tokens=500,
        prompt_cached_tokens=2000,
        prompt_cache_creation_tokens=3000,
        prompt_cache_creation_1h_tokens=1000,
        service_tier="default",
    )


def test_anthropic_sdk_objects_work_like_mappings() -> None:
    sdk_usage = SimpleNamespace(
        input_tokens=10,
        output_tokens=3,
        cache_read_input_tokens=None,
        cache_creation_input_tokens=None,
        cache_creation=SimpleNamespace(ephemeral_5m_input_tokens=4, ephemeral_1h_input_tokens=6),
        service_tier="priority",
    )
    record = usage_from_anthropic(sdk_usage, model="claude-opus-4-6")
    assert (record.prompt_tokens, record.prompt_cache_creation_tokens) == (20, 10)
    assert record.prompt_cache_creation_1h_tokens == 6
    assert record.prompt_cached_tokens is None
    assert record.service_tier == "priority"


def test_anthropic_service_tier_argument_wins() -> None:
    block = {"input_tokens": 1, "output_tokens": 1, "service_tier": "standard"}
    assert usage_from_anthropic(block, model="m", service_tier="batch").service_tier == "batch"
    assert (
        usage_from_anthropic({"input_tokens": 1, "output_tokens": 1}, model="m").service_tier
        is None
    )


def test_vertex_anthropic_is_anthropic_served_by_vertex() -> None:
    record = usage_from_vertex_anthropic(
        {"input_tokens": 1000, "cache_read_input_tokens": 2000, "output_tokens": 500},
        model="claude-sonnet-4-5@20250929",
    )
    assert (record.provider, record.prompt_tokens) == ("vertex_ai", 3000)
    priced = price(record, TABLE)
    assert priced.key == "vertex_ai/claude-sonnet-4-5@20250929"
    assert priced.cost_usd == 0.0111


def test_bedrock_converse_counts_become_inclusive() -> None:
    record = usage_from_bedrock_converse(
        {
            "inputTokens": 1000,
            "outputTokens": 500,
            "totalTokens": 6500,
            "cacheReadInputTokens": 2000,
            "cacheWriteInputTokens": 3000,
            "cacheDetails": [
                {"inputTokens": 1000, "ttl": "1h"},
                {"inputTokens": 2000, "ttl": "5m"},
            ],
        },
        model="us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    )
    assert record == UsageRecord(
        model="us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        provider="bedrock",
        prompt_tokens=6000,
        completion_tokens=500,
        prompt_cached_tokens=2000,
        prompt_cache_creation_tokens=3000,
        prompt_cache_creation_1h_tokens=1000,
    )
    assert price(record, TABLE).key == "us.anthropic.claude-sonnet-4-5-20250929-v1:0"


def test_bedrock_writes_from_details_alone() -> None:
    record = usage_from_bedrock_converse(
        {"inputTokens": 5, "outputTokens": 1, "cacheDetails": [{"inputTokens": 7, "ttl": "5m"}]},
        model="m",
        service_tier="flex",
    )
    assert (record.prompt_tokens, record.prompt_cache_creation_tokens) == (12, 7)
    assert record.prompt_cache_creation_1h_tokens is None
    assert record.service_tier == "flex"


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"cache_read_input_tokens": 1}, "usage has neither input_tokens nor output_tokens"),
        ({"input_tokens": -1, "output_tokens": 1}, r"usage.input_tokens must be an integer >= 0"),
        (
            {"input_tokens": 2**53, "output_tokens": 1},
            r"usage.input_tokens must be .*below 2\*\*53",
        ),
        ({"input_tokens": 1.0, "output_tokens": 1}, "usage.input_tokens must be an integer"),
        ({"input_tokens": True, "output_tokens": 1}, "usage.input_tokens must be an integer"),
        (
            {
                "input_tokens": 1,
                "output_tokens": 1,
                "cache_creation": {"ephemeral_1h_input_tokens": "9"},
            },
            r"usage.cache_creation.ephemeral_1h_input_tokens must be",
        ),
    ],
)
def test_anthropic_bad_counts_name_the_field(block: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        usage_from_anthropic(block, model="m")


def test_a_count_the_block_does_not_carry_stays_absent() -> None:
    """A streaming ``message_delta`` usage may carry output counts alone: the prompt is then
    unknown (absent), not an error and not 0."""
    record = usage_from_anthropic({"output_tokens": 7}, model="m")
    assert (record.prompt_tokens, record.completion_tokens) == (None, 7)
    assert usage_from_anthropic({"input_tokens": 5}, model="m").completion_tokens is None
    bedrock = usage_from_bedrock_converse({"outputTokens": 1}, model="m")
    assert (bedrock.prompt_tokens, bedrock.completion_tokens) == (None, 1)


def test_a_sum_too_large_for_a_usage_record_is_refused() -> None:
    big = 2**53 - 1
    with pytest.raises(ValueError, match="usage adds up to"):
        usage_from_anthropic(
            {"input_tokens": big, "cache_read_input_tokens": 1, "output_tokens": 0}, model="m"
        )


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"totalTokens": 1}, "usage has neither inputTokens nor outputTokens"),
        ({"inputTokens": 1, "outputTokens": 1, "cacheDetails": "x"}, "cacheDetails must be a list"),
        (
            {"inputTokens": 1, "outputTokens": 1, "cacheDetails": [{"ttl": "1h"}]},
            r"usage.cacheDetails\[0\].inputTokens is missing",
        ),
    ],
)
def test_bedrock_bad_counts_name_the_field(block: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        usage_from_bedrock_converse(block, model="m")


@given(
    st.integers(0, 10**7),
    st.integers(0, 10**7),
    st.integers(0, 10**7),
    st.integers(0, 10**7),
    st.integers(0, 10**6),
)
def test_anthropic_and_bedrock_agree_and_price_validly(
    fresh: int, read: int, written_5m: int, written_1h: int, out: int
) -> None:
    anthropic = usage_from_anthropic(
        {
            "input_tokens": fresh,
            "cache_read_input_tokens": read,
            "cache_creation_input_tokens": written_5m + written_1h,
            "cache_creation": {
                "ephemeral_5m_input_tokens": written_5m,
                "ephemeral_1h_input_tokens": written_1h,
            },
            "output_tokens": out,
        },
        model="claude-sonnet-4-5",
    )
    bedrock = usage_from_bedrock_converse(
        {
            "inputTokens": fresh,
            "cacheReadInputTokens": read,
            "cacheWriteInputTokens": written_5m + written_1h,
            "cacheDetails": [
                {"inputTokens": written_1h, "ttl": "1h"},
                {"inputTokens": written_5m, "ttl": "5m"},
            ],
            "outputTokens": out,
        },
        model="claude-sonnet-4-5",
    )
    assert (
        anthropic.prompt_tokens == bedrock.prompt_tokens == fresh + read + written_5m + written_1h
    )
    for record in (anthropic, bedrock):
        # Inclusive and consistent by construction, so never unpriced for invalid usage.
        assert price(record, TABLE).cost_usd is not None
