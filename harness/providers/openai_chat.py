"""OpenAI Chat Completions: usage, the assistant message, and history as request messages.

Field names from OpenAI's API reference ("Chat Completions": the chat completion object, the
chunk object, and the request's ``messages``). Counts are already inclusive: ``prompt_tokens``
counts cached tokens, ``completion_tokens`` counts reasoning tokens; ``total_tokens`` is
ignored. Servers that speak this format and add reasoning text (DeepSeek and vLLM
``reasoning_content``, others ``reasoning``) have it read as a reasoning part; the format has
no field to send reasoning back, so :func:`to_openai_chat_messages` leaves it out (OpenRouter
and LiteLLM, which do have one, have their own modules).

    response = client.chat.completions.create(model=..., messages=to_openai_chat_messages(history))
    reply = message_from_openai_chat(response)
    usage = usage_from_openai_chat(response)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from schemas import AnyPart, Message, ReasoningPart, UsageRecord

from ._chat import ChatStream, Flavor, chat_message, chat_messages_from, chat_usage, to_chat
from ._common import JSONObject, as_object, get_str

__all__ = (
    "OpenAIChatStream",
    "message_from_openai_chat",
    "messages_from_openai_chat",
    "to_openai_chat_messages",
    "usage_from_openai_chat",
)


def _read_reasoning(data: JSONObject, where: str) -> list[AnyPart]:
    for field in ("reasoning_content", "reasoning"):
        text = get_str(data, field, f"{where}.")
        if text:
            return [ReasoningPart(text=text)]
    return []


def _write_reasoning(parts: list[AnyPart], out: JSONObject, where: str) -> None:
    """The chat format cannot carry reasoning back (DeepSeek refuses ``reasoning_content`` in a
    request), so it is left out."""


_FLAVOR = Flavor("openai", _read_reasoning, _write_reasoning)


def usage_from_openai_chat(
    obj: object, *, model: str | None = None, provider: str = "openai"
) -> UsageRecord:
    """A :class:`UsageRecord` from a ``ChatCompletion``, the last ``ChatCompletionChunk`` of a
    stream, a ``CompletionUsage``, or their JSON.

    ``model`` is the requested model, recorded when ``obj`` does not echo one (a bare usage
    block). ``service_tier`` is the response's. ``provider`` names who served the call for an
    OpenAI-compatible server (``azure``, ``deepseek``, ...).

    :raises ValueError: if a count is not an integer >= 0, there are no counts, or no model.
    """
    return chat_usage(as_object(obj, "usage"), model=model, provider=provider)[0]


def message_from_openai_chat(response: object) -> Message:
    """The assistant :class:`Message` of a ``ChatCompletion`` (its first choice), a choice, or
    a ``ChatCompletionMessage``, or their JSON.

    Text stays a string unless the message also has tool calls, a refusal or reasoning; then
    the content is a list: reasoning, text, refusal (an unknown ``refusal`` part, sent back as
    OpenAI's refusal content part), tool calls.

    :raises ValueError: if there is no message or a field has the wrong shape.
    """
    return chat_message(response, _FLAVOR)


def to_openai_chat_messages(messages: Sequence[Message]) -> list[JSONObject]:
    """``messages`` as the ``messages`` of a chat completions request.

    Tool calls go to ``tool_calls``; a ``tool_result`` part becomes a ``tool`` message; an
    inline image becomes a ``data:`` URL. Reasoning parts are left out (see the module).

    :raises ValueError: naming the message and part the format cannot carry.
    """
    return to_chat(messages, _FLAVOR)


def messages_from_openai_chat(messages: Sequence[object]) -> list[Message]:
    """Request ``messages`` (what :func:`to_openai_chat_messages` writes, or a logged request)
    as :class:`Message`\\ s.

    :raises ValueError: naming the message and field that has the wrong shape.
    """
    return chat_messages_from(messages, _FLAVOR)


class OpenAIChatStream(ChatStream):
    """A streamed chat completion, chunk by chunk::

    stream = OpenAIChatStream()
    for chunk in client.chat.completions.create(..., stream=True,
                                                stream_options={"include_usage": True}):
        if stream.feed(chunk):
            ttft = time.monotonic() - started   # the first content or tool-call chunk
    reply, usage = stream.message(), stream.usage()
    """

    def __init__(
        self, *, provider: str = "openai", clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(clock=clock)
        self._flavor = _FLAVOR
        self._provider = provider

    def usage(self, *, model: str | None = None) -> UsageRecord:
        """The usage of the last chunk, as :func:`usage_from_openai_chat` reads it.

        :raises ValueError: if no chunk carried usage (it was not requested).
        """
        return usage_from_openai_chat(self._usage_response(), model=model, provider=self._provider)
