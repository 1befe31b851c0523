"""Usage normalizers for the providers that report *additive* token counts.

Anthropic (and Vertex AI serving Anthropic models, which returns the same body) and Bedrock
Converse count cache reads and cache writes *beside* ``input_tokens``, not inside it. convlog
stores inclusive counts (``prompt_tokens`` = every input token), so these functions add the
parts up once, at the edge; pricing, sums and reports downstream need no provider knowledge.

Each accepts the provider's ``usage`` object as a decoded JSON mapping or as an SDK object
with attributes (``anthropic.types.Usage``), and raises ``ValueError`` naming the field when a
count is not an integer >= 0. Impossible combinations (more 1-hour writes than writes) are kept
as reported: :func:`harness.pricing.price` marks them ``unpriced:invalid_usage``.
"""

from __future__ import annotations

from collections.abc import Mapping

from schemas import UsageRecord

__all__ = ("usage_from_anthropic", "usage_from_bedrock_converse", "usage_from_vertex_anthropic")

#: Anthropic's ``usage.service_tier`` spelling -> ours.
_TIERS = {"standard": "default"}


def usage_from_anthropic(
    usage: object,
    *,
    model: str,
    provider: str = "anthropic",
    service_tier: str | None = None,
) -> UsageRecord:
    """A :class:`UsageRecord` from an Anthropic Messages API ``usage`` block.

    ``input_tokens`` + ``cache_read_input_tokens`` + ``cache_creation_input_tokens`` is the
    inclusive prompt; ``cache_creation.ephemeral_1h_input_tokens`` is the 1-hour share of the
    writes. ``service_tier`` defaults to the block's own (``standard`` becomes ``default``).

    :raises ValueError: if a count is missing where required or not an integer >= 0.
    """
    fresh = _count(usage, "input_tokens", required=True)
    read = _count(usage, "cache_read_input_tokens")
    written = _count(usage, "cache_creation_input_tokens")
    breakdown = _field(usage, "cache_creation")
    written_1h = None
    if breakdown is not None:
        written_5m = _count(breakdown, "ephemeral_5m_input_tokens", where="cache_creation.")
        written_1h = _count(breakdown, "ephemeral_1h_input_tokens", where="cache_creation.")
        if written is None and (written_5m is not None or written_1h is not None):
            written = (written_5m or 0) + (written_1h or 0)
    tier = service_tier if service_tier is not None else _field(usage, "service_tier")
    return UsageRecord(
        model=model,
        provider=provider,
        prompt_tokens=(fresh or 0) + (read or 0) + (written or 0),
        completion_tokens=_count(usage, "output_tokens", required=True),
        prompt_cached_tokens=read,
        prompt_cache_creation_tokens=written,
        prompt_cache_creation_1h_tokens=written_1h,
        service_tier=_TIERS.get(tier, tier) if isinstance(tier, str) else None,
    )


def usage_from_vertex_anthropic(
    usage: object, *, model: str, service_tier: str | None = None
) -> UsageRecord:
    """:func:`usage_from_anthropic` for Claude on Vertex AI (same body, provider ``vertex_ai``)."""
    return usage_from_anthropic(usage, model=model, provider="vertex_ai", service_tier=service_tier)


def usage_from_bedrock_converse(
    usage: object, *, model: str, service_tier: str | None = None
) -> UsageRecord:
    """A :class:`UsageRecord` from a Bedrock Converse ``usage`` (``TokenUsage``) block.

    ``inputTokens`` + ``cacheReadInputTokens`` + ``cacheWriteInputTokens`` is the inclusive
    prompt; the ``cacheDetails`` entry with ``ttl`` ``1h`` is the 1-hour share of the writes.
    Bedrock does not split reasoning out of ``outputTokens``.

    :raises ValueError: if a count is missing where required or not an integer >= 0.
    """
    fresh = _count(usage, "inputTokens", required=True)
    read = _count(usage, "cacheReadInputTokens")
    written = _count(usage, "cacheWriteInputTokens")
    written_1h = None
    details = _field(usage, "cacheDetails")
    if details is not None:
        if not isinstance(details, list | tuple):
            raise ValueError(f"cacheDetails must be a list, got {type(details).__name__}")
        by_ttl: dict[str, int] = {}
        for i, detail in enumerate(details):
            ttl = _field(detail, "ttl")
            tokens = _count(detail, "inputTokens", required=True, where=f"cacheDetails[{i}].")
            by_ttl[str(ttl)] = by_ttl.get(str(ttl), 0) + (tokens or 0)
        if "1h" in by_ttl:
            written_1h = by_ttl["1h"]
        if written is None and by_ttl:
            written = sum(by_ttl.values())
    return UsageRecord(
        model=model,
        provider="bedrock",
        prompt_tokens=(fresh or 0) + (read or 0) + (written or 0),
        completion_tokens=_count(usage, "outputTokens", required=True),
        prompt_cached_tokens=read,
        prompt_cache_creation_tokens=written,
        prompt_cache_creation_1h_tokens=written_1h,
        service_tier=service_tier,
    )


def _field(obj: object, name: str) -> object:
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _count(obj: object, name: str, *, required: bool = False, where: str = "") -> int | None:
    value = _field(obj, name)
    if value is None:
        if required:
            raise ValueError(f"usage.{where}{name} is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"usage.{where}{name} must be an integer >= 0, got {value!r}")
    return value
