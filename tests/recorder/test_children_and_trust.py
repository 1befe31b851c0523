"""Sub-conversations roll their spend up, even when the sub-agent fails; and the trust
boundary: what a harness hands the store is a claim, stored verbatim or refused whole."""

from __future__ import annotations

import math

import openai
import pytest

import eventstore
from harness.fake import FakeProvider, StatusError
from harness.recorder import Recorder
from harness.spend import rollup
from schemas import ConversationCreated, Message, Messages, SchemaError, UsageRecord

pytestmark = pytest.mark.anyio


def response(prompt: int = 1000) -> dict[str, object]:
    return {
        "id": "r",
        "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": 100},
    }


async def test_a_sub_agents_spend_rolls_up_even_when_it_fails(
    recorder: Recorder, store: eventstore.Store, server: FakeProvider, oai: openai.AsyncOpenAI
) -> None:
    async with recorder.call("root", provider="openai", model="gpt-4o") as call:
        call.response(response())
    child = await recorder.start_child("root", title="researcher")
    assert child.startswith("root/sub-")
    async with recorder.call(child, provider="openai", model="gpt-4o") as call:
        call.response(response(2000))
    grandchild = await recorder.start_child(child, conversation_id="root/deep")
    async with recorder.call(grandchild, provider="openai", model="gpt-4o") as call:
        call.response(response(3000))
    server.add(StatusError(status=500))
    with pytest.raises(openai.InternalServerError):  # the sub-agent then fails
        async with recorder.call(grandchild, provider="openai", model="gpt-4o") as call:
            call.response(await oai.chat.completions.create(model="gpt-4o", messages=[]))

    alone = await rollup(store, "root", include_children=False)
    total = await rollup(store, "root")
    assert (alone.calls, total.calls) == (1, 3)
    assert total.prompt_tokens == 6000
    parts = [(await store.get_conversation(c)).totals.cost_usd for c in ("root", child, grandchild)]
    assert all(p is not None for p in parts)
    assert total.cost_usd == pytest.approx(sum(p for p in parts if p is not None), rel=1e-12)
    assert await recorder.spent("root") == total.cost_usd
    assert (await store.get_conversation(child)).parent_id == "root"


async def test_start_opens_a_conversation_once(recorder: Recorder, store: eventstore.Store) -> None:
    cid = await recorder.start(title="Hi", metadata={"k": "v"}, session_id="s1")
    assert len(cid) == 16
    (event,) = [e async for e in store.read(cid)]
    assert event.data == ConversationCreated(title="Hi", metadata={"k": "v"})
    assert (event.harness, event.session_id) == ("test-harness/1.0", "s1")
    assert await recorder.start("mine") == "mine"
    with pytest.raises(eventstore.WrongExpectedVersion):
        await recorder.start("mine")


async def test_a_roll_up_of_unpriced_children_is_unpriced_not_free(
    recorder: Recorder, store: eventstore.Store
) -> None:
    child = await recorder.start_child("root")
    await store.append(
        "root", [Messages(messages=[], usage=UsageRecord(model="x", prompt_tokens=1))]
    )
    await store.append(
        child, [Messages(messages=[], usage=UsageRecord(model="x", prompt_tokens=2))]
    )
    total = await rollup(store, "root")
    assert (total.calls, total.unpriced_calls, total.cost_usd) == (2, 2, None)


# -- the trust boundary ----------------------------------------------------------------


async def test_a_harness_cannot_set_version_position_time_or_hash(store: eventstore.Store) -> None:
    """The envelope is the store's: fields of that name inside a body are the body's."""
    raw = (b'{"type":"custom","event_type":"x","payload":{"version":99,"position":99,'
           b'"recorded_at":"1999-01-01T00:00:00Z","hash":"00"}}')  # fmt: skip
    await store.append("c", [Messages(messages=[Message(role="user", content="hi")])])
    result = await store.append_raw("c", [raw])
    (event,) = [e async for e in store.read("c", from_version=2)]
    assert (event.version, event.position) == (2, result.positions[0]) == (2, 2)
    assert event.recorded_at.year >= 2026
    assert event.raw == raw
    with pytest.raises(TypeError):
        await store.append("c", [], version=5)  # type: ignore[call-arg]
    assert (await store.verify()).ok


async def test_a_cost_inconsistent_with_its_tokens_is_stored_verbatim(
    store: eventstore.Store,
) -> None:
    claim = UsageRecord(model="gpt-4o", prompt_tokens=1_000_000, completion_tokens=0,
                        cost_usd=0.000001, pricing="reported:someone")  # fmt: skip
    await store.append("c", [Messages(messages=[], usage=claim)])
    (event,) = [e async for e in store.read("c")]
    assert isinstance(event.data, Messages)
    assert event.data.usage == claim  # the substrate never re-prices
    assert (await store.get_conversation("c")).totals.cost_usd == 0.000001


@pytest.mark.parametrize(
    ("usage", "path"),
    [
        (UsageRecord(model="m", prompt_tokens=-1), "$.events[0].usage.prompt_tokens"),
        (UsageRecord(model="m", cost_usd=math.nan), "$.events[0].usage.cost_usd"),
        (UsageRecord(model="m", cost_usd=-0.5), "$.events[0].usage.cost_usd"),
        (UsageRecord(model="m", prompt_tokens=5, prompt_cached_tokens=9),
         "$.events[0].usage.prompt_cached_tokens"),
        (UsageRecord(model="m", completion_tokens=1, completion_reasoning_tokens=2),
         "$.events[0].usage.completion_reasoning_tokens"),
    ],
)  # fmt: skip
async def test_bad_usage_from_a_harness_is_refused_naming_the_field(
    store: eventstore.Store, usage: UsageRecord, path: str
) -> None:
    await store.append("c", [Messages(messages=[])])
    with pytest.raises(SchemaError) as caught:
        await store.append("c", [Messages(messages=[], usage=usage)])
    assert caught.value.path == path
    assert len([e async for e in store.read("c")]) == 1
    assert (await store.get_conversation("c")).totals.calls == 0


def test_a_roll_up_sums_costs_exactly_whatever_the_callers_decimal_context() -> None:
    """As the store's own summaries do: no rounding to the caller's decimal precision."""
    import decimal

    from harness.spend import cost_sum

    with decimal.localcontext(decimal.Context(prec=3)):
        assert cost_sum([1.234, 0.001]) == 1.235  # a 3-digit context would say 1.24
        assert cost_sum([0.0111, None, 0.0100]) == 0.0211
    assert cost_sum([None, None]) is None
    assert cost_sum([0.0]) == 0.0
