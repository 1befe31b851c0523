"""Anthropic Messages (``POST /v1/messages``), as the API sends it.

Non-streamed: one ``message`` object. Streamed: named SSE events,

- ``message_start`` (the message with empty ``content`` and the input usage), then (keep-alive
  on) a ``ping``;
- per content block, ``content_block_start``, its deltas, ``content_block_stop``: a
  ``thinking`` block (``thinking_delta`` s, then one ``signature_delta``), a ``text`` block
  (``text_delta`` s), then one ``tool_use`` block per tool call (``input_json_delta`` s whose
  ``partial_json`` pieces join to the arguments);
- ``message_delta`` with the ``stop_reason`` and the cumulative usage, and ``message_stop``.

Usage is *additive*: ``input_tokens`` counts only the prompt tokens neither read from nor
written to a cache, beside ``cache_read_input_tokens`` and ``cache_creation_input_tokens``
(split into ``cache_creation.ephemeral_5m_input_tokens`` / ``ephemeral_1h_input_tokens``).
``message_start`` reports at most one output token, as the API does; ``message_delta`` carries
the cumulative totals, so a client that adds the two counts double. Reasoning tokens, when
scripted, go in ``output_tokens_details.thinking_tokens``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator, Mapping, Sequence

import msgspec

from ._script import Reply, StatusError, Usage, pieces, text_of
from ._wire import Call, Dialect, Frame, event, stop_reason

__all__ = ("ANTHROPIC",)

# Error types by status, from the API's errors reference; other 4xx are invalid_request_error.
_ERROR_TYPES = {
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
_MESSAGES = {
    "rate_limit_error": "Number of requests has exceeded your rate limit.",
    "overloaded_error": "Overloaded",
    "api_error": "Internal server error",
}


def _usage(usage: Usage, *, output_tokens: int) -> dict[str, object]:
    body: dict[str, object] = {
        "input_tokens": usage.fresh_input_tokens,
        "cache_creation_input_tokens": usage.cache_creation_tokens,
        "cache_read_input_tokens": usage.cached_tokens,
        "cache_creation": {
            "ephemeral_5m_input_tokens": usage.cache_creation_tokens
            - usage.cache_creation_1h_tokens,
            "ephemeral_1h_input_tokens": usage.cache_creation_1h_tokens,
        },
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }
    if usage.reasoning_tokens:
        body["output_tokens_details"] = {"thinking_tokens": usage.reasoning_tokens}
    return body


def _delta_usage(usage: Usage) -> dict[str, object]:
    body: dict[str, object] = {
        "input_tokens": usage.fresh_input_tokens,
        "cache_creation_input_tokens": usage.cache_creation_tokens,
        "cache_read_input_tokens": usage.cached_tokens,
        "output_tokens": usage.completion_tokens,
    }
    if usage.reasoning_tokens:
        body["output_tokens_details"] = {"thinking_tokens": usage.reasoning_tokens}
    return body


def _stop_reason(reply: Reply) -> str:
    return stop_reason(reply, tool_use="tool_use", end_turn="end_turn")


def _signature(thinking: str) -> str:
    # Opaque to clients, as the real one is; derived from the text so replies are reproducible.
    return base64.b64encode(hashlib.sha256(thinking.encode()).digest()).decode()


def _tool_id(reply: Reply, call: Call, index: int) -> str:
    return call.tool_id(reply, index, prefix="toolu_")


def _message(
    reply: Reply, call: Call, content: list[object], usage: dict[str, object]
) -> dict[str, object]:
    return {
        "id": f"msg_fake{call.number}",
        "type": "message",
        "role": "assistant",
        "model": call.model(reply),
        "content": content,
        "stop_reason": None if call.streamed else _stop_reason(reply),
        "stop_sequence": None,
        "usage": usage,
    }


def complete(reply: Reply, call: Call) -> dict[str, object]:
    """The ``message`` body answering ``call`` with ``reply``."""
    blocks: list[object] = []
    if reply.reasoning:
        thinking = text_of(reply.reasoning)
        blocks.append({"type": "thinking", "thinking": thinking, "signature": _signature(thinking)})
    if reply.text:
        blocks.append({"type": "text", "text": text_of(reply.text)})
    blocks += [
        {
            "type": "tool_use",
            "id": _tool_id(reply, call, i),
            "name": tool.name,
            "input": msgspec.json.decode(text_of(tool.arguments)),
        }
        for i, tool in enumerate(reply.tool_calls)
    ]
    usage = _usage(reply.usage, output_tokens=reply.usage.completion_tokens)
    return _message(reply, call, blocks, usage)


def _block(
    index: int, start: dict[str, object], deltas: Sequence[Mapping[str, object]]
) -> Iterator[Frame]:
    yield event(
        {"type": "content_block_start", "index": index, "content_block": start},
        name="content_block_start",
    )
    for delta in deltas:
        # A signature closes a thinking block; it is not model output a reader waits for.
        yield event(
            {"type": "content_block_delta", "index": index, "delta": delta},
            name="content_block_delta",
            content=delta["type"] != "signature_delta",
        )
    yield event({"type": "content_block_stop", "index": index}, name="content_block_stop")


def stream(reply: Reply, call: Call) -> Iterator[Frame]:
    """The events answering ``call`` with ``reply``, ``message_stop`` included."""
    started = _usage(reply.usage, output_tokens=min(1, reply.usage.completion_tokens))
    yield event(
        {"type": "message_start", "message": _message(reply, call, [], started)},
        name="message_start",
    )
    if reply.keepalive:
        yield event({"type": "ping"}, name="ping")

    blocks: list[tuple[dict[str, object], Sequence[Mapping[str, object]]]] = []
    if reply.reasoning:
        thinking = text_of(reply.reasoning)
        thoughts: list[dict[str, object]] = [
            {"type": "thinking_delta", "thinking": p} for p in pieces(reply.reasoning)
        ]
        thoughts.append({"type": "signature_delta", "signature": _signature(thinking)})
        blocks.append(({"type": "thinking", "thinking": "", "signature": ""}, thoughts))
    if reply.text:
        text = [{"type": "text_delta", "text": p} for p in pieces(reply.text)]
        blocks.append(({"type": "text", "text": ""}, text))
    for i, tool in enumerate(reply.tool_calls):
        opening: dict[str, object] = {
            "type": "tool_use",
            "id": _tool_id(reply, call, i),
            "name": tool.name,
            "input": {},
        }
        partial = [{"type": "input_json_delta", "partial_json": p} for p in pieces(tool.arguments)]
        blocks.append((opening, partial))
    for index, (start, deltas) in enumerate(blocks):
        yield from _block(index, start, deltas)

    yield event(
        {
            "type": "message_delta",
            "delta": {"stop_reason": _stop_reason(reply), "stop_sequence": None},
            "usage": _delta_usage(reply.usage),
        },
        name="message_delta",
    )
    yield event({"type": "message_stop"}, name="message_stop")


def error(failure: StatusError, call: Call) -> dict[str, object]:
    """Anthropic's error body: ``{"type": "error", "error": {"type", "message"},
    "request_id"}``."""
    status = failure.status
    kind = _ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    if failure.error_type is not None:
        kind = failure.error_type
    message = failure.message if failure.message is not None else _MESSAGES.get(kind, kind)
    return {
        "type": "error",
        "error": {"type": kind, "message": message},
        "request_id": call.request_id,
    }


ANTHROPIC = Dialect(
    name="anthropic",
    complete=complete,
    stream=stream,
    error=error,
    request_id_header="request-id",
)
