"""Costs a provider or harness reports itself (OpenRouter's ``usage.cost``, LiteLLM's
``response_cost``), recorded as claims next to the ones we compute.

A reported cost is what the caller was billed, so it is stored as-is with
``pricing="reported:<reporter>"``. One exception: a reported ``0`` for a call the table prices
above zero is the reporter not knowing the model (LiteLLM reports 0 for models missing from its
map), not a free call. That claim is discarded and the call is priced from the table, exactly
as if nothing had been reported; a 0 is believed only where the table agrees or cannot tell.
"""

from __future__ import annotations

import logging
import math

import msgspec

from schemas import UsageRecord

from ._cost import INVALID_USAGE, apply_price, price
from ._table import PriceTable

__all__ = ("apply_reported_cost",)

logger = logging.getLogger("convlog.pricing")


def apply_reported_cost(
    usage: UsageRecord,
    cost_usd: float | None,
    *,
    reporter: str,
    table: PriceTable,
) -> UsageRecord:
    """A copy of ``usage`` carrying the cost ``reporter`` reported, or the table's price.

    * a finite cost > 0: stored as-is, ``pricing="reported:<reporter>"``;
    * exactly 0: stored as reported unless ``table`` prices the call above 0, in which case
      the table's price and provenance are stored instead, or the counts are impossible
      (``unpriced:invalid_usage``, as :func:`price` says);
    * ``None``, negative, NaN or infinite: not a usable claim; the call is priced from
      ``table`` (an unusable number is logged).

    :raises ValueError: if ``reporter`` is empty or contains whitespace or ``:``.
    """
    if not reporter or any(c.isspace() for c in reporter) or ":" in reporter:
        raise ValueError(f"reporter must be a bare name such as 'openrouter', got {reporter!r}")
    if cost_usd is None:
        return apply_price(usage, table)
    if (
        isinstance(cost_usd, bool)
        or not isinstance(cost_usd, int | float)
        or not math.isfinite(cost_usd)
        or cost_usd < 0
    ):
        logger.warning(
            "ignoring cost %r reported by %s for %s: not a finite number >= 0",
            cost_usd,
            reporter,
            usage.model,
        )
        return apply_price(usage, table)
    if cost_usd == 0:
        ours = price(usage, table)
        if ours.pricing == INVALID_USAGE:
            # Impossible counts: a 0 for them is no more a price than our own 0 would be.
            return msgspec.structs.replace(usage, cost_usd=None, pricing=INVALID_USAGE)
        if ours.cost_usd is not None and ours.cost_usd > 0:
            logger.debug(
                "%s reported 0 for %s, which %s prices at %s: using the table",
                reporter,
                usage.model,
                ours.pricing,
                ours.cost_usd,
            )
            return msgspec.structs.replace(usage, cost_usd=ours.cost_usd, pricing=ours.pricing)
    return msgspec.structs.replace(usage, cost_usd=float(cost_usd), pricing=f"reported:{reporter}")
