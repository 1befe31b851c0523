"""``convlog verify`` and ``convlog rebuild-summaries``: check the store's integrity, and mend
its derived summaries.

``verify`` recomputes every hash chain and summary (``Store.verify``) and prints the store-wide
digest to record somewhere the store's owner cannot rewrite; ``--expect`` checks a digest
recorded earlier. The store is imported inside the commands.
"""

from __future__ import annotations

import click

from ._commands import short_help
from ._store import StoreArg, store_option

__all__ = ("rebuild_summaries", "verify")


@click.command(short_help=short_help("verify"))
@click.option(
    "--expect",
    metavar="DIGEST",
    help="A digest an earlier verify printed: check that the history it covers is unchanged.",
)
@click.option("--json", "as_json", is_flag=True, help="The report as one JSON document.")
@store_option
def verify(expect: str | None, as_json: bool, store: StoreArg) -> None:
    """Check every event, hash chain and summary; exit 1 naming the first problem of each
    conversation that has one, one line each (at most 100, then how many more)."""
    import msgspec

    from eventstore import VerifyReport
    from schemas import SchemaError

    from ._output import echo_json, progress
    from ._store import open_store, run

    async def main() -> VerifyReport:
        async with open_store(store, read_only=True) as opened:
            with progress("verifying", None):
                try:
                    return await opened.verify(expect=expect)
                except SchemaError as exc:  # the digest given is not one
                    raise click.ClickException(f"--expect: {exc.problem}") from None

    report = run(main())
    if as_json:
        echo_json({"ok": report.ok, **msgspec.structs.asdict(report)})
    elif report.ok:
        click.echo(f"verify: ok ({report.events:,} events, {report.conversations:,} conversations)")
    else:
        for found in report.problems:
            where = ""
            if found.conversation_id is not None:
                where = f"conversation {found.conversation_id!r}"
                where += f", version {found.version}: " if found.version is not None else ": "
            click.echo(f"verify: FAILED: {where}{found.problem}")
        if report.more_problems:
            click.echo(
                f"verify: FAILED: {report.more_problems:,} more problems not listed "
                f"(the first {len(report.problems):,} are above)"
            )
    if not as_json and report.digest is not None:
        click.echo(f"digest: {report.digest}")
    if not report.ok:
        raise click.exceptions.Exit(1)


@click.command("rebuild-summaries", short_help=short_help("rebuild-summaries"))
@click.option(
    "--force",
    is_flag=True,
    help="Rebuild even where the events show a deletion (erases that evidence in the summaries).",
)
@store_option
def rebuild_summaries(force: bool, store: StoreArg) -> None:
    """Recompute every conversation's summary from its events.

    Refuses (exit 1, nothing written) where the events show that some were deleted, unless
    --force; see docs/store.md.
    """
    from ._output import progress
    from ._store import open_store, run

    async def main() -> int:
        async with open_store(store, read_only=False) as opened:
            with progress("rebuilding summaries", None):
                return await opened.rebuild_summaries(force=force)

    count = run(main())
    click.echo(f"rebuilt {count:,} summaries")
