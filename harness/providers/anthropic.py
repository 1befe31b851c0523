"""Anthropic Messages (and Claude on Vertex AI): usage, the assistant message, and history as
a request's ``system`` and ``messages``.

Field names from Anthropic's API reference ("Messages": the message object, its ``usage``,
content blocks, and "Streaming messages" for the event types) and the ``anthropic`` SDK's
types (``Usage``, ``MessageDeltaUsage``, ``OutputTokensDetails``).

Anthropic counts cache reads and cache writes *beside* ``input_tokens``; convlog stores
inclusive counts, so :func:`usage_from_anthropic` adds them up once, here. Claude on Vertex AI
returns the same body (:func:`usage_from_vertex_anthropic`).

    request = to_anthropic_request(history)
    response = client.messages.create(model=..., max_tokens=1024, **request)
    reply, usage = message_from_anthropic(response), usage_from_anthropic(response)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NotRequired, TypedDict

import msgspec

from schemas import (
    AnyPart,
    ImagePart,
    Message,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    UnknownPart,
    UsageRecord,
)

from ._common import (
    Content,
    JSONObject,
    StreamAccumulator,
    add_counts,
    arguments_object,
    as_object,
    cannot_carry,
    foreign,
    get_count,
    get_list,
    get_object,
    get_str,
    inline_image,
    json_text,
    message,
    model_of,
    parts_of,
    reasoning_from_thinking,
    split_usage,
    streamed_arguments,
    thinking_from_reasoning,
    tool_result,
)

__all__ = (
    "AnthropicRequest",
    "AnthropicStream",
    "message_from_anthropic",
    "messages_from_anthropic",
    "to_anthropic_request",
    "usage_from_anthropic",
    "usage_from_vertex_anthropic",
)

#: Anthropic's ``usage.service_tier`` spelling -> ours.
_TIERS = {"standard": "default"}
_RESPONSE_KEYS = ("content", "role", "model", "id", "type")


# --- usage ----------------------------------------------------------------------------------


def usage_from_anthropic(
    obj: object,
    *,
    model: str | None = None,
    provider: str = "anthropic",
    service_tier: str | None = None,
) -> UsageRecord:
    """A :class:`UsageRecord` from a ``Message``, a ``message_start`` or ``message_delta``
    event, a ``Usage`` or ``MessageDeltaUsage`` block, or their JSON.

    ``input_tokens`` + ``cache_read_input_tokens`` + ``cache_creation_input_tokens`` is the
    inclusive prompt; ``cache_creation.ephemeral_1h_input_tokens`` the 1-hour share of the
    writes; ``output_tokens`` (thinking included) the completion, and
    ``output_tokens_details.thinking_tokens`` its reasoning share. A count the block does
    not carry stays absent: a ``message_delta`` usage without ``input_tokens`` gives no
    ``prompt_tokens`` (:class:`AnthropicStream` combines it with ``message_start``'s).
    ``model`` is used when ``obj`` echoes none; ``service_tier`` defaults to the block's own
    (``standard`` is ``default``).

    :raises ValueError: if a count is not an integer >= 0, there is no count at all, or no
        model.
    """
    data = as_object(obj, "usage")
    if data.get("type") == "message_start" and isinstance(data.get("message"), dict):
        data = data["message"]
    block, response = split_usage(data, "usage", _RESPONSE_KEYS)
    echoed = response.get("model") if response is not None else None
    fresh = get_count(block, "input_tokens", "usage.")
    read = get_count(block, "cache_read_input_tokens", "usage.")
    written = get_count(block, "cache_creation_input_tokens", "usage.")
    output = get_count(block, "output_tokens", "usage.")
    if fresh is None and output is None:
        raise ValueError("usage has neither input_tokens nor output_tokens")
    breakdown = get_object(block, "cache_creation", "usage.")
    written_1h = None
    if breakdown is not None:
        where = "usage.cache_creation."
        written_5m = get_count(breakdown, "ephemeral_5m_input_tokens", where)
        written_1h = get_count(breakdown, "ephemeral_1h_input_tokens", where)
        if written is None and (written_5m is not None or written_1h is not None):
            written = add_counts("usage.cache_creation", written_5m, written_1h)
    details = get_object(block, "output_tokens_details", "usage.")
    tier = service_tier if service_tier is not None else get_str(block, "service_tier", "usage.")
    return UsageRecord(
        model=model_of(echoed, model),
        provider=provider,
        prompt_tokens=None if fresh is None else add_counts("usage", fresh, read, written),
        completion_tokens=output,
        prompt_cached_tokens=read,
        prompt_cache_creation_tokens=written,
        prompt_cache_creation_1h_tokens=written_1h,
        completion_reasoning_tokens=get_count(
            details, "thinking_tokens", "usage.output_tokens_details."
        ),
        service_tier=_TIERS.get(tier, tier) if tier is not None else None,
    )


def usage_from_vertex_anthropic(
    obj: object, *, model: str | None = None, service_tier: str | None = None
) -> UsageRecord:
    """:func:`usage_from_anthropic` for Claude on Vertex AI (same body, provider ``vertex_ai``)."""
    return usage_from_anthropic(obj, model=model, provider="vertex_ai", service_tier=service_tier)


# --- provider -> Message --------------------------------------------------------------------


def message_from_anthropic(response: object) -> Message:
    """The assistant :class:`Message` of a ``Message`` response (or its JSON).

    ``text`` -> text part; ``tool_use`` -> tool call (``input`` as compact JSON text);
    ``thinking`` -> reasoning with its ``signature``; ``redacted_thinking`` -> reasoning whose
    ``encrypted`` is the ``data``; any other block (server tool use and results, ...) is kept
    whole as an unknown part and sent back as it came.

    :raises ValueError: if a block has the wrong shape.
    """
    data = as_object(response, "response")
    if data.get("type") == "message_start" and isinstance(data.get("message"), dict):
        data = data["message"]
    return message("assistant", _read_blocks(data.get("content"), "content"))


def _read_blocks(content: object, where: str) -> Content:
    if content is None or isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise ValueError(f"{where} must be a string or a list")
    return [_read_block(block, f"{where}[{i}]") for i, block in enumerate(content)]


def _read_block(raw: object, where: str) -> AnyPart:
    block = as_object(raw, where)
    kind = block.get("type")
    at = f"{where}."
    if kind == "text":
        return TextPart(text=get_str(block, "text", at) or "")
    if kind == "image":
        return _read_image(get_object(block, "source", at) or {}, f"{at}source")
    if kind == "tool_use":
        return ToolCallPart(
            id=get_str(block, "id", at) or "",
            name=get_str(block, "name", at) or "",
            arguments=json_text(block.get("input") or {}),
        )
    if kind == "tool_result":
        return tool_result(
            get_str(block, "tool_use_id", at) or "",
            _read_blocks(block.get("content"), f"{at}content"),
            is_error=block.get("is_error") is True,
        )
    reasoning = reasoning_from_thinking(block, where)
    if reasoning is not None:
        return reasoning
    return foreign(block, where)


def _read_image(source: JSONObject, where: str) -> ImagePart:
    kind = source.get("type")
    if kind == "base64":
        return ImagePart(
            data=get_str(source, "data", f"{where}.") or "",
            media_type=get_str(source, "media_type", f"{where}."),
        )
    if kind == "url":
        return ImagePart(url=get_str(source, "url", f"{where}.") or "")
    raise ValueError(f"{where}: image source of type {kind!r} has no image part shape")


def messages_from_anthropic(request: Mapping[str, Any] | Sequence[object]) -> list[Message]:
    """A request's ``system`` and ``messages`` (what :func:`to_anthropic_request` writes, or
    a logged request; a bare ``messages`` list too) as :class:`Message`\\ s, the system
    prompt first.

    :raises ValueError: naming the message and block that has the wrong shape.
    """
    out: list[Message] = []
    if isinstance(request, Mapping):
        system = request.get("system")
        if system is not None:
            out.append(message("system", _read_blocks(_system_blocks(system), "system")))
        items = get_list(dict(request), "messages", "")
    else:
        items = list(request)
    for i, raw in enumerate(items):
        where = f"messages[{i}]"
        item = as_object(raw, where)
        role = get_str(item, "role", f"{where}.") or "user"
        out.append(message(role, _read_blocks(item.get("content"), f"{where}.content")))
    return out


def _system_blocks(value: object) -> object:
    """A ``system`` value as JSON: a string stays one, blocks become dicts."""
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return [as_object(v, "system") for v in value]
    raise ValueError(f"system must be a string or a list, got {type(value).__name__}")


# --- Message -> provider --------------------------------------------------------------------


class AnthropicRequest(TypedDict):
    """The history part of a Messages request: spread it into ``client.messages.create``."""

    messages: list[JSONObject]
    system: NotRequired[str | list[JSONObject]]


def to_anthropic_request(messages: Sequence[Message]) -> AnthropicRequest:
    """``messages`` as a Messages request's ``messages`` and, when there are system (or
    developer) messages, its ``system``: a string for one text system message, else text
    blocks in order.

    A ``tool`` message becomes a ``tool_result`` block in a user message (consecutive ones
    share it). Tool-call arguments must be a JSON object. Reasoning with ``encrypted`` data
    becomes ``redacted_thinking``, other reasoning ``thinking`` with its signature; a reasoning
    part's ``id`` has no place here and is not sent.

    :raises ValueError: naming the message and part Anthropic cannot carry.
    """
    system: list[Message] = []
    out: list[JSONObject] = []
    for i, m in enumerate(messages):
        where = f"messages[{i}]"
        if m.role in ("system", "developer"):
            system.append(m)
        elif m.role == "tool":
            result = _write_result(m.tool_call_id or "", m.content, False, where)
            last = out[-1] if out else None
            if last is not None and last["role"] == "user" and _all_results(last["content"]):
                last["content"].append(result)
            else:
                out.append({"role": "user", "content": [result]})
        elif m.role in ("user", "assistant"):
            out.append({"role": m.role, "content": _write_content(m.content, f"{where}.content")})
        else:
            raise ValueError(f"{where}: role {m.role!r} has no place in Anthropic's messages")
    request = AnthropicRequest(messages=out)
    if len(system) == 1 and isinstance(system[0].content, str):
        request["system"] = system[0].content
    elif system:
        request["system"] = [
            _write_system(part, f"system[{j}]")
            for j, part in enumerate(p for m in system for p in parts_of(m.content))
        ]
    return request


def _all_results(content: object) -> bool:
    return (
        isinstance(content, list)
        and bool(content)
        and all(b.get("type") == "tool_result" for b in content)
    )


def _write_system(part: AnyPart, where: str) -> JSONObject:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    raise cannot_carry(part, where, "Anthropic's system prompt")


def _write_content(content: object, where: str) -> Any:
    if content is None or isinstance(content, str):
        return content or ""
    assert isinstance(content, list)
    return [_write_block(part, f"{where}[{j}]") for j, part in enumerate(content)]


def _write_result(call_id: str, content: object, is_error: bool, where: str) -> JSONObject:
    result: JSONObject = {"type": "tool_result", "tool_use_id": call_id}
    result["content"] = _write_content(content, f"{where}.content")
    if is_error:
        result["is_error"] = True
    return result


def _write_block(part: AnyPart, where: str) -> Any:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, ImagePart):
        inline = inline_image(part, where)
        if inline is None:
            return {"type": "image", "source": {"type": "url", "url": part.url}}
        media_type, data = inline
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": media_type, "data": data},
        }
    if isinstance(part, ToolCallPart):
        return {
            "type": "tool_use",
            "id": part.id,
            "name": part.name,
            "input": arguments_object(part, where),
        }
    if isinstance(part, ToolResultPart):
        return _write_result(part.tool_call_id, part.content, part.is_error, where)
    if isinstance(part, ReasoningPart):
        return thinking_from_reasoning(part, where)
    if isinstance(part, UnknownPart):
        return part.data
    raise cannot_carry(part, where)


# --- streaming ------------------------------------------------------------------------------


class AnthropicStream(StreamAccumulator):
    """A streamed message, event by event (the SDK's ``RawMessageStreamEvent``\\ s or their
    JSON; the helper events of ``client.messages.stream`` are ignored, so its iterator can be
    fed whole).

    Usage: ``message_start`` carries the input counts; each ``message_delta`` carries
    *cumulative* counts, so the latest value of each field replaces the earlier one (never
    added). ``feed`` returns ``True`` at the first text, thinking or tool-use block.
    """

    def __init__(
        self, *, provider: str = "anthropic", clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(clock=clock)
        self._provider = provider
        self.response_id: str | None = None
        self.model: str | None = None
        self.stop_reason: str | None = None
        self._usage: JSONObject = {}
        self._blocks: dict[int, JSONObject] = {}
        self._json: dict[int, list[str]] = {}

    def feed(self, event: object) -> bool:
        """Take one event. Returns ``True`` when it is the first to carry content.

        :raises ValueError: if the event has the wrong shape.
        """
        waiting = self.first_content_at is None
        data = as_object(event, "event")
        kind = data.get("type")
        if kind == "message_start":
            start = get_object(data, "message", "event.") or {}
            self.response_id = get_str(start, "id", "message.")
            self.model = get_str(start, "model", "message.")
            self._merge_usage(get_object(start, "usage", "message.") or {})
            for i, block in enumerate(get_list(start, "content", "message.")):
                self._start(i, as_object(block, "content"))
        elif kind == "content_block_start":
            self._start(
                data.get("index", len(self._blocks)), get_object(data, "content_block", "") or {}
            )
        elif kind == "content_block_delta":
            self._delta(data.get("index", 0), get_object(data, "delta", "") or {})
        elif kind == "message_delta":
            delta = get_object(data, "delta", "") or {}
            self.stop_reason = get_str(delta, "stop_reason", "delta.") or self.stop_reason
            self._merge_usage(get_object(data, "usage", "") or {})
        return waiting and self.first_content_at is not None

    def _merge_usage(self, usage: JSONObject) -> None:
        # Cumulative counts: the latest non-null value of each field wins.
        self._usage.update({k: v for k, v in usage.items() if v is not None})

    def _start(self, index: int, block: JSONObject) -> None:
        block = dict(block)
        self._blocks[index] = block
        kind = block.get("type")
        if kind in ("tool_use", "server_tool_use") or block.get("text") or block.get("thinking"):
            self._content_arrived()

    def _delta(self, index: int, delta: JSONObject) -> None:
        block = self._blocks.setdefault(index, {"type": "text", "text": ""})
        kind = delta.get("type")
        for field, key in (("text_delta", "text"), ("thinking_delta", "thinking")):
            if kind == field:
                piece = get_str(delta, key, "delta.") or ""
                block[key] = (block.get(key) or "") + piece
                if piece:
                    self._content_arrived()
        if kind == "signature_delta":
            block["signature"] = (block.get("signature") or "") + (
                get_str(delta, "signature", "delta.") or ""
            )
        elif kind == "input_json_delta":
            self._json.setdefault(index, []).append(get_str(delta, "partial_json", "delta.") or "")

    def message(self) -> Message:
        """The assistant message streamed so far, as :func:`message_from_anthropic` reads a
        whole one (tool-call arguments assembled from their JSON pieces)."""
        parts: list[AnyPart] = []
        for index, block in sorted(self._blocks.items()):
            where = f"content[{index}]"
            if block.get("type") == "tool_use" and index in self._json:
                arguments = streamed_arguments("".join(self._json[index]))
                part = _read_block(block, where)
                assert isinstance(part, ToolCallPart)
                parts.append(ToolCallPart(id=part.id, name=part.name, arguments=arguments))
            elif index in self._json:  # a server tool's input, streamed the same way
                pieces = "".join(self._json[index])
                parts.append(_read_block({**block, "input": _object_or_text(pieces)}, where))
            else:
                parts.append(_read_block(block, where))
        return message("assistant", parts)

    def usage(self, *, model: str | None = None) -> UsageRecord:
        """``message_start``'s usage updated by the latest ``message_delta`` counts.

        :raises ValueError: if no event carried usage, or a count is bad.
        """
        if not self._usage:
            raise ValueError("the stream carried no usage (no message_start or message_delta)")
        return usage_from_anthropic(
            {"usage": self._usage, "model": self.model or model},
            model=model,
            provider=self._provider,
        )


def _object_or_text(text: str) -> object:
    try:
        return msgspec.json.decode(text or "{}")
    except msgspec.DecodeError:
        return text
