"""OpenAI Chat Completions (``POST /v1/chat/completions``), as the API sends it.

Non-streamed: one ``chat.completion`` object. Streamed: ``data:`` events of
``chat.completion.chunk`` objects, then ``data: [DONE]``:

- first (keep-alive on) a role-only chunk, ``{"role": "assistant", "content": ""}``;
- ``reasoning_content`` deltas (the field DeepSeek's API and several OpenAI-compatible servers
  use; OpenAI itself sends no reasoning text), then ``content`` deltas;
- per tool call, a delta with its ``index``, ``id``, ``type`` and ``name`` and empty
  ``arguments``, then deltas of ``arguments`` pieces under the same ``index``;
- a chunk with an empty delta and the ``finish_reason``;
- when the request set ``stream_options.include_usage``, every chunk has ``"usage": null``
  and one more chunk with ``"choices": []`` carries the usage.

Usage: ``prompt_tokens`` and ``completion_tokens`` are inclusive;
``prompt_tokens_details.cached_tokens`` (and ``cache_write_tokens`` when there are writes) and
``completion_tokens_details.reasoning_tokens`` break them down.
"""

from __future__ import annotations

from collections.abc import Iterator

from ._script import Reply, StatusError, Usage, pieces, text_of
from ._wire import Call, Dialect, Frame, comment, event, stop_reason

__all__ = ("OPENAI",)

_FINGERPRINT = "fp_convlog_fake"


def _usage(usage: Usage) -> dict[str, object]:
    prompt_details: dict[str, object] = {"cached_tokens": usage.cached_tokens, "audio_tokens": 0}
    if usage.cache_creation_tokens:
        prompt_details["cache_write_tokens"] = usage.cache_creation_tokens
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
        "prompt_tokens_details": prompt_details,
        "completion_tokens_details": {
            "reasoning_tokens": usage.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _finish_reason(reply: Reply) -> str:
    return stop_reason(reply, tool_use="tool_calls", end_turn="stop")


def _tool_id(reply: Reply, call: Call, index: int) -> str:
    return call.tool_id(reply, index, prefix="call_")


def _envelope(reply: Reply, call: Call, kind: str) -> dict[str, object]:
    return {
        "id": f"chatcmpl-fake{call.number}",
        "object": kind,
        "created": call.created,
        "model": call.model(reply),
        "service_tier": "default",
        "system_fingerprint": _FINGERPRINT,
    }


def complete(reply: Reply, call: Call) -> dict[str, object]:
    """The ``chat.completion`` body answering ``call`` with ``reply``."""
    text = text_of(reply.text)
    message: dict[str, object] = {
        # The API sends null content beside tool calls, "" for an empty answer.
        "role": "assistant",
        "content": text if text or not reply.tool_calls else None,
        "refusal": None,
        "annotations": [],
    }
    if reply.reasoning:
        message["reasoning_content"] = text_of(reply.reasoning)
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": _tool_id(reply, call, i),
                "type": "function",
                "function": {"name": tool.name, "arguments": text_of(tool.arguments)},
            }
            for i, tool in enumerate(reply.tool_calls)
        ]
    return {
        **_envelope(reply, call, "chat.completion"),
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": _finish_reason(reply),
            }
        ],
        "usage": _usage(reply.usage),
    }


def stream(reply: Reply, call: Call) -> Iterator[Frame]:
    """The chunks answering ``call`` with ``reply``, ``data: [DONE]`` included."""
    envelope = _envelope(reply, call, "chat.completion.chunk")
    options = call.body.get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True

    def chunk(delta: dict[str, object], *, finish: str | None = None, content: bool) -> Frame:
        body = {
            **envelope,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if include_usage:
            body["usage"] = None
        return event(body, content=content)

    content = "" if reply.text or not reply.tool_calls else None
    role: dict[str, object] = {"role": "assistant", "content": content}
    if reply.keepalive:
        yield comment("keep-alive")
        yield chunk({**role, "refusal": None}, content=False)
        role = {}
    else:
        role = {"role": "assistant"}  # rides on the first delta, as the API does

    for piece in pieces(reply.reasoning):
        yield chunk({**role, "reasoning_content": piece}, content=True)
        role = {}
    for piece in pieces(reply.text):
        yield chunk({**role, "content": piece}, content=True)
        role = {}
    for index, tool in enumerate(reply.tool_calls):
        opening = {
            "index": index,
            "id": _tool_id(reply, call, index),
            "type": "function",
            "function": {"name": tool.name, "arguments": ""},
        }
        yield chunk({**role, "tool_calls": [opening]}, content=True)
        role = {}
        for piece in pieces(tool.arguments):
            delta = {"index": index, "function": {"arguments": piece}}
            yield chunk({"tool_calls": [delta]}, content=True)

    yield chunk(role, finish=_finish_reason(reply), content=False)
    if include_usage:
        yield event({**envelope, "choices": [], "usage": _usage(reply.usage)})
    yield Frame(b"data: [DONE]\n\n")


def error(failure: StatusError, call: Call) -> dict[str, object]:
    """OpenAI's error body: ``{"error": {"message", "type", "param", "code"}}``."""
    if failure.status == 429:
        kind, code, message = "requests", "rate_limit_exceeded", "Rate limit reached for requests"
    elif failure.status >= 500:
        kind, code = "server_error", None
        message = "The server had an error while processing your request. Sorry about that!"
    else:
        kind, code, message = "invalid_request_error", None, "Invalid request."
    return {
        "error": {
            "message": failure.message if failure.message is not None else message,
            "type": failure.error_type if failure.error_type is not None else kind,
            "param": None,
            "code": code,
        }
    }


OPENAI = Dialect(
    name="openai",
    complete=complete,
    stream=stream,
    error=error,
    request_id_header="x-request-id",
)
