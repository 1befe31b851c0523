"""Record a model call with the recorder, then list, replay and cost it (the README's example).

Runs offline: the model is the bundled fake provider, priced with the demo's price table.

    python examples/record_a_call.py
"""

import asyncio
import tempfile
from importlib.resources import files

import openai

import eventstore
from harness.fake import FakeProvider, Reply, Usage
from harness.pricing import read_prices
from harness.recorder import Recorder
from harness.spend import rollup
from schemas import Message

PRICES = read_prices(str(files("harness.fake") / "data" / "prices.json"))  # or load_prices()


async def main(url: str, base_url: str) -> None:
    client = openai.AsyncOpenAI(base_url=base_url, api_key="no-key")
    async with eventstore.connect(url) as store:  # url: "sqlite:///convlog.db"
        recorder = Recorder(store, harness="example/1.0", prices=PRICES)
        await recorder.record_input("conv-1", [Message(role="user", content="Hi!")])
        async with recorder.call("conv-1", provider="openai", model="gpt-4o-mini") as call:
            stream = await client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": "Hi!"}],
                stream=True,
                stream_options={"include_usage": True},
            )
            async for chunk in stream:
                call.chunk(chunk)  # TTFT at the first content chunk
        page = await store.list_conversations(limit=50)  # summaries with token and cost sums
        state = await store.replay("conv-1")  # the messages, in order
        spend = await rollup(store, "conv-1")  # with any sub-agents' children
        print(page.items[0].conversation_id, [m.content for m in state.messages])
        print(f"{spend.calls} call, ${spend.cost_usd}, ttft {call.usage.ttft_ms} ms")
        assert (await store.verify()).ok


if __name__ == "__main__":
    script = Reply(text=("Hello", " there!"), usage=Usage(prompt_tokens=9, completion_tokens=3))
    with FakeProvider([script]) as server, tempfile.TemporaryDirectory() as tmp:
        asyncio.run(main(f"sqlite:///{tmp}/convlog.db", server.openai_base_url))
