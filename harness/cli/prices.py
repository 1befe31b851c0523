"""``convlog prices``: inspect the price table, refresh its cache, price one usage.

Registered into :data:`harness.cli.cli`. The table comes from ``--prices PATH`` when given (and
must then be readable), else from :func:`harness.pricing.load_prices` (``CONVLOG_PRICES_PATH``,
``CONVLOG_PRICES_URL``, cache, fetch, stale cache, genai-prices).

``harness.pricing`` (and with it msgspec and the schemas) is imported inside the commands, not
here: ``convlog --help`` imports this module (see :mod:`harness.cli`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ._commands import short_help

if TYPE_CHECKING:
    from decimal import Decimal

    from harness.pricing import ModelPrice, PriceTable, RateCard, Rates

__all__ = ("prices",)

_F = TypeVar("_F", bound=Callable[..., Any])
_COLUMNS = (
    ("input", "input"),
    ("cache_read", "cache read"),
    ("cache_write", "cache write"),
    ("cache_write_1h", "1h write"),
    ("output", "output"),
    ("reasoning", "reasoning"),
)
_MILLION = 6  # rates are shown per million tokens: scaleb(6)
#: harness.pricing.DEFAULT_FETCH_TIMEOUT as --help states it, without importing the pricing
#: code; the command itself uses the constant (a test holds the two equal).
_SHOWN_TIMEOUT = "10"


@click.group(short_help=short_help("prices"))
@click.option("-v", "--verbose", is_flag=True, help="Also say which price source was used.")
def prices(verbose: bool) -> None:
    """Inspect the price table, refresh its cache, price one usage.

    Costs are computed in userspace from LiteLLM's model_prices_and_context_window.json
    and stored with each call; see docs/pricing.md.
    """
    from ._log import log_to_stderr

    log_to_stderr("convlog.pricing", verbose=verbose)


def price_source_options(command: _F) -> _F:
    """``--prices PATH`` and ``--offline``: where a command takes its price table from
    (:func:`load_table`). Shared with ``convlog cost --reprice``."""
    options = [
        click.option(
            "--prices",
            "prices_path",
            type=click.Path(),  # checked by read_prices: a bad file exits 1, as documented
            help="LiteLLM-format price file (default: CONVLOG_PRICES_PATH/_URL, cache, fetch).",
        ),
        click.option(
            "--offline",
            is_flag=True,
            help="Never fetch (not even CONVLOG_PRICES_URL); use what is on disk.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _table_options(command: _F) -> _F:
    command = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")(
        command
    )
    return price_source_options(command)


def load_table(prices_path: str | None, offline: bool) -> PriceTable:
    """The table ``--prices`` names (which must be readable: else exit 1), else the
    :func:`harness.pricing.load_prices` chain."""
    import logging

    from harness.pricing import PriceTableError, load_prices, read_prices

    if prices_path is not None:
        try:
            table = read_prices(prices_path)
        except PriceTableError as exc:
            raise click.ClickException(f"cannot use --prices {prices_path}: {exc}") from None
        logging.getLogger("convlog.pricing").info(
            "using --prices %s (%s, %d models)", prices_path, table.provenance, len(table)
        )
        return table
    return load_prices(offline=offline)


@prices.command()
@click.argument("model")
@click.option("--provider", help="Who serves the model (prefers its provider-qualified key).")
@_table_options
def show(
    model: str, provider: str | None, prices_path: str | None, offline: bool, as_json: bool
) -> None:
    """Show the key MODEL resolves to, its rates, provider and the table's provenance.

    Rates are USD per million tokens; '-' means the table states none and the fallback
    applies (cache rates -> input, 1-hour writes -> cache writes, reasoning -> output).
    """
    import json

    table = load_table(prices_path, offline)
    found = table.lookup(model, provider)
    if as_json:
        click.echo(json.dumps(_show_document(model, provider, table, found), indent=2))
    elif found is not None:
        _show_text(model, table, found)
    if found is None:
        raise click.ClickException(
            f"no price for model {model!r} in {table.provenance or 'an empty table'}"
            f" ({len(table)} models from {table.source or 'nowhere'})"
        )


@prices.command()
@click.option("--url", help="Fetch from this URL (default: LiteLLM's published table).")
@click.option("--path", "path", type=click.Path(), help="Copy this file instead.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    help=f"Seconds the download may take (default: {_SHOWN_TIMEOUT}).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def update(url: str | None, path: str | None, timeout: float | None, as_json: bool) -> None:
    """Refresh the on-disk price cache (written only if the new table parses)."""
    import json

    from harness.pricing import DEFAULT_FETCH_TIMEOUT, PriceTableError, update_prices

    if url is not None and path is not None:
        raise click.UsageError("give --url or --path, not both")
    if timeout is None:
        timeout = DEFAULT_FETCH_TIMEOUT
    try:
        table, cached = update_prices(url=url, path=path, timeout=timeout)
    except PriceTableError as exc:
        raise click.ClickException(f"cannot update prices: {exc}") from None
    if as_json:
        document = {
            "cache": str(cached),
            "pricing": table.provenance,
            "models": len(table),
            "skipped": table.skipped,
            "source": table.source,
        }
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo(
            f"updated {cached}: {table.provenance}, {len(table)} models"
            f" ({table.skipped} entries skipped) from {table.source}"
        )


@prices.command()
@click.option("--model", required=True, help="Model id as the provider reported it.")
@click.option("--prompt", type=click.IntRange(min=0), required=True, help="ALL input tokens.")
@click.option("--completion", type=click.IntRange(min=0), default=0, help="ALL output tokens.")
@click.option("--cached", type=click.IntRange(min=0), help="Cache reads (part of --prompt).")
@click.option("--cache-write", type=click.IntRange(min=0), help="Cache writes (part of --prompt).")
@click.option(
    "--cache-write-1h", type=click.IntRange(min=0), help="1-hour writes (part of --cache-write)."
)
@click.option("--reasoning", type=click.IntRange(min=0), help="Reasoning (part of --completion).")
@click.option("--service-tier", help="default, priority, flex, batch, ...")
@click.option("--provider", help="Who served the call (openai, anthropic, bedrock, ...).")
@_table_options
def cost(
    model: str,
    prompt: int,
    completion: int,
    cached: int | None,
    cache_write: int | None,
    cache_write_1h: int | None,
    reasoning: int | None,
    service_tier: str | None,
    provider: str | None,
    prices_path: str | None,
    offline: bool,
    as_json: bool,
) -> None:
    """Price one usage. Counts are inclusive, as in UsageRecord: --prompt counts every input
    token (cache reads and writes too), --completion every output token (reasoning too)."""
    import json
    from decimal import Decimal

    from harness.pricing import Priced, charge, price
    from schemas import UsageRecord

    table = load_table(prices_path, offline)
    usage = UsageRecord(
        model=model,
        provider=provider,
        prompt_tokens=prompt,
        completion_tokens=completion,
        prompt_cached_tokens=cached,
        prompt_cache_creation_tokens=cache_write,
        prompt_cache_creation_1h_tokens=cache_write_1h,
        completion_reasoning_tokens=reasoning,
        service_tier=service_tier,
    )
    priced = price(usage, table)
    found = table.lookup(model, provider) if priced.key is not None else None
    lines = charge(usage, found) if found is not None else priced
    if as_json:
        document: dict[str, Any] = {
            "model": model,
            "provider": provider,
            "service_tier": service_tier,
            "key": priced.key,
            "cost_usd": priced.cost_usd,
            "pricing": priced.pricing,
            "detail": priced.detail or None,
            "lines": []
            if isinstance(lines, Priced)
            else [
                {
                    "component": line.component,
                    "tokens": line.tokens,
                    "usd_per_mtok": _plain(line.rate.scaleb(_MILLION)),
                    "cost_usd": _plain(line.cost),
                }
                for line in lines
            ],
        }
        click.echo(json.dumps(document, indent=2))
    elif priced.cost_usd is not None and not isinstance(lines, Priced):
        click.echo(f"{model} -> {priced.key}  ({priced.pricing})")
        width = max((len(f"{line.tokens:,}") for line in lines), default=1)
        for line in lines:
            rate = f"${_plain(line.rate.scaleb(_MILLION))}/MTok"
            click.echo(
                f"  {line.component:<15}{line.tokens:>{width},} x {rate:<16} = ${_plain(line.cost)}"
            )
        click.echo(f"  total  ${_plain(Decimal(repr(priced.cost_usd)))}")
    if priced.cost_usd is None:
        raise click.ClickException(f"{priced.pricing}: {priced.detail}")


def _show_document(
    model: str, provider: str | None, table: PriceTable, found: ModelPrice | None
) -> dict[str, Any]:
    return {
        "model": model,
        "provider": provider,
        "key": None if found is None else found.key,
        "litellm_provider": None if found is None else found.provider,
        "mode": None if found is None else found.mode,
        "pricing": table.provenance if found is not None else _unpriced(table),
        "table": {"provenance": table.provenance, "source": table.source, "models": len(table)},
        "usd_per_mtok": None
        if found is None
        else {tier: _card_rows(card) for tier, card in _cards(found)},
    }


def _cards(found: ModelPrice) -> list[tuple[str, RateCard]]:
    """Cards named as a usage's ``service_tier`` names them (LiteLLM's "batches" is "batch")."""
    from harness.pricing import service_tier_of

    named = [(service_tier_of(suffix), card) for suffix, card in found.service_tiers.items()]
    return [("standard", found.standard), *sorted(named, key=lambda pair: pair[0])]


def _unpriced(table: PriceTable) -> str:
    from harness.pricing import MODEL_NOT_FOUND, TABLE_UNAVAILABLE

    return MODEL_NOT_FOUND if table.available else TABLE_UNAVAILABLE


def _card_rows(card: RateCard) -> list[dict[str, Any]]:
    rungs = [(0, card.base), *reversed(card.tiers)]
    return [{"above_tokens": above, **_rates_row(rates)} for above, rates in rungs]


def _rates_row(rates: Rates) -> dict[str, str | None]:
    row: dict[str, str | None] = {}
    for name, _ in _COLUMNS:
        rate: Decimal | None = getattr(rates, name)
        row[name] = None if rate is None else _plain(rate.scaleb(_MILLION))
    return row


def _show_text(model: str, table: PriceTable, found: ModelPrice) -> None:
    click.echo(f"model        {model}")
    click.echo(f"resolved to  {found.key}  ({found.provider or '?'}, {found.mode or '?'})")
    click.echo(f"table        {table.provenance}  ({len(table)} models from {table.source})")
    header = ["tier", "prompt"] + [title for _, title in _COLUMNS]
    rows = []
    for tier, card in _cards(found):
        for row in _card_rows(card):
            above = row.pop("above_tokens")
            cells = [str(v) if v is not None else "-" for v in row.values()]
            rows.append([tier, f">{above:,}" if above else "any", *cells])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    click.echo("USD per million tokens:")
    for r in [header, *rows]:
        padded = (cell.ljust(width) for cell, width in zip(r, widths, strict=True))
        click.echo(("  " + "  ".join(padded)).rstrip())


def _plain(value: Decimal) -> str:
    """A decimal in plain notation without trailing zeros: 3, 0.3, 0.000375."""
    return format(value.normalize(), "f")
