"""Amazon Bedrock Converse (``Converse`` and ``ConverseStream``): usage, the output message,
and history as a request's ``messages`` and ``system``.

Field names from the Amazon Bedrock API reference (``Converse``: ``ConverseOutput``,
``TokenUsage``, ``ConverseMetrics``, ``ContentBlock`` and its members; ``ConverseStream``: its
event members). boto3 hands the response as a dict with raw ``bytes`` for images and
redacted reasoning; the HTTP API's JSON has base64 text there. Both are read.

Bedrock counts cache reads and writes *beside* ``inputTokens`` (as Anthropic does); the
usage here is made inclusive once. ``metrics.latencyMs`` is the server's duration. Bedrock
does not echo the model id: pass the ``modelId`` you called as ``model``.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NotRequired, TypedDict

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
    b64decode,
    b64text,
    cannot_carry,
    get_count,
    get_list,
    get_object,
    get_str,
    inline_image,
    json_text,
    keyed_block,
    keyed_unknown,
    message,
    model_of,
    parts_of,
    redacted_data,
    split_usage,
    streamed_arguments,
    tool_result,
)

__all__ = (
    "BedrockRequest",
    "BedrockStream",
    "message_from_bedrock_converse",
    "messages_from_bedrock_converse",
    "to_bedrock_converse_request",
    "usage_from_bedrock_converse",
)

_RESPONSE_KEYS = ("output", "stopReason", "metrics")
#: Image ``format`` values Bedrock accepts, by media type.
_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif", "image/webp": "webp"}


# --- usage ----------------------------------------------------------------------------------


def usage_from_bedrock_converse(
    obj: object, *, model: str | None = None, service_tier: str | None = None
) -> UsageRecord:
    """A :class:`UsageRecord` from a Converse response, a ``ConverseStream`` ``metadata``
    event, or a ``usage`` (``TokenUsage``) block.

    ``inputTokens`` + ``cacheReadInputTokens`` + ``cacheWriteInputTokens`` is the inclusive
    prompt; the ``cacheDetails`` entries with ``ttl`` ``1h`` are the 1-hour share of the
    writes. Bedrock does not split reasoning out of ``outputTokens``. ``metrics.latencyMs``,
    when present, is ``server_duration_ms``.

    :raises ValueError: if a count is not an integer >= 0, there is no count, or no model.
    """
    data = as_object(obj, "usage")
    if isinstance(data.get("metadata"), dict):  # a ConverseStream metadata event
        data = data["metadata"]
    block, response = split_usage(data, "usage", _RESPONSE_KEYS)
    fresh = get_count(block, "inputTokens", "usage.")
    output = get_count(block, "outputTokens", "usage.")
    if fresh is None and output is None:
        raise ValueError("usage has neither inputTokens nor outputTokens")
    read = get_count(block, "cacheReadInputTokens", "usage.")
    written = get_count(block, "cacheWriteInputTokens", "usage.")
    written_1h = None
    by_ttl: dict[str, int] = {}
    for i, raw in enumerate(get_list(block, "cacheDetails", "usage.")):
        where = f"usage.cacheDetails[{i}]"
        detail = as_object(raw, where)
        tokens = get_count(detail, "inputTokens", f"{where}.")
        if tokens is None:
            raise ValueError(f"{where}.inputTokens is missing")
        ttl = str(detail.get("ttl"))
        by_ttl[ttl] = add_counts(where, by_ttl.get(ttl), tokens)
    if "1h" in by_ttl:
        written_1h = by_ttl["1h"]
    if written is None and by_ttl:
        written = add_counts("usage.cacheDetails", *by_ttl.values())
    metrics = get_object(response, "metrics", "") if response is not None else None
    return UsageRecord(
        model=model_of(None, model),
        provider="bedrock",
        prompt_tokens=None if fresh is None else add_counts("usage", fresh, read, written),
        completion_tokens=output,
        prompt_cached_tokens=read,
        prompt_cache_creation_tokens=written,
        prompt_cache_creation_1h_tokens=written_1h,
        service_tier=service_tier,
        server_duration_ms=get_count(metrics, "latencyMs", "metrics."),
    )


# --- provider -> Message --------------------------------------------------------------------


def message_from_bedrock_converse(response: object) -> Message:
    """The assistant :class:`Message` of a Converse response (``output.message``), or of a
    message, as boto3's dict or JSON.

    ``text`` -> text; ``image`` -> image (bytes as base64 ``data``, an S3 location as
    ``url``); ``toolUse`` -> tool call (``input`` as compact JSON text); ``reasoningContent``
    -> reasoning (``reasoningText`` with its signature, or ``redactedContent`` as
    ``encrypted``); any other block is kept whole as an unknown part.

    :raises ValueError: if a block has the wrong shape.
    """
    data = as_object(response, "response")
    output = get_object(data, "output", "")
    if output is not None:
        data = get_object(output, "message", "output.") or {}
    return message("assistant", _read_blocks(get_list(data, "content", "message."), "content"))


def _read_blocks(blocks: list[Any], where: str) -> list[AnyPart]:
    return [
        _read_block(as_object(b, f"{where}[{i}]"), f"{where}[{i}]") for i, b in enumerate(blocks)
    ]


def _read_block(block: JSONObject, where: str) -> AnyPart:
    kind = next(iter(block), "") if len(block) == 1 else ""
    value = block.get(kind)
    at = f"{where}.{kind}"
    if kind == "text" and isinstance(value, str):
        return TextPart(text=value)
    if kind == "image" and isinstance(value, dict):
        return _read_image(value, at)
    if kind == "toolUse" and isinstance(value, dict):
        return ToolCallPart(
            id=get_str(value, "toolUseId", f"{at}.") or "",
            name=get_str(value, "name", f"{at}.") or "",
            arguments=json_text(value.get("input") or {}),
        )
    if kind == "toolResult" and isinstance(value, dict):
        return _read_result(value, at)
    if kind == "reasoningContent" and isinstance(value, dict):
        text = get_object(value, "reasoningText", f"{at}.")
        if text is not None:
            return ReasoningPart(
                text=get_str(text, "text", f"{at}.reasoningText.") or "",
                signature=get_str(text, "signature", f"{at}.reasoningText."),
            )
        if "redactedContent" in value:
            return ReasoningPart(
                encrypted=b64text(value["redactedContent"], f"{at}.redactedContent")
            )
    if not kind:
        raise ValueError(
            f"{where}: a content block must have exactly one member, got {sorted(block)}"
        )
    return keyed_unknown(block, "bedrock", kind)


def _read_image(image: JSONObject, where: str) -> AnyPart:
    source = get_object(image, "source", f"{where}.") or {}
    image_format = get_str(image, "format", f"{where}.")
    media_type = f"image/{image_format}" if image_format else None
    if "bytes" in source:
        return ImagePart(
            data=b64text(source["bytes"], f"{where}.source.bytes"), media_type=media_type
        )
    location = get_object(source, "s3Location", f"{where}.source.")
    if location is not None and set(location) == {"uri"}:
        return ImagePart(
            url=get_str(location, "uri", f"{where}.source.s3Location."), media_type=media_type
        )
    return keyed_unknown({"image": image}, "bedrock", "image")


def _read_result(result: JSONObject, where: str) -> ToolResultPart:
    blocks = get_list(result, "content", f"{where}.")
    content: Content
    if len(blocks) == 1 and isinstance(blocks[0], dict) and set(blocks[0]) == {"text"}:
        content = get_str(blocks[0], "text", f"{where}.content[0].") or ""
    else:
        content = _read_blocks(blocks, f"{where}.content")
    return tool_result(
        get_str(result, "toolUseId", f"{where}.") or "",
        content,
        is_error=result.get("status") == "error",
    )


def messages_from_bedrock_converse(request: Mapping[str, Any] | Sequence[object]) -> list[Message]:
    """A request's ``system`` and ``messages`` (what :func:`to_bedrock_converse_request`
    writes, or a logged request; a bare ``messages`` list too) as :class:`Message`\\ s.

    :raises ValueError: naming the message and block that has the wrong shape.
    """
    out: list[Message] = []
    if isinstance(request, Mapping):
        system = request.get("system")
        if system is not None:
            out.append(message("system", _read_blocks(list(system), "system")))
        items = list(request.get("messages") or [])
    else:
        items = list(request)
    for i, raw in enumerate(items):
        where = f"messages[{i}]"
        item = as_object(raw, where)
        role = get_str(item, "role", f"{where}.") or "user"
        out.append(
            message(role, _read_blocks(get_list(item, "content", f"{where}."), f"{where}.content"))
        )
    return out


# --- Message -> provider --------------------------------------------------------------------


class BedrockRequest(TypedDict):
    """The history part of a Converse request: spread it into ``client.converse``."""

    messages: list[JSONObject]
    system: NotRequired[list[JSONObject]]


def to_bedrock_converse_request(
    messages: Sequence[Message], *, binary: bool = True
) -> BedrockRequest:
    """``messages`` as a Converse request's ``messages`` and, when there are system (or
    developer) messages, its ``system`` blocks.

    Image data and redacted reasoning are raw ``bytes`` for boto3 (``binary=True``), or
    base64 text for the HTTP API's JSON. A ``tool`` message becomes a ``toolResult`` block in a
    user message (consecutive ones share it). Images need a media type Bedrock knows (png,
    jpeg, gif, webp) and data or an ``s3://`` URL; tool-call arguments must be a JSON object.

    :raises ValueError: naming the message and part Bedrock cannot carry.
    """
    writer = _Writer(binary)
    system: list[JSONObject] = []
    out: list[JSONObject] = []
    for i, m in enumerate(messages):
        where = f"messages[{i}]"
        parts = parts_of(m.content)
        if m.role in ("system", "developer"):
            system.extend(writer.block(p, f"{where}.content[{j}]") for j, p in enumerate(parts))
        elif m.role == "tool":
            result = writer.result(m.tool_call_id or "", m.content, False, where)
            last = out[-1] if out else None
            if (
                last is not None
                and last["role"] == "user"
                and all("toolResult" in b for b in last["content"])
            ):
                last["content"].append(result)
            else:
                out.append({"role": "user", "content": [result]})
        elif m.role in ("user", "assistant"):
            content = [writer.block(p, f"{where}.content[{j}]") for j, p in enumerate(parts)]
            out.append({"role": m.role, "content": content})
        else:
            raise ValueError(f"{where}: role {m.role!r} has no place in Bedrock's messages")
    request = BedrockRequest(messages=out)
    if system:
        request["system"] = system
    return request


class _Writer:
    def __init__(self, binary: bool) -> None:
        self.binary = binary

    def data(self, text: str, where: str) -> str | bytes:
        raw = b64decode(text, where)
        return raw if self.binary else base64.b64encode(raw).decode("ascii")

    def result(self, call_id: str, content: object, is_error: bool, where: str) -> JSONObject:
        if content is None or isinstance(content, str):
            blocks = [{"text": content or ""}]
        else:
            assert isinstance(content, list)
            blocks = [self.block(p, f"{where}.content[{j}]") for j, p in enumerate(content)]
        result: JSONObject = {"toolUseId": call_id, "content": blocks}
        if is_error:
            result["status"] = "error"
        return {"toolResult": result}

    def block(self, part: AnyPart, where: str) -> JSONObject:
        if isinstance(part, TextPart):
            return {"text": part.text}
        if isinstance(part, ImagePart):
            return {"image": self.image(part, where)}
        if isinstance(part, ToolCallPart):
            tool_use = {
                "toolUseId": part.id,
                "name": part.name,
                "input": arguments_object(part, where),
            }
            return {"toolUse": tool_use}
        if isinstance(part, ToolResultPart):
            return self.result(part.tool_call_id, part.content, part.is_error, where)
        if isinstance(part, ReasoningPart):
            redacted = redacted_data(part, where, "Bedrock reasoningContent")
            if redacted is not None:
                return {"reasoningContent": {"redactedContent": self.data(redacted, where)}}
            text: JSONObject = {"text": part.text}
            if part.signature is not None:
                text["signature"] = part.signature
            return {"reasoningContent": {"reasoningText": text}}
        if isinstance(part, UnknownPart):
            return keyed_block(part, "bedrock", where)
        raise cannot_carry(part, where, "Bedrock's content")

    def image(self, part: ImagePart, where: str) -> JSONObject:
        inline = inline_image(part, where)
        media_type = inline[0] if inline is not None else part.media_type
        image_format = _FORMATS.get(media_type or "")
        if image_format is None:
            raise ValueError(
                f"{where}: Bedrock takes png, jpeg, gif or webp images, not {media_type!r}"
            )
        if inline is not None:
            return {"format": image_format, "source": {"bytes": self.data(inline[1], where)}}
        if not (part.url or "").startswith("s3://"):
            raise ValueError(
                f"{where}: Bedrock takes images as data or s3:// URLs, not {part.url!r}"
            )
        return {"format": image_format, "source": {"s3Location": {"uri": part.url}}}


# --- streaming ------------------------------------------------------------------------------


class BedrockStream(StreamAccumulator):
    """A ``ConverseStream`` response, event by event (boto3's dicts, one member each).

    ``metadata`` carries the usage and the server's latency; ``feed`` returns ``True`` at the
    first text, reasoning or tool-use event.
    """

    def __init__(
        self, *, model: str | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(clock=clock)
        self.model = model
        self.stop_reason: str | None = None
        self._blocks: dict[int, JSONObject] = {}
        self._json: dict[int, list[str]] = {}
        self._metadata: JSONObject | None = None

    def feed(self, event: object) -> bool:
        """Take one event. Returns ``True`` when it is the first to carry content.

        :raises ValueError: if the event has the wrong shape.
        """
        waiting = self.first_content_at is None
        data = as_object(event, "event")
        start = get_object(data, "contentBlockStart", "event.")
        delta = get_object(data, "contentBlockDelta", "event.")
        stop = get_object(data, "messageStop", "event.")
        if start is not None:
            index = start.get("contentBlockIndex", len(self._blocks))
            begun = get_object(start, "start", "contentBlockStart.") or {}
            tool_use = get_object(begun, "toolUse", "contentBlockStart.start.")
            if tool_use is not None:
                self._blocks[index] = {"toolUse": {**tool_use, "input": {}}}
                self._content_arrived()
        elif delta is not None:
            self._delta(
                delta.get("contentBlockIndex", 0),
                get_object(delta, "delta", "contentBlockDelta.") or {},
            )
        elif stop is not None:
            self.stop_reason = get_str(stop, "stopReason", "messageStop.")
        elif isinstance(data.get("metadata"), dict):
            self._metadata = data["metadata"]
        return waiting and self.first_content_at is not None

    def _delta(self, index: int, delta: JSONObject) -> None:
        text = get_str(delta, "text", "delta.")
        if text is not None:
            block = self._blocks.setdefault(index, {"text": ""})
            block["text"] = block.get("text", "") + text
            if text:
                self._content_arrived()
        tool_use = get_object(delta, "toolUse", "delta.")
        if tool_use is not None:
            self._json.setdefault(index, []).append(
                get_str(tool_use, "input", "delta.toolUse.") or ""
            )
        reasoning = get_object(delta, "reasoningContent", "delta.")
        if reasoning is not None:
            block = self._blocks.setdefault(index, {"reasoningContent": {}})
            content = block["reasoningContent"]
            if "redactedContent" in reasoning:
                content["redactedContent"] = b64text(
                    reasoning["redactedContent"], "delta.redactedContent"
                )
            else:
                text_block = content.setdefault("reasoningText", {"text": ""})
                piece = get_str(reasoning, "text", "delta.reasoningContent.") or ""
                text_block["text"] += piece
                signature = get_str(reasoning, "signature", "delta.reasoningContent.")
                if signature is not None:
                    text_block["signature"] = signature
                if piece:
                    self._content_arrived()

    def message(self) -> Message:
        """The assistant message streamed so far, as :func:`message_from_bedrock_converse`
        reads a whole one (tool-call arguments assembled from their JSON pieces)."""
        parts: list[AnyPart] = []
        for index, block in sorted(self._blocks.items()):
            part = _read_block(block, f"content[{index}]")
            if isinstance(part, ToolCallPart) and index in self._json:
                arguments = streamed_arguments("".join(self._json[index]))
                part = ToolCallPart(id=part.id, name=part.name, arguments=arguments)
            parts.append(part)
        return message("assistant", parts)

    def usage(self, *, model: str | None = None) -> UsageRecord:
        """The ``metadata`` event's usage and latency.

        :raises ValueError: if no ``metadata`` event arrived.
        """
        if self._metadata is None:
            raise ValueError("the stream carried no metadata event: no usage")
        return usage_from_bedrock_converse(self._metadata, model=model or self.model)
