"""LiteLLM (``litellm.completion``): usage with the cost LiteLLM computed, the assistant
message with its ``thinking_blocks``, and history as request messages.

LiteLLM answers in OpenAI's chat shape (``ModelResponse``, ``ModelResponseStream``) whatever
the provider; field names from LiteLLM's documentation ("Output format", "Reasoning content",
"Prompt caching") and its ``litellm.types.utils`` types. ``prompt_tokens`` is inclusive (for
Anthropic models LiteLLM adds the cache reads and writes in); cache writes are
``prompt_tokens_details.cache_creation_tokens`` (or ``cache_write_tokens``, or top-level
``cache_creation_input_tokens``), their 1-hour share
``prompt_tokens_details.cache_creation_token_details.ephemeral_1h_input_tokens``.

LiteLLM's own cost (``response._hidden_params["response_cost"]``) is a claim from LiteLLM's
price map, recorded as ``reported:litellm`` through
:func:`harness.pricing.apply_reported_cost`: LiteLLM reports 0 for models missing from its
map, which that function checks against ``table``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

import msgspec

from harness.pricing import PriceTable, apply_reported_cost
from schemas import AnyPart, Message, ReasoningPart, UsageRecord

from ._chat import ChatStream, Flavor, chat_message, chat_messages_from, chat_usage, to_chat
from ._common import (
    JSONObject,
    as_object,
    cannot_carry,
    foreign,
    get_count,
    get_list,
    get_object,
    get_str,
    reasoning_from_thinking,
    thinking_from_reasoning,
)

__all__ = (
    "LiteLLMStream",
    "message_from_litellm",
    "messages_from_litellm",
    "to_litellm_messages",
    "usage_from_litellm",
)


def _read_reasoning(data: JSONObject, where: str) -> list[AnyPart]:
    blocks = get_list(data, "thinking_blocks", f"{where}.")
    if not blocks:
        text = get_str(data, "reasoning_content", f"{where}.")
        return [ReasoningPart(text=text)] if text else []
    parts: list[AnyPart] = []
    for i, raw in enumerate(blocks):
        at = f"{where}.thinking_blocks[{i}]"
        block = as_object(raw, at)
        parts.append(reasoning_from_thinking(block, at) or foreign(block, at))
    return parts


def _write_reasoning(parts: list[AnyPart], out: JSONObject, where: str) -> None:
    blocks: list[JSONObject] = []
    for part in parts:
        if not isinstance(part, ReasoningPart):
            raise cannot_carry(part, where, "thinking_blocks")
        blocks.append(thinking_from_reasoning(part, where))
    if blocks:
        out["thinking_blocks"] = blocks


_FLAVOR = Flavor(None, _read_reasoning, _write_reasoning)


def usage_from_litellm(
    obj: object, *, model: str | None = None, table: PriceTable | None = None
) -> UsageRecord:
    """A :class:`UsageRecord` from a LiteLLM ``ModelResponse``, its last streamed chunk, its
    ``Usage``, or their JSON.

    ``provider`` is LiteLLM's ``custom_llm_provider`` when the response says it. LiteLLM's
    ``response_cost`` (a ``ModelResponse``'s hidden params; absent in JSON) goes through
    :func:`harness.pricing.apply_reported_cost` with ``table`` (an empty one when none is
    given); without it the record is returned unpriced, for the caller to price.

    :raises ValueError: if a count is not an integer >= 0, there are no counts, or no model.
    """
    hidden = getattr(obj, "_hidden_params", None)
    hidden = hidden if isinstance(hidden, Mapping) else {}
    record, block = chat_usage(as_object(obj, "usage"), model=model, provider=None)
    provider = hidden.get("custom_llm_provider")
    details = get_object(block, "prompt_tokens_details", "usage.")
    breakdown = get_object(
        details or {}, "cache_creation_token_details", "usage.prompt_tokens_details."
    )
    where = "usage.prompt_tokens_details.cache_creation_token_details."
    record = msgspec.structs.replace(
        record,
        provider=provider if isinstance(provider, str) and provider else None,
        prompt_cached_tokens=_first(
            record.prompt_cached_tokens, get_count(block, "cache_read_input_tokens", "usage.")
        ),
        prompt_cache_creation_tokens=_first(
            record.prompt_cache_creation_tokens,
            get_count(block, "cache_creation_input_tokens", "usage."),
        ),
        prompt_cache_creation_1h_tokens=get_count(breakdown, "ephemeral_1h_input_tokens", where),
    )
    cost = hidden.get("response_cost")
    if cost is None:
        return record
    return apply_reported_cost(
        record, cost, reporter="litellm", table=table if table is not None else PriceTable()
    )


def _first(*values: int | None) -> int | None:
    return next((v for v in values if v is not None), None)


def message_from_litellm(response: object) -> Message:
    """The assistant :class:`Message` of a ``ModelResponse`` (first choice): as
    :func:`~harness.providers.openai_chat.message_from_openai_chat`, with reasoning from
    ``thinking_blocks`` (``thinking`` with its signature, ``redacted_thinking`` as
    ``encrypted``), else from ``reasoning_content``.

    :raises ValueError: if there is no message or a field has the wrong shape.
    """
    return chat_message(response, _FLAVOR)


def to_litellm_messages(messages: Sequence[Message]) -> list[JSONObject]:
    """``messages`` as ``litellm.completion`` messages: the chat format, with an assistant's
    reasoning sent back as ``thinking_blocks`` (which LiteLLM forwards to Anthropic).

    :raises ValueError: naming the message and part the format cannot carry.
    """
    return to_chat(messages, _FLAVOR)


def messages_from_litellm(messages: Sequence[object]) -> list[Message]:
    """LiteLLM request messages as :class:`Message`\\ s.

    :raises ValueError: naming the message and field that has the wrong shape.
    """
    return chat_messages_from(messages, _FLAVOR)


class LiteLLMStream(ChatStream):
    """A ``litellm.completion(..., stream=True)`` stream; see
    :class:`~harness.providers.openai_chat.OpenAIChatStream`. Pieces of a thinking block are
    joined until its signature arrives."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(clock=clock)
        self._flavor = _FLAVOR

    def usage(self, *, model: str | None = None) -> UsageRecord:
        """The last chunk's usage, as :func:`usage_from_litellm` reads it.

        :raises ValueError: if no chunk carried usage (request it with
            ``stream_options={"include_usage": True}``).
        """
        return usage_from_litellm(self._usage_response(), model=model)
