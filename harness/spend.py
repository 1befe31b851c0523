"""Spend read back from the store: persisted totals rolled up along parent links.

Sums claims the harnesses persisted; prices nothing (``harness.pricing`` prices).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from typing import Any

import eventstore
from eventstore import ConversationSummary, UsageTotals
from schemas import Messages, StoredEvent, UsageRecord

__all__ = (
    "Tally",
    "add_totals",
    "by_model",
    "cost_sum",
    "family",
    "family_events",
    "rollup",
)


async def rollup(
    store: eventstore.Store, conversation_id: str, *, include_children: bool = True
) -> UsageTotals:
    """The conversation's persisted usage totals, with its children's (and theirs) added when
    ``include_children``: a sub-agent's spend is never lost from its parent's. Sums persisted
    claims; prices nothing. A conversation is counted once, even if its links form a loop.

    :raises eventstore.ConversationNotFound: if the conversation has no events.
    """
    found = await family(store, conversation_id, include_children=include_children)
    return add_totals([summary.totals for summary in found])


async def family(
    store: eventstore.Store, conversation_id: str, *, include_children: bool = True
) -> list[ConversationSummary]:
    """The conversation's summary, then (when ``include_children``) those of its children,
    their children and so on, each once, even if the links form a loop.

    :raises eventstore.ConversationNotFound: if the conversation has no events.
    """
    found = [await store.get_conversation(conversation_id)]
    if include_children:
        seen = {conversation_id}
        frontier = [conversation_id]
        while frontier:
            parent = frontier.pop()
            cursor = None
            while True:
                page = await store.list_conversations(parent_id=parent, cursor=cursor, limit=1000)
                for child in page.items:
                    if child.conversation_id not in seen:
                        seen.add(child.conversation_id)
                        found.append(child)
                        frontier.append(child.conversation_id)
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
    return found


async def family_events(
    store: eventstore.Store, conversation_id: str, *, include_children: bool = True
) -> AsyncIterator[StoredEvent]:
    """Every event of the conversation, then (when ``include_children``) of each of its
    :func:`family`, conversation by conversation, each in version order.

    :raises eventstore.ConversationNotFound: if the conversation has no events.
    """
    for summary in await family(store, conversation_id, include_children=include_children):
        async for event in store.read(summary.conversation_id):
            yield event


@dataclass
class Tally:
    """Calls summed one ``UsageRecord`` at a time, as the store folds its summaries: a call
    without ``cost_usd`` is counted in ``unpriced_calls`` and its cost left out, never 0."""

    calls: int = 0
    unpriced_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    prompt_cached_tokens: int = 0
    prompt_cache_creation_tokens: int = 0
    completion_reasoning_tokens: int = 0
    cost: list[float] = field(default_factory=list)

    def add(self, usage: UsageRecord) -> None:
        self.calls += 1
        self.prompt_tokens += usage.prompt_tokens or 0
        self.completion_tokens += usage.completion_tokens or 0
        self.prompt_cached_tokens += usage.prompt_cached_tokens or 0
        self.prompt_cache_creation_tokens += usage.prompt_cache_creation_tokens or 0
        self.completion_reasoning_tokens += usage.completion_reasoning_tokens or 0
        if usage.cost_usd is None:
            self.unpriced_calls += 1
        else:
            self.cost.append(usage.cost_usd)

    def totals(self) -> UsageTotals:
        return UsageTotals(
            calls=self.calls,
            unpriced_calls=self.unpriced_calls,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            prompt_cached_tokens=self.prompt_cached_tokens,
            prompt_cache_creation_tokens=self.prompt_cache_creation_tokens,
            completion_reasoning_tokens=self.completion_reasoning_tokens,
            cost_usd=cost_sum(self.cost),
        )


async def by_model(
    store: eventstore.Store, conversation_id: str, *, include_children: bool = True
) -> tuple[UsageTotals, dict[str, UsageTotals], int]:
    """The persisted usage of the conversation (and, when ``include_children``, of its
    family): in total and per model, from each call's ``UsageRecord``, and how many
    conversations were read. Each cost is one exact sum, the total's too (not a sum of the
    rounded rows). ``convlog cost CONVERSATION --by model`` sums the same way.

    :raises eventstore.ConversationNotFound: if the conversation has no events.
    """
    total, tallies = Tally(), dict[str, Tally]()
    conversations: set[str] = set()
    async for event in family_events(store, conversation_id, include_children=include_children):
        conversations.add(event.conversation_id)
        data = event.data
        if isinstance(data, Messages) and data.usage is not None:
            total.add(data.usage)
            tallies.setdefault(data.usage.model, Tally()).add(data.usage)
    models = {model: tally.totals() for model, tally in tallies.items()}
    return total.totals(), models, len(conversations)


def add_totals(parts: Sequence[UsageTotals]) -> UsageTotals:
    """The sum of ``parts``; ``cost_usd`` sums the priced ones exactly and is ``None`` when
    none was priced (the store's rule for one conversation)."""
    fields: dict[str, Any] = {
        name: sum(getattr(t, name) for t in parts)
        for name in UsageTotals.__struct_fields__
        if name != "cost_usd"
    }
    return UsageTotals(**fields, cost_usd=cost_sum(t.cost_usd for t in parts))


# Addition in this context never rounds (a sum of doubles' reprs has at most a few hundred
# digits), whatever the calling thread's decimal context: the store sums its summaries so.
_exact_add = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN).add


def cost_sum(costs: Iterable[float | None]) -> float | None:
    """The exact sum of the persisted costs that are there (Decimal of each float's shortest
    repr), rounded once to a float; ``None`` when none is: unpriced, never 0."""
    total: Decimal | None = None
    for cost in costs:
        if cost is not None:
            total = _exact_add(total or Decimal(0), Decimal(repr(cost)))
    return None if total is None else float(total)
