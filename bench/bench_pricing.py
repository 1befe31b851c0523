"""Usages priced per second, next to a bare dict-lookup-and-float-multiply loop over the same
usages in the same run (what pricing would cost with no tiers, no fallbacks, no exactness).

    python bench/bench_pricing.py                                  # the test fixture's table
    python bench/bench_pricing.py --prices model_prices_and_context_window.json
    python bench/bench_pricing.py --quick | --json

Workloads, each the median of ``--runs`` runs over the same pre-built usages:
  price        harness.pricing.price() on a mix of models, providers, cache reads and writes,
               reasoning, service tiers and long-context prompts (lookups memoised, as in a
               long-running harness)
  apply_price  the same, returning the priced UsageRecord copy a harness appends
  cold lookup  table.lookup() of ids never seen before (dated suffixes, routing prefixes):
               the boundary probing itself, memo bypassed
  baseline     dict[model] -> (input, output) floats; prompt * input + completion * output
  genai-prices genai_prices.calc_price() on the same usages, when installed (for scale)
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from harness.pricing import PriceTable, apply_price, price, read_prices
from schemas import UsageRecord

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "litellm_prices_subset.json"
# (model id as a harness reports it, provider): dated ids, routing and geo prefixes, aliases.
MODELS = [
    ("claude-sonnet-4-5-20250929", "anthropic"),
    ("claude-sonnet-4-6-20251022", "anthropic"),
    ("claude-opus-4-6", "anthropic"),
    ("claude-haiku-4-5", "anthropic"),
    ("gpt-4o", "openai"),
    ("gpt-4o-2024-08-06", "openai"),
    ("gpt-4o-mini", "openai"),
    ("gpt-5", "openai"),
    ("gpt-5-mini", "openai"),
    ("o3", "openai"),
    ("gemini-2.5-pro", "gemini"),
    ("gemini-2.5-flash", "gemini"),
    ("claude-sonnet-4-5@20250929", "vertex_ai"),
    ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "bedrock"),
    ("anthropic/claude-opus-4-6", None),
    ("deepseek/deepseek-chat", None),
]
TIERS = [None, None, None, "default", "priority", "flex", "batch"]


def usages(table: PriceTable, n: int, seed: int = 7) -> list[UsageRecord]:
    rng = random.Random(seed)
    known = [(m, p) for m, p in MODELS if table.lookup(m, p) is not None]
    if not known:
        sys.exit("none of the benchmark models is in this table")
    out = []
    for _ in range(n):
        model, provider = rng.choice(known)
        prompt = rng.choice([rng.randrange(50, 20_000), rng.randrange(20_000, 400_000)])
        cached = rng.randrange(0, prompt // 2 + 1)
        written = rng.randrange(0, (prompt - cached) // 4 + 1)
        completion = rng.randrange(0, 4_000)
        out.append(
            UsageRecord(
                model=model,
                provider=provider,
                prompt_tokens=prompt,
                completion_tokens=completion,
                prompt_cached_tokens=cached or None,
                prompt_cache_creation_tokens=written or None,
                prompt_cache_creation_1h_tokens=(written // 3) or None,
                completion_reasoning_tokens=(completion // 2) or None,
                service_tier=rng.choice(TIERS),
            )
        )
    return out


def rate(work: Callable[[], int], runs: int) -> float:
    """Items per second, median of ``runs`` timed runs (after one warm-up run)."""
    work()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        items = work()
        samples.append(items / (time.perf_counter() - start))
    return statistics.median(samples)


def bench_price(table: PriceTable, batch: Sequence[UsageRecord]) -> int:
    for usage in batch:
        price(usage, table)
    return len(batch)


def bench_apply(table: PriceTable, batch: Sequence[UsageRecord]) -> int:
    for usage in batch:
        apply_price(usage, table)
    return len(batch)


def bench_cold_lookup(table: PriceTable, ids: Sequence[tuple[str, str | None]]) -> int:
    for model, provider in ids:
        table._resolve(model, provider)  # the probing, without the memo in front of it
    return len(ids)


def baseline(table: PriceTable, batch: Sequence[UsageRecord]) -> Callable[[], int]:
    floats: dict[str, tuple[float, float]] = {}
    for usage in batch:
        found = table.lookup(usage.model, usage.provider)
        assert found is not None
        base = found.standard.base
        floats[usage.model] = (float(base.input or 0), float(base.output or 0))
    rows = [(u.model, u.prompt_tokens or 0, u.completion_tokens or 0) for u in batch]

    def work() -> int:
        for model, prompt, completion in rows:
            inp, out = floats[model]
            _ = prompt * inp + completion * out
        return len(rows)

    return work


def genai_work(batch: Sequence[UsageRecord]) -> Callable[[], int] | None:
    try:
        import genai_prices
    except ImportError:
        return None
    calls = []
    for u in batch:
        usage = genai_prices.Usage(
            input_tokens=u.prompt_tokens,
            cache_read_tokens=u.prompt_cached_tokens,
            cache_write_tokens=u.prompt_cache_creation_tokens,
            output_tokens=u.completion_tokens,
        )
        ref = u.model.split("/")[-1]
        try:
            genai_prices.calc_price(usage, ref)
        except LookupError:
            continue
        calls.append((usage, ref))

    def work() -> int:
        for usage, ref in calls:
            genai_prices.calc_price(usage, ref)
        return len(calls)

    return work if calls else None


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prices", type=Path, default=FIXTURE, help="LiteLLM-format price file")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke check")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    n = 20_000 if args.quick else 100_000
    runs = 3 if args.quick else args.runs

    load_start = time.perf_counter()
    table = read_prices(args.prices)
    load_s = time.perf_counter() - load_start
    batch = usages(table, n)
    cold = [(f"{m}-2099-{i:06d}", p) for i in range(n // 10) for m, p in MODELS[:1]]
    cold += [(f"openrouter/{m}:v{i}", p) for i in range(n // 10) for m, p in MODELS[4:5]]

    figures: dict[str, Any] = {
        "table": table.provenance,
        "models_in_table": len(table),
        "table_load_s": round(load_s, 3),
        "usages": n,
        "runs": runs,
        "price_per_s": rate(lambda: bench_price(table, batch), runs),
        "apply_price_per_s": rate(lambda: bench_apply(table, batch), runs),
        "cold_lookup_per_s": rate(lambda: bench_cold_lookup(table, cold), runs),
        "baseline_per_s": rate(baseline(table, batch), runs),
    }
    genai = genai_work(batch[: n // 20])
    figures["genai_prices_per_s"] = rate(genai, runs) if genai else None
    figures["price_vs_baseline"] = figures["price_per_s"] / figures["baseline_per_s"]

    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(
        f"table {figures['table']}: {figures['models_in_table']} models, "
        f"loaded in {load_s * 1000:.0f} ms; {n:,} usages, median of {runs} runs"
    )
    rows = [
        ("price()", figures["price_per_s"], "usages/s"),
        ("apply_price()", figures["apply_price_per_s"], "usages/s"),
        ("cold lookup (no memo)", figures["cold_lookup_per_s"], "ids/s"),
        ("baseline dict + float", figures["baseline_per_s"], "usages/s"),
    ]
    if figures["genai_prices_per_s"]:
        rows.append(("genai-prices calc_price", figures["genai_prices_per_s"], "usages/s"))
    for name, value, unit in rows:
        print(f"  {name:<26}{value:>14,.0f} {unit}")
    print(f"  price() / baseline        {figures['price_vs_baseline']:>14.3f}")


if __name__ == "__main__":
    main()
