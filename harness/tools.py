"""Tools an agent calls to read its own history: what it said, where its tokens went, what
it cost.

Each tool is a JSON Schema function definition (:attr:`Tool.parameters`, the shape both the
OpenAI ``tools`` list and MCP's ``inputSchema`` take) and an async handler that reads a
:class:`eventstore.Store` through its public API. The ``basic`` harness offers them to its
model (``convlog chat --tools history``) and ``convlog mcp`` serves them to any MCP client::

    text = await tools.call(store, "list_conversation_events", '{"limit": 5}',
                            conversation_id=current)

- ``list_conversation_events``: one page of a conversation's events, newest first by default,
  each compact: type, version, time, role, a preview of its text (at most
  :data:`PREVIEW_CHARS` characters, never a whole message) and the usage with its cost and
  timing. A page holds at most ``limit`` events (1..200, default 50) and at most
  :data:`MAX_OUTPUT_BYTES` of JSON; ``next_cursor`` and ``next`` say how to fetch the next
  page.
- ``get_conversation_cost``: the persisted totals by model, calls stored without a price
  counted apart (their cost is unknown, never 0), sub-conversations included on request.
  The sums are :mod:`harness.spend`'s, as ``convlog cost --by model`` makes them.

There is no ``search_conversation``: the store offers no search yet.

Outputs are JSON objects, bounded in size whatever the store holds: every string taken from an
event is clipped. A wrong argument raises :class:`ToolError`, one line naming the field, for
the caller to hand back to the model as the tool's error.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, cast

import msgspec

import eventstore
from eventstore import UsageTotals
from schemas import (
    EVENT_TYPES,
    ConversationCreated,
    ConvlogError,
    Custom,
    ErrorEvent,
    ImagePart,
    Message,
    Messages,
    ReasoningPart,
    SchemaError,
    StoredEvent,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    UnknownPart,
    UsageRecord,
)
from schemas.types import check_id

from .spend import by_model

__all__ = (
    "DEFAULT_LIMIT",
    "GET_CONVERSATION_COST",
    "GET_CONVERSATION_COST_PARAMETERS",
    "LIST_CONVERSATION_EVENTS",
    "LIST_CONVERSATION_EVENTS_PARAMETERS",
    "MAX_LIMIT",
    "MAX_MODELS",
    "MAX_OUTPUT_BYTES",
    "PREVIEW_CHARS",
    "SCAN_LIMIT",
    "TOOLS",
    "Arguments",
    "Handler",
    "Tool",
    "ToolError",
    "call",
    "compact_event",
    "compact_usage",
    "error_text",
    "get_conversation_cost",
    "list_conversation_events",
    "tool",
)

#: The largest output of any tool call, in bytes of UTF-8 JSON.
MAX_OUTPUT_BYTES = 65_536
#: The longest preview of an event's text, in characters.
PREVIEW_CHARS = 240
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
#: The most events one ``list_conversation_events`` call reads: a ``kinds`` filter that
#: matches rarely returns a short (even empty) page and a cursor, not a scan of everything.
SCAN_LIMIT = 2000
#: The most models ``get_conversation_cost`` lists, costliest first; the total covers all.
MAX_MODELS = 50

# Strings an event carries besides its text are clipped to these lengths (characters).
_NAME_CHARS = 100
_LONG_CHARS = 160
# Room kept for a page's envelope: the conversation id, the cursor (twice) and the hint.
_ENVELOPE_BYTES = 8192
_ELLIPSIS = "…"

_encode = msgspec.json.encode
_DIRECTIONS: dict[str, eventstore.Direction] = {"newest_first": "desc", "oldest_first": "asc"}
_KINDS = tuple(EVENT_TYPES)

#: A tool's arguments, decoded.
Arguments = Mapping[str, Any]
#: A tool's handler: ``(store, arguments, the caller's conversation or None) -> output``.
Handler = Callable[[eventstore.Store, Arguments, "str | None"], Awaitable[dict[str, Any]]]


class ToolError(ConvlogError):
    """A tool was called with a wrong argument, or on something that does not exist; the
    message is one line naming the argument (``limit: expected an integer 1..200``)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True)
class Tool:
    """A tool: its ``name``, the ``description`` a model reads, the JSON Schema of its
    arguments (``parameters``) and the ``handler`` that runs it on a store."""

    name: str
    description: str
    parameters: dict[str, Any]
    handler: Handler

    def definition(self) -> dict[str, Any]:
        """The tool as an OpenAI Chat Completions ``tools`` entry."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


# --- list_conversation_events -----------------------------------------------------------------


_CONVERSATION_ID = {
    "type": "string",
    "minLength": 1,
    "maxLength": 200,
    "description": "The conversation to read. Omit it for the conversation you are in.",
}

LIST_CONVERSATION_EVENTS_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "conversation_id": _CONVERSATION_ID,
        "kinds": {
            "type": "array",
            "items": {"enum": list(_KINDS)},
            "uniqueItems": True,
            "description": "Only events of these types (all when omitted). 'messages' events "
            "carry the messages and the usage of the model call that wrote them.",
        },
        "limit": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_LIMIT,
            "default": DEFAULT_LIMIT,
            "description": f"At most this many events (1..{MAX_LIMIT}, default {DEFAULT_LIMIT}).",
        },
        "cursor": {
            "type": "string",
            "description": "The next_cursor of the previous page, to continue where it "
            "ended; repeat the same conversation_id, kinds and direction.",
        },
        "direction": {
            "enum": list(_DIRECTIONS),
            "default": "newest_first",
            "description": "newest_first (default) or oldest_first.",
        },
    },
    "additionalProperties": False,
}


async def list_conversation_events(
    store: eventstore.Store, arguments: Arguments, default_conversation: str | None = None
) -> dict[str, Any]:
    """One page of the conversation's events (see the module); ``default_conversation`` is
    the conversation when the arguments name none.

    :raises ToolError: for a wrong argument, a cursor made for another query, or a
        conversation that has no events.
    """
    args = _check_keys(arguments, LIST_CONVERSATION_EVENTS_PARAMETERS)
    conversation_id = _conversation(args, default_conversation)
    kinds = _kinds(args.get("kinds"))
    limit = _int(args.get("limit", DEFAULT_LIMIT), "limit", 1, MAX_LIMIT)
    direction = args.get("direction", "newest_first")
    if direction not in _DIRECTIONS:
        raise ToolError(
            "direction", f"expected newest_first or oldest_first, got {direction!r:.60}"
        )
    query = [conversation_id, direction, sorted(kinds) if kinds is not None else None]
    after = None
    if args.get("cursor") is not None:
        after = _read_cursor(args["cursor"], query)
    summary = await _summary(store, conversation_id)

    events: list[dict[str, Any]] = []
    size = 0
    budget = MAX_OUTPUT_BYTES - _ENVELOPE_BYTES
    handled: int | None = after  # every event up to here, in reading order, is dealt with
    more = False
    scan = _scan(store, conversation_id, _DIRECTIONS[direction], after, summary.version)
    async with aclosing(scan) as scanned:
        async for event in scanned:
            if kinds is None or event.type in kinds:
                compact = compact_event(event)
                grows = len(_encode(compact)) + 1
                if len(events) == limit or size + grows > budget:
                    more = True
                    break
                events.append(compact)
                size += grows
            handled = event.version
        else:
            more = handled is not None and _scan_stopped(handled, direction, summary.version)
    cursor = _write_cursor(query, handled) if more and handled is not None else None
    page: dict[str, Any] = {
        "conversation_id": conversation_id,
        "direction": direction,
        "conversation_events": summary.version,
        "events": events,
        "next_cursor": cursor,
        "next": (
            f"more events: call list_conversation_events with cursor={cursor!r}"
            if cursor is not None
            else "no more events"
        ),
    }
    return page


async def _scan(
    store: eventstore.Store,
    conversation_id: str,
    direction: eventstore.Direction,
    after: int | None,
    head: int,
) -> AsyncGenerator[StoredEvent, None]:
    """The conversation's events after the cursor's version in ``direction``, at most
    :data:`SCAN_LIMIT` of them, read in growing slices so a short page reads few events."""
    if direction == "asc":
        lo, hi = (after or 0) + 1, head
    else:
        lo, hi = 1, (head if after is None else after - 1)
    chunk, scanned = 64, 0
    while lo <= hi and scanned < SCAN_LIMIT:
        take = min(chunk, SCAN_LIMIT - scanned)
        if direction == "asc":
            first, last = lo, min(hi, lo + take - 1)
            lo = last + 1
        else:
            first, last = max(lo, hi - take + 1), hi
            hi = first - 1
        reader = cast(
            "AsyncGenerator[StoredEvent, None]",
            store.read(conversation_id, from_version=first, to_version=last, direction=direction),
        )
        async with aclosing(reader) as events:
            async for event in events:
                scanned += 1
                yield event
        chunk = min(chunk * 4, 1024)


def _scan_stopped(handled: int, direction: str, head: int) -> bool:
    """Whether the scan ended on :data:`SCAN_LIMIT` before the end of the conversation."""
    return handled < head if direction == "oldest_first" else handled > 1


def compact_event(event: StoredEvent) -> dict[str, Any]:
    """An event as ``list_conversation_events`` lists it, every string clipped: its size is
    bounded whatever the event holds."""
    out: dict[str, Any] = {
        "version": event.version,
        "type": _clip(event.type, _NAME_CHARS),
        "time": event.recorded_at.isoformat().replace("+00:00", "Z"),
    }
    data = event.data
    if isinstance(data, Messages):
        if data.messages:
            out["role"] = data.messages[0].role
        if len(data.messages) > 1:
            out["messages"] = len(data.messages)
        chars, preview = _preview(_message_pieces(data.messages))
        out["preview"] = preview
        if chars > PREVIEW_CHARS:
            out["chars"] = chars
        if data.usage is not None:
            out["usage"] = compact_usage(data.usage)
    elif isinstance(data, ErrorEvent):
        chars, preview = _preview(iter([f"{data.error_type or 'error'}: ", data.message]))
        out["preview"] = preview
        if data.status_code is not None:
            out["status_code"] = data.status_code
        if data.duration_ms is not None:
            out["duration_ms"] = data.duration_ms
    elif isinstance(data, ConversationCreated):
        out["preview"] = _clip(data.title or "", PREVIEW_CHARS)
        if data.parent_id is not None:
            out["parent_id"] = data.parent_id
    elif isinstance(data, Custom):
        out["event_type"] = _clip(data.event_type, _NAME_CHARS)
        out["preview"] = _clip(_encode(data.payload).decode(), PREVIEW_CHARS)
    return out


def compact_usage(usage: UsageRecord) -> dict[str, Any]:
    """A call's usage with its persisted cost (``null``: unpriced, unknown) and timing."""
    out: dict[str, Any] = {"model": _clip(usage.model, _NAME_CHARS)}
    if usage.provider is not None:
        out["provider"] = _clip(usage.provider, _NAME_CHARS)
    for name, value in (
        ("prompt_tokens", usage.prompt_tokens),
        ("completion_tokens", usage.completion_tokens),
        ("cached_tokens", usage.prompt_cached_tokens),
        ("cache_creation_tokens", usage.prompt_cache_creation_tokens),
        ("reasoning_tokens", usage.completion_reasoning_tokens),
    ):
        if value is not None:
            out[name] = value
    out["cost_usd"] = usage.cost_usd
    if usage.pricing is not None:
        out["pricing"] = _clip(usage.pricing, _LONG_CHARS)
    for name, value in (("ttft_ms", usage.ttft_ms), ("duration_ms", usage.duration_ms)):
        if value is not None:
            out[name] = value
    return out


def _message_pieces(messages: list[Message]) -> Iterator[str]:
    """The text of ``messages`` in pieces, each message after ``role: `` when there are
    several; tool calls as ``name(arguments)``, other parts as a bracketed word."""
    for i, message in enumerate(messages):
        if i:
            yield " | "
        if len(messages) > 1:
            yield f"{message.role}: "
        content = message.content
        if content is None:
            continue
        if isinstance(content, str):
            yield content
            continue
        for j, part in enumerate(content):
            if j:
                yield " "
            yield from _part_pieces(part)


def _part_pieces(part: Any) -> Iterator[str]:
    if isinstance(part, TextPart):
        yield part.text
    elif isinstance(part, ToolCallPart):
        yield f"{part.name}("
        yield part.arguments
        yield ")"
    elif isinstance(part, ToolResultPart):
        yield "[tool result] "
        if isinstance(part.content, str):
            yield part.content
        else:
            for inner in part.content:
                yield from _part_pieces(inner)
    elif isinstance(part, ReasoningPart):
        yield "[reasoning] "
        yield part.text
    elif isinstance(part, ImagePart):
        yield "[image]"
    elif isinstance(part, UnknownPart):  # a part kept whole (an SDK's item): its JSON
        yield f"[{_clip(part.type or 'part', _NAME_CHARS)}] "
        yield _encode(part.data).decode()
    else:
        yield f"[{_clip(getattr(part, 'type', '') or 'part', _NAME_CHARS)}]"


def _preview(pieces: Iterator[str]) -> tuple[int, str]:
    """The total length of ``pieces`` and their first :data:`PREVIEW_CHARS` characters
    (ending in an ellipsis when cut); no piece is copied past the limit."""
    kept: list[str] = []
    room, total = PREVIEW_CHARS, 0
    for piece in pieces:
        total += len(piece)
        if room > 0:
            kept.append(piece[:room])
            room -= len(kept[-1])
    text = "".join(kept)
    if total > PREVIEW_CHARS:
        text = text[: PREVIEW_CHARS - 1] + _ELLIPSIS
    return total, text


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + _ELLIPSIS


# --- get_conversation_cost --------------------------------------------------------------------


GET_CONVERSATION_COST_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "conversation_id": _CONVERSATION_ID,
        "include_children": {
            "type": "boolean",
            "default": False,
            "description": "Add the cost of its sub-conversations (sub-agents), and theirs.",
        },
    },
    "additionalProperties": False,
}


async def get_conversation_cost(
    store: eventstore.Store, arguments: Arguments, default_conversation: str | None = None
) -> dict[str, Any]:
    """The conversation's persisted cost and tokens, in total and by model (see the module).

    :raises ToolError: for a wrong argument or a conversation that has no events.
    """
    args = _check_keys(arguments, GET_CONVERSATION_COST_PARAMETERS)
    conversation_id = _conversation(args, default_conversation)
    include_children = args.get("include_children", False)
    if type(include_children) is not bool:
        raise ToolError("include_children", f"expected true or false, got {include_children!r:.60}")
    try:
        total, models, conversations = await by_model(
            store, conversation_id, include_children=include_children
        )
    except eventstore.ConversationNotFound:
        raise ToolError("conversation_id", f"no conversation {conversation_id!r}") from None
    rows = sorted(models.items(), key=lambda kv: (-(kv[1].cost_usd or 0.0), -kv[1].calls, kv[0]))
    out: dict[str, Any] = {
        "conversation_id": conversation_id,
        "include_children": include_children,
        "conversations": conversations,
        "total": _totals(total),
        "by_model": [
            {"model": _clip(model, _NAME_CHARS), **_totals(totals)}
            for model, totals in rows[:MAX_MODELS]
        ],
    }
    if len(rows) > MAX_MODELS:
        out["more_models"] = len(rows) - MAX_MODELS
    if total.unpriced_calls:
        out["note"] = (
            f"{total.unpriced_calls} of {total.calls} calls were stored without a price: their "
            "cost is unknown and not in cost_usd, which covers the priced calls only"
        )
    return out


def _totals(totals: UsageTotals) -> dict[str, Any]:
    return {
        "calls": totals.calls,
        "unpriced_calls": totals.unpriced_calls,
        "prompt_tokens": totals.prompt_tokens,
        "completion_tokens": totals.completion_tokens,
        "cached_tokens": totals.prompt_cached_tokens,
        "cache_creation_tokens": totals.prompt_cache_creation_tokens,
        "reasoning_tokens": totals.completion_reasoning_tokens,
        "cost_usd": totals.cost_usd,
    }


# --- the tools --------------------------------------------------------------------------------


LIST_CONVERSATION_EVENTS = Tool(
    name="list_conversation_events",
    description=(
        "List a conversation's events, newest first by default: each with its type, version, "
        "time, role, a short preview of its text, and for model calls the usage: tokens, "
        "cost in USD (null when the call was not priced) and timing. Pages of up to 200 "
        "events; pass next_cursor back for the next page."
    ),
    parameters=LIST_CONVERSATION_EVENTS_PARAMETERS,
    handler=list_conversation_events,
)

GET_CONVERSATION_COST = Tool(
    name="get_conversation_cost",
    description=(
        "Total tokens and cost in USD of a conversation's model calls, overall and by model, "
        "as recorded. Calls recorded without a price are counted apart (unpriced_calls): "
        "their cost is unknown. include_children adds its sub-conversations."
    ),
    parameters=GET_CONVERSATION_COST_PARAMETERS,
    handler=get_conversation_cost,
)

#: Every tool, by the order a model is offered them.
TOOLS: tuple[Tool, ...] = (LIST_CONVERSATION_EVENTS, GET_CONVERSATION_COST)


def tool(name: str) -> Tool:
    """The tool called ``name``.

    :raises ToolError: if there is none.
    """
    for found in TOOLS:
        if found.name == name:
            return found
    raise ToolError("name", f"no tool {name!r}; tools: {', '.join(t.name for t in TOOLS)}")


async def call(
    store: eventstore.Store,
    name: str,
    arguments: str | Arguments | None,
    *,
    conversation_id: str | None = None,
) -> str:
    """Run the tool ``name`` with ``arguments`` (JSON text as a model writes it, or a mapping)
    and return its output as JSON text, at most :data:`MAX_OUTPUT_BYTES` bytes.
    ``conversation_id`` is the conversation the caller is in, for arguments that name none.

    :raises ToolError: for an unknown tool or a wrong argument (:func:`error_text` makes the
        tool result to send back).
    """
    found = tool(name)
    if arguments is None or arguments == "":
        parsed: Arguments = {}
    elif isinstance(arguments, str):
        try:
            parsed = msgspec.json.decode(arguments)
        except msgspec.DecodeError:
            raise ToolError("arguments", "not valid JSON") from None
    else:
        parsed = arguments
    result = await found.handler(store, parsed, conversation_id)
    return _encode(result).decode()


def error_text(exc: ToolError) -> str:
    """The tool result of a call that failed: a JSON object with the one-line ``error``."""
    return _encode({"error": str(exc)}).decode()


# --- arguments --------------------------------------------------------------------------------


def _check_keys(arguments: Any, schema: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(arguments, Mapping):
        raise ToolError("arguments", f"expected a JSON object, got {type(arguments).__name__}")
    for key in arguments:
        if key not in schema["properties"]:
            known = ", ".join(schema["properties"])
            raise ToolError(str(key)[:60], f"unknown argument; arguments: {known}")
    return dict(arguments)


def _conversation(args: Mapping[str, Any], default: str | None) -> str:
    value = args.get("conversation_id", default)
    if value is None:
        raise ToolError("conversation_id", "required (there is no current conversation)")
    try:
        check_id(value, "conversation_id")
    except SchemaError as exc:
        raise ToolError("conversation_id", exc.problem) from None
    return str(value)


def _kinds(value: Any) -> frozenset[str] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise ToolError("kinds", f"expected a list of event types, got {type(value).__name__}")
    for i, kind in enumerate(value):
        if kind not in _KINDS:
            raise ToolError(f"kinds[{i}]", f"expected one of {', '.join(_KINDS)}, got {kind!r:.60}")
    return frozenset(value)


def _int(value: Any, field: str, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise ToolError(field, f"expected an integer {low}..{high}, got {value!r:.60}")
    return value


async def _summary(store: eventstore.Store, conversation_id: str) -> eventstore.ConversationSummary:
    try:
        return await store.get_conversation(conversation_id)
    except eventstore.ConversationNotFound:
        raise ToolError("conversation_id", f"no conversation {conversation_id!r}") from None


# The cursor: URL-safe base64 of [query, version], the query being what it continues.
_cursor_decoder = msgspec.json.Decoder(tuple[list[Any], int])


def _write_cursor(query: list[Any], version: int) -> str:
    return base64.urlsafe_b64encode(_encode((query, version))).decode().rstrip("=")


def _read_cursor(cursor: Any, query: list[Any]) -> int:
    if not isinstance(cursor, str):
        raise ToolError("cursor", f"expected a string, got {type(cursor).__name__}")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        found, version = _cursor_decoder.decode(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, msgspec.DecodeError):
        raise ToolError("cursor", "not a cursor list_conversation_events returned") from None
    if found != query:
        raise ToolError(
            "cursor",
            "made for another conversation_id, kinds or direction; repeat the same ones",
        )
    if not 0 <= version < 1 << 63:
        raise ToolError("cursor", "not a cursor list_conversation_events returned")
    return version
