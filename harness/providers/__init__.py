"""Provider adapters: one module per provider, each mapping both ways at the edge.

Every module turns what its SDK (or its HTTP API) hands a user into convlog's types, and a
history back into that provider's request format, so ``replay`` feeds the next call:

================================  =========================================================
module                            provider, and its functions
================================  =========================================================
:mod:`.openai_chat`               OpenAI Chat Completions (and compatible servers):
                                  ``usage_from_openai_chat``, ``message_from_openai_chat``,
                                  ``to_openai_chat_messages``, ``messages_from_openai_chat``,
                                  ``OpenAIChatStream``
:mod:`.openai_responses`          OpenAI Responses: ``usage_from_openai_responses``,
                                  ``message_from_openai_responses``,
                                  ``to_openai_responses_input``,
                                  ``messages_from_openai_responses``,
                                  ``OpenAIResponsesStream``
:mod:`.anthropic`                 Anthropic Messages, and Claude on Vertex AI:
                                  ``usage_from_anthropic``, ``usage_from_vertex_anthropic``,
                                  ``message_from_anthropic``, ``to_anthropic_request``,
                                  ``messages_from_anthropic``, ``AnthropicStream``
:mod:`.gemini`                    Gemini ``generateContent`` (Gemini API, Vertex AI):
                                  ``usage_from_gemini``, ``message_from_gemini``,
                                  ``to_gemini_request``, ``messages_from_gemini``,
                                  ``GeminiStream``
:mod:`.bedrock`                   Amazon Bedrock Converse: ``usage_from_bedrock_converse``,
                                  ``message_from_bedrock_converse``,
                                  ``to_bedrock_converse_request``,
                                  ``messages_from_bedrock_converse``, ``BedrockStream``
:mod:`.openrouter`                OpenRouter (reported cost): ``usage_from_openrouter``,
                                  ``message_from_openrouter``, ``to_openrouter_messages``,
                                  ``messages_from_openrouter``, ``OpenRouterStream``
:mod:`.litellm`                   LiteLLM ``ModelResponse``: ``usage_from_litellm``,
                                  ``message_from_litellm``, ``to_litellm_messages``,
                                  ``messages_from_litellm``, ``LiteLLMStream``
================================  =========================================================

The shape is the same everywhere:

- ``usage_from_<x>(obj, *, model=None, ...) -> UsageRecord``: ``obj`` is a whole response, a
  streamed chunk or event that carries usage, the usage block alone, or their decoded JSON.
  Counts come out *inclusive* (cache reads and writes inside ``prompt_tokens``, reasoning
  inside ``completion_tokens``). A count that is not an integer >= 0 raises ``ValueError``
  naming the field. ``model`` is the requested id, used when the provider echoes none.
- ``message_from_<x>(response) -> Message``: the assistant turn, with text, tool calls and
  reasoning as parts; provider blocks no part describes are kept whole as unknown parts and
  sent back unchanged.
- ``to_<x>_...(messages)``: the provider's request format (with the system prompt apart where
  the provider keeps it apart); ``messages_from_<x>(...)`` reads that format back, so a
  history survives ``messages_from(to(history))``. What a format cannot carry raises
  ``ValueError`` naming the message and part; nothing is dropped silently but what
  ``docs/providers.md`` lists as not carried.
- ``<X>Stream``: ``feed(chunk)`` per streamed chunk or event (SDK object or dict) returns
  ``True`` at the first chunk with content (text, reasoning or a tool call), for TTFT; then
  ``message()`` and ``usage()``.

No SDK is imported here: the adapters read SDK objects and dicts alike.
"""

from . import anthropic as anthropic
from . import bedrock as bedrock
from . import gemini as gemini
from . import litellm as litellm
from . import openai_chat as openai_chat
from . import openai_responses as openai_responses
from . import openrouter as openrouter
from ._registry import ADAPTERS as ADAPTERS
from ._registry import Adapter as Adapter
from ._registry import adapter as adapter

__all__ = (
    "ADAPTERS",
    "Adapter",
    "adapter",
    "anthropic",
    "bedrock",
    "gemini",
    "litellm",
    "openai_chat",
    "openai_responses",
    "openrouter",
)
