"""OpenAI Responses: usage, the output items as one assistant message, and history as input
items.

Field names from OpenAI's API reference ("Responses": the response object, its ``output``
items, ``usage``, the input item list and the streaming events) and the ``openai`` SDK's
``ResponseUsage``. Counts are inclusive: ``input_tokens`` counts
``input_tokens_details.cached_tokens`` and ``.cache_write_tokens``, ``output_tokens`` counts
``output_tokens_details.reasoning_tokens``.

One assistant turn is several output items; here it is one :class:`Message` whose parts keep
their order: ``reasoning`` items (summary text, ``encrypted_content``, item id),
``message`` items' ``output_text`` (the first message item's id is ``Message.id``),
``function_call`` items (``call_id`` is the part's id), and any other item (web search calls,
...) kept whole as an unknown part and sent back as it came.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
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

__all__ = (
    "OpenAIResponsesStream",
    "message_from_openai_responses",
    "messages_from_openai_responses",
    "to_openai_responses_input",
    "usage_from_openai_responses",
)

# How the summaries of one reasoning item join into one part's text.
_SUMMARY_SEPARATOR = "\n\n"
_TURN_ROLES = ("system", "developer", "user")


def usage_from_openai_responses(
    obj: object, *, model: str | None = None, provider: str = "openai"
) -> UsageRecord:
    """A :class:`UsageRecord` from a ``Response``, a ``response.completed`` stream event, a
    ``ResponseUsage``, or their JSON.

    :raises ValueError: if a count is not an integer >= 0, there are no counts, or no model.
    """
    data = as_object(obj, "usage")
    if isinstance(data.get("response"), dict):  # a response.completed (or .incomplete) event
        data = data["response"]
    block, response = split_usage(data, "usage", ("output", "object", "model", "id"))
    prompt = get_count(block, "input_tokens", "usage.")
    completion = get_count(block, "output_tokens", "usage.")
    if prompt is None and completion is None:
        raise ValueError("usage has neither input_tokens nor output_tokens")
    details = get_object(block, "input_tokens_details", "usage.")
    out_details = get_object(block, "output_tokens_details", "usage.")
    return UsageRecord(
        model=model_of(response.get("model") if response else None, model),
        provider=provider,
        prompt_tokens=prompt,
        completion_tokens=completion,
        prompt_cached_tokens=get_count(details, "cached_tokens", "usage.input_tokens_details."),
        prompt_cache_creation_tokens=get_count(
            details, "cache_write_tokens", "usage.input_tokens_details."
        ),
        completion_reasoning_tokens=get_count(
            out_details, "reasoning_tokens", "usage.output_tokens_details."
        ),
        service_tier=get_str(response, "service_tier", "") if response else None,
    )


# --- provider -> Message --------------------------------------------------------------------


def message_from_openai_responses(response: object) -> Message:
    """The assistant :class:`Message` of a ``Response`` (or its JSON): every output item, in
    order, as one message.

    :raises ValueError: if a field has the wrong shape.
    """
    data = as_object(response, "response")
    if isinstance(data.get("response"), dict):  # a response.completed event
        data = data["response"]
    turn = _Turn()
    for i, item in enumerate(get_list(data, "output", "response.")):
        turn.add(as_object(item, f"output[{i}]"), f"output[{i}]")
    return turn.message() or message("assistant", [])


class _Turn:
    """Collects the consecutive output items of one assistant turn."""

    def __init__(self) -> None:
        self.parts: list[AnyPart] = []
        self.id: str | None = None
        self.open = False

    def add(self, item: JSONObject, where: str) -> None:
        self.open = True
        kind = item.get("type")
        if kind == "reasoning":
            summary = [
                get_str(as_object(s, f"{where}.summary"), "text", f"{where}.summary.") or ""
                for s in get_list(item, "summary", f"{where}.")
            ]
            self.parts.append(
                ReasoningPart(
                    text=_SUMMARY_SEPARATOR.join(summary),
                    encrypted=get_str(item, "encrypted_content", f"{where}."),
                    id=get_str(item, "id", f"{where}."),
                )
            )
        elif kind == "function_call":
            self.parts.append(
                ToolCallPart(
                    id=get_str(item, "call_id", f"{where}.") or "",
                    name=get_str(item, "name", f"{where}.") or "",
                    arguments=get_str(item, "arguments", f"{where}.") or "",
                )
            )
        elif item.get("role") == "assistant":
            if self.id is None:
                self.id = get_str(item, "id", f"{where}.")
            for j, block in enumerate(get_list(item, "content", f"{where}.")):
                at = f"{where}.content[{j}]"
                if isinstance(block, dict) and block.get("type") == "output_text":
                    self.parts.append(TextPart(text=get_str(block, "text", f"{at}.") or ""))
                else:  # a refusal, kept whole and sent back inside a message item
                    self.parts.append(foreign(block, at))
        else:
            self.parts.append(foreign(item, where))

    def message(self) -> Message | None:
        if not self.open:
            return None
        return message("assistant", self.parts, id=self.id)


def messages_from_openai_responses(items: Sequence[object] | str) -> list[Message]:
    """Input items (what :func:`to_openai_responses_input` writes, or a logged request's
    ``input``) as :class:`Message`\\ s. Consecutive assistant-side items (assistant
    messages with a content list, reasoning, function calls, other output items) form one
    assistant message; a ``function_call_output`` is a ``tool`` message.

    :raises ValueError: naming the item and field that has the wrong shape.
    """
    if isinstance(items, str):  # ``input`` may be a bare string: one user message
        return [message("user", items)]
    out: list[Message] = []
    turn = _Turn()
    for i, raw in enumerate(items):
        where = f"input[{i}]"
        item = as_object(raw, where)
        role = get_str(item, "role", f"{where}.")
        kind = item.get("type")
        content = item.get("content")
        if kind == "function_call_output":
            _flush(turn, out)
            turn = _Turn()
            output = _read_content(item.get("output"), f"{where}.output")
            call_id = get_str(item, "call_id", f"{where}.")
            out.append(message("tool", output, tool_call_id=call_id))
        elif role is not None and (role != "assistant" or isinstance(content, str)):
            _flush(turn, out)
            turn = _Turn()
            out.append(message(role, _read_content(content, f"{where}.content")))
        else:
            turn.add(item, where)
    _flush(turn, out)
    return out


def _flush(turn: _Turn, out: list[Message]) -> None:
    done = turn.message()
    if done is not None:
        out.append(done)


def _read_content(content: object, where: str) -> Content:
    if content is None or isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise ValueError(f"{where} must be a string or a list")
    parts: list[AnyPart] = []
    for i, block in enumerate(content):
        at = f"{where}[{i}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind in ("input_text", "output_text"):
            parts.append(TextPart(text=get_str(block, "text", f"{at}.") or ""))
        elif kind == "input_image" and isinstance(block.get("image_url"), str):
            detail = get_str(block, "detail", f"{at}.")
            parts.append(image_from_url(block["image_url"], detail))
        else:
            parts.append(foreign(block, at))
    return parts


# --- Message -> provider --------------------------------------------------------------------


def to_openai_responses_input(messages: Sequence[Message]) -> list[JSONObject]:
    """``messages`` as the ``input`` of a Responses request.

    An assistant message's parts become output items in order (reasoning, message, function
    call, and unknown items as they came); a ``tool`` message or a ``tool_result`` part becomes
    a ``function_call_output``. Images without a ``detail`` are sent with ``"auto"``, which the
    API requires.

    :raises ValueError: naming the message and part the format cannot carry.
    """
    out: list[JSONObject] = []
    for i, m in enumerate(messages):
        where = f"messages[{i}]"
        if m.role == "tool":
            out.append(_call_output(m.tool_call_id or "", m.content, where))
        elif m.role == "assistant" and isinstance(m.content, list):
            out.extend(_assistant_items(m.content, m.id, where))
        elif isinstance(m.content, list):
            results = [p for p in m.content if isinstance(p, ToolResultPart)]
            rest = [p for p in m.content if not isinstance(p, ToolResultPart)]
            for j, part in enumerate(results):
                out.append(_call_output(part.tool_call_id, part.content, f"{where}.content[{j}]"))
            if rest or not results:
                out.append({"role": m.role, "content": _input_parts(rest, where)})
        else:
            out.append({"role": m.role, "content": m.content or ""})
    return out


def _call_output(call_id: str, content: object, where: str) -> JSONObject:
    output: Any = content if isinstance(content, str) else ""
    if isinstance(content, list):
        output = _input_parts(content, where)
    return {"type": "function_call_output", "call_id": call_id, "output": output}


def _input_parts(parts: Sequence[AnyPart], where: str) -> list[Any]:
    out: list[Any] = []
    for j, part in enumerate(parts):
        at = f"{where}.content[{j}]"
        if isinstance(part, TextPart):
            out.append({"type": "input_text", "text": part.text})
        elif isinstance(part, ImagePart):
            url = image_url(part, at)
            out.append({"type": "input_image", "image_url": url, "detail": part.detail or "auto"})
        elif isinstance(part, UnknownPart):
            out.append(part.data)
        else:
            raise cannot_carry(part, at, "this message")
    return out


def _assistant_items(parts: Sequence[AnyPart], id: str | None, where: str) -> list[JSONObject]:
    items: list[JSONObject] = []
    run: list[Any] = []  # output_text and refusal blocks of one message item
    first_message = True

    def close_run() -> None:
        nonlocal first_message, run
        if run:
            item: JSONObject = {"type": "message", "role": "assistant", "content": run}
            if first_message and id is not None:
                item["id"] = id
                item["status"] = "completed"
            first_message = False
            items.append(item)
            run = []

    for j, part in enumerate(parts):
        at = f"{where}.content[{j}]"
        if isinstance(part, TextPart):
            run.append({"type": "output_text", "text": part.text, "annotations": []})
            continue
        if isinstance(part, UnknownPart) and part.type == "refusal":
            run.append(part.data)
            continue
        close_run()
        if isinstance(part, ReasoningPart):
            reasoning: JSONObject = {"type": "reasoning"}
            if part.id is not None:
                reasoning["id"] = part.id
            summary = [{"type": "summary_text", "text": part.text}] if part.text else []
            reasoning["summary"] = summary
            if part.encrypted is not None:
                reasoning["encrypted_content"] = part.encrypted
            items.append(reasoning)
        elif isinstance(part, ToolCallPart):
            items.append(
                {
                    "type": "function_call",
                    "call_id": part.id,
                    "name": part.name,
                    "arguments": part.arguments,
                }
            )
        elif isinstance(part, UnknownPart):
            items.append(part.data)
        else:
            raise cannot_carry(part, at, "this message")
    close_run()
    return items


# --- streaming ------------------------------------------------------------------------------

_CONTENT_DELTAS = frozenset(
    {
        "response.output_text.delta",
        "response.refusal.delta",
        "response.reasoning_summary_text.delta",
        "response.reasoning_text.delta",
        "response.function_call_arguments.delta",
    }
)


class OpenAIResponsesStream(StreamAccumulator):
    """A streamed response, event by event (SDK ``ResponseStreamEvent``\\ s or their JSON).

    The message and usage come from the final ``response.completed`` (or ``.incomplete``,
    ``.failed``) event; without one, the message is built from the ``output_item.done``
    events seen. ``feed`` returns ``True`` at the first text, refusal, reasoning or
    function-call event.
    """

    def __init__(
        self, *, provider: str = "openai", clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(clock=clock)
        self._provider = provider
        self.response_id: str | None = None
        self.model: str | None = None
        self._final: JSONObject | None = None
        self._done: dict[int, JSONObject] = {}

    def feed(self, event: object) -> bool:
        """Take one event. Returns ``True`` when it is the first to carry content.

        :raises ValueError: if the event has the wrong shape.
        """
        waiting = self.first_content_at is None
        data = as_object(event, "event")
        kind = data.get("type")
        response = get_object(data, "response", "event.")
        if response is not None:
            self.response_id = get_str(response, "id", "response.") or self.response_id
            self.model = get_str(response, "model", "response.") or self.model
            if kind in ("response.completed", "response.incomplete", "response.failed"):
                self._final = response
        item = get_object(data, "item", "event.")
        started_call = kind == "response.output_item.added" and item is not None
        if (kind in _CONTENT_DELTAS and data.get("delta")) or (
            started_call and item is not None and item.get("type") == "function_call"
        ):
            self._content_arrived()
        elif kind == "response.output_item.done" and item is not None:
            index = data.get("output_index")
            self._done[index if isinstance(index, int) else len(self._done)] = item
        return waiting and self.first_content_at is not None

    def message(self) -> Message:
        """The assistant message: the final response's output, else the items completed."""
        if self._final is not None and self._final.get("output"):
            return message_from_openai_responses(self._final)
        return message_from_openai_responses({"output": [v for _, v in sorted(self._done.items())]})

    def usage(self, *, model: str | None = None) -> UsageRecord:
        """The final response's usage.

        :raises ValueError: if the stream ended before a final response event.
        """
        if self._final is None:
            raise ValueError("the stream ended before response.completed: no usage")
        return usage_from_openai_responses(
            self._final, model=model or self.model, provider=self._provider
        )
