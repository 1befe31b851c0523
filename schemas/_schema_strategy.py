"""A hypothesis strategy for JSON values valid against a JSON Schema: the subset msgspec emits.

``hypothesis-jsonschema`` would do this for any schema, but it calls a hypothesis internal that
changed in 6.170.10, and pinning hypothesis below that for everyone who installs
``convlog[testing]`` is a worse trade than this small generator (docs/decisions.md). It covers
every keyword ``msgspec.json.schema`` produces and refuses anything else loudly, so a schema it
cannot honour fails the test instead of silently drawing invalid values.

Imported only by :mod:`schemas.strategies`; needs hypothesis.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import math
from collections.abc import Callable, Mapping
from typing import Any

import msgspec
from hypothesis import strategies as st

from .compat import ANNOTATIONS, KEYWORDS_BY_TYPE

__all__ = ("UnsupportedSchema", "from_schema", "json_values")

# Keywords that never constrain a value: ignored. The compatibility checker's list, which
# reports a changed default itself; here a default is ignored and $defs is structure.
_IGNORED = (ANNOTATIONS - {"$defs"}) | {"default"}
_VALIDATION = frozenset().union(*KEYWORDS_BY_TYPE.values())
_STRUCTURE = frozenset({"type", "enum", "const", "anyOf", "$ref", "$defs"})
_ALL_TYPES = tuple(KEYWORDS_BY_TYPE)

_SAFE_INT = 2**53 - 1


class UnsupportedSchema(ValueError):
    """The schema uses a keyword or a form outside the subset :func:`from_schema` supports."""


@functools.cache
def json_values(*, max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """Any JSON value: null, booleans, integers within +-(2**53 - 1) (what every JSON reader
    represents exactly), finite floats, unicode strings, and arrays and objects of them."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-_SAFE_INT, _SAFE_INT),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(),
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=max_leaves,
    )


def from_schema(schema: Mapping[str, Any] | bool, *, max_items: int = 3) -> st.SearchStrategy[Any]:
    """Draw JSON values (as Python builtins) that are valid against ``schema``.

    Supports what ``msgspec.json.schema`` emits: local ``$ref`` into ``$defs`` (recursion
    included), ``anyOf``, ``enum``, ``const``, ``type`` (one or a list), numeric bounds
    (``multipleOf`` on integers), string lengths, ``pattern`` (Python ``re`` semantics, as
    msgspec and the ``jsonschema`` library use), the formats ``date-time``, ``date``, ``time``,
    ``duration``, ``uuid`` and ``decimal``, base64 ``contentEncoding``, ``items``,
    ``prefixItems``, item counts, ``uniqueItems``, ``properties``, ``required``,
    ``additionalProperties``, ``propertyNames`` and property counts. Optional properties are
    independently present or absent. Objects get no properties beyond those declared (unless
    the schema declares ``additionalProperties`` as a schema and no ``properties``). Arrays and
    open objects get at most ``max_items`` elements beyond their minimum.

    Two msgspec schemas are looser than msgspec's decoder, and values drawn for them may not
    decode: naive ``datetime`` and ``time`` (a bare string) and dicts with non-``str`` keys.
    Annotate datetimes with ``msgspec.Meta(tz=True)`` in payloads you want to property-test.

    Strategies are cached by the schema's content, so calling this inside a test (for each
    snapshot, say) costs one JSON encoding, not a rebuild.

    :raises UnsupportedSchema: at once, if ``schema`` uses anything outside that subset.
    """
    return _cached(msgspec.json.encode(schema), max_items)


@functools.lru_cache(maxsize=256)
def _cached(schema: bytes, max_items: int) -> st.SearchStrategy[Any]:
    return _Builder(msgspec.json.decode(schema), max_items).root


class _Builder:
    def __init__(self, schema: Mapping[str, Any] | bool, max_items: int) -> None:
        self.defs: Mapping[str, Any] = (
            schema.get("$defs", {}) if isinstance(schema, Mapping) else {}
        )
        self.max_items = max_items
        self.refs: dict[str, st.SearchStrategy[Any]] = {}
        self.built: dict[str, st.SearchStrategy[Any]] = {}
        # Build every definition now, so an unsupported keyword is reported when the strategy
        # is made, not when (or whether) hypothesis happens to draw from it.
        for name, sub in self.defs.items():
            self.built[name] = self.node(sub, f"#/$defs/{name}")
        self.root = self.node(schema, "#")

    def ref(self, ref: str, where: str) -> st.SearchStrategy[Any]:
        prefix = "#/$defs/"
        name = ref[len(prefix) :]
        if not ref.startswith(prefix) or name not in self.defs:
            raise UnsupportedSchema(f"{where}: cannot resolve $ref {ref!r} (only #/$defs/...)")
        if name not in self.refs:
            # deferred: a definition may refer to itself (a tool result holds parts).
            self.refs[name] = st.deferred(lambda: self.built[name])
        return self.refs[name]

    def node(self, schema: Any, where: str) -> st.SearchStrategy[Any]:
        if schema is True:
            return json_values()
        if schema is False:
            return st.nothing()
        if not isinstance(schema, Mapping):
            raise UnsupportedSchema(f"{where}: a schema must be an object or a boolean")
        keys = set(schema) - _IGNORED
        unknown = keys - _VALIDATION - _STRUCTURE
        if unknown:
            raise UnsupportedSchema(f"{where}: unsupported keyword(s) {sorted(unknown)}")
        keys.discard("$defs")  # read once, at the root
        for combinator in ("$ref", "anyOf", "enum", "const"):
            if combinator in keys and len(keys) > 1:
                raise UnsupportedSchema(
                    f"{where}: {combinator} combined with {sorted(keys - {combinator})}"
                )
        if "$ref" in keys:
            return self.ref(schema["$ref"], where)
        if "anyOf" in keys:
            return st.one_of(
                [self.node(sub, f"{where}/anyOf/{i}") for i, sub in enumerate(schema["anyOf"])]
            )
        if "enum" in keys:
            return st.sampled_from(list(schema["enum"]))
        if "const" in keys:
            return st.just(schema["const"])
        types = schema.get("type", _ALL_TYPES if keys else None)
        if types is None:
            return json_values()
        if isinstance(types, str):
            types = (types,)
        return st.one_of([self.typed(t, schema, where) for t in types])

    def typed(self, tp: str, schema: Mapping[str, Any], where: str) -> st.SearchStrategy[Any]:
        build: Callable[[Mapping[str, Any], str], st.SearchStrategy[Any]] | None = {
            "null": lambda s, w: st.none(),
            "boolean": lambda s, w: st.booleans(),
            "integer": self.integer,
            "number": self.number,
            "string": self.string,
            "array": self.array,
            "object": self.object,
        }.get(tp)
        if build is None:
            raise UnsupportedSchema(f"{where}: unknown type {tp!r}")
        return build(schema, where)

    def integer(self, s: Mapping[str, Any], where: str) -> st.SearchStrategy[Any]:
        lo, hi = _int_bounds(s)
        step = s.get("multipleOf")
        if step is None:
            return st.integers(lo, hi)
        if not isinstance(step, int) or isinstance(step, bool) or step <= 0:
            raise UnsupportedSchema(f"{where}: multipleOf must be a positive integer")
        return st.integers(
            None if lo is None else -(-lo // step), None if hi is None else hi // step
        ).map(lambda k: k * step)

    def number(self, s: Mapping[str, Any], where: str) -> st.SearchStrategy[Any]:
        lo, hi = _bounds(s)
        floats = st.floats(
            min_value=lo,
            max_value=hi,
            exclude_min=lo is not None and s.get("exclusiveMinimum") == lo,
            exclude_max=hi is not None and s.get("exclusiveMaximum") == hi,
            allow_nan=False,
            allow_infinity=False,
        )
        # A JSON number may be written without a fraction by any writer: 3 is a number.
        lo_int, hi_int = _int_bounds(s)
        lo_int = -_SAFE_INT if lo_int is None else max(lo_int, -_SAFE_INT)
        hi_int = _SAFE_INT if hi_int is None else min(hi_int, _SAFE_INT)
        return floats | st.integers(lo_int, hi_int) if lo_int <= hi_int else floats

    def string(self, s: Mapping[str, Any], where: str) -> st.SearchStrategy[Any]:
        lo, hi = s.get("minLength", 0), s.get("maxLength")
        fmt, encoding, pattern = s.get("format"), s.get("contentEncoding"), s.get("pattern")
        if sum(x is not None for x in (fmt, encoding, pattern)) > 1:
            raise UnsupportedSchema(f"{where}: only one of format, contentEncoding, pattern")
        if encoding is not None:
            if encoding != "base64":
                raise UnsupportedSchema(f"{where}: unsupported contentEncoding {encoding!r}")
            text = st.binary(max_size=32).map(lambda b: base64.b64encode(b).decode())
        elif fmt is not None:
            if fmt not in _FORMATS:
                raise UnsupportedSchema(f"{where}: unsupported format {fmt!r}")
            text = _FORMATS[fmt]
        elif pattern is not None:
            text = st.from_regex(pattern)
        else:
            return st.text(min_size=lo, max_size=lo + 20 if hi is None else hi)
        return text.filter(lambda t: lo <= len(t) and (hi is None or len(t) <= hi))

    def array(self, s: Mapping[str, Any], where: str) -> st.SearchStrategy[Any]:
        lo = s.get("minItems", 0)
        hi = s.get("maxItems", lo + self.max_items)
        prefix = s.get("prefixItems", [])
        # items: false closes the array after its prefix
        rest = (
            None if s.get("items") is False else self.node(s.get("items", True), f"{where}/items")
        )
        longest = hi if rest is not None else min(hi, len(prefix))
        if lo > longest:
            return st.nothing()
        if not prefix:
            unique = msgspec.json.encode if s.get("uniqueItems") else None
            return (
                st.lists(rest, min_size=lo, max_size=hi, unique_by=unique)
                if rest is not None
                else st.just([])
            )
        if s.get("uniqueItems"):
            raise UnsupportedSchema(f"{where}: uniqueItems with prefixItems")
        heads = [self.node(p, f"{where}/prefixItems/{i}") for i, p in enumerate(prefix)]

        @st.composite
        def tuples(draw: st.DrawFn) -> list[Any]:
            n = draw(st.integers(lo, min(longest, lo + self.max_items)))
            out = [draw(h) for h in heads[:n]]
            if n > len(out):
                assert rest is not None  # longest would be len(heads)
                out += draw(st.lists(rest, min_size=n - len(out), max_size=n - len(out)))
            return out

        return tuples()

    def object(self, s: Mapping[str, Any], where: str) -> st.SearchStrategy[Any]:
        props: Mapping[str, Any] = s.get("properties", {})
        required = set(s.get("required", ()))
        extra = s.get("additionalProperties", True)
        lo, hi = s.get("minProperties", 0), s.get("maxProperties")
        missing = required - set(props)
        if missing:
            raise UnsupportedSchema(f"{where}: required {sorted(missing)} not in properties")
        if not props:
            names = s.get("propertyNames")
            keys = self.string(names, f"{where}/propertyNames") if names else st.text()
            values = self.node(extra, f"{where}/additionalProperties")
            return st.dictionaries(
                keys, values, min_size=lo, max_size=lo + self.max_items if hi is None else hi
            )
        if lo or hi is not None or "propertyNames" in s:
            raise UnsupportedSchema(f"{where}: property counts or names with properties")
        fields = {name: self.node(sub, f"{where}/properties/{name}") for name, sub in props.items()}

        @st.composite
        def objects(draw: st.DrawFn) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for name, values in fields.items():
                if name in required or draw(st.booleans()):
                    out[name] = draw(values)
            return out

        return objects()


def _bounds(s: Mapping[str, Any]) -> tuple[float | None, float | None]:
    lo = max((s[k] for k in ("minimum", "exclusiveMinimum") if k in s), default=None)
    hi = min((s[k] for k in ("maximum", "exclusiveMaximum") if k in s), default=None)
    return lo, hi


def _int_bounds(s: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """The smallest and largest integers within the numeric bounds of ``s``."""
    lo, hi = _bounds(s)
    if lo is not None:
        lo = math.floor(lo) + 1 if s.get("exclusiveMinimum") == lo else math.ceil(lo)
    if hi is not None:
        hi = math.ceil(hi) - 1 if s.get("exclusiveMaximum") == hi else math.floor(hi)
    return lo, hi


def _as_json_string(value: object) -> str:
    """The exact string msgspec writes for ``value`` (the form its decoder reads back)."""
    text: str = msgspec.json.decode(msgspec.json.encode(value))
    return text


_ZONES = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(
    lambda m: dt.timezone(dt.timedelta(minutes=m))
)
_FORMATS: dict[str, st.SearchStrategy[str]] = {
    "date-time": st.datetimes(timezones=_ZONES).map(_as_json_string),
    "date": st.dates().map(_as_json_string),
    "time": st.times(timezones=_ZONES).map(_as_json_string),
    "duration": st.timedeltas().map(_as_json_string),
    "uuid": st.uuids().map(str),
    "decimal": st.decimals(allow_nan=False, allow_infinity=False).map(str),
}
