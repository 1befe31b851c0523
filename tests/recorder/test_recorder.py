"""The recorder around real SDK calls to the fake provider: one messages event per call with
the scripted tokens, the table's cost and the measured timing; an error event, and never a
messages event, for a call that fails or is cancelled."""

from __future__ import annotations

import json

import anthropic
import anyio
import openai
import pytest

import eventstore
from harness.fake import FakeProvider, Reply, StatusError, ToolCall, Usage
from harness.pricing import PriceTable, apply_price
from harness.recorder import Recorder
from schemas import (
    ErrorEvent,
    Message,
    Messages,
    StoredEvent,
    TextPart,
    ToolCallPart,
    UsageRecord,
)

pytestmark = pytest.mark.anyio

USER = [{"role": "user", "content": "Hello?"}]


async def _events(store: eventstore.Store, cid: str = "c") -> list[StoredEvent]:
    return [e async for e in store.read(cid)]


async def _warm_up_openai(server: FakeProvider, client: openai.AsyncOpenAI) -> None:
    """One call first, not recorded: the SDK imports and builds what a request needs on its
    first use, which on a loaded machine can take longer than the delay under test."""
    server.add(Reply(text="warm-up"))
    await client.chat.completions.create(model="m", messages=USER)


async def test_an_openai_stream_is_recorded_with_tokens_cost_and_ttft(
    recorder: Recorder,
    store: eventstore.Store,
    server: FakeProvider,
    oai: openai.AsyncOpenAI,
    prices: PriceTable,
) -> None:
    usage = Usage(prompt_tokens=1200, completion_tokens=40, cached_tokens=1000, reasoning_tokens=8)
    await _warm_up_openai(server, oai)
    server.add(
        Reply(text=("Hel", "lo ", "there"), usage=usage, first_chunk_delay=0.25, chunk_delay=0.02)
    )
    await recorder.record_input("c", [Message(role="user", content="Hello?")], turn_id="t1")
    async with recorder.call("c", provider="openai", model="gpt-4o", turn_id="t1") as call:
        stream = await oai.chat.completions.create(
            model="gpt-4o", messages=USER, stream=True, stream_options={"include_usage": True}
        )
        async for chunk in stream:
            call.chunk(chunk)

    user, answer = await _events(store)
    assert isinstance(user.data, Messages)
    assert user.data.usage is None
    assert isinstance(answer.data, Messages)
    assert (answer.harness, answer.turn_id) == ("test-harness/1.0", "t1")
    assert answer.data.messages == [Message(role="assistant", content="Hello there")]
    got = answer.data.usage
    assert got is not None
    assert (got.model, got.provider) == ("gpt-4o", "openai")
    assert (got.prompt_tokens, got.prompt_cached_tokens) == (1200, 1000)
    assert (got.completion_tokens, got.completion_reasoning_tokens) == (40, 8)
    expected = apply_price(UsageRecord(model="gpt-4o", prompt_tokens=1200,
                                       prompt_cached_tokens=1000, completion_tokens=40,
                                       completion_reasoning_tokens=8), prices)  # fmt: skip
    assert got.cost_usd == expected.cost_usd
    assert got.cost_usd is not None
    assert got.pricing == expected.pricing
    assert got.ttft_ms is not None
    assert got.duration_ms is not None
    assert 250 <= got.ttft_ms < 300  # the scripted delay before the first chunk, within 50 ms
    # To the end of the stream: the scripted 250 ms, then two more chunks 20 ms apart. (Not
    # ttft + 40: the first chunk's arrival jitters more than the later ones'.)
    assert got.duration_ms >= 290
    assert got.duration_ms > got.ttft_ms
    assert call.result is not None
    assert call.result.version == 2
    assert call.usage == got


async def test_an_anthropic_stream_with_cache_reads_and_writes(
    recorder: Recorder,
    store: eventstore.Store,
    server: FakeProvider,
    claude: anthropic.AsyncAnthropic,
    prices: PriceTable,
) -> None:
    usage = Usage(prompt_tokens=5000, completion_tokens=120, cached_tokens=3000,
                  cache_creation_tokens=1500)  # fmt: skip
    tool = ToolCall(name="get_weather", arguments='{"city": "Paris"}', id="toolu_1")
    server.add(Reply(text="warm-up"))
    async with claude.messages.stream(model="m", max_tokens=5, messages=USER) as warm:
        await warm.get_final_message()
    server.add(Reply(text="Let me look.", tool_calls=(tool,), usage=usage, first_chunk_delay=0.1))
    async with (
        recorder.call("c", provider="anthropic", model="claude-sonnet-4-5") as call,
        claude.messages.stream(model="claude-sonnet-4-5", max_tokens=100, messages=USER) as stream,
    ):
        async for event in stream:
            call.chunk(event)

    (answer,) = await _events(store)
    assert isinstance(answer.data, Messages)
    content = answer.data.messages[0].content
    assert isinstance(content, list)
    assert content[0] == TextPart(text="Let me look.")
    assert isinstance(content[1], ToolCallPart)
    assert (content[1].id, content[1].name) == ("toolu_1", "get_weather")
    assert json.loads(content[1].arguments) == {"city": "Paris"}
    got = answer.data.usage
    assert got is not None
    assert (got.prompt_tokens, got.prompt_cached_tokens, got.prompt_cache_creation_tokens) == (
        5000, 3000, 1500,
    )  # fmt: skip
    assert got.completion_tokens == 120
    assert got.provider == "anthropic"
    expected = apply_price(msgspec_replace_timing(got), prices)
    assert got.cost_usd == expected.cost_usd
    assert got.cost_usd is not None
    assert got.ttft_ms is not None
    assert 100 <= got.ttft_ms < 150


def msgspec_replace_timing(usage: UsageRecord) -> UsageRecord:
    import msgspec

    return msgspec.structs.replace(
        usage, cost_usd=None, pricing=None, ttft_ms=None, duration_ms=None
    )


async def test_a_whole_response_is_recorded_with_ttft_at_its_arrival(
    recorder: Recorder, store: eventstore.Store, server: FakeProvider, oai: openai.AsyncOpenAI
) -> None:
    server.add(Reply(text="Hi", usage=Usage(prompt_tokens=10, completion_tokens=2),
                     first_chunk_delay=0.05))  # fmt: skip
    async with recorder.call("c", provider="openai", model="gpt-4o-mini") as call:
        call.response(await oai.chat.completions.create(model="gpt-4o-mini", messages=USER))
    (answer,) = await _events(store)
    assert isinstance(answer.data, Messages)
    assert answer.data.response_id is not None
    usage = answer.data.usage
    assert usage is not None
    assert usage.ttft_ms == usage.duration_ms
    assert usage.ttft_ms is not None
    assert usage.ttft_ms >= 50


@pytest.mark.parametrize(
    ("step", "error", "status"),
    [
        (StatusError(status=429, retry_after=1), openai.RateLimitError, 429),
        (StatusError(status=500), openai.InternalServerError, 500),
        (Reply(text=("a", "b", "c", "d"), drop_after=2), openai.APIError, None),
    ],
    ids=["429", "500", "dropped-stream"],
)
async def test_a_failed_call_leaves_an_error_event_and_no_messages_event(
    recorder: Recorder,
    store: eventstore.Store,
    server: FakeProvider,
    oai: openai.AsyncOpenAI,
    step: StatusError | Reply,
    error: type[Exception],
    status: int | None,
) -> None:
    server.add(step)

    async def streamed_call() -> None:
        async with recorder.call("c", provider="openai", model="gpt-4o") as call:
            stream = await oai.chat.completions.create(
                model="gpt-4o", messages=USER, stream=True, stream_options={"include_usage": True}
            )
            async for chunk in stream:
                call.chunk(chunk)

    with pytest.raises(error) as raised:
        await streamed_call()
    (only,) = await _events(store)
    assert isinstance(only.data, ErrorEvent)
    assert only.data.status_code == status
    assert only.data.error_type == type(raised.value).__name__
    assert only.data.message
    assert only.data.duration_ms is not None
    assert only.harness == "test-harness/1.0"
    if status == 429:
        assert only.data.retryable is True


async def test_a_cancelled_call_leaves_an_error_event(
    recorder: Recorder, store: eventstore.Store, server: FakeProvider, oai: openai.AsyncOpenAI
) -> None:
    server.add(Reply(text=("slow", "er"), first_chunk_delay=5))
    with anyio.move_on_after(0.3):
        async with recorder.call("c", provider="openai", model="gpt-4o") as call:
            stream = await oai.chat.completions.create(model="gpt-4o", messages=USER, stream=True)
            async for chunk in stream:
                call.chunk(chunk)
    (only,) = await _events(store)
    assert isinstance(only.data, ErrorEvent)
    assert only.data.error_type == "CancelledError"
    assert only.data.duration_ms is not None
    assert 250 <= only.data.duration_ms < 2000


async def test_a_reported_cost_is_kept_not_repriced(
    recorder: Recorder, store: eventstore.Store
) -> None:
    """OpenRouter reports what it charged: the recorder keeps it, whatever the table says."""
    response = {
        "id": "gen-1",
        "model": "openai/gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110,
                  "cost": 0.123456},
    }  # fmt: skip
    async with recorder.call("c", provider="openrouter", model="openai/gpt-4o") as call:
        call.response(response)
    (answer,) = await _events(store)
    assert isinstance(answer.data, Messages)
    assert answer.data.usage is not None
    assert (answer.data.usage.cost_usd, answer.data.usage.pricing) == (
        0.123456, "reported:openrouter",
    )  # fmt: skip


async def test_an_unknown_model_is_unpriced_not_free(
    recorder: Recorder, store: eventstore.Store, server: FakeProvider, oai: openai.AsyncOpenAI
) -> None:
    server.add(Reply(text="?", model="no-such-model-7", usage=Usage(prompt_tokens=5,
                                                                   completion_tokens=1)))  # fmt: skip
    async with recorder.call("c", provider="openai", model="no-such-model-7") as call:
        call.response(await oai.chat.completions.create(model="no-such-model-7", messages=USER))
    (answer,) = await _events(store)
    assert isinstance(answer.data, Messages)
    assert answer.data.usage is not None
    assert answer.data.usage.cost_usd is None
    assert answer.data.usage.pricing == "unpriced:model_not_found"
    assert (await store.get_conversation("c")).totals.cost_usd is None


async def test_an_unknown_provider_is_refused_before_anything_is_sent(recorder: Recorder) -> None:
    with pytest.raises(ValueError, match="no adapter for provider 'acme'; known: openai"):
        recorder.call("c", provider="acme", model="m")


async def test_the_price_table_is_loaded_once_per_process(
    store: eventstore.Store, monkeypatch: pytest.MonkeyPatch, prices: PriceTable
) -> None:
    import harness.recorder as recorder_module

    loads = []

    def load() -> PriceTable:
        loads.append(1)
        return prices

    recorder_module._process_prices.cache_clear()
    monkeypatch.setattr(recorder_module, "load_prices", load)
    try:
        for _ in range(3):
            recorder = Recorder(store, harness="h/1")
            async with recorder.call("c", provider="openai", model="gpt-4o") as call:
                call.response({"id": "r", "model": "gpt-4o", "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": "x"}}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1}})  # fmt: skip
        assert loads == [1]
    finally:
        recorder_module._process_prices.cache_clear()
