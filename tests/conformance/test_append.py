"""``append``: expected versions, atomicity, ids and idempotency."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

import eventstore
from eventstore import ANY, EXISTS, NO_CONVERSATION, DuplicateEventId, WrongExpectedVersion
from schemas import Custom, SchemaError

from .support import all_events, collect, contents, note

pytestmark = pytest.mark.anyio


async def test_append_returns_new_version_positions_and_ids(store: eventstore.Store) -> None:
    ids = [uuid4(), uuid4(), uuid4()]
    first = await store.append("c", [note(1)])
    second = await store.append("c", [note(2), note(3), note(4)], event_ids=ids)

    assert second.conversation_id == "c"
    assert second.version == 4
    assert second.first_version == 2
    assert second.ids == tuple(ids)
    assert len(second.positions) == 3
    assert list(second.positions) == sorted(set(second.positions))
    assert second.positions[0] > first.positions[0]
    stored = await collect(store.read("c", from_version=2))
    assert [(e.version, e.position, e.id) for e in stored] == list(
        zip((2, 3, 4), second.positions, ids, strict=True)
    )


async def test_versions_are_gapless_and_positions_increase_in_commit_order(
    store: eventstore.Store,
) -> None:
    for i in range(5):
        await store.append("a", [note(i)] * (i % 3 + 1))
        await store.append("b", [note(i)])

    events = await all_events(store)
    positions = [e.position for e in events]
    assert positions == sorted(set(positions))
    for cid in ("a", "b"):
        versions = [e.version for e in events if e.conversation_id == cid]
        assert versions == list(range(1, len(versions) + 1))


async def test_no_conversation_appends_only_to_a_new_conversation(
    store: eventstore.Store,
) -> None:
    result = await store.append("c", [note()], expected_version=NO_CONVERSATION)
    assert result.version == 1
    with pytest.raises(WrongExpectedVersion):
        await store.append("c", [note()], expected_version=NO_CONVERSATION)


async def test_zero_means_no_conversation(store: eventstore.Store) -> None:
    result = await store.append("c", [note()], expected_version=0)
    assert result.version == 1
    with pytest.raises(WrongExpectedVersion):
        await store.append("c", [note()], expected_version=0)


async def test_exists_appends_only_to_an_existing_conversation(store: eventstore.Store) -> None:
    with pytest.raises(WrongExpectedVersion):
        await store.append("c", [note()], expected_version=EXISTS)
    await store.append("c", [note()])
    result = await store.append("c", [note()], expected_version=EXISTS)
    assert result.version == 2


async def test_exact_version_appends_only_at_that_version(store: eventstore.Store) -> None:
    await store.append("c", [note(), note()])
    for stale in (0, 1, 3):
        with pytest.raises(WrongExpectedVersion):
            await store.append("c", [note()], expected_version=stale)
    result = await store.append("c", [note()], expected_version=2)
    assert result.version == 3
    with pytest.raises(WrongExpectedVersion):
        await store.append("new", [note()], expected_version=1)


async def test_any_appends_whatever_the_version(store: eventstore.Store) -> None:
    assert (await store.append("c", [note()], expected_version=ANY)).version == 1
    assert (await store.append("c", [note()], expected_version=ANY)).version == 2
    assert (await store.append("c", [note()])).version == 3  # ANY is the default


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        pytest.param(1, NO_CONVERSATION, id="no_conversation"),
        pytest.param(1, 0, id="zero"),
        pytest.param(0, EXISTS, id="exists"),
        pytest.param(1, 2, id="ahead"),
        pytest.param(2, 1, id="behind"),
    ],
)
async def test_wrong_expected_version_writes_nothing(
    store: eventstore.Store, existing: int, expected: eventstore.ExpectedVersion | int
) -> None:
    if existing:
        await store.append("c", [note()] * existing)
    await store.append("other", [note()])
    before = await contents(store)

    with pytest.raises(WrongExpectedVersion) as caught:
        await store.append("c", [note(), note()], expected_version=expected)

    assert caught.value.conversation_id == "c"
    assert caught.value.expected == expected
    assert caught.value.actual == existing
    assert "'c'" in str(caught.value)
    assert await contents(store) == before


async def test_multi_event_append_is_all_or_nothing(store: eventstore.Store) -> None:
    await store.append("c", [note(0)])
    before = await contents(store)

    invalid = Custom(event_type="")  # event_type must not be empty
    with pytest.raises(SchemaError) as caught:
        await store.append("c", [note(1), note(2), invalid, note(3)])
    assert caught.value.path == "$.events[2].event_type"
    assert await contents(store) == before

    result = await store.append("c", [note(1), note(2), note(3)])
    assert [e.data for e in await collect(store.read("c"))] == [note(i) for i in range(4)]
    assert result.version == 4


async def test_store_made_ids_are_unique_uuid7(store: eventstore.Store) -> None:
    results = [await store.append("c", [note()] * 20) for _ in range(5)]
    ids = [i for r in results for i in r.ids]
    assert len(set(ids)) == len(ids) == 100
    assert {i.version for i in ids} == {7}
    assert [e.id for e in await collect(store.read("c"))] == ids


async def test_envelope_is_stored_as_given_and_recorded_at_is_utc_commit_time(
    store: eventstore.Store,
) -> None:
    before = datetime.now(UTC)
    await store.append("c", [note()], session_id="s-1", turn_id="t-1", harness="basic/0.3.1")
    after = datetime.now(UTC)
    await store.append("c", [note()])

    first, second = await collect(store.read("c"))
    assert (first.session_id, first.turn_id, first.harness) == ("s-1", "t-1", "basic/0.3.1")
    assert (second.session_id, second.turn_id, second.harness) == (None, None, None)
    assert first.recorded_at.utcoffset() is not None
    assert first.recorded_at.utcoffset().total_seconds() == 0
    assert before <= first.recorded_at <= after


# -- idempotency on event ids ------------------------------------------------------------


async def test_retry_with_same_ids_returns_original_result_and_stores_nothing(
    store: eventstore.Store,
) -> None:
    ids = [uuid4(), uuid4()]
    original = await store.append(
        "c", [note(1), note(2)], expected_version=NO_CONVERSATION, event_ids=ids
    )
    await store.append("c", [note(3)])  # the conversation moves on
    await store.append("other", [note()])
    before = await contents(store)

    # The retry's expected version no longer holds, and it does not matter: it is a retry.
    retry = await store.append(
        "c", [note(1), note(2)], expected_version=NO_CONVERSATION, event_ids=ids
    )
    as_strings = await store.append("c", [note(1), note(2)], event_ids=[str(i) for i in ids])

    assert retry == original
    assert as_strings == original
    assert await contents(store) == before


async def test_retry_with_ids_the_store_made_returns_original_result(
    store: eventstore.Store,
) -> None:
    original = await store.append("c", [note(1), note(2)])
    before = await contents(store)

    retry = await store.append("c", [note(1), note(2)], event_ids=original.ids)

    assert retry == original
    assert await contents(store) == before


async def test_same_id_in_another_conversation_is_a_duplicate_and_stores_nothing(
    store: eventstore.Store,
) -> None:
    taken = uuid4()
    await store.append("c", [note()], event_ids=[taken])
    before = await contents(store)

    with pytest.raises(DuplicateEventId) as caught:
        await store.append("elsewhere", [note()], event_ids=[taken])

    assert str(taken) in str(caught.value)
    assert await contents(store) == before


async def test_same_ids_in_another_order_is_a_duplicate_and_stores_nothing(
    store: eventstore.Store,
) -> None:
    ids = [uuid4(), uuid4()]
    await store.append("c", [note(1), note(2)], event_ids=ids)
    before = await contents(store)

    with pytest.raises(DuplicateEventId):
        await store.append("c", [note(2), note(1)], event_ids=ids[::-1])

    assert await contents(store) == before


async def test_stored_id_next_to_new_ones_is_a_duplicate_and_stores_nothing(
    store: eventstore.Store,
) -> None:
    taken = uuid4()
    await store.append("c", [note()], event_ids=[taken])
    before = await contents(store)

    for ids in ([taken, uuid4()], [uuid4(), taken]):
        with pytest.raises(DuplicateEventId) as caught:
            await store.append("c", [note(), note()], event_ids=ids)
        assert str(taken) in str(caught.value)

    assert await contents(store) == before


async def test_id_repeated_within_one_append_is_refused_and_stores_nothing(
    store: eventstore.Store,
) -> None:
    await store.append("c", [note()])
    before = await contents(store)
    same = UUID(int=42)

    with pytest.raises(SchemaError) as caught:
        await store.append("c", [note(), note()], event_ids=[same, same])

    assert caught.value.path == "$.event_ids"
    assert await contents(store) == before


def test_the_api_offers_no_way_to_change_or_remove_events() -> None:
    verbs = ("update", "delete", "remove", "truncate", "drop", "rewrite", "replace", "edit")
    public = [name for name in dir(eventstore.Store) if not name.startswith("_")]
    assert [name for name in public if name.startswith(verbs)] == []
