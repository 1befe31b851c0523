"""A third party's convlog harness: it calls no model, and answers with your text reversed."""

from harness.plugins import HarnessContext, HarnessSpec, Output, Turn
from schemas import Message


class Echo:
    def __init__(self, context: HarnessContext) -> None:
        self.recorder = context.recorder
        self.session_id = context.session_id

    async def chat_turn(self, conversation_id: str, text: str, output: Output) -> Turn:
        reply = text[::-1]
        await self.recorder.record_input(
            conversation_id,
            [Message(role="user", content=text), Message(role="assistant", content=reply)],
            session_id=self.session_id,
        )
        output(reply)
        return Turn(reply=reply)  # no usage: no model was called

    async def aclose(self) -> None:
        pass


HARNESS = HarnessSpec(
    name="echo",
    version="1.0",
    summary="Answers with your text reversed; calls no model.",
    factory=Echo,
)
