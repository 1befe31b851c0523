"""Bad input always gets a ``SchemaError`` naming what is wrong, and leaves the store unchanged.

Each case is one call with one bad argument; ``path`` is the JSON path the error must name.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import datetime
from fractions import Fraction
from typing import Any
from uuid import uuid4

import pytest

import eventstore
import schemas.types
from eventstore import NO_CONVERSATION
from schemas import (
    ConversationCreated,
    Custom,
    ImagePart,
    Message,
    Messages,
    SchemaError,
    TextPart,
    UnknownEvent,
    UsageRecord,
)

from .support import collect, contents, note, said

pytestmark = pytest.mark.anyio

Call = Callable[[eventstore.Store], Awaitable[Any]]


def usage(**fields: Any) -> Messages:
    return Messages(messages=[], usage=UsageRecord(model="m", **fields))


def append(*args: Any, **kwargs: Any) -> Call:
    return lambda store: store.append(*args, **kwargs)


def append_raw(*args: Any, **kwargs: Any) -> Call:
    return lambda store: store.append_raw(*args, **kwargs)


def iterate(method: str, *args: Any, **kwargs: Any) -> Call:
    """Read methods that return async iterators check their arguments on first iteration."""
    return lambda store: collect(getattr(store, method)(*args, **kwargs))


def call(method: str, *args: Any, **kwargs: Any) -> Call:
    return lambda store: getattr(store, method)(*args, **kwargs)


BAD_IDS = [
    pytest.param("", id="empty"),
    pytest.param("x" * 201, id="too-long"),
    pytest.param("a\x00b", id="nul"),
    pytest.param("a\tb", id="tab"),
    pytest.param("a\nb", id="newline"),
    pytest.param("trailing\n", id="trailing-newline"),
    pytest.param("del\x7f", id="del"),
    pytest.param("csi\x9b31m", id="c1-control"),
    pytest.param(42, id="int"),
    pytest.param(None, id="none"),
    pytest.param("lone\ud800surrogate", id="surrogate"),
]

# Ids that print like "conv-1": refused where a write passes them, still valid to read by.
LOOK_ALIKE_IDS = [
    pytest.param("conv-1\u200b", id="zero-width-space"),
    pytest.param("\ufeffconv-1", id="byte-order-mark"),
    pytest.param("\u202e1-vnoc", id="right-to-left-override"),
    pytest.param(" conv-1", id="leading-space"),
    pytest.param("conv-1\u00a0", id="trailing-no-break-space"),
]

ONE_UUID = "0190f6e4-7b7e-7000-8000-000000000001"

# An image part with neither url nor data: a write may not add one, a stored one still reads.
IMAGE_OF_NOTHING = (
    b'{"type":"messages","messages":[{"role":"user","content":'
    b'[{"type":"text","text":"see"},{"type":"image","detail":"low"}]}]}'
)

CASES = [
    # append: the envelope
    *[
        pytest.param(
            append(bad, [note()]), "$.conversation_id", id=f"append-conversation_id-{p.id}"
        )
        for p in BAD_IDS
        for bad in p.values
    ],
    *[
        pytest.param(append("c", [note()], **{field: bad}), f"$.{field}", id=f"{field}-{p.id}")
        for field in ("session_id", "turn_id", "harness")
        for p in BAD_IDS
        for bad in p.values
        if bad is not None  # None means "not given"
    ],
    *[
        pytest.param(append(bad, [note()]), "$.conversation_id", id=f"append-look-alike-{p.id}")
        for p in LOOK_ALIKE_IDS
        for bad in p.values
    ],
    *[
        pytest.param(
            append("c", [note()], **{field: bad}), f"$.{field}", id=f"{field}-look-alike-{p.id}"
        )
        for field in ("session_id", "turn_id", "harness")
        for p in LOOK_ALIKE_IDS
        for bad in p.values
    ],
    *[
        pytest.param(
            append_raw(bad, [b'{"type":"custom","event_type":"x"}']),
            "$.conversation_id",
            id=f"raw-look-alike-{p.id}",
        )
        for p in LOOK_ALIKE_IDS
        for bad in p.values
    ],
    pytest.param(append("c", [note()], expected_version=-1), "$.expected_version", id="ev-neg"),
    pytest.param(append("c", [note()], expected_version="any"), "$.expected_version", id="ev-str"),
    pytest.param(append("c", [note()], expected_version=1.0), "$.expected_version", id="ev-float"),
    pytest.param(append("c", [note()], expected_version=True), "$.expected_version", id="ev-bool"),
    pytest.param(append("c", [note()], expected_version=None), "$.expected_version", id="ev-none"),
    # append: the event ids
    pytest.param(append("c", [note(), note()], event_ids=[ONE_UUID]), "$.event_ids", id="ids-few"),
    pytest.param(
        append("c", [note()], event_ids=[ONE_UUID, ONE_UUID.replace("1", "2")]),
        "$.event_ids",
        id="ids-many",
    ),
    pytest.param(
        append("c", [note(), note()], event_ids=[ONE_UUID, "not-a-uuid"]),
        "$.event_ids[1]",
        id="ids-malformed",
    ),
    pytest.param(append("c", [note()], event_ids=[12345]), "$.event_ids[0]", id="ids-int"),
    pytest.param(append("c", [note()], event_ids=ONE_UUID), "$.event_ids", id="ids-not-a-list"),
    # append: the events
    pytest.param(append("c", []), "$.events", id="events-empty"),
    pytest.param(append("c", note()), "$.events", id="events-not-a-list"),
    pytest.param(append("c", ["a string"]), "$.events[0]", id="events-str"),
    pytest.param(append("c", [note(), None]), "$.events[1]", id="events-none"),
    pytest.param(
        append("c", [{"type": "custom", "event_type": "x"}]), "$.events[0]", id="events-dict"
    ),
    pytest.param(
        append("c", [UnknownEvent("telepathy", b'{"type":"telepathy"}')]),
        "$.events[0].type",
        id="events-unknown-type",
    ),
    pytest.param(
        append("c", [note(), Messages(messages=[Message(role="")])]),
        "$.events[1].messages[0].role",
        id="events-invalid-field",
    ),
    pytest.param(
        append("c", [Messages(messages=[], usage=UsageRecord(model="m", cost_usd=math.nan))]),
        "$.events[0].usage.cost_usd",
        id="events-nan-cost",
    ),
    pytest.param(
        append("c", [Messages(messages=[], usage=UsageRecord(model="m", prompt_tokens=-3))]),
        "$.events[0].usage.prompt_tokens",
        id="events-negative-tokens",
    ),
    pytest.param(
        append("c", [note(), said("a\udc00")]),
        "$.events[1].messages[0].content",
        id="events-surrogate",
    ),
    pytest.param(
        append("c", [Messages(messages=[], usage=UsageRecord(model="m", cost_usd="0.1"))]),  # type: ignore[arg-type]
        "$.events[0].usage.cost_usd",
        id="events-str-cost",
    ),
    pytest.param(
        append("c", [Custom(event_type="x", payload={"a": object()})]),
        "$.events[0].payload.a",
        id="events-unencodable-payload",
    ),
    # Values JSON would store as something else, which the summary would then disagree with
    *(
        pytest.param(append("c", [body]), path, id=f"events-changed-{name}")
        for name, body, path in [
            ("inf-count", usage(prompt_tokens=math.inf), "$.events[0].usage.prompt_tokens"),
            ("nan-count", usage(completion_tokens=math.nan), "$.events[0].usage.completion_tokens"),
            ("inf-ms", usage(ttft_ms=-math.inf), "$.events[0].usage.ttft_ms"),
            ("big-int-cost", usage(cost_usd=2**53 + 1), "$.events[0].usage.cost_usd"),
            ("fraction-cost", usage(cost_usd=Fraction(1, 10)), "$.events[0].usage.cost_usd"),
            ("uuid-parent", ConversationCreated(parent_id=uuid4()), "$.events[0].parent_id"),
            (
                "datetime-title",
                ConversationCreated(title=datetime(2026, 1, 2)),
                "$.events[0].title",
            ),
            ("bytes-title", ConversationCreated(title=b"hello"), "$.events[0].title"),
            ("dict-usage", Messages(messages=[], usage={"model": "m"}), "$.events[0].usage"),
        ]
    ),
    pytest.param(
        append("c", [note(), Messages(messages=[Message(role="user", content=[ImagePart()])])]),
        "$.events[1].messages[0].content[0]",
        id="events-image-of-nothing",
    ),
    pytest.param(
        append_raw("c", [IMAGE_OF_NOTHING]),
        "$.events[0].messages[0].content[1]",
        id="raw-image-of-nothing",
    ),
    pytest.param(append_raw("c", []), "$.events", id="raw-empty"),
    pytest.param(append_raw("c", b'{"type":"custom"}'), "$.events", id="raw-not-a-list"),
    pytest.param(
        append_raw("", [b'{"type":"custom","event_type":"x"}']),
        "$.conversation_id",
        id="raw-conversation_id",
    ),
    # reads
    *[
        pytest.param(iterate("read", bad), "$.conversation_id", id=f"read-conversation_id-{p.id}")
        for p in BAD_IDS
        for bad in p.values
    ],
    pytest.param(iterate("read", "c", from_version=-1), "$.from_version", id="read-from-neg"),
    pytest.param(iterate("read", "c", from_version="1"), "$.from_version", id="read-from-str"),
    pytest.param(iterate("read", "c", from_version=1.5), "$.from_version", id="read-from-float"),
    pytest.param(iterate("read", "c", to_version=-1), "$.to_version", id="read-to-neg"),
    pytest.param(iterate("read", "c", direction="up"), "$.direction", id="read-direction"),
    pytest.param(iterate("read_all", from_position=-1), "$.from_position", id="read_all-from"),
    pytest.param(iterate("read_all", from_position="0"), "$.from_position", id="read_all-str"),
    pytest.param(iterate("read_all", to_position=-1), "$.to_position", id="read_all-to"),
    pytest.param(iterate("subscribe", from_position=-1), "$.from_position", id="subscribe-from"),
    pytest.param(call("list_events", "", limit=10), "$.conversation_id", id="list_events-id"),
    pytest.param(call("list_events", "c", limit="10"), "$.limit", id="list_events-limit-str"),
    pytest.param(call("list_events", "c", limit=1.5), "$.limit", id="list_events-limit-float"),
    pytest.param(call("list_events", "c", limit=None), "$.limit", id="list_events-limit-none"),
    pytest.param(call("list_events", "c", limit=True), "$.limit", id="list_events-limit-bool"),
    pytest.param(call("list_events", "c", direction="up"), "$.direction", id="list_events-dir"),
    pytest.param(call("list_events", "c", types="messages"), "$.types", id="types-str"),
    pytest.param(call("list_events", "c", types=[7]), "$.types[0]", id="types-int"),
    pytest.param(call("list_events", "c", types=["messages", 7]), "$.types[1]", id="types-mixed"),
    pytest.param(call("list_events", "c", types=["a\ud800"]), "$.types[0]", id="types-surrogate"),
    pytest.param(call("list_conversations", limit="5"), "$.limit", id="list_conversations-limit"),
    pytest.param(call("list_conversations", direction=1), "$.direction", id="list_conv-dir"),
    pytest.param(call("get_conversation", "a\x00"), "$.conversation_id", id="get_conversation"),
    pytest.param(call("replay", ""), "$.conversation_id", id="replay"),
]


@pytest.mark.parametrize(("bad_call", "path"), CASES)
async def test_bad_argument_is_a_schema_error_naming_it_and_changes_nothing(
    store: eventstore.Store, bad_call: Call, path: str
) -> None:
    await store.append("c", [note(1), note(2)], expected_version=NO_CONVERSATION)
    before = await contents(store)

    with pytest.raises(SchemaError) as caught:
        await bad_call(store)

    assert caught.value.path == path
    assert caught.value.problem
    assert await contents(store) == before


@pytest.mark.parametrize(
    "conversation_id",
    [
        pytest.param("x" * 200, id="200-chars"),
        pytest.param("é" * 200, id="200-non-ascii"),
        pytest.param("tenant/42 · chat #7", id="punctuation"),
    ],
)
async def test_any_printable_id_up_to_200_characters_is_accepted(
    store: eventstore.Store, conversation_id: str
) -> None:
    await store.append(conversation_id, [note()], session_id=conversation_id)
    assert (await store.get_conversation(conversation_id)).version == 1
    [event] = await collect(store.read(conversation_id))
    assert (event.conversation_id, event.session_id) == (conversation_id, conversation_id)


@pytest.mark.parametrize("look_alike", LOOK_ALIKE_IDS)
async def test_ids_stored_before_the_look_alike_rule_still_read(
    store: eventstore.Store, monkeypatch: pytest.MonkeyPatch, look_alike: str
) -> None:
    # As a version without the rule stored them: appends checked ids with check_id alone.
    with monkeypatch.context() as patch:
        patch.setattr(eventstore._store, "check_new_id", schemas.types.check_id)
        await store.append(
            look_alike,
            [note(1), said("hi")],
            session_id=look_alike,
            turn_id=look_alike,
            harness=look_alike,
        )
    await store.append("conv-1", [note(2)])

    [first, second] = await collect(store.read(look_alike))
    assert (first.conversation_id, first.session_id, first.turn_id, first.harness) == (
        (look_alike,) * 4
    )
    assert second.data == said("hi")
    assert [e.version for e in (await store.list_events(look_alike)).items] == [1, 2]
    assert (await store.get_conversation(look_alike)).version == 2
    assert (await store.replay(look_alike)).messages == said("hi").messages
    listed = {s.conversation_id for s in (await store.list_conversations()).items}
    assert listed == {look_alike, "conv-1"}  # two conversations, however alike they print
    assert (await store.verify()).ok
    # New writes under it are refused, naming the character.
    with pytest.raises(SchemaError) as caught:
        await store.append(look_alike, [note(3)])
    assert caught.value.path == "$.conversation_id"
    assert " at index " in caught.value.problem


async def test_an_image_of_nothing_stored_before_the_rule_still_reads(
    store: eventstore.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As a version without the rule stored it: append_raw decoded the body and nothing more.
    with monkeypatch.context() as patch:
        patch.setattr(eventstore._store, "check_new", lambda body, path: None)
        await store.append_raw("c", [IMAGE_OF_NOTHING])

    [event] = await collect(store.read("c"))
    assert event.raw == IMAGE_OF_NOTHING
    assert event.data == Messages(
        messages=[Message(role="user", content=[TextPart(text="see"), ImagePart(detail="low")])]
    )
    assert (await store.replay("c")).messages == event.data.messages
    assert (await store.verify()).ok


async def _cursor_of_events(
    store: eventstore.Store, conversation_id: str = "c", **query: Any
) -> str:
    page = await store.list_events(conversation_id, limit=1, **query)
    assert page.next_cursor is not None
    return page.next_cursor


async def _cursor_of_conversations(store: eventstore.Store, **query: Any) -> str:
    page = await store.list_conversations(limit=1, **query)
    assert page.next_cursor is not None
    return page.next_cursor


@pytest.mark.parametrize(
    ("make_cursor", "use"),
    [
        pytest.param(
            lambda s: _cursor_of_events(s, conversation_id="d"),
            lambda s, cur: s.list_events("c", cursor=cur),
            id="other-conversation",
        ),
        pytest.param(
            lambda s: _cursor_of_events(s, direction="desc"),
            lambda s, cur: s.list_events("c", cursor=cur, direction="asc"),
            id="other-direction",
        ),
        pytest.param(
            lambda s: _cursor_of_events(s, types=["custom"]),
            lambda s, cur: s.list_events("c", cursor=cur, types=["messages"]),
            id="other-types",
        ),
        pytest.param(
            lambda s: _cursor_of_conversations(s),
            lambda s, cur: s.list_events("c", cursor=cur),
            id="conversations-cursor-for-events",
        ),
        pytest.param(
            lambda s: _cursor_of_events(s),
            lambda s, cur: s.list_conversations(cursor=cur),
            id="events-cursor-for-conversations",
        ),
        pytest.param(
            lambda s: _cursor_of_conversations(s, direction="asc"),
            lambda s, cur: s.list_conversations(cursor=cur, direction="desc"),
            id="conversations-other-direction",
        ),
    ],
)
async def test_cursor_from_another_query_is_refused(
    store: eventstore.Store, make_cursor: Any, use: Any
) -> None:
    for cid in ("c", "d"):
        await store.append(cid, [note(1), note(2), note(3)])
    cursor = await make_cursor(store)

    with pytest.raises(SchemaError) as caught:
        await use(store, cursor)

    assert caught.value.path == "$.cursor"


@pytest.mark.parametrize(
    "garbage",
    [
        pytest.param("", id="empty"),
        pytest.param("not a cursor!", id="not-base64"),
        pytest.param("eyJ4IjoxfQ", id="base64-of-other-json"),
        pytest.param("\x00\x01", id="control"),
        pytest.param(12, id="int"),
    ],
)
async def test_forged_cursor_is_refused(store: eventstore.Store, garbage: Any) -> None:
    await store.append("c", [note(1), note(2)])
    for listing in (
        lambda: store.list_events("c", limit=1, cursor=garbage),
        lambda: store.list_conversations(limit=1, cursor=garbage),
    ):
        with pytest.raises(SchemaError) as caught:
            await listing()
        assert caught.value.path == "$.cursor"


async def test_custom_event_type_is_validated(store: eventstore.Store) -> None:
    before = await contents(store)
    with pytest.raises(SchemaError) as caught:
        await store.append("c", [Custom(event_type="x" * 201)])
    assert caught.value.path == "$.events[0].event_type"
    assert await contents(store) == before
