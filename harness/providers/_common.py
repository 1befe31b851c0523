"""What every adapter shares: reading SDK objects and JSON alike, counts, images, arguments.

Users hand an adapter whatever their SDK gave them: a pydantic model (``openai``,
``anthropic``, ``litellm``), a plain object with attributes, or a decoded JSON dict.
:func:`as_json` turns any of them into plain JSON-shaped values once, at the entry, so the
adapters themselves read only dicts and lists. No SDK is imported: the adapters duck-type.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias, cast, get_args

import msgspec

from schemas import (
    AnyPart,
    ImagePart,
    Message,
    Part,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    UnknownPart,
)
from schemas.types import MAX_SAFE_INT

#: A decoded JSON object, as every adapter reads and writes it.
JSONObject: TypeAlias = dict[str, Any]

#: Content as adapters build it: unknown parts included (``Message`` types only known ones).
Content: TypeAlias = str | list[AnyPart] | None

_DATA_URL = re.compile(r"data:(?P<media>[^;,]+);base64,(?P<data>.*)", re.DOTALL)


def as_json(value: object) -> Any:
    """``value`` as plain JSON-shaped Python: dicts, lists, str, int, float, bool, None.

    Pydantic models (the ``openai``, ``anthropic`` and ``litellm`` SDKs) are dumped with the
    API's field names and only the fields that were set, which is the JSON they were read
    from; other objects give their public attributes. ``bytes`` are kept (boto3 returns
    images and redacted reasoning as raw bytes).

    :raises TypeError: for a value that has no JSON shape.
    """
    if value is None or isinstance(value, str | bool | int | float | bytes):
        return value
    if isinstance(value, Mapping):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_json(v) for v in value]
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        # Pydantic dumps nested models too: what comes back is dicts, lists and scalars
        # already, so it is not walked again (a stream's chunks come through here, one by one).
        return dump(by_alias=True, exclude_unset=True)
    if hasattr(value, "__dict__"):
        return {k: as_json(v) for k, v in vars(value).items() if not k.startswith("_")}
    raise TypeError(f"cannot read a {type(value).__name__} as JSON")


def as_object(value: object, path: str) -> JSONObject:
    """:func:`as_json` of ``value``, which must be an object.

    :raises ValueError: naming ``path`` if it is not.
    """
    data = as_json(value)
    if not isinstance(data, dict):
        raise ValueError(f"{path} must be an object, got {type(data).__name__}")
    return data


def get_object(data: Mapping[str, Any], key: str, path: str) -> JSONObject | None:
    """``data[key]`` if it is an object, ``None`` if absent or null.

    :raises ValueError: naming the field if it is something else.
    """
    value = data.get(key)
    if value is None or isinstance(value, dict):
        return value
    raise ValueError(f"{path}{key} must be an object, got {type(value).__name__}")


def get_list(data: Mapping[str, Any], key: str, path: str) -> list[Any]:
    """``data[key]`` if it is a list, ``[]`` if absent or null.

    :raises ValueError: naming the field if it is something else.
    """
    value = data.get(key)
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise ValueError(f"{path}{key} must be a list, got {type(value).__name__}")


def get_str(data: Mapping[str, Any], key: str, path: str) -> str | None:
    """``data[key]`` if it is a string, ``None`` if absent or null.

    :raises ValueError: naming the field if it is something else.
    """
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"{path}{key} must be a string, got {value!r}")


def get_count(data: Mapping[str, Any] | None, key: str, path: str) -> int | None:
    """The token count ``data[key]``, ``None`` if absent or null.

    :raises ValueError: naming the field if it is not an integer in 0..2**53-1 (the range a
        ``UsageRecord`` holds).
    """
    if data is None:
        return None
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SAFE_INT:
        raise ValueError(f"{path}{key} must be an integer >= 0 (below 2**53), got {value!r}")
    return value


def add_counts(path: str, *counts: int | None) -> int:
    """The sum of the counts present.

    :raises ValueError: naming ``path`` if the sum is too large for a ``UsageRecord``.
    """
    total = sum(c for c in counts if c is not None)
    if total > MAX_SAFE_INT:
        raise ValueError(f"{path} adds up to {total}, above 2**53 - 1")
    return total


def model_of(echoed: object, given: str | None) -> str:
    """The model id to record: the one the provider echoed, else the one requested.

    :raises ValueError: if there is neither.
    """
    if isinstance(echoed, str) and echoed:
        return echoed
    if given:
        return given
    raise ValueError("the response names no model: pass model=<the requested model id>")


def message(
    role: str,
    content: Content,
    *,
    id: str | None = None,
    name: str | None = None,
    tool_call_id: str | None = None,
) -> Message:
    """A :class:`Message` whose content may hold :class:`UnknownPart`\\ s, kept whole."""
    # ``Message.content`` names the known parts only; unknown ones are kept and encoded too.
    known = cast(str | list[Part] | None, content)
    return Message(role=role, content=known, id=id, name=name, tool_call_id=tool_call_id)


def tool_result(tool_call_id: str, content: Content, *, is_error: bool = False) -> ToolResultPart:
    """A :class:`ToolResultPart` whose content may hold unknown parts, kept whole."""
    known = cast(str | list[Part], content if content is not None else "")
    return ToolResultPart(tool_call_id=tool_call_id, content=known, is_error=is_error)


def parts_of(content: str | Sequence[AnyPart] | None) -> list[AnyPart]:
    """``content`` as a list of parts: a string is one text part, ``None`` none."""
    if content is None:
        return []
    if isinstance(content, str):
        return [TextPart(text=content)]
    return list(content)


# --- images ---------------------------------------------------------------------------------


def image_from_url(url: str, detail: str | None = None) -> ImagePart:
    """An :class:`ImagePart` from a URL: a base64 ``data:`` URL becomes ``data`` and
    ``media_type``, as every other provider carries inline images."""
    found = _DATA_URL.fullmatch(url)
    if found is not None:
        return ImagePart(data=found["data"], media_type=found["media"], detail=detail)
    return ImagePart(url=url, detail=detail)


def image_url(part: ImagePart, where: str) -> str:
    """The URL of an image, a ``data:`` URL for inline data.

    :raises ValueError: naming ``where`` if the part has neither, or data without a type.
    """
    if part.data is not None:
        if part.url is not None:
            raise ValueError(f"{where}: an image has both url and data; keep one")
        return f"data:{_media_type(part, where)};base64,{part.data}"
    if part.url is None:
        raise ValueError(f"{where}: an image has neither url nor data")
    return part.url


def inline_image(part: ImagePart, where: str) -> tuple[str, str] | None:
    """``(media_type, base64 data)`` of an inline image (a ``data:`` URL counts), or ``None``
    for an image by URL.

    :raises ValueError: naming ``where`` for an image without url or data, or without a type.
    """
    if part.data is not None:
        if part.url is not None:
            raise ValueError(f"{where}: an image has both url and data; keep one")
        return _media_type(part, where), part.data
    if part.url is None:
        raise ValueError(f"{where}: an image has neither url nor data")
    found = _DATA_URL.fullmatch(part.url)
    return None if found is None else (found["media"], found["data"])


def _media_type(part: ImagePart, where: str) -> str:
    if not part.media_type:
        raise ValueError(f"{where}: inline image data needs a media_type")
    return part.media_type


def b64decode(data: str, where: str) -> bytes:
    """Strictly decoded base64.

    :raises ValueError: naming ``where`` if ``data`` is not base64.
    """
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{where}: data is not valid base64") from None


def b64text(value: object, where: str) -> str:
    """Base64 text of ``value``: raw ``bytes`` (boto3) are encoded, a string (JSON) is kept.

    :raises ValueError: naming ``where`` for anything else.
    """
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, str):
        return value
    raise ValueError(f"{where} must be bytes or base64 text, got {type(value).__name__}")


# --- tool calls -----------------------------------------------------------------------------


def json_text(value: object) -> str:
    """Compact JSON text of ``value``, as tool-call arguments are stored when a provider sends
    an object (Anthropic's ``input``, Gemini's ``args``) rather than text."""
    return msgspec.json.encode(value).decode()


def arguments_object(part: ToolCallPart, where: str) -> JSONObject:
    """The arguments of a tool call as the JSON object a provider that wants one receives.

    :raises ValueError: naming ``where`` if ``arguments`` is not the text of a JSON object.
    """
    try:
        value = msgspec.json.decode(part.arguments or "{}")
    except msgspec.DecodeError:
        value = None
    if not isinstance(value, dict):
        raise ValueError(
            f"{where}: tool call {part.name!r} has arguments that are not a JSON object "
            f"({part.arguments[:40]!r}); this provider needs one"
        )
    return value


def streamed_arguments(text: str) -> str:
    """The arguments of a streamed tool call: its JSON pieces joined, then written the way the
    same call reads when not streamed (compact); kept verbatim if they do not parse."""
    if not text.strip():
        return "{}"
    try:
        return json_text(msgspec.json.decode(text))
    except msgspec.DecodeError:
        return text


# --- reasoning ------------------------------------------------------------------------------


def redacted_data(part: ReasoningPart, where: str, block: str) -> str | None:
    """The data of a reasoning part sent as a provider's redacted block (``encrypted`` alone),
    or ``None`` for one sent as text (with its signature).

    :raises ValueError: naming ``where`` for a part with both, which no such block holds.
    """
    if part.encrypted is None:
        return None
    if part.text or part.signature is not None:
        raise ValueError(
            f"{where}: reasoning with both encrypted data and text or a signature has no "
            f"{block} (the redacted form holds the data alone)"
        )
    return part.encrypted


def reasoning_from_thinking(block: Mapping[str, Any], where: str) -> ReasoningPart | None:
    """An Anthropic ``thinking`` or ``redacted_thinking`` block (LiteLLM forwards the same
    blocks as ``thinking_blocks``) as a reasoning part; ``None`` for another block."""
    kind = block.get("type")
    if kind == "thinking":
        return ReasoningPart(
            text=get_str(block, "thinking", f"{where}.") or "",
            signature=get_str(block, "signature", f"{where}."),
        )
    if kind == "redacted_thinking":
        return ReasoningPart(encrypted=get_str(block, "data", f"{where}.") or "")
    return None


def thinking_from_reasoning(part: ReasoningPart, where: str) -> JSONObject:
    """A reasoning part as an Anthropic ``thinking`` (text and signature) or
    ``redacted_thinking`` (encrypted data) block.

    :raises ValueError: naming ``where`` for a part with both encrypted data and text.
    """
    data = redacted_data(part, where, "Anthropic thinking block")
    if data is not None:
        return {"type": "redacted_thinking", "data": data}
    thinking: JSONObject = {"type": "thinking", "thinking": part.text}
    if part.signature is not None:
        thinking["signature"] = part.signature
    return thinking


# --- unknown parts --------------------------------------------------------------------------

#: The ``type`` tags of the parts ``schemas`` knows; an unknown part must not claim one.
KNOWN_PART_TYPES = frozenset(cls.__struct_config__.tag for cls in get_args(Part))


def cannot_carry(part: object, where: str, what: str = "this provider's format") -> ValueError:
    """The error for a part a provider's format has no place for (never dropped silently)."""
    if isinstance(part, UnknownPart):
        kind = part.type
    else:
        kind = getattr(getattr(part, "__struct_config__", None), "tag", type(part).__name__)
    return ValueError(f"{where}: a {kind} part cannot go in {what}")


def foreign(block: object, where: str) -> UnknownPart:
    """A provider block no part class describes (a document, a server tool's result), kept
    whole as an :class:`UnknownPart`, to be sent back to the provider exactly as it came.

    :raises ValueError: naming ``where`` if the block is no object with a ``type`` of its own.
    """
    if not isinstance(block, dict):
        raise ValueError(f"{where} must be an object, got {type(block).__name__}")
    kind = block.get("type")
    if not isinstance(kind, str) or not kind or kind in KNOWN_PART_TYPES:
        raise ValueError(f"{where}: unexpected content block type {kind!r}")
    return UnknownPart(block)


def split_usage(
    data: JSONObject, key: str, response_keys: Sequence[str]
) -> tuple[JSONObject, JSONObject | None]:
    """``(usage block, response)`` of what a user handed a ``usage_from_*`` function: a whole
    response (it has ``key`` or one of ``response_keys``) or the usage block alone.

    :raises ValueError: if a response carries no usage.
    """
    if key in data or any(k in data for k in response_keys):
        block = data.get(key)
        if not isinstance(block, dict):
            raise ValueError(f"the response carries no {key}")
        return block, data
    return data, None


def keyed_unknown(block: Mapping[str, Any], provider: str, kind: str) -> UnknownPart:
    """A provider block keyed by its kind (Bedrock ``{"document": ...}``, Gemini
    ``{"executableCode": ...}``) kept whole as an :class:`UnknownPart` tagged
    ``<provider>.<kind>``: such blocks have no ``type`` of their own, and the provider's name
    keeps the tag clear of the part types ``schemas`` knows and of other providers' blocks."""
    return UnknownPart({"type": f"{provider}.{kind}", **block})


def keyed_block(part: UnknownPart, provider: str, where: str) -> JSONObject:
    """The block :func:`keyed_unknown` kept, given back exactly.

    :raises ValueError: naming ``where`` if the part came from another provider.
    """
    prefix, _, kind = part.type.partition(".")
    if prefix != provider or not kind or kind not in part.data:
        raise ValueError(
            f"{where}: part of type {part.type!r} did not come from {provider} and cannot be sent"
        )
    return {k: v for k, v in part.data.items() if k != "type"}


# --- streams --------------------------------------------------------------------------------


class StreamAccumulator:
    """Base of the streaming accumulators: when the first content arrived.

    ``first_content_at`` is the ``clock()`` reading (monotonic seconds by default) at the
    first chunk that carried content: text, reasoning or a tool call. Role-only chunks,
    keep-alives and usage-only chunks do not count. ``feed`` returns ``True`` for exactly that
    chunk, so a recorder can take TTFT there.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.first_content_at: float | None = None

    def _content_arrived(self) -> None:
        if self.first_content_at is None:
            self.first_content_at = self._clock()
