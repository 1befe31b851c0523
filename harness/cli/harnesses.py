"""``convlog harnesses``: the harnesses installed, as ``harness.plugins`` finds them.

Registered into :data:`harness.cli.cli`. Loading a plugin imports its module, so this happens
inside the command, never when ``convlog --help`` imports this module.
"""

from __future__ import annotations

import click

from ._commands import short_help

__all__ = ("harnesses",)


@click.command(short_help=short_help("harnesses"))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def harnesses(as_json: bool) -> None:
    """List the installed harnesses: name, version, where from, summary.

    Harnesses register under the entry-point group convlog.harnesses (docs/harnesses.md);
    `convlog chat --harness NAME` runs one. Exits 1 when one of them cannot be loaded,
    after listing them all.
    """
    import json

    from harness.plugins import installed

    found = installed()
    if as_json:
        document = [
            {
                "name": item.name,
                "version": item.spec.version if item.spec else None,
                "summary": item.spec.summary if item.spec else None,
                "requires": list(item.spec.requires) if item.spec else [],
                "distribution": item.distribution,
                "error": item.error,
            }
            for item in found
        ]
        click.echo(json.dumps(document, indent=2))
    elif not found:
        click.echo("no harness is installed (entry-point group convlog.harnesses)")
    else:
        rows = [
            (
                item.name,
                item.spec.version if item.spec else "-",
                item.distribution or "-",
                item.spec.summary if item.spec else f"error: {item.error}",
            )
            for item in found
        ]
        header = ("name", "version", "from", "summary")
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
        for row in [header, *rows]:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            click.echo("  ".join([*cells, row[3]]))
    if any(item.error for item in found):
        click.get_current_context().exit(1)
