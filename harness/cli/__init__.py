"""The ``convlog`` command line: a userspace tool that reads and appends through ``eventstore``.

One module per command group, run through the click group :data:`cli`
(:mod:`harness.cli._group`), which imports a command's module only when the command runs.
``convlog`` and ``convlog --help`` are answered before click is imported: the listing is
rendered from :mod:`harness.cli._commands` by :mod:`harness.cli._listing`, so the first
thing a newcomer types starts about as fast as Python itself.
"""

from __future__ import annotations

import sys

from ._listing import listing

# Not typing's TYPE_CHECKING: importing typing costs a tenth of the start-up. mypy takes this
# one as true (pyproject.toml).
_TYPE_CHECKING = False
if _TYPE_CHECKING:
    from typing import Any

    from ._group import cli as cli

__all__ = ("cli", "main")


def __getattr__(name: str) -> Any:
    if name == "cli":
        from ._group import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Console-script entry point."""
    args = sys.argv[1:]
    text = listing(args)
    if text is None:
        from ._group import cli

        cli()
    elif args:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    else:  # as click does: the listing on stderr, exit 2 (a command is missing)
        sys.stderr.write(text + "\n")
        sys.stderr.flush()
        raise SystemExit(2)
