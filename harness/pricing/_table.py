"""The price table and its lookup rules.

Lookup of a model id, first hit wins:

1. the exact key (case-insensitive);
2. the provider-qualified key, ``<provider>/<model>`` (``vertex_ai/claude-sonnet-4-5@20250929``);
3. the same two probes on each shorter form of the id: routing segments dropped one at a
   time (``openrouter/anthropic/x`` -> ``anthropic/x`` -> ``x``), then a Bedrock geo prefix
   (``us.``, ``eu.``, ``global.``...), then a Bedrock vendor prefix (``anthropic.``);
4. the longest key that is a prefix of one of those forms and ends at a boundary
   (``-``, ``:``, ``@`` or the end), so ``claude-sonnet-4-6-20251022`` finds
   ``claude-sonnet-4-6`` and ``gpt-4o-mini`` never finds ``gpt-4``.

When the caller names a provider, a key whose ``litellm_provider`` belongs to that provider is
preferred at every step over one that does not (``gemini-2.5-pro`` from ``gemini`` resolves to
``gemini/gemini-2.5-pro``, not Vertex's bare key); a key of another provider is still used when
it is the only candidate. Each step probes the dict at a handful of boundaries; nothing scans
the table. Resolutions are memoised per table.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

import msgspec

from schemas import ConvlogError

from ._rates import EntryError, ModelPrice, parse_litellm_entry

__all__ = ("PriceTable", "PriceTableError")

logger = logging.getLogger("convlog.pricing")

#: Provenance digests are this many hex digits of SHA-256: enough to tell tables apart.
DIGEST_CHARS = 12
#: The explanatory entry at the top of LiteLLM's file; not a model.
_SAMPLE_SPEC = "sample_spec"
_BOUNDARIES = frozenset("-:@")
#: Bedrock cross-region inference profile prefixes (``us.anthropic.claude-...``).
_GEO_PREFIXES = ("us-gov.", "us.", "eu.", "apac.", "au.", "jp.", "ca.", "global.")
#: Bedrock model-vendor prefixes (``anthropic.claude-...``).
_VENDOR_PREFIXES = (
    "anthropic.",
    "amazon.",
    "meta.",
    "mistral.",
    "cohere.",
    "ai21.",
    "deepseek.",
    "openai.",
    "qwen.",
    "writer.",
    "google.",
    "moonshotai.",
    "minimax.",
    "nvidia.",
    "zai.",
)
#: Usage ``provider`` spellings -> the LiteLLM provider family they belong to.
_PROVIDER_ALIASES = {
    "google": "gemini",
    "google_genai": "gemini",
    "vertex": "vertex_ai",
    "vertexai": "vertex_ai",
    "google_vertex": "vertex_ai",
    "aws": "bedrock",
    "aws_bedrock": "bedrock",
    "bedrock_converse": "bedrock",
    "azure_openai": "azure",
    "x-ai": "xai",
    "mistralai": "mistral",
    "together": "together_ai",
    "fireworks": "fireworks_ai",
}
_MEMO_LIMIT = 4096
_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


class PriceTableError(ConvlogError, ValueError):
    """A price document cannot be read as a table (not JSON, not an object)."""


class PriceTable:
    """Model prices keyed by LiteLLM model key, with the lookup rules of this module.

    ``provenance`` names the data (``litellm:<sha256 prefix>``, ``genai-prices:<version>``) and
    is what :func:`harness.pricing.price` writes into ``UsageRecord.pricing``; ``source`` says
    where it was read from, for people; ``skipped`` counts entries that could not be read.
    A table without a single token price (empty, or only per-second or per-image entries)
    prices nothing: every call comes back ``unpriced:table_unavailable``.
    """

    __slots__ = ("_by_key", "_derived", "_memo", "_priced", "provenance", "skipped", "source")

    def __init__(
        self,
        prices: Iterable[ModelPrice] = (),
        *,
        provenance: str = "",
        source: str = "",
        skipped: int = 0,
    ) -> None:
        by_key: dict[str, ModelPrice] = {}
        for price in prices:
            # Keys are matched case-insensitively; the first spelling wins on a clash.
            by_key.setdefault(price.key.lower(), price)
        self._by_key = by_key
        # Entries without token rates (per-second audio, per-image) or with rates under keys
        # that are not models (an error body: {"error": {"code": 404}}) price no call.
        self._priced = any(
            p.standard.base.input is not None or p.standard.base.output is not None
            for p in by_key.values()
        )
        self._memo: dict[tuple[str, str | None], ModelPrice | None] = {}
        # What callers derive from this (immutable) table, by key: see memoized().
        self._derived: dict[Hashable, Any] = {}
        self.provenance = provenance
        self.source = source
        self.skipped = skipped

    @classmethod
    def from_litellm(
        cls,
        mapping: Mapping[str, object],
        *,
        provenance: str | None = None,
        source: str = "",
    ) -> PriceTable:
        """A table from a decoded ``model_prices_and_context_window.json``.

        ``sample_spec`` is ignored; any other entry this module cannot read is skipped and
        counted in ``skipped`` (and logged at debug level), never raised. Without a
        ``provenance`` the digest is taken over the mapping's canonical JSON encoding.
        """
        prices: list[ModelPrice] = []
        skipped = 0
        for key, entry in mapping.items():
            if key == _SAMPLE_SPEC:
                continue
            if not isinstance(key, str) or not key:
                skipped += 1
                continue
            try:
                prices.append(parse_litellm_entry(key, entry))
            except EntryError as exc:
                skipped += 1
                logger.debug("skipping price entry: %s", exc)
        if provenance is None:
            # enc_hook: an entry of a shape JSON cannot hold is skipped above, not fatal here.
            canonical = msgspec.json.encode(mapping, order="sorted", enc_hook=repr)
            provenance = "litellm:" + _digest(canonical)
        return cls(prices, provenance=provenance, source=source, skipped=skipped)

    @classmethod
    def from_litellm_json(cls, raw: bytes, *, source: str = "") -> PriceTable:
        """A table from the bytes of a LiteLLM price file; provenance digests those bytes.

        :raises PriceTableError: if ``raw`` is not JSON or not a JSON object.
        """
        try:
            document = msgspec.json.decode(raw)
        except msgspec.DecodeError as exc:
            raise PriceTableError(f"not a JSON document: {exc}") from None
        if not isinstance(document, dict):
            raise PriceTableError(f"expected a JSON object, got {type(document).__name__}")
        return cls.from_litellm(document, provenance="litellm:" + _digest(raw), source=source)

    def __len__(self) -> int:
        return len(self._by_key)

    def __iter__(self) -> Iterator[ModelPrice]:
        return iter(self._by_key.values())

    def __repr__(self) -> str:
        return f"<PriceTable {self.provenance or 'empty'}: {len(self)} models from {self.source!r}>"

    @property
    def available(self) -> bool:
        """Whether the table holds a per-token input or output rate for at least one model."""
        return self._priced

    def get(self, key: str) -> ModelPrice | None:
        """The entry stored under exactly ``key`` (case-insensitive), without lookup rules."""
        return self._by_key.get(key.lower())

    def lookup(self, model: str, provider: str | None = None) -> ModelPrice | None:
        """The entry that prices ``model`` (served by ``provider``), or ``None``.

        ``ModelPrice.key`` tells which key the rules above resolved to.
        """
        memo_key = (model, provider)
        try:
            return self._memo[memo_key]
        except KeyError:
            pass
        found = self._resolve(model, provider)
        if len(self._memo) >= _MEMO_LIMIT:
            # Model ids are few in practice; a flood of distinct ones must not grow memory.
            self._memo.clear()
        self._memo[memo_key] = found
        return found

    def memoized(self, key: _K, derive: Callable[[PriceTable, _K], _V]) -> _V:
        """``derive(self, key)``, computed once per ``key`` while the table lives.

        For data a caller derives from the table and would otherwise recompute on every call
        (the pricing math's per-model rates). One memo serves every caller, so ``key`` must
        name what ``derive`` computes. At most 4096 keys are kept: past that the memo starts
        over, so a flood of distinct model ids cannot grow memory.
        """
        try:
            value: _V = self._derived[key]  # a value derive() returned for this key
            return value
        except KeyError:
            pass
        value = derive(self, key)
        if len(self._derived) >= _MEMO_LIMIT:
            self._derived.clear()
        self._derived[key] = value
        return value

    def _resolve(self, model: str, provider: str | None) -> ModelPrice | None:
        by_key = self._by_key
        if not by_key:
            return None
        family = _family(provider)
        # Exact probes: the form itself, then qualified by the provider, for each form.
        exact: list[str] = []
        for form in _forms(model.strip().lower()):
            exact.append(form)
            if family:
                exact.append(f"{family}/{form}")
        fallback: ModelPrice | None = None
        for candidate in exact:
            found = by_key.get(candidate)
            if found is not None:
                if family is None or _belongs(found.provider, family):
                    return found
                fallback = fallback or found
        if fallback is not None:
            return fallback
        # Boundary-prefix probes, longest first, in the same order of forms.
        for candidate in exact:
            for prefix in _boundary_prefixes(candidate):
                found = by_key.get(prefix)
                if found is not None:
                    if family is None or _belongs(found.provider, family):
                        return found
                    fallback = fallback or found
                    break  # the longest prefix of this form; shorter ones are less specific
        return fallback


def _digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:DIGEST_CHARS]


def _family(provider: str | None) -> str | None:
    if not provider:
        return None
    name = provider.strip().lower()
    return _PROVIDER_ALIASES.get(name, name) or None


def _belongs(entry_provider: str | None, family: str) -> bool:
    """Whether a LiteLLM ``litellm_provider`` is (a flavour of) the provider family."""
    if entry_provider is None:
        return False
    # "bedrock_converse", "vertex_ai-anthropic_models" are flavours of bedrock and vertex_ai.
    return entry_provider == family or entry_provider.startswith((family + "_", family + "-"))


def _forms(model: str) -> list[str]:
    """The id and its shorter forms, most specific first (see the module docstring)."""
    forms = [model]
    rest = model
    while "/" in rest:
        rest = rest.split("/", 1)[1]
        if rest:
            forms.append(rest)
    for prefixes in (_GEO_PREFIXES, _VENDOR_PREFIXES):
        for prefix in prefixes:
            if rest.startswith(prefix) and len(rest) > len(prefix):
                rest = rest[len(prefix) :]
                forms.append(rest)
                break
    return forms


def _boundary_prefixes(form: str) -> Iterator[str]:
    """Proper prefixes of ``form`` that end just before a boundary character, longest first."""
    for end in range(len(form) - 1, 0, -1):
        if form[end] in _BOUNDARIES:
            yield form[:end]
