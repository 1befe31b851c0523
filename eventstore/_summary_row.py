"""The summary row: how a conversation's :class:`~eventstore._fold.Fold` is stored as columns.

Shared by the SQL backends, which keep one row per conversation in :data:`SUMMARY_COLUMNS`
order. The table is derived data that any connection can edit (no trigger guards it), so every
row read is checked with :func:`fold_from_row` before it is trusted: an altered row is an
:class:`~eventstore.errors.IntegrityError` naming the conversation and the column.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from ._fold import Fold, to_us
from .errors import IntegrityError

__all__ = ("SUMMARY_COLUMNS", "fold_from_row", "summary_row")


class _SummaryRow(msgspec.Struct, array_like=True, gc=False):
    """What the writer stores in each summary column, in order; checked in one call into
    msgspec (0.6 us a row)."""

    conversation_id: str
    version: int
    created_at: int
    updated_at: int
    last_position: int
    head_hash: bytes
    title: str | None
    parent_id: str | None
    calls: int
    unpriced_calls: int
    prompt_tokens: int
    completion_tokens: int
    prompt_cached_tokens: int
    prompt_cache_creation_tokens: int
    completion_reasoning_tokens: int
    cost_usd: str


#: The summary columns, in the order :func:`summary_row` gives and :func:`fold_from_row` takes.
SUMMARY_COLUMNS: tuple[str, ...] = _SummaryRow.__struct_fields__
_MIN_US, _MAX_US = to_us(datetime.min.replace(tzinfo=UTC)), to_us(datetime.max.replace(tzinfo=UTC))


def summary_row(f: Fold) -> tuple[Any, ...]:
    """The fold as the values of :data:`SUMMARY_COLUMNS`. The cost sum is stored as the text
    of its exact ``Decimal``."""
    return (
        f.conversation_id, f.version, f.created_at_us, f.updated_at_us, f.last_position,
        f.head_hash, f.title, f.parent_id, f.calls, f.unpriced_calls, f.prompt_tokens,
        f.completion_tokens, f.prompt_cached_tokens, f.prompt_cache_creation_tokens,
        f.completion_reasoning_tokens, str(f.cost_usd),
    )  # fmt: skip


def fold_from_row(row: Sequence[Any]) -> Fold:
    """A summary row (:data:`SUMMARY_COLUMNS`) as the fold it stores.

    :raises IntegrityError: naming the conversation and column, if the row does not hold what
        the writer stores (an edit behind the store's back).
    """
    try:
        msgspec.convert(row, _SummaryRow)
    except msgspec.ValidationError as exc:
        at = re.search(r"\$\[(\d+)\]", str(exc))
        column = SUMMARY_COLUMNS[int(at.group(1))] if at else "a column"
        raise _altered(row, column) from None
    f = Fold(row[0])
    (
        f.version, f.created_at_us, f.updated_at_us, f.last_position, f.head_hash, f.title,
        f.parent_id, f.calls, f.unpriced_calls, f.prompt_tokens, f.completion_tokens,
        f.prompt_cached_tokens, f.prompt_cache_creation_tokens, f.completion_reasoning_tokens,
    ) = row[1:15]  # fmt: skip
    try:
        f.cost_usd = Decimal(row[15])
    except InvalidOperation:
        raise _altered(row, "cost_usd") from None
    # With no call priced the writer stores 0 and totals show no cost, so verify could not see
    # a cost edited in there: refused here, as any value the writer never stores.
    if not f.cost_usd.is_finite() or (f.cost_usd and f.calls <= f.unpriced_calls):
        raise _altered(row, "cost_usd")
    for column, us in (("created_at", f.created_at_us), ("updated_at", f.updated_at_us)):
        if not _MIN_US <= us <= _MAX_US:
            raise _altered(row, column)
    return f


def _altered(row: Sequence[Any], column: str) -> IntegrityError:
    cid = row[0] if type(row[0]) is str else None
    index = SUMMARY_COLUMNS.index(column) if column in SUMMARY_COLUMNS else None
    held = (
        "" if index is None else f": {column} holds {type(row[index]).__name__} {row[index]!r:.40}"
    )
    return IntegrityError(
        f"summary of conversation {row[0]!r:.60} was altered{held} (run rebuild_summaries)", cid
    )
