"""A price table from the ``genai-prices`` package's bundled data: the offline fallback.

genai-prices (pydantic/genai-prices) ships prices per provider in USD per million tokens, with
threshold tiers (``TieredPrices``), dated price changes (``ConditionalPrice``) and request
variants (``service_tier`` priority/flex, ``processing`` batch). This module reads them as of
one moment into the same :class:`ModelPrice` shape the LiteLLM parser produces, so the rest
of the pricing code does not know which source it is using.

genai-prices pulls in pydantic and httpx, so it is an optional extra (``convlog[prices]``);
:func:`table_from_genai_prices` raises ``ImportError`` when it is not installed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ._rates import ModelPrice, build_model_price
from ._table import PriceTable

__all__ = ("table_from_genai_prices",)

logger = logging.getLogger("convlog.pricing")

#: genai-prices price key -> our component. ``cache_write_5m_mtok`` is more specific than
#: ``cache_write_mtok`` and wins when both are present.
_PRICE_KEYS = (
    ("input_mtok", "input"),
    ("output_mtok", "output"),
    ("cache_read_mtok", "cache_read"),
    ("cache_write_mtok", "cache_write"),
    ("cache_write_5m_mtok", "cache_write"),
    ("cache_write_1h_mtok", "cache_write_1h"),
    ("output_reasoning_mtok", "reasoning"),
)
#: Request contexts genai-prices varies prices by -> our service-tier suffix (LiteLLM's).
_VARIANTS = (
    ({"service_tier": "priority"}, "priority"),
    ({"service_tier": "flex"}, "flex"),
    ({"processing": "batch"}, "batches"),
)
#: genai-prices provider ids -> LiteLLM provider names, so provider-qualified lookup works.
_PROVIDER_NAMES = {
    "aws": "bedrock",
    "google": "gemini",
    "x-ai": "xai",
    "together": "together_ai",
    "fireworks": "fireworks_ai",
    "moonshotai": "moonshot",
    "github-copilot": "github_copilot",
    "voyageai": "voyage",
}
#: Providers whose own models claim the bare (unqualified) keys before resellers do.
_FIRST_PARTY = (
    "openai",
    "anthropic",
    "google",
    "mistral",
    "x-ai",
    "deepseek",
    "cohere",
    "moonshotai",
    "zai",
    "minimax",
    "meta",
    "perplexity",
)


def table_from_genai_prices(*, at: datetime | None = None) -> PriceTable:
    """The bundled genai-prices data as a :class:`PriceTable`, prices as of ``at`` (now).

    Every model is stored under ``<provider>/<spelling>`` for its id and each spelling its
    match rules list; bare spellings belong to first-party providers (OpenAI's ``gpt-4o``),
    and a reseller's only where no first-party key resolves it. Prices are read as of ``at``
    (default now): genai-prices dates its price changes. Models whose prices cannot be read
    are skipped and counted.

    :raises ImportError: if genai-prices is not installed.
    """
    import genai_prices
    from genai_prices.data import providers

    when = at or datetime.now(tz=UTC)
    qualified: list[ModelPrice] = []
    skipped = 0
    first_party: dict[str, ModelPrice] = {}
    resold: dict[str, ModelPrice] = {}
    for provider in providers:
        name = _PROVIDER_NAMES.get(provider.id, provider.id)
        bare = first_party if provider.id in _FIRST_PARTY else resold
        for model in provider.models:
            try:
                cells = _cells(model, when)
            except (ValueError, TypeError, AttributeError) as exc:
                skipped += 1
                logger.debug("skipping genai-prices model %s/%s: %s", provider.id, model.id, exc)
                continue
            for spelling in dict.fromkeys([model.id, *_spellings(model.match)]):
                qualified.append(build_model_price(f"{name}/{spelling}", cells, provider=name))
                if spelling.lower() not in bare:
                    bare[spelling.lower()] = build_model_price(spelling, cells, provider=name)
    # A reseller's spelling must not shadow a first-party prefix rule: genai-prices prices
    # "claude-sonnet-4-5-20250929" as Anthropic's claude-sonnet-4-5 (starts_with), so AWS's
    # exact spelling of it gets only its qualified key, "bedrock/claude-sonnet-4-5-20250929".
    owners = PriceTable(first_party.values())
    resold_bare = [
        price
        for spelling, price in resold.items()
        if spelling not in first_party and owners.lookup(spelling) is None
    ]
    return PriceTable(
        [*first_party.values(), *resold_bare, *qualified],
        provenance=f"genai-prices:{genai_prices.__version__}",
        source="genai-prices bundled data",
        skipped=skipped,
    )


def _cells(
    model: Any, when: datetime, *, variants: bool = True
) -> dict[tuple[str, int], dict[str, Decimal]]:
    cells: dict[tuple[str, int], dict[str, Decimal]] = {}
    standard = model.get_prices(when)
    _add(cells, "", standard)
    for context, suffix in _VARIANTS if variants else ():
        variant = model.get_prices(when, context)
        if variant != standard:
            _add(cells, suffix, variant)
    # genai-prices resolves a variant per price key: its price, flat or tiered, replaces the
    # standard one at every prompt size. Our cards let a standard long-context rate win over
    # a service tier's base rate (LiteLLM's rule), so spell the variant out at every threshold.
    thresholds = sorted({t for _, t in cells})
    for service in sorted({s for s, _ in cells if s}):
        rungs = sorted((t, dict(cells[(s, t)])) for s, t in cells if s == service)
        for component in {c for _, rates in rungs for c in rates}:
            for threshold in thresholds:
                stated = [
                    rates[component] for t, rates in rungs if t <= threshold and component in rates
                ]
                if stated:
                    cells.setdefault((service, threshold), {}).setdefault(component, stated[-1])
    return cells


def _add(cells: dict[tuple[str, int], dict[str, Decimal]], service: str, prices: Any) -> None:
    for price_key, component in _PRICE_KEYS:
        value = getattr(prices, price_key, None)
        if value is None:
            continue
        # USD per million tokens -> per token; scaleb is exact, unlike division.
        if isinstance(value, Decimal):
            cells.setdefault((service, 0), {})[component] = value.scaleb(-6)
        else:  # TieredPrices: a base and thresholds, each applying to the whole request
            cells.setdefault((service, 0), {})[component] = value.base.scaleb(-6)
            for tier in value.tiers:
                cells.setdefault((service, int(tier.start)), {})[component] = tier.price.scaleb(-6)


def _spellings(match: Any) -> Iterator[str]:
    """The literal ids a match rule names: ``equals`` and ``starts_with`` values, through ``or``.

    ``starts_with`` values become keys that the boundary-prefix rule extends; ``and``,
    ``regex``, ``contains`` and ``ends_with`` rules cannot be represented as keys and are left
    to the model id itself.
    """
    equals = getattr(match, "equals", None)
    starts_with = getattr(match, "starts_with", None)
    if isinstance(equals, str):
        yield equals
    elif isinstance(starts_with, str):
        yield starts_with
    for clause in getattr(match, "or_", None) or ():
        yield from _spellings(clause)
