"""``convlog cost``: what was spent, as the harnesses persisted it, summed up.

Totals, ``--by conversation`` and ``--by model`` come from the store's summaries (a page of
summaries a thousand conversations, whatever the number of events; each summary keeps its
conversation's totals per model). ``--by day|harness``, ``--since``/``--until`` and
``--reprice`` need each call's usage, so they read the ``messages`` events: time grows with
the events read (figures in ``bench/README.md``).

Calls stored without a price are counted apart and never summed as 0. ``--reprice`` prices
the same tokens with today's table beside the persisted figure, as an estimate; the persisted
cost is never replaced. The store and the tally are imported inside the command.
"""

from __future__ import annotations

from datetime import datetime

import click

from ._commands import short_help
from ._store import StoreArg, store_option
from .prices import price_source_options

__all__ = ("cost",)

_DATES = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]


@click.command(short_help=short_help("cost"))
@click.argument("conversation", required=False)
@click.option(
    "--by",
    type=click.Choice(["model", "conversation", "day", "harness"]),
    help="One row per model, conversation, day (UTC) or harness.",
)
@click.option("--since", type=click.DateTime(_DATES), help="Only calls recorded at or after (UTC).")
@click.option("--until", type=click.DateTime(_DATES), help="Only calls recorded before (UTC).")
@click.option(
    "--include-children",
    is_flag=True,
    help="With CONVERSATION: add its sub-conversations (and theirs).",
)
@click.option(
    "--reprice",
    is_flag=True,
    help="Also estimate what today's price table would charge for the same tokens.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    help="Show only the first N rows (the costliest); the total still covers all.",
)
@price_source_options
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@store_option
def cost(
    conversation: str | None,
    by: str | None,
    since: datetime | None,
    until: datetime | None,
    include_children: bool,
    reprice: bool,
    limit: int | None,
    prices_path: str | None,
    offline: bool,
    as_json: bool,
    store: StoreArg,
) -> None:
    """Sum the persisted cost and tokens of every call (or of CONVERSATION's).

    Calls stored without a price are counted apart: the cost covers the priced ones only.
    --reprice adds an estimate at today's prices beside the persisted cost, never instead.
    """
    from ._output import echo_json
    from ._spend import Report, from_events, from_summaries
    from ._store import open_store, run

    if include_children and conversation is None:
        raise click.UsageError("--include-children needs a CONVERSATION")
    table = None
    if reprice:
        from ._log import log_to_stderr
        from .prices import load_table

        log_to_stderr("convlog.pricing", verbose=False)
        table = load_table(prices_path, offline)
    window = (_utc(since), _utc(until))

    async def main() -> Report:
        async with open_store(store, read_only=True) as opened:
            if by in (None, "conversation", "model") and window == (None, None) and table is None:
                return await from_summaries(opened, conversation, include_children, by)
            return await from_events(opened, conversation, include_children, by, window, table)

    report = run(main())
    report.keep(limit)
    if as_json:
        echo_json(report.document())
    else:
        report.print()


def _utc(moment: datetime | None) -> datetime | None:
    from datetime import UTC

    return None if moment is None else moment.replace(tzinfo=UTC)
