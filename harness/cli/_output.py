"""What every command prints with: rich on a terminal, plain text when piped, JSON for scripts,
progress bars on stderr.

Colour and boxes only on a TTY (rich decides per stream, and honours ``NO_COLOR``); piped
output is plain aligned text, never cut to 80 columns. ``rich`` and ``msgspec`` are imported
inside the functions: ``convlog --help`` imports the command modules, which import this one.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, TypeAlias

import click

if TYPE_CHECKING:
    from rich.console import Console

    from eventstore import UsageTotals

__all__ = (
    "Cell",
    "console",
    "cost_cell",
    "echo_json",
    "echo_table",
    "joined",
    "print_plain",
    "progress",
    "tokens",
    "tokens_in",
    "tokens_out",
    "totals_in",
    "totals_out",
    "usd",
    "when",
    "write_bytes",
)

#: A table cell: its text, or its text and a detail (a share of it, a caveat), which goes on
#: a second line on a terminal and in brackets after it when piped (:func:`joined`).
Cell: TypeAlias = "str | tuple[str, str]"

#: Narrowest a column that may wrap becomes on a narrow terminal.
_MIN_WRAPPED = 8

#: Width of piped output: wide enough that rich never wraps or cuts a row.
_PIPED_WIDTH = 1 << 16


def console(*, stderr: bool = False) -> Console:
    """A rich console on stdout (or stderr): the terminal's width and colours on a TTY,
    plain unbounded lines otherwise. Made per call, so it writes to the current
    ``sys.stdout`` (click's test runner swaps it)."""
    from rich.console import Console

    found = Console(stderr=stderr, highlight=False)
    if found.is_terminal:
        return found
    return Console(stderr=stderr, highlight=False, width=_PIPED_WIDTH, no_color=True)


def echo_json(document: object) -> None:
    """``document`` as one indented JSON document on stdout. Structs, datetimes (RFC 3339,
    UTC), UUIDs and ``msgspec.Raw`` (stored JSON, embedded as it is) encode as msgspec does."""
    import msgspec

    write_bytes(msgspec.json.format(msgspec.json.encode(document), indent=2) + b"\n")


def write_bytes(data: bytes, *, flush: bool = True) -> None:
    """Bytes on stdout as they are (JSON Lines); ``flush`` so that a reader at the other end
    of a pipe sees each line when it is written."""
    sys.stdout.flush()  # text written before, then these bytes
    out = sys.stdout.buffer
    out.write(data)
    if flush:
        out.flush()


def echo_table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    *,
    right: Collection[str] = (),
    wrap: Collection[str] = (),
    headers: bool = True,
) -> None:
    """A table on stdout: fitted to the terminal's width on a TTY, aligned plain text when
    piped. Columns named in ``right`` are right-aligned (numbers); only those named in
    ``wrap`` may wrap on a narrow terminal, the others keep their cells on one line. A cell's
    detail goes on a line of its own on a TTY, in brackets after it when piped. Cells are
    text, never rich markup: ``[...]`` in a title prints as it is."""
    out = console()
    if not out.is_terminal:
        _plain_table(columns, rows, right, headers)
        return
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=True,
        header_style="bold",
        show_header=headers,
    )
    for header in columns:
        table.add_column(
            header,
            justify="right" if header in right else "left",
            no_wrap=header not in wrap,
            overflow="fold" if header in wrap else "ellipsis",
            min_width=_MIN_WRAPPED if header in wrap else None,
        )
    for row in rows:
        cells = []
        for cell in row:
            main, detail = (cell, "") if isinstance(cell, str) else cell
            cells.append(Text(main).append("\n" + detail, style="dim") if detail else Text(main))
        table.add_row(*cells)
    out.print(table)


def _plain_table(
    columns: Sequence[str], rows: Sequence[Sequence[Cell]], right: Collection[str], headers: bool
) -> None:
    """The piped form of :func:`echo_table`: aligned columns two spaces apart, each row on
    one line, control characters shown as ``?``. Written here rather than by rich, which
    takes seconds for the ten thousand rows of a large store."""
    import re

    control = re.compile(r"[\x00-\x1f\x7f-\x9f]")
    lines = [[control.sub("?", joined(cell)) for cell in row] for row in rows]
    if headers:
        lines.insert(0, list(columns))
    widths = [max((len(line[i]) for line in lines), default=0) for i in range(len(columns))]
    text = "\n".join(
        "  ".join(
            cell.rjust(width) if header in right else cell.ljust(width)
            for header, cell, width in zip(columns, line, widths, strict=True)
        ).rstrip()
        for line in lines
    )
    click.echo(text)


def print_plain(renderable: object, out: Console | None = None) -> None:
    """``out.print(renderable)``; when piped, without the spaces rich pads lines with."""
    out = out or console()
    if out.is_terminal:
        out.print(renderable)
        return
    with out.capture() as captured:
        out.print(renderable)
    click.echo("\n".join(line.rstrip() for line in captured.get().splitlines()))


@contextmanager
def progress(
    description: str, total: int | None, *, in_bytes: bool = False
) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr, only when stderr is a terminal; yields ``advance(n)``.
    ``total`` ``None`` shows a spinner (work of unknown length); ``in_bytes`` counts in
    bytes (``12.3/48.6 MB``) rather than items."""
    err = console(stderr=True)
    if not err.is_terminal:
        yield lambda n: None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn() if in_bytes else MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    with bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


def tokens(count: int | None) -> str:
    """A token count with thousands separators, ``-`` for none."""
    return "-" if count is None else f"{count:,}"


def tokens_in(
    total: int | None, cached: int | None = None, cache_write: int | None = None, unit: str = ""
) -> tuple[str, str]:
    """Input tokens and the cache's share: ``("3,000{unit}", "2,000 cached, 500 cache
    write")``; the detail is empty when there is none."""
    parts = [f"{n:,} {what}" for n, what in ((cached, "cached"), (cache_write, "cache write")) if n]
    return tokens(total) + unit, ", ".join(parts)


def tokens_out(total: int | None, reasoning: int | None = None, unit: str = "") -> tuple[str, str]:
    """Output tokens and the reasoning share: ``("500{unit}", "100 reasoning")``."""
    return tokens(total) + unit, f"{reasoning:,} reasoning" if reasoning else ""


def totals_in(totals: UsageTotals, unit: str = "") -> tuple[str, str]:
    """:func:`tokens_in` of a conversation's (or a group's) totals."""
    cached, written = totals.prompt_cached_tokens, totals.prompt_cache_creation_tokens
    return tokens_in(totals.prompt_tokens, cached, written, unit)


def totals_out(totals: UsageTotals, unit: str = "") -> tuple[str, str]:
    """:func:`tokens_out` of a conversation's (or a group's) totals."""
    return tokens_out(totals.completion_tokens, totals.completion_reasoning_tokens, unit)


def joined(cell: Cell) -> str:
    """A cell on one line: ``3,000 (2,000 cached)``."""
    if isinstance(cell, str):
        return cell
    main, detail = cell
    return f"{main} ({detail})" if detail else main


def usd(cost: float | None) -> str:
    """A cost in dollars with four significant digits below a cent (``$0.0111``,
    ``$0.000012``), cents above (``$12.35``); ``-`` for ``None`` (unknown, never "$0")."""
    if cost is None:
        return "-"
    if cost == 0:
        return "$0.00"
    places = max(2, 3 - math.floor(math.log10(abs(cost))))
    whole, _, cents = f"{cost:,.{places}f}".partition(".")
    return f"${whole}.{cents[:2]}{cents[2:].rstrip('0')}"


def cost_cell(totals: UsageTotals) -> tuple[str, str]:
    """The persisted cost of some calls and how many had no price: ``$1.23``,
    ``$1.23 (2 unpriced)``, ``2 unpriced`` (none was priced: the cost is unknown), or ``-``
    when there was no call."""
    if totals.calls == 0:
        return "-", ""
    unpriced = f"{totals.unpriced_calls:,} unpriced" if totals.unpriced_calls else ""
    if totals.cost_usd is None:
        return unpriced, ""
    return usd(totals.cost_usd), unpriced


def when(moment: datetime, *, seconds: bool = True) -> str:
    """A UTC time to the second, ``2026-11-23 17:08:44Z``, or to the minute."""
    return moment.strftime("%Y-%m-%d %H:%M:%SZ" if seconds else "%Y-%m-%d %H:%MZ")


def stderr_line(message: str) -> None:
    """A note for people (a cursor to page on, a count) on stderr, out of the data's way."""
    click.echo(message, err=True)
