"""``convlog`` and ``convlog --help`` without click: the top-level listing, rendered from
:mod:`harness.cli._commands` exactly as click lays it out.

Importing click alone costs about as much as starting Python, so the listing people ask for
first is printed from the command table with nothing but ``os`` and ``sys``. It covers only
what it can render exactly: a terminal narrow enough that click would wrap a line, a run as
``python -m harness.cli``, or shell completion go to click (:func:`listing` returns None).
``tests/cli/test_help.py`` compares its text with click's at every width.
"""

from __future__ import annotations

import os
import sys

from ._commands import COMMANDS, HELP

__all__ = ("OPTIONS", "listing", "program", "render", "width")

#: The group's own options as click lists them: (names, help).
OPTIONS = (
    ("--version", "Show the version and exit."),
    ("-h, --help", "Show this message and exit."),
)


def width(columns: int | None = None) -> int:
    """The width click's help formatter takes for a terminal of ``columns`` (default: this
    terminal's, found as :func:`shutil.get_terminal_size` finds it)."""
    if columns is None:
        try:
            columns = int(os.environ["COLUMNS"])
        except (KeyError, ValueError):
            columns = 0
        if columns <= 0:
            try:
                columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
            except (AttributeError, ValueError, OSError):
                columns = 0
            columns = columns or 80
    return max(min(columns, 80) - 2, 50)


def _rows(rows: list[tuple[str, str]]) -> list[str]:
    first = max(len(name) for name, _ in rows) + 2
    return [f"  {name:<{first}}{text}" for name, text in rows]


def render(prog: str, wide: int) -> str | None:
    """The help of the ``convlog`` group as click renders it at formatter width ``wide``,
    without the final newline; None when click would wrap a line of it."""
    lines = [
        f"Usage: {prog} [OPTIONS] COMMAND [ARGS]...",
        "",
        f"  {HELP}",
        "",
        "Options:",
        *_rows(list(OPTIONS)),
        "",
        "Commands:",
        *_rows([(name, COMMANDS[name][1]) for name in sorted(COMMANDS)]),
    ]
    if max(map(len, lines)) > wide or max(map(len, COMMANDS)) > 30:
        return None
    return "\n".join(lines)


def program() -> str | None:
    """The program's name as click would show it; None when run with ``python -m``."""
    if getattr(sys.modules.get("__main__"), "__package__", None):
        return None
    return os.path.basename(sys.argv[0])


def listing(args: list[str]) -> str | None:
    """The text ``convlog ARGS`` prints when ARGS asks only for the listing (none, ``-h`` or
    ``--help``), or None when click has to run."""
    if args not in ([], ["--help"], ["-h"]):
        return None
    prog = program()
    if not prog:
        return None
    complete = "_{}_COMPLETE".format(prog.replace("-", "_").replace(".", "_").upper())
    if complete in os.environ:
        return None
    return render(prog, width())
