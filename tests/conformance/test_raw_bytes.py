"""Raw bytes in, raw bytes out: ``append_raw`` validates first and stores exactly what it got."""

from __future__ import annotations

import msgspec
import pytest

import eventstore
from schemas import Custom, Messages, SchemaError, custom_registration, decode, encode

from .support import all_events, collect, contents, llm_call, note, subscribed

pytestmark = pytest.mark.anyio

#: Valid bodies written the way other JSON libraries write them: odd whitespace, keys in any
#: order, escapes where none are needed, numbers in unusual forms, raw UTF-8, unknown fields.
ODD_BODIES = [
    b'{ "event_type" : "test.odd",\n\t"type":"custom" ,"payload":{"b":1,"a":[1.50,2E3,-0.0]}}',
    b'{"type":"custom","event_type":"caf\\u00e9\\/x","payload":"\\ud83d\\ude00 \\"q\\""}  ',
    '{"type":"custom","event_type":"ünï","payload":"日本語 🙂"}'.encode(),
    b'{"type":"messages","messages":[{"content":"hi","role":"user","x-extra":[null]}],'
    b'"usage":{"model":"m","prompt_tokens":12,"cost_usd":0.10}, "future_field": {"k": 1}}',
    b'{"type":"messages","messages":[{"role":"assistant","content":'
    b'[{"type":"hologram","frames":3},{"type":"text","text":"a"}]}]}',
    b'\n{"type":"error","message":"boom","status_code":503}\r\n',
]


async def test_append_raw_stores_the_bytes_verbatim(store: eventstore.Store) -> None:
    result = await store.append_raw("c", ODD_BODIES)
    await store.append_raw("c", [ODD_BODIES[0].decode()])  # str is taken as its UTF-8

    expected = [*ODD_BODIES, ODD_BODIES[0]]
    assert {type(e.raw) for e in await all_events(store)} == {bytes}
    assert [e.raw for e in await collect(store.read("c"))] == expected
    assert [e.raw for e in await collect(store.read("c", direction="desc"))] == expected[::-1]
    assert [e.raw for e in await all_events(store)] == expected
    page = await store.list_events("c", limit=1000)
    assert [e.raw for e in page.items] == expected
    assert [e.id for e in page.items[: len(ODD_BODIES)]] == list(result.ids)

    assert [e.raw for e in await subscribed(store, len(expected))] == expected


async def test_raw_bodies_decode_like_the_codec_decodes_them(store: eventstore.Store) -> None:
    await store.append_raw("c", ODD_BODIES)
    stored = await collect(store.read("c"))
    assert [e.data for e in stored] == [decode(raw) for raw in ODD_BODIES]
    assert [e.type for e in stored] == [*["custom"] * 3, "messages", "messages", "error"]


async def test_typed_append_stores_the_codec_encoding(store: eventstore.Store) -> None:
    bodies = [note({"k": [1, 2]}), llm_call(cost=0.25), Custom(event_type="é")]
    await store.append("c", bodies)
    stored = await collect(store.read("c"))
    assert [e.raw for e in stored] == [encode(b) for b in bodies]
    assert [e.data for e in stored] == bodies


@pytest.mark.parametrize(
    "legacy",
    [
        pytest.param(
            b'{"type":"messages","messages":[{"role":"user","content":"hi"}]}', id="absent"
        ),
        pytest.param(
            b'{"type":"messages","messages":[{"role":"user","content":"hi"}],"usage":null}',
            id="null",
        ),
    ],
)
async def test_legacy_messages_without_usage_are_not_model_calls(
    store: eventstore.Store, legacy: bytes
) -> None:
    await store.append_raw("c", [legacy])
    await store.append("c", [llm_call(prompt=7, completion=3, cost=0.5)])

    first = (await collect(store.read("c")))[0]
    assert isinstance(first.data, Messages)
    assert first.data.usage is None
    assert first.raw == legacy
    totals = (await store.get_conversation("c")).totals
    assert (totals.calls, totals.unpriced_calls, totals.prompt_tokens) == (1, 0, 7)
    assert (await store.replay("c")).summary.totals == totals


@pytest.mark.parametrize(
    ("bad", "path"),
    [
        pytest.param(b"not json", "$.events[1]", id="not-json"),
        pytest.param(b'{"type":"custom","event_type":"x"', "$.events[1]", id="truncated"),
        pytest.param(b"", "$.events[1]", id="empty"),
        pytest.param(b'{"type":"custom","event_type":"x"} {}', "$.events[1]", id="trailing-doc"),
        pytest.param(b'{"type":"custom","event_type":"x","payload":NaN}', "$.events[1]", id="nan"),
        pytest.param(b"[1, 2]", "$.events[1]", id="array"),
        pytest.param(b'{"event_type":"x"}', "$.events[1].type", id="no-type"),
        pytest.param(b'{"type":7}', "$.events[1].type", id="type-not-str"),
        pytest.param(b'{"type":"telepathy","x":1}', "$.events[1].type", id="unknown-type"),
        pytest.param(b'{"type":"custom"}', "$.events[1].event_type", id="missing-field"),
        pytest.param(
            b'{"type":"messages","messages":[{"role":""}]}',
            "$.events[1].messages[0].role",
            id="empty-role",
        ),
        pytest.param(
            b'{"type":"messages","messages":[],"usage":{"model":"m","prompt_tokens":-1}}',
            "$.events[1].usage.prompt_tokens",
            id="negative-tokens",
        ),
        pytest.param(
            b'{"type":"messages","messages":[],"usage":{"model":"m","cost_usd":-0.5}}',
            "$.events[1].usage.cost_usd",
            id="negative-cost",
        ),
        pytest.param(
            b'{"type":"messages","messages":[],"usage":{"model":"m","cost_usd":1e400}}',
            "$.events[1].usage.cost_usd",
            id="cost-out-of-range",
        ),
        pytest.param(
            b'{"type":"messages","messages":[],"usage":{"prompt_tokens":1}}',
            "$.events[1].usage.model",
            id="usage-without-model",
        ),
        pytest.param(
            b'{"type":"conversation_created","parent_id":"parent\\n"}',
            "$.events[1].parent_id",
            id="parent-id-trailing-newline",
        ),
        pytest.param(
            b'{"type":"custom","event_type":"x\\u0000"}',
            "$.events[1].event_type",
            id="event-type-control-char",
        ),
        pytest.param(
            b'{"type":"custom","event_type":"x","payload":"\xff\xfe"}',
            "$.events[1]",
            id="invalid-utf8",
        ),
    ],
)
async def test_append_raw_refuses_invalid_bodies_naming_the_path(
    store: eventstore.Store, bad: bytes, path: str
) -> None:
    await store.append("c", [note()])
    before = await contents(store)

    with pytest.raises(SchemaError) as caught:
        await store.append_raw("c", [b'{"type":"custom","event_type":"fine"}', bad])

    assert caught.value.path == path
    assert caught.value.problem
    assert await contents(store) == before


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param('{"type":"custom","event_type":"x","payload":"\ud800"}', id="lone-surrogate"),
        pytest.param(
            b'{"type":"custom","event_type":"x","payload":' + b"[" * 5_000 + b"]" * 5_000 + b"}",
            id="deeply-nested",
        ),
        pytest.param(
            b'{"type":"messages","messages":' + b"[" * 5_000 + b"]" * 5_000 + b"}",
            id="deeply-nested-invalid",
        ),
    ],
)
async def test_append_raw_refuses_pathological_json_with_a_schema_error(
    store: eventstore.Store, bad: bytes | str
) -> None:
    await store.append("c", [note()])
    before = await contents(store)

    with pytest.raises(SchemaError) as caught:
        await store.append_raw("c", [b'{"type":"custom","event_type":"fine"}', bad])

    assert caught.value.path.startswith("$.events[1]")
    assert await contents(store) == before


async def test_append_raw_refuses_what_is_not_json_text(store: eventstore.Store) -> None:
    before = await contents(store)
    for bad in (123, None, {"type": "custom", "event_type": "x"}):
        with pytest.raises(SchemaError) as caught:
            await store.append_raw("c", [bad])  # type: ignore[list-item]
        assert caught.value.path == "$.events[0]"
    assert await contents(store) == before


class _Point(msgspec.Struct, frozen=True):
    x: int
    y: int


async def test_reads_decode_custom_payloads_by_the_registration_in_force(
    store: eventstore.Store,
) -> None:
    raw = b'{"type":"custom","event_type":"test.point","payload":{"x":1,"y":2}}'
    await store.append_raw("c", [raw, raw])

    with custom_registration("test.point", _Point):
        registered = [*await collect(store.read("c")), *await all_events(store)]
    unregistered = [*await collect(store.read("c")), *await all_events(store)]

    assert {e.data for e in registered} == {Custom(event_type="test.point", payload=_Point(1, 2))}
    assert [e.data for e in unregistered] == [Custom("test.point", {"x": 1, "y": 2})] * 4
    assert {e.raw for e in registered + unregistered} == {raw}


async def test_a_stored_payload_the_registered_type_refuses_is_an_integrity_error(
    store: eventstore.Store,
) -> None:
    """Stored while unregistered, read under a registration that does not accept it."""
    await store.append_raw(
        "c", [b'{"type":"custom","event_type":"test.point","payload":{"x":"one","y":2}}']
    )

    with custom_registration("test.point", _Point):
        for read in (store.read("c"), store.read_all()):
            with pytest.raises(eventstore.IntegrityError, match=r"\$\.data\.payload\.x") as caught:
                await collect(read)
            assert (caught.value.conversation_id, caught.value.version) == ("c", 1)
