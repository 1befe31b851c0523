"""The history the CLI tests read, written with ``eventstore`` as a harness would, and a
runner that invokes ``convlog`` as a user does.

The history (positions in brackets):

- ``support`` "Support chat" (metadata team=billing): created [1]; a user question [2]; an
  assistant turn with reasoning and a tool call, priced ($0.0111, gpt-4o, cached and
  reasoning tokens, TTFT, duration) [3]; the tool's result [4]; an answer from a model no
  table prices (unpriced) [7].
- ``sub`` "Sub-agent", a child of ``support``: created [5]; a call priced $0.002
  (claude-sonnet-4-5, harness ``other/1.0``) [6].
- ``quiet``: created, untitled [8]; a user message, no call [9].
- ``broken``: an error event [10] and a custom event [11].
"""

from __future__ import annotations

import os

from click.testing import CliRunner, Result

import eventstore
from harness.cli import cli
from schemas import (
    ConversationCreated,
    Custom,
    ErrorEvent,
    Message,
    Messages,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    UsageRecord,
)

GPT = UsageRecord(
    model="gpt-4o",
    provider="openai",
    prompt_tokens=3000,
    prompt_cached_tokens=2000,
    completion_tokens=500,
    completion_reasoning_tokens=100,
    cost_usd=0.0111,
    pricing="litellm:test",
    ttft_ms=412,
    duration_ms=1830,
)
MYSTERY = UsageRecord(
    model="mystery-1",
    prompt_tokens=100,
    completion_tokens=20,
    pricing="unpriced:model_not_found",
    duration_ms=900,
)
CLAUDE = UsageRecord(
    model="claude-sonnet-4-5",
    provider="anthropic",
    prompt_tokens=400,
    completion_tokens=50,
    cost_usd=0.002,
    ttft_ms=300,
    duration_ms=700,
)


async def write_history(url: str) -> None:
    async with eventstore.connect(url) as store:
        await store.append(
            "support",
            [
                ConversationCreated(title="Support chat", metadata={"team": "billing"}),
                Messages(messages=[Message(role="user", content="What is the weather in Paris?")]),
                Messages(
                    messages=[
                        Message(
                            role="assistant",
                            content=[
                                ReasoningPart(text="Look it up."),
                                ToolCallPart(
                                    id="call_1", name="weather", arguments='{"city":"Paris"}'
                                ),
                            ],
                        )
                    ],
                    usage=GPT,
                ),
                Messages(
                    messages=[Message(role="tool", tool_call_id="call_1", content="18C, sunny")]
                ),
            ],
            session_id="s1",
            harness="basic/0.1",
        )
        await store.append(
            "sub",
            [
                ConversationCreated(title="Sub-agent", parent_id="support"),
                Messages(
                    messages=[Message(role="assistant", content=[TextPart(text="Sub answer")])],
                    usage=CLAUDE,
                ),
            ],
            harness="other/1.0",
        )
        await store.append(
            "support",
            [
                Messages(
                    messages=[Message(role="assistant", content="18C and sunny.")], usage=MYSTERY
                )
            ],
            session_id="s1",
            harness="basic/0.1",
        )
        await store.append(
            "quiet",
            [ConversationCreated(), Messages(messages=[Message(role="user", content="hello")])],
        )
        await store.append(
            "broken",
            [
                ErrorEvent(message="rate limited", error_type="RateLimitError", duration_ms=1200),
                Custom(event_type="acme.note", payload={"n": 1}),
            ],
        )


def run(*args: str | os.PathLike[str], code: int = 0, input: str | bytes | None = None) -> Result:
    """``convlog ARGS`` through click's runner; asserts the exit code."""
    result = CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result
