"""Record every call made through ``litellm`` without changing the code that makes it.

    import litellm
    from harness.litellm_callback import ConvlogCallback

    litellm.callbacks = [ConvlogCallback(recorder, conversation_id="conv-1")]
    await litellm.acompletion(model="gpt-4o", messages=[...],
                              metadata={"convlog_conversation_id": "conv-7"})  # optional

LiteLLM calls the callback after each call, streamed or not, with the response it assembled,
the request's start and end, and, for a stream, ``completion_start_time``: the arrival of the
first chunk, which gives TTFT. The callback maps the response with the LiteLLM adapter
(``harness.providers.litellm``), keeps the cost LiteLLM reported (``reported:litellm``; a
reported 0 for a paid model is priced from the table), and records it through the
:class:`~harness.recorder.Recorder`: one ``messages`` event, the hooks run. A failed call
becomes an ``error`` event with how long it ran. The conversation is the request's
``metadata["convlog_conversation_id"]`` if it names one, else the callback's own.

LiteLLM runs these callbacks on the event loop of ``litellm.acompletion``; the callback
records the async calls (the store is async). ``litellm`` is the user's dependency, not
convlog's: this module imports it, nothing else in convlog does.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import msgspec
from litellm.integrations.custom_logger import CustomLogger

from .providers.litellm import message_from_litellm, usage_from_litellm
from .recorder import Recorder

__all__ = ("METADATA_KEY", "ConvlogCallback")

#: The request metadata key that names the conversation a call belongs to.
METADATA_KEY = "convlog_conversation_id"


class ConvlogCallback(CustomLogger):
    """A LiteLLM callback that records each async call into ``recorder``'s store."""

    def __init__(self, recorder: Recorder, *, conversation_id: str) -> None:
        super().__init__()
        self.recorder = recorder
        self.conversation_id = conversation_id

    async def async_log_success_event(
        self, kwargs: dict[str, Any], response_obj: Any, start_time: datetime, end_time: datetime
    ) -> None:
        response = kwargs.get("complete_streaming_response") or response_obj
        model = kwargs.get("model")
        usage = usage_from_litellm(response, model=model, table=self.recorder.prices)
        first = kwargs.get("completion_start_time")
        streamed = bool(kwargs.get("stream"))
        ttft = _ms(first - start_time) if streamed and isinstance(first, datetime) else None
        duration = _ms(end_time - start_time)
        usage = msgspec.structs.replace(
            usage,
            ttft_ms=ttft if ttft is not None else duration,
            duration_ms=duration,
        )
        await self.recorder.record_answer(
            self._conversation(kwargs),
            message_from_litellm(response),
            usage,
            response_id=getattr(response, "id", None),
            priced=usage.pricing is not None and usage.pricing.startswith("reported:"),
        )

    async def async_log_failure_event(
        self, kwargs: dict[str, Any], response_obj: Any, start_time: datetime, end_time: datetime
    ) -> None:
        exc = kwargs.get("exception")
        if not isinstance(exc, BaseException):
            exc = RuntimeError(str(kwargs.get("traceback_exception") or "the call failed"))
        await self.recorder.record_error(
            self._conversation(kwargs), exc, duration_ms=_ms(end_time - start_time)
        )

    def _conversation(self, kwargs: dict[str, Any]) -> str:
        params = kwargs.get("litellm_params") or {}
        metadata = params.get("metadata") or kwargs.get("metadata") or {}
        named = metadata.get(METADATA_KEY) if isinstance(metadata, dict) else None
        return named if isinstance(named, str) else self.conversation_id


def _ms(delta: timedelta) -> int:
    return max(0, round(delta.total_seconds() * 1000))
