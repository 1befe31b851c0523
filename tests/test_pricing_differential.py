"""Differential tests: our pricing against the ``genai-prices`` package, an independent table
and an independent implementation of the same arithmetic.

1. On every chat model of the LiteLLM fixture that genai-prices also prices, for
   hypothesis-generated usages, our cost from LiteLLM's rates and genai-prices' own
   ``calc_price`` agree within 1e-9 USD wherever the two tables price the same tier.
2. Where they do not, the disagreement is listed, cell by cell (service tier x long-context
   tier x kind of token), with its reason, in ``fixtures/pricing_disagreements.json``; the
   test fails if that file misses a disagreement or lists one that no longer exists.
3. Our reading of genai-prices' bundled data (the loader's offline fallback) prices every
   token-priced model exactly as genai-prices does.

``python tests/test_pricing_differential.py`` prints the cells the file does not explain.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

genai_prices = pytest.importorskip("genai_prices")

from harness.pricing import ModelPrice, PriceTable, charge, price  # noqa: E402
from harness.pricing._genai import _cells, table_from_genai_prices  # noqa: E402
from harness.pricing._rates import build_model_price  # noqa: E402
from schemas import UsageRecord  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
LITELLM = PriceTable.from_litellm_json((FIXTURES / "litellm_prices_subset.json").read_bytes())
DISAGREEMENTS = FIXTURES / "pricing_disagreements.json"
#: When genai-prices' dated and time-of-day prices are read: the fixture's month, at 02:00 UTC,
#: inside DeepSeek's standard-price hours in both tables (neither models an off-peak rate then).
WHEN = datetime(2026, 11, 20, 2, tzinfo=UTC)
TOLERANCE = 1e-9
SERVICES = ("default", "priority", "flex", "batch")
COMPONENTS = ("input", "cache_read", "cache_write", "cache_write_1h", "output", "reasoning")
#: LiteLLM provider -> genai-prices provider id.
GENAI_PROVIDER = {
    "anthropic": "anthropic",
    "openai": "openai",
    "azure": "azure",
    "gemini": "google",
    "vertex_ai-language-models": "google",
    "vertex_ai-anthropic_models": "google",
    "bedrock": "aws",
    "bedrock_converse": "aws",
    "deepseek": "deepseek",
    "mistral": "mistral",
    "xai": "x-ai",
    "minimax": "minimax",
}
#: genai-prices request context for each usage service tier.
CONTEXT: dict[str, dict[str, str] | None] = {
    "default": None,
    "priority": {"service_tier": "priority"},
    "flex": {"service_tier": "flex"},
    "batch": {"processing": "batch"},
}
Cell = tuple[str, int, str]  # (service tier, tier lower bound "above", component)


def model_ref(key: str) -> str:
    """The id a caller sends for a LiteLLM key: without LiteLLM's routing prefix."""
    for prefix in ("gemini/", "vertex_ai/", "deepseek/", "xai/", "mistral/", "azure/", "minimax/"):
        if key.startswith(prefix):
            return key[len(prefix) :]
    if key.startswith("bedrock/"):  # bedrock/<region>/<model id>
        return key.split("/", 2)[-1]
    return key


class Shared:
    """A chat model both tables price: ours from LiteLLM, and genai-prices' match for it."""

    def __init__(self, ours: ModelPrice, provider: Any, model: Any) -> None:
        self.ours = ours
        self.provider_id: str = provider.id
        self.ref = model_ref(ours.key)
        self.genai_key = f"{provider.id}/{model.id}"
        # genai-prices ignores request variants for a model it reached through a fallback
        # provider (Azure -> OpenAI); read its rates the same way.
        own = any(m is model for m in provider.models)
        self.theirs = build_model_price(self.genai_key, _cells(model, WHEN, variants=own))

    def __repr__(self) -> str:
        return self.ours.key


def shared_models() -> list[Shared]:
    found = []
    for ours in sorted(LITELLM, key=lambda p: p.key):
        if ours.mode != "chat" or ours.standard.base.input is None:
            continue
        provider_id = GENAI_PROVIDER.get(ours.provider or "")
        if provider_id is None:
            continue
        try:
            calc = genai_prices.calc_price(
                genai_prices.Usage(input_tokens=0),
                model_ref(ours.key),
                provider_id=provider_id,
                genai_request_timestamp=WHEN,
            )
        except LookupError:
            continue  # not in genai-prices
        found.append(Shared(ours, calc.provider, calc.model))
    return found


SHARED = shared_models()


def thresholds(model: ModelPrice) -> set[int]:
    cards = [model.standard, *model.service_tiers.values()]
    return {above for card in cards for above, _ in card.tiers}


def effective_rates(model: ModelPrice, service: str, prompt: int) -> dict[str, Decimal | None]:
    """The rate each kind of token is billed at, after every fallback, via ``charge``."""
    probe = UsageRecord(
        model=model.key,
        prompt_tokens=prompt,
        prompt_cached_tokens=1,
        prompt_cache_creation_tokens=2,
        prompt_cache_creation_1h_tokens=1,
        completion_tokens=2,
        completion_reasoning_tokens=1,
        service_tier=service,
    )
    lines = charge(probe, model)
    if not isinstance(lines, list):  # unpriced (e.g. no input rate)
        return dict.fromkeys(COMPONENTS)
    return {line.component: line.rate for line in lines}


def regions(shared: Shared) -> list[int]:
    """Lower bounds of the prompt ranges in which both tables' rates are constant."""
    return sorted({0} | thresholds(shared.ours) | thresholds(shared.theirs))


def disagreements(shared: Shared) -> dict[Cell, tuple[Decimal | None, Decimal | None]]:
    cells = {}
    for service, above in itertools.product(SERVICES, regions(shared)):
        prompt = max(above + 1, 4)  # room for the probe's cache reads and writes
        ours = effective_rates(shared.ours, service, prompt)
        theirs = effective_rates(shared.theirs, service, prompt)
        for component in COMPONENTS:
            if ours[component] != theirs[component]:
                cells[(service, above, component)] = (ours[component], theirs[component])
    return cells


def recorded() -> tuple[dict[str, Any], dict[str, set[Cell]]]:
    document = json.loads(DISAGREEMENTS.read_text())
    cells: dict[str, set[Cell]] = {}
    for key, entry in document["models"].items():
        for group in entry["disagree"]:
            assert group["reason"] in document["reasons"], (key, group["reason"])
            cells.setdefault(key, set()).update(
                itertools.product(group["service_tiers"], group["above"], group["components"])
            )
    return document, cells


# --- 2. the disagreements file is exact -----------------------------------------------------


def test_enough_models_are_compared() -> None:
    assert len(SHARED) >= 150
    providers = {shared.provider_id for shared in SHARED}
    assert {"anthropic", "openai", "google", "aws", "azure", "deepseek"} <= providers


def test_every_disagreement_is_recorded_with_a_reason_and_no_stale_entry_remains() -> None:
    document, listed = recorded()
    actual = {shared.ours.key: set(disagreements(shared)) for shared in SHARED}
    actual = {key: cells for key, cells in actual.items() if cells}
    missing = {key: sorted(cells - listed.get(key, set())) for key, cells in actual.items()}
    stale = {key: sorted(cells - actual.get(key, set())) for key, cells in listed.items()}
    assert {k: v for k, v in missing.items() if v} == {}, "unexplained disagreements"
    assert {k: v for k, v in stale.items() if v} == {}, "recorded but no longer true"
    for shared in SHARED:
        if shared.ours.key in document["models"]:
            assert document["models"][shared.ours.key]["genai_prices"] == shared.genai_key


# --- 1. where both price the same tier, the costs agree --------------------------------------


def agreeing(shared: Shared) -> list[tuple[str, int, int, frozenset[str]]]:
    """(service, prompt from, prompt to, components both price alike) where input and output
    agree; prompts beyond the top region are capped at 2M tokens."""
    bad = set(disagreements(shared))
    bounds = regions(shared)
    out = []
    for service in SERVICES:
        for i, above in enumerate(bounds):
            ok = frozenset(c for c in COMPONENTS if (service, above, c) not in bad)
            if {"input", "output"} <= ok:
                top = bounds[i + 1] if i + 1 < len(bounds) else 2_000_000
                out.append((service, above, top, ok))
    return out


@st.composite
def usage_in(draw: st.DrawFn, context: tuple[str, int, int, frozenset[str]]) -> dict[str, int]:
    _, above, top, ok = context
    prompt = draw(st.integers(above + 1 if above else 0, top))
    cached = draw(st.integers(0, prompt)) if "cache_read" in ok else 0
    written = draw(st.integers(0, prompt - cached)) if "cache_write" in ok else 0
    written_1h = draw(st.integers(0, written)) if "cache_write_1h" in ok else 0
    completion = draw(st.integers(0, 200_000))
    reasoning = draw(st.integers(0, completion)) if "reasoning" in ok else 0
    return {
        "prompt_tokens": prompt,
        "prompt_cached_tokens": cached,
        "prompt_cache_creation_tokens": written,
        "prompt_cache_creation_1h_tokens": written_1h,
        "completion_tokens": completion,
        "completion_reasoning_tokens": reasoning,
    }


def genai_cost(shared: Shared, counts: dict[str, int], service: str) -> Decimal:
    return Decimal(genai_cost_of(shared.provider_id, shared.ref, counts, service))


EXAMPLES = max(8, settings.default.max_examples // 6)  # per model: 10 in dev, 33 in ci


@pytest.mark.parametrize("shared", [s for s in SHARED if agreeing(s)], ids=repr)
def test_costs_agree_where_both_tables_price_the_same_tier(shared: Shared) -> None:
    contexts = agreeing(shared)

    @settings(max_examples=EXAMPLES)
    @given(st.sampled_from(contexts).flatmap(lambda c: st.tuples(st.just(c), usage_in(c))))
    def check(drawn: tuple[tuple[str, int, int, frozenset[str]], dict[str, int]]) -> None:
        (service, _, _, _), counts = drawn
        ours = price(UsageRecord(model=shared.ours.key, service_tier=service, **counts), LITELLM)
        assert ours.key == shared.ours.key
        assert ours.cost_usd is not None
        theirs = genai_cost(shared, counts, service)
        assert abs(Decimal(repr(ours.cost_usd)) - theirs) <= Decimal(TOLERANCE), (
            shared.ours.key,
            service,
            counts,
            ours.cost_usd,
            theirs,
        )

    check()


def test_most_shared_models_agree_somewhere() -> None:
    # The rest (23 of 196 at the fixture's date) differ in their standard list prices:
    # Bedrock regional and GovCloud premiums, DeepSeek, Gemma, two Mistral aliases, one xAI
    # model, all recorded with their reasons.
    assert sum(1 for s in SHARED if agreeing(s)) >= 170


# --- 3. our reading of genai-prices' own data ------------------------------------------------

GENAI = table_from_genai_prices(at=WHEN)


def genai_token_models() -> Iterator[tuple[str, str]]:
    """(provider id, model id) for every model with token prices.

    Prices of other units (audio tokens, web searches, pages) do not matter: the usages here
    carry none of them, so genai-prices bills them 0. A per-request fee would not be 0, so
    models with one are left out.
    """
    from genai_prices.data import providers

    for provider in providers:
        for model in provider.models:
            prices = model.get_prices(WHEN)
            if prices.input_mtok is None or prices.requests_kcount is not None:
                continue
            # An id can match an earlier model's rule; compare only ids that name themselves.
            try:
                resolved = genai_prices.calc_price(
                    genai_prices.Usage(input_tokens=0),
                    model.id,
                    provider_id=provider.id,
                    genai_request_timestamp=WHEN,
                ).model
            except LookupError:  # a few ids do not match their own rules
                continue
            if resolved is model:
                yield provider.id, model.id


GENAI_MODELS = sorted(genai_token_models())


def genai_cost_of(provider_id: str, model_id: str, counts: dict[str, int], service: str) -> Any:
    usage = genai_prices.Usage(
        input_tokens=counts["prompt_tokens"],
        cache_read_tokens=counts["prompt_cached_tokens"],
        cache_write_tokens=counts["prompt_cache_creation_tokens"],
        cache_write_1h_tokens=counts["prompt_cache_creation_1h_tokens"],
        output_tokens=counts["completion_tokens"],
        output_reasoning_tokens=counts["completion_reasoning_tokens"],
    )
    return genai_prices.calc_price(
        usage,
        model_id,
        provider_id=provider_id,
        genai_request_timestamp=WHEN,
        price_context=CONTEXT[service],
    ).total_price


def comparable(model: ModelPrice, counts: dict[str, int]) -> dict[str, int]:
    """Counts both implementations can price. A model without an output price (embeddings)
    costs 0 per output token in genai-prices; convlog refuses to guess that 0
    (``unpriced:no_output_price``), so such models are compared on input alone."""
    if model.standard.base.output is None:
        return {**counts, "completion_tokens": 0, "completion_reasoning_tokens": 0}
    return counts


def genai_thresholds(provider_id: str, model_id: str) -> set[int]:
    """Tier starts in genai-prices' own data for the model, in any request context."""
    from genai_prices.data import providers

    model = next(m for p in providers if p.id == provider_id for m in p.models if m.id == model_id)
    found = set()
    for context in CONTEXT.values():
        prices = model.get_prices(WHEN, context)
        for value in vars(prices).values():
            found.update(tier.start for tier in getattr(value, "tiers", ()))
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_genai_adapter_matches_at_every_tier_boundary(service: str) -> None:
    """Deterministic and exhaustive: every model, just at and just past each threshold."""
    wrong = []
    for provider_id, model_id in GENAI_MODELS:
        key = f"{_provider_name(provider_id)}/{model_id}"
        ours = GENAI.get(key)
        assert ours is not None, key
        for above in sorted({0} | genai_thresholds(provider_id, model_id)):
            for prompt in {max(above, 10), max(above + 1, 11)}:
                counts = comparable(
                    ours,
                    {
                        "prompt_tokens": prompt,
                        "prompt_cached_tokens": 3,
                        "prompt_cache_creation_tokens": 4,
                        "prompt_cache_creation_1h_tokens": 1,
                        "completion_tokens": 1000,
                        "completion_reasoning_tokens": 300,
                    },
                )
                lines = charge(UsageRecord(model=key, service_tier=service, **counts), ours)
                assert isinstance(lines, list), key
                mine = sum((line.cost for line in lines), Decimal(0))
                theirs = genai_cost_of(provider_id, model_id, counts, service)
                if mine != theirs:
                    wrong.append((key, prompt, mine, theirs))
    assert wrong == []


def test_genai_adapter_covers_the_bundled_data() -> None:
    assert len(GENAI_MODELS) > 1000
    assert GENAI.skipped == 0
    assert GENAI.provenance == f"genai-prices:{genai_prices.__version__}"


@settings(max_examples=max(60, settings.default.max_examples * 2))
@given(
    st.sampled_from(GENAI_MODELS),
    st.sampled_from(SERVICES),
    st.integers(0, 1_500_000).flatmap(
        lambda p: st.tuples(
            st.just(p),
            st.integers(0, p).flatmap(
                lambda r: st.tuples(
                    st.just(r),
                    st.integers(0, p - r).flatmap(
                        lambda w: st.tuples(st.just(w), st.integers(0, w))
                    ),
                )
            ),
        )
    ),
    st.integers(0, 100_000).flatmap(lambda c: st.tuples(st.just(c), st.integers(0, c))),
)
def test_genai_adapter_prices_like_genai_prices(
    model: tuple[str, str],
    service: str,
    prompt_parts: tuple[int, tuple[int, tuple[int, int]]],
    completion_parts: tuple[int, int],
) -> None:
    provider_id, model_id = model
    prompt, (cached, (written, written_1h)) = prompt_parts
    completion, reasoning = completion_parts
    key = f"{_provider_name(provider_id)}/{model_id}"
    ours = GENAI.get(key)
    assert ours is not None, key
    counts = comparable(
        ours,
        {
            "prompt_tokens": prompt,
            "prompt_cached_tokens": cached,
            "prompt_cache_creation_tokens": written,
            "prompt_cache_creation_1h_tokens": written_1h,
            "completion_tokens": completion,
            "completion_reasoning_tokens": reasoning,
        },
    )
    lines = charge(UsageRecord(model=key, service_tier=service, **counts), ours)
    assert isinstance(lines, list)
    mine = sum((line.cost for line in lines), Decimal(0))
    theirs = genai_cost_of(provider_id, model_id, counts, service)
    assert mine == theirs  # the same data, read exactly: not even a rounding apart


def _provider_name(provider_id: str) -> str:
    from harness.pricing._genai import _PROVIDER_NAMES

    return _PROVIDER_NAMES.get(provider_id, provider_id)


if __name__ == "__main__":  # a maintainer's aid: what the disagreements file does not explain
    _, listed = recorded()
    for shared in SHARED:
        for cell, (ours, theirs) in sorted(disagreements(shared).items()):
            if cell not in listed.get(shared.ours.key, set()):
                print(
                    f"{shared.ours.key} ({shared.genai_key}) {cell}: litellm={ours} genai={theirs}"
                )
