"""The recorder: the one place userspace turns a model call into events.

Around one model call, streaming or not, it measures time to first token and duration on a
monotonic clock, maps the provider's response through its adapter (``harness.providers``),
prices the usage once, appends one ``messages`` event, and runs the ``after_llm_call`` hooks::

    recorder = Recorder(store, harness="my-agent/1.0")
    await recorder.record_input(conv, [Message(role="user", content="Hi")])
    async with recorder.call(conv, provider="openai", model="gpt-4o") as call:
        stream = await client.chat.completions.create(..., stream=True,
                                                      stream_options={"include_usage": True})
        async for chunk in stream:
            call.chunk(chunk)              # the first content chunk stamps TTFT
    call.result                            # the AppendResult of the messages event

A call that raises (a provider error, a timeout, a dropped stream) or is cancelled appends an
``error`` event instead (status, the provider's message, how long it ran) and the exception
goes on; a half-received answer is never written as a ``messages`` event.

Hooks run after the append, so a hook reading the store (the budget hook) sees this call's
cost; a hook's veto stops further calls in that conversation with :class:`CallVetoed`.
"""

from __future__ import annotations

import functools
import math
import time
import uuid
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Protocol

import anyio
import msgspec

import eventstore
from eventstore import NO_CONVERSATION, AppendResult
from schemas import ConversationCreated, ErrorEvent, Message, Messages, UsageRecord

from .hooks import CallPayload, Hooks, Veto
from .pricing import PriceTable, apply_price, apply_reported_cost, load_prices
from .spend import rollup

__all__ = (
    "MAX_ERROR_MESSAGE",
    "CallVetoed",
    "LLMCall",
    "ProviderAdapter",
    "Recorder",
    "StreamAdapter",
)

#: The longest provider error message kept in an ``error`` event.
MAX_ERROR_MESSAGE = 2000


class StreamAdapter(Protocol):
    """Accumulates one streamed response (see ``harness.providers``)."""

    def feed(self, chunk: object) -> bool:
        """Take one chunk; ``True`` for the first that carries content."""
        ...

    def message(self) -> Message: ...

    def usage(self, *, model: str | None = None) -> UsageRecord: ...


class ProviderAdapter(Protocol):
    """What the recorder needs of a provider: ``harness.providers.adapter(name)``."""

    @property
    def name(self) -> str: ...

    def stream(self) -> StreamAdapter: ...

    def message(self, response: object) -> Message: ...

    def usage(self, response: object, *, model: str | None = None) -> UsageRecord: ...

    def response_id(self, response: object) -> str | None: ...


class CallVetoed(RuntimeError):
    """A hook vetoed further calls in this conversation; nothing was sent or written."""

    def __init__(self, conversation_id: str, reason: str) -> None:
        super().__init__(f"calls in conversation {conversation_id!r} are vetoed: {reason}")
        self.conversation_id = conversation_id
        self.reason = reason


@functools.cache
def _process_prices() -> PriceTable:
    """The price table, loaded once per process (``harness.pricing.load_prices``)."""
    return load_prices()


class Recorder:
    """Records model calls into ``store`` as ``harness`` (``"name/version"``).

    ``prices``: the table to price with; by default ``load_prices()``, loaded once per
    process on the first call that needs it. ``hooks``: the ``after_llm_call`` hooks.
    ``clock``: monotonic seconds, for tests.
    """

    def __init__(
        self,
        store: eventstore.Store,
        *,
        harness: str,
        prices: PriceTable | None = None,
        hooks: Hooks | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.harness = harness
        self._prices = prices
        self.hooks = hooks if hooks is not None else Hooks()
        self._clock = clock
        self._vetoes: dict[str, str] = {}

    @property
    def prices(self) -> PriceTable:
        if self._prices is None:
            self._prices = _process_prices()
        return self._prices

    async def record_input(
        self,
        conversation_id: str,
        messages: Sequence[Message],
        *,
        session_id: str | None = None,
        turn_id: str | None = None,
    ) -> AppendResult:
        """Append messages that are not a model's answer (the user's input, tool results):
        a ``messages`` event without usage."""
        return await self.store.append(
            conversation_id,
            [Messages(messages=list(messages))],
            session_id=session_id,
            turn_id=turn_id,
            harness=self.harness,
        )

    def call(
        self,
        conversation_id: str,
        *,
        provider: str | ProviderAdapter,
        model: str,
        session_id: str | None = None,
        turn_id: str | None = None,
    ) -> LLMCall:
        """Record one model call: ``async with recorder.call(...) as call``.

        :raises CallVetoed: on entering, if a hook vetoed further calls in the conversation.
        :raises ValueError: if ``provider`` names no adapter.
        """
        if isinstance(provider, str):
            from .providers import adapter  # the adapters load on the first call, not on import

            resolved: ProviderAdapter = adapter(provider)
        else:
            resolved = provider
        return LLMCall(self, conversation_id, resolved, model, session_id, turn_id)

    async def start(
        self,
        conversation_id: str | None = None,
        *,
        title: str | None = None,
        metadata: dict[str, str] | None = None,
        session_id: str | None = None,
    ) -> str:
        """Open a conversation with its ``conversation_created`` event, returning its id (16
        random hex digits unless given).

        :raises WrongExpectedVersion: if ``conversation_id`` already has events.
        """
        cid = conversation_id or uuid.uuid4().hex[:16]
        await self._create(
            cid, ConversationCreated(title=title, metadata=metadata or {}), session_id
        )
        return cid

    async def start_child(
        self,
        parent_id: str,
        *,
        conversation_id: str | None = None,
        title: str | None = None,
        metadata: dict[str, str] | None = None,
        session_id: str | None = None,
    ) -> str:
        """Open a child conversation of ``parent_id`` (a sub-agent's), returning its id
        (``<parent>/sub-<16 hex digits>`` unless given). Its spend rolls up into the parent's
        (:func:`rollup`), whatever becomes of the sub-agent."""
        cid = conversation_id or f"{parent_id[:150]}/sub-{uuid.uuid4().hex[:16]}"
        created = ConversationCreated(title=title, parent_id=parent_id, metadata=metadata or {})
        await self._create(cid, created, session_id)
        return cid

    async def _create(
        self, conversation_id: str, created: ConversationCreated, session_id: str | None
    ) -> None:
        await self.store.append(
            conversation_id,
            [created],
            expected_version=NO_CONVERSATION,
            session_id=session_id,
            harness=self.harness,
        )

    async def spent(self, conversation_id: str, *, include_children: bool = True) -> float | None:
        """The conversation's persisted spend in USD (``None`` if no call was priced)."""
        totals = await rollup(self.store, conversation_id, include_children=include_children)
        return totals.cost_usd

    async def record_answer(
        self,
        conversation_id: str,
        message: Message,
        usage: UsageRecord,
        *,
        response_id: str | None = None,
        session_id: str | None = None,
        turn_id: str | None = None,
        priced: bool = False,
    ) -> AppendResult:
        """Append a model's answer measured elsewhere (a framework's callback, say): price
        ``usage`` once unless ``priced`` (a reported cost is kept), append the ``messages``
        event, run the hooks. :meth:`call` does this for the calls it wraps."""
        if not priced:
            usage = self._price(usage)
        result = await self.store.append(
            conversation_id,
            [Messages(messages=[message], usage=usage, response_id=response_id)],
            session_id=session_id,
            turn_id=turn_id,
            harness=self.harness,
        )
        payload = CallPayload(
            conversation_id=conversation_id,
            session_id=session_id,
            turn_id=turn_id,
            model=usage.model,
            provider=usage.provider,
            usage=usage,
            cost=usage.cost_usd,
        )
        veto = await self.hooks.run_after_llm_call(payload)
        if isinstance(veto, Veto):
            self._vetoes[conversation_id] = veto.reason
        return result

    async def record_error(
        self,
        conversation_id: str,
        exc: BaseException,
        *,
        duration_ms: int | None = None,
        session_id: str | None = None,
        turn_id: str | None = None,
    ) -> AppendResult:
        """Append the ``error`` event of a failed call: the exception's class, the provider's
        message, its HTTP status if it has one, whether a retry may help, how long it ran."""
        status = getattr(exc, "status_code", None)
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            status = None
        text = str(getattr(exc, "message", None) or exc) or type(exc).__name__
        return await self.store.append(
            conversation_id,
            [
                ErrorEvent(
                    message=text[:MAX_ERROR_MESSAGE],
                    error_type=type(exc).__name__,
                    status_code=status,
                    retryable=_retryable(exc, status),
                    duration_ms=duration_ms,
                )
            ],
            session_id=session_id,
            turn_id=turn_id,
            harness=self.harness,
        )

    def _check_veto(self, conversation_id: str) -> None:
        reason = self._vetoes.get(conversation_id)
        if reason is not None:
            raise CallVetoed(conversation_id, reason)

    def _price(self, usage: UsageRecord) -> UsageRecord:
        """Price once: a cost the provider reported is kept (``reported:<who>``; a reported 0
        for a paid model is priced from the table), anything else is priced from the table."""
        pricing = usage.pricing or ""
        if pricing.startswith("reported:") and usage.cost_usd is not None:
            bare = msgspec.structs.replace(usage, cost_usd=None, pricing=None)
            return apply_reported_cost(
                bare, usage.cost_usd, reporter=pricing.split(":", 1)[1], table=self.prices
            )
        return apply_price(usage, self.prices)


class LLMCall:
    """One model call being recorded (see :meth:`Recorder.call`)."""

    def __init__(
        self,
        recorder: Recorder,
        conversation_id: str,
        provider: ProviderAdapter,
        model: str,
        session_id: str | None,
        turn_id: str | None,
    ) -> None:
        self._recorder = recorder
        self.conversation_id = conversation_id
        self.provider = provider
        self.model = model
        self.session_id = session_id
        self.turn_id = turn_id
        self._stream: StreamAdapter | None = None
        self._response: object = None
        self._started = 0.0
        self._first: float | None = None
        #: What was appended, once the call has ended: the messages event, or the error one.
        self.result: AppendResult | None = None
        #: The usage as stored (priced), once the call has ended well.
        self.usage: UsageRecord | None = None
        #: The assistant message as stored, once the call has ended well.
        self.message: Message | None = None

    async def __aenter__(self) -> LLMCall:
        self._recorder._check_veto(self.conversation_id)
        self._started = self._recorder._clock()
        return self

    def chunk(self, chunk: object) -> None:
        """Feed one streamed chunk or event, as the SDK hands it."""
        if self._stream is None:
            self._stream = self.provider.stream()
        if self._stream.feed(chunk) and self._first is None:
            self._first = self._recorder._clock()

    def response(self, response: object) -> None:
        """Hand over a whole (non-streamed) response. Its first token reached the caller
        with it: TTFT is the duration."""
        self._response = response
        self._first = self._recorder._clock()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        ended = self._recorder._clock()
        duration = _ms(ended - self._started)
        if exc is None:
            try:
                message, usage, response_id = self._answer(duration)
            except Exception as failure:  # the answer cannot be read: an error, not half an event
                await self._append_error(failure, duration)
                raise
            await self._append_answer(message, usage, response_id)
            return
        # Cancelled or failed: the error event is written even while the task is cancelled.
        with anyio.CancelScope(shield=True):
            await self._append_error(exc, duration)

    def _answer(self, duration: int) -> tuple[Message, UsageRecord, str | None]:
        """The assistant message, the priced usage and the response id of the call."""
        if self._stream is not None:
            message = self._stream.message()
            usage = self._stream.usage(model=self.model)
            response_id = getattr(self._stream, "response_id", None)
        elif self._response is not None:
            message = self.provider.message(self._response)
            usage = self.provider.usage(self._response, model=self.model)
            response_id = self.provider.response_id(self._response)
        else:
            raise RuntimeError("the call ended without a response: feed chunk() or response()")
        ttft = None if self._first is None else _ms(self._first - self._started)
        usage = msgspec.structs.replace(
            usage, provider=usage.provider or self.provider.name, ttft_ms=ttft, duration_ms=duration
        )
        return message, self._recorder._price(usage), response_id

    async def _append_answer(
        self, message: Message, usage: UsageRecord, response_id: str | None
    ) -> None:
        self.result = await self._recorder.record_answer(
            self.conversation_id,
            message,
            usage,
            response_id=response_id,
            session_id=self.session_id,
            turn_id=self.turn_id,
            priced=True,
        )
        self.usage, self.message = usage, message

    async def _append_error(self, exc: BaseException, duration: int) -> None:
        self.result = await self._recorder.record_error(
            self.conversation_id,
            exc,
            duration_ms=duration,
            session_id=self.session_id,
            turn_id=self.turn_id,
        )


def _ms(seconds: float) -> int:
    return max(0, math.floor(seconds * 1000 + 0.5))


def _retryable(exc: BaseException, status: int | None) -> bool | None:
    if status is not None:
        return status in (408, 409, 429) or status >= 500
    if isinstance(exc, TimeoutError | ConnectionError):
        return True
    return None
