"""An ``openai`` SDK chunk that carries only text takes a fast path that reads attributes; any
other chunk, and every dict, the general one. Both must accumulate the same answer."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from openai.types.chat import ChatCompletionChunk

from harness.providers.openai_chat import OpenAIChatStream


def chunk(i: int, text: str | None, *, finish: str | None = None, **delta: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o",
        "choices": [{"index": 0, "delta": {"content": text, **delta}, "finish_reason": finish}],
    }


pieces = st.lists(st.text(max_size=8) | st.none(), min_size=1, max_size=12)
extras = st.sampled_from(
    [
        {},
        {"role": "assistant"},
        {"reasoning_content": "thinking"},
        {"tool_calls": [{"index": 0, "id": "c1", "type": "function",
                         "function": {"name": "f", "arguments": "{}"}}]},
    ]
)  # fmt: skip


@given(pieces=pieces, first=extras)
def test_objects_and_dicts_accumulate_the_same_answer(
    pieces: list[str | None], first: dict[str, Any]
) -> None:
    raw = [chunk(0, None, **first)]
    raw += [chunk(i, p) for i, p in enumerate(pieces)]
    raw.append(chunk(len(pieces), None, finish="stop"))
    raw.append(
        {**chunk(0, None), "choices": [],
         "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}
    )  # fmt: skip
    from_dicts, from_objects = OpenAIChatStream(), OpenAIChatStream()
    firsts_d = [from_dicts.feed(c) for c in raw]
    firsts_o = [from_objects.feed(ChatCompletionChunk.model_validate(c)) for c in raw]
    assert firsts_d == firsts_o
    assert from_dicts.message() == from_objects.message()
    assert from_dicts.usage(model="gpt-4o") == from_objects.usage(model="gpt-4o")
    assert (from_dicts.response_id, from_dicts.finish_reason) == (
        from_objects.response_id, from_objects.finish_reason,
    )  # fmt: skip
