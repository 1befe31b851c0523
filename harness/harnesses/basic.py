"""``basic``: the reference harness, a streaming chat against any OpenAI-compatible endpoint.

One turn: record the user's message, replay the conversation into the request's ``messages``
(:func:`~harness.providers.openai_chat.to_openai_chat_messages`), stream the completion with
usage (``stream_options={"include_usage": True}``) through the recorder, and hand each piece
of text to the output as it arrives. The recorder measures TTFT and duration, prices the
usage once and appends the ``messages`` event, or the ``error`` event of a call that failed
or was cancelled.

The ``openai`` SDK is the extra ``convlog[chat]``; it is imported when the harness is built,
so listing harnesses and ``convlog --help`` never load it.
"""

from __future__ import annotations

import uuid
from importlib.metadata import version
from typing import TYPE_CHECKING, cast

from harness.plugins import HarnessContext, HarnessError, HarnessSpec, Output, Turn
from schemas import Message, TextPart

if TYPE_CHECKING:
    import openai
    from openai.types.chat import ChatCompletionMessageParam

__all__ = ("HARNESS", "BasicHarness")

#: Sent as the key when ``OPENAI_API_KEY`` is empty: local servers need none, and the SDK
#: refuses to build a client without one.
NO_KEY = "no-key"


class BasicHarness:
    """A chat with one model at one OpenAI-compatible endpoint (see the module)."""

    def __init__(self, context: HarnessContext) -> None:
        try:
            import openai
        except ImportError:
            raise HarnessError(
                "the basic harness needs the openai package: pip install 'convlog[chat]'"
            ) from None
        if context.model is None or context.base_url is None:
            raise HarnessError("the basic harness needs a base URL and a model")
        self._recorder = context.recorder
        self._session_id = context.session_id
        self._model = context.model
        self._base_url = context.base_url
        self._client = openai.AsyncOpenAI(
            base_url=context.base_url, api_key=context.api_key or NO_KEY
        )
        # The SDK builds its resources on first use; resolving them here keeps that work out
        # of the first call's time to first token.
        self._completions = self._client.chat.completions

    async def chat_turn(self, conversation_id: str, text: str, output: Output) -> Turn:
        """One turn (see the module): record the user's ``text``, then :meth:`answer`.

        :raises HarnessError: as :meth:`answer`.
        """
        turn = uuid.uuid4().hex
        question = [Message(role="user", content=text)]
        await self._recorder.record_input(
            conversation_id, question, session_id=self._session_id, turn_id=turn
        )
        return await self.answer(conversation_id, output, turn_id=turn)

    async def answer(
        self, conversation_id: str, output: Output, *, turn_id: str | None = None
    ) -> Turn:
        """Ask the model to answer the conversation as it stands (after tool results an agent
        loop recorded, say), streaming the text to ``output``; the call is recorded.

        :raises HarnessError: if the endpoint answers an HTTP error, cannot be reached, or
            its answer cannot be recorded (the ``error`` event is written first).
        """
        import openai

        from harness.providers.openai_chat import to_openai_chat_messages

        recorder, session = self._recorder, self._session_id
        turn = turn_id or uuid.uuid4().hex
        history = (await recorder.store.replay(conversation_id)).messages
        messages = cast("list[ChatCompletionMessageParam]", to_openai_chat_messages(history))
        try:
            async with recorder.call(
                conversation_id,
                provider="openai",
                model=self._model,
                session_id=session,
                turn_id=turn,
            ) as call:
                stream = await self._completions.create(
                    model=self._model,
                    messages=messages,
                    stream=True,
                    stream_options={"include_usage": True},
                )
                async with stream:
                    async for chunk in stream:
                        call.chunk(chunk)
                        for choice in chunk.choices:
                            if choice.delta.content:
                                output(choice.delta.content)
        except openai.APIStatusError as exc:
            raise HarnessError(
                f"{self._base_url} answered {exc.status_code}: {_said(exc)}"
            ) from exc
        except openai.APIConnectionError as exc:
            raise HarnessError(f"cannot reach {self._base_url}: {exc}") from exc
        except ValueError as exc:  # the adapter could not read the answer (no usage, say)
            raise HarnessError(
                f"the answer from {self._base_url} cannot be recorded: {exc}"
            ) from exc
        assert call.message is not None  # the call ended well
        return Turn(reply=_text(call.message), usage=call.usage, message=call.message)

    async def aclose(self) -> None:
        await self._client.close()


def _said(exc: openai.APIStatusError) -> str:
    """The provider's own error message, one line."""
    body = exc.body
    message = body.get("message") if isinstance(body, dict) else None
    return " ".join(str(message or exc.message).split())


def _text(message: Message) -> str:
    if isinstance(message.content, str):
        return message.content
    return "".join(p.text for p in message.content or () if isinstance(p, TextPart))


HARNESS = HarnessSpec(
    name="basic",
    version=version("convlog"),
    summary="Streaming chat with any OpenAI-compatible endpoint (--base-url, --model).",
    factory=BasicHarness,
    requires=("base_url", "model"),
)
