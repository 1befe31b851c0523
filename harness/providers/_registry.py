"""Adapters by provider name: what the recorder looks up for ``recorder.call(provider=...)``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from schemas import Message, UsageRecord

from . import anthropic, bedrock, gemini, litellm, openai_chat, openai_responses, openrouter

__all__ = ("ADAPTERS", "Adapter", "adapter")


@dataclass(frozen=True)
class Adapter:
    """One provider's adapter functions, as the recorder calls them."""

    name: str
    make_stream: Callable[[], Any]
    read_message: Callable[[object], Message]
    read_usage: Callable[..., UsageRecord]

    def stream(self) -> Any:
        """A new accumulator for one streamed response (a ``StreamAccumulator`` with
        ``feed``, ``message`` and ``usage``)."""
        return self.make_stream()

    def message(self, response: object) -> Message:
        return self.read_message(response)

    def usage(self, response: object, *, model: str | None = None) -> UsageRecord:
        return self.read_usage(response, model=model)

    def response_id(self, response: object) -> str | None:
        """The provider's id of a whole response (``id``; Gemini's ``responseId``)."""
        for key in ("id", "responseId"):
            value = (
                response.get(key) if isinstance(response, Mapping) else getattr(response, key, None)
            )
            if isinstance(value, str):
                return value
        return None


ADAPTERS: dict[str, Adapter] = {
    a.name: a
    for a in (
        Adapter(
            "openai",
            openai_chat.OpenAIChatStream,
            openai_chat.message_from_openai_chat,
            openai_chat.usage_from_openai_chat,
        ),
        Adapter(
            "openai_responses",
            openai_responses.OpenAIResponsesStream,
            openai_responses.message_from_openai_responses,
            openai_responses.usage_from_openai_responses,
        ),
        Adapter(
            "anthropic",
            anthropic.AnthropicStream,
            anthropic.message_from_anthropic,
            anthropic.usage_from_anthropic,
        ),
        Adapter(
            "gemini", gemini.GeminiStream, gemini.message_from_gemini, gemini.usage_from_gemini
        ),
        Adapter(
            "bedrock",
            bedrock.BedrockStream,
            bedrock.message_from_bedrock_converse,
            bedrock.usage_from_bedrock_converse,
        ),
        Adapter(
            "openrouter",
            openrouter.OpenRouterStream,
            openrouter.message_from_openrouter,
            openrouter.usage_from_openrouter,
        ),
        Adapter(
            "litellm",
            litellm.LiteLLMStream,
            litellm.message_from_litellm,
            litellm.usage_from_litellm,
        ),
    )
}


def adapter(name: str) -> Adapter:
    """The adapter for a provider name (``openai``, ``openai_responses``, ``anthropic``,
    ``gemini``, ``bedrock``, ``openrouter``, ``litellm``).

    :raises ValueError: naming the known providers, for any other name.
    """
    found = ADAPTERS.get(name)
    if found is None:
        raise ValueError(f"no adapter for provider {name!r}; known: {', '.join(ADAPTERS)}")
    return found
