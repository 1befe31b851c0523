"""The breaking-change checker, ``python -m schemas.compat OLD NEW``.

Fixtures under ``tests/fixtures/compat/`` are real msgspec schema output (see
``make_fixtures.py``): one breaking change per case with the exact lines expected, and one
directory of allowed changes. The checker also runs on the real schema, and on mutations of it.
"""

from __future__ import annotations

import ast
import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from schemas import compat
from schemas import strategies as cst
from schemas.json_schema import RELEASES_DIR, SCHEMA_DIR

FIXTURES = Path(__file__).parent / "fixtures" / "compat"
BREAKING = sorted(p for p in (FIXTURES / "breaking").iterdir() if p.is_dir())
REPO = Path(__file__).parent.parent


def run(*args: str | Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    code = compat.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


# --- fixtures: one per rule ------------------------------------------------------------------


@pytest.mark.parametrize("case", BREAKING, ids=lambda p: p.name)
def test_each_breaking_fixture_is_caught_with_file_path_and_rule(case, capsys):
    code, lines, err = run(case / "old", case / "new", capsys=capsys)
    expected = (case / "expected.txt").read_text().splitlines()
    assert code == 1
    assert lines == expected
    assert f"{len(expected)} breaking change(s)" in err


def test_fixtures_cover_every_rule():
    rules = set()
    for case in BREAKING:
        for line in (case / "expected.txt").read_text().splitlines():
            rules.update(r for r in compat.RULES if f": {r} (" in line)
    assert rules == set(compat.RULES)


def test_allowed_changes_pass(capsys):
    code, lines, err = run(
        FIXTURES / "allowed" / "old", FIXTURES / "allowed" / "new", capsys=capsys
    )
    assert (code, err) == (0, "")
    assert len(lines) == 1
    assert lines[0].startswith("OK: ")


def _validators(directory: Path) -> dict[str, jsonschema.Draft202012Validator]:
    return {
        p.name: jsonschema.Draft202012Validator(json.loads(p.read_bytes()))
        for p in directory.glob("*.json")
    }


@pytest.mark.parametrize("name", ["event.json", "usage_record.json"])
@settings(suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_allowed_changes_really_accept_old_documents(name, data):
    old = json.loads((FIXTURES / "allowed" / "old" / name).read_bytes())
    new = _validators(FIXTURES / "allowed" / "new")[name]
    instance = data.draw(cst.from_schema(old))
    new.validate(instance)


# The fixtures whose break shows as an old document the new schema rejects; the others (a
# field removed, a default changed, a file removed) lose or change data without rejecting it.
REJECTING = ["type_changed", "type_narrowed", "null_removed", "new_required_field"]
REJECTING += ["constraint_tightened", "union_member_removed", "tag_renamed", "enum_value_removed"]


@pytest.mark.parametrize("case", REJECTING)
def test_rejecting_fixtures_really_reject_some_old_document(case):
    for old_file in (FIXTURES / "breaking" / case / "old").glob("*.json"):
        old = json.loads(old_file.read_bytes())
        new = _validators(FIXTURES / "breaking" / case / "new")[old_file.name]
        instance = find(
            cst.from_schema(old),
            lambda x, new=new: not new.is_valid(x),
            settings=settings(max_examples=2000, database=None),
        )
        jsonschema.Draft202012Validator(old).validate(instance)


# --- the real schema -------------------------------------------------------------------------


def test_current_schema_is_compatible_with_the_newest_release(capsys):
    code, lines, _ = run("--latest", RELEASES_DIR, SCHEMA_DIR, capsys=capsys)
    assert code == 0, lines
    assert compat.check(compat.latest_release(RELEASES_DIR), SCHEMA_DIR) == []


def test_current_schema_is_compatible_with_every_release():
    releases = sorted(p for p in RELEASES_DIR.iterdir() if p.is_dir())
    assert releases
    for release in releases:
        assert compat.check(release, SCHEMA_DIR) == [], release.name


def _event_schema() -> dict:
    return json.loads((SCHEMA_DIR / "event.json").read_bytes())


USAGE = "$[type=messages].usage"
CONTENT = "$[type=messages].messages[*].content[*]"


def _mutations():
    """(id, mutate(defs), expected violation (path, rule)) on the real event.json."""

    def drop_cost(d):
        del d["UsageRecord"]["properties"]["cost_usd"]

    def raise_minimum(d):
        d["UsageRecord"]["properties"]["prompt_tokens"]["anyOf"][0]["minimum"] = 1

    def lower_max_length(d):
        d["Message"]["properties"]["role"]["maxLength"] = 32

    def add_pattern(d):
        d["UsageRecord"]["properties"]["model"]["pattern"] = "^[a-z]"

    def require_id(d):
        d["Message"]["required"].append("id")

    def retype_status(d):
        d["ErrorEvent"]["properties"]["status_code"]["anyOf"][0]["type"] = "string"

    def narrow_cost(d):
        d["UsageRecord"]["properties"]["cost_usd"]["anyOf"][0]["type"] = "integer"

    def forbid_null_title(d):
        title = d["ConversationCreated"]["properties"]["title"]
        title["anyOf"] = title["anyOf"][:1]

    def change_default(d):
        d["ToolCallPart"]["properties"]["arguments"]["default"] = ""

    def rename_tag(d):
        d["ErrorEvent"]["properties"]["type"]["enum"] = ["failure"]

    return [
        ("drop_cost", drop_cost, (f"{USAGE}.cost_usd", compat.FIELD_REMOVED)),
        ("raise_minimum", raise_minimum, (f"{USAGE}.prompt_tokens", compat.TIGHTENED)),
        (
            "lower_max_length",
            lower_max_length,
            ("$[type=messages].messages[*].role", compat.TIGHTENED),
        ),
        ("add_pattern", add_pattern, (f"{USAGE}.model", compat.TIGHTENED)),
        ("require_id", require_id, ("$[type=messages].messages[*].id", compat.NEW_REQUIRED)),
        ("retype_status", retype_status, ("$[type=error].status_code", compat.TYPE_NARROWED)),
        ("narrow_cost", narrow_cost, (f"{USAGE}.cost_usd", compat.TYPE_NARROWED)),
        (
            "forbid_null",
            forbid_null_title,
            ("$[type=conversation_created].title", compat.TYPE_NARROWED),
        ),
        (
            "change_default",
            change_default,
            (f"{CONTENT}[type=tool_call].arguments", compat.DEFAULT_CHANGED),
        ),
        ("rename_tag", rename_tag, ("$", compat.MEMBER_REMOVED)),
    ]


@pytest.mark.parametrize(
    ("mutate", "expected"), [m[1:] for m in _mutations()], ids=[m[0] for m in _mutations()]
)
def test_breaking_mutations_of_the_real_schema_are_caught(mutate, expected):
    old = _event_schema()
    new = copy.deepcopy(old)
    mutate(new["$defs"])
    found = {(v.path, v.rule) for v in compat.compare(old, new, "event.json")}
    assert expected in found


def test_removing_a_part_type_is_caught_wherever_parts_appear():
    old = _event_schema()
    new = copy.deepcopy(old)
    for holder in ("Message", "ToolResultPart"):
        union = new["$defs"][holder]["properties"]["content"]["anyOf"][1]["items"]
        union["anyOf"] = [m for m in union["anyOf"] if not m["$ref"].endswith("/ReasoningPart")]
    found = {(v.path, v.rule, v.detail) for v in compat.compare(old, new, "event.json")}
    detail = 'tag "reasoning" no longer accepted'
    assert (CONTENT, compat.MEMBER_REMOVED, detail) in found
    assert (f"{CONTENT}[type=tool_result].content[*]", compat.MEMBER_REMOVED, detail) in found


def test_widening_mutations_of_the_real_schema_pass():
    old = _event_schema()
    new = copy.deepcopy(old)
    defs = new["$defs"]
    defs["UsageRecord"]["properties"]["cache_ttl"] = {
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "default": None,
    }
    defs["ErrorEvent"]["properties"]["status_code"]["anyOf"][0]["type"] = "number"
    del defs["Message"]["properties"]["role"]["maxLength"]
    defs["Message"]["description"] = "rewritten"
    defs["Fork"] = {
        "type": "object",
        "properties": {"type": {"enum": ["fork"]}},
        "required": ["type"],
    }
    new["anyOf"].append({"$ref": "#/$defs/Fork"})
    assert compat.compare(old, new, "event.json") == []


@settings(max_examples=25)
@given(data=st.data())
def test_a_schema_is_compatible_with_itself(data):
    name = data.draw(st.sampled_from(["event.json", "message.json", "usage_record.json"]))
    doc = json.loads((SCHEMA_DIR / name).read_bytes())
    assert compat.compare(doc, copy.deepcopy(doc)) == []


# --- unusable input: exit 2 ------------------------------------------------------------------


def test_missing_directory_is_unusable(tmp_path, capsys):
    code, lines, err = run(tmp_path / "nope", SCHEMA_DIR, capsys=capsys)
    assert (code, lines) == (2, [])
    assert err.startswith("error: not a directory: ")


def test_invalid_json_is_unusable(tmp_path, capsys):
    (tmp_path / "event.json").write_text("{not json")
    code, _, err = run(tmp_path, SCHEMA_DIR, capsys=capsys)
    assert code == 2
    assert "event.json: not valid JSON" in err


def test_non_object_schema_is_unusable(tmp_path, capsys):
    (tmp_path / "event.json").write_text("[1]")
    code, _, err = run(tmp_path, SCHEMA_DIR, capsys=capsys)
    assert code == 2
    assert "must be a JSON object" in err


def test_empty_old_directory_is_unusable(tmp_path, capsys):
    code, _, err = run(tmp_path, SCHEMA_DIR, capsys=capsys)
    assert code == 2
    assert "no *.json schema files" in err


def test_dangling_ref_is_unusable(tmp_path, capsys):
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    (old / "x.json").write_text('{"$ref": "#/$defs/Missing"}')
    (new / "x.json").write_text("{}")
    code, _, err = run(old, new, capsys=capsys)
    assert code == 2
    assert "x.json: cannot resolve $ref '#/$defs/Missing'" in err


def test_latest_orders_versions_numerically(tmp_path):
    for v in ("0.2", "0.10", "0.9", "1.0.1", "1.0"):
        (tmp_path / v).mkdir()
    (tmp_path / ".0.11.1234.partial").mkdir()  # an interrupted freeze is not a release
    assert compat.latest_release(tmp_path).name == "1.0.1"


def test_latest_refuses_non_version_directories_and_empty_dirs(tmp_path, capsys):
    code, _, err = run("--latest", tmp_path, SCHEMA_DIR, capsys=capsys)
    assert code == 2
    assert "no release directories" in err
    (tmp_path / "next").mkdir()
    code, _, err = run("--latest", tmp_path, SCHEMA_DIR, capsys=capsys)
    assert code == 2
    assert "not a release version" in err


@pytest.mark.parametrize("text", ["", "v1", "1.", ".1", "1..2", "1.x", "-1"])
def test_parse_version_refuses_non_versions(text):
    with pytest.raises(ValueError, match="not a release version"):
        compat.parse_version(text)


# --- lost_fields: the round-trip check the snapshot tests use ---------------------------------


USAGE_SCHEMA = {
    "type": "object",
    "properties": {
        "model": {"type": "string"},
        "cost": {"anyOf": [{"type": "number"}, {"type": "null"}], "default": None},
        "tags": {"type": "array", "items": {"type": "string"}, "default": []},
        "flag": {"type": "boolean", "default": False},
    },
    "required": ["model"],
}


@pytest.mark.parametrize(
    ("written", "reread", "lost"),
    [
        ({"model": "m", "cost": 1}, {"model": "m", "cost": 1.0}, []),  # numbers by value
        ({"model": "m", "cost": None, "tags": [], "flag": False}, {"model": "m"}, []),  # defaults
        ({"model": "m", "cost": 0.0}, {"model": "m"}, ["$.cost"]),  # 0.0 is not the default
        ({"model": "m", "tags": ["a"]}, {"model": "m", "tags": []}, ["$.tags"]),
        ({"model": "m", "tags": ["a"]}, {"model": "m", "tags": ["b"]}, ["$.tags[0]"]),
        ({"model": "m", "flag": True}, {"model": "m", "flag": 1}, ["$.flag"]),  # true is not 1
        ({"model": "m", "x-new": 1}, {"model": "m"}, ['$["x-new"]']),
        ({"model": "m"}, "m", ["$"]),
    ],
)
def test_lost_fields(written, reread, lost):
    assert compat.lost_fields(USAGE_SCHEMA, written, reread) == lost


# --- stdlib only ---------------------------------------------------------------------------


def test_compat_imports_only_the_standard_library():
    tree = ast.parse((REPO / "schemas" / "compat.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "compat must not import from the schemas package"
            imported.add((node.module or "").split(".")[0])
    assert imported - {"__future__"} <= sys.stdlib_module_names


def test_checker_runs_as_a_plain_script_without_site_packages():
    # -I -S: no site-packages, no user paths. What CI runs on plain JSON files.
    old = compat.latest_release(RELEASES_DIR)
    proc = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            str(REPO / "schemas" / "compat.py"),
            str(old),
            str(SCHEMA_DIR),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("OK: ")


def test_module_entry_point_exits_1_on_a_break():
    case = FIXTURES / "breaking" / "field_removed"
    proc = subprocess.run(
        [sys.executable, "-m", "schemas.compat", str(case / "old"), str(case / "new")],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert proc.returncode == 1
    assert proc.stdout == (case / "expected.txt").read_text()


# --- the rules on small hand-written schemas: one row per form the checker understands --------

STR, INT, NUM = {"type": "string"}, {"type": "integer"}, {"type": "number"}
NULL = {"type": "null"}


def obj(required: tuple[str, ...] = (), **props):
    return {"type": "object", "properties": props, "required": list(required)}


def tagged(tag: str, field: str = "type", **props):
    return obj((field,), **{field: {"enum": [tag]}}, **props)


def union(*members, field: str = "type"):
    return {"anyOf": list(members), "discriminator": {"propertyName": field}}


NARROW, TIGHT, MEMBER, ENUM = (
    compat.TYPE_NARROWED,
    compat.TIGHTENED,
    compat.MEMBER_REMOVED,
    compat.ENUM_REMOVED,
)

CASES = [
    # (id, old, new, expected {(path, rule)})
    ("any to typed", {}, STR, {("$", NARROW)}),
    ("typed to any", STR, {}, set()),
    ("integer widened", INT, NUM, set()),
    ("nullable dropped from a type list", {"type": ["string", "null"]}, STR, {("$", NARROW)}),
    ("oneOf member dropped", {"oneOf": [STR, INT]}, {"oneOf": [STR]}, {("$", NARROW)}),
    ("const changed", {"const": "a"}, {"const": "b"}, {("$", ENUM)}),
    ("enum kept by a plain type", {"enum": ["a", 1]}, {"anyOf": [STR, INT]}, set()),
    (
        "enum value lost to a narrower type",
        {"enum": ["a", 1.5]},
        {"anyOf": [STR, INT]},
        {("$", ENUM)},
    ),
    ("minimum added", INT, {**INT, "minimum": 0}, {("$", TIGHT)}),
    ("minimum lowered", {**INT, "minimum": 1}, {**INT, "minimum": 0}, set()),
    (
        "exclusive at the same value",
        {**NUM, "minimum": 0},
        {**NUM, "exclusiveMinimum": 0},
        {("$", TIGHT)},
    ),
    (
        "exclusive relaxed to inclusive",
        {**NUM, "exclusiveMaximum": 1},
        {**NUM, "maximum": 1},
        set(),
    ),
    ("maximum lowered", {**NUM, "maximum": 2}, {**NUM, "maximum": 1.5}, {("$", TIGHT)}),
    ("exclusive maximum added", NUM, {**NUM, "exclusiveMaximum": 9}, {("$", TIGHT)}),
    ("multipleOf relaxed", {**INT, "multipleOf": 6}, {**INT, "multipleOf": 3}, set()),
    ("multipleOf tightened", {**INT, "multipleOf": 3}, {**INT, "multipleOf": 6}, {("$", TIGHT)}),
    ("pattern added", STR, {**STR, "pattern": "^a"}, {("$", TIGHT)}),
    ("pattern removed", {**STR, "pattern": "^a"}, STR, set()),
    ("format added", STR, {**STR, "format": "uuid"}, {("$", TIGHT)}),
    ("minLength raised", {**STR, "minLength": 1}, {**STR, "minLength": 2}, {("$", TIGHT)}),
    (
        "maxItems lowered",
        {"type": "array", "maxItems": 3},
        {"type": "array", "maxItems": 2},
        {("$", TIGHT)},
    ),
    ("minItems raised", {"type": "array"}, {"type": "array", "minItems": 1}, {("$", TIGHT)}),
    (
        "uniqueItems added",
        {"type": "array"},
        {"type": "array", "uniqueItems": True},
        {("$", TIGHT)},
    ),
    (
        "items retyped",
        {"type": "array", "items": STR},
        {"type": "array", "items": INT},
        {("$[*]", NARROW)},
    ),
    (
        "items closed",
        {"type": "array", "items": STR},
        {"type": "array", "items": False},
        {("$[*]", TIGHT)},
    ),
    (
        "tuple member retyped",
        {"type": "array", "prefixItems": [INT, STR], "items": False},
        {"type": "array", "prefixItems": [INT, INT], "items": False},
        {("$[1]", NARROW)},
    ),
    (
        "tuple grown into the open tail",
        {"type": "array", "prefixItems": [INT]},
        {"type": "array", "prefixItems": [INT, STR]},
        {("$[1]", NARROW)},
    ),
    (
        "dict values retyped",
        {"type": "object", "additionalProperties": INT},
        {"type": "object", "additionalProperties": STR},
        {("$.*", NARROW)},
    ),
    (
        "extra properties forbidden",
        obj(a=STR),
        {**obj(a=STR), "additionalProperties": False},
        {("$.*", TIGHT)},
    ),
    (
        "dict keys constrained",
        {"type": "object", "additionalProperties": STR},
        {"type": "object", "additionalProperties": STR, "propertyNames": {"minLength": 2}},
        {("$.<key>", TIGHT)},
    ),
    (
        "maxProperties added",
        {"type": "object"},
        {"type": "object", "maxProperties": 5},
        {("$", TIGHT)},
    ),
    (
        "odd property name in the path",
        obj(**{"a-b": STR}),
        obj(),
        {('$["a-b"]', compat.FIELD_REMOVED)},
    ),
    ("required made optional", obj(("a",), a=STR), obj(a=STR), set()),
    (
        "custom tag field",
        union(tagged("x", "kind", n=INT), tagged("y", "kind"), field="kind"),
        union(tagged("x", "kind", n=STR), tagged("y", "kind"), field="kind"),
        {("$[kind=x].n", NARROW)},
    ),
    (
        "tagged member turned into a plain object: the tag field itself is dropped",
        union(tagged("x"), tagged("y")),
        union(tagged("x"), obj()),
        {("$[type=y].type", compat.FIELD_REMOVED)},
    ),
    (
        "untagged object made tagged",
        obj(a=STR),
        tagged("x", a=STR),
        {("$.type", compat.NEW_REQUIRED)},
    ),
    (
        "recursive definitions compared once",
        {
            "$defs": {"T": obj(kids={"type": "array", "items": {"$ref": "#/$defs/T"}}, n=INT)},
            "$ref": "#/$defs/T",
        },
        {
            "$defs": {"T": obj(kids={"type": "array", "items": {"$ref": "#/$defs/T"}}, n=STR)},
            "$ref": "#/$defs/T",
        },
        {("$.n", NARROW)},
    ),
    # Keywords next to $ref or a union apply as well (draft 2020-12); the checker follows the
    # reference or the union, so any change among them is reported as unchecked.
    (
        "keyword added beside a $ref",
        {"$defs": {"S": STR}, **obj(a={"$ref": "#/$defs/S"})},
        {"$defs": {"S": STR}, **obj(a={"$ref": "#/$defs/S", "not": {"const": ""}})},
        {("$.a", compat.UNCHECKED)},
    ),
    (
        "keyword added beside a $ref inside a union member",
        {"$defs": {"S": obj(a=STR)}, **obj(u={"anyOf": [{"$ref": "#/$defs/S"}, NULL]})},
        {
            "$defs": {"S": obj(a=STR)},
            **obj(u={"anyOf": [{"$ref": "#/$defs/S", "not": {"required": ["a"]}}, NULL]}),
        },
        {("$.u", compat.UNCHECKED)},
    ),
    (
        "type added beside a root union",
        {"anyOf": [obj(a=STR), NULL]},
        {"anyOf": [obj(a=STR), NULL], "type": "object"},
        {("$", compat.UNCHECKED)},
    ),
    (
        "keyword beside a union on an optional field",
        obj(a={"anyOf": [STR, NULL], "default": None}),
        obj(a={"anyOf": [STR, NULL], "default": None, "minLength": 1}),
        {("$.a", compat.UNCHECKED)},
    ),
    # A false schema accepts nothing.
    ("property made false", obj(a=STR), obj(a=False), {("$.a", TIGHT)}),
    ("property that was false", obj(a=False), obj(a=STR), set()),
    (
        "union member made false",
        obj(a={"anyOf": [STR, NULL]}),
        obj(a={"anyOf": [STR, False]}),
        {("$.a", NARROW)},
    ),
    # Defaults: old documents without the field must read the same.
    (
        "default removed",
        obj(a={**STR, "default": "{}"}),
        obj(a=STR),
        {("$.a", compat.DEFAULT_CHANGED)},
    ),
    (
        "default stated for an optional field that had none (a default_factory)",
        obj(a=STR),
        obj(a={**STR, "default": ""}),
        {("$.a", compat.DEFAULT_CHANGED)},
    ),
    (
        "default stated for a field that was required",
        obj(("a",), a=STR),
        obj(a={**STR, "default": ""}),
        set(),
    ),
    (
        # An absent additionalProperties is a fresh ``true`` schema at each place; one shared
        # new definition must be compared with each of them, not once for the first.
        "a shared definition narrowing open objects in several places",
        obj(a=obj(), b=obj(), c=obj()),
        {
            "$defs": {"S": STR},
            **obj(**{k: {**obj(), "additionalProperties": {"$ref": "#/$defs/S"}} for k in "abc"}),
        },
        {("$.a.*", NARROW), ("$.b.*", NARROW), ("$.c.*", NARROW)},
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rules_on_small_schemas(old, new, expected):
    assert {(v.path, v.rule) for v in compat.compare(old, new)} == expected


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"$ref": "other.json#/a"}, "only local"),
        (
            {
                "$defs": {"A": {"$ref": "#/$defs/B"}, "B": {"$ref": "#/$defs/A"}},
                "$ref": "#/$defs/A",
            },
            "$ref cycle",
        ),
        ({"items": 3, "type": "array"}, "a schema must be an object or a boolean"),
    ],
)
def test_unusable_schemas_raise(schema, message):
    with pytest.raises(compat.UnusableInput, match=re.escape(message)):
        compat.compare(schema, schema)
