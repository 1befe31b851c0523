"""``convlog demo``: what convlog does, with no API key and no network.

It starts the bundled fake provider (``harness.fake``) on 127.0.0.1, and runs a short scripted
agent conversation through the ``basic`` harness, found as any installed harness is: a user
asks, the model calls a tool, the agent records the tool's result and the model answers; a
second question makes the agent hand a question to a sub-agent in a child conversation, whose
answer comes back as the tool result. Later calls reuse a cached prompt. Every call is recorded
with its tokens, TTFT, duration and cost, priced offline with the two LiteLLM entries shipped
in ``harness/fake/data/`` (their source and date are in the README beside them). Then it
prints ``convlog conversations``, ``convlog show`` and ``convlog cost --include-children`` of
what it wrote. A second run adds a new conversation beside the first.

Everything but click and the standard library is imported inside the command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ._commands import short_help
from ._store import StoreArg, store_option

if TYPE_CHECKING:
    from harness.fake import Step
    from harness.plugins import Harness, Turn
    from harness.recorder import Recorder

__all__ = ("demo",)

MODEL = "gpt-4o-mini"
SUB_MODEL = "gpt-4o"
WEATHER = {"city": "Paris", "temp_c": 18, "sky": "sunny", "wind_kmh": 12}


@click.command(short_help=short_help("demo"))
@store_option
def demo(store: StoreArg) -> None:
    """Record a scripted agent conversation from a local fake model, then show it.

    Starts the bundled fake provider on 127.0.0.1 (no key, no network), runs a few turns
    through the basic harness (a tool call and its result, a cached prompt, a sub-agent in a
    child conversation), then prints conversations, show and cost for what it recorded. Run it
    again to add another conversation beside the first.
    """
    from ._store import open_store, run

    async def main() -> str:
        async with open_store(store, read_only=False, create=True) as opened:
            return await _record(opened)

    cid = run(main())
    from .browse import conversations, show
    from .cost import cost

    click.echo(f"Recorded conversation {cid} in {store.given}.")
    for command, args in (
        (conversations, ["--limit", "10"]),
        (show, [cid]),
        (cost, [cid, "--include-children"]),
    ):
        name = command.name or ""
        click.secho(f"\n$ convlog {name} {' '.join(args)}", bold=True)
        # Parsed as if typed, so every option takes its documented default.
        with command.make_context(name, [*args, "--store", store.url]) as ctx:
            command.invoke(ctx)
    click.echo(
        f"\nNext: convlog events {cid}, convlog export, convlog verify, "
        "convlog chat --base-url URL --model M (docs/cli.md)."
    )


def _script() -> list[Step]:
    from harness.fake import Reply, ToolCall, Usage

    def weather(call_id: str) -> ToolCall:
        return ToolCall(id=call_id, name="get_weather", arguments='{"city": "Paris"}')

    return [
        # 1. The user asks; the model calls a tool.
        Reply(
            tool_calls=(weather("call_weather_1"),),
            usage=Usage(prompt_tokens=412, completion_tokens=18),
            first_chunk_delay=0.35,
            chunk_delay=0.01,
        ),
        # 2. With the tool's result, it answers (the system prompt and tools are cached).
        Reply(
            text=("It is 18 °C ", "and sunny in Paris, ", "with a light breeze."),
            usage=Usage(prompt_tokens=468, completion_tokens=16, cached_tokens=384),
            first_chunk_delay=0.28,
            chunk_delay=0.02,
        ),
        # 3. The next question: the agent hands it to a forecaster sub-agent.
        Reply(
            tool_calls=(
                ToolCall(
                    id="call_forecast_1",
                    name="ask_forecaster",
                    arguments='{"question": "Rain in Paris tomorrow afternoon?"}',
                ),
            ),
            usage=Usage(prompt_tokens=512, completion_tokens=22, cached_tokens=448),
            first_chunk_delay=0.3,
        ),
        # 4. The sub-agent, on a larger model, reasons and answers.
        Reply(
            text=("Showers are likely ", "after 3 pm (70%)."),
            usage=Usage(
                prompt_tokens=1260, completion_tokens=96, cached_tokens=1024, reasoning_tokens=64
            ),
            first_chunk_delay=0.6,
            chunk_delay=0.03,
            model=SUB_MODEL,
        ),
        # 5. Back in the main conversation, the answer.
        Reply(
            text=("Yes: pack an umbrella. ", "Showers are likely after 3 pm tomorrow."),
            usage=Usage(prompt_tokens=590, completion_tokens=19, cached_tokens=512),
            first_chunk_delay=0.25,
            chunk_delay=0.02,
        ),
    ]


async def _record(store: Any) -> str:
    """Run the scripted conversation into ``store``; returns the main conversation's id."""
    import uuid
    from importlib.resources import files

    from harness.fake import FakeProvider
    from harness.plugins import HarnessContext, load
    from harness.pricing import read_prices
    from harness.recorder import Recorder

    prices = read_prices(str(files("harness.fake") / "data" / "prices.json"))
    spec = load("basic")
    recorder = Recorder(store, harness=spec.harness, prices=prices)
    session = uuid.uuid4().hex
    with FakeProvider(_script()) as server:
        context = HarnessContext(
            recorder=recorder,
            session_id=session,
            base_url=server.openai_base_url,
            model=MODEL,
            api_key="demo-no-key",
        )
        main, forecaster = spec.factory(context), None
        try:
            cid = await recorder.start(title="Trip to Paris (convlog demo)", session_id=session)
            turn = await main.chat_turn(cid, "What's the weather in Paris right now?", _quiet)
            await _tool_results(recorder, cid, turn, session)
            await _answer(main, cid)
            turn = await main.chat_turn(cid, "Will I need an umbrella tomorrow afternoon?", _quiet)
            child = await recorder.start_child(cid, title="forecaster", session_id=session)
            forecaster = spec.factory(
                HarnessContext(
                    recorder=recorder,
                    session_id=session,
                    base_url=server.openai_base_url,
                    model=SUB_MODEL,
                    api_key="demo-no-key",
                )
            )
            forecast = await forecaster.chat_turn(
                child, "Rain in Paris tomorrow afternoon? One line.", _quiet
            )
            await _tool_results(recorder, cid, turn, session, answer=forecast.reply)
            await _answer(main, cid)
        finally:
            await main.aclose()
            if forecaster is not None:
                await forecaster.aclose()
    return cid


async def _answer(harness: Harness, cid: str) -> None:
    answer = getattr(harness, "answer", None)
    if answer is None:  # a harness without continuation: nothing more to ask it
        return
    await answer(cid, _quiet)


async def _tool_results(
    recorder: Recorder, cid: str, turn: Turn, session: str, *, answer: str | None = None
) -> None:
    """Run the tools the model called (the demo's own, scripted) and record their results."""
    import json

    from schemas import Message, ToolCallPart

    content = turn.message.content if turn.message is not None else None
    calls = [p for p in content or () if isinstance(p, ToolCallPart)]
    results = [
        Message(
            role="tool",
            tool_call_id=call.id,
            name=call.name,
            content=json.dumps(WEATHER) if call.name == "get_weather" else (answer or ""),
        )
        for call in calls
    ]
    if results:
        await recorder.record_input(cid, results, session_id=session)


def _quiet(text: str) -> None:
    """The demo prints the transcript afterwards, with `convlog show`."""
