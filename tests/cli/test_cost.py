"""``convlog cost``: persisted totals from the summaries or from each call, unpriced calls
counted apart (never as 0), and ``--reprice`` as a labelled estimate beside them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .support import run

FIXTURE = Path(__file__).parents[1] / "fixtures" / "litellm_prices_subset.json"


def cost(store: Path, *args: str) -> Any:
    return json.loads(run("cost", "--store", store, *args, "--json").stdout)


def totals(calls: int, unpriced: int, cost_usd: float | None, **tokens: int) -> dict[str, Any]:
    counts = dict.fromkeys(
        [
            "prompt_tokens",
            "completion_tokens",
            "prompt_cached_tokens",
            "prompt_cache_creation_tokens",
            "completion_reasoning_tokens",
        ],
        0,
    )
    return {"calls": calls, "unpriced_calls": unpriced, **counts, **tokens, "cost_usd": cost_usd}


ALL = totals(
    3,
    1,
    0.0131,
    prompt_tokens=3500,
    completion_tokens=570,
    prompt_cached_tokens=2000,
    completion_reasoning_tokens=100,
)


def test_total_from_the_summaries(store_path: Path) -> None:
    document = cost(store_path)
    assert document["source"] == "summaries"
    assert document["by"] is None
    assert document["rows"] == []
    assert document["total"] == {"key": "total", "totals": ALL, "estimate": None, "title": None}
    assert document["conversations"] == 4


def test_total_text_says_plainly_what_is_unpriced(store_path: Path) -> None:
    out = run("cost", "--store", store_path).stdout
    assert "cost of all conversations" in out
    assert "calls       3 (1 unpriced)" in out
    assert "cost        $0.0131" in out
    assert "1 of 3 calls were stored without a price: their cost is unknown" in out


def test_by_model_from_the_summaries(store_path: Path) -> None:
    document = cost(store_path, "--by", "model")
    assert document["source"] == "summaries"
    rows = {row["key"]: row["totals"] for row in document["rows"]}
    assert list(rows) == ["gpt-4o", "claude-sonnet-4-5", "mystery-1"]  # by cost, highest first
    assert rows["mystery-1"] == totals(
        1, 1, None, prompt_tokens=100, completion_tokens=20
    )  # unpriced: null, never 0
    assert rows["claude-sonnet-4-5"]["cost_usd"] == 0.002
    assert document["total"]["totals"] == ALL
    # The calls themselves, read when a window needs them, say the same.
    scanned = cost(store_path, "--by", "model", "--since", "2000-01-01")
    assert scanned["source"] == "events"
    assert scanned["rows"] == document["rows"]
    assert scanned["total"] == document["total"]


def test_by_model_text(store_path: Path) -> None:
    lines = run("cost", "--store", store_path, "--by", "model").stdout.splitlines()
    assert lines[1].split() == ["model", "calls", "tokens", "in", "tokens", "out", "cost"]
    assert lines[2].startswith("gpt-4o")
    assert lines[2].endswith("$0.0111")
    assert lines[4].startswith("mystery-1")
    assert lines[4].endswith("1 unpriced")
    assert lines[5].startswith("total")
    assert lines[5].endswith("$0.0131 (1 unpriced)")


def test_limit_keeps_the_costliest_rows_and_the_whole_total(store_path: Path) -> None:
    document = cost(store_path, "--by", "model", "--limit", "1")
    assert [row["key"] for row in document["rows"]] == ["gpt-4o"]
    assert document["more_rows"] == 2
    assert document["total"]["totals"] == ALL
    out = run("cost", "--store", store_path, "--by", "model", "--limit", "1").stdout
    assert "(2 more rows in the total, not shown: --limit)" in out
    assert cost(store_path, "--by", "model")["more_rows"] == 0


def test_by_harness_and_by_day(store_path: Path) -> None:
    by_harness = cost(store_path, "--by", "harness")
    assert {row["key"]: row["totals"]["calls"] for row in by_harness["rows"]} == {
        "basic/0.1": 2,
        "other/1.0": 1,
    }
    by_day = cost(store_path, "--by", "day")
    (day,) = by_day["rows"]
    assert len(day["key"]) == len("2026-11-23")
    assert day["totals"] == ALL


def test_by_conversation_from_the_summaries(store_path: Path) -> None:
    document = cost(store_path, "--by", "conversation")
    assert document["source"] == "summaries"
    rows = [(row["key"], row["title"], row["totals"]["cost_usd"]) for row in document["rows"]]
    assert rows[:2] == [("support", "Support chat", 0.0111), ("sub", "Sub-agent", 0.002)]
    assert {key for key, _, _ in rows[2:]} == {"quiet", "broken"}
    assert all(cost is None for _, _, cost in rows[2:])


def test_one_conversation_with_and_without_children(store_path: Path) -> None:
    alone = cost(store_path, "support")
    assert alone["total"]["totals"]["cost_usd"] == 0.0111
    assert alone["conversations"] == 1
    family = cost(store_path, "support", "--include-children", "--by", "conversation")
    assert [row["key"] for row in family["rows"]] == ["support", "sub"]
    assert family["total"]["totals"] == ALL
    assert family["include_children"] is True
    by_model = cost(store_path, "support", "--include-children", "--by", "model")
    assert by_model["total"]["totals"] == ALL
    text = run("cost", "support", "--include-children", "--store", store_path).stdout
    assert "cost of support with its sub-conversations (1)" in text


def test_include_children_needs_a_conversation(store_path: Path) -> None:
    run("cost", "--include-children", "--store", store_path, code=2)


def test_an_unknown_conversation_is_one_line(store_path: Path) -> None:
    result = run("cost", "nobody", "--store", store_path, code=1)
    assert result.stderr == "Error: no conversation 'nobody'\n"


@pytest.mark.parametrize(
    ("window", "calls"),
    [
        (["--since", "2000-01-01"], 3),
        (["--until", "2000-01-01"], 0),
        (["--since", "2999-01-01T00:00:00"], 0),
        (["--since", "2000-01-01", "--until", "2999-01-01 00:00:00"], 3),
    ],
)
def test_since_and_until_filter_calls_by_recorded_time(
    store_path: Path, window: list[str], calls: int
) -> None:
    document = cost(store_path, *window)
    assert document["source"] == "events"
    assert document["total"]["totals"]["calls"] == calls
    if calls == 0:
        assert document["total"]["totals"]["cost_usd"] is None


def test_a_bad_date_is_a_usage_error(store_path: Path) -> None:
    run("cost", "--since", "yesterday", "--store", store_path, code=2)


def test_reprice_adds_an_estimate_beside_the_persisted_cost(store_path: Path) -> None:
    document = cost(store_path, "--by", "model", "--reprice", "--prices", str(FIXTURE))
    assert document["estimate_pricing"].startswith("litellm:")
    rows = {row["key"]: row for row in document["rows"]}
    gpt = rows["gpt-4o"]
    assert gpt["totals"]["cost_usd"] == 0.0111  # persisted, untouched
    # 1,000 fresh x $2.5/M + 2,000 cached x $1.25/M + 500 out x $10/M
    assert gpt["estimate"] == {"cost_usd": pytest.approx(0.01), "unpriced_calls": 0}
    assert rows["mystery-1"]["estimate"] == {"cost_usd": None, "unpriced_calls": 1}
    total = document["total"]
    assert total["totals"] == ALL
    assert total["estimate"] == {"cost_usd": pytest.approx(0.01195), "unpriced_calls": 1}


def test_reprice_text_is_labelled_an_estimate(store_path: Path) -> None:
    out = run("cost", "--store", store_path, "--reprice", "--prices", FIXTURE).stdout
    lines = [" ".join(line.split()) for line in out.splitlines()]
    assert "cost $0.0131" in lines
    assert "estimate today ~$0.01195 (1 unpriced)" in lines
    assert "estimate: what the price table litellm:" in out
    assert "the persisted cost is what each call recorded" in out


def test_reprice_with_an_unreadable_table_is_one_line(store_path: Path, tmp_path: Path) -> None:
    result = run(
        "cost", "--store", store_path, "--reprice", "--prices", tmp_path / "no.json", code=1
    )
    assert result.stderr.startswith("Error: cannot use --prices")
    assert len(result.stderr.splitlines()) == 1
