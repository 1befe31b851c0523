"""The public strategies themselves: they reach every field, they draw only what the JSON Schema
accepts, and ``from_schema`` honours (or loudly refuses) every keyword it meets."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
import subprocess
import sys
import uuid
from typing import Annotated, Any, Literal, NamedTuple, TypedDict

import jsonschema
import msgspec
import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample, Unsatisfiable

import schemas
from schemas import strategies as cst
from schemas.json_schema import SCHEMA_DIR

REACH = settings(database=None, max_examples=2000, phases=[Phase.generate], deadline=None)


def validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads((SCHEMA_DIR / name).read_bytes()))


def as_json(value: Any) -> Any:
    """The JSON value of a body, a Struct or a part (unknown parts included)."""
    if isinstance(value, schemas.UnknownEvent):
        return msgspec.json.decode(value.raw)
    if isinstance(value, schemas.Event):
        return msgspec.json.decode(schemas.encode(value))
    return msgspec.json.decode(msgspec.json.encode(msgspec.to_builtins(value, enc_hook=_part)))


def _part(obj: Any) -> Any:
    if isinstance(obj, schemas.UnknownPart):
        return obj.data
    raise NotImplementedError(type(obj).__name__)


# --- every field of every Struct is reached --------------------------------------------------

STRATEGY_OF: dict[type, st.SearchStrategy[Any]] = {
    schemas.UsageRecord: cst.usage_records(),
    schemas.Message: cst.messages(),
    schemas.TextPart: cst.text_parts(),
    schemas.ImagePart: cst.image_parts(),
    schemas.ToolCallPart: cst.tool_call_parts(),
    schemas.ToolResultPart: cst.tool_result_parts(),
    schemas.ReasoningPart: cst.reasoning_parts(),
    schemas.ConversationCreated: cst.conversation_created_bodies(),
    schemas.Messages: cst.messages_bodies(),
    schemas.ErrorEvent: cst.error_bodies(),
    schemas.Custom: cst.custom_bodies(),
}
# Not wire types a harness writes: the envelope is assigned by the store.
WITHOUT_STRATEGY = {schemas.StoredEvent}


def test_every_public_struct_has_a_strategy():
    structs = {
        obj
        for obj in (getattr(schemas, name) for name in schemas.__all__)
        if isinstance(obj, type) and issubclass(obj, msgspec.Struct)
    }
    assert structs - WITHOUT_STRATEGY == set(STRATEGY_OF)


FIELDS = [
    (cls, field)
    for cls in STRATEGY_OF
    for field in msgspec.structs.fields(cls)
    if field.required is False
]


@pytest.mark.parametrize(
    ("cls", "field"), FIELDS, ids=[f"{c.__name__}.{f.name}" for c, f in FIELDS]
)
def test_strategies_reach_every_optional_field_set_and_unset(cls, field):
    """A field added to a Struct but not to its strategy fails here."""
    default = field.default if field.default is not msgspec.NODEFAULT else field.default_factory()

    def value(x: Any) -> Any:
        return getattr(x, field.name)

    find(STRATEGY_OF[cls], lambda x: value(x) != default, settings=REACH)
    find(STRATEGY_OF[cls], lambda x: value(x) == default, settings=REACH)


@pytest.mark.parametrize(
    ("label", "strategy", "predicate"),
    [
        ("zero count", cst.usage_records(), lambda u: u.prompt_tokens == 0),
        ("max count", cst.usage_records(), lambda u: u.completion_tokens == 2**53 - 1),
        ("free", cst.usage_records(), lambda u: u.cost_usd == 0.0),
        ("priced", cst.usage_records(), lambda u: (u.cost_usd or 0) > 0),
        ("unpriced", cst.usage_records(), lambda u: u.cost_usd is None),
        ("non-ascii", cst.messages(), lambda m: any(ord(c) > 0xFFFF for c in str(m.content))),
        ("empty content list", cst.messages(), lambda m: m.content == []),
        ("empty messages", cst.messages_bodies(), lambda b: b.messages == []),
        ("unknown part", cst.messages(), lambda m: "UnknownPart" in repr(m.content)),
        (
            "nested result",
            cst.tool_result_parts(),
            lambda p: any(isinstance(q, schemas.ToolResultPart) for q in p.content),
        ),
        ("long id", cst.identifiers(), lambda s: len(s) == 200),
    ],
)
def test_strategies_reach_the_edge_cases_they_promise(label, strategy, predicate):
    find(strategy, predicate, settings=REACH)


def test_strategies_without_unknown_parts_draw_none():
    @given(cst.messages_bodies(with_unknown_parts=False))
    def check(body: schemas.Messages) -> None:
        assert "UnknownPart" not in repr(body)

    check()


# --- the JSON Schema accepts everything the strategies draw ---------------------------------


@given(cst.bodies(with_unknown_parts=False))
def test_event_schema_accepts_every_drawn_body(body):
    validator("event.json").validate(as_json(body))


@given(cst.messages(with_unknown_parts=False))
def test_message_schema_accepts_every_drawn_message(message):
    validator("message.json").validate(as_json(message))


@given(cst.usage_records())
def test_usage_schema_accepts_every_drawn_usage_record(usage):
    validator("usage_record.json").validate(as_json(usage))


@given(cst.legacy_documents())
def test_event_schema_accepts_legacy_documents(pair):
    validator("event.json").validate(msgspec.json.decode(pair[0]))


def test_event_schema_lists_known_parts_only():
    # Unknown parts are kept by the decoder but not described: the schema is what we write.
    body = schemas.Messages(
        messages=[schemas.Message(role="u", content=[schemas.UnknownPart({"type": "audio"})])]
    )
    assert not validator("event.json").is_valid(as_json(body))


# --- from_schema: the generator for msgspec's subset of JSON Schema --------------------------


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Point(NamedTuple):
    x: int
    y: float = 0.0


class Options(TypedDict):
    verbose: bool


class Cat(msgspec.Struct, tag="cat"):
    lives: Annotated[int, msgspec.Meta(ge=0, le=9)]


class Dog(msgspec.Struct, tag="dog"):
    name: str


class KitchenSink(msgspec.Struct, kw_only=True):
    """Every kind of field msgspec writes a schema for (naive datetimes and non-str dict keys
    excepted: their schemas are looser than the decoder, see from_schema's docstring)."""

    count: Annotated[int, msgspec.Meta(ge=1, lt=10, multiple_of=3)]
    ratio: Annotated[float, msgspec.Meta(gt=0.5, le=2.0)]
    code: Annotated[str, msgspec.Meta(min_length=2, max_length=5, pattern="^a")]
    blob: bytes
    at: Annotated[dt.datetime, msgspec.Meta(tz=True)]
    day: dt.date
    clock: Annotated[dt.time, msgspec.Meta(tz=True)]
    span: dt.timedelta
    ident: uuid.UUID
    amount: decimal.Decimal
    few: Annotated[list[int], msgspec.Meta(min_length=1, max_length=3)]
    pair: tuple[int, str]
    many: tuple[int, ...]
    distinct: set[str]
    frozen: frozenset[int]
    named: Annotated[
        dict[Annotated[str, msgspec.Meta(min_length=1)], int], msgspec.Meta(min_length=1)
    ]
    choice: Literal["x", "y", 3]
    color: Color
    level: Level
    point: Point
    options: Options
    anything: Any
    pet: Cat | Dog
    maybe: int | None = None
    flag: bool = False
    nothing: None = None


SINK_SCHEMA = msgspec.json.schema(KitchenSink)


@given(cst.from_schema(SINK_SCHEMA))
def test_from_schema_draws_only_valid_values_msgspec_decodes(value):
    jsonschema.Draft202012Validator(SINK_SCHEMA).validate(value)
    msgspec.json.decode(msgspec.json.encode(value), type=KitchenSink)


@given(cst.from_struct(KitchenSink))
def test_from_struct_draws_instances(sink):
    assert isinstance(sink, KitchenSink)
    assert msgspec.json.decode(msgspec.json.encode(sink), type=KitchenSink) == sink


@pytest.mark.parametrize("name", ["event.json", "message.json", "usage_record.json"])
@given(data=st.data())
def test_from_schema_draws_valid_values_for_our_schemas(name, data):
    schema = json.loads((SCHEMA_DIR / name).read_bytes())
    jsonschema.Draft202012Validator(schema).validate(data.draw(cst.from_schema(schema)))


@pytest.mark.parametrize(
    ("label", "predicate"),
    [
        ("optional absent", lambda v: "maybe" not in v),
        ("optional null", lambda v: "maybe" in v and v["maybe"] is None),
        ("optional set", lambda v: isinstance(v.get("maybe"), int)),
        ("each tag", lambda v: v["pet"]["type"] == "dog"),
        ("exclusive bound edge", lambda v: v["count"] == 9),
        ("integral number", lambda v: type(v["ratio"]) is int),
        ("longest tuple item", lambda v: len(v["few"]) == 3),
    ],
)
def test_from_schema_reaches_every_branch(label, predicate):
    find(cst.from_schema(SINK_SCHEMA), predicate, settings=REACH)


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"not": {"type": "null"}}, "unsupported keyword(s) ['not']"),
        ({"oneOf": [{"type": "null"}]}, "unsupported keyword(s) ['oneOf']"),
        ({"$ref": "other.json#/x"}, "cannot resolve $ref 'other.json#/x'"),
        ({"$ref": "#/$defs/Missing"}, "cannot resolve $ref '#/$defs/Missing'"),
        ({"$ref": "#/$defs/A", "type": "object", "$defs": {"A": {}}}, "$ref combined with"),
        ({"type": "string", "format": "email"}, "unsupported format 'email'"),
        ({"type": "string", "contentEncoding": "base32"}, "unsupported contentEncoding"),
        ({"type": "decimal"}, "unknown type 'decimal'"),
        ({"type": "integer", "multipleOf": 0.5}, "multipleOf must be a positive integer"),
        (
            {"type": "object", "properties": {}, "required": ["a"]},
            "required ['a'] not in properties",
        ),
        ({"$defs": {"A": {"if": {}}}, "type": "null"}, "#/$defs/A: unsupported keyword(s) ['if']"),
        ({"type": "array", "items": []}, "a schema must be an object or a boolean"),
    ],
)
def test_from_schema_refuses_what_it_cannot_honour_at_once(schema, message):
    with pytest.raises(cst.UnsupportedSchema) as err:
        cst.from_schema(schema)
    assert message in str(err.value)


def test_from_schema_handles_boolean_and_empty_schemas():
    find(cst.from_schema({}), lambda v: isinstance(v, dict), settings=REACH)
    find(cst.from_schema(True), lambda v: v is None, settings=REACH)
    assert find(cst.from_schema({"type": "array", "items": False}), lambda v: True) == []
    closed = {"type": "array", "prefixItems": [{"type": "null"}], "items": False, "minItems": 2}
    with pytest.raises((NoSuchExample, Unsatisfiable)):
        find(cst.from_schema(closed), lambda v: True)


class Node(msgspec.Struct):
    name: str
    children: list[Node] = []


def test_from_schema_follows_recursive_definitions():
    def depth(node: Node) -> int:
        return 1 + max((depth(c) for c in node.children), default=0)

    find(cst.from_struct(Node), lambda n: depth(n) >= 4, settings=REACH)


# --- import hygiene --------------------------------------------------------------------------


def test_import_schemas_does_not_import_hypothesis():
    code = "import sys, schemas, schemas.compat; assert 'hypothesis' not in sys.modules, 'leak'"
    subprocess.run([sys.executable, "-c", code], check=True)


@settings(max_examples=500)
@given(cst.identifiers())
def test_drawn_ids_are_valid_store_arguments_too(conversation_id):
    # The store refuses C1 controls, format characters and edge whitespace in the ids an
    # append passes (docs/decisions.md); a drawn id must serve as a conversation id in a
    # property test of a harness, not only inside a document.
    from schemas.types import check_new_id

    check_new_id(conversation_id, "$.conversation_id")
    schemas.decode(json.dumps({"type": "conversation_created", "parent_id": conversation_id}))
