"""after_llm_call hooks: the payload carries the persisted cost; a failing or hanging hook
never loses the event; a veto stops further calls; the budget hook; the cost-ledger example."""

from __future__ import annotations

import csv
import logging
import sys
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

import eventstore
from harness.hooks import CallPayload, CommandHook, Hooks, Veto, budget_hook, load_hooks
from harness.pricing import PriceTable
from harness.recorder import CallVetoed, Recorder

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).parents[2]


def response(model: str = "gpt-4o", prompt: int = 1000, completion: int = 100) -> dict[str, object]:
    """An OpenAI chat completion, as JSON (the adapter reads dicts as SDK objects)."""
    return {
        "id": "chatcmpl-1",
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion},
    }  # fmt: skip


async def call(recorder: Recorder, cid: str = "c", **kwargs: object) -> None:
    async with recorder.call(cid, provider="openai", model="gpt-4o", turn_id="t") as c:
        c.response(response(**kwargs))  # type: ignore[arg-type]


def recorder_with(store: eventstore.Store, prices: PriceTable, *hooks: object) -> Recorder:
    return Recorder(store, harness="h/1", prices=prices, hooks=Hooks(list(hooks)))  # type: ignore[arg-type]


async def test_a_hook_sees_the_cost_that_is_persisted(
    store: eventstore.Store, prices: PriceTable
) -> None:
    seen: list[CallPayload] = []
    recorder = recorder_with(store, prices, seen.append)
    await call(recorder)
    await call(recorder, model="no-such-model")
    (event, _unpriced) = [e async for e in store.read("c")]
    assert seen[0].cost == event.data.usage.cost_usd  # type: ignore[union-attr]
    assert seen[0].cost is not None
    assert seen[0].usage == event.data.usage  # type: ignore[union-attr]
    assert (seen[0].conversation_id, seen[0].turn_id, seen[0].provider) == ("c", "t", "openai")
    assert seen[1].cost is None  # unpriced: absent, not 0
    assert "cost" not in msgspec.json.decode(
        msgspec.json.encode(seen[1])
    )  # as command hooks see it


async def test_a_failing_hook_is_logged_and_loses_nothing(
    store: eventstore.Store, prices: PriceTable, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(payload: CallPayload) -> None:
        raise RuntimeError("ledger full")

    seen: list[CallPayload] = []
    recorder = recorder_with(store, prices, broken, seen.append)
    with caplog.at_level(logging.WARNING, "convlog.hooks"):
        await call(recorder)
    assert len([e async for e in store.read("c")]) == 1
    assert len(seen) == 1  # the hooks after it still ran
    assert "ledger full" in caplog.text


async def test_a_hanging_command_hook_times_out_and_loses_nothing(
    store: eventstore.Store, prices: PriceTable, caplog: pytest.LogCaptureFixture
) -> None:
    hang = CommandHook((sys.executable, "-c", "import time; time.sleep(30)"), timeout=0.5)
    recorder = recorder_with(store, prices, hang)
    with caplog.at_level(logging.WARNING, "convlog.hooks"):
        await call(recorder)
    assert len([e async for e in store.read("c")]) == 1
    assert "timed out" in caplog.text


async def test_a_veto_stops_further_calls_in_that_conversation_only(
    store: eventstore.Store, prices: PriceTable
) -> None:
    recorder = recorder_with(store, prices, lambda payload: Veto("enough"))
    await call(recorder)
    with pytest.raises(CallVetoed, match="vetoed: enough"):
        await call(recorder)
    assert len([e async for e in store.read("c")]) == 1  # nothing written for the vetoed call
    await call(recorder, "other")  # another conversation is not stopped


async def test_a_command_hook_vetoes_with_exit_code_3(
    store: eventstore.Store, prices: PriceTable
) -> None:
    veto = CommandHook((sys.executable, "-c", "print('over budget'); raise SystemExit(3)"))
    recorder = recorder_with(store, prices, veto)
    await call(recorder)
    with pytest.raises(CallVetoed, match="over budget"):
        await call(recorder)


async def test_the_budget_hook_stops_a_conversation_past_its_persisted_spend(
    store: eventstore.Store, prices: PriceTable
) -> None:
    recorder = Recorder(store, harness="h/1", prices=prices)
    recorder.hooks.after_llm_call.append(budget_hook(recorder.spent, limit_usd=0.01))
    await call(recorder)  # gpt-4o, 1000 in + 100 out: $0.0035
    await call(recorder)  # $0.0070
    await call(recorder)  # $0.0105: past the limit, vetoes what follows
    with pytest.raises(CallVetoed, match=r"budget: conversation 'c' has spent \$0.010500"):
        await call(recorder)
    assert (await store.get_conversation("c")).totals.calls == 3


async def test_the_cost_ledger_example_sums_to_the_store_total(
    store: eventstore.Store, prices: PriceTable, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.csv"
    hooks_file = tmp_path / "hooks.toml"
    hooks_file.write_text(
        "[[after_llm_call]]\n"
        f"command = [{str(sys.executable)!r}, {str(ROOT / 'docs/examples/cost_ledger.py')!r}, "
        f"{str(ledger)!r}]\ntimeout = 20\n"
    )
    recorder = Recorder(store, harness="h/1", prices=prices, hooks=load_hooks(hooks_file))
    for i in range(4):
        await call(recorder, prompt=1000 + i * 37, completion=50 + i)
    await call(recorder, model="no-such-model")  # unpriced: an empty cost in the ledger
    with ledger.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 5
    assert rows[-1]["cost_usd"] == ""
    total = sum(Decimal(r["cost_usd"]) for r in rows if r["cost_usd"])
    stored = (await store.get_conversation("c")).totals.cost_usd
    assert stored is not None
    assert total == Decimal(repr(stored))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[[before_call]]\ncommand = ['x']\n", "unknown hook kind"),
        ("[[after_llm_call]]\ncommand = []\n", "command: expected a non-empty list"),
        ("[[after_llm_call]]\ncommand = ['x']\ntimeout = 0\n", "timeout: expected a number"),
        ("[[after_llm_call]]\ncommand = ['x']\nretries = 2\n", "unknown key"),
        ("after_llm_call = 3\n", "must be an array of tables"),
        ("[[after_llm_call]\n", "cannot read hooks"),
    ],
)
def test_a_bad_hooks_file_is_refused_naming_the_entry(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "hooks.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=problem):
        load_hooks(path)
