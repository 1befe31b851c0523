"""Google Gemini (``generateContent``, on the Gemini API or Vertex AI): usage, the candidate as
an assistant message, and history as ``contents`` plus ``systemInstruction``.

Field names from Google's Gemini API reference ("Generating content":
``GenerateContentResponse``, ``UsageMetadata``, ``Content``, ``Part``), in the REST API's
camelCase JSON. The ``google-genai`` SDK's objects dump to the same names
(``model_dump(by_alias=True)``), so their JSON can be passed too.

Usage: ``promptTokenCount`` already includes ``cachedContentTokenCount``;
``toolUsePromptTokenCount`` (tool results fed back in) is input too. Thoughts are output:
``completion_tokens = candidatesTokenCount + thoughtsTokenCount``, and the thoughts are its
reasoning share. The API omits zero counts, so an absent count in a present
``usageMetadata`` adds 0.

Messages: role ``model`` is ``assistant`` here. A part with ``thought: true`` is a reasoning
part; a ``thoughtSignature`` on any other part is kept as a reasoning part with no text just
before it, and sent back on that part. Gemini matches a ``functionResponse`` to its call by
``name``: a function response is a ``tool`` message whose ``name`` is the function's and
whose ``tool_call_id`` is the call's ``id`` (absent when Gemini sent none). Its ``response``
object is the message's content as JSON text, except ``{"result": "<text>"}``, which reads
as the text itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NotRequired, TypedDict

import msgspec

from schemas import (
    AnyPart,
    ImagePart,
    Message,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    UnknownPart,
    UsageRecord,
)

from ._common import (
    JSONObject,
    StreamAccumulator,
    add_counts,
    arguments_object,
    as_object,
    cannot_carry,
    get_count,
    get_list,
    get_object,
    get_str,
    inline_image,
    json_text,
    keyed_block,
    keyed_unknown,
    message,
    model_of,
    parts_of,
    split_usage,
)

__all__ = (
    "GeminiRequest",
    "GeminiStream",
    "message_from_gemini",
    "messages_from_gemini",
    "to_gemini_request",
    "usage_from_gemini",
)

_RESPONSE_KEYS = ("candidates", "modelVersion", "responseId", "promptFeedback")
# Keys a part may carry beside the one that says what it is.
_PART_METADATA = frozenset({"thought", "thoughtSignature", "videoMetadata", "partMetadata"})


# --- usage ----------------------------------------------------------------------------------


def usage_from_gemini(
    obj: object, *, model: str | None = None, provider: str = "gemini"
) -> UsageRecord:
    """A :class:`UsageRecord` from a ``GenerateContentResponse`` (the last chunk of a stream
    too) or its ``usageMetadata``, as JSON.

    ``model`` is used when ``obj`` has no ``modelVersion``. ``provider`` is ``gemini`` for the
    Gemini API; pass ``vertex_ai`` for Vertex AI.

    :raises ValueError: if a count is not an integer >= 0, there is no count, or no model.
    """
    data = as_object(obj, "usageMetadata")
    block, response = split_usage(data, "usageMetadata", _RESPONSE_KEYS)
    where = "usageMetadata."
    prompt = get_count(block, "promptTokenCount", where)
    cached = get_count(block, "cachedContentTokenCount", where)
    tool_prompt = get_count(block, "toolUsePromptTokenCount", where)
    candidates = get_count(block, "candidatesTokenCount", where)
    thoughts = get_count(block, "thoughtsTokenCount", where)
    if prompt is None and candidates is None and thoughts is None:
        raise ValueError(
            "usageMetadata has none of promptTokenCount, candidatesTokenCount, thoughtsTokenCount"
        )
    echoed = response.get("modelVersion") if response is not None else None
    return UsageRecord(
        model=model_of(echoed, model),
        provider=provider,
        prompt_tokens=add_counts("usageMetadata prompt", prompt, tool_prompt),
        completion_tokens=add_counts("usageMetadata completion", candidates, thoughts),
        prompt_cached_tokens=cached,
        completion_reasoning_tokens=thoughts,
    )


# --- provider -> Message --------------------------------------------------------------------


def message_from_gemini(response: object) -> Message:
    """The assistant :class:`Message` of a ``GenerateContentResponse``'s first candidate (or
    of a ``Content``), as JSON. No candidate (a blocked prompt) gives an empty message.

    :raises ValueError: if a part has the wrong shape.
    """
    data = as_object(response, "response")
    if "candidates" in data:
        candidates = get_list(data, "candidates", "")
        first = as_object(candidates[0], "candidates[0]") if candidates else {}
        data = get_object(first, "content", "candidates[0].") or {}
    return message("assistant", _read_parts(get_list(data, "parts", "content."), "parts"))


def _read_parts(parts: list[Any], where: str) -> list[AnyPart]:
    out: list[AnyPart] = []
    for i, raw in enumerate(parts):
        at = f"{where}[{i}]"
        part = as_object(raw, at)
        signature = get_str(part, "thoughtSignature", f"{at}.")
        if part.get("thought") is True:
            text = get_str(part, "text", f"{at}.") or ""
            out.append(ReasoningPart(text=text, signature=signature))
            continue
        if signature is not None:
            out.append(ReasoningPart(signature=signature))
            part = {k: v for k, v in part.items() if k != "thoughtSignature"}
        if set(part) - _PART_METADATA:  # a bare signature carrier holds nothing else
            out.append(_read_part(part, at))
    return out


def _read_part(part: JSONObject, where: str) -> AnyPart:
    at = f"{where}."
    if isinstance(part.get("text"), str):
        return TextPart(text=part["text"])
    call = get_object(part, "functionCall", at)
    if call is not None:
        return ToolCallPart(
            id=get_str(call, "id", f"{at}functionCall.") or "",
            name=get_str(call, "name", f"{at}functionCall.") or "",
            arguments=json_text(call.get("args") or {}),
        )
    for key, url_key in (("inlineData", "data"), ("fileData", "fileUri")):
        blob = get_object(part, key, at)
        if blob is None or len(part) != 1 or set(blob) != {"mimeType", url_key}:
            continue
        mime = get_str(blob, "mimeType", f"{at}{key}.")
        if mime is not None and mime.startswith("image/"):
            value = get_str(blob, url_key, f"{at}{key}.") or ""
            if key == "inlineData":
                return ImagePart(data=value, media_type=mime)
            return ImagePart(url=value, media_type=mime)
    kind = next((k for k in part if k not in _PART_METADATA), "")
    return keyed_unknown(part, "gemini", kind)


def messages_from_gemini(request: Mapping[str, Any] | Sequence[object]) -> list[Message]:
    """A request's ``systemInstruction`` and ``contents`` (what :func:`to_gemini_request`
    writes, or a logged request; a bare ``contents`` list too) as :class:`Message`\\ s.

    Function responses become ``tool`` messages, one per response, before the rest of their
    content.

    :raises ValueError: naming the content and part that has the wrong shape.
    """
    out: list[Message] = []
    if isinstance(request, Mapping):
        system = request.get("systemInstruction")
        if system is not None:
            parts = get_list(as_object(system, "systemInstruction"), "parts", "systemInstruction.")
            out.append(message("system", _read_parts(parts, "systemInstruction.parts")))
        contents = list(request.get("contents") or [])
    else:
        contents = list(request)
    for i, raw in enumerate(contents):
        where = f"contents[{i}]"
        content = as_object(raw, where)
        role = get_str(content, "role", f"{where}.") or "user"
        rest: list[Any] = []
        answered = False
        for j, part in enumerate(get_list(content, "parts", f"{where}.")):
            response = get_object(as_object(part, f"{where}.parts[{j}]"), "functionResponse", "")
            if response is None:
                rest.append(part)
            else:
                answered = True
                out.append(_read_response(response, f"{where}.parts[{j}].functionResponse"))
        if rest or not answered:
            parts = _read_parts(rest, f"{where}.parts")
            out.append(message("assistant" if role == "model" else role, parts))
    return out


def _read_response(response: JSONObject, where: str) -> Message:
    body = get_object(response, "response", f"{where}.") or {}
    result = body.get("result")
    text = result if set(body) == {"result"} and isinstance(result, str) else json_text(body)
    return message(
        "tool",
        text,
        name=get_str(response, "name", f"{where}."),
        tool_call_id=get_str(response, "id", f"{where}."),
    )


# --- Message -> provider --------------------------------------------------------------------


class GeminiRequest(TypedDict):
    """The history part of a ``generateContent`` request body."""

    contents: list[JSONObject]
    systemInstruction: NotRequired[JSONObject]


def to_gemini_request(messages: Sequence[Message]) -> GeminiRequest:
    """``messages`` as a request's ``contents`` and, when there are system (or developer)
    messages, its ``systemInstruction``.

    ``assistant`` becomes ``model``. Tool messages, and ``tool_result`` parts, become
    ``functionResponse`` parts of a user content (consecutive ones share it); the function's
    name is the message's ``name``, else the name of the call with that ``tool_call_id``.
    Tool-call arguments must be a JSON object.

    :raises ValueError: naming the message and part Gemini cannot carry.
    """
    system: list[JSONObject] = []
    out: list[JSONObject] = []
    names: dict[str, str] = {}  # tool-call id -> function name, for the responses
    for i, m in enumerate(messages):
        where = f"messages[{i}]"
        if m.role in ("system", "developer"):
            system.extend(_write_parts(parts_of(m.content), names, f"{where}.content"))
            continue
        if m.role == "tool":
            name = m.name or names.get(m.tool_call_id or "")
            text = _text_of(m.content, f"{where}.content")
            _append(out, "user", [_function_response(name, m.tool_call_id, text, where)], True)
            continue
        if m.role not in ("user", "assistant"):
            raise ValueError(f"{where}: role {m.role!r} has no place in Gemini's contents")
        role = "model" if m.role == "assistant" else "user"
        parts = parts_of(m.content)
        results = [p for p in parts if isinstance(p, ToolResultPart)]
        if results:
            responses = [
                _function_response(
                    names.get(p.tool_call_id),
                    p.tool_call_id or None,
                    _text_of(p.content, f"{where}.content"),
                    where,
                )
                for p in results
            ]
            _append(out, "user", responses, True)
            parts = [p for p in parts if not isinstance(p, ToolResultPart)]
            if not parts:
                continue
        _append(out, role, _write_parts(parts, names, f"{where}.content"), False)
    request = GeminiRequest(contents=out)
    if system:
        request["systemInstruction"] = {"parts": system}
    return request


def _append(out: list[JSONObject], role: str, parts: list[JSONObject], responses: bool) -> None:
    last = out[-1] if out else None
    if (
        responses
        and last is not None
        and last["role"] == role
        and last["parts"]
        and all("functionResponse" in p for p in last["parts"])
    ):
        last["parts"].extend(parts)
    else:
        out.append({"role": role, "parts": parts})


def _function_response(name: str | None, call_id: str | None, text: str, where: str) -> JSONObject:
    if not name:
        raise ValueError(
            f"{where}: a tool result needs the function's name for Gemini: set the message's "
            "name, or keep the tool call it answers earlier in the history"
        )
    response: JSONObject = {"name": name, "response": _response_body(text)}
    if call_id:
        response["id"] = call_id
    return {"functionResponse": response}


def _response_body(text: str) -> JSONObject:
    """The ``response`` object for a tool's text: the object itself when the text is one (as
    compact JSON, so it reads back the same), else ``{"result": text}``."""
    try:
        value = msgspec.json.decode(text)
    except msgspec.DecodeError:
        value = None
    if isinstance(value, dict) and json_text(value) == text:
        result = value.get("result")
        if not (set(value) == {"result"} and isinstance(result, str)):
            return value
    return {"result": text}


def _text_of(content: object, where: str) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    assert isinstance(content, list)
    texts = []
    for j, part in enumerate(content):
        if not isinstance(part, TextPart):
            raise cannot_carry(part, f"{where}[{j}]", "a Gemini function response")
        texts.append(part.text)
    return "".join(texts)


def _write_parts(parts: list[AnyPart], names: dict[str, str], where: str) -> list[JSONObject]:
    out: list[JSONObject] = []
    pending: str | None = None  # a signature waiting for the part it belongs to
    for j, part in enumerate(parts):
        at = f"{where}[{j}]"
        if pending is not None and isinstance(part, ReasoningPart):
            out.append({"text": "", "thought": True, "thoughtSignature": pending})
            pending = None
        if isinstance(part, ReasoningPart):
            if part.encrypted is not None:
                raise cannot_carry(part, at, "Gemini's parts (it has no encrypted reasoning)")
            if not part.text and part.signature is not None:
                pending = part.signature
                continue
            thought: JSONObject = {"text": part.text, "thought": True}
            if part.signature is not None:
                thought["thoughtSignature"] = part.signature
            out.append(thought)
            continue
        written = _write_part(part, names, at)
        if pending is not None:
            written["thoughtSignature"] = pending
            pending = None
        out.append(written)
    if pending is not None:
        out.append({"text": "", "thought": True, "thoughtSignature": pending})
    return out


def _write_part(part: AnyPart, names: dict[str, str], where: str) -> JSONObject:
    if isinstance(part, TextPart):
        return {"text": part.text}
    if isinstance(part, ImagePart):
        inline = inline_image(part, where)
        if inline is not None:
            return {"inlineData": {"mimeType": inline[0], "data": inline[1]}}
        blob: JSONObject = {"fileUri": part.url}
        if part.media_type is not None:
            blob["mimeType"] = part.media_type
        return {"fileData": blob}
    if isinstance(part, ToolCallPart):
        names[part.id] = part.name
        call: JSONObject = {"name": part.name, "args": arguments_object(part, where)}
        if part.id:
            call["id"] = part.id
        return {"functionCall": call}
    if isinstance(part, UnknownPart):
        return keyed_block(part, "gemini", where)
    raise cannot_carry(part, where, "Gemini's parts")


# --- streaming ------------------------------------------------------------------------------


class GeminiStream(StreamAccumulator):
    """A ``streamGenerateContent`` response, chunk by chunk (each a ``GenerateContentResponse``
    as JSON). Text pieces of the same kind join into one part; the last ``usageMetadata``
    covers the whole call. ``feed`` returns ``True`` at the first text, thought or call.
    """

    def __init__(
        self, *, provider: str = "gemini", clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(clock=clock)
        self._provider = provider
        self.response_id: str | None = None
        self.model: str | None = None
        self.finish_reason: str | None = None
        self._parts: list[JSONObject] = []
        self._usage: JSONObject | None = None

    def feed(self, chunk: object) -> bool:
        """Take one chunk. Returns ``True`` when it is the first to carry content.

        :raises ValueError: if the chunk has the wrong shape.
        """
        waiting = self.first_content_at is None
        data = as_object(chunk, "chunk")
        self.response_id = get_str(data, "responseId", "chunk.") or self.response_id
        self.model = get_str(data, "modelVersion", "chunk.") or self.model
        self._usage = get_object(data, "usageMetadata", "chunk.") or self._usage
        candidates = get_list(data, "candidates", "chunk.")
        if candidates:
            first = as_object(candidates[0], "candidates[0]")
            self.finish_reason = get_str(first, "finishReason", "candidate.") or self.finish_reason
            content = get_object(first, "content", "candidate.") or {}
            for part in get_list(content, "parts", "content."):
                self._add(as_object(part, "part"))
        return waiting and self.first_content_at is not None

    def _add(self, part: JSONObject) -> None:
        if part.get("text") or len(set(part) - _PART_METADATA - {"text"}) > 0:
            self._content_arrived()
        last = self._parts[-1] if self._parts else None
        if (
            last is not None
            and isinstance(part.get("text"), str)
            and isinstance(last.get("text"), str)
            and bool(last.get("thought")) == bool(part.get("thought"))
            and "thoughtSignature" not in last
        ):
            last["text"] += part["text"]
            if "thoughtSignature" in part:
                last["thoughtSignature"] = part["thoughtSignature"]
        else:
            self._parts.append(dict(part))

    def message(self) -> Message:
        """The assistant message streamed so far, as :func:`message_from_gemini` reads one."""
        return message_from_gemini({"parts": self._parts})

    def usage(self, *, model: str | None = None) -> UsageRecord:
        """The last ``usageMetadata``, as :func:`usage_from_gemini` reads it.

        :raises ValueError: if no chunk carried usage.
        """
        if self._usage is None:
            raise ValueError("the stream carried no usageMetadata")
        response: JSONObject = {"usageMetadata": self._usage}
        if self.model is not None:
            response["modelVersion"] = self.model
        return usage_from_gemini(response, model=model, provider=self._provider)
