"""Provider-reported costs: stored as claims, except a 0 the table knows to be wrong."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.pricing import (
    INVALID_USAGE,
    MODEL_NOT_FOUND,
    TABLE_UNAVAILABLE,
    PriceTable,
    apply_reported_cost,
    price,
)
from schemas import UsageRecord

FIXTURE = Path(__file__).parent / "fixtures" / "litellm_prices_subset.json"
TABLE = PriceTable.from_litellm_json(FIXTURE.read_bytes())
CALL = UsageRecord(
    model="anthropic/claude-sonnet-4.5",
    provider="openrouter",
    prompt_tokens=3000,
    prompt_cached_tokens=2000,
    completion_tokens=500,
)
PAID = UsageRecord(
    model="gpt-4o", prompt_tokens=3000, prompt_cached_tokens=2000, completion_tokens=500
)


def test_a_reported_cost_is_stored_as_is() -> None:
    record = apply_reported_cost(CALL, 0.0123456, reporter="openrouter", table=TABLE)
    assert (record.cost_usd, record.pricing) == (0.0123456, "reported:openrouter")
    assert record.prompt_tokens == CALL.prompt_tokens  # a copy, counts untouched


def test_a_reported_cost_beats_the_table_even_when_they_differ() -> None:
    # The provider's bill is the claim we keep, e.g. a negotiated discount.
    record = apply_reported_cost(PAID, 0.004, reporter="openrouter", table=TABLE)
    assert (record.cost_usd, record.pricing) == (0.004, "reported:openrouter")


def test_a_reported_zero_for_a_paid_model_is_priced_from_the_table(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="convlog.pricing")
    record = apply_reported_cost(PAID, 0.0, reporter="litellm", table=TABLE)
    assert (record.cost_usd, record.pricing) == (0.01, TABLE.provenance)
    assert "litellm reported 0 for gpt-4o" in caplog.text


@pytest.mark.parametrize(
    ("usage", "table"),
    [
        # the table says free too
        (UsageRecord(model="gemini/gemini-exp-1206", prompt_tokens=9, completion_tokens=1), TABLE),
        (CALL, TABLE),  # the table does not know the model: it cannot say the 0 is wrong
        (PAID, PriceTable()),  # no table at all
        (UsageRecord(model="gpt-4o", prompt_tokens=0, completion_tokens=0), TABLE),
    ],
)
def test_a_reported_zero_is_kept_where_the_table_cannot_contradict_it(
    usage: UsageRecord, table: PriceTable
) -> None:
    record = apply_reported_cost(usage, 0, reporter="openrouter", table=table)
    assert (record.cost_usd, record.pricing) == (0.0, "reported:openrouter")
    assert type(record.cost_usd) is float


def test_a_reported_zero_for_impossible_counts_is_unpriced() -> None:
    # 50 cached tokens out of a 10-token prompt: a 0 for that is no price at all.
    usage = UsageRecord(model="gpt-4o", prompt_tokens=10, prompt_cached_tokens=50)
    record = apply_reported_cost(usage, 0.0, reporter="openrouter", table=TABLE)
    assert (record.cost_usd, record.pricing) == (None, INVALID_USAGE)
    # A positive claim is what the caller was billed, whatever the counts say.
    billed = apply_reported_cost(usage, 0.002, reporter="openrouter", table=TABLE)
    assert (billed.cost_usd, billed.pricing) == (0.002, "reported:openrouter")


@pytest.mark.parametrize("bad", [-0.01, math.nan, math.inf, -math.inf, True, "0.01"])
def test_an_unusable_report_falls_back_to_the_table(
    bad: object, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="convlog.pricing")
    record = apply_reported_cost(PAID, bad, reporter="openrouter", table=TABLE)  # type: ignore[arg-type]
    assert (record.cost_usd, record.pricing) == (0.01, TABLE.provenance)
    assert "ignoring cost" in caplog.text


def test_no_report_is_the_table_price() -> None:
    assert apply_reported_cost(PAID, None, reporter="openrouter", table=TABLE).cost_usd == 0.01
    unknown = apply_reported_cost(CALL, None, reporter="openrouter", table=TABLE)
    assert (unknown.cost_usd, unknown.pricing) == (None, MODEL_NOT_FOUND)
    empty = apply_reported_cost(PAID, None, reporter="openrouter", table=PriceTable())
    assert (empty.cost_usd, empty.pricing) == (None, TABLE_UNAVAILABLE)


@pytest.mark.parametrize("reporter", ["", "open router", "reported:x", "a\tb"])
def test_reporter_must_be_a_bare_name(reporter: str) -> None:
    with pytest.raises(ValueError, match="reporter must be a bare name"):
        apply_reported_cost(PAID, 0.01, reporter=reporter, table=TABLE)


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False))
def test_a_reported_cost_is_never_turned_into_a_different_positive_number(cost: float) -> None:
    record = apply_reported_cost(PAID, cost, reporter="openrouter", table=TABLE)
    if cost > 0:
        assert (record.cost_usd, record.pricing) == (cost, "reported:openrouter")
    else:
        assert record.cost_usd == price(PAID, TABLE).cost_usd
