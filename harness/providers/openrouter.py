"""OpenRouter (its OpenAI-compatible chat completions): usage with the cost OpenRouter
reports, the assistant message with its ``reasoning_details``, and history as request
messages.

Field names from OpenRouter's API reference and its guides "Usage Accounting" (``usage.cost``,
``cost_details``) and "Reasoning Tokens" (``reasoning``, ``reasoning_details`` and their
types ``reasoning.text``, ``reasoning.summary``, ``reasoning.encrypted``). Counts follow
OpenAI's inclusive convention (see :mod:`harness.providers.openai_chat`).

``usage.cost`` is what OpenRouter charged, in USD (credits): it is recorded as-is with
``pricing="reported:openrouter"`` through :func:`harness.pricing.apply_reported_cost`, so a
price table never overwrites it, except a reported 0 for a call the table prices above 0
(``table=`` given), which that function treats as the reporter not knowing the model. With
bring-your-own-key, ``cost`` is OpenRouter's fee alone; the upstream charge is
``cost_details.upstream_inference_cost`` and is not added.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from harness.pricing import PriceTable, apply_reported_cost
from schemas import AnyPart, Message, ReasoningPart, UnknownPart, UsageRecord

from ._chat import ChatStream, Flavor, chat_message, chat_messages_from, chat_usage, to_chat
from ._common import JSONObject, as_object, cannot_carry, foreign, get_list, get_str

__all__ = (
    "OpenRouterStream",
    "message_from_openrouter",
    "messages_from_openrouter",
    "to_openrouter_messages",
    "usage_from_openrouter",
)


def _read_reasoning(data: JSONObject, where: str) -> list[AnyPart]:
    details = get_list(data, "reasoning_details", f"{where}.")
    if not details:
        text = get_str(data, "reasoning", f"{where}.")
        return [ReasoningPart(text=text)] if text else []
    parts: list[AnyPart] = []
    for i, raw in enumerate(details):
        at = f"{where}.reasoning_details[{i}]"
        detail = as_object(raw, at)
        kind = detail.get("type")
        id = get_str(detail, "id", f"{at}.")
        if kind == "reasoning.text":
            text = get_str(detail, "text", f"{at}.") or ""
            parts.append(
                ReasoningPart(text=text, signature=get_str(detail, "signature", f"{at}."), id=id)
            )
        elif kind == "reasoning.summary":
            parts.append(ReasoningPart(text=get_str(detail, "summary", f"{at}.") or "", id=id))
        elif kind == "reasoning.encrypted":
            parts.append(ReasoningPart(encrypted=get_str(detail, "data", f"{at}.") or "", id=id))
        else:  # a kind of reasoning detail this version does not know: kept whole
            parts.append(foreign(detail, at))
    return parts


def _write_reasoning(parts: list[AnyPart], out: JSONObject, where: str) -> None:
    details: list[JSONObject] = []
    for part in parts:
        if isinstance(part, UnknownPart):
            details.append(part.data)
            continue
        if not isinstance(part, ReasoningPart):
            raise cannot_carry(part, where, "reasoning_details")
        entries: list[JSONObject] = []
        if part.text or part.signature is not None or part.encrypted is None:
            entry: JSONObject = {"type": "reasoning.text", "text": part.text}
            if part.signature is not None:
                entry["signature"] = part.signature
            entries.append(entry)
        if part.encrypted is not None:
            entries.append({"type": "reasoning.encrypted", "data": part.encrypted})
        for entry in entries:
            if part.id is not None:
                entry["id"] = part.id
            entry["index"] = len(details)
            details.append(entry)
    if details:
        out["reasoning_details"] = details


_FLAVOR = Flavor("openrouter", _read_reasoning, _write_reasoning)


def usage_from_openrouter(
    obj: object, *, model: str | None = None, table: PriceTable | None = None
) -> UsageRecord:
    """A :class:`UsageRecord` from an OpenRouter chat completion, its last streamed chunk, or
    its ``usage`` block, with the cost OpenRouter reported.

    Counts as :func:`~harness.providers.openai_chat.usage_from_openai_chat` reads them,
    provider ``openrouter``. ``usage.cost`` goes through
    :func:`harness.pricing.apply_reported_cost` with ``table`` (an empty table when none is
    given, so a reported 0 is then kept as reported). Without ``usage.cost`` the record is
    returned unpriced, for the caller to price.

    :raises ValueError: if a count is not an integer >= 0, there are no counts, or no model.
    """
    record, block = chat_usage(as_object(obj, "usage"), model=model, provider="openrouter")
    cost = block.get("cost")
    if cost is None:
        return record
    return apply_reported_cost(
        record, cost, reporter="openrouter", table=table if table is not None else PriceTable()
    )


def message_from_openrouter(response: object) -> Message:
    """The assistant :class:`Message` of an OpenRouter chat completion: as
    :func:`~harness.providers.openai_chat.message_from_openai_chat`, with reasoning from
    ``reasoning_details`` (``reasoning.text`` with its signature, ``reasoning.summary``,
    ``reasoning.encrypted`` as ``encrypted``; each with its ``id``), else from ``reasoning``.

    :raises ValueError: if there is no message or a field has the wrong shape.
    """
    return chat_message(response, _FLAVOR)


def to_openrouter_messages(messages: Sequence[Message]) -> list[JSONObject]:
    """``messages`` as OpenRouter request messages: the chat format, with an assistant's
    reasoning parts sent back as ``reasoning_details`` (OpenRouter's way to continue a
    reasoning model's turn). A detail's ``format`` has no place in a reasoning part and is
    not sent.

    :raises ValueError: naming the message and part the format cannot carry.
    """
    return to_chat(messages, _FLAVOR)


def messages_from_openrouter(messages: Sequence[object]) -> list[Message]:
    """OpenRouter request messages as :class:`Message`\\ s.

    :raises ValueError: naming the message and field that has the wrong shape.
    """
    return chat_messages_from(messages, _FLAVOR)


class OpenRouterStream(ChatStream):
    """A streamed OpenRouter chat completion; see
    :class:`~harness.providers.openai_chat.OpenAIChatStream`. Reasoning details streamed in
    pieces are joined by their ``index``."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(clock=clock)
        self._flavor = _FLAVOR

    def usage(self, *, model: str | None = None, table: PriceTable | None = None) -> UsageRecord:
        """The last chunk's usage and cost, as :func:`usage_from_openrouter` reads them.

        :raises ValueError: if no chunk carried usage.
        """
        return usage_from_openrouter(self._usage_response(), model=model, table=table)
