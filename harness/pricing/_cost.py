"""Cost of one call from its inclusive token counts: exact, in ``Decimal``.

With ``P`` prompt tokens (all input: cache reads ``R`` and cache writes ``W`` included, ``H`` of
the writes with a 1-hour TTL) and ``C`` completion tokens (reasoning ``Z`` included)::

    cost = (P - R - W) * input  +  R * cache_read  +  (W - H) * cache_write  +  H * cache_write_1h
         + (C - Z) * output  +  Z * reasoning

Rates come from the card of the usage's ``service_tier`` at the tier of ``P`` (see
:class:`~harness.pricing.RateCard`). A missing cache-read or cache-write rate is the input
rate, a missing 1-hour rate is the cache-write rate, a missing reasoning rate the output rate.

The result is the exact decimal sum turned into the nearest float, so 0.0111 prints as
``0.0111``. When no honest number exists the cost is ``None`` and ``pricing`` says why; a
made-up 0 is never returned.
"""

from __future__ import annotations

from decimal import Context, Decimal, InvalidOperation, Overflow

import msgspec

from schemas import UsageRecord
from schemas.types import MAX_SAFE_INT

from ._rates import ModelPrice
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

# Token counts are < 2**53 (16 digits) and a rate published as a float has at most 17
# significant digits, so each product and the sum of six fit in 35 digits: at precision 60
# nothing is rounded. An explicit context also keeps a caller's thread-local decimal settings
# (precision 6, say) out of our arithmetic.
_EXACT = Context(prec=60, traps=[InvalidOperation, Overflow])
_ZERO = Decimal(0)


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
    found = table.lookup(usage.model, usage.provider)
    if found is None:
        return Priced(None, MODEL_NOT_FOUND, detail=f"no price for model {usage.model!r}")
    lines = _itemize(found, counts, usage.service_tier)
    if isinstance(lines, Priced):
        return lines
    total = _ZERO
    for _, tokens, rate in lines:
        total = _EXACT.add(total, _EXACT.multiply(rate, tokens))
    return Priced(float(total), table.provenance, found.key)


def apply_price(usage: UsageRecord, table: PriceTable) -> UsageRecord:
    """A copy of ``usage`` with ``cost_usd`` and ``pricing`` set from ``table``.

    This is what a harness calls before appending. Any cost already on ``usage`` is
    replaced; an unpriced result leaves ``cost_usd`` absent and ``pricing`` saying why.
    """
    priced = price(usage, table)
    return msgspec.structs.replace(usage, cost_usd=priced.cost_usd, pricing=priced.pricing)


def charge(usage: UsageRecord, model_price: ModelPrice) -> list[Charge] | Priced:
    """The line items of ``usage`` at ``model_price``, or an unpriced :class:`Priced`.

    Lines with zero tokens are left out; the costs add up exactly to :func:`price`'s.
    """
    counts = _counts(usage)
    if isinstance(counts, str):
        return Priced(None, INVALID_USAGE, model_price.key, counts)
    lines = _itemize(model_price, counts, usage.service_tier)
    if isinstance(lines, Priced):
        return lines
    return [
        Charge(component, tokens, rate, _EXACT.multiply(rate, tokens))
        for component, tokens, rate in lines
    ]


# (prompt, cached, written, written_1h, completion, reasoning)
_Counts = tuple[int, int, int, int, int, int]


def _counts(usage: UsageRecord) -> _Counts | str:
    """The six counts with absent ones as 0, or why they are impossible."""
    prompt = usage.prompt_tokens
    completion = usage.completion_tokens
    if prompt is None and completion is None:
        return "neither prompt_tokens nor completion_tokens is present"
    counts = (
        prompt or 0,
        usage.prompt_cached_tokens or 0,
        usage.prompt_cache_creation_tokens or 0,
        usage.prompt_cache_creation_1h_tokens or 0,
        completion or 0,
        usage.completion_reasoning_tokens or 0,
    )
    # Struct constructors do not validate, so a harness can hand us anything typed int.
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


def _itemize(
    model_price: ModelPrice, counts: _Counts, service_tier: str | None
) -> list[tuple[str, int, Decimal]] | Priced:
    """(component, tokens, rate) for each kind of token present, fallbacks applied."""
    p, r, w, h, c, z = counts
    rates = model_price.card(service_tier).at(p)
    inp = rates.input
    if inp is None:
        return Priced(None, NO_INPUT_PRICE, model_price.key, f"{model_price.key} has no input rate")
    write = rates.cache_write if rates.cache_write is not None else inp
    lines = [
        ("input", p - r - w, inp),
        ("cache_read", r, rates.cache_read if rates.cache_read is not None else inp),
        ("cache_write", w - h, write),
        ("cache_write_1h", h, rates.cache_write_1h if rates.cache_write_1h is not None else write),
    ]
    if c:
        out = rates.output
        if out is None:
            detail = f"{model_price.key} has no output rate"
            return Priced(None, NO_OUTPUT_PRICE, model_price.key, detail)
        lines.append(("output", c - z, out))
        lines.append(("reasoning", z, rates.reasoning if rates.reasoning is not None else out))
    return [line for line in lines if line[1]]
