"""One model's prices: per-token rates by service tier and long-context tier.

A LiteLLM entry spells its rates as flat field names::

    input_cost_per_token                                  standard rate
    input_cost_per_token_above_200k_tokens                long-context tier
    input_cost_per_token_priority                         service tier
    input_cost_per_token_above_200k_tokens_priority       both
    cache_creation_input_token_cost_above_1hr             1-hour cache writes (not a tier)

:func:`parse_litellm_entry` reads those names once, at load time, into a :class:`ModelPrice`
whose rate cards are fully resolved, so pricing a call is a few attribute reads, not a scan
of field names.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import msgspec

__all__ = (
    "TIER_SUFFIX",
    "EntryError",
    "ModelPrice",
    "RateCard",
    "Rates",
    "build_model_price",
    "normalize_service_tier",
    "parse_litellm_entry",
    "service_tier_of",
)

#: LiteLLM's base field name -> our component name.
_COMPONENTS = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "output_cost_per_reasoning_token": "reasoning",
    "cache_read_input_token_cost": "cache_read",
    "cache_creation_input_token_cost": "cache_write",
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h",
}
# Longest names first, so the 1-hour name is tried before its own prefix (``fullmatch``
# backtracks either way, but the order keeps the intent readable).
_RATE_FIELD = re.compile(
    rf"(?P<component>{'|'.join(sorted(_COMPONENTS, key=len, reverse=True))})"
    r"(?:_above_(?P<threshold>\d+)(?P<k>k?)_tokens)?"
    r"(?:_(?P<service>[a-z]+))?"
)

#: Usage ``service_tier`` values priced at the standard rates.
_STANDARD_TIERS = frozenset({"", "default", "standard", "auto", "on_demand"})
#: Usage ``service_tier`` values whose LiteLLM field suffix differs from the value.
TIER_SUFFIX = {"batch": "batches"}
_TIER_OF_SUFFIX = {suffix: tier for tier, suffix in TIER_SUFFIX.items()}

_Cell = dict[str, Decimal]


class Rates(msgspec.Struct, frozen=True, gc=False):
    """USD per token for each kind of token, as the table states them.

    ``None`` means the table has no such rate; :mod:`harness.pricing._cost` applies the
    fallbacks (cache rates to the input rate, 1-hour writes to the 5-minute write rate,
    reasoning to the output rate).
    """

    input: Decimal | None = None
    output: Decimal | None = None
    cache_read: Decimal | None = None
    cache_write: Decimal | None = None
    cache_write_1h: Decimal | None = None
    reasoning: Decimal | None = None

    def __post_init__(self) -> None:
        # Constructors do not validate types; the cost math relies on finite Decimals >= 0.
        for name in self.__struct_fields__:
            rate = getattr(self, name)
            if rate is not None and not (
                isinstance(rate, Decimal) and rate.is_finite() and rate >= 0
            ):
                raise ValueError(f"Rates.{name} must be a finite Decimal >= 0, got {rate!r}")


class RateCard(msgspec.Struct, frozen=True, gc=False):
    """The rates of one service tier: a base and long-context tiers.

    ``tiers`` holds ``(above, rates)`` pairs, highest ``above`` first; a tier applies to the
    whole request once the inclusive prompt exceeds ``above`` tokens.
    """

    base: Rates
    tiers: tuple[tuple[int, Rates], ...] = ()

    def __post_init__(self) -> None:
        thresholds = [above for above, _ in self.tiers]
        if any(above <= 0 for above in thresholds) or thresholds != sorted(
            set(thresholds), reverse=True
        ):
            raise ValueError(
                f"RateCard.tiers must have distinct thresholds > 0, highest first: {thresholds}"
            )

    def at(self, prompt_tokens: int) -> Rates:
        """The rates for a request whose inclusive prompt has ``prompt_tokens`` tokens."""
        for above, rates in self.tiers:
            if prompt_tokens > above:
                return rates
        return self.base


class ModelPrice(msgspec.Struct, frozen=True, gc=False):
    """The prices of one table entry.

    ``key`` is the table key the entry came from (what a lookup resolved to), ``provider``
    LiteLLM's ``litellm_provider``, ``mode`` its ``mode`` (``chat``, ``embedding``, ...).
    ``service_tiers`` maps a LiteLLM suffix (``priority``, ``flex``, ``batches``, ...) to its
    card, already resolved: rates the tier does not state are filled in from the standard
    card as :func:`build_model_price` describes. Treat the mapping as read-only.
    """

    key: str
    standard: RateCard
    provider: str | None = None
    mode: str | None = None
    service_tiers: dict[str, RateCard] = msgspec.field(default_factory=dict)

    def card(self, service_tier: str | None) -> RateCard:
        """The rate card for a usage's ``service_tier`` (standard when unknown or absent)."""
        if service_tier is None or not self.service_tiers:
            return self.standard
        suffix = normalize_service_tier(service_tier)
        if suffix is None:
            return self.standard
        return self.service_tiers.get(suffix, self.standard)

    @property
    def thresholds(self) -> tuple[int, ...]:
        """Long-context thresholds (tokens) of the standard card, ascending."""
        return tuple(sorted(above for above, _ in self.standard.tiers))


def normalize_service_tier(service_tier: str) -> str | None:
    """The LiteLLM field suffix for a usage ``service_tier``; ``None`` for the standard tier."""
    tier = service_tier.strip().lower()
    if tier in _STANDARD_TIERS:
        return None
    return TIER_SUFFIX.get(tier, tier)


def service_tier_of(suffix: str) -> str:
    """The usage ``service_tier`` that selects the card a LiteLLM field ``suffix`` names (a key
    of :attr:`ModelPrice.service_tiers`): ``batches`` -> ``batch``, else the suffix itself."""
    return _TIER_OF_SUFFIX.get(suffix, suffix)


class EntryError(ValueError):
    """A table entry has a shape this parser does not accept (the loader skips and counts it)."""


def parse_litellm_entry(key: str, entry: object) -> ModelPrice:
    """Read one LiteLLM entry into a :class:`ModelPrice`.

    Fields this module does not price (images, audio, search, ...) are ignored; rate fields
    it does price must be finite non-negative numbers.

    :raises EntryError: if the entry is not an object, a rate is not a finite number >= 0,
        or ``tiered_pricing`` is malformed.
    """
    if not isinstance(entry, Mapping):
        raise EntryError(f"{key}: entry is {type(entry).__name__}, not an object")
    cells: dict[tuple[str, int], _Cell] = {}
    for name, value in entry.items():
        match = _RATE_FIELD.fullmatch(name) if isinstance(name, str) else None
        if match is None or value is None:
            continue
        threshold = int(match["threshold"] or 0) * (1000 if match["k"] else 1)
        cell = cells.setdefault((match["service"] or "", threshold), {})
        cell[_COMPONENTS[match["component"]]] = _rate(key, name, value)
    tiered = entry.get("tiered_pricing")
    if tiered is not None:
        _merge_tiered_pricing(key, tiered, cells)
    provider = entry.get("litellm_provider")
    mode = entry.get("mode")
    return build_model_price(
        key,
        cells,
        provider=provider if isinstance(provider, str) else None,
        mode=mode if isinstance(mode, str) else None,
    )


def build_model_price(
    key: str,
    cells: Mapping[tuple[str, int], Mapping[str, Decimal]],
    *,
    provider: str | None = None,
    mode: str | None = None,
) -> ModelPrice:
    """A :class:`ModelPrice` from rate cells.

    ``cells`` maps ``(service, above_tokens)`` to ``{component: USD per token}``; service
    ``""`` with ``above_tokens`` 0 is the standard base. Components are the field names of
    :class:`Rates`. For a prompt past threshold ``t``, a component's rate is the first stated
    of: this service at ``t``, standard at ``t``, the same pair at each lower threshold, then
    the bases (LiteLLM's rule); a reasoning rate is taken only from the cell that states the
    output rate.
    """
    services = sorted({service for service, _ in cells if service})
    return ModelPrice(
        key=key,
        standard=_card(cells, ""),
        provider=provider,
        mode=mode,
        service_tiers={service: _card(cells, service) for service in services},
    )


def _rate(key: str, name: str, value: Any) -> Decimal:
    # bool is an int subclass; a "true" price is a broken entry, not a price of 1.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EntryError(f"{key}: {name} is {value!r}, not a number")
    if not math.isfinite(value) or value < 0:
        raise EntryError(f"{key}: {name} is {value!r}, not a finite number >= 0")
    # repr() is the shortest string that round-trips the float: 3e-06 -> Decimal("0.000003"),
    # the price as published, not the binary approximation 3.0000000000000001e-06.
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def _merge_tiered_pricing(key: str, tiered: object, cells: dict[tuple[str, int], _Cell]) -> None:
    """Fold a ``tiered_pricing`` list (Dashscope style) into standard threshold cells.

    Each range ``[start, end]`` is all-or-nothing, like an ``_above_`` tier: a request whose
    prompt exceeds ``start`` pays that range's rates for every token. The lowest range is the
    base; top-level rates fill what it leaves out.
    """
    if not isinstance(tiered, list) or not tiered:
        raise EntryError(f"{key}: tiered_pricing is not a non-empty list")
    if not any(isinstance(tier, Mapping) and "range" in tier for tier in tiered):
        return  # tiers over something other than prompt tokens (search results): not ours
    ranges: list[tuple[int, _Cell]] = []
    for tier in tiered:
        bounds = tier.get("range") if isinstance(tier, Mapping) else None
        if not (
            isinstance(bounds, list)
            and len(bounds) == 2
            and all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds)
            and 0 <= bounds[0] <= bounds[1]
            and math.isfinite(bounds[1])
        ):
            raise EntryError(f"{key}: tiered_pricing range {bounds!r} is not [start, end]")
        assert isinstance(tier, Mapping)
        cell = {
            _COMPONENTS[name]: _rate(key, f"tiered_pricing.{name}", tier[name])
            for name in _COMPONENTS
            if tier.get(name) is not None
        }
        ranges.append((int(bounds[0]), cell))
    ranges.sort(key=lambda pair: pair[0])
    base = cells.setdefault(("", 0), {})
    base.update(ranges[0][1])
    for start, cell in ranges[1:]:
        cells.setdefault(("", start), {}).update(cell)


def _card(cells: Mapping[tuple[str, int], Mapping[str, Decimal]], service: str) -> RateCard:
    """Resolve the card of one service tier.

    For a request past threshold ``t`` a component's rate is the first present of: this
    service at ``t``, standard at ``t``, then the same pair at each lower threshold, down to
    the base. So a tier that prices only some components inherits the rest, and a service
    tier that has no long-context rate keeps the standard long-context one (LiteLLM's rule).
    """
    thresholds = sorted({t for (_, t) in cells if t > 0}, reverse=True)
    rungs = [*thresholds, 0]

    def rates_at(index: int) -> Rates:
        resolved: dict[str, Decimal] = {}
        output_cell: Mapping[str, Decimal] | None = None
        for threshold in rungs[index:]:
            for layer in (cells.get((service, threshold)), cells.get(("", threshold))):
                if not layer:
                    continue
                if output_cell is None and "output" in layer:
                    output_cell = layer
                for component, rate in layer.items():
                    resolved.setdefault(component, rate)
        if output_cell is not None:
            # A reasoning rate refines the output rate of its own cell: the standard tier's
            # reasoning rate must not leak into a batch or long-context tier that states its
            # own output rate (reasoning tokens are output tokens of that tier).
            resolved.pop("reasoning", None)
            if "reasoning" in output_cell:
                resolved["reasoning"] = output_cell["reasoning"]
        return Rates(**resolved)

    return RateCard(
        base=rates_at(len(rungs) - 1),
        tiers=tuple((threshold, rates_at(i)) for i, threshold in enumerate(thresholds)),
    )
