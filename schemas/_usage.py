"""``UsageRecord``: what one model call consumed, as the harness measured and priced it."""

from __future__ import annotations

from typing import Annotated

import msgspec

from .types import Count, Millis, Usd

__all__ = ("UsageRecord",)


class UsageRecord(msgspec.Struct, frozen=True, omit_defaults=True, kw_only=True, gc=False):
    """Usage of one model call. Every field but ``model`` is optional and omitted when absent.

    Token counts are *inclusive*: ``prompt_tokens`` counts every input token, cache reads and
    cache writes included; ``completion_tokens`` counts every output token, reasoning included.
    Provider adapters convert additive conventions (Anthropic, Bedrock) once, at the edge.

    ``cost_usd`` absent means *unpriced* (unknown); ``0.0`` means priced and free. ``pricing``
    says where the cost came from (a price table and its digest, or ``reported:<who>``) or why it is
    absent (``unpriced:model_not_found``). The store keeps all of it verbatim as a claim.

    Field names match exo's ``UsageRecord`` so its events read as ours.
    """

    model: Annotated[str, msgspec.Meta(min_length=1)]
    provider: str | None = None
    prompt_tokens: Count | None = None
    completion_tokens: Count | None = None
    prompt_cached_tokens: Count | None = None
    prompt_cache_creation_tokens: Count | None = None
    prompt_cache_creation_1h_tokens: Count | None = None
    completion_reasoning_tokens: Count | None = None
    cost_usd: Usd | None = None
    pricing: str | None = None
    service_tier: str | None = None
    ttft_ms: Millis | None = None
    duration_ms: Millis | None = None
    server_duration_ms: Millis | None = None
