"""Cost math on inclusive counts: exact examples, every unpriced reason, and properties."""

from __future__ import annotations

import decimal
import itertools
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import schemas
from harness.pricing import (
    INVALID_USAGE,
    MODEL_NOT_FOUND,
    NO_INPUT_PRICE,
    NO_OUTPUT_PRICE,
    TABLE_UNAVAILABLE,
    ModelPrice,
    Priced,
    PriceTable,
    apply_price,
    charge,
    price,
    service_tier_of,
)
from harness.providers.anthropic import usage_from_anthropic
from schemas import UsageRecord
from schemas.types import MAX_SAFE_INT

FIXTURE = Path(__file__).parent / "fixtures" / "litellm_prices_subset.json"
TABLE = PriceTable.from_litellm_json(FIXTURE.read_bytes())


def usage(model: str, **counts: Any) -> UsageRecord:
    return UsageRecord(model=model, **counts)


def cost(model: str, **counts: Any) -> float | None:
    return price(usage(model, **counts), TABLE).cost_usd


# --- the examples of the issue, exactly -----------------------------------------------------


def test_anthropic_cache_read_example_costs_exactly_0_0111() -> None:
    # Claude Sonnet 4.5: $3 in, $15 out, $0.30 cache read per MTok. Anthropic counts the
    # 2,000 cache reads beside the 1,000 input tokens; the normalizer makes them inclusive.
    record = usage_from_anthropic(
        {"input_tokens": 1000, "cache_read_input_tokens": 2000, "output_tokens": 500},
        model="claude-sonnet-4-5",
    )
    assert record.prompt_tokens == 3000
    priced = price(record, TABLE)
    assert priced.cost_usd == 0.0111
    assert repr(priced.cost_usd) == "0.0111"  # not 0.011100000000000002
    assert priced.pricing == TABLE.provenance
    assert priced.key == "claude-sonnet-4-5"


def test_anthropic_cache_write_example_costs_exactly_0_0180() -> None:
    record = usage_from_anthropic(
        {"input_tokens": 1000, "cache_creation_input_tokens": 2000, "output_tokens": 500},
        model="claude-sonnet-4-5",
    )
    priced = price(record, TABLE)
    assert priced.cost_usd == 0.018
    assert f"{priced.cost_usd:.4f}" == "0.0180"
    assert repr(priced.cost_usd) == "0.018"


def test_openai_inclusive_example_costs_exactly_0_0100() -> None:
    # gpt-4o: $2.50 in, $1.25 cached, $10 out; OpenAI already counts cached inside prompt.
    priced = price(
        usage(
            "gpt-4o",
            provider="openai",
            prompt_tokens=3000,
            prompt_cached_tokens=2000,
            completion_tokens=500,
        ),
        TABLE,
    )
    assert priced.cost_usd == 0.01
    assert repr(priced.cost_usd) == "0.01"


def test_one_hour_writes_use_the_one_hour_rate() -> None:
    # 1,000 fresh at $3, 1,500 five-minute writes at $3.75, 500 one-hour writes at $6.
    assert cost(
        "claude-sonnet-4-5",
        prompt_tokens=3000,
        prompt_cache_creation_tokens=2000,
        prompt_cache_creation_1h_tokens=500,
        completion_tokens=0,
    ) == float(Decimal("0.003") + Decimal("0.005625") + Decimal("0.003"))


def test_long_context_tier_applies_to_the_whole_request() -> None:
    # gemini/gemini-2.5-pro: $1.25/$10 up to 200k prompt tokens, $2.50/$15 above, cache reads
    # $0.125 -> $0.25: every token of the request moves, not just those past 200k.
    at = cost("gemini/gemini-2.5-pro", prompt_tokens=200_000, completion_tokens=1000)
    above = cost("gemini/gemini-2.5-pro", prompt_tokens=200_001, completion_tokens=1000)
    assert at == float(Decimal("0.25") + Decimal("0.01"))
    assert above == float(Decimal("200001") * Decimal("0.0000025") + Decimal("0.015"))
    cached = cost(
        "gemini/gemini-2.5-pro",
        prompt_tokens=300_000,
        prompt_cached_tokens=100_000,
        completion_tokens=0,
    )
    assert cached == float(Decimal("0.5") + Decimal("0.025"))


def test_tiered_pricing_ranges() -> None:
    below = cost("dashscope/qwen-flash", prompt_tokens=256_000, completion_tokens=1000)
    above = cost("dashscope/qwen-flash", prompt_tokens=256_001, completion_tokens=1000)
    assert below == float(Decimal("256000") * Decimal("5E-8") + Decimal("0.0004"))
    assert above == float(Decimal("256001") * Decimal("2.5E-7") + Decimal("0.002"))


@pytest.mark.parametrize(
    ("tier", "expected"),
    [
        (None, "0.0125"),  # 1000 * 2.5e-6 + 1000 * 1e-5
        ("default", "0.0125"),
        ("priority", "0.02125"),  # 4.25e-6 and 1.7e-5
        ("batch", "0.00625"),  # 1.25e-6 and 5e-6 (LiteLLM's "_batches")
        ("flex", "0.0125"),  # gpt-4o has no flex rates: standard
        ("scale", "0.0125"),  # a tier the table does not know: standard
    ],
)
def test_service_tiers(tier: str | None, expected: str) -> None:
    got = cost("gpt-4o", prompt_tokens=1000, completion_tokens=1000, service_tier=tier)
    assert got == float(Decimal(expected))


def test_service_tier_of_names_the_tier_that_selects_each_card() -> None:
    tiers = [(entry, suffix) for entry in TABLE for suffix in entry.service_tiers]
    assert {suffix for _, suffix in tiers} >= {"batches", "priority", "flex"}
    for entry, suffix in tiers:
        assert entry.card(service_tier_of(suffix)) is entry.service_tiers[suffix]
    assert service_tier_of("batches") == "batch"


def test_reasoning_at_its_own_rate_when_the_table_has_one() -> None:
    t = PriceTable.from_litellm(
        {
            "r": {
                "input_cost_per_token": 1e-6,
                "output_cost_per_token": 4e-6,
                "output_cost_per_reasoning_token": 1e-5,
                "output_cost_per_token_batches": 2e-6,
            },
            "plain": {"input_cost_per_token": 1e-6, "output_cost_per_token": 4e-6},
        },
        provenance="t",
    )
    counts = {"prompt_tokens": 0, "completion_tokens": 1000, "completion_reasoning_tokens": 400}
    assert price(usage("r", **counts), t).cost_usd == float(Decimal("0.0024") + Decimal("0.004"))
    assert price(usage("plain", **counts), t).cost_usd == 0.004  # all output at the output rate
    # batch states its own output rate, so reasoning tokens are batch output tokens
    assert price(usage("r", service_tier="batch", **counts), t).cost_usd == 0.002


def test_missing_cache_rates_fall_back_to_the_input_rate() -> None:
    t = PriceTable.from_litellm(
        {
            "bare": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6},
            "five": {
                "input_cost_per_token": 1e-6,
                "output_cost_per_token": 2e-6,
                "cache_creation_input_token_cost": 1.25e-6,
            },
        },
        provenance="t",
    )
    counts = {
        "prompt_tokens": 4000,
        "prompt_cached_tokens": 1000,
        "prompt_cache_creation_tokens": 2000,
        "prompt_cache_creation_1h_tokens": 1000,
        "completion_tokens": 0,
    }
    assert price(usage("bare", **counts), t).cost_usd == 0.004  # everything at input
    # reads at input; 5-minute and (no 1-hour rate) 1-hour writes at the write rate
    assert price(usage("five", **counts), t).cost_usd == float(Decimal("0.002") + Decimal("0.0025"))


# --- never a made-up zero -------------------------------------------------------------------


def test_a_priced_free_model_costs_zero() -> None:
    priced = price(usage("gemini/gemini-exp-1206", prompt_tokens=10, completion_tokens=5), TABLE)
    assert priced == Priced(0.0, TABLE.provenance, "gemini/gemini-exp-1206")


def test_zero_tokens_on_a_paid_model_cost_zero() -> None:
    assert cost("gpt-4o", prompt_tokens=0, completion_tokens=0) == 0.0


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (usage("no-such-model", prompt_tokens=1), MODEL_NOT_FOUND),
        (usage("whisper-1", prompt_tokens=1), NO_INPUT_PRICE),
        # image tokens out, priced per image token, which this table format prices elsewhere
        (usage("gpt-image-1", prompt_tokens=1, completion_tokens=1), NO_OUTPUT_PRICE),
        (usage("gpt-4o"), INVALID_USAGE),  # no counts at all: nothing to price
        (usage("gpt-4o", prompt_tokens=10, prompt_cached_tokens=11), INVALID_USAGE),
        (
            usage(
                "gpt-4o",
                prompt_tokens=10,
                prompt_cached_tokens=6,
                prompt_cache_creation_tokens=5,
            ),
            INVALID_USAGE,
        ),
        (
            usage(
                "gpt-4o",
                prompt_tokens=10,
                prompt_cache_creation_tokens=2,
                prompt_cache_creation_1h_tokens=3,
            ),
            INVALID_USAGE,
        ),
        (usage("gpt-4o", completion_tokens=1, completion_reasoning_tokens=2), INVALID_USAGE),
        (usage("gpt-4o", prompt_cached_tokens=1, completion_tokens=1), INVALID_USAGE),
        (usage("gpt-4o", prompt_tokens=-1), INVALID_USAGE),
        (usage("gpt-4o", prompt_tokens=1.5), INVALID_USAGE),
        (usage("gpt-4o", prompt_tokens=True), INVALID_USAGE),
        (usage("gpt-4o", prompt_tokens=MAX_SAFE_INT + 1), INVALID_USAGE),
        (usage("no-such-model", prompt_tokens=-1), INVALID_USAGE),  # invalid before unknown
        # constructors do not validate types; pricing must not raise on them
        (UsageRecord(model=None, prompt_tokens=1), INVALID_USAGE),  # type: ignore[arg-type]
        (UsageRecord(model="", prompt_tokens=1), INVALID_USAGE),
        (usage("gpt-4o", prompt_tokens=1, provider=["openai"]), INVALID_USAGE),
        (usage("gpt-4o", prompt_tokens=1, service_tier={"tier": "flex"}), INVALID_USAGE),
    ],
    ids=repr,
)
def test_unpriced_reasons(record: UsageRecord, reason: str) -> None:
    priced = price(record, TABLE)
    assert priced.cost_usd is None
    assert priced.pricing == reason
    assert priced.detail  # a person can read why


def test_no_table_means_table_unavailable() -> None:
    priced = price(usage("gpt-4o", prompt_tokens=1), PriceTable())
    assert (priced.cost_usd, priced.pricing) == (None, TABLE_UNAVAILABLE)


def test_embedding_without_output_tokens_is_priced() -> None:
    assert cost("text-embedding-3-small", prompt_tokens=1000) == float(Decimal("0.00002"))


# --- apply_price ----------------------------------------------------------------------------


def test_apply_price_returns_a_priced_copy_that_encodes() -> None:
    original = usage(
        "gpt-4o", provider="openai", prompt_tokens=3000, prompt_cached_tokens=2000,
        completion_tokens=500, ttft_ms=120, cost_usd=99.0, pricing="reported:someone",
    )  # fmt: skip
    priced = apply_price(original, TABLE)
    assert (priced.cost_usd, priced.pricing) == (0.01, TABLE.provenance)
    assert original.cost_usd == 99.0  # frozen, untouched
    assert msgspec.structs.replace(priced, cost_usd=None, pricing=None) == msgspec.structs.replace(
        original, cost_usd=None, pricing=None
    )
    body = schemas.Messages(messages=[], usage=priced)
    assert schemas.decode(schemas.encode(body)) == body


def test_apply_price_unpriced_leaves_cost_absent_and_says_why() -> None:
    priced = apply_price(usage("mystery", prompt_tokens=5, cost_usd=1.0), TABLE)
    assert priced.cost_usd is None
    assert priced.pricing == MODEL_NOT_FOUND
    assert b"cost_usd" not in schemas.encode(schemas.Messages(messages=[], usage=priced))


def test_arithmetic_ignores_the_callers_decimal_context() -> None:
    expected = float(
        Decimal("123457") * Decimal("0.000003") + Decimal("9871") * Decimal("0.000015")
    )
    with decimal.localcontext() as ctx:
        ctx.prec = 3
        ctx.traps[decimal.Inexact] = True
        got = cost("claude-sonnet-4-5", prompt_tokens=123_457, completion_tokens=9_871)
    assert got == expected


def test_charge_itemizes_what_price_sums() -> None:
    record = usage(
        "claude-sonnet-4-5", prompt_tokens=4000, prompt_cached_tokens=1000,
        prompt_cache_creation_tokens=2000, prompt_cache_creation_1h_tokens=500,
        completion_tokens=300,
    )  # fmt: skip
    model = TABLE.lookup("claude-sonnet-4-5")
    assert model is not None
    lines = charge(record, model)
    assert isinstance(lines, list)
    assert [(line.component, line.tokens) for line in lines] == [
        ("input", 1000),
        ("cache_read", 1000),
        ("cache_write", 1500),
        ("cache_write_1h", 500),
        ("output", 300),
    ]
    assert all(line.cost == line.rate * line.tokens for line in lines)
    assert float(sum(line.cost for line in lines)) == price(record, TABLE).cost_usd
    unpriced = charge(usage("claude-sonnet-4-5", prompt_tokens=-1), model)
    assert isinstance(unpriced, Priced)
    assert unpriced.pricing == INVALID_USAGE


# --- properties -----------------------------------------------------------------------------

CHAT_MODELS = sorted(p.key for p in TABLE if p.mode == "chat" and p.standard.base.input is not None)
TIERS = st.sampled_from([None, "default", "priority", "flex", "batch"])


@st.composite
def valid_counts(draw: st.DrawFn, max_prompt: int = 1_500_000) -> dict[str, Any]:
    prompt = draw(st.integers(0, max_prompt))
    cached = draw(st.integers(0, prompt))
    written = draw(st.integers(0, prompt - cached))
    written_1h = draw(st.integers(0, written))
    completion = draw(st.integers(0, 100_000))
    reasoning = draw(st.integers(0, completion))
    counts = {
        "prompt_tokens": prompt,
        "prompt_cached_tokens": cached,
        "prompt_cache_creation_tokens": written,
        "prompt_cache_creation_1h_tokens": written_1h,
        "completion_tokens": completion,
        "completion_reasoning_tokens": reasoning,
    }
    # An absent sub-count means zero; absent top-level counts are exercised elsewhere.
    for name in draw(st.sets(st.sampled_from(sorted(counts)[1:]))):
        if counts[name] == 0 and name not in ("completion_tokens", "prompt_tokens"):
            counts[name] = None
    return counts


def is_valid(counts: dict[str, Any]) -> bool:
    values = {k: v for k, v in counts.items() if v is not None}
    if "prompt_tokens" not in values and "completion_tokens" not in values:
        return False
    if any(type(v) is not int or not 0 <= v <= MAX_SAFE_INT for v in values.values()):
        return False
    g = values.get
    return (
        g("prompt_cached_tokens", 0) + g("prompt_cache_creation_tokens", 0) <= g("prompt_tokens", 0)
        and g("prompt_cache_creation_1h_tokens", 0) <= g("prompt_cache_creation_tokens", 0)
        and g("completion_reasoning_tokens", 0) <= g("completion_tokens", 0)
    )


ANY_COUNT = st.one_of(st.none(), st.integers(-3, 5000), st.just(MAX_SAFE_INT + 1))


@given(
    st.sampled_from(CHAT_MODELS),
    st.fixed_dictionaries(
        {
            name: ANY_COUNT
            for name in (
                "prompt_tokens",
                "prompt_cached_tokens",
                "prompt_cache_creation_tokens",
                "prompt_cache_creation_1h_tokens",
                "completion_tokens",
                "completion_reasoning_tokens",
            )
        }
    ),
    TIERS,
)
def test_cost_is_none_exactly_when_the_usage_is_invalid(
    model: str, counts: dict[str, Any], tier: str | None
) -> None:
    priced = price(usage(model, service_tier=tier, **counts), TABLE)
    if is_valid(counts):
        assert priced.cost_usd is not None
        assert priced.cost_usd >= 0
        assert priced.pricing == TABLE.provenance
    else:
        assert (priced.cost_usd, priced.pricing) == (None, INVALID_USAGE)


def exact_total(record: UsageRecord, model: ModelPrice) -> Decimal:
    lines = charge(record, model)
    assert isinstance(lines, list)
    return sum((line.cost for line in lines), Decimal(0))


@given(st.sampled_from(CHAT_MODELS), valid_counts(), TIERS)
def test_the_float_is_the_nearest_to_the_exact_sum(
    model: str, counts: dict[str, Any], tier: str | None
) -> None:
    record = usage(model, service_tier=tier, **counts)
    found = TABLE.lookup(model)
    assert found is not None
    priced = price(record, TABLE)
    exact = exact_total(record, found)
    # float(Fraction) rounds correctly: the cost is the double nearest the exact sum.
    assert priced.cost_usd == float(Fraction(exact))


def monotone(model: ModelPrice) -> bool:
    """Whether every long-context tier costs at least the base, component by component."""
    cards = [model.standard, *model.service_tiers.values()]
    for card in cards:
        rungs = [card.base, *(rates for _, rates in reversed(card.tiers))]
        for low, high in itertools.pairwise(rungs):
            for name in low.__struct_fields__:
                a, b = getattr(low, name), getattr(high, name)
                if a is not None and (b is None or b < a):
                    return False
    return True


MONOTONE_MODELS = [key for key in CHAT_MODELS if monotone(TABLE.get(key))]  # type: ignore[arg-type]
KINDS = {
    "fresh input": ("prompt_tokens",),
    "cache read": ("prompt_tokens", "prompt_cached_tokens"),
    "cache write": ("prompt_tokens", "prompt_cache_creation_tokens"),
    "1h cache write": (
        "prompt_tokens",
        "prompt_cache_creation_tokens",
        "prompt_cache_creation_1h_tokens",
    ),
    "output": ("completion_tokens",),
    "reasoning": ("completion_tokens", "completion_reasoning_tokens"),
}


def test_most_models_have_monotone_tiers() -> None:
    assert len(MONOTONE_MODELS) > 0.9 * len(CHAT_MODELS)


@given(
    st.sampled_from(MONOTONE_MODELS),
    valid_counts(),
    TIERS,
    st.sampled_from(sorted(KINDS)),
    st.integers(1, 300_000),
)
def test_cost_never_falls_when_tokens_of_any_kind_are_added(
    model: str, counts: dict[str, Any], tier: str | None, kind: str, extra: int
) -> None:
    before = price(usage(model, service_tier=tier, **counts), TABLE).cost_usd
    grown = dict(counts)
    for field in KINDS[kind]:  # the kind and every inclusive total it is part of
        grown[field] = (grown[field] or 0) + extra
    after = price(usage(model, service_tier=tier, **grown), TABLE).cost_usd
    assert before is not None
    assert after is not None
    assert after >= before


@given(
    st.sampled_from(CHAT_MODELS),
    valid_counts(max_prompt=60_000),
    valid_counts(max_prompt=60_000),
    TIERS,
)
def test_cost_is_additive_within_a_tier(
    model: str, a: dict[str, Any], b: dict[str, Any], tier: str | None
) -> None:
    # Prompts stay under every long-context threshold (the lowest in the table is 100k), so
    # the parts and the whole are priced at the same rates: cost(a + b) == cost(a) + cost(b).
    found = TABLE.get(model)
    assert found is not None
    assume(all(above >= 120_000 for above in found.thresholds))
    whole = {k: (a[k] or 0) + (b[k] or 0) for k in a}
    total = exact_total(usage(model, service_tier=tier, **whole), found)
    parts = exact_total(usage(model, service_tier=tier, **a), found) + exact_total(
        usage(model, service_tier=tier, **b), found
    )
    assert total == parts


@given(valid_counts(), TIERS)
def test_the_formula_against_fractions(counts: dict[str, Any], tier: str | None) -> None:
    """An independent oracle: the issue's formula in Fractions, on the published floats."""
    raw = {
        "input_cost_per_token": 3e-06,
        "output_cost_per_token": 1.5e-05,
        "cache_read_input_token_cost": 3e-07,
        "cache_creation_input_token_cost": 3.75e-06,
        "cache_creation_input_token_cost_above_1hr": 6e-06,
        "output_cost_per_reasoning_token": 1.1e-05,
        "input_cost_per_token_above_200k_tokens": 6e-06,
        "output_cost_per_token_above_200k_tokens": 2.25e-05,
    }
    t = PriceTable.from_litellm({"m": raw}, provenance="t")
    c = {k: v or 0 for k, v in counts.items()}
    long = c["prompt_tokens"] > 200_000

    def rate(name: str, fallback: str | None = None) -> Fraction:
        if long and f"{name}_above_200k_tokens" in raw:
            return Fraction(repr(raw[f"{name}_above_200k_tokens"]))
        return Fraction(repr(raw[name]))

    expected = (
        (c["prompt_tokens"] - c["prompt_cached_tokens"] - c["prompt_cache_creation_tokens"])
        * rate("input_cost_per_token")
        + c["prompt_cached_tokens"] * rate("cache_read_input_token_cost")
        + (c["prompt_cache_creation_tokens"] - c["prompt_cache_creation_1h_tokens"])
        * rate("cache_creation_input_token_cost")
        + c["prompt_cache_creation_1h_tokens"] * rate("cache_creation_input_token_cost_above_1hr")
        + (c["completion_tokens"] - c["completion_reasoning_tokens"])
        * rate("output_cost_per_token")
        # above 200k the tier states an output rate and no reasoning rate: reasoning is output
        + c["completion_reasoning_tokens"]
        * (rate("output_cost_per_token") if long else rate("output_cost_per_reasoning_token"))
    )
    assert price(usage("m", service_tier=tier, **counts), t).cost_usd == float(expected)
