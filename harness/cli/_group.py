"""The click group of ``convlog``: every command but the top-level listing runs through it.

:data:`cli` imports a command's module only when the command runs (or when its own ``--help``
is asked for); its listing comes from :mod:`harness.cli._commands` and imports none of them.
A command module imports only click and light standard-library modules at its top, and its
real dependencies (the price table, the store, rich) inside its commands.
"""

from __future__ import annotations

import importlib

import click

from ._commands import COMMANDS, HELP

__all__ = ("cli",)


class _LazyGroup(click.Group):
    """A group whose commands are imported from their modules when first looked up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module = importlib.import_module(f"{__package__}.{COMMANDS[cmd_name][0]}")
            for name in module.__all__:
                found = getattr(module, name)
                if isinstance(found, click.Command) and found.name == cmd_name:
                    self.add_command(found)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The listing, from the table: a command not yet imported is not imported for it."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names))
        rows = [
            (name, self.commands[name].get_short_help_str(limit))
            if name in self.commands
            else (name, COMMANDS[name][1])
            for name in names
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="convlog")
def cli() -> None:
    pass


cli.help = HELP
