"""Cost of one call from its inclusive token counts: exact, in ``Decimal``.

With ``P`` prompt tokens (all input: cache reads ``R`` and cache writes ``W`` included, ``H`` of
the writes with a 1-hour TTL) and ``C`` completion tokens (reasoning ``Z`` included)::

    cost = (P - R - W) * input  +  R * cache_read  +  (W - H) * cache_write  +  H * cache_write_1h
         + (C - Z) * output  +  Z * reasoning

Rates come from the card of the usage's ``service_tier`` at the tier of ``P`` (see
:class:`~harness.pricing.RateCard`). A missing cache-read or cache-write rate is the input
rate, a missing 1-hour rate is the cache-write rate, a missing reasoning rate the output rate.

Arithmetic is exact. Each card's effective rates are read once into integer coefficients
over a common power of ten (the coefficients of their ``Decimal``s); a call's cost is then an
integer sum rounded once, by true division, to the nearest float, so 0.0111 prints as
``0.0111``. :func:`charge` itemizes the same sum in ``Decimal``. When no honest number exists
the cost is ``None`` and ``pricing`` says why; a made-up 0 is never returned.
"""

from __future__ import annotations

from decimal import Context, Decimal, InvalidOperation, Overflow
from typing import NamedTuple

import msgspec

from schemas import UsageRecord
from schemas.types import MAX_SAFE_INT

from ._rates import ModelPrice, Rates
from ._table import PriceTable

__all__ = (
    "INVALID_USAGE",
    "MODEL_NOT_FOUND",
    "NO_INPUT_PRICE",
    "NO_OUTPUT_PRICE",
    "TABLE_UNAVAILABLE",
    "Charge",
    "Priced",
    "apply_price",
    "charge",
    "price",
)

#: ``pricing`` values of an unpriced call: why there is no ``cost_usd``.
MODEL_NOT_FOUND = "unpriced:model_not_found"
TABLE_UNAVAILABLE = "unpriced:table_unavailable"
NO_INPUT_PRICE = "unpriced:no_input_price"
NO_OUTPUT_PRICE = "unpriced:no_output_price"
INVALID_USAGE = "unpriced:invalid_usage"

# charge() multiplies in Decimal: token counts are < 2**53 (16 digits) and a rate published
# as a float has at most 17 significant digits, so at precision 60 nothing is rounded. An
# explicit context keeps a caller's thread-local decimal settings (precision 6, say) out.
_EXACT = Context(prec=60, traps=[InvalidOperation, Overflow])
_COMPONENTS = ("input", "cache_read", "cache_write", "cache_write_1h", "output", "reasoning")


class Priced(msgspec.Struct, frozen=True, gc=False):
    """The outcome of pricing one usage.

    ``cost_usd`` is ``None`` exactly when the call could not be priced; ``pricing`` is then an
    ``unpriced:<reason>`` string, else the table's provenance. ``key`` is the table key the
    model resolved to, when it resolved. ``detail`` explains an unpriced result to a person.
    """

    cost_usd: float | None
    pricing: str
    key: str | None = None
    detail: str = ""


class Charge(msgspec.Struct, frozen=True, gc=False):
    """One line of a cost breakdown: ``tokens`` of one kind at ``rate`` USD each."""

    component: str
    tokens: int
    rate: Decimal
    cost: Decimal


def price(usage: UsageRecord, table: PriceTable) -> Priced:
    """Price ``usage`` with ``table``. Never raises for bad data: it says ``unpriced:...``.

    Absent token counts are zero, but a usage with neither ``prompt_tokens`` nor
    ``completion_tokens`` is invalid (there is nothing to price, and 0 would be a guess).
    """
    counts = _counts(usage)
    if isinstance(counts, str):
        return Priced(None, INVALID_USAGE, detail=counts)
    if not table.available:
        return Priced(None, TABLE_UNAVAILABLE, detail="no price table is loaded")
    ladder = table.memoized((usage.model, usage.provider, usage.service_tier), _ladder)
    if ladder is None:
        return Priced(None, MODEL_NOT_FOUND, detail=f"no price for model {usage.model!r}")
    p, r, w, h, c, z = counts
    for above, rung in ladder:
        if p > above:  # the base rung's "above" is -1: it always matches
            coefficients, scale, key = rung
            break
    if isinstance(coefficients, Priced):  # this tier has no input rate
        return coefficients
    fresh, read, write, write_1h, out, think = coefficients
    total = (p - r - w) * fresh + r * read + (w - h) * write + h * write_1h
    if c:
        if out is None or think is None:
            return Priced(None, NO_OUTPUT_PRICE, key, f"{key} has no output rate")
        total += (c - z) * out + z * think
    # int / int is correctly rounded in CPython: the float nearest the exact sum.
    return Priced(total / scale, table.provenance, key)


def apply_price(usage: UsageRecord, table: PriceTable) -> UsageRecord:
    """A copy of ``usage`` with ``cost_usd`` and ``pricing`` set from ``table``.

    This is what a harness calls before appending. Any cost already on ``usage`` is
    replaced; an unpriced result leaves ``cost_usd`` absent and ``pricing`` saying why.
    """
    priced = price(usage, table)
    return msgspec.structs.replace(usage, cost_usd=priced.cost_usd, pricing=priced.pricing)


def charge(usage: UsageRecord, model_price: ModelPrice) -> list[Charge] | Priced:
    """The line items of ``usage`` at ``model_price``, in exact ``Decimal``, or an unpriced
    :class:`Priced`. Lines with zero tokens are left out; the costs add up exactly to the sum
    :func:`price` rounds."""
    counts = _counts(usage)
    if isinstance(counts, str):
        return Priced(None, INVALID_USAGE, model_price.key, counts)
    rates = _effective(model_price.card(usage.service_tier).at(counts[0]))
    if rates is None:
        return Priced(None, NO_INPUT_PRICE, model_price.key, f"{model_price.key} has no input rate")
    p, r, w, h, c, z = counts
    tokens = (p - r - w, r, w - h, h, c - z, z)
    lines = []
    for component, n, rate in zip(_COMPONENTS, tokens, rates, strict=True):
        if n:
            if rate is None:
                detail = f"{model_price.key} has no output rate"
                return Priced(None, NO_OUTPUT_PRICE, model_price.key, detail)
            lines.append(Charge(component, n, rate, _EXACT.multiply(rate, n)))
    return lines


# (prompt, cached, written, written_1h, completion, reasoning)
_Counts = tuple[int, int, int, int, int, int]


def _counts(usage: UsageRecord) -> _Counts | str:
    """The six counts with absent ones as 0, or why the usage cannot be priced."""
    # Struct constructors do not validate, so a harness can hand us anything.
    if type(usage.model) is not str or not usage.model:
        return f"model must be a non-empty string, got {usage.model!r}"
    for name in ("provider", "service_tier"):
        value = getattr(usage, name)
        if value is not None and type(value) is not str:
            return f"{name} must be a string, got {value!r}"
    p = usage.prompt_tokens
    c = usage.completion_tokens
    if p is None and c is None:
        return "neither prompt_tokens nor completion_tokens is present"
    counts = (
        p or 0,
        usage.prompt_cached_tokens or 0,
        usage.prompt_cache_creation_tokens or 0,
        usage.prompt_cache_creation_1h_tokens or 0,
        c or 0,
        usage.completion_reasoning_tokens or 0,
    )
    for count in counts:
        if type(count) is not int or not 0 <= count <= MAX_SAFE_INT:
            return f"token counts must be integers in [0, 2**53), got {count!r}"
    p, r, w, h, c, z = counts
    if r + w > p:
        return f"cache reads ({r}) plus cache writes ({w}) exceed prompt_tokens ({p})"
    if h > w:
        return f"1-hour cache writes ({h}) exceed cache writes ({w})"
    if z > c:
        return f"reasoning tokens ({z}) exceed completion_tokens ({c})"
    return counts


# The rates of _COMPONENTS, in that order: every input rate is known, the output and
# reasoning rates may not be.
_Effective = tuple[Decimal, Decimal, Decimal, Decimal, Decimal | None, Decimal | None]
# The same as integer coefficients of 1 / scale USD.
_Coefficients = tuple[int, int, int, int, int | None, int | None]


def _effective(rates: Rates) -> _Effective | None:
    """The rate each kind of token is billed at, fallbacks applied, in ``_COMPONENTS`` order;
    ``None`` if the input rate is missing (then nothing is priced).

    A missing cache-read or cache-write rate is the input rate, a missing 1-hour write rate
    the cache-write rate, a missing reasoning rate the output rate. The output and reasoning
    rates stay ``None`` where the output rate is missing.
    """
    inp = rates.input
    if inp is None:
        return None
    write = rates.cache_write if rates.cache_write is not None else inp
    out = rates.output
    return (
        inp,
        rates.cache_read if rates.cache_read is not None else inp,
        write,
        rates.cache_write_1h if rates.cache_write_1h is not None else write,
        out,
        rates.reasoning if rates.reasoning is not None else out,
    )


class _Rung(NamedTuple):
    """Effective rates as integer coefficients of ``1 / scale`` USD, or why unpriced."""

    coefficients: _Coefficients | Priced
    scale: int
    key: str


def _ladder(
    table: PriceTable, call: tuple[str, str | None, str | None]
) -> tuple[tuple[int, _Rung], ...] | None:
    """``(above, rung)`` pairs, highest threshold first and the base (-1) last, for the card
    of the service tier of the model a call (model, provider, service tier) resolves to;
    ``None`` if it resolves to none."""
    model, provider, service_tier = call
    found = table.lookup(model, provider)
    if found is None:
        return None
    card = found.card(service_tier)
    rungs = [*card.tiers, (-1, card.base)]
    return tuple((above, _rung(found.key, rates)) for above, rates in rungs)


def _rung(key: str, rates: Rates) -> _Rung:
    effective = _effective(rates)
    if effective is None:
        return _Rung(Priced(None, NO_INPUT_PRICE, key, f"{key} has no input rate"), 1, key)
    present = [rate for rate in effective if rate is not None]
    exponent = min(0, *(int(rate.as_tuple().exponent) for rate in present))

    def coefficient(rate: Decimal) -> int:
        return int(rate.scaleb(-exponent, _EXACT))

    fresh, read, write, write_1h, out, think = effective
    coefficients: _Coefficients = (
        coefficient(fresh),
        coefficient(read),
        coefficient(write),
        coefficient(write_1h),
        None if out is None else coefficient(out),
        None if think is None else coefficient(think),
    )
    return _Rung(coefficients, 10**-exponent, key)
