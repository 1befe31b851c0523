"""What the convlog session adds to the SDK's contract: exact items whatever their shape, an
append-only history whose view follows pops and clears, retries that do not duplicate, and
the run's usage on the assistant events."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, cast

import pytest
from agents import Agent, Runner, TResponseInputItem, function_tool
from agents.testing import ModelStep, ScriptedModel
from agents.usage import Usage
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai.types.responses import ResponseFunctionToolCall

import eventstore
from harness import tools
from harness.agents_session import ConvlogSession
from harness.pricing import read_prices
from harness.recorder import Recorder
from schemas import Custom, Message, Messages
from schemas.strategies import json_values

from .test_session import text_message

PRICES = Path(__file__).parents[1] / "fixtures" / "litellm_prices_subset.json"

simple_items = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant", "system"]), "content": st.text(max_size=20)}
)
any_items = st.dictionaries(
    st.sampled_from(["type", "id", "role", "content", "call_id", "output", "name", "status"]),
    json_values(max_leaves=4),
    max_size=5,
)
items = st.one_of(simple_items, any_items)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.lists(items, max_size=4)),
        st.tuples(st.just("pop"), st.none()),
        st.tuples(st.just("clear"), st.none()),
        st.tuples(st.just("get"), st.none() | st.integers(0, 6)),
    ),
    max_size=25,
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(operations=operations)
def test_the_view_is_what_a_list_would_hold(operations: list[tuple[str, Any]]) -> None:
    """Against a plain list: adds extend it, pops take its last item, a clear empties it,
    ``get_items(limit=N)`` is its last N in order; items come back exactly as given. (Two
    consecutive adds of the very same items are one: a retry.)"""

    async def main() -> None:
        async with eventstore.connect("sqlite://:memory:") as store:
            session = ConvlogSession("s", store)
            model: list[Any] = []
            added = 0
            last_added: list[Any] | None = None
            for op, arg in operations:
                if op == "add":
                    await session.add_items(arg)
                    if arg != last_added:
                        model.extend(arg)
                        added += len(arg)
                    last_added = arg if arg else last_added
                elif op == "pop":
                    assert await session.pop_item() == (model.pop() if model else None)
                    last_added = None
                elif op == "clear":
                    await session.clear_session()
                    model.clear()
                    last_added = None
                else:
                    expected = model if arg is None else (model[-arg:] if arg else [])
                    assert await session.get_items(arg) == expected
            assert await session.get_items() == model
            # Nothing was deleted: the history holds every item ever added.
            stored = [e.data async for e in store.read("s")]
            assert sum(len(d.messages) for d in stored if isinstance(d, Messages)) == added

    asyncio.run(main())


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_a_retry_of_a_write_that_committed_does_not_duplicate(tmp_path: Path) -> None:
    async with eventstore.connect(f"sqlite:///{tmp_path}/s.db") as store:
        session = ConvlogSession("retry", store)
        await session.add_items([{"role": "user", "content": "first"}])
        real_append = store.append
        calls = 0

        async def lost_acknowledgement(*args: Any, **kwargs: Any) -> Any:
            nonlocal calls
            calls += 1
            await real_append(*args, **kwargs)
            raise ConnectionError("the reply was lost")

        store.append = lost_acknowledgement  # type: ignore[method-assign]
        batch: list[TResponseInputItem] = [{"role": "assistant", "content": "once"}]
        with pytest.raises(ConnectionError):
            await session.add_items(batch)
        store.append = real_append  # type: ignore[method-assign]
        await session.add_items(batch)  # the caller retries
        assert calls == 1
        assert await session.get_items() == [{"role": "user", "content": "first"}, *batch]
        assert (await store.get_conversation("retry")).version == 3  # created, first, once


@pytest.mark.anyio
async def test_the_runs_usage_lands_on_the_assistant_events_priced(tmp_path: Path) -> None:
    @function_tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"sunny in {city}"

    call = ResponseFunctionToolCall(
        id="fc_1", call_id="call_1", type="function_call", name="get_weather",
        arguments='{"city": "Paris"}',
    )  # fmt: skip
    model = ScriptedModel(
        [
            ModelStep(output=[call], usage=Usage(requests=1, input_tokens=120, output_tokens=15, total_tokens=135)),
            ModelStep(output=[text_message("Sunny.")], usage=Usage(requests=1, input_tokens=160, output_tokens=5, total_tokens=165)),
        ]
    )  # fmt: skip
    agent = Agent(name="weather", model=model, tools=[get_weather])
    async with eventstore.connect(f"sqlite:///{tmp_path}/s.db") as store:
        session = ConvlogSession(
            "weather-1", store, model="gpt-4o-mini", prices=read_prices(PRICES)
        )
        result = await Runner.run(agent, "Weather in Paris?", session=session)
        assert result.final_output == "Sunny."

        # The session holds exactly the run's items.
        assert await session.get_items() == result.to_input_list()

        events = [e async for e in store.read("weather-1")]
        usages = [e.data.usage for e in events if isinstance(e.data, Messages) and e.data.usage]
        assert [(u.prompt_tokens, u.completion_tokens) for u in usages] == [(120, 15), (160, 5)]
        assert all(u.model == "gpt-4o-mini" and u.cost_usd for u in usages)
        summary = await store.get_conversation("weather-1")
        assert summary.totals.calls == 2
        assert summary.totals.cost_usd == pytest.approx(sum(u.cost_usd or 0 for u in usages))
        # Each model call's usage is on the event holding that call's output.
        for event in events:
            if isinstance(event.data, Messages) and event.data.usage is not None:
                assert event.data.messages[0].role == "assistant"

        # And an agent can read it back through the history tools.
        cost = json.loads(
            await tools.call(store, "get_conversation_cost", {}, conversation_id="weather-1")
        )
        assert cost["total"]["calls"] == 2
        assert cost["total"]["prompt_tokens"] == 280
        page = json.loads(
            await tools.call(
                store, "list_conversation_events", {"limit": 1}, conversation_id="weather-1"
            )
        )
        (answer,) = page["events"]
        assert answer["preview"].startswith("[openai_agents.item] ")
        assert "Sunny." in answer["preview"]
        assert answer["usage"]["prompt_tokens"] == 160


@pytest.mark.anyio
async def test_messages_another_writer_appended_read_as_items(tmp_path: Path) -> None:
    async with eventstore.connect(f"sqlite:///{tmp_path}/s.db") as store:
        recorder = Recorder(store, harness="other/1", prices=read_prices(PRICES))
        cid = await recorder.start("shared")
        await recorder.record_input(
            cid,
            [
                Message(role="user", content="Hi"),
                Message(role="tool", tool_call_id="c1", content="42"),
            ],
        )
        session = ConvlogSession("shared", store)
        assert await session.get_items() == [
            {"role": "user", "content": "Hi"},
            {"type": "function_call_output", "call_id": "c1", "output": "42"},
        ]
        await session.pop_item()
        events = [e async for e in store.read(cid)]
        assert isinstance(events[-1].data, Custom)
        assert events[-1].data.payload == {"version": 2, "index": 1}
        assert cast("list[Any]", await session.get_items()) == [{"role": "user", "content": "Hi"}]


@pytest.mark.anyio
async def test_a_session_id_that_is_no_conversation_id_needs_one(tmp_path: Path) -> None:
    from schemas import SchemaError

    async with eventstore.connect(f"sqlite:///{tmp_path}/s.db") as store:
        with pytest.raises(SchemaError, match="conversation_id"):
            ConvlogSession(" padded ", store)
        session = ConvlogSession(" padded ", store, conversation_id="padded")
        await session.add_items([{"role": "user", "content": "ok"}])
        assert await session.get_items() == [{"role": "user", "content": "ok"}]
