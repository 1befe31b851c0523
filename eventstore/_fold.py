"""The one fold from events to conversation state.

The summary table is maintained by applying this fold to each appended event inside the append
transaction; ``rebuild_summaries`` and ``replay`` run the very same fold over stored events, so
the incremental summary and the rebuilt one agree by construction (and a test checks it).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from typing import Any, TypeAlias

from schemas import Body, ConversationCreated, Message, Messages

from ._model import ConversationState, ConversationSummary, UsageTotals

__all__ = ("MODEL_FIELDS", "Fold", "ModelTally", "from_us", "to_us")

#: What a fold keeps per model, in the order of a :data:`ModelTally`: the counts and token
#: totals of the model's calls, then the exact sum of their persisted costs.
MODEL_FIELDS = (
    "calls",
    "unpriced_calls",
    "prompt_tokens",
    "completion_tokens",
    "prompt_cached_tokens",
    "prompt_cache_creation_tokens",
    "completion_reasoning_tokens",
    "cost_usd",
)
#: One model's totals in a conversation: seven ints and a ``Decimal``, in
#: :data:`MODEL_FIELDS` order (a list: it is added to in place on every call).
ModelTally: TypeAlias = list[Any]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ZERO = Decimal(0)
# Addition in this context never rounds (a sum of doubles' reprs has at most a few hundred
# digits); its cost follows the operands' digits, not the precision.
_exact_add = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN).add


def from_us(us: int) -> datetime:
    """UTC datetime from integer Unix microseconds (exact, unlike ``fromtimestamp``)."""
    return _EPOCH + timedelta(microseconds=us)


def to_us(moment: datetime) -> int:
    """Integer Unix microseconds of an aware datetime (exact)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class Fold:
    """Mutable accumulator of one conversation's state. ``apply`` events in version order."""

    __slots__ = (
        "calls",
        "completion_reasoning_tokens",
        "completion_tokens",
        "conversation_id",
        "cost_usd",
        "created_at_us",
        "head_hash",
        "last_position",
        "message_events",
        "messages",
        "metadata",
        "model",
        "models",
        "parent_id",
        "prompt_cache_creation_tokens",
        "prompt_cached_tokens",
        "prompt_tokens",
        "title",
        "unpriced_calls",
        "updated_at_us",
        "version",
    )

    def __init__(self, conversation_id: str, *, keep_messages: bool = False) -> None:
        self.conversation_id = conversation_id
        self.version = 0
        self.created_at_us = 0
        self.updated_at_us = 0
        self.last_position = 0
        self.head_hash = b""
        self.title: str | None = None
        self.parent_id: str | None = None
        self.metadata: dict[str, str] = {}
        self.calls = 0
        self.unpriced_calls = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.prompt_cached_tokens = 0
        self.prompt_cache_creation_tokens = 0
        self.completion_reasoning_tokens = 0
        self.cost_usd = _ZERO
        self.message_events = 0
        # The totals per model (see tallies): while every call named one model, ``model``
        # names it and the conversation's totals are its totals, so a call costs one string
        # comparison more; ``models`` holds a tally per model from the second model on.
        self.model: str | None = None
        self.models: dict[str, ModelTally] = {}
        self.messages: list[Message] | None = [] if keep_messages else None

    def apply(
        self, body: Body, *, version: int, position: int, recorded_at_us: int, hash: bytes
    ) -> None:
        """Fold one event: its body (:meth:`add`) and its place (:meth:`advance`)."""
        self.add(body)
        self.advance(version, position, recorded_at_us, hash)

    def advance(self, version: int, position: int, recorded_at_us: int, hash: bytes) -> None:
        """Record where the conversation's head now is. Only the last of several events
        appended together matters, so an append of many calls this once, after :meth:`add`
        for each body."""
        if self.version == 0:
            self.created_at_us = recorded_at_us
        self.version = version
        self.updated_at_us = recorded_at_us
        self.last_position = position
        self.head_hash = hash

    def add(self, body: Body) -> None:
        """Fold the content of one event body: messages, usage totals, title and parent."""
        kind = type(body)
        if kind is Messages:
            assert isinstance(body, Messages)
            self.message_events += 1
            if self.messages is not None:
                self.messages.extend(body.messages)
            usage = body.usage
            if usage is None:
                return
            if not self.models and usage.model != self.model:
                self._start_tally(usage.model)  # the first call, or a second model
            self.calls += 1
            cost: Decimal | None = None
            if usage.cost_usd is None:
                self.unpriced_calls += 1
            else:
                # Summing persisted claims, exactly: Decimal of the shortest repr of each float,
                # added without rounding, whatever the calling thread's decimal context.
                cost = Decimal(repr(usage.cost_usd))
                self.cost_usd = _exact_add(self.cost_usd, cost)
            self.prompt_tokens += usage.prompt_tokens or 0
            self.completion_tokens += usage.completion_tokens or 0
            self.prompt_cached_tokens += usage.prompt_cached_tokens or 0
            self.prompt_cache_creation_tokens += usage.prompt_cache_creation_tokens or 0
            self.completion_reasoning_tokens += usage.completion_reasoning_tokens or 0
            models = self.models
            if models:  # several models: each has its tally
                tally = models.get(usage.model)
                if tally is None:
                    tally = models[usage.model] = [0, 0, 0, 0, 0, 0, 0, _ZERO]
                tally[0] += 1
                tally[2] += usage.prompt_tokens or 0
                tally[3] += usage.completion_tokens or 0
                tally[4] += usage.prompt_cached_tokens or 0
                tally[5] += usage.prompt_cache_creation_tokens or 0
                tally[6] += usage.completion_reasoning_tokens or 0
                if cost is None:
                    tally[1] += 1
                else:
                    tally[7] = _exact_add(tally[7], cost)
        elif kind is ConversationCreated:
            assert isinstance(body, ConversationCreated)
            self.title = body.title
            self.parent_id = body.parent_id
            self.metadata = dict(body.metadata)

    def _start_tally(self, model: str) -> None:
        """Before a call to ``model`` while no model has a tally of its own: the first call
        names the conversation's one model; a call to another model gives the first its totals
        so far as a tally, and ``model`` an empty one for :meth:`add` to fill."""
        if self.model is None and self.calls == 0:
            self.model = model
            return
        if self.model is not None:
            self.models[self.model] = self.totals_tally()
        self.models[model] = [0, 0, 0, 0, 0, 0, 0, _ZERO]

    def totals_tally(self) -> ModelTally:
        """The conversation's totals as one model's tally."""
        return [
            self.calls, self.unpriced_calls, self.prompt_tokens, self.completion_tokens,
            self.prompt_cached_tokens, self.prompt_cache_creation_tokens,
            self.completion_reasoning_tokens, self.cost_usd,
        ]  # fmt: skip

    def tallies(self) -> dict[str, ModelTally]:
        """The totals of each model, as :data:`ModelTally` lists (not to be changed)."""
        if self.models:
            return self.models
        if self.model is not None:
            return {self.model: self.totals_tally()}
        return {}

    def totals(self) -> UsageTotals:
        """The usage totals; ``cost_usd`` is ``None`` unless some call was priced. The exact
        sum (``self.cost_usd``, 0 then) is what the summary table stores either way."""
        with_cost = self.calls > self.unpriced_calls
        return UsageTotals(
            calls=self.calls,
            unpriced_calls=self.unpriced_calls,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            prompt_cached_tokens=self.prompt_cached_tokens,
            prompt_cache_creation_tokens=self.prompt_cache_creation_tokens,
            completion_reasoning_tokens=self.completion_reasoning_tokens,
            cost_usd=float(self.cost_usd) if with_cost else None,
        )

    def by_model(self) -> dict[str, UsageTotals]:
        """The usage totals of each model, by model name in code point order."""
        tallies = self.tallies()
        return {model: _model_totals(tallies[model]) for model in sorted(tallies)}

    def summary(self) -> ConversationSummary:
        return ConversationSummary(
            conversation_id=self.conversation_id,
            version=self.version,
            created_at=from_us(self.created_at_us),
            updated_at=from_us(self.updated_at_us),
            last_position=self.last_position,
            title=self.title,
            parent_id=self.parent_id,
            totals=self.totals(),
            messages=self.message_events,
            by_model=self.by_model(),
        )

    def state(self) -> ConversationState:
        return ConversationState(
            summary=self.summary(),
            messages=list(self.messages or ()),
            metadata=dict(self.metadata),
        )


def _model_totals(tally: ModelTally) -> UsageTotals:
    calls, without_cost, prompt, completion, cached, cache_creation, reasoning, cost = tally
    return UsageTotals(
        calls=calls,
        unpriced_calls=without_cost,
        prompt_tokens=prompt,
        completion_tokens=completion,
        prompt_cached_tokens=cached,
        prompt_cache_creation_tokens=cache_creation,
        completion_reasoning_tokens=reasoning,
        cost_usd=float(cost) if calls > without_cost else None,
    )
