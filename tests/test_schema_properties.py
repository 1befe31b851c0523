"""Property tests of the codec, drawn from the public strategies (``schemas.strategies``).

Round trips for every body type; decode raises nothing but ``SchemaError``; absent, null and
0.0 costs stay distinct; later versions' documents decode without losing known fields;
unknown parts survive byte for byte; ``SchemaError.path`` points at the offending field.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

import msgspec
import msgspec.inspect as mi
import pytest
from hypothesis import Phase, assume, find, given, settings
from hypothesis import strategies as st

import schemas
from schemas import strategies as cst

REACH = settings(database=None, max_examples=2000, phases=[Phase.generate], deadline=None)


def reach(strategy: st.SearchStrategy[Any], predicate: Any) -> Any:
    """The first drawn value satisfying ``predicate`` (no shrinking: only reachability
    matters); fails if none is found."""
    return find(strategy, predicate, settings=REACH)


BODY_STRATEGIES = {
    "conversation_created": cst.conversation_created_bodies(),
    "messages": cst.messages_bodies(),
    "error": cst.error_bodies(),
    "custom": cst.custom_bodies(),
    "unknown": cst.unknown_events(),
}


def builtins(body: Any) -> Any:
    """The JSON value of a body, unknown parts included."""
    return msgspec.json.decode(schemas.encode(body))


# --- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", BODY_STRATEGIES)
@given(data=st.data())
def test_every_body_type_round_trips_to_identical_bytes(kind, data):
    body = data.draw(BODY_STRATEGIES[kind])
    raw = schemas.encode(body)
    again = schemas.decode(raw)
    assert again == body
    assert type(again) is type(body)
    assert schemas.encode(again) == raw


@pytest.mark.parametrize("kind", BODY_STRATEGIES)
@given(data=st.data())
def test_encode_checked_returns_the_bytes_and_the_body_they_read_back_as(kind, data):
    body = data.draw(BODY_STRATEGIES[kind])
    raw, stored = schemas.encode_checked(body)
    assert raw == schemas.encode(body)
    assert stored == schemas.decode(raw) == body
    assert type(stored) is type(body)


@given(cst.usage_records())
def test_usage_records_round_trip_inside_a_body(usage):
    body = schemas.Messages(messages=[], usage=usage)
    decoded = schemas.decode(schemas.encode(body))
    assert isinstance(decoded, schemas.Messages)
    assert decoded.usage == usage


@given(cst.legacy_documents())
def test_legacy_documents_decode_to_their_body_and_then_round_trip(pair):
    raw, expected = pair
    body = schemas.decode(raw)
    assert body == expected
    encoded = schemas.encode(body)
    assert schemas.encode(schemas.decode(encoded)) == encoded


def test_legacy_documents_cover_every_shape():
    def shape(pair: tuple[bytes, schemas.Messages]) -> str:
        doc = msgspec.json.decode(pair[0])
        if "usage" not in doc:
            return "absent"
        return "null" if doc["usage"] is None else "exo"

    for wanted in ("absent", "null", "exo"):
        reach(cst.legacy_documents(), lambda p, w=wanted: shape(p) == w)
    exo = reach(
        cst.legacy_documents(),
        lambda p: (
            shape(p) == "exo"
            and None in msgspec.json.decode(p[0])["usage"].values()
            and len(msgspec.json.decode(p[0])["usage"]) > 3
        ),
    )
    assert set(msgspec.json.decode(exo[0])["usage"]) <= set(cst.EXO_USAGE_FIELDS)


# --- decode raises SchemaError and nothing else ---------------------------------------------


def decode_or_schema_error(raw: bytes | str) -> schemas.Body | None:
    """Decode ``raw``; ``None`` if it raised a well-formed ``SchemaError``. Anything else
    propagates and fails the test."""
    error: schemas.SchemaError | None = None
    try:
        return schemas.decode(raw)
    except schemas.SchemaError as exc:
        error = exc
    assert str(error) == f"{error.path}: {error.problem}"
    assert error.path.startswith("$")
    return None


@given(cst.json_values())
def test_decode_of_any_json_value_raises_only_schema_error(value):
    decode_or_schema_error(msgspec.json.encode(value))


@given(st.binary())
def test_decode_of_any_bytes_raises_only_schema_error(raw):
    decode_or_schema_error(raw)


@given(st.text())
def test_decode_of_any_text_raises_only_schema_error(text):
    decode_or_schema_error(text)


@st.composite
def damaged_documents(draw: st.DrawFn) -> bytes:
    """A valid body with one subtree replaced by an arbitrary JSON value: close enough to
    valid to reach every check of the decoder."""
    doc = builtins(draw(cst.bodies()))
    slots = list(_slots(doc))
    holder, key = draw(st.sampled_from(slots))
    holder[key] = draw(cst.json_values(max_leaves=4))
    return msgspec.json.encode(doc)


def _slots(node: Any) -> Iterator[tuple[Any, Any]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield node, k
            yield from _slots(v)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield node, i
            yield from _slots(v)


@given(damaged_documents())
def test_decode_of_damaged_documents_raises_only_schema_error(raw):
    decode_or_schema_error(raw)


@given(st.one_of(damaged_documents(), st.builds(msgspec.json.encode, cst.json_values())))
def test_whatever_decodes_encodes_and_decodes_back_equal(raw):
    body = decode_or_schema_error(raw)
    if body is None:
        return
    try:
        encoded = schemas.encode(body)
    except schemas.SchemaError:
        # Only what decode reads but a new write may not add (schemas.check_new: an image of
        # nothing, usage parts above their whole) may be refused.
        with pytest.raises(schemas.SchemaError):
            schemas.check_new(body)
        return
    assert schemas.decode(encoded) == body


@given(st.data())
def test_truncated_or_corrupted_bytes_raise_only_schema_error(data):
    raw = bytearray(schemas.encode(data.draw(cst.bodies())))
    cut = data.draw(st.integers(0, len(raw)))
    if data.draw(st.booleans()):
        del raw[cut:]
    elif cut < len(raw):
        raw[cut] = data.draw(st.integers(0, 255))
    decode_or_schema_error(bytes(raw))


# --- cost: absent, null and 0.0 -------------------------------------------------------------


@given(cst.usage_records())
def test_absent_null_and_zero_cost_survive_distinctly(usage):
    base = msgspec.structs.replace(usage, cost_usd=None)
    doc = builtins(schemas.Messages(messages=[], usage=base))
    assert "cost_usd" not in doc["usage"]
    absent = msgspec.json.encode(doc)
    doc["usage"]["cost_usd"] = None
    null = msgspec.json.encode(doc)
    doc["usage"]["cost_usd"] = 0.0
    zero = msgspec.json.encode(doc)

    documents = {"absent": absent, "null": null, "zero": zero}
    costs = {k: schemas.decode(raw).usage.cost_usd for k, raw in documents.items()}  # type: ignore[union-attr]
    assert costs["absent"] is None
    assert costs["null"] is None
    assert costs["zero"] == 0.0
    assert type(costs["zero"]) is float

    encoded = {k: schemas.encode(schemas.decode(raw)) for k, raw in documents.items()}
    assert encoded["absent"] == encoded["null"] == absent  # unpriced is written one way
    free = schemas.Messages(messages=[], usage=msgspec.structs.replace(base, cost_usd=0.0))
    assert encoded["zero"] == schemas.encode(free) != absent  # free is not unpriced
    assert b'"cost_usd":0.0' in encoded["zero"]
    assert schemas.decode(encoded["zero"]).usage.cost_usd == 0.0  # type: ignore[union-attr]


@given(st.sampled_from([float("nan"), float("inf"), -float("inf")]))
def test_non_finite_cost_is_refused_not_written_as_null(cost):
    body = schemas.Messages(messages=[], usage=schemas.UsageRecord(model="m", cost_usd=cost))
    with pytest.raises(schemas.SchemaError) as err:
        schemas.encode(body)
    assert err.value.path == "$.usage.cost_usd"


# Values msgspec would write as JSON that reads back as something else in any field: null for
# a non-finite float, a string for a UUID, datetime or bytes. (An int past 2**53 changes only
# in a float field: tests/conformance/test_bad_input.py has that case.)
CHANGED_BY_JSON = st.one_of(
    st.sampled_from([float("nan"), float("inf"), -float("inf"), b"x"]),
    st.uuids(),
    st.datetimes(),
)


@settings(max_examples=300)
@given(st.one_of(*BODY_STRATEGIES.values()), st.data())
def test_a_value_json_would_change_is_refused_at_its_path(body, data):
    # What encode accepts reads back equal (the summaries fold it); so a field whose value
    # JSON would store as something else is an error naming that field.
    fields = [
        (f"$.{name}", name) for name in getattr(body, "__struct_fields__", ()) if name != "type"
    ]
    assume(fields)
    path, name = data.draw(st.sampled_from(fields))
    value = data.draw(CHANGED_BY_JSON)
    with pytest.raises(schemas.SchemaError) as err:
        schemas.encode(msgspec.structs.replace(body, **{name: value}))
    assert err.value.path == path


@settings(max_examples=300)
@given(cst.usage_records(), st.data())
def test_a_usage_value_json_would_change_is_refused_at_its_path(usage, data):
    name = data.draw(st.sampled_from([f for f in usage.__struct_fields__ if f != "model"]))
    value = data.draw(CHANGED_BY_JSON)
    body = schemas.Messages(messages=[], usage=msgspec.structs.replace(usage, **{name: value}))
    with pytest.raises(schemas.SchemaError) as err:
        schemas.encode(body)
    assert err.value.path == f"$.usage.{name}"


# --- later versions --------------------------------------------------------------------------


@given(cst.future_documents())
def test_documents_of_a_later_version_decode_without_losing_known_fields(pair):
    raw, body = pair
    assert schemas.decode(raw) == body
    assert schemas.encode(schemas.decode(raw)) == schemas.encode(body)


class Plan(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    steps: list[Annotated[str, msgspec.Meta(min_length=1)]]
    budget_tokens: Annotated[int, msgspec.Meta(ge=0)] = 0


@pytest.fixture
def plan_registered():
    with schemas.custom_registration("acme.plan", Plan):
        yield


@pytest.mark.usefixtures("plan_registered")
@given(cst.future_documents(cst.custom_bodies("acme.plan")))
def test_later_versions_of_a_registered_payload_decode_too(pair):
    raw, body = pair
    assert schemas.decode(raw) == body


def test_future_documents_add_fields_at_every_level():
    def extra_levels(pair: tuple[bytes, schemas.Body]) -> set[str]:
        raw, body = pair
        doc, known = msgspec.json.decode(raw), builtins(body)
        levels = set()
        if set(doc) - set(known):
            levels.add("body")
        for m_doc, m_known in zip(doc.get("messages", []), known.get("messages", []), strict=True):
            if set(m_doc) - set(m_known):
                levels.add("message")
            if isinstance(m_doc.get("content"), list):
                for p_doc, p_known in zip(m_doc["content"], m_known["content"], strict=True):
                    if set(p_doc) - set(p_known):
                        levels.add("part")
        if isinstance(doc.get("usage"), dict) and set(doc["usage"]) - set(known["usage"]):
            levels.add("usage")
        return levels

    for level in ("body", "message", "part", "usage"):
        reach(
            cst.future_documents(cst.messages_bodies(usage=True)),
            lambda p, level=level: level in extra_levels(p),
        )


# --- unknown parts ---------------------------------------------------------------------------


@st.composite
def bodies_with_unknown_parts(
    draw: st.DrawFn,
) -> tuple[schemas.Messages, list[schemas.UnknownPart]]:
    """A messages body with at least one unknown part, in a message's content or in a tool
    result's (the body's other parts may hold more, at any depth)."""
    unknown = draw(st.lists(cst.unknown_parts(), min_size=1, max_size=3))
    content: list[Any] = draw(st.lists(cst.parts(with_unknown_parts=False), max_size=3))
    for part in unknown:
        if draw(st.booleans()):
            content.insert(draw(st.integers(0, len(content))), part)
        else:
            content.append(schemas.ToolResultPart(tool_call_id="t", content=[part]))
    message = schemas.Message(role="user", content=content)
    body = draw(cst.messages_bodies(usage=False))
    messages = list(body.messages)
    messages.insert(draw(st.integers(0, len(messages))), message)
    return msgspec.structs.replace(body, messages=messages), unknown


@given(bodies_with_unknown_parts())
def test_unknown_parts_survive_a_decode_encode_round_trip_byte_for_byte(drawn):
    body, unknown = drawn
    raw = schemas.encode(body)
    for part in unknown:
        assert msgspec.json.encode(part.data) in raw  # written verbatim
    decoded = schemas.decode(raw)
    assert decoded == body
    assert schemas.encode(decoded) == raw


@given(cst.unknown_parts())
def test_an_unknown_part_from_another_writer_is_kept_byte_for_byte(part):
    # Another writer's bytes, not ours: the part object is spliced in as text.
    part_json = msgspec.json.encode(part.data)
    raw = b'{"type":"messages","messages":[{"role":"user","content":[' + part_json + b"]}]}"
    decoded = schemas.decode(raw)
    assert decoded.messages[0].content == [part]  # type: ignore[union-attr]
    assert schemas.encode(decoded) == raw


# --- SchemaError.path points at the offending field -----------------------------------------

_WRONG_TYPES: list[Any] = [None, True, 7, 1.5, "x", [], {}]


def _members(t: mi.Type) -> tuple[mi.Type, ...]:
    """The members of a union (or ``t`` alone), with ``Metadata`` wrappers (descriptions on
    ``Annotated`` types such as ``Count``) taken off."""
    if isinstance(t, mi.Metadata):
        return _members(t.type)
    if isinstance(t, mi.UnionType):
        return tuple(m for member in t.types for m in _members(member))
    return (t,)


def _accepts(t: mi.Type, value: Any) -> bool:
    """Whether msgspec type ``t`` accepts the JSON ``value`` by type (constraints aside)."""
    if len(_members(t)) > 1 or isinstance(t, mi.Metadata):
        return any(_accepts(m, value) for m in _members(t))
    if isinstance(t, mi.AnyType):
        return True
    if isinstance(t, mi.NoneType):
        return value is None
    if isinstance(t, mi.BoolType):
        return isinstance(value, bool)
    if isinstance(t, mi.IntType):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(t, mi.FloatType):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(t, mi.StrType):
        return isinstance(value, str)
    return isinstance(value, list | dict)  # containers: not leaves, never offered here


_SCALARS = (mi.NoneType, mi.BoolType, mi.IntType, mi.FloatType, mi.StrType)


def _is_leaf(t: mi.Type) -> bool:
    return all(isinstance(m, _SCALARS) for m in _members(t))


def _leaves(value: Any, doc: Any, path: str) -> Iterator[tuple[str, Any, Any, mi.Type]]:
    """(path, holder, key, type) of every scalar field (or scalar list item) present in
    ``doc``, the JSON of ``value``: walks Structs and lists of them, typed payloads included."""
    if isinstance(value, list) and isinstance(doc, list):
        for i, (v, d) in enumerate(zip(value, doc, strict=True)):
            yield from _leaves(v, d, f"{path}[{i}]")
        return
    if not (isinstance(value, msgspec.Struct) and isinstance(doc, dict)):
        return
    info = _struct_info(type(value))
    for field in info.fields:
        if field.encode_name not in doc:
            continue
        where = f"{path}.{field.encode_name}"
        items, (first, *rest) = doc[field.encode_name], _members(field.type)
        if _is_leaf(field.type):
            yield where, doc, field.encode_name, field.type
        elif not rest and isinstance(first, mi.ListType) and _is_leaf(first.item_type):
            for i in range(len(items)):
                yield f"{where}[{i}]", items, i, first.item_type
        else:
            yield from _leaves(getattr(value, field.name), doc[field.encode_name], where)


@functools.cache
def _struct_info(cls: type) -> mi.StructType:
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    return info


def _violations(t: mi.Type, draw: st.DrawFn) -> list[Any]:
    """JSON values ``t`` refuses: wrong types, and values just outside each constraint."""
    out = [v for v in _WRONG_TYPES if not _accepts(t, v)]
    for m in _members(t):
        if isinstance(m, mi.IntType | mi.FloatType):
            step = draw(st.integers(1, 10**6))
            if m.ge is not None:
                out.append(m.ge - step)  # a negative token count, say
            if m.le is not None:
                out.append(m.le + step)
        if isinstance(m, mi.StrType):
            if m.min_length:
                out.append("x" * (m.min_length - 1))
            if m.max_length is not None:
                out.append("x" * (m.max_length + 1))
            if m.pattern is not None:
                out.append("ok\x01" + draw(st.sampled_from(["", "\n", "tail"])))
    return out


# Bodies whose messages hold tool results, so nested parts are well represented.
TOOL_RESULT_BODIES = st.builds(
    schemas.Messages,
    messages=st.lists(
        st.builds(
            schemas.Message,
            role=st.just("user"),
            content=st.lists(cst.tool_result_parts(), min_size=1, max_size=2),
        ),
        min_size=1,
        max_size=2,
    ),
)


@st.composite
def invalid_documents(
    draw: st.DrawFn, source: st.SearchStrategy[schemas.Body] | None = None
) -> tuple[bytes, str, Any]:
    """(raw, path, bad value): a valid body with one scalar field made invalid."""
    body = draw(cst.bodies() | TOOL_RESULT_BODIES if source is None else source)
    doc = builtins(body)
    leaves = list(_leaves(body, doc, "$"))
    assume(leaves)
    path, holder, key, t = draw(st.sampled_from(leaves))
    bad = draw(st.sampled_from(_violations(t, draw)))
    holder[key] = bad
    return msgspec.json.encode(doc), path, bad


@pytest.mark.usefixtures("plan_registered")
@given(invalid_documents(), st.sampled_from(["$", "$.data"]))
def test_schema_error_path_points_at_the_offending_field(drawn, root):
    raw, path, _ = drawn
    with pytest.raises(schemas.SchemaError) as err:
        schemas.decode(raw, path=root)
    assert err.value.path == root + path[1:]


@given(st.data())
def test_a_negative_token_count_anywhere_in_usage_names_its_field(data):
    usage = data.draw(cst.usage_records())
    doc = builtins(schemas.Messages(messages=[], usage=usage))
    field = data.draw(
        st.sampled_from(
            [f for f in doc["usage"] if f.endswith(("_tokens", "_ms"))] or ["prompt_tokens"]
        )
    )
    value = -data.draw(st.integers(1, 2**60))
    doc["usage"][field] = value
    with pytest.raises(schemas.SchemaError) as err:
        schemas.decode(msgspec.json.encode(doc), path="$.data")
    assert str(err.value) == f"$.data.usage.{field}: expected int >= 0, got {value}"


def test_invalid_documents_reach_typed_payloads_nested_parts_and_usage():
    with schemas.custom_registration("acme.plan", Plan):
        reach(invalid_documents(cst.custom_bodies()), lambda d: d[1].startswith("$.payload."))
    reach(invalid_documents(TOOL_RESULT_BODIES), lambda d: d[1].count("content[") >= 2)
    reach(
        invalid_documents(cst.messages_bodies(usage=True)),
        lambda d: d[1].startswith("$.usage.") and "_tokens" in d[1],
    )


# --- defects these tests found, fixed in the codec; kept as examples -------------------------


@pytest.mark.parametrize(
    "raw", [b"0:", b"[1,", b'{"type":"messages","messages":[1]', "0:", b'{"\x80ype":"error"}']
)
def test_malformed_json_after_a_type_error_raises_schema_error(raw):
    with pytest.raises(schemas.SchemaError):
        schemas.decode(raw)


def test_decode_of_text_with_a_lone_surrogate_raises_schema_error():
    decode_or_schema_error('{"type":"custom","event_type":"x","payload":"\ud800"}')


@pytest.mark.parametrize("tag", [b"later", b"messages"])
def test_decode_of_deeply_nested_json_raises_schema_error(tag):
    depth = 100_000
    raw = b'{"type":"' + tag + b'","messages":' + b"[" * depth + b"]" * depth + b"}"
    with pytest.raises(schemas.SchemaError):
        schemas.decode(raw)


def test_unknown_part_two_tool_results_deep_is_kept():
    inner = schemas.ToolResultPart(
        tool_call_id="b", content=[schemas.UnknownPart({"type": "audio"})]
    )
    outer = schemas.ToolResultPart(tool_call_id="a", content=[inner])
    body = schemas.Messages(messages=[schemas.Message(role="user", content=[outer])])
    assert schemas.decode(schemas.encode(body)) == body


def test_non_finite_float_in_a_payload_is_refused():
    with pytest.raises(schemas.SchemaError):
        schemas.encode(schemas.Custom(event_type="x", payload={"score": float("nan")}))


def test_type_mismatch_message_names_the_value_once():
    with pytest.raises(schemas.SchemaError) as err:
        schemas.decode(
            b'{"type":"messages","messages":[],"usage":{"model":"m","prompt_tokens":1.5}}'
        )
    assert err.value.problem.count("got") == 1, err.value.problem


def test_unknown_event_with_a_huge_number_is_kept():
    raw = b'{"type":"later","x":1e400}'
    assert schemas.decode(raw) == schemas.UnknownEvent("later", raw)


@pytest.mark.parametrize(
    ("document", "path"),
    [
        # An unknown part is kept as its values, and no float holds this one: the error must
        # name the number, not the part's type.
        (
            '"messages":[{"role":"user","content":[{"type":"audio","x":NUM}]}]',
            "$.messages[0].content[0].x",
        ),
        ('"messages":[],"usage":{"model":"m","cost_usd":NUM}', "$.usage.cost_usd"),
        ('"event_type":"x","payload":{"a":[1,NUM]}', "$.payload.a[1]"),
    ],
)
@pytest.mark.parametrize("number", ["1e400", "-1e400", "1" + "0" * 4400])
def test_a_number_no_float_holds_is_named_where_it_is(document, path, number):
    kind = "custom" if "event_type" in document else "messages"
    raw = f'{{"type":"{kind}",{document.replace("NUM", number)}}}'
    with pytest.raises(schemas.SchemaError) as err:
        schemas.decode(raw)
    assert (err.value.path, err.value.problem) == (path, "number out of range for a float")


# --- encode refuses what cannot be stored, naming the field ---------------------------------

SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)


@given(st.text(max_size=5), SURROGATES, st.text(max_size=5))
def test_a_lone_surrogate_in_any_string_field_is_named_by_encode(before, bad, after):
    text = before + bad + after
    where = len(before)
    message = schemas.Message(
        role="user", content=[schemas.TextPart(text="ok"), schemas.TextPart(text=text)]
    )
    cases = [
        (schemas.Messages(messages=[message]), "$.messages[0].content[1].text"),
        (schemas.ConversationCreated(title=text), "$.title"),
        (schemas.Custom(event_type="x", payload={"a": [1, {"b": text}]}), "$.payload.a[1].b"),
        (schemas.Custom(event_type="x", payload={text: 1}), "$.payload.<key>"),
    ]
    for body, path in cases:
        with pytest.raises(schemas.SchemaError) as err:
            schemas.encode(body)
        assert (err.value.path, err.value.problem) == (
            path,
            f"not encodable as UTF-8 at index {where}",
        )


@pytest.mark.parametrize(
    ("body", "path", "problem"),
    [
        (
            schemas.Messages(messages=[], usage=schemas.UsageRecord(model="m", cost_usd="0.1")),  # type: ignore[arg-type]
            "$.usage.cost_usd",
            "expected float | null",
        ),
        (schemas.Custom(event_type="x", payload=object()), "$.payload", "got object"),
        (schemas.Custom(event_type="x", payload={"a": [object()]}), "$.payload.a[0]", "got object"),
        # What JSON would not give back as it was given, refused rather than converted.
        (schemas.Custom(event_type="x", payload={"tags": {"a"}}), "$.payload.tags", "got set"),
        (schemas.Custom(event_type="x", payload=[(1, {2})]), "$.payload[0][1]", "got set"),
        (schemas.Custom(event_type="x", payload={"b": b"\x00"}), "$.payload.b", "got bytes"),
        (
            schemas.Custom(event_type="x", payload={"at": datetime(2026, 1, 1)}),
            "$.payload.at",
            "got datetime",
        ),
        (
            schemas.Custom(event_type="x", payload={1: 2}),
            "$.payload",
            "keys must be str, got int 1",
        ),
        # What would not read back as it was: unknown events and parts, unregistered Structs.
        (schemas.UnknownEvent("stop", b"not json"), "$", "JSON is malformed"),
        (
            schemas.UnknownEvent("stop", b'{"type":"error","message":"m"}'),
            "$.type",
            "'error' is a known event type",
        ),
        (schemas.UnknownEvent("stop", b'{"type":"later"}'), "$.type", "the bytes say 'later'"),
        (
            schemas.Messages(
                messages=[
                    schemas.Message(
                        role="user",
                        content=[
                            schemas.TextPart(text="a"),
                            schemas.ToolResultPart(
                                tool_call_id="t",
                                content=[schemas.UnknownPart({"type": "audio", "at": {1}})],
                            ),
                        ],
                    )
                ]
            ),
            "$.messages[0].content[1].content[0].at",
            "got set",
        ),
        (
            schemas.Messages(
                messages=[
                    schemas.Message(
                        role="user", content=[schemas.UnknownPart({"type": "text", "text": "hi"})]
                    )
                ]
            ),
            "$.messages[0].content[0].type",
            "'text' is a known part type",
        ),
        (
            schemas.Custom(event_type="not.registered", payload=schemas.TextPart(text="x")),
            "$.payload",
            "reads back as a plain dict unless it is the type registered for 'not.registered'",
        ),
        # What a write may no longer add, though stored documents holding it still decode.
        (
            schemas.Messages(
                messages=[
                    schemas.Message(role="user", content="hi"),
                    schemas.Message(
                        role="user",
                        content=[
                            schemas.TextPart(text="look"),
                            schemas.ImagePart(media_type="image/png", detail="high"),
                        ],
                    ),
                ]
            ),
            "$.messages[1].content[1]",
            "an image part needs a url or data, got neither",
        ),
        (
            schemas.Messages(
                messages=[
                    schemas.Message(
                        role="tool",
                        content=[
                            schemas.ToolResultPart(
                                tool_call_id="t",
                                content=[schemas.ImagePart(url="u"), schemas.ImagePart()],
                            )
                        ],
                    )
                ]
            ),
            "$.messages[0].content[0].content[1]",
            "an image part needs a url or data, got neither",
        ),
    ],
)
def test_encode_refuses_what_it_cannot_store_as_given_naming_the_field(body, path, problem):
    with pytest.raises(schemas.SchemaError) as err:
        schemas.encode(body)
    assert err.value.path == path
    assert problem in err.value.problem


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (
            rb'{"type":"conversation_created","title":"\ud800"}',
            "JSON is malformed: invalid utf-16 surrogate pair (\\ud800 at byte 40 is not "
            "followed by a low surrogate)",
        ),
        (
            rb'{"type":"conversation_created","title":"ok \uDBFFx"}',
            "JSON is malformed: invalid utf-16 surrogate pair (\\uDBFF at byte 43 is not "
            "followed by a low surrogate)",
        ),
        # An escaped backslash before "ud800" is text, not an escape: truncation is truncation.
        (rb'{"type":"conversation_created","title":"\\ud800', "input data was truncated"),
        (rb'{"type":"conversation_created","title":"x', "input data was truncated"),
    ],
)
def test_a_lone_high_surrogate_escape_is_not_reported_as_truncation(raw, problem):
    with pytest.raises(schemas.SchemaError) as err:
        schemas.decode(raw)
    assert (err.value.path, err.value.problem) == ("$", problem)


@given(
    st.builds(
        schemas.ImagePart,
        url=st.none() | st.text(max_size=5),
        data=st.none() | st.text(max_size=5),
        media_type=st.none() | st.text(max_size=5),
        detail=st.none() | st.text(max_size=5),
    ),
    st.booleans(),
)
def test_an_image_part_is_written_only_with_a_url_or_data_but_always_read(part, in_tool_result):
    content: list[Any] = [part]
    if in_tool_result:
        content = [schemas.ToolResultPart(tool_call_id="t", content=content)]
    body = schemas.Messages(messages=[schemas.Message(role="user", content=content)])
    # Stored documents written before the rule: decode reads them whatever they hold.
    raw = msgspec.json.encode(body)
    assert schemas.decode(raw) == body
    if part.url is not None or part.data is not None:
        assert schemas.encode(body) == raw
        return
    with pytest.raises(schemas.SchemaError) as err:
        schemas.encode(body)
    path = "$.messages[0].content[0]" + (".content[0]" if in_tool_result else "")
    assert (err.value.path, err.value.problem) == (
        path,
        "an image part needs a url or data, got neither",
    )


# --- what encode returns decodes back to what was encoded, or encode refuses ----------------

TAGS = st.sampled_from(["later", "stop", "messages", "error", "custom", "text"]) | st.text(
    max_size=8
)


@given(
    TAGS,
    TAGS.flatmap(
        lambda tag: st.fixed_dictionaries({"type": st.just(tag)}, optional={"x": cst.json_values()})
    ).map(msgspec.json.encode)
    | st.binary(max_size=30),
)
def test_an_unknown_event_encodes_only_to_bytes_that_decode_back_to_it(tag, raw):
    body = schemas.UnknownEvent(tag, raw)
    try:
        out = schemas.encode(body)
    except schemas.SchemaError:
        return
    assert out == raw
    assert schemas.decode(out) == body


@given(TAGS, cst.json_values())
def test_an_unknown_part_encodes_only_to_what_decodes_back_to_it(tag, value):
    part = schemas.UnknownPart({"type": tag, "v": value})
    body = schemas.Messages(messages=[schemas.Message(role="user", content=[part])])
    try:
        out = schemas.encode(body)
    except schemas.SchemaError as err:
        refused_at = err.path
    else:
        assert schemas.decode(out) == body
        return
    assert refused_at.startswith("$.messages[0].content[0]")


class _Tally(msgspec.Struct):
    counts: dict[str, int]


@given(
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=6),
    st.text(max_size=5),
    st.integers() | st.none() | st.lists(st.integers(), max_size=2),
)
def test_a_bad_value_in_an_object_is_named_by_its_key(good, bad_key, bad_value):
    assume(bad_key not in good)
    metadata = {**good, bad_key: bad_value}
    raw = msgspec.json.encode({"type": "conversation_created", "metadata": metadata})
    with pytest.raises(schemas.SchemaError) as err:
        schemas.decode(raw)
    assert err.value.path == f"$.metadata.{bad_key}"
    assert err.value.problem.startswith("expected str, got ")


def test_a_bad_value_in_a_registered_payload_object_is_named_by_its_key():
    raw = b'{"type":"custom","event_type":"test.tally","payload":{"counts":{"a":1,"b":"two"}}}'
    with (
        schemas.custom_registration("test.tally", _Tally),
        pytest.raises(schemas.SchemaError) as err,
    ):
        schemas.decode(raw)
    assert (err.value.path, err.value.problem) == (
        "$.payload.counts.b",
        'expected int, got str ("two")',
    )
