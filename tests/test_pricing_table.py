"""The price table: reading LiteLLM's format, and the lookup rules (exact, provider-qualified,
boundary prefix) without scanning the table."""

from __future__ import annotations

import json
import math
import string
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import harness.pricing as pricing
from harness.pricing import ModelPrice, PriceTable, PriceTableError, RateCard, Rates

FIXTURE = Path(__file__).parent / "fixtures" / "litellm_prices_subset.json"


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return PriceTable.from_litellm_json(FIXTURE.read_bytes(), source=str(FIXTURE))


def key_of(found: ModelPrice | None) -> str | None:
    return None if found is None else found.key


def make(entries: dict[str, Any]) -> PriceTable:
    return PriceTable.from_litellm(entries, provenance="test")


def chat(input: float = 1e-6, output: float = 2e-6, **extra: Any) -> dict[str, Any]:
    return {
        "input_cost_per_token": input,
        "output_cost_per_token": output,
        "litellm_provider": extra.pop("litellm_provider", "openai"),
        "mode": "chat",
        **extra,
    }


# --- the public surface ---------------------------------------------------------------------


def test_all_names_exist_and_nothing_public_is_missing() -> None:
    for name in pricing.__all__:
        assert hasattr(pricing, name), name
    public = {
        name
        for name, value in vars(pricing).items()
        if not name.startswith("_") and not isinstance(value, type(pricing))
    }
    assert public == set(pricing.__all__)


# --- reading the LiteLLM format -------------------------------------------------------------


def test_fixture_reads_with_digest_provenance(table: PriceTable) -> None:
    assert table.provenance.startswith("litellm:")
    assert len(table.provenance) == len("litellm:") + 12
    assert table.skipped == 0
    assert table.get("sample_spec") is None  # the explanatory entry is not a model
    assert len(table) == len(json.loads(FIXTURE.read_bytes())) - 1


def test_provenance_digests_the_bytes_and_changes_with_them() -> None:
    raw = json.dumps({"m": chat()}).encode()
    same = PriceTable.from_litellm_json(raw)
    assert same.provenance == PriceTable.from_litellm_json(raw).provenance
    other = PriceTable.from_litellm_json(json.dumps({"m": chat(input=2e-6)}).encode())
    assert other.provenance != same.provenance


def test_mapping_provenance_is_canonical() -> None:
    a = PriceTable.from_litellm({"a": chat(), "b": chat(input=3e-6)})
    b = PriceTable.from_litellm({"b": chat(input=3e-6), "a": chat()})
    assert a.provenance == b.provenance
    assert a.provenance.startswith("litellm:")


@pytest.mark.parametrize(
    "entry",
    [
        ["a", "list"],
        "a string",
        42,
        None,
        {"input_cost_per_token": "3e-6"},  # a string where a number belongs
        {"input_cost_per_token": -1e-6},
        {"input_cost_per_token": math.nan},
        {"input_cost_per_token": math.inf},
        {"input_cost_per_token": True},
        {"output_cost_per_token_above_200k_tokens_priority": [1]},
        {"tiered_pricing": "cheap"},
        {"tiered_pricing": []},
        {"tiered_pricing": [{"range": [0], "input_cost_per_token": 1e-6}]},
        {"tiered_pricing": [{"range": [10, 5], "input_cost_per_token": 1e-6}]},
        {"tiered_pricing": [{"range": [0, 5], "input_cost_per_token": "x"}]},
        {"tiered_pricing": [{"range": [0, 5], "input_cost_per_token": 1e-6}, "junk"]},
    ],
    ids=repr,
)
def test_entries_of_another_shape_are_skipped_and_counted(entry: object) -> None:
    t = make({"sample_spec": {"mode": "docs"}, "good": chat(), "bad": entry})
    assert t.skipped == 1
    assert t.get("bad") is None
    assert t.get("good") is not None


def test_entries_json_cannot_hold_are_skipped_too() -> None:
    t = PriceTable.from_litellm({"m": chat(), "odd": {1, 2}, "obj": object()})
    assert (len(t), t.skipped) == (1, 2)
    assert t.provenance.startswith("litellm:")


def test_non_token_tiers_and_unknown_fields_are_ignored_not_skipped() -> None:
    t = make(
        {
            "search": {
                "mode": "search",
                "tiered_pricing": [{"input_cost_per_query": 0.005, "max_results_range": [0, 25]}],
            },
            "m": chat(input_cost_per_token_cache_hit=1e-9, output_cost_per_image=0.04),
        }
    )
    assert t.skipped == 0
    search = t.get("search")
    assert search is not None
    assert search.standard.base == Rates()
    m = t.get("m")
    assert m is not None
    assert m.standard.base == Rates(input=Decimal("0.000001"), output=Decimal("0.000002"))


def test_json_that_is_not_a_table_is_an_error() -> None:
    with pytest.raises(PriceTableError, match="not a JSON document"):
        PriceTable.from_litellm_json(b"<html>503</html>")
    with pytest.raises(PriceTableError, match="expected a JSON object, got list"):
        PriceTable.from_litellm_json(b"[1, 2]")


def test_rates_are_the_published_decimals_not_binary_floats(table: PriceTable) -> None:
    sonnet = table.get("claude-sonnet-4-5")
    assert sonnet is not None
    assert sonnet.standard.base == Rates(
        input=Decimal("0.000003"),
        output=Decimal("0.000015"),
        cache_read=Decimal("3E-7"),
        cache_write=Decimal("0.00000375"),
        cache_write_1h=Decimal("0.000006"),
    )
    assert sonnet.provider == "anthropic"
    assert sonnet.mode == "chat"


def test_field_grammar_tiers_services_and_the_1h_rate() -> None:
    t = make(
        {
            "m": chat(
                input=1e-6,
                output=2e-6,
                cache_creation_input_token_cost=1.25e-6,
                cache_creation_input_token_cost_above_1hr=2e-6,
                cache_creation_input_token_cost_above_1hr_above_200k_tokens=4e-6,
                input_cost_per_token_above_200k_tokens=3e-6,
                input_cost_per_token_above_128_tokens=1.5e-6,  # no "k": plain tokens
                input_cost_per_token_priority=5e-6,
                output_cost_per_token_above_200k_tokens_priority=9e-6,
                output_cost_per_token_batches=1e-6,
            )
        }
    )
    m = t.get("m")
    assert m is not None
    assert m.thresholds == (128, 200_000)
    assert set(m.service_tiers) == {"priority", "batches"}
    d = Decimal
    assert m.standard.at(128).input == d("0.000001")
    assert m.standard.at(129).input == d("0.0000015")
    above = m.standard.at(200_001)
    assert (above.input, above.cache_write_1h) == (d("0.000003"), d("0.000004"))
    assert above.cache_write == d("0.00000125")  # no tier rate: the base rate
    priority = m.card("priority").at(200_001)
    # service at the tier, then standard at the tier, then service base, then standard base
    assert (priority.input, priority.output) == (d("0.000003"), d("0.000009"))
    assert m.card("priority").at(10).input == d("0.000005")
    assert m.card("batch").at(10).output == d("0.000001")  # "batch" is LiteLLM's "_batches"
    assert m.card("flex") is m.standard  # no flex rates: standard
    for standard in (None, "default", "standard", "auto", " DEFAULT "):
        assert m.card(standard) is m.standard


def test_reasoning_rate_belongs_to_the_tier_that_states_it() -> None:
    t = make(
        {
            "m": chat(
                input=1e-6,
                output=4e-6,
                output_cost_per_reasoning_token=4e-6,
                output_cost_per_token_batches=2e-6,
            )
        }
    )
    m = t.get("m")
    assert m is not None
    assert m.standard.base.reasoning == Decimal("0.000004")
    # The batch tier states its own output rate and no reasoning rate: reasoning tokens are
    # its output tokens, not standard-priced reasoning.
    assert m.card("batch").base.reasoning is None
    assert m.card("batch").base.output == Decimal("0.000002")


def test_tiered_pricing_ranges_become_whole_request_tiers() -> None:
    t = make(
        {
            "q": {
                "litellm_provider": "dashscope",
                "mode": "chat",
                "output_cost_per_token": 9e-6,
                "tiered_pricing": [
                    {"range": [256000.0, 1000000.0], "input_cost_per_token": 2.5e-7},
                    {
                        "range": [0, 256000.0],
                        "input_cost_per_token": 5e-8,
                        "output_cost_per_token": 4e-7,
                    },
                ],
            }
        }
    )
    q = t.get("q")
    assert q is not None
    assert q.standard.at(256_000).input == Decimal("5E-8")
    assert q.standard.at(256_001).input == Decimal("2.5E-7")
    assert q.standard.at(256_000).output == Decimal("4E-7")  # the range beats the top level


def test_rates_refuse_what_the_math_cannot_use() -> None:
    with pytest.raises(ValueError, match=r"Rates.input must be a finite Decimal >= 0"):
        Rates(input=Decimal("-1"))
    with pytest.raises(ValueError, match=r"Rates.output"):
        Rates(output=Decimal("NaN"))
    with pytest.raises(ValueError, match=r"Rates.cache_read"):
        Rates(cache_read=3e-6)  # type: ignore[arg-type]


def test_rate_cards_refuse_tiers_out_of_order() -> None:
    for tiers in (((5, Rates()), (10, Rates())), ((0, Rates()),), ((7, Rates()), (7, Rates()))):
        with pytest.raises(ValueError, match="distinct thresholds > 0, highest first"):
            RateCard(base=Rates(), tiers=tiers)


def test_an_empty_table_is_unavailable() -> None:
    empty = PriceTable()
    assert not empty.available
    assert len(empty) == 0
    assert empty.lookup("gpt-4o") is None
    assert "empty" in repr(empty)


def test_a_table_without_token_rates_is_unavailable() -> None:
    per_second = PriceTable.from_litellm({"whisper-1": {"input_cost_per_second": 0.0001}})
    assert len(per_second) == 1
    assert not per_second.available
    free = PriceTable.from_litellm({"m": {"input_cost_per_token": 0, "mode": "chat"}})
    assert free.available  # a rate of 0 is a price


# --- lookup ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "provider", "key"),
    [
        # exact, case-insensitive
        ("gpt-4o", None, "gpt-4o"),
        ("GPT-4o", "openai", "gpt-4o"),
        ("claude-sonnet-4-5-20250929", "anthropic", "claude-sonnet-4-5-20250929"),
        # boundary prefix: dated and suffixed ids
        ("claude-sonnet-4-6-20251022", None, "claude-sonnet-4-6"),
        ("gpt-4o-2024-05-13-preview", None, "gpt-4o-2024-05-13"),
        ("gpt-5.1-2099-01-01", None, "gpt-5.1"),
        ("o3-mini-high", "openai", "o3-mini"),
        # provider-qualified, preferred when the caller names the provider
        ("gemini-2.5-pro", "gemini", "gemini/gemini-2.5-pro"),
        ("gemini-2.5-pro", "google", "gemini/gemini-2.5-pro"),
        ("gemini-2.5-pro", None, "gemini-2.5-pro"),
        ("gemini-2.5-pro", "vertex_ai", "gemini-2.5-pro"),
        ("gpt-4o", "azure", "azure/gpt-4o"),
        ("claude-sonnet-4-5@20250929", "vertex_ai", "vertex_ai/claude-sonnet-4-5@20250929"),
        ("claude-sonnet-4-6@default", "vertex_ai", "vertex_ai/claude-sonnet-4-6@default"),
        ("claude-sonnet-4-5@20250929", None, "claude-sonnet-4-5"),  # "@" is a boundary
        ("claude-sonnet-4-5", "vertex_ai", "vertex_ai/claude-sonnet-4-5"),
        ("claude-sonnet-4-5", "some-proxy", "claude-sonnet-4-5"),  # unknown provider: any
        # routing prefixes, Bedrock geo and vendor prefixes, ARNs
        ("anthropic/claude-opus-4-6", None, "claude-opus-4-6"),
        ("openrouter/anthropic/claude-opus-4-6", None, "claude-opus-4-6"),
        ("models/gemini-2.5-flash", "gemini", "gemini/gemini-2.5-flash"),
        (
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "bedrock",
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        ),
        (
            "bedrock/us-east-1/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            None,
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        ),
        (
            "bedrock/us-gov-west-1/anthropic.claude-sonnet-4-5-20250929-v1:0",
            None,
            "bedrock/us-gov-west-1/anthropic.claude-sonnet-4-5-20250929-v1:0",
        ),
        (
            "arn:aws:bedrock:ca-central-1:123456789012:inference-profile/"
            "ca.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "bedrock",
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
        ),
        # no v2 anywhere: the shortest form's longest boundary prefix
        ("jp.anthropic.claude-sonnet-4-5-20250929-v2:0", None, "claude-sonnet-4-5-20250929"),
        ("us.amazon.nova-pro-v1:0", "bedrock", "us.amazon.nova-pro-v1:0"),
        ("eu.amazon.nova-pro-v1:0", "bedrock", "amazon.nova-pro-v1:0"),
    ],
)
def test_lookup(table: PriceTable, model: str, provider: str | None, key: str) -> None:
    assert key_of(table.lookup(model, provider)) == key


@pytest.mark.parametrize(
    "model",
    ["unknown-model", "gpt", "claude", "", "gpt-4o5", "-", "anthropic/", "us.anthropic."],
)
def test_lookup_misses(table: PriceTable, model: str) -> None:
    assert table.lookup(model) is None


def test_a_prefix_must_end_at_a_boundary() -> None:
    t = make({"gpt-4": chat(), "claude-sonnet-4": chat()})
    assert t.lookup("gpt-4o-mini") is None  # never gpt-4: "o" is not a boundary
    assert t.lookup("gpt-4o") is None
    assert t.lookup("gpt-4.1") is None  # "." is not a boundary either
    assert t.lookup("claude-sonnet-4-6-20251022") is not None
    with_4o = make({"gpt-4": chat(), "gpt-4o": chat(input=2.5e-6)})
    found = with_4o.lookup("gpt-4o-mini")
    assert found is not None
    assert found.key == "gpt-4o"
    dated = make({"gpt-4o": chat()})
    found = dated.lookup("gpt-4o-2024-08-06")
    assert found is not None
    assert found.key == "gpt-4o"
    found = dated.lookup("gpt-4o:ft-org:custom")
    assert found is not None
    assert found.key == "gpt-4o"


def test_exact_beats_provider_qualified_beats_prefix() -> None:
    t = make(
        {
            "m": chat(litellm_provider="openai"),
            "azure/m": chat(litellm_provider="azure"),
            "m-2024": chat(litellm_provider="openai"),
        }
    )
    assert key_of(t.lookup("m-2024", "azure")) == "m-2024"
    assert key_of(t.lookup("m", "azure")) == "azure/m"
    assert key_of(t.lookup("m", "openai")) == "m"
    assert key_of(t.lookup("m-2025", "azure")) == "azure/m"
    assert key_of(t.lookup("m-2025")) == "m"


class CountingDict(dict[str, ModelPrice]):
    """A dict that counts probes and refuses to be scanned."""

    probes = 0

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        CountingDict.probes += 1
        return super().get(key, default)

    def __iter__(self) -> Any:
        raise AssertionError("lookup scanned the table")

    def keys(self) -> Any:
        raise AssertionError("lookup scanned the table")

    def values(self) -> Any:
        raise AssertionError("lookup scanned the table")

    def items(self) -> Any:
        raise AssertionError("lookup scanned the table")


@pytest.mark.parametrize(
    ("model", "provider"),
    [
        ("claude-sonnet-4-6-20251022", None),
        ("bedrock/us-east-1/us.anthropic.claude-sonnet-4-5-20250929-v1:0", "bedrock"),
        ("an-unknown-model-with-many-many-many-boundaries-2026-11-23:latest@x", "gemini"),
    ],
)
def test_lookup_probes_boundaries_and_never_scans(
    table: PriceTable, model: str, provider: str | None
) -> None:
    probing = PriceTable(table, provenance=table.provenance)
    probing._by_key = CountingDict(probing._by_key)  # type: ignore[assignment]
    CountingDict.probes = 0
    probing.lookup(model, provider)
    boundaries = sum(model.count(c) for c in "-:@") + 1
    forms = model.count("/") + 3
    assert 0 < CountingDict.probes <= 2 * forms * boundaries
    CountingDict.probes = 0
    probing.lookup(model, provider)
    assert CountingDict.probes == 0  # memoised


def test_memo_is_bounded(table: PriceTable) -> None:
    t = PriceTable(table)
    for i in range(5000):
        t.lookup(f"claude-sonnet-4-5-{i}")
    assert len(t._memo) <= 4096
    assert key_of(t.lookup("claude-sonnet-4-5-4999")) == "claude-sonnet-4-5"


def test_memoized_derives_once_per_key_and_stays_bounded(table: PriceTable) -> None:
    t = PriceTable(table)
    calls: list[int] = []

    def derive(owner: PriceTable, key: int) -> str:
        assert owner is t
        calls.append(key)
        return f"derived {key}"

    assert t.memoized(1, derive) == t.memoized(1, derive) == "derived 1"
    assert calls == [1]
    for key in range(2, 5001):
        t.memoized(key, derive)
    assert len(t._derived) <= 4096
    assert t.memoized(5000, derive) == "derived 5000"
    assert calls.count(5000) == 1


# --- lookup agrees with the slow definition -------------------------------------------------


def reference_lookup(keys: list[str], model: str) -> str | None:
    """The definition of the prefix rule, by scanning every key (no provider, one form)."""
    model = model.lower()
    if model in keys:
        return model
    best = None
    for key in keys:
        at_boundary = len(key) < len(model) and model[len(key)] in "-:@"
        if model.startswith(key) and at_boundary and (best is None or len(key) > len(best)):
            best = key
    return best


SIMPLE_KEYS = [
    "gpt-4",
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4o-2024-08-06",
    "o1",
    "o1-mini",
    "claude-sonnet-4",
    "claude-sonnet-4-6",
    "claude-opus-4-6@default",
    "x:y",
]
SIMPLE = make({key: chat() for key in SIMPLE_KEYS})


@given(
    st.sampled_from(SIMPLE_KEYS),
    st.text(alphabet=string.ascii_lowercase[:4] + "0123-:@.", max_size=12),
)
@example("gpt-4", "o-mini")
@example("gpt-4o", "-mini-2024")
@example("claude-sonnet-4", "-6@2025")
def test_boundary_probing_matches_the_scanning_definition(stem: str, tail: str) -> None:
    model = stem + tail
    assert key_of(SIMPLE.lookup(model)) == reference_lookup(SIMPLE_KEYS, model)
