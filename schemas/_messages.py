"""``Message`` and its typed content parts.

A message carries OpenAI chat and Anthropic messages conversations losslessly: ``content`` is a
plain string or a list of parts; tool calls, tool results and reasoning are parts. A part whose
``type`` this version does not know decodes to :class:`UnknownPart`, which keeps the whole JSON
object and encodes back to it unchanged.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeAlias

import msgspec

__all__ = (
    "AnyPart",
    "ImagePart",
    "Message",
    "Part",
    "ReasoningPart",
    "TextPart",
    "ToolCallPart",
    "ToolResultPart",
    "UnknownPart",
)


class _Part(
    msgspec.Struct, frozen=True, omit_defaults=True, kw_only=True, tag_field="type", gc=False
):
    """Base of the tagged content parts; the tag lives in the JSON field ``type``."""


class TextPart(_Part, tag="text", frozen=True):
    text: str


class ImagePart(_Part, tag="image", frozen=True):
    """An image by ``url`` or inline base64 ``data`` with its ``media_type``."""

    url: str | None = None
    data: str | None = None
    media_type: str | None = None
    detail: str | None = None


class ToolCallPart(_Part, tag="tool_call", frozen=True):
    """A model's request to call a tool.

    ``arguments`` is the JSON text of the arguments exactly as the model produced it (OpenAI
    sends a string, which may even be malformed; Anthropic's ``input`` object is serialized).
    """

    id: str
    name: str
    arguments: str = "{}"


class ToolResultPart(_Part, tag="tool_result", frozen=True):
    """The result of a tool call, sent back to the model."""

    tool_call_id: str
    content: str | list[Part] = ""
    is_error: bool = False


class ReasoningPart(_Part, tag="reasoning", frozen=True):
    """Model reasoning ("thinking").

    ``signature`` is Anthropic's thinking signature; ``encrypted`` holds an opaque provider blob
    (Anthropic ``redacted_thinking.data``, OpenAI ``encrypted_content``) that must be replayed
    unchanged; ``id`` is the provider's reasoning item id.
    """

    text: str = ""
    signature: str | None = None
    encrypted: str | None = None
    id: str | None = None


Part: TypeAlias = TextPart | ImagePart | ToolCallPart | ToolResultPart | ReasoningPart


class UnknownPart:
    """A content part of a type this version does not know, kept whole.

    It is not a ``msgspec.Struct`` on purpose: it encodes back to exactly the JSON object it was
    decoded from (``data``), including its original ``type``.
    """

    __slots__ = ("data",)

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @property
    def type(self) -> str:
        tag = self.data.get("type")
        return tag if isinstance(tag, str) else ""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnknownPart) and other.data == self.data

    def __hash__(self) -> int:
        return hash(msgspec.json.encode(self.data))

    def __repr__(self) -> str:
        return f"UnknownPart({self.data!r})"


#: What a ``content`` list may hold once decoded.
AnyPart: TypeAlias = Part | UnknownPart


class Message(msgspec.Struct, frozen=True, omit_defaults=True, kw_only=True, gc=False):
    """One chat message.

    ``role`` is kept as the provider sent it (``system``, ``developer``, ``user``,
    ``assistant``, ``tool``, ...). ``content`` is ``None`` for an assistant turn that only calls
    tools in OpenAI's shape; such calls are ``ToolCallPart``s in a content list.
    """

    role: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    content: str | list[Part] | None = None
    id: str | None = None
    name: str | None = None
    tool_call_id: str | None = None
