"""Events as text for people: one line an event (``events``, ``tail``) and the transcript of
``show``. Costs shown are the persisted ones, never recomputed here.

Imported inside the commands (it needs the schemas and rich).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from rich.text import Text

from schemas import (
    ConversationCreated,
    Custom,
    ErrorEvent,
    ImagePart,
    Message,
    Messages,
    ReasoningPart,
    StoredEvent,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    UsageRecord,
)

from ._output import joined, tokens_in, tokens_out, usd

__all__ = ("event_summary", "message_lines", "usage_line")

_PREVIEW = 200


def event_summary(event: StoredEvent, *, width: int = _PREVIEW) -> str:
    """What one event holds, on one line of at most ``width`` characters."""
    data = event.data
    if isinstance(data, ConversationCreated):
        text = f"title={data.title!r}" if data.title is not None else "untitled"
        if data.parent_id is not None:
            text += f" parent={data.parent_id}"
    elif isinstance(data, Messages):
        text = " | ".join(f"{m.role}: {_flat(m)}" for m in data.messages)
        if data.usage is not None:
            text = f"[{usage_line(data.usage)}] {text}"
    elif isinstance(data, ErrorEvent):
        text = f"{data.error_type or 'error'}: {data.message}"
    elif isinstance(data, Custom):
        text = data.event_type
    else:
        text = f"({len(event.raw):,} bytes of a type this version does not know)"
    return _cut(text, width)


def usage_line(usage: UsageRecord) -> str:
    """A call's model, tokens, timing and persisted cost (or why it has none)."""
    parts = [usage.model]
    if usage.prompt_tokens is not None:
        cached, written = usage.prompt_cached_tokens, usage.prompt_cache_creation_tokens
        parts.append(joined(tokens_in(usage.prompt_tokens, cached, written, " in")))
    if usage.completion_tokens is not None:
        reasoning = usage.completion_reasoning_tokens
        parts.append(joined(tokens_out(usage.completion_tokens, reasoning, " out")))
    if usage.ttft_ms is not None:
        parts.append(f"ttft {usage.ttft_ms:,} ms")
    if usage.duration_ms is not None:
        parts.append(f"{usage.duration_ms / 1000:,.2f} s")
    if usage.cost_usd is not None:
        parts.append(usd(usage.cost_usd))
    else:
        parts.append("unpriced" + (f" ({usage.pricing})" if usage.pricing else ""))
    return " · ".join(parts)


def message_lines(message: Message) -> Iterator[Text]:
    """A message's content as styled lines: text as it is, tool calls and results, reasoning
    dimmed, images and unknown parts named."""
    if message.tool_call_id is not None:
        yield Text(f"← result of {message.tool_call_id}", style="cyan")
    content = message.content
    if content is None:
        return
    if isinstance(content, str):
        yield Text(content)
        return
    for part in content:
        yield _part(part)


def _part(part: object) -> Text:
    if isinstance(part, TextPart):
        return Text(part.text)
    if isinstance(part, ToolCallPart):
        return Text(f"→ {part.name}({part.arguments})  [{part.id}]", style="cyan")
    if isinstance(part, ToolResultPart):
        flag = " (error)" if part.is_error else ""
        return Text(f"← {part.tool_call_id}{flag}: {_content(part.content)}", style="cyan")
    if isinstance(part, ReasoningPart):
        return Text(f"(reasoning) {part.text or '[encrypted]'}", style="dim italic")
    if isinstance(part, ImagePart):
        return Text(f"[image {part.url or part.media_type or ''}]".replace(" ]", "]"), style="dim")
    return Text(f"[{getattr(part, 'type', '?')} part]", style="dim")


def _content(content: str | Sequence[object]) -> str:
    if isinstance(content, str):
        return content
    return " ".join(_part(part).plain for part in content)


def _flat(message: Message) -> str:
    return " ".join(line.plain for line in message_lines(message))


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
