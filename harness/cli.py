"""The ``convlog`` command line. A userspace tool: it reads and appends through ``eventstore``."""

from __future__ import annotations

import click

from ._cli_prices import prices

__all__ = ("cli", "main")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="convlog")
def cli() -> None:
    """convlog: an event-sourced conversation store for LLM agents."""


cli.add_command(prices)


def main() -> None:
    """Console-script entry point."""
    cli()
