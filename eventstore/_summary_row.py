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
from typing import Annotated, Any

import msgspec

from ._fold import Fold, ModelTally, to_us
from .errors import IntegrityError

__all__ = ("SUMMARY_COLUMNS", "fold_from_row", "fold_or_error", "models_json", "summary_row")

_Count = Annotated[int, msgspec.Meta(ge=0)]
#: The ``by_model`` column: model -> its seven counts and the text of its exact cost sum
#: (:data:`~eventstore._fold.MODEL_FIELDS`), as compact JSON with the models in code point
#: order: one canonical text for each map, so the writer, a rebuild and verify agree byte for
#: byte.
_Models = dict[
    Annotated[str, msgspec.Meta(min_length=1)],
    tuple[_Count, _Count, _Count, _Count, _Count, _Count, _Count, str],
]
_encode_models = msgspec.json.Encoder(order="sorted").encode  # a Decimal as its str()
_decode_models = msgspec.json.Decoder(_Models).decode


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
    messages: int
    by_model: str


#: The summary columns, in the order :func:`summary_row` gives and :func:`fold_from_row` takes.
SUMMARY_COLUMNS: tuple[str, ...] = _SummaryRow.__struct_fields__
_MIN_US, _MAX_US = to_us(datetime.min.replace(tzinfo=UTC)), to_us(datetime.max.replace(tzinfo=UTC))


def summary_row(f: Fold) -> tuple[Any, ...]:
    """The fold as the values of :data:`SUMMARY_COLUMNS`. The cost sum is stored as the text
    of its exact ``Decimal``; the per-model totals as :func:`models_json`."""
    return (
        f.conversation_id, f.version, f.created_at_us, f.updated_at_us, f.last_position,
        f.head_hash, f.title, f.parent_id, f.calls, f.unpriced_calls, f.prompt_tokens,
        f.completion_tokens, f.prompt_cached_tokens, f.prompt_cache_creation_tokens,
        f.completion_reasoning_tokens, str(f.cost_usd), f.message_events, models_json(f),
    )  # fmt: skip


def models_json(f: Fold) -> str:
    """The ``by_model`` column of a fold's per-model totals: ``{}`` when it has none, else
    ``{"gpt-4o":[calls,unpriced_calls,prompt,completion,cached,cache_creation,reasoning,
    "cost"],...}``, models in code point order, no spaces."""
    tallies = f.tallies()
    return _encode_models(tallies).decode() if tallies else "{}"


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
    f.message_events = row[16]
    if row[16] < 0:
        raise _altered(row, "messages")
    if row[17] != "{}":
        models = _models(row)
        if len(models) == 1 and next(iter(models.values())) == f.totals_tally():
            f.model = next(iter(models))  # the common case: as the fold of the events keeps it
        else:
            f.models = models
    return f


def _models(row: Sequence[Any]) -> dict[str, ModelTally]:
    """The ``by_model`` column as a fold keeps it, if it is what the writer stores: the
    canonical text of counts no smaller than zero, each model with a call, each cost a finite
    decimal that is 0 unless some of the model's calls were priced."""
    text = row[17]
    try:
        decoded = _decode_models(text)
        models: dict[str, ModelTally] = {}
        for model, (*counts, cost_text) in decoded.items():
            cost = Decimal(cost_text)
            calls, without_cost = counts[0], counts[1]
            if (
                not cost.is_finite()
                or calls < 1
                or without_cost > calls
                or (cost and calls <= without_cost)
            ):
                raise _altered(row, "by_model")
            models[model] = [*counts, cost]
    except (msgspec.ValidationError, msgspec.DecodeError, InvalidOperation):
        raise _altered(row, "by_model") from None
    if not models or _encode_models(decoded).decode() != text:  # not the one canonical text
        raise _altered(row, "by_model")
    return models


def fold_or_error(row: Sequence[Any]) -> tuple[Any, Fold | IntegrityError]:
    """A summary row with its key, as verify and a rebuild's check read it: a row that does not
    hold what the writer stores comes as the :class:`IntegrityError` describing it, so it can
    be reported (or replaced) in place."""
    try:
        return row[0], fold_from_row(row)
    except IntegrityError as exc:
        return row[0], exc


def _altered(row: Sequence[Any], column: str) -> IntegrityError:
    cid = row[0] if type(row[0]) is str else None
    index = SUMMARY_COLUMNS.index(column) if column in SUMMARY_COLUMNS else None
    held = (
        "" if index is None else f": {column} holds {type(row[index]).__name__} {row[index]!r:.40}"
    )
    return IntegrityError(
        f"summary of conversation {row[0]!r:.60} was altered{held} (run rebuild_summaries)", cid
    )
