"""Smaller truths every backend keeps: one ``conversation_created`` per conversation, children
listed by parent, events too big for the backend refused up front, and the store-wide digest
that anchors the whole history."""

from __future__ import annotations

import pytest

import eventstore
from schemas import ConversationCreated, SchemaError

from .conftest import BackendUnderTest
from .support import all_events, collect, llm_call, note

pytestmark = pytest.mark.anyio


async def test_conversation_created_opens_a_conversation_and_only_once(
    store: eventstore.Store,
) -> None:
    await store.append("c", [ConversationCreated(title="first")])
    with pytest.raises(SchemaError, match=r"must be the conversation's first event") as caught:
        await store.append("c", [note(), ConversationCreated(title="second")])
    assert caught.value.path == "$.events[1]"
    with pytest.raises(SchemaError, match="version 2 of 'c'"):
        await store.append("c", [ConversationCreated(title="again")])
    with pytest.raises(SchemaError, match="version 2 of 'd'"):
        await store.append("d", [ConversationCreated(), ConversationCreated()])
    assert [e.version for e in await all_events(store)] == [1]
    assert (await store.get_conversation("c")).title == "first"
    await store.append("e", [note()])
    with pytest.raises(SchemaError, match="first event"):  # not after other events either
        await store.append("e", [ConversationCreated(title="late")])


async def test_children_are_listed_by_parent_and_paged(store: eventstore.Store) -> None:
    await store.append("root", [ConversationCreated(title="root")])
    for i in range(5):
        await store.append(
            f"child-{i}", [ConversationCreated(parent_id="root"), llm_call(cost=1.0)]
        )
    await store.append("other", [ConversationCreated(parent_id="elsewhere")])
    await store.append("orphan", [ConversationCreated(parent_id="no-such-conversation")])

    first = await store.list_conversations(parent_id="root", limit=3)
    assert [s.conversation_id for s in first.items] == ["child-4", "child-3", "child-2"]
    assert first.next_cursor is not None
    rest = await store.list_conversations(parent_id="root", limit=3, cursor=first.next_cursor)
    assert [s.conversation_id for s in rest.items] == ["child-1", "child-0"]
    assert rest.next_cursor is None
    assert sum(s.totals.cost_usd or 0 for s in first.items + rest.items) == 5.0
    # A parent need not exist: the link is a claim, and its children are still found.
    orphans = await store.list_conversations(parent_id="no-such-conversation")
    assert [s.conversation_id for s in orphans.items] == ["orphan"]
    with pytest.raises(SchemaError, match="cursor"):  # a cursor belongs to its listing
        await store.list_conversations(parent_id="elsewhere", cursor=first.next_cursor)
    with pytest.raises(SchemaError, match=r"\$\.parent_id"):
        await store.list_conversations(parent_id="")


@pytest.fixture
def small_events(monkeypatch: pytest.MonkeyPatch) -> int:
    """Every backend's limit on one event lowered to 1 MiB, so a test can pass it cheaply."""
    limit = 1 << 20
    monkeypatch.setattr("eventstore.sqlite._backend.MAX_EVENT_BYTES", limit)
    monkeypatch.setattr("conformance.memory_backend.MAX_EVENT_BYTES", limit)
    monkeypatch.setattr("eventstore.postgres._backend.MAX_EVENT_BYTES", limit)
    return limit


async def test_an_event_too_big_for_the_backend_is_refused_naming_the_limit(
    backend: BackendUnderTest, small_events: int
) -> None:
    async with backend.connect() as store:
        await store.append("c", [note("x" * (small_events - 1000))])  # under the limit
        with pytest.raises(SchemaError, match=r"at most 1,048,576 bytes an event") as caught:
            await store.append("c", [note(), note("x" * small_events)])
        assert caught.value.path == "$.events[1]"
        raw = b'{"type":"custom","event_type":"x","payload":"' + b"x" * small_events + b'"}'
        with pytest.raises(SchemaError, match=r"at most 1,048,576 bytes"):
            await store.append_raw("c", [raw])
        assert [e.version for e in await all_events(store)] == [1]


async def test_the_digest_anchors_history_up_to_its_head(store: eventstore.Store) -> None:
    empty = await store.verify()
    assert empty.ok
    assert empty.digest == "0:" + "0" * 64
    await store.append("a", [note(1), note(2)])
    await store.append("b", [llm_call(cost=0.5)])
    report = await store.verify()
    assert report.ok
    assert report.digest is not None
    assert report.digest.startswith("3:")
    assert (await store.verify(expect=report.digest)).ok
    assert (await store.verify(expect=empty.digest)).ok

    await store.append("a", [note(3)])  # history grows past the anchor: still fine
    later = await store.verify(expect=report.digest)
    assert later.ok
    assert later.digest != report.digest
    assert later.digest is not None
    assert later.digest.startswith("4:")

    forged = report.digest[:-1] + ("0" if report.digest[-1] != "0" else "1")
    wrong = await store.verify(expect=forged)
    assert not wrong.ok
    assert wrong.problem == (
        "history up to position 3 differs from the expected digest: events were deleted or "
        "altered since it was recorded"
    )
    ahead = await store.verify(expect="9:" + "ab" * 32)
    assert not ahead.ok
    assert "history ends at position 4" in (ahead.problem or "")


@pytest.mark.parametrize("expect", ["", "3", "x:" + "0" * 64, "3:" + "0" * 63, "-1:" + "0" * 64])
async def test_a_malformed_digest_is_refused(store: eventstore.Store, expect: str) -> None:
    with pytest.raises(SchemaError, match=r"\$\.expect"):
        await store.verify(expect=expect)


async def test_a_digest_does_not_depend_on_the_reader(persistent_backend: BackendUnderTest) -> None:
    async with persistent_backend.connect() as store:
        await store.append("a", [note(1)])
        await store.append("b", [note(2), note(3)])
        digest = (await store.verify()).digest
        events = await collect(store.read_all())
    async with persistent_backend.connect() as store:
        assert (await store.verify()).digest == digest
        assert await collect(store.read_all()) == events
