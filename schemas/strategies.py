"""Hypothesis strategies for every convlog schema type, for your tests and ours.

Needs hypothesis: ``pip install 'convlog[testing]'``. ``import schemas`` never imports this
module; import it explicitly (``from schemas import strategies as cst``).

Every value these strategies draw encodes, decodes back equal and re-encodes to identical
bytes (``encode(decode(encode(x))) == encode(x)``); the document strategies (``*_documents``)
draw ``(raw JSON bytes, the body they must decode to)``. convlog's own property tests draw from
here, so there is one description of "every shape we accept":

- bodies: :func:`conversation_created_bodies`, :func:`messages_bodies`, :func:`error_bodies`,
  :func:`custom_bodies` (typed payloads for registered event types), :func:`bodies` (any of
  them), :func:`unknown_events`;
- parts of a body: :func:`messages` (``Message``), :func:`parts` and one strategy per part
  type, :func:`unknown_parts`, :func:`usage_records` (cost absent, ``0.0`` or positive; zero and
  very large counts);
- documents as older and newer writers produce them: :func:`legacy_documents` (no ``usage``,
  ``"usage": null``, exo-shaped usage with explicit nulls), :func:`future_documents` (fields
  a later version added, anywhere in the body);
- JSON Schema: :func:`from_schema` (values valid against a schema, e.g. a frozen snapshot) and
  :func:`from_struct` (instances of any msgspec Struct, e.g. your custom payload).
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar

import msgspec
from hypothesis import strategies as st

from ._codec import PART_TYPES, encode
from ._custom import custom_payload_types, payload_type_of
from ._events import (
    EVENT_TYPES,
    Body,
    ConversationCreated,
    Custom,
    ErrorEvent,
    Messages,
    UnknownEvent,
)
from ._messages import (
    AnyPart,
    ImagePart,
    Message,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    UnknownPart,
)
from ._schema_strategy import UnsupportedSchema, from_schema, json_values
from ._usage import UsageRecord
from .types import MAX_SAFE_INT

__all__ = (
    "EXO_USAGE_FIELDS",
    "UnsupportedSchema",
    "bodies",
    "conversation_created_bodies",
    "costs",
    "counts",
    "custom_bodies",
    "error_bodies",
    "from_schema",
    "from_struct",
    "future_documents",
    "identifiers",
    "image_parts",
    "json_values",
    "legacy_documents",
    "messages",
    "messages_bodies",
    "parts",
    "reasoning_parts",
    "text_parts",
    "tool_call_parts",
    "tool_result_parts",
    "unknown_events",
    "unknown_parts",
    "usage_records",
)

_T = TypeVar("_T")

#: The usage fields exo's ``UsageRecord`` writes; its events read as ours.
EXO_USAGE_FIELDS = (
    "model",
    "prompt_tokens",
    "completion_tokens",
    "prompt_cached_tokens",
    "prompt_cache_creation_tokens",
    "completion_reasoning_tokens",
    "cost_usd",
    "ttft_ms",
    "duration_ms",
)

# C0, DEL and C1: documents of release 0.1 allow C1 in ids, store arguments do not, and drawn
# ids must serve as both (docs/decisions.md); so too format characters and edge whitespace.
_CONTROL = "".join(map(chr, [*range(0x20), *range(0x7F, 0xA0)]))


def _optional(strategy: st.SearchStrategy[_T]) -> st.SearchStrategy[_T | None]:
    return st.none() | strategy


# --- scalars --------------------------------------------------------------------------------


@functools.cache
def identifiers(*, max_size: int = 200) -> st.SearchStrategy[str]:
    """Ids as the schema and the store accept them (conversation, response, custom event
    type): 1 to ``max_size`` characters of any script, no control characters (C0, DEL, C1),
    no format characters (Cf) and no whitespace at either end; the longest allowed too."""
    chars = st.characters(codec="utf-8", exclude_characters=_CONTROL, exclude_categories=["Cf"])
    return (
        st.text(chars, min_size=1, max_size=max_size)
        | st.text(chars, min_size=max_size, max_size=max_size)
    ).filter(_no_edge_space)


def _no_edge_space(value: str) -> bool:
    return not (value[0].isspace() or value[-1].isspace())


@functools.cache
def counts() -> st.SearchStrategy[int]:
    """Token counts and durations: 0, small, and up to the largest exact JSON integer."""
    return st.sampled_from([0, 1, MAX_SAFE_INT]) | st.integers(0, MAX_SAFE_INT)


@functools.cache
def costs() -> st.SearchStrategy[float]:
    """Costs in USD: ``0.0`` (priced and free) and any finite positive float."""
    return st.just(0.0) | st.floats(min_value=0.0, allow_nan=False, allow_infinity=False)


# --- usage ----------------------------------------------------------------------------------


@functools.cache
def usage_records() -> st.SearchStrategy[UsageRecord]:
    """Every optional field independently absent or present; ``cost_usd`` absent (unpriced),
    ``0.0`` (free) or positive. Parts never exceed their whole where both are present (cache
    reads and writes within ``prompt_tokens``, reasoning within ``completion_tokens``): what
    ``encode`` accepts."""
    text = st.text(max_size=40)
    return st.builds(
        UsageRecord,
        model=st.text(min_size=1, max_size=60),
        provider=_optional(st.sampled_from(["openai", "anthropic", "bedrock", "gemini"]) | text),
        prompt_tokens=_optional(counts()),
        completion_tokens=_optional(counts()),
        prompt_cached_tokens=_optional(counts()),
        prompt_cache_creation_tokens=_optional(counts()),
        prompt_cache_creation_1h_tokens=_optional(counts()),
        completion_reasoning_tokens=_optional(counts()),
        cost_usd=_optional(costs()),
        pricing=_optional(text),
        service_tier=_optional(st.sampled_from(["default", "priority", "flex", "batch"]) | text),
        ttft_ms=_optional(counts()),
        duration_ms=_optional(counts()),
        server_duration_ms=_optional(counts()),
    ).map(_inclusive)


def _inclusive(usage: UsageRecord) -> UsageRecord:
    """``usage`` with each part cut to its whole, where both are present."""
    prompt, completion = usage.prompt_tokens, usage.completion_tokens
    read, written = usage.prompt_cached_tokens, usage.prompt_cache_creation_tokens
    hour, reasoning = usage.prompt_cache_creation_1h_tokens, usage.completion_reasoning_tokens
    if prompt is not None:
        read = None if read is None else min(read, prompt)
        written = None if written is None else min(written, prompt - (read or 0))
    if written is not None and hour is not None:
        hour = min(hour, written)
    if completion is not None and reasoning is not None:
        reasoning = min(reasoning, completion)
    return msgspec.structs.replace(
        usage,
        prompt_cached_tokens=read,
        prompt_cache_creation_tokens=written,
        prompt_cache_creation_1h_tokens=hour,
        completion_reasoning_tokens=reasoning,
    )


# --- content parts --------------------------------------------------------------------------


@functools.cache
def text_parts() -> st.SearchStrategy[TextPart]:
    return st.builds(TextPart, text=st.text())


@functools.cache
def image_parts() -> st.SearchStrategy[ImagePart]:
    """A ``url``, ``data`` or both (``encode`` refuses an image of neither)."""
    return st.builds(
        ImagePart,
        url=_optional(st.text()),
        data=_optional(st.text()),
        media_type=_optional(st.sampled_from(["image/png", "image/jpeg"]) | st.text()),
        detail=_optional(st.sampled_from(["auto", "low", "high"])),
    ).filter(lambda part: part.url is not None or part.data is not None)


@functools.cache
def tool_call_parts() -> st.SearchStrategy[ToolCallPart]:
    # ``arguments`` is whatever text the model produced, valid JSON or not.
    arguments = st.just("{}") | json_values().map(lambda v: msgspec.json.encode(v).decode())
    return st.builds(ToolCallPart, id=st.text(), name=st.text(), arguments=arguments | st.text())


@functools.cache
def reasoning_parts() -> st.SearchStrategy[ReasoningPart]:
    return st.builds(
        ReasoningPart,
        text=st.text(),
        signature=_optional(st.text()),
        encrypted=_optional(st.text()),
        id=_optional(st.text()),
    )


@functools.cache
def unknown_parts() -> st.SearchStrategy[UnknownPart]:
    """Parts of a type this version does not know (a newer writer's), with any fields."""
    tag = st.text(min_size=1, max_size=20).filter(lambda t: t not in PART_TYPES)
    fields = st.dictionaries(st.text(max_size=10).filter(lambda k: k != "type"), json_values())
    return st.builds(lambda t, f: UnknownPart({"type": t, **f}), tag, fields)


@functools.cache
def tool_result_parts(*, with_unknown_parts: bool = True) -> st.SearchStrategy[ToolResultPart]:
    """Tool results whose content is text or a list of parts, nested results included (up
    to three deep), and unknown parts at any depth."""
    leaves: st.SearchStrategy[AnyPart] = st.one_of(
        text_parts(), image_parts(), tool_call_parts(), reasoning_parts()
    )
    if with_unknown_parts:
        leaves = st.one_of(leaves, unknown_parts())

    def results(inner: st.SearchStrategy[Any], size: int) -> st.SearchStrategy[ToolResultPart]:
        return st.builds(
            ToolResultPart,
            tool_call_id=st.text(),
            content=st.text() | st.lists(inner, max_size=size),
            is_error=st.booleans(),
        )

    innermost = results(leaves, 2)
    return results(leaves | results(leaves | innermost, 2), 3)


@functools.cache
def parts(*, with_unknown_parts: bool = True) -> st.SearchStrategy[AnyPart]:
    """Any content part; optionally also parts of types this version does not know."""
    known: st.SearchStrategy[AnyPart] = st.one_of(
        text_parts(),
        image_parts(),
        tool_call_parts(),
        tool_result_parts(with_unknown_parts=with_unknown_parts),
        reasoning_parts(),
    )
    return known | unknown_parts() if with_unknown_parts else known


@functools.cache
def messages(*, with_unknown_parts: bool = True) -> st.SearchStrategy[Message]:
    """Chat messages: content absent, a string, or a (possibly empty) list of parts."""
    content = (
        st.none() | st.text() | st.lists(parts(with_unknown_parts=with_unknown_parts), max_size=3)
    )
    roles = st.sampled_from(["system", "developer", "user", "assistant", "tool"])
    return st.builds(
        Message,
        role=roles | st.text(min_size=1, max_size=64),
        content=content,
        id=_optional(st.text()),
        name=_optional(st.text()),
        tool_call_id=_optional(st.text()),
    )


# --- bodies ---------------------------------------------------------------------------------


@functools.cache
def conversation_created_bodies() -> st.SearchStrategy[ConversationCreated]:
    return st.builds(
        ConversationCreated,
        title=_optional(st.text()),
        parent_id=_optional(identifiers()),
        metadata=st.dictionaries(st.text(max_size=20), st.text(max_size=40), max_size=4),
    )


@functools.cache
def messages_bodies(
    *, usage: bool | None = None, with_unknown_parts: bool = True
) -> st.SearchStrategy[Messages]:
    """``messages`` bodies; ``usage=True``/``False`` forces a usage record present/absent."""
    usages: st.SearchStrategy[UsageRecord | None] = (
        _optional(usage_records()) if usage is None else usage_records() if usage else st.none()
    )
    return st.builds(
        Messages,
        messages=st.lists(messages(with_unknown_parts=with_unknown_parts), max_size=3),
        response_id=_optional(identifiers()),
        usage=usages,
    )


@functools.cache
def error_bodies() -> st.SearchStrategy[ErrorEvent]:
    return st.builds(
        ErrorEvent,
        message=st.text(),
        error_type=_optional(st.text()),
        status_code=_optional(st.integers(100, 599) | st.integers()),
        retryable=_optional(st.booleans()),
        duration_ms=_optional(counts()),
    )


@functools.cache
def from_struct(tp: type[_T], *, max_items: int = 3) -> st.SearchStrategy[_T]:
    """Instances of a msgspec type (a custom payload Struct, say), drawn from its JSON Schema
    with :func:`from_schema`, so constraints in ``msgspec.Meta`` are honoured.

    :raises UnsupportedSchema: as :func:`from_schema`.
    """
    values = from_schema(msgspec.json.schema(tp), max_items=max_items)
    return values.map(lambda v: msgspec.convert(v, tp, str_keys=True))


@functools.cache
def custom_bodies(event_type: str | None = None) -> st.SearchStrategy[Custom]:
    """``custom`` bodies. A registered ``event_type`` gets payloads of its Struct (drawn from
    its JSON Schema); an unregistered one gets any JSON value. Without ``event_type``, draws
    registered types (looked up when drawing) and unregistered random names alike."""

    @st.composite
    def draw_custom(draw: st.DrawFn) -> Custom:
        name = event_type
        if name is None:
            name = draw(_event_types(tuple(sorted(custom_payload_types()))))
        tp = payload_type_of(name)
        payload = draw(json_values() if tp is None else from_struct(tp))
        return Custom(event_type=name, payload=payload)

    return draw_custom()


@functools.cache
def _event_types(registered: tuple[str, ...]) -> st.SearchStrategy[str]:
    unregistered = identifiers().filter(lambda n: n not in registered)
    return st.sampled_from(registered) | unregistered if registered else unregistered


@functools.cache
def bodies(*, with_unknown_parts: bool = True) -> st.SearchStrategy[Body]:
    """Any body of a type this version knows."""
    return st.one_of(
        conversation_created_bodies(),
        messages_bodies(with_unknown_parts=with_unknown_parts),
        error_bodies(),
        custom_bodies(),
    )


@functools.cache
def unknown_events() -> st.SearchStrategy[UnknownEvent]:
    """Bodies of types this version does not know, as a newer writer would store them."""
    tag = st.text(min_size=1, max_size=30).filter(lambda t: t not in EVENT_TYPES)
    fields = st.dictionaries(st.text(max_size=10).filter(lambda k: k != "type"), json_values())
    return st.builds(
        lambda t, f: UnknownEvent(t, msgspec.json.encode({"type": t, **f})), tag, fields
    )


# --- documents from older and newer writers ------------------------------------------------


@functools.cache
def legacy_documents() -> st.SearchStrategy[tuple[bytes, Messages]]:
    """``messages`` documents as earlier writers stored them, with the body each must decode
    to: no ``usage`` key, ``"usage": null``, or an exo-shaped usage (only exo's field names,
    any of them absent or an explicit ``null``)."""

    @st.composite
    def draw_legacy(draw: st.DrawFn) -> tuple[bytes, Messages]:
        body = draw(messages_bodies(usage=False, with_unknown_parts=False))
        doc: dict[str, Any] = msgspec.json.decode(encode(body))
        shape = draw(st.sampled_from(["absent", "null", "exo"]))
        if shape == "absent":
            return msgspec.json.encode(doc), body
        if shape == "null":
            return msgspec.json.encode(_insert(draw, doc, "usage", None)), body
        exo, record = draw(_exo_usage())
        raw = msgspec.json.encode(_insert(draw, doc, "usage", exo))
        return raw, msgspec.structs.replace(body, usage=record)

    return draw_legacy()


@functools.cache
def _exo_usage() -> st.SearchStrategy[tuple[dict[str, Any], UsageRecord]]:
    values: dict[str, st.SearchStrategy[Any]] = {
        name: costs() if name == "cost_usd" else counts() for name in EXO_USAGE_FIELDS[1:]
    }

    @st.composite
    def draw_exo(draw: st.DrawFn) -> tuple[dict[str, Any], UsageRecord]:
        doc: dict[str, Any] = {"model": draw(st.text(min_size=1, max_size=40))}
        for name, strategy in values.items():
            shape = draw(st.sampled_from(["absent", "null", "value"]))
            if shape != "absent":
                doc[name] = None if shape == "null" else draw(strategy)
        # A writer's counts are inclusive: a part within its whole (what encode accepts).
        record = _inclusive(UsageRecord(**{k: v for k, v in doc.items() if v is not None}))
        for name, value in doc.items():
            if value is not None:
                doc[name] = getattr(record, name)
        return doc, record

    return draw_exo()


@functools.cache
def future_documents(
    of: st.SearchStrategy[Body] | None = None,
) -> st.SearchStrategy[tuple[bytes, Body]]:
    """Documents a later version wrote, with the body this version must decode them to.

    Takes bodies of known types from ``of`` (default :func:`bodies`), encodes them, and adds
    fields this version does not know, with any JSON value, at random positions: always on the
    body, and maybe on every message, known part, usage record and typed custom payload.
    Plain-JSON values (metadata, untyped payloads, unknown parts) are left alone: their keys
    are data, not fields.
    """
    source = bodies() if of is None else of

    @st.composite
    def draw_future(draw: st.DrawFn) -> tuple[bytes, Body]:
        body = draw(source)
        doc = msgspec.json.decode(encode(body))
        return msgspec.json.encode(_add_fields(draw, body, doc, at_least_one=True)), body

    return draw_future()


def _add_fields(draw: st.DrawFn, value: Any, doc: Any, *, at_least_one: bool = False) -> Any:
    """Return ``doc`` (the builtins of ``value``) with unknown fields added to every Struct."""
    if isinstance(value, list) and isinstance(doc, list):
        return [_add_fields(draw, v, d) for v, d in zip(value, doc, strict=True)]
    if not (isinstance(value, msgspec.Struct) and isinstance(doc, dict)):
        return doc
    fields = {f.encode_name: f.name for f in msgspec.structs.fields(value)}
    known = set(fields) | {value.__struct_config__.tag_field or ""}
    out = {
        k: _add_fields(draw, getattr(value, fields[k]), v) if k in fields else v
        for k, v in doc.items()
    }
    extra = draw(_extra_fields(frozenset(known), at_least_one))
    for name, extra_value in extra.items():
        out = _insert(draw, out, name, extra_value)
    return out


@functools.cache
def _extra_fields(known: frozenset[str], at_least_one: bool) -> st.SearchStrategy[dict[str, Any]]:
    names = st.text(max_size=12).filter(lambda n: n not in known)
    return st.dictionaries(names, json_values(), min_size=int(at_least_one), max_size=2)


def _insert(draw: st.DrawFn, doc: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """``doc`` with ``key`` inserted at a drawn position (writers order keys as they like)."""
    items = list(doc.items())
    items.insert(draw(st.integers(0, len(items))), (key, value))
    return dict(items)
