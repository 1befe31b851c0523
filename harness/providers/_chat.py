"""The OpenAI chat-completions shape, shared by every provider that speaks it.

OpenAI, OpenRouter and LiteLLM answer in this shape and differ only in how they carry
reasoning (``reasoning_content``/``reasoning``, ``reasoning_details``, ``thinking_blocks``)
and in who reports the cost. Each of their modules passes a :class:`Flavor`; the conversion
itself is written once, here.

The mapping (field names from OpenAI's API reference, "Chat Completions"):

- ``usage.prompt_tokens`` -> ``prompt_tokens`` (already inclusive of cached tokens),
  ``prompt_tokens_details.cached_tokens`` -> ``prompt_cached_tokens``,
  ``prompt_tokens_details.cache_write_tokens`` -> ``prompt_cache_creation_tokens``,
  ``completion_tokens`` -> ``completion_tokens`` (reasoning included),
  ``completion_tokens_details.reasoning_tokens`` -> ``completion_reasoning_tokens``;
  ``total_tokens`` is ignored (it is derivable).
- An assistant message's ``content`` (or its text and refusal parts), then its
  ``tool_calls`` become parts in that order, after any reasoning parts the flavor reads;
  a ``tool`` message stays a ``tool`` message with its ``tool_call_id``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

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
    as_object,
    cannot_carry,
    foreign,
    get_count,
    get_list,
    get_object,
    get_str,
    image_from_url,
    image_url,
    message,
    model_of,
    split_usage,
)

#: Reads the reasoning parts of an assistant message dict (``where`` names it in errors).
ReadReasoning = Callable[[JSONObject, str], list[AnyPart]]
#: Writes reasoning parts (and unknown parts tagged ``reasoning.*``, a provider's reasoning
#: entries of kinds no part describes) onto an outgoing assistant message dict.
WriteReasoning = Callable[[list[AnyPart], JSONObject, str], None]

_RESPONSE_KEYS = ("choices", "object", "model", "id")


@dataclass(frozen=True)
class Flavor:
    """How one provider of the chat shape differs: its name and its reasoning fields."""

    provider: str | None
    read_reasoning: ReadReasoning
    write_reasoning: WriteReasoning


# --- usage ----------------------------------------------------------------------------------


def chat_usage(
    data: JSONObject, *, model: str | None, provider: str | None
) -> tuple[UsageRecord, JSONObject]:
    """The inclusive :class:`UsageRecord` of a chat completion, a chunk or a usage block,
    and the usage block itself (for the fields a flavor reads beyond OpenAI's).

    :raises ValueError: naming the field if a count is not an integer >= 0, or if there are
        no counts at all.
    """
    block, response = split_usage(data, "usage", _RESPONSE_KEYS)
    prompt = get_count(block, "prompt_tokens", "usage.")
    completion = get_count(block, "completion_tokens", "usage.")
    if prompt is None and completion is None:
        raise ValueError("usage has neither prompt_tokens nor completion_tokens")
    details = get_object(block, "prompt_tokens_details", "usage.")
    where = "usage.prompt_tokens_details."
    written = get_count(details, "cache_write_tokens", where)
    if written is None:  # LiteLLM's spelling
        written = get_count(details, "cache_creation_tokens", where)
    out_details = get_object(block, "completion_tokens_details", "usage.")
    echoed = response.get("model") if response is not None else None
    tier = get_str(response, "service_tier", "") if response is not None else None
    record = UsageRecord(
        model=model_of(echoed, model),
        provider=provider,
        prompt_tokens=prompt,
        completion_tokens=completion,
        prompt_cached_tokens=get_count(details, "cached_tokens", where),
        prompt_cache_creation_tokens=written,
        completion_reasoning_tokens=get_count(
            out_details, "reasoning_tokens", "usage.completion_tokens_details."
        ),
        service_tier=tier,
    )
    return record, block


# --- provider -> Message --------------------------------------------------------------------


def chat_message(response: object, flavor: Flavor) -> Message:
    """The assistant :class:`Message` of a chat completion (first choice), a choice, or a
    message object.

    :raises ValueError: if there is no message, or a field has the wrong shape.
    """
    data = as_object(response, "response")
    if "choices" in data:
        choices = get_list(data, "choices", "")
        if not choices:
            raise ValueError("the response has no choices")
        data = as_object(choices[0], "choices[0]")
    if "message" in data:
        data = as_object(data["message"], "message")
    return _read_message(data, flavor, "message")


def _read_message(data: JSONObject, flavor: Flavor, where: str) -> Message:
    role = get_str(data, "role", f"{where}.") or "assistant"
    name = get_str(data, "name", f"{where}.")
    if role == "tool":
        return message(
            role,
            _read_content(data.get("content"), f"{where}.content"),
            name=name,
            tool_call_id=get_str(data, "tool_call_id", f"{where}."),
        )
    content = _read_content(data.get("content"), f"{where}.content")
    extra: list[AnyPart] = []
    if role == "assistant":
        refusal = get_str(data, "refusal", f"{where}.")
        if refusal is not None:
            extra.append(UnknownPart({"type": "refusal", "refusal": refusal}))
        for i, call in enumerate(get_list(data, "tool_calls", f"{where}.")):
            extra.append(_read_tool_call(call, f"{where}.tool_calls[{i}]"))
        reasoning = flavor.read_reasoning(data, where)
        if reasoning or extra:
            text = [] if content is None else _as_parts(content)
            content = [*reasoning, *text, *extra]
    return message(role, content, name=name)


def _as_parts(content: str | list[AnyPart]) -> list[AnyPart]:
    return [TextPart(text=content)] if isinstance(content, str) else content


def _read_tool_call(call: object, where: str) -> ToolCallPart:
    data = as_object(call, where)
    function = get_object(data, "function", f"{where}.") or {}
    return ToolCallPart(
        id=get_str(data, "id", f"{where}.") or "",
        name=get_str(function, "name", f"{where}.function.") or "",
        arguments=get_str(function, "arguments", f"{where}.function.") or "",
    )


def _read_content(content: object, where: str) -> Content:
    if content is None or isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise ValueError(f"{where} must be a string, a list or null")
    parts: list[AnyPart] = []
    for i, item in enumerate(content):
        at = f"{where}[{i}]"
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "text":
            parts.append(TextPart(text=get_str(item, "text", f"{at}.") or ""))
        elif kind == "image_url":
            image = get_object(item, "image_url", f"{at}.") or {}
            url = get_str(image, "url", f"{at}.image_url.") or ""
            parts.append(image_from_url(url, get_str(image, "detail", f"{at}.image_url.")))
        else:
            parts.append(foreign(item, at))
    return parts


def chat_messages_from(items: Sequence[object], flavor: Flavor) -> list[Message]:
    """Messages in the chat request format (what :func:`to_chat` writes) as :class:`Message`\\ s.

    :raises ValueError: naming the message and field that has the wrong shape.
    """
    return [
        _read_message(as_object(item, f"messages[{i}]"), flavor, f"messages[{i}]")
        for i, item in enumerate(items)
    ]


# --- Message -> provider --------------------------------------------------------------------


def to_chat(messages: Sequence[Message], flavor: Flavor) -> list[JSONObject]:
    """``messages`` in the chat request format.

    A ``tool_result`` part (Anthropic's shape: results inside a user message) becomes a
    ``tool`` message before the rest of its message, as the chat format wants it.

    :raises ValueError: naming the message and part the format cannot carry.
    """
    out: list[JSONObject] = []
    for i, m in enumerate(messages):
        out.extend(_write_message(m, flavor, f"messages[{i}]"))
    return out


def _write_message(m: Message, flavor: Flavor, where: str) -> list[JSONObject]:
    head: JSONObject = {"role": m.role}
    if m.name is not None:
        head["name"] = m.name
    if m.role == "tool":
        if m.tool_call_id is not None:
            head["tool_call_id"] = m.tool_call_id
        head["content"] = _write_content(m.content, where)
        return [head]
    if m.content is None or isinstance(m.content, str):
        head["content"] = m.content
        return [head]
    results: list[JSONObject] = []
    items: list[Any] = []
    calls: list[JSONObject] = []
    reasoning: list[AnyPart] = []
    for j, part in enumerate(m.content):
        at = f"{where}.content[{j}]"
        if isinstance(part, ToolResultPart):
            result: JSONObject = {"role": "tool", "tool_call_id": part.tool_call_id}
            result["content"] = _write_content(part.content, at)
            results.append(result)
        elif isinstance(part, ToolCallPart):
            function = {"name": part.name, "arguments": part.arguments}
            calls.append({"id": part.id, "type": "function", "function": function})
        elif isinstance(part, ReasoningPart) or (
            isinstance(part, UnknownPart) and part.type.startswith("reasoning.")
        ):
            reasoning.append(part)
        else:
            items.append(_write_part(part, at))
    if calls or reasoning:
        if m.role != "assistant":
            raise ValueError(
                f"{where}: only an assistant message can carry tool calls or reasoning"
            )
        head["content"] = (items or None) if calls else items
        if calls:
            head["tool_calls"] = calls
        flavor.write_reasoning(reasoning, head, where)
    else:
        head["content"] = items
    if results and not items and not calls:
        return results
    return [*results, head]


def _write_content(content: object, where: str) -> Any:
    if content is None or isinstance(content, str):
        return content or ""
    assert isinstance(content, list)
    return [_write_part(part, f"{where}[{j}]") for j, part in enumerate(content)]


def _write_part(part: AnyPart, where: str) -> Any:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, ImagePart):
        image: JSONObject = {"url": image_url(part, where)}
        if part.detail is not None:
            image["detail"] = part.detail
        return {"type": "image_url", "image_url": image}
    if isinstance(part, UnknownPart):
        return part.data
    raise cannot_carry(part, where, "this message")


# --- streaming ------------------------------------------------------------------------------

UsageFunction = Callable[[JSONObject], UsageRecord]


_STR_OR_NONE = frozenset((str, type(None)))


class ChatStream(StreamAccumulator):
    """Accumulates a streamed chat completion: ``feed`` each chunk (an SDK chunk object or
    its JSON), then ask for ``message()`` and ``usage()``.

    Only the first choice is kept. Usage arrives in the last chunk, and only when the request
    asked for it (``stream_options={"include_usage": True}``).
    """

    _flavor: Flavor

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(clock=clock)
        self.response_id: str | None = None
        self.model: str | None = None
        self.finish_reason: str | None = None
        self._service_tier: str | None = None
        self._usage: JSONObject | None = None
        self._text: list[str] = []
        self._refusal: list[str] = []
        self._reasoning: dict[str, list[str]] = {}
        self._details: list[JSONObject] = []
        self._thinking: list[JSONObject] = []
        self._calls: dict[int, JSONObject] = {}

    def feed(self, chunk: object) -> bool:
        """Take one chunk. Returns ``True`` when it is the first to carry content.

        :raises ValueError: if the chunk has the wrong shape.
        """
        waiting = self.first_content_at is None
        if type(chunk).__module__.startswith("openai.") and self._plain_text(chunk):
            return waiting and self.first_content_at is not None
        data = as_object(chunk, "chunk")
        self.response_id = get_str(data, "id", "chunk.") or self.response_id
        self.model = get_str(data, "model", "chunk.") or self.model
        self._service_tier = get_str(data, "service_tier", "chunk.") or self._service_tier
        usage = get_object(data, "usage", "chunk.")
        if usage is not None:
            self._usage = usage  # the last chunk's usage covers the whole call
        for choice in get_list(data, "choices", "chunk."):
            if isinstance(choice, dict) and choice.get("index", 0) == 0:
                self._choice(choice)
        return waiting and self.first_content_at is not None

    def _plain_text(self, chunk: Any) -> bool:
        """Take an ``openai`` SDK chunk that carries at most text, reading its attributes, and
        say so; ``False`` (nothing taken) for anything else, which the general path reads.

        The general path dumps every chunk to JSON first: a stream is mostly chunks of a few
        characters of text, and dumping each cost more than the rest of the recording.
        """
        if chunk.usage is not None:
            return False
        choices = chunk.choices
        if type(choices) is not list or len(choices) != 1:
            return False
        choice = choices[0]
        delta = choice.delta
        if (
            choice.index != 0
            or delta is None
            or delta.__pydantic_extra__  # reasoning in a field OpenAI does not define
            or delta.tool_calls
            or delta.refusal
            or getattr(choice, "__pydantic_extra__", None)
        ):
            return False
        content, finish = delta.content, choice.finish_reason
        response_id, model = chunk.id, chunk.model
        tier = getattr(chunk, "service_tier", None)
        # Each a str or None (written out: this runs for every chunk of every stream).
        if (
            type(content) not in _STR_OR_NONE
            or type(finish) not in _STR_OR_NONE
            or type(response_id) not in _STR_OR_NONE
            or type(model) not in _STR_OR_NONE
            or type(tier) not in _STR_OR_NONE
        ):
            return False
        if response_id:
            self.response_id = response_id
        if model:
            self.model = model
        if tier:
            self._service_tier = tier
        if finish:
            self.finish_reason = finish
        if content:
            self._text.append(content)
            if self.first_content_at is None:
                self.first_content_at = self._clock()
        return True

    def _choice(self, choice: JSONObject) -> None:
        self.finish_reason = get_str(choice, "finish_reason", "choice.") or self.finish_reason
        delta = get_object(choice, "delta", "choice.") or {}
        for field, sink in (("content", self._text), ("refusal", self._refusal)):
            piece = get_str(delta, field, "delta.")
            if piece:
                sink.append(piece)
                self._content_arrived()
        for field in ("reasoning_content", "reasoning"):
            piece = get_str(delta, field, "delta.")
            if piece:
                self._reasoning.setdefault(field, []).append(piece)
                self._content_arrived()
        for detail in get_list(delta, "reasoning_details", "delta."):
            if isinstance(detail, dict):
                _merge_indexed(self._details, detail)
                self._content_arrived()
        for block in get_list(delta, "thinking_blocks", "delta."):
            if isinstance(block, dict):
                _merge_thinking(self._thinking, block)
                self._content_arrived()
        for call in get_list(delta, "tool_calls", "delta."):
            if isinstance(call, dict):
                self._call(call)

    def _call(self, call: JSONObject) -> None:
        index = call.get("index", len(self._calls))
        entry = self._calls.setdefault(index, {"id": None, "name": None, "arguments": []})
        entry["id"] = get_str(call, "id", "tool_call.") or entry["id"]
        function = get_object(call, "function", "tool_call.") or {}
        entry["name"] = get_str(function, "name", "tool_call.function.") or entry["name"]
        arguments = get_str(function, "arguments", "tool_call.function.")
        if arguments:
            entry["arguments"].append(arguments)
        self._content_arrived()

    def message(self) -> Message:
        """The assistant message streamed so far, as :func:`chat_message` reads a whole one."""
        data: JSONObject = {"role": "assistant", "content": "".join(self._text) or None}
        if self._refusal:
            data["refusal"] = "".join(self._refusal)
        for field, pieces in self._reasoning.items():
            data[field] = "".join(pieces)
        if self._details:
            data["reasoning_details"] = self._details
        if self._thinking:
            data["thinking_blocks"] = self._thinking
        if self._calls:
            data["tool_calls"] = [
                {
                    "id": entry["id"] or "",
                    "type": "function",
                    "function": {
                        "name": entry["name"] or "",
                        # Chat arguments are text as the model produced it, streamed or not.
                        "arguments": "".join(entry["arguments"]),
                    },
                }
                for _, entry in sorted(self._calls.items())
            ]
        return _read_message(data, self._flavor, "stream")

    def _usage_response(self) -> JSONObject:
        """The usage seen, shaped as a response for the usage functions.

        :raises ValueError: if no chunk carried usage.
        """
        if self._usage is None:
            raise ValueError(
                "the stream carried no usage: request it with "
                "stream_options={'include_usage': True}"
            )
        response: JSONObject = {"usage": self._usage}
        if self.model is not None:
            response["model"] = self.model
        if self._service_tier is not None:
            response["service_tier"] = self._service_tier
        return response


def _merge_indexed(into: list[JSONObject], piece: JSONObject) -> None:
    """Fold a streamed ``reasoning_details`` piece into the entry with its ``index``: text
    fields are appended, the rest (signature, id, format) replaced when present."""
    index = piece.get("index")
    for entry in into:
        if index is not None and entry.get("index") == index:
            for key, value in piece.items():
                if key in ("text", "summary", "data") and isinstance(value, str):
                    entry[key] = (entry.get(key) or "") + value
                elif value is not None:
                    entry[key] = value
            return
    into.append(dict(piece))


def _merge_thinking(into: list[JSONObject], piece: JSONObject) -> None:
    """Fold a streamed LiteLLM ``thinking_blocks`` piece: thinking text continues the open
    block until it has a signature; a redacted block stands alone."""
    last = into[-1] if into else None
    if (
        piece.get("type") == "thinking"
        and last is not None
        and last.get("type") == "thinking"
        and not last.get("signature")
    ):
        last["thinking"] = (last.get("thinking") or "") + (piece.get("thinking") or "")
        if piece.get("signature"):
            last["signature"] = piece["signature"]
        return
    into.append(dict(piece))
