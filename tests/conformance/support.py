"""Event bodies and probes shared by the conformance tests (plain helpers, no fixtures)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterable, Awaitable, Callable
from contextlib import aclosing
from pathlib import Path
from typing import Any, TypeVar

import anyio
import msgspec

import eventstore
from schemas import (
    ConversationCreated,
    Custom,
    Message,
    Messages,
    StoredEvent,
    UsageRecord,
)

T = TypeVar("T")


def note(n: object = None) -> Custom:
    """A small harness-defined event; ``n`` tells events apart."""
    return Custom(event_type="test.note", payload=n)


def said(text: str, role: str = "user") -> Messages:
    """A message that is not a model call (no usage)."""
    return Messages(messages=[Message(role=role, content=text)])


def llm_call(
    prompt: int = 10,
    completion: int = 5,
    cost: float | None = None,
    *,
    cached: int = 0,
    cache_creation: int = 0,
    reasoning: int = 0,
    text: str = "ok",
    model: str = "test-model",
) -> Messages:
    """An assistant answer with the usage of the call that produced it (unpriced if ``cost``
    is ``None``)."""
    usage = UsageRecord(
        model=model,
        provider="test",
        prompt_tokens=prompt,
        completion_tokens=completion,
        prompt_cached_tokens=cached or None,
        prompt_cache_creation_tokens=cache_creation or None,
        completion_reasoning_tokens=reasoning or None,
        cost_usd=cost,
    )
    return Messages(messages=[Message(role="assistant", content=text)], usage=usage)


def created(title: str | None = None, parent_id: str | None = None) -> ConversationCreated:
    return ConversationCreated(title=title, parent_id=parent_id)


async def collect(events: AsyncIterable[T]) -> list[T]:
    return [item async for item in events]


async def all_events(store: eventstore.Store) -> list[StoredEvent]:
    return await collect(store.read_all())


async def contents(store: eventstore.Store) -> tuple[list[Any], list[Any]]:
    """Everything observable about what the store holds: every event's envelope and bytes in
    global order, and every summary. Two equal results mean nothing was written in between."""
    events = [
        (e.position, e.conversation_id, e.version, e.id, e.raw, e.session_id, e.turn_id)
        for e in await all_events(store)
    ]
    summaries = []
    page = await store.list_conversations(limit=1000)
    summaries.extend(page.items)
    while page.next_cursor is not None:
        page = await store.list_conversations(limit=1000, cursor=page.next_cursor)
        summaries.extend(page.items)
    return events, sorted(summaries, key=lambda s: s.conversation_id)


#: How long a test waits for something that should happen at once.
PATIENCE = 10.0


async def subscribed(
    store: eventstore.Store, count: int, *, from_position: int = 0
) -> list[StoredEvent]:
    """The first ``count`` events ``subscribe(from_position=...)`` yields (then unsubscribe);
    fails if they do not all arrive within ``PATIENCE`` seconds."""
    events: list[StoredEvent] = []
    if count == 0:
        return events
    with anyio.fail_after(PATIENCE):
        async with aclosing(store.subscribe(from_position=from_position)) as subscription:
            async for event in subscription:
                events.append(event)
                if len(events) == count:
                    break
    return events


async def walk_pages(
    fetch: Callable[[str | None], Awaitable[eventstore.Page[T]]],
) -> list[list[T]]:
    """Follow ``next_cursor`` from the first page to the last; the pages' items, in order."""
    pages = []
    cursor: str | None = None
    while True:
        page = await fetch(cursor)
        pages.append(page.items)
        if page.next_cursor is None:
            return pages
        assert len(pages) < 10_000, "the cursor chain does not end"
        cursor = page.next_cursor


def body_json(event: StoredEvent) -> Any:
    """The stored body as plain JSON values (for comparing bodies regardless of bytes)."""
    return msgspec.json.decode(event.raw)


def assert_acknowledged_stored(
    acknowledged: list[eventstore.AppendResult], events: list[StoredEvent]
) -> None:
    """Every acknowledged event is stored where its result says (conversation, version, id,
    position); every conversation's versions are gapless from 1; positions are unique and
    increase in the order ``events`` were read (``read_all`` order). Events that were never
    acknowledged (a caller cancelled or killed after the commit) may be stored too."""
    stored = {(e.conversation_id, e.version): (e.id, e.position) for e in events}
    assert len(stored) == len(events), "two events share a conversation and version"
    for r in acknowledged:
        for k, (event_id, position) in enumerate(zip(r.ids, r.positions, strict=True)):
            where = (r.conversation_id, r.first_version + k)
            assert stored.get(where) == (event_id, position), f"lost or moved: {where}"
    versions: dict[str, list[int]] = {}
    for cid, version in sorted(stored):
        versions.setdefault(cid, []).append(version)
    for cid, vs in versions.items():
        assert vs == list(range(1, len(vs) + 1)), f"versions of {cid!r} have a gap"
    positions = [e.position for e in events]
    assert positions == sorted(set(positions))


def assert_stored_exactly(
    acknowledged: list[eventstore.AppendResult], events: list[StoredEvent]
) -> None:
    """As :func:`assert_acknowledged_stored`, and nothing else is stored."""
    assert_acknowledged_stored(acknowledged, events)
    assert len(events) == sum(len(r.ids) for r in acknowledged), "unacknowledged events stored"


#: The writer process of the multi-process and crash tests.
APPEND_CHILD = Path(__file__).with_name("append_child.py")


def append_child(url: str, tag: str, *options: str) -> list[str]:
    """The command line of a writer process (see ``append_child.py`` for the options)."""
    return [sys.executable, str(APPEND_CHILD), url, tag, *options]


def acknowledged_results(stdout: bytes) -> list[eventstore.AppendResult]:
    """The results a writer process printed. Only complete lines count: a process killed in
    the middle of writing one had not finished acknowledging that append."""
    lines = stdout.split(b"\n")[:-1]
    return [msgspec.json.decode(line, type=eventstore.AppendResult) for line in lines]
