"""The ``convlog`` command line: a userspace tool that reads and appends through ``eventstore``.

One module per command group, each adding its group to :data:`cli` here. ``convlog --help``
imports every command module to list them, so a command module imports only click and light
standard-library modules at its top, and its real dependencies (the price table, the store)
inside its commands: help stays as fast as click itself.
"""

from __future__ import annotations

import click

from .browse import conversations, events, show, tail
from .chat import chat
from .check import rebuild_summaries, verify
from .cost import cost
from .demo import demo
from .harnesses import harnesses
from .prices import prices
from .transfer import export, import_

__all__ = ("cli", "main")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="convlog")
def cli() -> None:
    """convlog: an event-sourced conversation store for LLM agents."""


for command in (
    conversations,
    events,
    show,
    cost,
    tail,
    export,
    import_,
    verify,
    rebuild_summaries,
    prices,
    harnesses,
    chat,
    demo,
):
    cli.add_command(command)


def main() -> None:
    """Console-script entry point."""
    cli()
