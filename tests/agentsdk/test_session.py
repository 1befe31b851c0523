"""The OpenAI Agents SDK's own session tests, ported to :class:`harness.agents_session.ConvlogSession`.

Source: openai/openai-agents-python, ``tests/memory/test_session.py`` (commit 7f7a44f8d, the
SDK's ``SQLiteSession`` tests), read and rewritten here against a convlog store: the
runner-level tests run ``Runner.run``, ``Runner.run_sync`` and ``Runner.run_streamed`` with
the SDK's ``agents.testing.ScriptedModel``, no network. Left out, and why:

- ``test_session_memory_disabled_parametrized``, ``test_session_settings_resolve``: no session
  is involved (the runner without one; ``SessionSettings`` alone).
- ``test_await_mutation_cancellation...``, ``test_sqlite_session_close...``,
  ``...closed_rejects_empty_add_items``, ``...file_lock_is_shared_across_instances``,
  ``...failed_clear_session_rolls_back``, ``...failed_pop_item_releases_write_lock``,
  ``...rollback_failure_evicts_connection``, ``...close_retries_quarantined_connection``,
  ``...post_commit_cancellation...``: ``SQLiteSession``'s own connections, locks, close and
  transactions. ``ConvlogSession`` owns no connection (the store is the caller's) and each of
  its writes is one append, atomic in the store.
- ``...pop_item_skips_corrupt_most_recent``, ``...returns_none_after_dropping_only_corrupt_rows``,
  ``...limit_skips_corrupt_newest_rows``, ``...settings_limit_skips_corrupt_rows``: they insert
  unparsable rows with SQL. A convlog store validates every event on append, and a row altered
  underneath is what ``convlog verify`` reports, not what a session skips.
- ``test_sqlite_session_concurrent_access`` uses one session from five threads, each with its
  own event loop. A store serves the event loop that opened it; the port runs the same ten
  concurrent ``add_items`` on one loop (``asyncio.gather``), where they conflict for real.

``failed_add_items_releases_write_lock`` is ported as what it means here: a failed
``add_items`` writes nothing and the session stays usable.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
from agents import Agent, RunConfig, Runner, SessionSettings, TResponseInputItem
from agents.memory import Session
from agents.testing import ScriptedModel
from openai.types.responses import (
    ResponseOutputMessage,
    ResponseOutputText,
)

import eventstore
from harness.agents_session import CLEAR_EVENT, POP_EVENT, ConvlogSession
from harness.pricing import PriceTable, read_prices
from schemas import Custom

PRICES = Path(__file__).parents[1] / "fixtures" / "litellm_prices_subset.json"
RUNNERS = ["run", "run_sync", "run_streamed"]

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def prices() -> PriceTable:
    return read_prices(PRICES)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[eventstore.Store]:
    async with eventstore.connect(f"sqlite:///{tmp_path}/convlog.db") as opened:
        yield opened


def text_message(content: str) -> ResponseOutputMessage:
    """An assistant output message, as the model returns one."""
    return ResponseOutputMessage(
        id="1",
        type="message",
        role="assistant",
        content=[ResponseOutputText(text=content, type="output_text", annotations=[], logprobs=[])],
        status="completed",
    )


async def run_agent(method: str, agent: Agent[Any], input_data: Any, **kwargs: Any) -> Any:
    """The agent run as ``Runner.run``, ``run_sync`` (in a thread with its own loop) or
    ``run_streamed`` (every event consumed) runs it."""
    if method == "run":
        return await Runner.run(agent, input_data, **kwargs)
    if method == "run_sync":
        return await asyncio.to_thread(run_sync, agent, input_data, **kwargs)
    result = Runner.run_streamed(agent, input_data, **kwargs)
    async for _event in result.stream_events():
        pass
    return result


def run_sync(agent: Agent[Any], input_data: Any, **kwargs: Any) -> Any:
    """``Runner.run_sync`` in this (worker) thread, then the loop it leaves open is closed."""
    try:
        return Runner.run_sync(agent, input_data, **kwargs)
    finally:
        policy = asyncio.get_event_loop_policy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            policy.get_event_loop().close()
        policy.set_event_loop(None)


def session(store: eventstore.Store, session_id: str, **kwargs: Any) -> ConvlogSession:
    return ConvlogSession(session_id, store, model="gpt-4o-mini", **kwargs)


def contents(items: list[TResponseInputItem]) -> list[Any]:
    return [cast("dict[str, Any]", item).get("content") for item in items]


async def test_it_is_a_session(store: eventstore.Store) -> None:
    assert isinstance(session(store, "s"), Session)


# --- runner-level ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", RUNNERS)
async def test_session_memory_basic_functionality(store: eventstore.Store, method: str) -> None:
    memory = session(store, "test_session_123")
    model = ScriptedModel()
    agent = Agent(name="test", model=model)

    model.enqueue([text_message("San Francisco")])
    first = await run_agent(
        method, agent, "What city is the Golden Gate Bridge in?", session=memory
    )
    assert first.final_output == "San Francisco"

    model.enqueue([text_message("California")])
    second = await run_agent(method, agent, "What state is it in?", session=memory)
    assert second.final_output == "California"
    # The second call got the conversation so far, not only the new message.
    assert len(model.calls[-1].input) > 1


@pytest.mark.parametrize("method", RUNNERS)
async def test_session_memory_with_explicit_instance(store: eventstore.Store, method: str) -> None:
    memory = session(store, "test_session_456")
    model = ScriptedModel()
    agent = Agent(name="test", model=model)
    model.enqueue([text_message("Hello")])
    assert (await run_agent(method, agent, "Hi there", session=memory)).final_output == "Hello"
    model.enqueue([text_message("I remember you said hi")])
    result = await run_agent(method, agent, "Do you remember what I said?", session=memory)
    assert result.final_output == "I remember you said hi"
    assert contents(await memory.get_items())[0] == "Hi there"


@pytest.mark.parametrize("method", RUNNERS)
async def test_different_sessions_keep_separate_histories(
    store: eventstore.Store, method: str
) -> None:
    model = ScriptedModel()
    agent = Agent(name="test", model=model)
    cats, dogs = session(store, "session_1"), session(store, "session_2")

    model.enqueue([text_message("I like cats")])
    await run_agent(method, agent, "I like cats", session=cats)
    model.enqueue([text_message("I like dogs")])
    await run_agent(method, agent, "I like dogs", session=dogs)
    model.enqueue([text_message("Yes, you mentioned cats")])
    result = await run_agent(method, agent, "What did I say I like?", session=cats)
    assert result.final_output == "Yes, you mentioned cats"
    sent = contents(model.calls[-1].input)
    assert "I like cats" in sent
    assert "I like dogs" not in sent


@pytest.mark.parametrize("method", RUNNERS)
async def test_list_input_is_appended_to_history(store: eventstore.Store, method: str) -> None:
    memory = session(store, "test_validation_parametrized")
    model = ScriptedModel()
    agent = Agent(name="test", model=model)
    history: list[TResponseInputItem] = [
        {"role": "user", "content": "Earlier message"},
        {"role": "assistant", "content": "Saved reply"},
    ]
    await memory.add_items(history)
    new_input: list[TResponseInputItem] = [{"role": "user", "content": "Test message"}]
    model.enqueue([text_message("This should run")])
    await run_agent(method, agent, new_input, session=memory)
    assert model.calls[-1].input == history + new_input


@pytest.mark.parametrize("method", RUNNERS)
async def test_session_input_callback_prepares_the_input(
    store: eventstore.Store, method: str
) -> None:
    memory = session(store, "session_1")
    model = ScriptedModel()
    agent = Agent(name="test", model=model)
    history: list[TResponseInputItem] = [
        {"role": "user", "content": "Hello there."},
        {"role": "assistant", "content": "Hi, I'm here to assist you."},
    ]
    await memory.add_items(history)

    def only_user_messages(old: list[Any], new: list[Any]) -> list[Any]:
        return [item for item in old if item["role"] == "user"] + new

    new_input: list[TResponseInputItem] = [{"role": "user", "content": "What your name?"}]
    model.enqueue([text_message("I'm gpt-4o")])
    await run_agent(
        method,
        agent,
        new_input,
        session=memory,
        run_config=RunConfig(session_input_callback=only_user_messages),
    )
    assert model.calls[-1].input == [history[0], new_input[0]]


@pytest.mark.parametrize("method", RUNNERS)
async def test_a_callback_repeating_history_does_not_grow_the_session(
    store: eventstore.Store, method: str
) -> None:
    memory = session(store, "session_repeat")
    model = ScriptedModel()
    agent = Agent(name="test", model=model)

    def repeat_first(old: list[Any], new: list[Any]) -> list[Any]:
        return new if not old else [*old, old[0], *new]

    for turn in range(3):
        model.enqueue([text_message(f"assistant {turn}")])
        await run_agent(
            method,
            agent,
            f"user {turn}",
            session=memory,
            run_config=RunConfig(session_input_callback=repeat_first),
        )
    stored = await memory.get_items()
    users = [
        c
        for c, item in zip(contents(stored), stored, strict=True)
        if cast("dict[str, Any]", item).get("role") == "user"
    ]
    assert users == ["user 0", "user 1", "user 2"]
    assert len(stored) == 6


async def test_an_add_items_failure_propagates_in_streamed_runs(store: eventstore.Store) -> None:
    memory = session(store, "test_exception_session")

    async def failing_add_items(_items: Any, **_kwargs: Any) -> None:
        raise RuntimeError("Simulated session.add_items failure")

    memory.add_items = failing_add_items  # type: ignore[method-assign]
    model = ScriptedModel()
    agent = Agent(name="test", model=model)
    model.enqueue([text_message("This should not be reached")])
    result = Runner.run_streamed(agent, "Hello", session=memory)

    async def consume() -> None:
        async for _event in result.stream_events():
            pass

    with pytest.raises(RuntimeError, match=r"Simulated session\.add_items failure"):
        await asyncio.wait_for(consume(), timeout=5.0)


async def test_runner_session_settings_override_the_sessions(store: eventstore.Store) -> None:
    memory = session(store, "runner_override_test", session_settings=SessionSettings(limit=100))
    await memory.add_items([{"role": "user", "content": f"Turn {i}"} for i in range(10)])
    model = ScriptedModel()
    agent = Agent(name="test", model=model)
    model.enqueue([text_message("Got it")])
    await Runner.run(
        agent,
        "New question",
        session=memory,
        run_config=RunConfig(session_settings=SessionSettings(limit=2)),
    )
    history = [c for c in contents(model.calls[-1].input) if c != "New question"]
    assert history == ["Turn 8", "Turn 9"]


# --- the session directly -------------------------------------------------------------------


async def test_add_get_and_clear(store: eventstore.Store) -> None:
    memory = session(store, "direct_test")
    items: list[TResponseInputItem] = [
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hi there!"},
    ]
    await memory.add_items(items)
    assert await memory.get_items() == items
    await memory.clear_session()
    assert await memory.get_items() == []
    # Append-only: the history keeps what was said, and the clear.
    events = [e async for e in store.read("direct_test")]
    assert isinstance(events[-1].data, Custom)
    assert events[-1].data.event_type == CLEAR_EVENT
    await memory.add_items([{"role": "user", "content": "again"}])
    assert contents(await memory.get_items()) == ["again"]


async def test_pop_item(store: eventstore.Store) -> None:
    memory = session(store, "pop_test")
    assert await memory.pop_item() is None
    items: list[TResponseInputItem] = [
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hi there!"},
        {"role": "user", "content": "How are you?"},
    ]
    await memory.add_items(items)
    assert len(await memory.get_items()) == 3
    assert await memory.pop_item() == items[2]
    assert contents(await memory.get_items()) == ["Hello", "Hi there!"]
    assert await memory.pop_item() == items[1]
    assert await memory.pop_item() == items[0]
    assert await memory.pop_item() is None
    assert await memory.get_items() == []
    pops = [e.data for e in [e async for e in store.read("pop_test")] if isinstance(e.data, Custom)]
    assert [p.event_type for p in pops] == [POP_EVENT] * 3


async def test_pop_only_affects_its_own_session(store: eventstore.Store) -> None:
    one, two = session(store, "session_1"), session(store, "session_2")
    await one.add_items([{"role": "user", "content": "Session 1 message"}])
    await two.add_items(
        [
            {"role": "user", "content": "Session 2 message 1"},
            {"role": "user", "content": "Session 2 message 2"},
        ]
    )
    popped = await two.pop_item()
    assert popped is not None
    assert contents([popped]) == ["Session 2 message 2"]
    assert contents(await one.get_items()) == ["Session 1 message"]
    assert contents(await two.get_items()) == ["Session 2 message 1"]


async def test_get_items_with_limit_returns_the_latest_in_order(store: eventstore.Store) -> None:
    memory = session(store, "count_test")
    items: list[TResponseInputItem] = [
        {"role": "user", "content": "Message 1"},
        {"role": "assistant", "content": "Response 1"},
        {"role": "user", "content": "Message 2"},
        {"role": "assistant", "content": "Response 2"},
        {"role": "user", "content": "Message 3"},
        {"role": "assistant", "content": "Response 3"},
    ]
    await memory.add_items(items)
    assert await memory.get_items() == items
    assert contents(await memory.get_items(limit=2)) == ["Message 3", "Response 3"]
    assert await memory.get_items(limit=4) == items[2:]
    assert await memory.get_items(limit=10) == items
    assert await memory.get_items(limit=0) == []


async def test_unicode_content(store: eventstore.Store) -> None:
    memory = session(store, "unicode_test")
    items: list[TResponseInputItem] = [
        {"role": "user", "content": "こんにちは"},
        {"role": "assistant", "content": "😊👍"},
        {"role": "user", "content": "Привет"},
    ]
    await memory.add_items(items)
    assert await memory.get_items() == items


async def test_special_characters_and_sql_keywords(store: eventstore.Store) -> None:
    memory = session(store, "special_chars_test")
    items: list[TResponseInputItem] = [
        {"role": "user", "content": "O'Reilly"},
        {"role": "assistant", "content": "DROP TABLE sessions;"},
        {"role": "user", "content": '"SELECT * FROM users WHERE name = "admin";"'},
        {"role": "assistant", "content": "Robert'); DROP TABLE students;--"},
        {"role": "user", "content": "Normal message"},
    ]
    await memory.add_items(items)
    assert await memory.get_items() == items


async def test_concurrent_add_items_keep_every_item(store: eventstore.Store) -> None:
    memory = session(store, "concurrent_test")
    items: list[TResponseInputItem] = [
        {"role": "user", "content": f"Message {i}"} for i in range(10)
    ]
    await asyncio.gather(*(memory.add_items([item]) for item in items))
    assert sorted(contents(await memory.get_items())) == sorted(f"Message {i}" for i in range(10))


async def test_a_failed_add_items_writes_nothing(store: eventstore.Store) -> None:
    memory = session(store, "rollback_test")
    unserializable = cast("TResponseInputItem", {"role": "user", "content": object()})
    with pytest.raises(TypeError):
        await memory.add_items([unserializable])
    assert [e async for e in store.read("rollback_test")] == []
    await memory.add_items([{"role": "user", "content": "after failure"}])
    assert contents(await memory.get_items()) == ["after failure"]


async def test_session_settings(store: eventstore.Store) -> None:
    assert session(store, "default_settings_test").session_settings == SessionSettings()
    assert session(store, "c", session_settings=SessionSettings(limit=5)).session_settings == (
        SessionSettings(limit=5)
    )
    from_dict = session(store, "d", session_settings={"limit": 0}).session_settings
    assert isinstance(from_dict, SessionSettings)
    assert from_dict.limit == 0
    with pytest.raises(TypeError, match="Unknown session settings: limitt"):
        session(store, "e", session_settings={"limitt": 1})


async def test_get_items_uses_the_settings_limit_unless_given_one(store: eventstore.Store) -> None:
    memory = session(store, "uses_settings_limit_test", session_settings=SessionSettings(limit=3))
    await memory.add_items([{"role": "user", "content": f"Message {i}"} for i in range(10)])
    assert contents(await memory.get_items()) == ["Message 7", "Message 8", "Message 9"]
    assert contents(await memory.get_items(limit=2)) == ["Message 8", "Message 9"]
