"""LiteLLM users: a callback records every ``litellm.acompletion`` call, streamed or not, with
LiteLLM's own timing, against the fake provider (no network: LiteLLM reads its bundled price
map)."""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import asyncio
from collections.abc import Iterator

import litellm
import pytest

import eventstore
from harness.fake import FakeProvider, Reply, StatusError, Usage
from harness.litellm_callback import ConvlogCallback
from harness.recorder import Recorder
from schemas import ErrorEvent, Messages

pytestmark = [
    pytest.mark.anyio,
    # LiteLLM's own internals warn (pydantic schemas, deprecations) on a real call: theirs.
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

USER = [{"role": "user", "content": "Hello?"}]


async def _settled(store: eventstore.Store, cid: str, n: int) -> list[object]:
    """LiteLLM runs callbacks as tasks of their own: wait for the events they append."""
    for _ in range(200):
        events = [e.data async for e in store.read(cid)]
        if len(events) >= n:
            return events
        await asyncio.sleep(0.01)
    raise AssertionError(f"{cid}: {len(events)} events, expected {n}")


@pytest.fixture
def callback(recorder: Recorder) -> Iterator[ConvlogCallback]:
    # LiteLLM copies `callbacks` into lists of its own on a call: reset those too, or the
    # previous test's callback (and its closed store) would still be called.
    litellm.logging_callback_manager._reset_all_callbacks()
    cb = ConvlogCallback(recorder, conversation_id="default")
    litellm.callbacks = [cb]
    yield cb
    litellm.logging_callback_manager._reset_all_callbacks()


@pytest.mark.parametrize("stream", [False, True])
async def test_a_litellm_call_is_recorded_with_its_usage_and_timing(
    callback: ConvlogCallback, store: eventstore.Store, server: FakeProvider, stream: bool
) -> None:
    server.add(Reply(text=("Hel", "lo"), usage=Usage(prompt_tokens=50, completion_tokens=2),
                     first_chunk_delay=0.2, chunk_delay=0.05))  # fmt: skip
    response = await litellm.acompletion(
        model="openai/gpt-4o",
        messages=USER,
        api_base=server.openai_base_url,
        api_key="test",
        stream=stream,
        stream_options={"include_usage": True} if stream else None,
        metadata={"convlog_conversation_id": "conv-7"},
    )
    if stream:
        async for _ in response:
            pass
    (event,) = await _settled(store, "conv-7", 1)
    assert isinstance(event, Messages)
    assert event.messages[0].content == "Hello"
    usage = event.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens) == (50, 2)
    assert usage.cost_usd is not None
    assert usage.duration_ms is not None
    assert usage.ttft_ms is not None
    assert usage.duration_ms >= 200
    if stream:
        assert 200 <= usage.ttft_ms < usage.duration_ms


async def test_a_failed_litellm_call_is_an_error_event(
    callback: ConvlogCallback, store: eventstore.Store, server: FakeProvider
) -> None:
    server.add(StatusError(status=500))
    with pytest.raises(litellm.InternalServerError):
        await litellm.acompletion(
            model="openai/gpt-4o", messages=USER, api_base=server.openai_base_url,
            api_key="test", num_retries=0, max_retries=0,
        )  # fmt: skip
    (event,) = await _settled(store, "default", 1)
    assert isinstance(event, ErrorEvent)
    assert event.duration_ms is not None
