"""Conversation summaries and ``replay``: one fold, maintained on append, rebuilt on demand."""

from __future__ import annotations

import decimal

import msgspec
import pytest

import eventstore
from schemas import ConversationCreated, ErrorEvent, Message, Messages

from .support import collect, created, llm_call, note, said

pytestmark = pytest.mark.anyio


async def _three_views(
    store: eventstore.Store, cid: str
) -> tuple[eventstore.ConversationSummary, ...]:
    """The summary as maintained on append, as folded by replay, and as listed."""
    listed = [
        s for s in (await store.list_conversations(limit=1000)).items if s.conversation_id == cid
    ]
    assert len(listed) == 1
    return (await store.get_conversation(cid), (await store.replay(cid)).summary, listed[0])


async def test_summary_counts_events_and_dates_first_and_last(store: eventstore.Store) -> None:
    await store.append("c", [note(1), note(2)])
    await store.append("other", [note()])
    await store.append("c", [said("x")])

    events = await collect(store.read("c"))
    for summary in await _three_views(store, "c"):
        assert summary.conversation_id == "c"
        assert summary.event_count == summary.version == 3
        assert summary.created_at == events[0].recorded_at
        assert summary.updated_at == events[-1].recorded_at
        assert summary.created_at <= summary.updated_at
        assert summary.last_position == events[-1].position


async def test_summary_sums_the_tokens_of_every_model_call(store: eventstore.Store) -> None:
    await store.append(
        "c",
        [
            llm_call(100, 20, 0.5, cached=60, cache_creation=10, reasoning=5),
            said("no usage here"),
            llm_call(200, 30, None, cached=100, reasoning=12),
        ],
    )
    await store.append("c", [llm_call(7, 3, 0.0, cache_creation=2)])
    await store.append("other", [llm_call(1000, 1000, 9.0)])

    for summary in await _three_views(store, "c"):
        totals = summary.totals
        assert totals.calls == 3
        assert totals.prompt_tokens == 307
        assert totals.completion_tokens == 53
        assert totals.prompt_cached_tokens == 160
        assert totals.prompt_cache_creation_tokens == 12
        assert totals.completion_reasoning_tokens == 17


async def test_summary_counts_messages_events_and_splits_totals_by_model(
    store: eventstore.Store,
) -> None:
    await store.append(
        "c",
        [
            created(title="t"),
            said("question"),
            llm_call(100, 20, 0.5, cached=60, cache_creation=10, reasoning=5, model="m-b"),
            llm_call(200, 30, None, cached=100, reasoning=12, model="m-a"),
            note(),
        ],
    )
    await store.append("c", [llm_call(7, 3, 0.25, cache_creation=2, model="m-b"), said("ok")])
    await store.append(
        "c", [ErrorEvent(message="boom"), Messages(messages=[], usage=None), llm_call(model="é")]
    )

    for summary in await _three_views(store, "c"):
        assert summary.messages == 7  # every messages event, with usage or not
        assert list(summary.by_model) == ["m-a", "m-b", "é"]  # code point order
        assert summary.by_model["m-a"] == eventstore.UsageTotals(
            calls=1,
            unpriced_calls=1,
            prompt_tokens=200,
            completion_tokens=30,
            prompt_cached_tokens=100,
            completion_reasoning_tokens=12,
            cost_usd=None,
        )
        assert summary.by_model["m-b"] == eventstore.UsageTotals(
            calls=2,
            prompt_tokens=107,
            completion_tokens=23,
            prompt_cached_tokens=60,
            prompt_cache_creation_tokens=12,
            completion_reasoning_tokens=5,
            cost_usd=0.75,
        )
        assert summary.by_model["é"].calls == 1
        assert summary.totals.calls == sum(t.calls for t in summary.by_model.values())
        assert summary.totals.prompt_tokens == sum(
            t.prompt_tokens for t in summary.by_model.values()
        )


async def test_a_conversation_without_calls_has_no_models(store: eventstore.Store) -> None:
    await store.append("c", [created(), note()])
    for summary in await _three_views(store, "c"):
        assert (summary.messages, summary.by_model) == (0, {})


async def test_per_model_costs_are_summed_exactly(store: eventstore.Store) -> None:
    await store.append("c", [llm_call(cost=0.1, model="a") for _ in range(10)])
    await store.append("c", [llm_call(cost=0.1, model="b"), llm_call(cost=0.2, model="b")])
    for summary in await _three_views(store, "c"):
        assert summary.by_model["a"].cost_usd == 1.0
        assert summary.by_model["b"].cost_usd == 0.3


@pytest.mark.parametrize(
    ("costs", "total"),
    [
        pytest.param([0.0111, 0.0180], 0.0291, id="two-calls"),
        pytest.param([0.1] * 10, 1.0, id="ten-dimes"),
        pytest.param([0.1, 0.2], 0.3, id="point-three"),
        pytest.param([1e-7, 2.5, 1e-7], 2.5000002, id="tiny-and-large"),
        # The exact sum lies just below the midpoint of two floats: a sum rounded to 28 digits
        # on the way lands above it and reads 1.0000000000000002.
        pytest.param([1.0, 1.1102230246251565e-16], 1.0, id="no-double-rounding"),
    ],
)
async def test_summary_sums_persisted_costs_exactly(
    store: eventstore.Store, costs: list[float], total: float
) -> None:
    for cost in costs:
        await store.append("c", [llm_call(cost=cost)])

    for summary in await _three_views(store, "c"):
        assert summary.totals.cost_usd == total
        assert summary.totals.unpriced_calls == 0


async def test_cost_sums_ignore_the_callers_decimal_context(store: eventstore.Store) -> None:
    await store.append("c", [llm_call(cost=0.123456), llm_call(cost=0.123456)])
    with decimal.localcontext(prec=3):
        for summary in await _three_views(store, "c"):
            assert summary.totals.cost_usd == 0.246912
        assert (await store.verify()).ok


async def test_summaries_fold_what_was_stored(store: eventstore.Store) -> None:
    # An int cost is stored as a JSON number and reads back a float: the summary folds what
    # the store holds, so the three views and verify agree.
    await store.append("c", [llm_call(cost=3), llm_call(cost=2**53)])
    for summary in await _three_views(store, "c"):
        assert summary.totals.cost_usd == 2.0**53 + 3
    assert (await store.verify()).ok


async def test_unpriced_calls_are_counted_and_never_priced_as_free(
    store: eventstore.Store,
) -> None:
    await store.append("c", [llm_call(cost=None), llm_call(cost=0.0), llm_call(cost=0.25)])
    await store.append("c", [llm_call(cost=None)])

    for summary in await _three_views(store, "c"):
        assert summary.totals.calls == 4
        assert summary.totals.unpriced_calls == 2
        assert summary.totals.cost_usd == 0.25


@pytest.mark.parametrize(
    ("costs", "total"),
    [
        pytest.param([], None, id="no-calls"),
        pytest.param([None], None, id="one-unpriced"),
        pytest.param([None, None, None], None, id="all-unpriced"),
        pytest.param([0.0], 0.0, id="priced-and-free"),
        pytest.param([None, 0.0, None], 0.0, id="free-beside-unpriced"),
        pytest.param([None, 0.5], 0.5, id="priced-beside-unpriced"),
    ],
)
async def test_the_cost_total_is_unknown_unless_some_call_was_priced(
    store: eventstore.Store, costs: list[float | None], total: float | None
) -> None:
    # An unknown cost must not read as "free": None, where a priced total of 0.0 is free.
    await store.append("c", [note(), *(llm_call(cost=cost) for cost in costs)])
    for summary in await _three_views(store, "c"):
        assert summary.totals.calls == len(costs)
        assert summary.totals.unpriced_calls == costs.count(None)
        assert summary.totals.cost_usd == total
        assert type(summary.totals.cost_usd) is type(total)
        assert msgspec.json.decode(msgspec.json.encode(summary.totals))["cost_usd"] == total
    assert (await store.verify()).ok
    await store.rebuild_summaries()
    assert (await store.get_conversation("c")).totals.cost_usd == total


async def test_messages_without_usage_are_not_model_calls(store: eventstore.Store) -> None:
    await store.append("c", [said("hi"), said("hello", role="assistant"), note()])
    for summary in await _three_views(store, "c"):
        assert summary.totals == eventstore.UsageTotals()
        assert summary.totals.cost_usd is None


async def test_title_and_parent_come_from_conversation_created(store: eventstore.Store) -> None:
    await store.append("parent", [created(title="Main task")])
    await store.append("child", [created(title="Sub-task", parent_id="parent"), note()])
    await store.append("untitled", [note()])

    for summary in await _three_views(store, "child"):
        assert (summary.title, summary.parent_id) == ("Sub-task", "parent")
    for summary in await _three_views(store, "parent"):
        assert (summary.title, summary.parent_id) == ("Main task", None)
    for summary in await _three_views(store, "untitled"):
        assert (summary.title, summary.parent_id) == (None, None)


async def test_replay_folds_messages_in_order_with_metadata(store: eventstore.Store) -> None:
    greeting = Message(role="user", content="hello")
    answer = Message(role="assistant", content="hi there")
    await store.append(
        "c", [ConversationCreated(title="t", metadata={"team": "search", "env": "prod"})]
    )
    await store.append("c", [Messages(messages=[greeting])])
    await store.append("other", [said("not mine")])
    await store.append("c", [ErrorEvent(message="retrying"), llm_call(text="hi there", cost=0.1)])
    await store.append("c", [Messages(messages=[greeting, answer])])

    state = await store.replay("c")

    assert state.messages == [greeting, answer, greeting, answer]
    assert state.metadata == {"team": "search", "env": "prod"}
    assert state.summary == await store.get_conversation("c")
    assert (state.summary.totals.calls, state.summary.totals.cost_usd) == (1, 0.1)


async def test_rebuilt_summaries_equal_the_incrementally_maintained_ones(
    store: eventstore.Store,
) -> None:
    await store.append("p", [created(title="root")])
    await store.append("a", [created(title="a", parent_id="p"), llm_call(5, 6, 0.0111)])
    await store.append("b", [said("x"), llm_call(1, 2, None)])
    await store.append("a", [llm_call(7, 8, 0.0180), note()])
    await store.append_raw("b", [b'{"type":"messages","messages":[],"usage":null}'])
    await store.append("b", [llm_call(3, 4, 0.5, model="other"), llm_call(1, 1, 0.25)])
    incremental = (await store.list_conversations(limit=1000)).items
    assert {s.conversation_id: list(s.by_model) for s in incremental} == {
        "p": [],
        "a": ["test-model"],
        "b": ["other", "test-model"],
    }

    assert await store.rebuild_summaries() == 3

    assert (await store.list_conversations(limit=1000)).items == incremental
    for summary in incremental:
        assert (await store.replay(summary.conversation_id)).summary == summary
    assert (await store.verify()).ok


async def test_rebuild_summaries_of_an_empty_store_is_zero(store: eventstore.Store) -> None:
    assert await store.rebuild_summaries() == 0
    assert (await store.list_conversations()).items == []
