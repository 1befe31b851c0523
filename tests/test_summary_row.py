"""The summary row: a fold stored as columns and read back is the same fold, and folding on
from it gives what folding every event gives, whatever models the calls named and wherever
the row was stored in between (a fold keeps one model's totals implicitly until a second model
appears, so both forms must read back alike)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from eventstore._fold import Fold
from eventstore._planner import summary_ahead
from eventstore._summary_row import SUMMARY_COLUMNS, fold_from_row, models_json, summary_row
from schemas import Message, Messages, UsageRecord

calls = st.builds(
    lambda model, prompt, completion, cached, cost: Messages(
        messages=[Message(role="assistant", content="ok")],
        usage=UsageRecord(
            model=model,
            provider="p",
            prompt_tokens=prompt,
            completion_tokens=completion,
            prompt_cached_tokens=cached or None,
            cost_usd=cost,
        ),
    ),
    st.sampled_from(["m", "n", "é", "m2"]),
    st.integers(100, 10**6),
    st.integers(0, 10**4),
    st.integers(0, 100),
    st.sampled_from([None, 0.0, 0.1, 0.2, 0.0111, 1e-7]),
)
bodies = st.one_of(calls, st.just(Messages(messages=[])))


def fold_of(events: list[Messages], start: Fold | None = None) -> Fold:
    fold = start or Fold("c")
    for i, body in enumerate(events, start=fold.version + 1):
        fold.apply(body, version=i, position=i, recorded_at_us=i, hash=bytes(32))
    return fold


@given(st.lists(bodies, max_size=12), st.lists(bodies, max_size=12))
def test_a_stored_fold_reads_back_and_folds_on_as_the_events_do(
    before: list[Messages], after: list[Messages]
) -> None:
    stored = fold_of(before)
    row = summary_row(stored)
    assert len(row) == len(SUMMARY_COLUMNS)
    read = fold_from_row(row)
    assert read.summary() == stored.summary()
    assert summary_row(read) == row
    assert summary_ahead(read, stored) is None

    whole = fold_of(before + after)
    resumed = fold_of(after, read)
    assert resumed.summary() == whole.summary()
    assert summary_row(resumed) == summary_row(whole)
    assert models_json(resumed) == models_json(whole)


@given(st.lists(bodies, min_size=1, max_size=12))
def test_by_model_adds_up_to_the_totals(events: list[Messages]) -> None:
    summary = fold_of(events).summary()
    assert summary.messages == len(events)
    models = summary.by_model
    assert list(models) == sorted(models)
    for name in ("calls", "unpriced_calls", "prompt_tokens", "completion_tokens"):
        assert sum(getattr(t, name) for t in models.values()) == getattr(summary.totals, name)
    assert sorted(models) == sorted({e.usage.model for e in events if e.usage is not None})
