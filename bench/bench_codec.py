"""Decode cost of a ~300-byte ``messages`` event: ``schemas.decode`` against a bare
``msgspec.json.decode`` into an equivalent plain Struct (same fields, no tagged union, no
constraints, no unknown-type handling), measured in the same run. Target: <= 2x.

    python bench/bench_codec.py [--runs 7] [--n 200000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import msgspec

import schemas


class BareUsage(msgspec.Struct):
    model: str
    provider: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    prompt_cached_tokens: int | None = None
    prompt_cache_creation_tokens: int | None = None
    prompt_cache_creation_1h_tokens: int | None = None
    completion_reasoning_tokens: int | None = None
    cost_usd: float | None = None
    pricing: str | None = None
    service_tier: str | None = None
    ttft_ms: int | None = None
    duration_ms: int | None = None
    server_duration_ms: int | None = None


class BareMessage(msgspec.Struct):
    role: str
    content: str | None = None
    id: str | None = None
    name: str | None = None
    tool_call_id: str | None = None


class BareMessages(msgspec.Struct):
    type: str
    messages: list[BareMessage]
    response_id: str | None = None
    usage: BareUsage | None = None


EVENT = schemas.Messages(
    messages=[schemas.Message(role="assistant", content="Paris.")],
    response_id="chatcmpl-9x7Yb2",
    usage=schemas.UsageRecord(
        model="gpt-4o-2024-08-06",
        provider="openai",
        prompt_tokens=1234,
        completion_tokens=56,
        prompt_cached_tokens=1024,
        cost_usd=0.0021,
        pricing="litellm:3f2a9c1d",
        ttft_ms=412,
        duration_ms=1830,
    ),
)


def per_call_ns(decode: Callable[[bytes], object], raw: bytes, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        decode(raw)
    return (time.perf_counter() - start) / n * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--n", type=int, default=200_000)
    args = parser.parse_args()
    raw = schemas.encode(EVENT)
    bare = msgspec.json.Decoder(BareMessages)
    assert bare.decode(raw).usage.prompt_tokens == 1234  # same document, same fields
    ours_runs, bare_runs = [], []
    for _ in range(args.runs):
        bare_runs.append(per_call_ns(bare.decode, raw, args.n))
        ours_runs.append(per_call_ns(schemas.decode, raw, args.n))
    ours, base = statistics.median(ours_runs), statistics.median(bare_runs)
    print(f"event size: {len(raw)} bytes; median of {args.runs} runs x {args.n:,} decodes")
    print(f"bare msgspec.json.decode into a plain Struct: {base:8.0f} ns")
    print(f"schemas.decode (tagged union, constraints):   {ours:8.0f} ns")
    print(f"ratio: {ours / base:.2f}x (target <= 2x)")


if __name__ == "__main__":
    main()
