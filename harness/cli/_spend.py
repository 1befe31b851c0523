"""The sums behind ``convlog cost``: from the summaries (totals by conversation and by
model), or from each call's usage (by day or harness, within a time window, repriced).

Persisted costs are added exactly (as decimals of each stored value, as the store sums its
summaries) and a sum is ``None`` when no call in it was priced: an unknown cost, never 0.
An estimate at today's prices is kept apart from the persisted figure, never mixed into it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec

import eventstore
from eventstore import ConversationSummary, UsageTotals
from harness.pricing import PriceTable, price
from harness.spend import Tally, add_totals, cost_sum, family, family_events
from schemas import ConversationCreated, Messages, StoredEvent, UsageRecord

from ._output import (
    Cell,
    console,
    cost_cell,
    echo_table,
    joined,
    progress,
    tokens,
    totals_in,
    totals_out,
    usd,
)

__all__ = ("Report", "from_events", "from_summaries")

_PAGE = 1000


class Estimate(msgspec.Struct, frozen=True):
    """What today's table charges for the tokens of some calls: ``cost_usd`` (``None`` if it
    prices none of them) and how many it could not price."""

    cost_usd: float | None
    unpriced_calls: int


class Row(msgspec.Struct, frozen=True):
    """One line of a report: its ``key`` (a model, a conversation id, a day, a harness, or
    ``total``), the persisted ``totals``, and the ``estimate`` when one was asked for."""

    key: str
    totals: UsageTotals
    estimate: Estimate | None = None
    title: str | None = None


@dataclass
class Report:
    """A cost report, printed for people or as the JSON document of ``cost --json``."""

    conversation_id: str | None
    include_children: bool
    by: str | None
    since: datetime | None
    until: datetime | None
    source: str
    rows: list[Row]
    total: Row
    conversations: int
    pricing: str | None = None
    more_rows: int = 0

    def keep(self, limit: int | None) -> None:
        """Keep the first ``limit`` rows (the costliest; days: the first); the total still
        covers every row."""
        if limit is not None and len(self.rows) > limit:
            self.more_rows = len(self.rows) - limit
            del self.rows[limit:]

    def document(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "include_children": self.include_children,
            "by": self.by,
            "since": self.since,
            "until": self.until,
            "source": self.source,
            "conversations": self.conversations,
            "estimate_pricing": self.pricing,
            "rows": self.rows,
            "more_rows": self.more_rows,
            "total": self.total,
        }

    def print(self) -> None:
        out = console()
        scope = (
            "all conversations"
            if self.conversation_id is None
            else self.conversation_id
            + (
                f" with its sub-conversations ({self.conversations - 1:,})"
                if self.include_children
                else ""
            )
        )
        window = ""
        if self.since is not None:
            window += f" recorded from {self.since:%Y-%m-%d %H:%M:%S}Z"
        if self.until is not None:
            window += f" recorded before {self.until:%Y-%m-%d %H:%M:%S}Z"
        out.print(f"cost of {scope}{window}", highlight=False, markup=False)
        if self.by is not None:
            numbers = ["calls", "tokens in", "tokens out", "cost"]
            if self.pricing is not None:
                numbers.append("estimate today")
            rows = [self._cells(row) for row in [*self.rows, self.total]]
            echo_table([self.by, *numbers], rows, right=numbers, wrap=[self.by])
            if self.more_rows:
                out.print(f"({self.more_rows:,} more rows in the total, not shown: --limit)")
        else:
            self._print_total()
        totals = self.total.totals
        if totals.unpriced_calls:
            out.print(
                f"{totals.unpriced_calls:,} of {totals.calls:,} calls were stored without a "
                "price: their cost is unknown and not in the persisted cost.",
                highlight=False,
                markup=False,
            )
        if self.pricing is not None:
            out.print(
                f"estimate: what the price table {self.pricing} charges today for the same "
                "tokens; the persisted cost is what each call recorded.",
                highlight=False,
                markup=False,
            )

    def _cells(self, row: Row) -> list[Cell]:
        t = row.totals
        key = row.key if row.title is None else f"{row.key} ({row.title})"
        cells: list[Cell] = [key, tokens(t.calls), totals_in(t), totals_out(t), cost_cell(t)]
        if self.pricing is not None:
            cells.append(_estimate(row.estimate))
        return cells

    def _print_total(self) -> None:
        t = self.total.totals
        unpriced = f"{t.unpriced_calls:,} unpriced" if t.unpriced_calls else ""
        known = usd(t.cost_usd) if t.cost_usd is not None else "unknown (no call was priced)"
        lines = [
            ["calls", joined((tokens(t.calls), unpriced))],
            ["tokens in", joined(totals_in(t))],
            ["tokens out", joined(totals_out(t))],
            ["cost", known],
        ]
        if self.pricing is not None:
            lines.append(["estimate today", joined(_estimate(self.total.estimate))])
        echo_table(["what", "total"], lines, headers=False)


async def from_summaries(
    store: eventstore.Store, conversation_id: str | None, include_children: bool, by: str | None
) -> Report:
    """Totals, ``--by conversation`` and ``--by model`` from the summaries alone (each keeps
    its conversation's totals per model)."""
    if conversation_id is not None:
        summaries = await family(store, conversation_id, include_children=include_children)
    else:
        summaries = await _all_summaries(store)
    rows = [Row(s.conversation_id, s.totals, title=s.title) for s in summaries]
    total = Row("total", add_totals([row.totals for row in rows]))
    if by == "model":
        models: dict[str, list[UsageTotals]] = {}
        for s in summaries:
            for model, totals in s.by_model.items():
                models.setdefault(model, []).append(totals)
        rows = [Row(model, add_totals(parts)) for model, parts in models.items()]
    return Report(
        conversation_id,
        include_children,
        by,
        None,
        None,
        "summaries",
        _sorted(rows, by) if by is not None else [],
        total,
        len(summaries),
    )


async def from_events(
    store: eventstore.Store,
    conversation_id: str | None,
    include_children: bool,
    by: str | None,
    window: tuple[datetime | None, datetime | None],
    table: PriceTable | None,
) -> Report:
    """Totals from each call's usage, grouped ``by`` a key, within ``window``, and priced
    with ``table`` as an estimate when it is given."""
    since, until = window
    groups: dict[str, _Tally] = {}
    total = _Tally()
    titles: dict[str, str | None] = {}
    conversations = set()
    async for event in _events(store, conversation_id, include_children):
        data = event.data
        conversations.add(event.conversation_id)
        if isinstance(data, ConversationCreated):
            titles[event.conversation_id] = data.title
        if not isinstance(data, Messages) or data.usage is None:
            continue
        if (since is not None and event.recorded_at < since) or (
            until is not None and event.recorded_at >= until
        ):
            continue
        estimate = None if table is None else price(data.usage, table).cost_usd
        total.add_priced(data.usage, estimate)
        if by is not None:
            key = _key(by, event, data.usage)
            groups.setdefault(key, _Tally()).add_priced(data.usage, estimate)
    estimated = table is not None
    rows = [
        Row(
            key,
            tally.totals(),
            tally.estimate() if estimated else None,
            titles.get(key) if by == "conversation" else None,
        )
        for key, tally in groups.items()
    ]
    return Report(
        conversation_id,
        include_children,
        by,
        since,
        until,
        "events",
        _sorted(rows, by),
        Row("total", total.totals(), total.estimate() if estimated else None),
        len(conversations),
        None if table is None else table.provenance or "an empty table",
    )


@dataclass
class _Tally(Tally):
    """Calls summed as :class:`harness.spend.Tally` sums them, plus the estimate beside them."""

    estimates: list[float] = field(default_factory=list)
    estimate_unpriced: int = 0

    def add_priced(self, usage: UsageRecord, estimate: float | None) -> None:
        self.add(usage)
        if estimate is None:
            self.estimate_unpriced += 1
        else:
            self.estimates.append(estimate)

    def estimate(self) -> Estimate:
        return Estimate(cost_sum(self.estimates), self.estimate_unpriced)


async def _events(
    store: eventstore.Store, conversation_id: str | None, include_children: bool
) -> Any:
    if conversation_id is None:
        head = await store.list_conversations(limit=1)
        size = head.items[0].last_position if head.items else 0
        with progress("reading events", size) as advance:
            async for event in store.read_all():
                advance(1)
                yield event
        return
    async for event in family_events(store, conversation_id, include_children=include_children):
        yield event


async def _all_summaries(store: eventstore.Store) -> list[ConversationSummary]:
    found: list[ConversationSummary] = []
    cursor = None
    while True:
        page = await store.list_conversations(limit=_PAGE, cursor=cursor)
        found += page.items
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


def _key(by: str, event: StoredEvent, usage: UsageRecord) -> str:
    if by == "model":
        return usage.model
    if by == "day":
        return f"{event.recorded_at:%Y-%m-%d}"
    if by == "harness":
        return event.harness or "(none)"
    return event.conversation_id


def _sorted(rows: Sequence[Row], by: str | None) -> list[Row]:
    """Days in order; anything else by persisted cost, highest first, then by calls."""
    if by == "day":
        return sorted(rows, key=lambda row: row.key)
    return sorted(
        rows,
        key=lambda row: (-(row.totals.cost_usd or 0.0), -row.totals.calls, row.key),
    )


def _estimate(estimate: Estimate | None) -> Cell:
    if estimate is None:
        return "-"
    unpriced = f"{estimate.unpriced_calls:,} unpriced" if estimate.unpriced_calls else ""
    if estimate.cost_usd is None:
        return unpriced or "-"
    return f"~{usd(estimate.cost_usd)}", unpriced
