"""The store against a tiny in-memory model: random interleavings of appends (every kind of
expected version, right and wrong; given, store-made and retried ids), reads, paging, listings
and replays must all agree with what the model predicts.

The store stays open across the rules of one run: it lives on an event loop in a blocking
portal's thread, and each rule calls into it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from anyio.from_thread import start_blocking_portal
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

import eventstore
from eventstore import ANY, EXISTS, NO_CONVERSATION, DuplicateEventId, WrongExpectedVersion
from schemas import Body, ErrorEvent, Messages, encode

from .conftest import BackendUnderTest
from .support import collect, llm_call, note, said

CONVERSATIONS = ["a", "b", "c"]
TYPES = ["custom", "error", "messages"]

bodies = st.one_of(
    st.integers(0, 9).map(note),
    st.sampled_from(["hi", "how?", "ok"]).map(said),
    st.builds(
        llm_call,
        prompt=st.integers(200, 10**6),  # counts are inclusive: room for the cached part
        completion=st.integers(100, 10**4),
        cost=st.sampled_from([None, 0.0, 0.0111, 0.018, 0.1, 0.2, 2.5]),
        cached=st.integers(0, 100),
        reasoning=st.integers(0, 100),
        model=st.sampled_from(["test-model", "other-model", "é-model"]),
    ),
    st.just(ErrorEvent(message="rate limited", status_code=429)),
)

#: How a rule picks ``expected_version``: a function of the current version giving the value
#: to pass and whether the append must succeed.
Expectation = Callable[[int], tuple[eventstore.ExpectedVersion | int, bool]]
expectations: st.SearchStrategy[Expectation] = st.one_of(
    st.just(lambda v: (ANY, True)),
    st.just(lambda v: (NO_CONVERSATION, v == 0)),
    st.just(lambda v: (0, v == 0)),
    st.just(lambda v: (EXISTS, v > 0)),
    st.just(lambda v: (v, True)),
    st.sampled_from([-2, -1, 1, 2]).map(
        lambda d: lambda v: (v + d if v + d >= 0 else v + 1, False)
    ),
)


@dataclass
class Appended:
    """An acknowledged append, for retries."""

    conversation_id: str
    bodies: list[Body]
    result: eventstore.AppendResult


@dataclass
class ModelEvent:
    id: UUID
    position: int
    raw: bytes
    type: str
    body: Body


@dataclass
class Model:
    conversations: dict[str, list[ModelEvent]] = field(default_factory=dict)
    last_position: int = 0

    def version(self, cid: str) -> int:
        return len(self.conversations.get(cid, ()))

    def in_commit_order(self) -> list[tuple[int, str, int, UUID]]:
        return sorted(
            (e.position, cid, v, e.id)
            for cid, events in self.conversations.items()
            for v, e in enumerate(events, start=1)
        )

    def totals(self, cid: str, model: str | None = None) -> eventstore.UsageTotals:
        """The conversation's usage totals: of every call, or of the calls to ``model``."""
        calls = unpriced = prompt = completion = cached = reasoning = 0
        cost = Decimal(0)
        for event in self.conversations[cid]:
            usage = event.body.usage if isinstance(event.body, Messages) else None
            if usage is None or (model is not None and usage.model != model):
                continue
            calls += 1
            if usage.cost_usd is None:
                unpriced += 1
            else:
                cost += Decimal(str(usage.cost_usd))
            prompt += usage.prompt_tokens or 0
            completion += usage.completion_tokens or 0
            cached += usage.prompt_cached_tokens or 0
            reasoning += usage.completion_reasoning_tokens or 0
        return eventstore.UsageTotals(
            calls=calls,
            unpriced_calls=unpriced,
            prompt_tokens=prompt,
            completion_tokens=completion,
            prompt_cached_tokens=cached,
            completion_reasoning_tokens=reasoning,
            cost_usd=float(cost) if calls > unpriced else None,
        )

    def by_model(self, cid: str) -> dict[str, eventstore.UsageTotals]:
        models = {
            e.body.usage.model
            for e in self.conversations[cid]
            if isinstance(e.body, Messages) and e.body.usage is not None
        }
        return {model: self.totals(cid, model) for model in sorted(models)}

    def messages(self, cid: str) -> int:
        return sum(isinstance(e.body, Messages) for e in self.conversations[cid])

    def by_recent_activity(self) -> list[str]:
        return sorted(self.conversations, key=lambda c: -self.conversations[c][-1].position)


class StoreMachine(RuleBasedStateMachine):
    """Subclassed per backend with ``new_url`` set."""

    new_url: Callable[[], str]

    appended = Bundle("appended")

    def __init__(self) -> None:
        super().__init__()
        self.model = Model()
        self._resources = ExitStack()
        self.portal = self._resources.enter_context(start_blocking_portal("asyncio"))
        connector = eventstore.connect(self.new_url())
        self.store: eventstore.Store = self.portal.call(connector.__aenter__)
        self._resources.callback(self.portal.call, self.store.aclose)

    def teardown(self) -> None:
        self._resources.close()

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``await fn(*args, **kwargs)`` on the store's event loop."""

        async def run() -> Any:
            return await fn(*args, **kwargs)

        return self.portal.call(run)

    def walk(self, fetch: Callable[[str | None], Any]) -> list[list[Any]]:
        pages, cursor = [], None
        while True:
            page = self.call(fetch, cursor)
            pages.append(page.items)
            if page.next_cursor is None:
                return pages
            cursor = page.next_cursor

    # -- appends -----------------------------------------------------------------------------

    @rule(
        target=appended,
        cid=st.sampled_from(CONVERSATIONS),
        new=st.lists(bodies, min_size=1, max_size=3),
        expectation=expectations,
        give_ids=st.booleans(),
    )
    def append(self, cid: str, new: list[Body], expectation: Expectation, give_ids: bool) -> Any:
        current = self.model.version(cid)
        expected, succeeds = expectation(current)
        ids = [uuid4() for _ in new] if give_ids else None
        if not succeeds:
            with pytest.raises(WrongExpectedVersion) as refused:
                self.call(self.store.append, cid, new, expected_version=expected, event_ids=ids)
            assert (refused.value.conversation_id, refused.value.actual) == (cid, current)
            return multiple()
        result = self.call(self.store.append, cid, new, expected_version=expected, event_ids=ids)
        assert result.conversation_id == cid
        assert result.version == current + len(new)
        assert len(result.ids) == len(result.positions) == len(new)
        if ids is not None:
            assert list(result.ids) == ids
        assert list(result.positions) == sorted(set(result.positions))
        assert result.positions[0] > self.model.last_position
        events = self.model.conversations.setdefault(cid, [])
        for event_id, position, body in zip(result.ids, result.positions, new, strict=True):
            events.append(ModelEvent(event_id, position, encode(body), _type(body), body))
        self.model.last_position = result.positions[-1]
        return Appended(cid, new, result)

    @rule(previous=appended, expectation=expectations)
    def retry_in_the_same_place(self, previous: Appended, expectation: Expectation) -> None:
        expected, _ = expectation(self.model.version(previous.conversation_id))
        result = self.call(
            self.store.append,
            previous.conversation_id,
            previous.bodies,
            expected_version=expected,
            event_ids=previous.result.ids,
        )
        assert result == previous.result

    @rule(previous=appended, elsewhere=st.sampled_from(CONVERSATIONS), reverse=st.booleans())
    def retry_elsewhere(self, previous: Appended, elsewhere: str, reverse: bool) -> None:
        ids: Sequence[UUID] = previous.result.ids
        if reverse and len(ids) > 1:
            ids, elsewhere = ids[::-1], previous.conversation_id
        elif elsewhere == previous.conversation_id:
            return
        with pytest.raises(DuplicateEventId):
            self.call(self.store.append, elsewhere, previous.bodies[: len(ids)], event_ids=ids)

    # -- reads -------------------------------------------------------------------------------

    @rule(
        cid=st.sampled_from(CONVERSATIONS),
        lo=st.integers(0, 8),
        hi=st.none() | st.integers(0, 8),
        direction=st.sampled_from(["asc", "desc"]),
    )
    def read(self, cid: str, lo: int, hi: int | None, direction: eventstore.Direction) -> None:
        got = self.call(
            collect, self.store.read(cid, from_version=lo, to_version=hi, direction=direction)
        )
        model = self.model.conversations.get(cid, [])
        expected = [
            (v, e.id, e.position, e.raw)
            for v, e in enumerate(model, start=1)
            if v >= lo and (hi is None or v <= hi)
        ]
        if direction == "desc":
            expected.reverse()
        assert [(e.version, e.id, e.position, e.raw) for e in got] == expected

    @rule(
        cid=st.sampled_from(CONVERSATIONS),
        types=st.none() | st.lists(st.sampled_from(TYPES), min_size=1, unique=True),
        limit=st.integers(-1, 5),
        direction=st.sampled_from(["asc", "desc"]),
    )
    def list_events(
        self, cid: str, types: list[str] | None, limit: int, direction: eventstore.Direction
    ) -> None:
        pages = self.walk(
            lambda cursor: self.store.list_events(
                cid, types=types, limit=limit, cursor=cursor, direction=direction
            )
        )
        model = self.model.conversations.get(cid, [])
        expected = [
            (v, e.id) for v, e in enumerate(model, start=1) if types is None or e.type in types
        ]
        if direction == "desc":
            expected.reverse()
        assert all(len(page) <= max(limit, 1) for page in pages)
        assert [(e.version, e.id) for page in pages for e in page] == expected

    @rule(limit=st.integers(1, 4), direction=st.sampled_from(["asc", "desc"]))
    def list_conversations(self, limit: int, direction: eventstore.Direction) -> None:
        pages = self.walk(
            lambda cursor: self.store.list_conversations(
                limit=limit, cursor=cursor, direction=direction
            )
        )
        expected = self.model.by_recent_activity()
        if direction == "asc":
            expected.reverse()
        assert [s.conversation_id for page in pages for s in page] == expected

    @rule(cid=st.sampled_from(CONVERSATIONS))
    def replay(self, cid: str) -> None:
        if cid not in self.model.conversations:
            with pytest.raises(eventstore.ConversationNotFound):
                self.call(self.store.replay, cid)
            return
        state = self.call(self.store.replay, cid)
        model = self.model.conversations[cid]
        assert state.messages == [
            m for e in model if isinstance(e.body, Messages) for m in e.body.messages
        ]
        assert state.summary == self.call(self.store.get_conversation, cid)

    # -- invariants --------------------------------------------------------------------------

    @invariant()
    def every_event_is_where_the_model_says(self) -> None:
        stored = self.call(collect, self.store.read_all())
        assert [
            (e.position, e.conversation_id, e.version, e.id) for e in stored
        ] == self.model.in_commit_order()

    @invariant()
    def summaries_match_the_model(self) -> None:
        for cid, events in self.model.conversations.items():
            summary = self.call(self.store.get_conversation, cid)
            assert summary.version == len(events)
            assert summary.last_position == events[-1].position
            assert summary.totals == self.model.totals(cid)
            assert summary.messages == self.model.messages(cid)
            assert list(summary.by_model.items()) == list(self.model.by_model(cid).items())


def _type(body: Body) -> str:
    return body.__struct_config__.tag  # type: ignore[union-attr,return-value]


def test_store_behaves_like_its_model(backend: BackendUnderTest) -> None:
    class Machine(StoreMachine):
        new_url = staticmethod(backend.new_url)

    run_state_machine_as_test(Machine, settings=settings(stateful_step_count=25))
