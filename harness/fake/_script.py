"""What the fake provider answers: a script of steps, one consumed per model request.

A step is a :class:`Reply` (content, tool calls, usage, timing, and optionally a dropped
connection) or a :class:`StatusError` (an HTTP error in the provider's own error shape). Both
are frozen msgspec Structs, so a script reads from JSON or TOML with the same validation as
one built in Python (:func:`load_script`).

Token counts follow convlog's *inclusive* convention (``UsageRecord``): ``prompt_tokens``
counts every input token, cache reads and writes included; ``completion_tokens`` counts every
output token, reasoning included. Each wire format renders them in its provider's own shape.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import TypeAlias

import msgspec

__all__ = (
    "Chunks",
    "Reply",
    "Script",
    "StatusError",
    "Step",
    "ToolCall",
    "Usage",
    "load_script",
    "pieces",
    "text_of",
)

Chunks: TypeAlias = str | tuple[str, ...]
"""Streamed text: a tuple is sent as exactly those pieces, in order; a string is split after
each run of whitespace (``"Hello, world"`` -> ``"Hello, "``, ``"world"``), as tokens roughly
are. Either way the pieces join back to the whole text."""

_WORD = re.compile(r"\s+|\S+\s*")


def pieces(chunks: Chunks) -> tuple[str, ...]:
    """The pieces ``chunks`` is streamed as; ``"".join(pieces(c)) == text_of(c)`` always."""
    if isinstance(chunks, str):
        return tuple(_WORD.findall(chunks))
    return chunks


def text_of(chunks: Chunks) -> str:
    """The whole text ``chunks`` stands for."""
    return chunks if isinstance(chunks, str) else "".join(chunks)


class Usage(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Token usage of one reply, in convlog's inclusive convention.

    ``cache_creation_tokens`` counts every cache write; ``cache_creation_1h_tokens`` is the
    share of them written with a one-hour lifetime (the rest are five-minute writes).

    :raises ValueError: if a count is negative, cache reads and writes exceed the prompt,
        one-hour writes exceed the writes, or reasoning exceeds the completion.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_creation_1h_tokens: int = 0
    reasoning_tokens: int = 0

    def __post_init__(self) -> None:
        for name in self.__struct_fields__:
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.cached_tokens + self.cache_creation_tokens > self.prompt_tokens:
            raise ValueError("cached_tokens + cache_creation_tokens exceed prompt_tokens")
        if self.cache_creation_1h_tokens > self.cache_creation_tokens:
            raise ValueError("cache_creation_1h_tokens exceed cache_creation_tokens")
        if self.reasoning_tokens > self.completion_tokens:
            raise ValueError("reasoning_tokens exceed completion_tokens")

    @property
    def fresh_input_tokens(self) -> int:
        """Prompt tokens neither read from nor written to a cache (Anthropic's
        ``input_tokens``)."""
        return self.prompt_tokens - self.cached_tokens - self.cache_creation_tokens


class ToolCall(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One tool call of a reply.

    ``arguments`` is the JSON text of the call's arguments; it must decode to a JSON object
    (Anthropic sends it decoded, as ``input``). ``id`` defaults to a provider-style id unique
    on the server (``call_...`` for OpenAI, ``toolu_...`` for Anthropic).

    :raises ValueError: if ``name`` is empty or ``arguments`` is not a JSON object.
    """

    name: str
    arguments: Chunks = "{}"
    id: str | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a tool call needs a name")
        try:
            decoded = msgspec.json.decode(text_of(self.arguments))
        except msgspec.DecodeError as exc:
            raise ValueError(f"arguments of {self.name!r} are not JSON: {exc}") from None
        if not isinstance(decoded, dict):
            raise ValueError(f"arguments of {self.name!r} are not a JSON object")


class Reply(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="reply"):
    """A successful answer, streamed or not as the request asks.

    - ``reasoning`` is sent before ``text`` (Anthropic: a ``thinking`` block; OpenAI-compatible:
      ``reasoning_content``, as DeepSeek's API sends it). ``tool_calls`` come last.
    - ``model`` is echoed as the answering model; ``None`` echoes the request's ``model``.
    - ``stop_reason`` is sent verbatim; ``None`` derives it (tool calls: ``tool_calls`` /
      ``tool_use``, else ``stop`` / ``end_turn``).
    - ``first_chunk_delay``: seconds from the response headers to the first chunk that
      carries content (reasoning, text or a tool call). Keep-alives are sent before it.
      ``chunk_delay``: seconds before each further content chunk. A non-streamed reply is sent
      after the time its stream would have taken.
    - ``keepalive``: send what carries no content before the first content chunk, as the real
      APIs do: OpenAI's role-only first chunk (after an SSE comment, as routers send), an
      Anthropic ``ping``. Off, OpenAI's role rides on the first content chunk.
    - ``drop_after``: close the connection after this many content chunks, without the
      terminating events; a non-streamed request then gets no response at all.

    :raises ValueError: if a delay or ``drop_after`` is negative.
    """

    text: Chunks = ""
    reasoning: Chunks = ""
    tool_calls: tuple[ToolCall, ...] = ()
    model: str | None = None
    usage: Usage = Usage()
    stop_reason: str | None = None
    first_chunk_delay: float = 0.0
    chunk_delay: float = 0.0
    keepalive: bool = True
    drop_after: int | None = None

    def __post_init__(self) -> None:
        if self.first_chunk_delay < 0 or self.chunk_delay < 0:
            raise ValueError("delays must be >= 0")
        if self.drop_after is not None and self.drop_after < 0:
            raise ValueError("drop_after must be >= 0")


class StatusError(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="error"
):
    """An HTTP error response in the provider's own error body.

    ``error_type`` and ``message`` default to what the provider sends for ``status``
    (429: OpenAI ``requests`` / Anthropic ``rate_limit_error``; 5xx: ``server_error`` /
    ``api_error``, 529 ``overloaded_error``). ``retry_after`` sets the ``retry-after`` header
    in seconds; ``should_retry`` sets ``x-should-retry``, which both SDKs obey over their own
    rules. ``delay`` is how many seconds to wait before answering.

    The SDKs retry 408, 409, 429 and 5xx by themselves; a test that wants to see the error
    builds its client with ``max_retries=0`` (or scripts one error per retry).

    :raises ValueError: if ``status`` is not in 400-599 or a duration is negative.
    """

    status: int
    message: str | None = None
    error_type: str | None = None
    retry_after: float | None = None
    should_retry: bool | None = None
    delay: float = 0.0

    def __post_init__(self) -> None:
        if not 400 <= self.status <= 599:
            raise ValueError("status must be an HTTP error, 400-599")
        if self.delay < 0 or (self.retry_after is not None and self.retry_after < 0):
            raise ValueError("durations must be >= 0")


Step: TypeAlias = Reply | StatusError
"""One scripted answer; in JSON or TOML tagged ``"type": "reply"`` or ``"type": "error"``."""


class Script(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A script as a file holds it: ``steps`` answered in order, then ``default`` for every
    further request (none: the server answers 500, saying the script ran out)."""

    steps: tuple[Step, ...] = ()
    default: Step | None = None


def load_script(path: str | Path) -> Script:
    """Read a :class:`Script` from a ``.toml`` file, or any other file as JSON.

    :raises OSError: if the file cannot be read.
    :raises ValueError: if it is not valid TOML/JSON or not a valid script; the message names
        the offending path (``msgspec.ValidationError`` and ``tomllib.TOMLDecodeError`` are
        both ``ValueError``).
    """
    path = Path(path)
    data = path.read_bytes()
    if path.suffix == ".toml":
        return msgspec.convert(tomllib.loads(data.decode()), type=Script)
    return msgspec.json.decode(data, type=Script)
