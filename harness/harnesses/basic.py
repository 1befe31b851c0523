"""``basic``: the reference harness, a streaming chat against any OpenAI-compatible endpoint.

One turn: record the user's message, replay the conversation into the request's ``messages``
(:func:`~harness.providers.openai_chat.to_openai_chat_messages`), stream the completion with
usage (``stream_options={"include_usage": True}``) through the recorder, and hand each piece
of text to the output as it arrives. The recorder measures TTFT and duration, prices the
usage once and appends the ``messages`` event, or the ``error`` event of a call that failed
or was cancelled.

With the ``history`` tool set (``convlog chat --tools history``), the model is offered the
tools of :mod:`harness.tools` on the conversation it is in, so it can read its own events,
usage and cost. When an answer calls them, the harness runs each call, records the results as
a ``tool`` messages event, and asks again, up to :data:`MAX_TOOL_ROUNDS` times a turn: the tool
calls and their results are events like any others.

The ``openai`` SDK is the extra ``convlog[chat]``; it is imported when the harness is built,
so listing harnesses and ``convlog --help`` never load it.
"""

from __future__ import annotations

import uuid
from importlib.metadata import version
from typing import TYPE_CHECKING, Any, cast

from harness.plugins import HarnessContext, HarnessError, HarnessSpec, Output, Turn
from schemas import Message, TextPart, ToolCallPart

if TYPE_CHECKING:
    import openai
    from openai.types.chat import ChatCompletionMessageParam

__all__ = ("HARNESS", "MAX_TOOL_ROUNDS", "BasicHarness")

#: Sent as the key when ``OPENAI_API_KEY`` is empty: local servers need none, and the SDK
#: refuses to build a client without one.
NO_KEY = "no-key"

#: The most model calls one turn makes while the model keeps calling tools.
MAX_TOOL_ROUNDS = 8


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
        unknown = set(context.tools) - {"history"}
        if unknown:
            raise HarnessError(f"the basic harness has no tool set {sorted(unknown)[0]!r}")
        self._history_tools = "history" in context.tools
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
        answer = await self.answer(conversation_id, output, turn_id=turn)
        rounds = 1
        while self._history_tools and rounds < MAX_TOOL_ROUNDS:
            calls = _tool_calls(answer.message)
            if not calls:
                break
            await self._run_tools(conversation_id, calls, turn)
            answer = await self.answer(conversation_id, output, turn_id=turn)
            rounds += 1
        return answer

    async def _run_tools(self, conversation_id: str, calls: list[ToolCallPart], turn: str) -> None:
        """Run the history tools the model called and record their results, one ``tool``
        message a call, in one event; a wrong call gets its one-line error as its result."""
        from harness import tools

        store = self._recorder.store
        results = []
        for call in calls:
            try:
                content = await tools.call(
                    store, call.name, call.arguments, conversation_id=conversation_id
                )
            except tools.ToolError as exc:
                content = tools.error_text(exc)
            results.append(
                Message(role="tool", tool_call_id=call.id, name=call.name, content=content)
            )
        await self._recorder.record_input(
            conversation_id, results, session_id=self._session_id, turn_id=turn
        )

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
                    **self._tool_options(),
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

    def _tool_options(self) -> dict[str, Any]:
        if not self._history_tools:
            return {}
        from harness import tools

        return {"tools": [tool.definition() for tool in tools.TOOLS]}

    async def aclose(self) -> None:
        await self._client.close()


def _tool_calls(message: Message | None) -> list[ToolCallPart]:
    content = message.content if message is not None else None
    if not isinstance(content, list):
        return []
    return [part for part in content if isinstance(part, ToolCallPart)]


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
