"""convlog in one page: record a conversation with usage and cost, list it, replay it, verify it.

    python examples/quickstart.py [path/to/store.db]

Runs offline. The price table is two entries in LiteLLM's format, inline; a real harness calls
``harness.pricing.load_prices()`` (explicit path or URL, cache, fetch, fallbacks).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

import msgspec

import eventstore
from harness.pricing import PriceTable, apply_price
from harness.providers.anthropic import usage_from_anthropic
from schemas import ConversationCreated, Message, Messages, TextPart, UsageRecord

# Per-token USD rates as LiteLLM publishes them (model_prices_and_context_window.json).
PRICES = PriceTable.from_litellm(
    {
        "claude-sonnet-4-5": {
            "litellm_provider": "anthropic",
            "mode": "chat",
            "input_cost_per_token": 3e-06,
            "output_cost_per_token": 1.5e-05,
            "cache_read_input_token_cost": 3e-07,
            "cache_creation_input_token_cost": 3.75e-06,
        },
        "gpt-4o": {
            "litellm_provider": "openai",
            "mode": "chat",
            "input_cost_per_token": 2.5e-06,
            "output_cost_per_token": 1e-05,
            "cache_read_input_token_cost": 1.25e-06,
        },
    }
)


async def main(path: Path) -> None:
    async with eventstore.connect(f"sqlite:///{path}") as store:
        conv = "support-42"
        try:
            await store.append(
                conv,
                [
                    ConversationCreated(title="Refund question", metadata={"customer": "c-981"}),
                    Messages(messages=[Message(role="user", content="Can I get a refund?")]),
                ],
                expected_version=eventstore.NO_CONVERSATION,  # refuse to start it twice
            )
        except eventstore.WrongExpectedVersion as exc:
            sys.exit(f"{path} already holds {conv!r} (version {exc.actual}): use a new path")

        # An Anthropic call: its usage block counts cache reads *beside* input_tokens.
        # The normalizer makes the counts inclusive; pricing fills cost_usd and pricing.
        usage = usage_from_anthropic(
            {"input_tokens": 1000, "cache_read_input_tokens": 2000, "output_tokens": 500},
            model="claude-sonnet-4-5-20250929",
        )
        usage = msgspec.structs.replace(apply_price(usage, PRICES), ttft_ms=420, duration_ms=1830)
        await store.append(
            conv,
            [
                Messages(
                    messages=[
                        Message(role="assistant", content=[TextPart(text="Yes, within 30 days.")])
                    ],
                    usage=usage,
                )
            ],
            expected_version=2,
            harness="quickstart/0.1",
        )

        # An OpenAI call (inclusive counts already), then one the table cannot price.
        for model in ("gpt-4o-2024-08-06", "my-finetune-v3"):
            usage = UsageRecord(
                model=model, prompt_tokens=3000, prompt_cached_tokens=2000, completion_tokens=500
            )
            await store.append(
                conv,
                [
                    Messages(
                        messages=[Message(role="assistant", content="Anything else?")],
                        usage=apply_price(usage, PRICES),
                    )
                ],
            )

        summary = await store.get_conversation(conv)
        totals = summary.totals
        print(f"conversation {conv!r}: {summary.event_count} events, title {summary.title!r}")
        print(
            f"  {totals.calls} calls, {totals.prompt_tokens} prompt tokens "
            f"({totals.prompt_cached_tokens} cached), {totals.completion_tokens} completion"
        )
        # cost_usd is None when no call was priced: unknown, which must not print as $0.
        cost = "unknown" if totals.cost_usd is None else f"${totals.cost_usd}"
        print(
            f"  cost {cost} over {totals.calls - totals.unpriced_calls} priced "
            f"calls; {totals.unpriced_calls} unpriced (unknown, not free)"
        )

        print("replay:")
        async for ev in store.read(conv):
            usage_note = ""
            if isinstance(ev.data, Messages) and ev.data.usage is not None:
                u = ev.data.usage
                usage_note = f"  [{u.model}: cost {u.cost_usd}, {u.pricing}]"
            print(f"  v{ev.version} {ev.type}{usage_note}")

        report = await store.verify()
        print(f"verify: {'ok' if report.ok else report.problem} ({report.events} events)")


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "quickstart.db"
    asyncio.run(main(target))
    print(f"store: {target}")
