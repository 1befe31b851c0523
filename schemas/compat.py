"""Breaking-change checker for JSON Schema snapshots: ``python -m schemas.compat OLD NEW``.

Compares every ``*.json`` schema file directly in ``OLD`` with the file of the same name in
``NEW`` and reports each change that would make data valid under ``OLD`` unreadable, or read
differently, under ``NEW``. One line per violation, ``file: JSON path: rule (detail)``, then
exit 1; a one-line OK and exit 0 when compatible; exit 2 when the input is unusable (missing
directory, invalid JSON, unresolvable ``$ref``). With ``--latest``, ``OLD`` is a directory of
releases (``releases/0.1``, ``releases/0.2``, ...) and the newest one is compared.

Rules (docs/compatibility.md has an example of each):

- ``document removed``: a schema file of ``OLD`` is missing from ``NEW``.
- ``field removed``: a property disappeared (its data would be dropped on read).
- ``type changed or narrowed``: a JSON type is no longer accepted (``number`` to
  ``integer``, ``string`` to anything else, ``null`` dropped from an optional field, any
  value to a typed one).
- ``new required field``: old documents do not have it.
- ``constraint tightened``: a bound raised or lowered (``minimum``, ``maxLength``, ...), a
  ``pattern``, ``format`` or ``multipleOf`` added or changed, extra properties forbidden.
- ``union member or tag removed``: a tagged member of a union (an event or part type) is
  gone or renamed.
- ``enum value removed``: an ``enum`` or ``const`` value is no longer accepted.
- ``default changed``: old documents that omit the field would be read with another value.
- ``unchecked keyword changed``: a keyword this checker does not understand differs, so
  compatibility cannot be shown.

Widening is allowed: new optional fields, new event or part types (older readers keep them as
``UnknownEvent``/``UnknownPart``), ``integer`` to ``number``, a type made nullable, bounds
relaxed, enum values added.

The keyword tables it reasons with, :data:`ANNOTATIONS` and :data:`KEYWORDS_BY_TYPE`, are the
ones :func:`schemas.strategies.from_schema` generates from: one list of what msgspec emits.

This module uses only the standard library, so CI can run it on plain JSON files
(``python schemas/compat.py OLD NEW`` works without installing anything). That is also why the
keyword tables live here and not in a module of their own: this file cannot import one.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

__all__ = (
    "ANNOTATIONS",
    "DEFAULT_CHANGED",
    "DOCUMENT_REMOVED",
    "ENUM_REMOVED",
    "FIELD_REMOVED",
    "KEYWORDS_BY_TYPE",
    "MEMBER_REMOVED",
    "NEW_REQUIRED",
    "RULES",
    "TIGHTENED",
    "TYPE_NARROWED",
    "UNCHECKED",
    "UnusableInput",
    "Violation",
    "check",
    "compare",
    "latest_release",
    "lost_fields",
    "main",
    "parse_version",
)

DOCUMENT_REMOVED = "document removed"
FIELD_REMOVED = "field removed"
TYPE_NARROWED = "type changed or narrowed"
NEW_REQUIRED = "new required field"
TIGHTENED = "constraint tightened"
MEMBER_REMOVED = "union member or tag removed"
ENUM_REMOVED = "enum value removed"
DEFAULT_CHANGED = "default changed"
UNCHECKED = "unchecked keyword changed"

#: Every rule the checker enforces, as printed.
RULES = (
    DOCUMENT_REMOVED,
    FIELD_REMOVED,
    TYPE_NARROWED,
    NEW_REQUIRED,
    TIGHTENED,
    MEMBER_REMOVED,
    ENUM_REMOVED,
    DEFAULT_CHANGED,
    UNCHECKED,
)

#: Keywords that do not constrain values; changes to them are always compatible.
ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "$defs",
        "title",
        "description",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "discriminator",
        "contentMediaType",
    }
)
#: The validation keywords of each JSON type, as msgspec emits them; its keys are every JSON
#: type. The schema strategy (``schemas.strategies.from_schema``) generates from the same list.
KEYWORDS_BY_TYPE: Mapping[str, frozenset[str]] = {
    "null": frozenset(),
    "boolean": frozenset(),
    "integer": frozenset(
        {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
    ),
    "number": frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}),
    "string": frozenset({"minLength", "maxLength", "pattern", "format", "contentEncoding"}),
    "array": frozenset({"items", "prefixItems", "minItems", "maxItems", "uniqueItems"}),
    "object": frozenset(
        {
            "properties",
            "required",
            "additionalProperties",
            "propertyNames",
            "minProperties",
            "maxProperties",
        }
    ),
}
_CHECKED = frozenset({"$ref", "anyOf", "oneOf", "type", "enum", "const", "default"}).union(
    *KEYWORDS_BY_TYPE.values()
)
_JSON_TYPES = tuple(KEYWORDS_BY_TYPE)


class UnusableInput(ValueError):
    """The checker cannot run: a directory is missing, a file is not JSON, a ``$ref`` dangles."""


class Violation(NamedTuple):
    """One incompatible change: in ``file``, at the JSON ``path`` of the data, by ``rule``."""

    file: str
    path: str
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.rule} ({self.detail})"


# --- the comparison -------------------------------------------------------------------------


def compare(old: Mapping[str, Any], new: Mapping[str, Any], file: str = "") -> list[Violation]:
    """Every violation of the evolution rules between two schema documents.

    :raises UnusableInput: if a ``$ref`` cannot be resolved.
    """
    return _Comparison(old, new, file).run()


class _Alt(NamedTuple):
    """One alternative of a (flattened) union: its kind and its schema, and the keywords that
    stood beside the ``$ref`` the member reached it through."""

    kind: tuple[str, Any]  # ("tag", value) | ("type", name) | ("enum", values) | ("any", None)
    schema: Mapping[str, Any]
    tag_field: str = "type"
    beside: Mapping[str, Any] = {}  # shared, never mutated


class _Comparison:
    def __init__(self, old: Mapping[str, Any], new: Mapping[str, Any], file: str) -> None:
        self.old, self.new, self.file = old, new, file
        # Pairs compared so far, by identity, holding the pair itself: a ``true`` schema resolves
        # to a fresh ``{}``, and a freed one's id could be reused and wrongly match a later pair.
        self.seen: dict[tuple[int, int], tuple[Any, Any]] = {}
        self.out: list[Violation] = []

    def run(self) -> list[Violation]:
        self.node(self.old, self.new, "$")
        return list(dict.fromkeys(self.out))  # a keyword-less schema expands to every type

    def report(self, path: str, rule: str, detail: str) -> None:
        self.out.append(Violation(self.file, path, rule, detail))

    def node(self, old: Any, new: Any, path: str) -> None:
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            self.default(old, new, path)
        self.beside(old, new, path)
        old, new = _resolve(self.old, old), _resolve(self.new, new)
        if old is False:  # accepted nothing: nothing old to keep accepting
            return
        if new is False:
            self.report(path, TIGHTENED, "values here are no longer allowed")
            return
        self.beside(old, new, path)
        key = (id(old), id(new))
        if key in self.seen:  # recursive schemas: each pair of definitions once
            return
        self.seen[key] = (old, new)
        old_alts, new_alts = _alternatives(self.old, old), _alternatives(self.new, new)
        union = len(old_alts) > 1
        for alt in old_alts:
            self.match(alt, new_alts, path, union)

    def default(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> None:
        # A default that disappears is a change too: msgspec states none for a
        # default_factory, so the new reader may fill in another value. (One that appears is
        # judged in properties(), which knows whether old documents could lack the field.)
        if "default" not in old:
            return
        if "default" in new and _same(old["default"], new["default"]):
            return
        now = _show(new["default"]) if "default" in new else "absent"
        self.report(path, DEFAULT_CHANGED, f"{_show(old['default'])} -> {now}")

    def beside(self, old: Any, new: Any, path: str) -> None:
        """Keywords next to ``$ref``/``anyOf``/``oneOf`` apply too (draft 2020-12), but the
        comparison follows the reference or the union: any change among them is unchecked."""
        self.compare_beside(_beside(old), _beside(new), path)

    def compare_beside(self, was: Mapping[str, Any], now: Mapping[str, Any], path: str) -> None:
        for name in sorted(set(was) | set(now)):
            if name not in was or name not in now or not _same(was[name], now[name]):
                before = _show(was[name]) if name in was else "absent"
                after = _show(now[name]) if name in now else "absent"
                self.report(path, UNCHECKED, f"{name} beside a $ref or union: {before} -> {after}")

    def match(self, alt: _Alt, new_alts: list[_Alt], path: str, union: bool) -> None:
        kind, value = alt.kind
        if kind == "enum":
            lost = [v for v in value if not any(_admits(n, v) for n in new_alts)]
            if lost:
                self.report(path, ENUM_REMOVED, ", ".join(_show(v) for v in lost))
            return
        if any(n.kind == ("any", None) for n in new_alts):
            return  # the new schema accepts anything here
        if kind == "any":
            self.report(path, TYPE_NARROWED, "any JSON value -> " + _describe(new_alts))
            return
        if kind == "tag":
            same = [n for n in new_alts if n.kind == alt.kind]
            if not same:
                same = [n for n in new_alts if n.kind == ("type", "object")]
            if not same:
                self.report(path, MEMBER_REMOVED, f"tag {_show(value)} no longer accepted")
                return
            where = f"{path}[{alt.tag_field}={value}]" if union else path
            self.compare_beside(alt.beside, same[0].beside, where)
            self.pair(alt.schema, same[0].schema, where)
            return
        # A plain JSON type: the same type, or a wider one, must remain.
        wider = {"integer": ("integer", "number")}.get(value, (value,))
        candidates = [n for t in wider for n in new_alts if n.kind == ("type", t)]
        if value == "object" and not candidates:
            candidates = [n for n in new_alts if n.kind[0] == "tag"]
        if not candidates:
            self.report(
                path, TYPE_NARROWED, f"{value} no longer accepted (now {_describe(new_alts)})"
            )
            return
        self.compare_beside(alt.beside, candidates[0].beside, path)
        self.pair(alt.schema, candidates[0].schema, path)

    def pair(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> None:
        """Compare two alternatives of the same JSON type, keyword by keyword."""
        for name in sorted((set(old) | set(new)) - ANNOTATIONS - _CHECKED):
            if name not in old or name not in new or not _same(old[name], new[name]):
                was = _show(old[name]) if name in old else "absent"
                now = _show(new[name]) if name in new else "absent"
                self.report(path, UNCHECKED, f"{name}: {was} -> {now}")
        self.bounds(old, new, path)
        for name in ("pattern", "format", "contentEncoding"):
            if name in new and old.get(name) != new[name]:
                was = f"{_show(old[name])} -> " if name in old else "added "
                self.report(path, TIGHTENED, f"{name} {was}{_show(new[name])}")
        if "multipleOf" in new:
            o, n = old.get("multipleOf"), new["multipleOf"]
            if o is None or o % n != 0:
                self.report(path, TIGHTENED, f"multipleOf {_show(o)} -> {_show(n)}")
        if new.get("uniqueItems") and not old.get("uniqueItems"):
            self.report(path, TIGHTENED, "uniqueItems added")
        self.items(old, new, path)
        self.properties(old, new, path)

    def bounds(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> None:
        for low, high in (
            ("minLength", "maxLength"),
            ("minItems", "maxItems"),
            ("minProperties", "maxProperties"),
        ):
            if low in new and new[low] > old.get(low, 0):
                self.report(path, TIGHTENED, f"{low} {old.get(low, 0)} -> {new[low]}")
            if high in new and (high not in old or new[high] < old[high]):
                self.report(path, TIGHTENED, f"{high} {old.get(high, 'none')} -> {new[high]}")
        old_lo, new_lo = _bound(old, "minimum"), _bound(new, "minimum")
        if new_lo is not None and (old_lo is None or new_lo > old_lo):
            self.report(
                path, TIGHTENED, f"lower bound {_show_bound(old_lo)} -> {_show_bound(new_lo)}"
            )
        old_hi, new_hi = _bound(old, "maximum"), _bound(new, "maximum")
        if new_hi is not None and (old_hi is None or _neg(new_hi) > _neg(old_hi)):
            self.report(
                path, TIGHTENED, f"upper bound {_show_bound(old_hi)} -> {_show_bound(new_hi)}"
            )

    def items(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> None:
        old_prefix, new_prefix = old.get("prefixItems", []), new.get("prefixItems", [])
        old_rest, new_rest = old.get("items", True), new.get("items", True)
        for i in range(max(len(old_prefix), len(new_prefix))):
            o = old_prefix[i] if i < len(old_prefix) else old_rest
            n = new_prefix[i] if i < len(new_prefix) else new_rest
            self.subschema(o, n, f"{path}[{i}]")
        self.subschema(old_rest, new_rest, f"{path}[*]")

    def properties(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> None:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        for name, sub in old_props.items():
            if name in new_props:
                new_sub = new_props[name]
                optional = name not in old.get("required", ())
                if (
                    optional
                    and isinstance(sub, Mapping)
                    and isinstance(new_sub, Mapping)
                    and "default" not in sub
                    and "default" in new_sub
                ):
                    # Old documents may lack the field, and the old reader stated no default
                    # (a default_factory): the new one may read them differently.
                    self.report(
                        _child(path, name),
                        DEFAULT_CHANGED,
                        f"absent -> {_show(new_sub['default'])}",
                    )
                self.node(sub, new_sub, _child(path, name))
            else:
                self.report(_child(path, name), FIELD_REMOVED, "no longer a property")
        for name in new.get("required", ()):
            if name not in old.get("required", ()):
                self.report(_child(path, name), NEW_REQUIRED, "old documents may lack it")
        old_extra, new_extra = (
            old.get("additionalProperties", True),
            new.get("additionalProperties", True),
        )
        self.subschema(old_extra, new_extra, f"{path}.*")
        if "propertyNames" in old or "propertyNames" in new:
            names_old = {"type": "string", **old.get("propertyNames", {})}
            names_new = {"type": "string", **new.get("propertyNames", {})}
            self.pair(names_old, names_new, f"{path}.<key>")

    def subschema(self, old: Any, new: Any, path: str) -> None:
        """Compare schemas that may be booleans (``items: false``, ``additionalProperties``)."""
        if new is True or old is False:
            return
        if new is False:
            self.report(path, TIGHTENED, "values here are no longer allowed")
            return
        self.node({} if old is True else old, new, path)


# --- schema helpers -------------------------------------------------------------------------


def _resolve(doc: Mapping[str, Any], node: Any) -> Any:
    seen = 0
    while isinstance(node, Mapping) and "$ref" in node:
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise UnusableInput(f"unsupported $ref {ref!r} (only local '#/...' references)")
        target: Any = doc
        for part in filter(None, ref[1:].split("/")):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, Mapping) or part not in target:
                raise UnusableInput(f"cannot resolve $ref {ref!r}")
            target = target[part]
        node = target
        seen += 1
        if seen > 100:
            raise UnusableInput(f"$ref cycle at {ref!r}")
    if node is True:
        return {}
    if node is False:  # accepts nothing; the caller decides what that means where it stands
        return False
    if not isinstance(node, Mapping):
        raise UnusableInput(f"a schema must be an object or a boolean, got {_show(node)}")
    return node


# What may stand next to $ref or a union without being a constraint of its own.
_NOT_BESIDE = ANNOTATIONS | {"$ref", "anyOf", "oneOf", "discriminator", "default"}


def _beside(node: Any) -> dict[str, Any]:
    """The constraint keywords standing next to a ``$ref`` or a union in ``node``."""
    if not isinstance(node, Mapping) or not ("$ref" in node or "anyOf" in node or "oneOf" in node):
        return {}
    return {name: value for name, value in node.items() if name not in _NOT_BESIDE}


def _alternatives(
    doc: Mapping[str, Any], node: Mapping[str, Any], tag_field: str = "type"
) -> list[_Alt]:
    """Flatten ``anyOf``/``oneOf`` and type lists into alternatives, each with its kind.

    Members of a union with a ``discriminator`` are tagged by its ``propertyName`` (msgspec
    writes one for every tagged union); otherwise by the field ``type``.
    """
    members = node.get("anyOf") or node.get("oneOf")
    if members is not None:
        discriminator = node.get("discriminator")
        if isinstance(discriminator, Mapping):
            tag_field = str(discriminator.get("propertyName", tag_field))
        out: list[_Alt] = []
        for member in members:
            resolved = _resolve(doc, member)
            if resolved is False:  # a member that accepts nothing adds no alternative
                continue
            beside = _beside(member)
            for alt in _alternatives(doc, resolved, tag_field):
                out.append(alt._replace(beside={**alt.beside, **beside}) if beside else alt)
        return out
    if "enum" in node or "const" in node:
        values = list(node["enum"]) if "enum" in node else [node["const"]]
        return [_Alt(("enum", values), node)]
    types = node.get("type")
    if types is None:
        constraints = set(node) - ANNOTATIONS - {"default"}
        if constraints <= {"properties", "required"}:
            tag = _tag(node, tag_field)
            if tag is not None:
                return [_Alt(("tag", tag), node, tag_field)]
        if not constraints:
            return [_Alt(("any", None), node)]
        types = list(_JSON_TYPES)  # constraints without a type apply to their own types
    if isinstance(types, str):
        types = [types]
    alts = []
    for t in types:
        tag = _tag(node, tag_field) if t == "object" else None
        kind = ("tag", tag) if tag is not None else ("type", t)
        alts.append(_Alt(kind, node, tag_field))
    return alts


def _tag(node: Mapping[str, Any], field: str) -> Any:
    """The tag of a tagged object schema: ``properties[field]`` is one required value."""
    prop = node.get("properties", {}).get(field)
    if not isinstance(prop, Mapping) or field not in node.get("required", ()):
        return None
    if "const" in prop:
        return prop["const"]
    enum = prop.get("enum")
    return enum[0] if isinstance(enum, list) and len(enum) == 1 else None


def _admits(alt: _Alt, value: Any) -> bool:
    """Whether alternative ``alt`` accepts the enum value ``value`` (types only)."""
    kind, data = alt.kind
    if kind == "any":
        return True
    if kind == "enum":
        return any(_same(value, v) for v in data)
    if kind == "type":
        return _json_type(value) == data or (data == "number" and _json_type(value) == "integer")
    return False


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _bound(node: Mapping[str, Any], name: str) -> tuple[float, bool] | None:
    """The effective (value, exclusive) lower or upper bound of ``node``."""
    inclusive: float | None = node.get(name)
    exclusive: float | None = node.get("exclusive" + name[0].upper() + name[1:])
    if exclusive is None:
        return None if inclusive is None else (inclusive, False)
    if inclusive is None:
        return (exclusive, True)
    pick = max if name == "minimum" else min
    value = pick(inclusive, exclusive)
    return (value, value == exclusive)


def _neg(bound: tuple[float, bool]) -> tuple[float, bool]:
    """Turn an upper bound into a lower one so that 'greater' means 'tighter' for both."""
    return (-bound[0], bound[1])


def _show_bound(bound: tuple[float, bool] | None) -> str:
    if bound is None:
        return "none"
    return f"{_show(bound[0])} ({'exclusive' if bound[1] else 'inclusive'})"


def _describe(alts: list[_Alt]) -> str:
    kinds = []
    for alt in alts:
        kind, value = alt.kind
        kinds.append(
            {"tag": f"tag {_show(value)}", "type": str(value), "enum": f"enum {_show(value)}"}.get(
                kind, "any"
            )
        )
    return " | ".join(kinds)


def _same(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_same, a, b))
    return bool(a == b) and (isinstance(a, int | float) == isinstance(b, int | float))


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if _IDENT.fullmatch(name) else f"{path}[{json.dumps(name)}]"


# --- round trips against a snapshot ---------------------------------------------------------


def lost_fields(schema: Mapping[str, Any], written: Any, reread: Any) -> list[str]:
    """JSON paths of what a round trip lost: ``written`` is a document valid against
    ``schema`` (an old snapshot), ``reread`` is it after the current code decoded and encoded
    it again. A property missing from ``reread`` counts as lost unless ``written`` held the
    default the schema declares for it (encoders omit defaults). Numbers compare by value.

    :raises UnusableInput: if a ``$ref`` cannot be resolved.
    """
    out: list[str] = []
    _walk_lost(schema, schema, written, reread, "$", out)
    return out


def _walk_lost(
    doc: Mapping[str, Any], node: Any, w: Any, r: Any, path: str, out: list[str]
) -> None:
    alt = _pick(doc, _resolve(doc, node), w)
    if isinstance(w, dict):
        if not isinstance(r, dict):
            out.append(path)
            return
        props = alt.get("properties", {})
        extra = alt.get("additionalProperties", True)
        for key, value in w.items():
            sub = props.get(key, extra if isinstance(extra, Mapping) else {})
            if key in r:
                _walk_lost(doc, sub, value, r[key], _child(path, key), out)
            elif not _is_default(doc, sub, value):
                out.append(_child(path, key))
    elif isinstance(w, list):
        if not isinstance(r, list) or len(r) != len(w):
            out.append(path)
            return
        prefix, rest = alt.get("prefixItems", []), alt.get("items", {})
        for i, (wi, ri) in enumerate(zip(w, r, strict=True)):
            sub = prefix[i] if i < len(prefix) else rest
            _walk_lost(doc, sub if isinstance(sub, Mapping) else {}, wi, ri, f"{path}[{i}]", out)
    elif not _same(w, r):
        out.append(path)


def _pick(doc: Mapping[str, Any], node: Mapping[str, Any], value: Any) -> Mapping[str, Any]:
    """The alternative of ``node`` that describes ``value`` (by tag, else by JSON type)."""
    alts = _alternatives(doc, node)
    if isinstance(value, dict):
        for alt in alts:
            if alt.kind[0] == "tag" and _same(value.get(alt.tag_field), alt.kind[1]):
                return alt.schema
    kind = _json_type(value)
    for alt in alts:
        if alt.kind in (("type", kind), ("type", "number" if kind == "integer" else kind)):
            return alt.schema
    return {}


def _is_default(doc: Mapping[str, Any], node: Any, value: Any) -> bool:
    for candidate in (node, _resolve(doc, node)):
        if isinstance(candidate, Mapping) and "default" in candidate:
            return _same(candidate["default"], value)
    return False


# --- directories and the command line -------------------------------------------------------


def parse_version(text: str) -> tuple[int, ...]:
    """``"0.10"`` -> ``(0, 10)``: release directory names are dotted non-negative integers.

    :raises ValueError: for anything else.
    """
    if not re.fullmatch(r"\d+(\.\d+)*", text):
        raise ValueError(f"not a release version (dotted integers such as 0.1): {text!r}")
    return tuple(int(p) for p in text.split("."))


def latest_release(releases: Path) -> Path:
    """The newest release directory in ``releases`` (by version, so 0.10 is after 0.9).

    :raises UnusableInput: if ``releases`` is missing, holds no release, or holds a directory
        whose name is not a version.
    """
    if not releases.is_dir():
        raise UnusableInput(f"not a directory: {releases}")
    versions = []
    for child in releases.iterdir():
        if child.is_dir() and not child.name.startswith("."):
            try:
                versions.append((parse_version(child.name), child))
            except ValueError as exc:
                raise UnusableInput(f"{child}: {exc}") from None
    if not versions:
        raise UnusableInput(f"no release directories in {releases}")
    return max(versions)[1]


def check(old_dir: Path, new_dir: Path) -> list[Violation]:
    """Compare every ``*.json`` file directly in ``old_dir`` with its namesake in ``new_dir``.

    Files only in ``new_dir`` are new documents, which is allowed.

    :raises UnusableInput: if a directory is missing, ``old_dir`` has no schema files, or a
        file is not a JSON object or has an unresolvable ``$ref``.
    """
    for d in (old_dir, new_dir):
        if not d.is_dir():
            raise UnusableInput(f"not a directory: {d}")
    names = sorted(p.name for p in old_dir.glob("*.json") if p.is_file())
    if not names:
        raise UnusableInput(f"no *.json schema files in {old_dir}")
    out: list[Violation] = []
    for name in names:
        if not (new_dir / name).is_file():
            out.append(Violation(name, "$", DOCUMENT_REMOVED, "no such file in the new directory"))
            continue
        try:
            out.extend(compare(_load(old_dir / name), _load(new_dir / name), name))
        except UnusableInput as exc:
            raise UnusableInput(f"{name}: {exc}") from None
    return out


def _load(path: Path) -> Mapping[str, Any]:
    try:
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise UnusableInput(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise UnusableInput(f"{path}: a schema document must be a JSON object")
    return doc


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m schemas.compat",
        description="Check that NEW JSON Schemas accept everything OLD ones did "
        "(docs/compatibility.md).",
    )
    parser.add_argument("old", type=Path, metavar="OLD_DIR", help="the released schemas")
    parser.add_argument("new", type=Path, metavar="NEW_DIR", help="the schemas to check")
    parser.add_argument(
        "--latest",
        action="store_true",
        help="OLD_DIR holds release directories; compare against the newest",
    )
    args = parser.parse_args(argv)
    try:
        old = latest_release(args.old) if args.latest else args.old
        violations = check(old, args.new)
    except UnusableInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for v in violations:
        print(v)
    if violations:
        print(f"{len(violations)} breaking change(s) from {old} to {args.new}", file=sys.stderr)
        return 1
    print(f"OK: {args.new} is compatible with {old}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
