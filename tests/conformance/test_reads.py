"""Reads: version ranges, global order, keyset paging with opaque cursors."""

from __future__ import annotations

import pytest

import eventstore
from eventstore import ConversationNotFound
from schemas import ErrorEvent, StoredEvent

from .support import all_events, collect, llm_call, note, said, walk_pages

pytestmark = pytest.mark.anyio


def _versions(events: list[StoredEvent]) -> list[int]:
    return [e.version for e in events]


async def test_read_yields_the_version_range_in_either_direction(store: eventstore.Store) -> None:
    await store.append("c", [note(i) for i in range(1, 11)])
    await store.append("other", [note()])

    assert _versions(await collect(store.read("c"))) == list(range(1, 11))
    assert _versions(await collect(store.read("c", from_version=0))) == list(range(1, 11))
    assert _versions(await collect(store.read("c", from_version=3, to_version=7))) == [
        3,
        4,
        5,
        6,
        7,
    ]
    desc = await collect(store.read("c", from_version=3, to_version=7, direction="desc"))
    assert _versions(desc) == [7, 6, 5, 4, 3]
    assert _versions(await collect(store.read("c", from_version=9))) == [9, 10]
    assert _versions(await collect(store.read("c", to_version=2, direction="desc"))) == [2, 1]
    assert await collect(store.read("c", from_version=8, to_version=7)) == []
    assert await collect(store.read("c", from_version=11)) == []
    assert [e.data for e in await collect(store.read("c"))] == [note(i) for i in range(1, 11)]


async def test_read_of_an_unknown_conversation_yields_nothing(store: eventstore.Store) -> None:
    await store.append("c", [note()])
    assert await collect(store.read("unknown")) == []


async def test_read_yields_every_event_of_a_long_conversation(store: eventstore.Store) -> None:
    for chunk in range(5):
        await store.append("long", [note(chunk * 500 + i) for i in range(500)])

    assert _versions(await collect(store.read("long"))) == list(range(1, 2501))
    desc = await collect(store.read("long", direction="desc"))
    assert _versions(desc) == list(range(2500, 0, -1))
    assert [e.data for e in desc[:2]] == [note(2499), note(2498)]


@pytest.mark.parametrize("length", [999, 1000, 1001, 2000])
async def test_read_of_a_conversation_around_the_page_size_yields_each_event_once(
    store: eventstore.Store, length: int
) -> None:
    await store.append("c", [note(i) for i in range(length)])

    assert _versions(await collect(store.read("c"))) == list(range(1, length + 1))
    assert _versions(await collect(store.read("c", direction="desc"))) == list(range(length, 0, -1))
    assert _versions(await collect(store.read("c", from_version=2, to_version=length - 1))) == list(
        range(2, length)
    )


async def test_versions_and_positions_beyond_any_stored_one_read_nothing(
    store: eventstore.Store,
) -> None:
    await store.append("c", [note(1), note(2)])
    far = 2**64  # an int >= 0 like any other, past what any database stores

    assert await collect(store.read("c", from_version=far)) == []
    assert _versions(await collect(store.read("c", to_version=far))) == [1, 2]
    assert _versions(await collect(store.read("c", to_version=far, direction="desc"))) == [2, 1]
    assert await collect(store.read_all(from_position=far)) == []
    assert len(await collect(store.read_all(to_position=far))) == 2


async def test_read_all_yields_every_event_in_commit_order(store: eventstore.Store) -> None:
    appended = []
    for i in range(6):
        for cid in ("a", "b", "c")[: i % 3 + 1]:
            result = await store.append(cid, [note(i), note(i)])
            appended.extend((cid, v, p) for v, p in zip((1, 2), result.positions, strict=True))

    events = await all_events(store)
    positions = [e.position for e in events]
    assert positions == sorted(set(positions))
    assert len(events) == len(appended)
    # Commit order: each append's events follow those of the appends acknowledged before it.
    assert positions == sorted(p for _, _, p in appended)
    assert {(e.conversation_id, e.position) for e in events} == {(c, p) for c, _, p in appended}


async def test_read_all_starts_at_from_position_and_stops_at_to_position(
    store: eventstore.Store,
) -> None:
    for i in range(10):
        await store.append(f"c{i % 3}", [note(i)])
    positions = [e.position for e in await all_events(store)]
    middle = positions[4]

    later = await collect(store.read_all(from_position=middle))
    assert [e.position for e in later] == positions[4:]
    window = await collect(store.read_all(from_position=positions[2], to_position=positions[6]))
    assert [e.position for e in window] == positions[2:7]
    assert await collect(store.read_all(from_position=positions[-1] + 1)) == []


async def test_read_all_yields_every_event_of_a_large_store(store: eventstore.Store) -> None:
    for i in range(5):
        await store.append(f"c{i}", [note(j) for j in range(500)])
    events = await all_events(store)
    assert len(events) == 2500
    assert [e.position for e in events] == sorted({e.position for e in events})


# -- list_events ----------------------------------------------------------------------------

MIXED = [
    note(0),
    said("hi"),
    llm_call(cost=0.01),
    ErrorEvent(message="timeout"),
    note(1),
    llm_call(),
    said("more"),
    note(2),
    ErrorEvent(message="again"),
    llm_call(cost=0.02),
    note(3),
    said("bye"),
    llm_call(),
    note(4),
    note(5),
    said("end"),
    ErrorEvent(message="last"),
]


@pytest.mark.parametrize("limit", [1, 3, 17, 1000])
@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize(
    "types", [None, ["messages"], ["custom", "error"], ["error", "custom", "messages"]]
)
async def test_list_events_cursor_chain_covers_every_matching_event_once(
    store: eventstore.Store,
    limit: int,
    direction: eventstore.Direction,
    types: list[str] | None,
) -> None:
    await store.append("c", MIXED[:9])
    await store.append("noise", [note(), said("x")])
    await store.append("c", MIXED[9:])
    everything = await collect(store.read("c", direction=direction))
    expected = [e for e in everything if types is None or e.type in types]

    pages = await walk_pages(
        lambda cursor: store.list_events(
            "c", types=types, limit=limit, cursor=cursor, direction=direction
        )
    )

    assert all(len(page) <= limit for page in pages)
    assert all(pages[:-1]), "only the last page may be empty"
    assert [e for page in pages for e in page] == expected


async def test_list_events_limit_is_clamped_to_1_through_1000(store: eventstore.Store) -> None:
    await store.append("c", [note(i) for i in range(1005)])

    for tiny in (0, -5):
        page = await store.list_events("c", limit=tiny)
        assert _versions(page.items) == [1]
        assert page.next_cursor is not None
    for huge in (1001, 10**9):
        page = await store.list_events("c", limit=huge)
        assert _versions(page.items) == list(range(1, 1001))
        assert page.next_cursor is not None
        rest = await store.list_events("c", limit=huge, cursor=page.next_cursor)
        assert _versions(rest.items) == list(range(1001, 1006))
        assert rest.next_cursor is None


async def test_list_events_on_a_short_conversation_has_no_next_cursor(
    store: eventstore.Store,
) -> None:
    await store.append("c", [note(1), note(2)])
    page = await store.list_events("c", limit=50)
    assert _versions(page.items) == [1, 2]
    assert page.next_cursor is None
    empty = await store.list_events("unknown")
    assert (empty.items, empty.next_cursor) == ([], None)


async def test_ascending_cursor_continues_into_events_appended_later(
    store: eventstore.Store,
) -> None:
    await store.append("c", [note(i) for i in range(6)])
    first = await store.list_events("c", limit=4)
    assert first.next_cursor is not None
    await store.append("c", [note(i) for i in range(6, 9)])

    continued = await store.list_events("c", limit=1000, cursor=first.next_cursor)

    assert _versions(continued.items) == [5, 6, 7, 8, 9]


@pytest.mark.parametrize("direction", ["asc", "desc"])
async def test_an_exactly_full_last_page_has_no_cursor(
    store: eventstore.Store, direction: eventstore.Direction
) -> None:
    await store.append("c", [note(i) for i in range(4)])
    for cid in ("x", "y"):
        await store.append(cid, [note()])

    events = await store.list_events("c", limit=4, direction=direction)
    conversations = await store.list_conversations(limit=3, direction=direction)

    assert len(events.items) == 4
    assert events.next_cursor is None
    assert len(conversations.items) == 3
    assert conversations.next_cursor is None


# -- list_conversations ---------------------------------------------------------------------


async def test_list_conversations_orders_by_most_recent_activity(store: eventstore.Store) -> None:
    for cid in ("a", "b", "c", "d"):
        await store.append(cid, [note()])
    await store.append("b", [note()])
    await store.append("a", [note()])

    desc = await store.list_conversations()
    assert [s.conversation_id for s in desc.items] == ["a", "b", "d", "c"]
    asc = await store.list_conversations(direction="asc")
    assert [s.conversation_id for s in asc.items] == ["c", "d", "b", "a"]
    assert desc.next_cursor is None
    assert asc.next_cursor is None


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("limit", [1, 4, 25])
async def test_list_conversations_cursor_chain_covers_every_conversation_once(
    store: eventstore.Store, direction: eventstore.Direction, limit: int
) -> None:
    cids = [f"conv-{i:02}" for i in range(25)]
    for cid in cids:
        await store.append(cid, [note()])
    for cid in cids[::3]:  # reshuffle the activity order
        await store.append(cid, [note()])
    expected = [s.conversation_id for s in (await store.list_conversations(limit=1000)).items]
    if direction == "asc":
        expected.reverse()

    pages = await walk_pages(
        lambda cursor: store.list_conversations(limit=limit, cursor=cursor, direction=direction)
    )

    assert all(len(page) <= limit for page in pages)
    assert all(pages[:-1]), "only the last page may be empty"
    assert [s.conversation_id for page in pages for s in page] == expected
    assert sorted(expected) == cids


async def test_list_conversations_limit_is_clamped(store: eventstore.Store) -> None:
    for cid in ("a", "b", "c"):
        await store.append(cid, [note()])
    page = await store.list_conversations(limit=0)
    assert [s.conversation_id for s in page.items] == ["c"]
    assert page.next_cursor is not None


async def test_list_conversations_items_are_the_summaries(store: eventstore.Store) -> None:
    await store.append("a", [llm_call(cost=0.5)])
    await store.append("b", [note(), note()])
    listed = {s.conversation_id: s for s in (await store.list_conversations()).items}
    assert listed == {cid: await store.get_conversation(cid) for cid in ("a", "b")}


async def test_unknown_conversation_is_not_found(store: eventstore.Store) -> None:
    await store.append("c", [note()])
    with pytest.raises(ConversationNotFound):
        await store.get_conversation("unknown")
    with pytest.raises(ConversationNotFound):
        await store.replay("unknown")
    assert (await store.list_conversations()).items[0].conversation_id == "c"
