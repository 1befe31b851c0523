"""``convlog conversations``, ``events`` and ``show`` on the history of ``support.py``, as
text and as ``--json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .support import run


def as_json(*args: str | Path) -> Any:
    result = run(*args, "--json")
    return json.loads(result.stdout)


# --- conversations ----------------------------------------------------------------------------


def test_conversations_text_lists_totals_newest_first(store_path: Path) -> None:
    lines = run("conversations", "--store", store_path).stdout.splitlines()
    assert lines[0].split() == (
        [
            "id",
            "title",
            "parent",
            "events",
            "messages",
            "calls",
            "tokens",
            "in",
            "tokens",
            "out",
            "cost",
            "last",
            "activity",
        ]
    )
    assert [line.split()[0] for line in lines[1:]] == ["broken", "quiet", "support", "sub"]
    support = lines[3]
    assert "Support chat" in support
    assert "3,100 (2,000 cached)" in support
    assert "520 (100 reasoning)" in support
    assert "$0.0111 (1 unpriced)" in support
    assert "$0.002" in lines[4]
    assert "support" in lines[4].split()  # sub's parent


def test_conversations_json_is_the_summaries(store_path: Path) -> None:
    document = as_json("conversations", "--store", store_path)
    assert document["next_cursor"] is None
    by_id = {c["conversation_id"]: c for c in document["conversations"]}
    assert set(by_id) == {"broken", "quiet", "support", "sub"}
    support = by_id["support"]
    assert support["title"] == "Support chat"
    assert support["version"] == 5
    assert support["parent_id"] is None
    assert support["totals"] == {
        "calls": 2,
        "unpriced_calls": 1,
        "prompt_tokens": 3100,
        "completion_tokens": 520,
        "prompt_cached_tokens": 2000,
        "prompt_cache_creation_tokens": 0,
        "completion_reasoning_tokens": 100,
        "cost_usd": 0.0111,
    }
    assert by_id["sub"]["parent_id"] == "support"
    assert by_id["quiet"]["totals"]["cost_usd"] is None  # no call: unknown, never 0
    assert support["messages"] == 4  # question, tool call, its result, unpriced answer
    assert list(support["by_model"]) == ["gpt-4o", "mystery-1"]
    assert support["by_model"]["gpt-4o"]["cost_usd"] == 0.0111
    assert support["by_model"]["mystery-1"]["cost_usd"] is None  # unpriced: never 0
    assert by_id["quiet"]["messages"] == 1
    assert by_id["broken"]["by_model"] == {}
    assert set(support) == {
        "conversation_id", "version", "created_at", "updated_at", "last_position", "title",
        "parent_id", "totals", "messages", "by_model",
    }  # fmt: skip


def test_conversations_page_with_limit_and_cursor(store_path: Path) -> None:
    first = run("conversations", "--store", store_path, "--limit", "3")
    assert len(first.stdout.splitlines()) == 4
    cursor = first.stderr.strip().removeprefix("next page: --cursor ")
    second = as_json("conversations", "--store", store_path, "--limit", "3", "--cursor", cursor)
    assert [c["conversation_id"] for c in second["conversations"]] == ["sub"]
    assert second["next_cursor"] is None
    paged = as_json("conversations", "--store", store_path, "--limit", "3")
    assert paged["next_cursor"] == cursor


def test_conversations_of_a_parent(store_path: Path) -> None:
    document = as_json("conversations", "--store", store_path, "--parent", "support")
    assert [c["conversation_id"] for c in document["conversations"]] == ["sub"]


def test_a_cursor_from_elsewhere_is_one_line(store_path: Path) -> None:
    result = run("conversations", "--store", store_path, "--cursor", "garbage", code=1)
    assert result.stderr.startswith("Error: ")
    assert len(result.stderr.splitlines()) == 1


def test_a_limit_out_of_range_is_a_usage_error(store_path: Path) -> None:
    run("conversations", "--store", store_path, "--limit", "0", code=2)


# --- events -----------------------------------------------------------------------------------


def test_events_text(store_path: Path) -> None:
    lines = run("events", "support", "--store", store_path).stdout.splitlines()
    assert lines[0].split() == ["v", "position", "recorded", "type", "content"]
    assert [line.split()[0] for line in lines[1:]] == ["1", "2", "3", "4", "5"]
    assert "user: What is the weather in Paris?" in lines[2]
    assert "[gpt-4o · 3,000 in (2,000 cached)" in lines[3]  # brackets print, not markup
    assert "→ weather(" in lines[3]
    assert "unpriced (unpriced:model_not_found)" in lines[5]


def test_events_json_carries_envelopes_and_stored_json(store_path: Path) -> None:
    document = as_json("events", "support", "--store", store_path)
    assert document["conversation_id"] == "support"
    assert document["next_cursor"] is None
    first, third = document["events"][0], document["events"][2]
    assert set(first) == {
        "id", "conversation_id", "version", "position", "recorded_at", "session_id", "turn_id",
        "harness", "data",
    }  # fmt: skip
    assert (first["version"], first["position"], first["session_id"]) == (1, 1, "s1")
    assert first["harness"] == "basic/0.1"
    assert first["data"] == {
        "type": "conversation_created",
        "title": "Support chat",
        "metadata": {"team": "billing"},
    }
    assert third["data"]["usage"]["cost_usd"] == 0.0111


def test_events_filter_desc_and_page(store_path: Path) -> None:
    args = ("events", "support", "--store", store_path, "--type", "messages", "--desc")
    first = as_json(*args, "--limit", "2")
    assert [e["version"] for e in first["events"]] == [5, 4]
    second = as_json(*args, "--limit", "2", "--cursor", first["next_cursor"])
    assert [e["version"] for e in second["events"]] == [3, 2]
    assert second["next_cursor"] is None
    several = as_json(
        "events", "broken", "--store", store_path, "--type", "error", "--type", "custom"
    )
    assert [e["data"]["type"] for e in several["events"]] == ["error", "custom"]


def test_events_of_an_unknown_conversation_are_none(store_path: Path) -> None:
    assert as_json("events", "nobody", "--store", store_path)["events"] == []


# --- show -------------------------------------------------------------------------------------


def test_show_text_is_the_transcript(store_path: Path) -> None:
    out = run("show", "support", "--store", store_path).stdout
    assert out.startswith("Support chat\nid support · children sub\n")
    assert "5 events · 2 calls · 3,100 in (2,000 cached) · 520 out (100 reasoning)" in out
    assert "$0.0111 (1 unpriced)" in out
    assert "team: billing" in out
    expected_in_order = [
        "user  v2",
        "  What is the weather in Paris?",
        "assistant  v3",
        "  (reasoning) Look it up.",
        '  → weather({"city":"Paris"})  [call_1]',
        "  gpt-4o · 3,000 in (2,000 cached) · 500 out (100 reasoning) · ttft 412 ms · 1.83 s"
        " · $0.0111",
        "tool  v4",
        "  ← result of call_1",
        "  18C, sunny",
        "assistant  v5",
        "  mystery-1 · 100 in · 20 out · 0.90 s · unpriced (unpriced:model_not_found)",
    ]
    at = 0
    for expected in expected_in_order:
        at = out.index(expected, at)
    assert all(line == line.rstrip() for line in out.splitlines())


def test_show_text_of_errors_and_custom_events(store_path: Path) -> None:
    out = run("show", "broken", "--store", store_path).stdout
    assert "(untitled)" in out
    assert "error: RateLimitError: rate limited after 1,200 ms" in out
    assert "custom acme.note" in out


def test_show_json(store_path: Path) -> None:
    document = as_json("show", "support", "--store", store_path)
    assert document["conversation"]["conversation_id"] == "support"
    assert document["conversation"]["totals"]["unpriced_calls"] == 1
    assert document["metadata"] == {"team": "billing"}
    assert document["children"] == ["sub"]
    events = document["events"]
    assert [e["type"] for e in events] == ["conversation_created"] + ["messages"] * 4
    assert events[0]["data"]["title"] == "Support chat"
    call = events[2]
    assert call["messages"][0]["content"][1] == {
        "type": "tool_call",
        "id": "call_1",
        "name": "weather",
        "arguments": '{"city":"Paris"}',
    }
    assert call["usage"]["model"] == "gpt-4o"
    assert (call["usage"]["ttft_ms"], call["usage"]["duration_ms"]) == (412, 1830)
    assert call["usage"]["cost_usd"] == 0.0111
    assert call["usage"]["service_tier"] is None  # every field, null where absent
    unpriced = events[4]["usage"]
    assert unpriced["cost_usd"] is None
    assert unpriced["pricing"] == "unpriced:model_not_found"
    assert events[1]["usage"] is None  # a user message: no call
    assert events[3]["messages"][0]["tool_call_id"] == "call_1"


def test_show_an_unknown_conversation_is_one_line(store_path: Path) -> None:
    result = run("show", "nobody", "--store", store_path, code=1)
    assert result.stderr == "Error: no conversation 'nobody'\n"
