"""Encode and decode event bodies: the one codec every backend uses.

The fast path is a single ``msgspec`` decode into the tagged union. Only when that fails do we
look closer, to tell three cases apart: an event type this version does not know (kept as
:class:`UnknownEvent`), a content part type it does not know (kept as :class:`UnknownPart`), and
a genuinely invalid document (:class:`SchemaError` naming the field, the problem and the value).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, get_args

import msgspec

from ._custom import payload_type_of
from ._errors import SchemaError
from ._events import EVENT_TYPES, Body, Custom, Event, Messages, UnknownEvent
from ._messages import ImagePart, Part, TextPart, ToolResultPart, UnknownPart
from ._usage import UsageRecord
from .types import check_utf8

__all__ = ("decode", "encode", "encode_checked")

PART_TYPES: frozenset[str] = frozenset(cls.__struct_config__.tag for cls in get_args(Part))


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, UnknownPart):
        _check_unknown_part(obj.data)
        return obj.data
    raise NotImplementedError(f"cannot encode a value of type {type(obj).__name__}")


def _check_unknown_part(data: Any) -> None:
    """An unknown part must read back as itself: a JSON object whose ``type`` no known part
    class claims (one that did would decode as that class). Paths are from the part."""
    if type(data) is not dict:
        raise SchemaError("$", f"expected a JSON object, got {type(data).__name__}")
    tag = data.get("type")
    if type(tag) is not str:
        raise SchemaError("$.type", f"expected str, got {tag!r:.40}")
    if tag in PART_TYPES:
        raise SchemaError("$.type", f"{tag!r} is a known part type: build its class instead")
    _check_json_value(data, "$")


_encoder = msgspec.json.Encoder(enc_hook=_enc_hook)
_decoder = msgspec.json.Decoder(Event)
_any_decoder = msgspec.json.Decoder()


def encode(body: Body) -> bytes:
    """Encode a body to the JSON bytes the store persists, and validate them.

    Struct constructors check neither types nor constraints, so the encoded bytes are decoded
    once more: what ``encode`` returns is guaranteed to ``decode`` back, and to an equal body.
    A value JSON would store as something else (a float infinity as null, a UUID or datetime
    as a string, an int no float holds exactly in a float field) is refused, not changed. An
    :class:`UnknownEvent` encodes to its raw bytes unchanged.

    :raises SchemaError: if the body violates the schema (the path names the field).
    """
    return encode_checked(body)[0]


def encode_checked(body: Body) -> tuple[bytes, Body]:
    """:func:`encode`, and the body as it reads back from those bytes.

    For store backends and harnesses that keep what they derive from a body (a summary, a
    running total, a cache) and must agree with later readers: derive from the returned body,
    built by the decoder and equal to ``body``, and a reader that decodes the stored bytes
    derives the same. The store folds its summaries from it, as ``replay`` and ``verify`` fold
    what they read. Costs nothing over :func:`encode`, which checks by decoding anyway.

    :raises SchemaError: if the body violates the schema (the path names the field).
    """
    if type(body) is UnknownEvent:
        return _unknown_event_bytes(body), body
    # JSON has no NaN or infinity, and msgspec silently writes null for them. The only float
    # fields are a usage's cost and whatever a custom payload holds.
    if type(body) is Messages and type(body.usage) is UsageRecord:
        cost = body.usage.cost_usd
        # (Not a float at all, say a str: encoded as such, then refused by the decode below.)
        if type(cost) is float and not math.isfinite(cost):
            raise SchemaError("$.usage.cost_usd", f"expected a finite float >= 0, got {cost}")
    elif type(body) is Custom and body.payload is not None:
        if isinstance(body.payload, msgspec.Struct):  # a registered type: its fields decide
            registered = payload_type_of(body.event_type)
            if registered is not type(body.payload):
                raise SchemaError(
                    "$.payload",
                    f"a {type(body.payload).__name__} payload reads back as a plain dict unless "
                    f"it is the type registered for {body.event_type!r} (schemas.register_custom)"
                    + (f"; that is {registered.__name__}" if registered is not None else ""),
                )
            try:
                payload = msgspec.to_builtins(body.payload, enc_hook=_enc_hook, str_keys=True)
            except (TypeError, NotImplementedError) as exc:
                raise SchemaError("$.payload", str(exc)) from None
            _check_json_value(payload, "$.payload")  # its non-finite floats, its strings
        else:
            _check_json_value(body.payload, "$.payload", _REGISTER_HINT)
    try:
        raw = _encoder.encode(body)
    except (TypeError, NotImplementedError) as exc:
        raise _no_json_type(body, exc) from None
    except UnicodeEncodeError:  # a str holding a lone surrogate
        raise _unencodable(body) from None
    except SchemaError as exc:  # from _enc_hook: an unknown part, its path relative to it
        raise _in_unknown_part(body, exc) from None
    except ValueError as exc:  # an int past Python's digit limit for str()
        raise _no_json_type(body, exc) from None
    decoded = decode(raw)
    if type(decoded) is UnknownEvent:
        raise SchemaError("$", f"not an event body: {type(body).__name__}")
    try:
        same = decoded == body
    except InvalidOperation:  # a signaling NaN Decimal in a registered payload
        same = False
    if not same and (changed := _first_change(body, decoded, "$")) is not None:
        raise changed
    check_new(decoded)
    return raw, decoded


def check_new(body: Body, path: str = "$") -> None:
    """Refuse what a new write may not add though stored documents may hold it, so ``decode``
    still reads them: an image part with neither ``url`` nor ``data``, at any depth (an image
    of nothing, which no provider can be sent). ``encode`` applies this; so does the store's
    ``append_raw``, to the bodies it decodes. ``path`` is the body's path in the caller's
    terms.

    Also usage whose parts exceed their whole: cache reads or writes (or both together) past
    ``prompt_tokens``, 1-hour writes past the writes, reasoning past ``completion_tokens``.
    The counts are inclusive, so such a record is impossible; old records holding one still
    read, and pricing calls them ``unpriced:invalid_usage``.

    :raises SchemaError: naming the part (``$.messages[0].content[1]``) or the count
        (``$.usage.prompt_cached_tokens``).
    """
    if type(body) is Messages:
        # On every append: paths are spelled out only where a list of parts must be walked.
        for i, message in enumerate(body.messages):
            if type(message.content) is list:
                _check_new_parts(message.content, f"{path}.messages[{i}].content")
        if body.usage is not None:
            _check_new_usage(body.usage, path)


def _check_new_usage(usage: UsageRecord, path: str) -> None:
    # Runs on every append: the common case decides in a few comparisons, and only a record
    # that fails one is looked at again to name the count.
    prompt, read, written = (
        usage.prompt_tokens, usage.prompt_cached_tokens, usage.prompt_cache_creation_tokens
    )  # fmt: skip
    if prompt is not None and ((read or 0) + (written or 0)) > prompt:
        _name_bad_count(usage, path)
    hour, reasoning = usage.prompt_cache_creation_1h_tokens, usage.completion_reasoning_tokens
    if hour is not None and written is not None and hour > written:
        _name_bad_count(usage, path)
    completion = usage.completion_tokens
    if reasoning is not None and completion is not None and reasoning > completion:
        _name_bad_count(usage, path)


def _name_bad_count(usage: UsageRecord, body_path: str) -> None:
    """Raise the error naming the count of ``usage`` that exceeds its whole."""
    path = f"{body_path}.usage"
    prompt, completion = usage.prompt_tokens, usage.completion_tokens
    read, written = usage.prompt_cached_tokens, usage.prompt_cache_creation_tokens
    for name, part, whole, of in (
        ("prompt_cached_tokens", read, prompt, "prompt_tokens"),
        ("prompt_cache_creation_tokens", written, prompt, "prompt_tokens"),
        ("prompt_cache_creation_1h_tokens", usage.prompt_cache_creation_1h_tokens, written,
         "prompt_cache_creation_tokens"),
        ("completion_reasoning_tokens", usage.completion_reasoning_tokens, completion,
         "completion_tokens"),
    ):  # fmt: skip
        if part is not None and whole is not None and part > whole:
            raise SchemaError(
                f"{path}.{name}",
                f"{part} is more than {of} ({whole}), which counts it (counts are inclusive)",
            )
    if read is not None and written is not None and prompt is not None and read + written > prompt:
        raise SchemaError(
            f"{path}.prompt_cache_creation_tokens",
            f"cache reads ({read}) and writes ({written}) add up to more than prompt_tokens "
            f"({prompt}), which counts both",
        )


def _check_new_parts(content: Any, path: str) -> None:
    if type(content) is not list:
        return
    for j, part in enumerate(content):
        kind = type(part)
        if kind is ImagePart:
            if part.url is None and part.data is None:
                raise SchemaError(f"{path}[{j}]", "an image part needs a url or data, got neither")
        elif kind is ToolResultPart:
            _check_new_parts(part.content, f"{path}[{j}].content")


_ARRAYS = (list, tuple)


def _first_change(given: Any, stored: Any, path: str) -> SchemaError | None:
    """The error for the first value of ``given`` that reads back from its JSON as something
    else (``stored``), or ``None`` if they only differ as a tuple and a list do (either way
    round: a tuple-typed field given a list reads back a tuple)."""
    if isinstance(stored, msgspec.Struct):
        if type(given) is not type(stored):
            return SchemaError(
                path, f"expected {type(stored).__name__}, got {type(given).__name__}"
            )
        for name in stored.__struct_fields__:
            found = _first_change(getattr(given, name), getattr(stored, name), f"{path}.{name}")
            if found is not None:
                return found
        return None
    if type(stored) is UnknownPart and type(given) is UnknownPart:
        return _first_change(given.data, stored.data, path)
    if type(stored) in _ARRAYS and type(given) in _ARRAYS and len(given) == len(stored):
        for i, (g, s) in enumerate(zip(given, stored, strict=True)):
            if (found := _first_change(g, s, f"{path}[{i}]")) is not None:
                return found
        return None
    if type(stored) is dict and type(given) is dict and given.keys() == stored.keys():
        for key, s in stored.items():
            if (found := _first_change(given[key], s, f"{path}.{key}")) is not None:
                return found
        return None
    if type(given) is Decimal and type(stored) is Decimal:
        if given.compare_total(stored) == 0:  # NaN included, which == never matches
            return None
    elif given == stored:
        return None
    return SchemaError(
        path,
        f"got {type(given).__name__} ({given!r:.60}), which JSON would store and read back "
        f"as {_show(stored)}",
    )


def _no_json_type(body: Body, exc: Exception) -> SchemaError:
    """The error for a body holding a value msgspec cannot encode, at that value's path."""
    return SchemaError(_first_path(body, "$", _cannot_encode) or "$", str(exc))


def _cannot_encode(value: Any) -> bool:
    try:
        _encoder.encode(value)
    except (UnicodeEncodeError, SchemaError):  # reported by their own paths
        return False
    except (TypeError, NotImplementedError, ValueError):
        return True
    return False


def _first_path(value: Any, path: str, bad: Callable[[Any], bool]) -> str | None:
    """The path of the first value inside ``value`` (Structs, unknown parts, arrays and
    objects are looked into) for which ``bad`` holds."""
    if isinstance(value, msgspec.Struct):
        items: Any = ((f"{path}.{n}", getattr(value, n)) for n in value.__struct_fields__)
    elif type(value) in _ARRAYS:
        items = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    elif type(value) is dict:
        items = ((f"{path}.{k}", v) for k, v in value.items())
    elif type(value) is UnknownPart:
        return _first_path(value.data, path, bad)
    else:
        return path if bad(value) else None
    for where, item in items:
        if (found := _first_path(item, where, bad)) is not None:
            return found
    return None


# What decoding raises, besides msgspec's own errors, for input that is not JSON text.
_INPUT_ERRORS = (UnicodeDecodeError, UnicodeEncodeError, RecursionError)


def _input_error(exc: Exception, raw: bytes | str, path: str) -> SchemaError:
    if isinstance(exc, UnicodeEncodeError):  # a str holding a lone surrogate
        return SchemaError(path, f"not encodable as UTF-8 at index {exc.start}")
    if isinstance(exc, RecursionError):
        return SchemaError(path, "JSON nested too deeply")
    return SchemaError(path, f"invalid UTF-8 at byte {_bad_utf8_at(raw)}")


def _bad_utf8_at(raw: bytes | str) -> int:
    """Offset of the first invalid UTF-8 byte in the document (msgspec's error counts from the
    start of the string token it was reading)."""
    try:
        bytes(raw, "utf-8", "surrogatepass").decode() if isinstance(raw, str) else raw.decode()
    except UnicodeDecodeError as exc:
        return exc.start
    return 0


def _unknown_event_bytes(body: UnknownEvent) -> bytes:
    """An unknown event's bytes, once they are known to decode back to it."""
    given: Any = body.raw  # typed bytes, but a caller may have built it around a str
    raw = given.encode("utf-8", "surrogatepass") if isinstance(given, str) else bytes(given)
    again = decode(raw)
    if not isinstance(again, UnknownEvent):
        tag = again.__struct_config__.tag
        raise SchemaError("$.type", f"{tag!r} is a known event type: decode the bytes instead")
    if again.type != body.type:
        raise SchemaError("$.type", f"the bytes say {again.type!r}, the event says {body.type!r}")
    return raw


def _in_unknown_part(body: Body, error: SchemaError) -> SchemaError:
    """``error``, raised for an unknown part somewhere in ``body``, with the part's path."""
    assert type(body) is Messages
    for i, message in enumerate(body.messages):
        found = _unknown_part_path(message.content, f"$.messages[{i}].content")
        if found is not None:
            return SchemaError(found + error.path[1:], error.problem)
    return error


def _unknown_part_path(content: Any, path: str) -> str | None:
    if type(content) is not list:
        return None
    for j, part in enumerate(content):
        if isinstance(part, UnknownPart):
            try:
                _check_unknown_part(part.data)
            except SchemaError:
                return f"{path}[{j}]"
        elif isinstance(part, ToolResultPart):
            found = _unknown_part_path(part.content, f"{path}[{j}].content")
            if found is not None:
                return found
    return None


def _unencodable(body: Body) -> SchemaError:
    """The error for a body holding a string UTF-8 cannot encode, naming the first one."""
    try:
        _check_json_value(msgspec.to_builtins(body, enc_hook=_enc_hook, str_keys=True), "$")
    except SchemaError as exc:
        return exc
    return SchemaError("$", "not encodable as UTF-8")  # pragma: no cover - found above


_REGISTER_HINT = "; register a payload type (schemas.register_custom) for other values"


def _check_json_value(value: Any, path: str, hint: str = "") -> None:
    """Refuse what would not be stored, or would read back as something else: strings UTF-8
    cannot encode, non-finite floats (msgspec writes null), and values JSON has no type for
    (msgspec would silently write a set as an array, bytes as base64, a datetime or UUID as a
    string, an int key as a string key; ``hint`` follows that message). A tuple is an array,
    as Python's ``json`` has it (read back as a list)."""
    kind = type(value)
    if kind is str:
        check_utf8(value, path)
    elif kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise SchemaError(
                    path, f"object keys must be str, got {type(key).__name__} {key!r:.40}"
                )
            check_utf8(key, f"{path}.<key>")
            _check_json_value(item, f"{path}.{key}", hint)
    elif kind is list or kind is tuple:
        for i, item in enumerate(value):
            _check_json_value(item, f"{path}[{i}]", hint)
    elif kind is float:
        if not math.isfinite(value):
            raise SchemaError(path, f"expected a finite number, got {value}")
    elif kind is not int and kind is not bool and value is not None:
        raise SchemaError(
            path,
            f"expected a JSON value (dict, list, str, int, float, bool or None), got "
            f"{kind.__name__}{hint}",
        )


def decode(raw: bytes | str, *, path: str = "$") -> Body:
    """Decode JSON bytes into a typed body.

    Unknown fields are ignored; an unknown event ``type`` gives :class:`UnknownEvent`; an
    unknown content part type gives :class:`UnknownPart`. The payload of a ``custom`` event
    whose ``event_type`` is registered (:func:`schemas.register_custom`) is decoded into the
    registered Struct; other payloads stay plain JSON values. ``path`` is the JSON path of the
    document inside whatever holds it (the store passes ``$.data``); error paths start with it.

    :raises SchemaError: if ``raw`` is not valid JSON or not a valid body.
    """
    try:
        body: Event = _decoder.decode(raw)
    except msgspec.ValidationError as exc:  # (a DecodeError subclass: caught first)
        slow: msgspec.ValidationError | None = exc
    except msgspec.DecodeError as exc:
        raise SchemaError(path, _malformed(exc, raw)) from None
    except _INPUT_ERRORS as exc:
        raise _input_error(exc, raw, path) from None
    else:
        slow = None
    if slow is not None:
        try:
            return _decode_slow(raw, slow, path)
        except _INPUT_ERRORS as exc:
            raise _input_error(exc, raw, path) from None
    if type(body) is Custom:
        return _typed_payload(body, path)
    return body


def _typed_payload(body: Custom, root: str) -> Custom:
    """Convert a ``custom`` payload to its registered Struct; leave unregistered ones as JSON."""
    tp = payload_type_of(body.event_type)
    if tp is None:
        return body
    try:
        # The payload came from JSON, so object keys are strings (str_keys) and datetimes,
        # UUIDs and bytes are strings that convert parses exactly as the JSON decoder would.
        payload = msgspec.convert(body.payload, tp, str_keys=True)
    except msgspec.ValidationError as exc:
        raise _schema_error(
            exc, body.payload, f"{root}.payload", lambda p: msgspec.convert(p, tp, str_keys=True)
        ) from None
    return msgspec.structs.replace(body, payload=payload)


def _decode_slow(raw: bytes | str, first: msgspec.ValidationError, root: str) -> Body:
    try:
        tag = _tag_decoder.decode(raw).type
    except msgspec.ValidationError:  # (a DecodeError subclass: caught first)
        tag = None  # not an object, or no string "type": reported below with the document
    except msgspec.DecodeError as exc:  # malformed JSON past the point the typed decode stopped
        raise SchemaError(root, _malformed(exc, raw)) from None
    if isinstance(tag, str) and tag not in EVENT_TYPES:
        # Only the tag is needed to keep an event of a type we do not know, whatever its
        # other fields hold (even numbers no Python value holds).
        return UnknownEvent(tag, raw.encode() if isinstance(raw, str) else bytes(raw))
    try:
        doc = _any_decoder.decode(raw)
    except msgspec.ValidationError:
        # Well-formed JSON that no Python value holds (a number like 1e400): name where it
        # is, not whatever the typed decode stopped at first (an unknown part's type, say).
        raise _out_of_range(raw, root) or _schema_error(first, None, root) from None
    except msgspec.DecodeError as exc:  # malformed past the point the typed decode stopped
        raise SchemaError(root, _malformed(exc, raw)) from None
    if not isinstance(doc, dict):
        raise SchemaError(root, f"expected an event object, got {_json_type(doc)}")
    if "type" not in doc:
        raise SchemaError(f"{root}.type", "required field is missing")
    if not isinstance(doc["type"], str):
        raise SchemaError(f"{root}.type", f"expected str, got {_json_type(doc['type'])}")
    if tag == "messages":
        unknown = _stash_unknown_parts(doc)
        if unknown:
            try:
                body = _decoder.decode(_encoder.encode(doc))
            except msgspec.ValidationError as exc:
                raise _schema_error(exc, doc, root, _validate_document) from None
            assert isinstance(body, Messages)
            for slot, part in unknown:
                _put_back(body, slot, part)
            return body
    raise _schema_error(first, doc, root, _validate_document) from None


def _out_of_range(raw: bytes | str, root: str) -> SchemaError | None:
    """The error naming the first number in ``raw`` that no float holds, if it has one (the
    error path only: the standard library's parser is slow but takes any number)."""
    try:  # numbers as Decimals, whatever their size: msgspec has no such hook for ints
        doc = json.loads(raw, parse_float=Decimal, parse_int=Decimal)
        path = _first_path(doc, root, _past_float)
    except (ValueError, RecursionError):
        return None
    return None if path is None else SchemaError(path, "number out of range for a float")


def _past_float(value: Any) -> bool:
    return type(value) is Decimal and not math.isfinite(float(value))


def _validate_document(doc: Any) -> object:
    return _decoder.decode(_encoder.encode(doc))


class _Tag(msgspec.Struct):
    type: str | None = None


_tag_decoder = msgspec.json.Decoder(_Tag)

# Where an unknown part sat: (message index, part index, part index inside that tool_result's
# content, ...) to any depth.
_Slot = tuple[int, ...]


def _stash_unknown_parts(doc: dict[str, Any]) -> list[tuple[_Slot, UnknownPart]]:
    """Replace unknown parts in ``doc`` by placeholders; return where they were: in each
    message's content and in ``tool_result`` content at any depth."""
    found: list[tuple[_Slot, UnknownPart]] = []
    messages = doc.get("messages")
    if not isinstance(messages, list):
        return found
    for i, message in enumerate(messages):
        if isinstance(message, dict):
            _stash_in(message.get("content"), (i,), found)
    return found


def _stash_in(content: Any, slot: _Slot, found: list[tuple[_Slot, UnknownPart]]) -> None:
    if not isinstance(content, list):
        return
    for j, part in enumerate(content):
        if _is_unknown_part(part):
            found.append(((*slot, j), UnknownPart(part)))
            content[j] = _PLACEHOLDER
        elif isinstance(part, dict) and part.get("type") == "tool_result":
            _stash_in(part.get("content"), (*slot, j), found)


def _put_back(body: Messages, slot: _Slot, part: UnknownPart) -> None:
    """Put ``part`` where its placeholder was decoded (content lists are mutable)."""
    holder: Any = body.messages[slot[0]]
    for index in slot[1:-1]:
        holder = holder.content[index]
    holder.content[slot[-1]] = part


_PLACEHOLDER = msgspec.to_builtins(TextPart(text=""))


def _is_unknown_part(part: Any) -> bool:
    return (
        isinstance(part, dict)
        and isinstance(part.get("type"), str)
        and part["type"] not in PART_TYPES
    )


# msgspec's messages look like "Expected `int` >= 0 - at `$.usage.prompt_tokens`".
_AT = re.compile(r"^(?P<problem>.*?)(?: - at `(?P<path>[^`]*)`)?$", re.DOTALL)
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]*)`$")
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]|\[\.\.\.\]")


def _schema_error(
    exc: msgspec.ValidationError,
    doc: Any,
    root: str,
    validate: Callable[[Any], object] | None = None,
) -> SchemaError:
    m = _AT.match(str(exc))
    assert m is not None  # the pattern matches any string
    problem, path = m["problem"], m["path"] or "$"
    if validate is not None and "[...]" in path:
        path = _name_key(path, doc, validate)
    missing = _MISSING.match(problem)
    if missing:
        return SchemaError(_rebase(f"{path}.{missing['field']}", root), "required field is missing")
    problem = _lower(problem.replace("`", ""))
    found, value = _lookup(doc, path)
    if found:
        # msgspec names the wrong type itself ("expected int, got float"); add the value.
        problem = (
            f"{problem} ({_show(value)})"
            if ", got " in problem
            else f"{problem}, got {_show(value)}"
        )
    return SchemaError(_rebase(path, root), problem)


# Keys of one object tried one at a time to name the bad one; past this many, "[...]" stays.
_KEYS_TRIED = 256


def _name_key(path: str, doc: Any, validate: Callable[[Any], object]) -> str:
    """``path`` with its first ``[...]`` (msgspec's "some value of this object") replaced by
    the key whose value fails: the object is cut down to each entry in turn and the document
    validated again, until the same error comes back. Runs only on the error path."""
    head, _, tail = path.partition("[...]")
    found, mapping = _lookup(doc, head)
    if not found or not isinstance(mapping, dict) or len(mapping) > _KEYS_TRIED:
        return path
    steps = [m.group(1) or int(m.group(2)) for m in _STEP.finditer(head[1:])]
    for key, value in mapping.items():
        try:
            validate(_replaced(doc, steps, {key: value}))
        except msgspec.ValidationError as exc:
            again = _AT.match(str(exc))
            if again is not None and (again["path"] or "").startswith(head + "[...]"):
                return f"{head}.{key}{tail}"
    return path


def _replaced(doc: Any, steps: list[Any], value: Any) -> Any:
    """A copy of ``doc`` with the node at ``steps`` replaced by ``value`` (copying only the
    containers on the way)."""
    if not steps:
        return value
    first, rest = steps[0], steps[1:]
    copy = dict(doc) if isinstance(doc, dict) else list(doc)
    copy[first] = _replaced(doc[first], rest, value)
    return copy


def _rebase(path: str, root: str) -> str:
    return root + path[1:]


def _lookup(doc: Any, path: str) -> tuple[bool, Any]:
    """Follow a msgspec error path (``$.a[0].b``) into ``doc``; (False, None) if it cannot."""
    node = doc
    for m in _STEP.finditer(path[1:]):
        key, index = m.group(1), m.group(2)
        if key is not None and isinstance(node, dict) and key in node:
            node = node[key]
        elif index is not None and isinstance(node, list) and int(index) < len(node):
            node = node[int(index)]
        else:
            return False, None
    return True, node


def _show(value: Any) -> str:
    text = msgspec.json.encode(value).decode()
    return text if len(text) <= 60 else text[:57] + "..."


def _json_type(value: Any) -> str:
    names = {dict: "object", list: "array", str: "str", int: "int", float: "float", bool: "bool"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


# A \uD800-\uDBFF escape (not itself escaped) without the \uDC00-\uDFFF escape it pairs with.
_LONE_HIGH_SURROGATE = re.compile(
    rb"(?:^|[^\\])(?:\\\\)*(\\u[dD][89abAB][0-9a-fA-F]{2})(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
)


def _malformed(exc: msgspec.DecodeError, raw: bytes | str) -> str:
    """The problem of a document msgspec cannot parse, in its words, except where they
    mislead: for a lone high surrogate escape it says the input was truncated."""
    text = _lower(str(exc))
    if text == "input data was truncated":
        data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
        lone = _LONE_HIGH_SURROGATE.search(data)
        if lone is not None:
            return (
                f"JSON is malformed: invalid utf-16 surrogate pair "
                f"({lone.group(1).decode()} at byte {lone.start(1)} is not followed by a low "
                "surrogate)"
            )
    return text


def _lower(text: str) -> str:
    """Lower-case a message's first letter, but leave acronyms (``JSON``) alone."""
    if text[1:2].isupper():
        return text
    return text[:1].lower() + text[1:]
