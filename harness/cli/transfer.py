"""``convlog export`` and ``convlog import``: whole events as JSON Lines, out and back in.

A line is an event's whole envelope and its stored JSON, byte for byte (``_lines``). Import
appends each run of one conversation's lines through ``append_raw`` with the lines' event
ids, so the bodies keep their bytes and importing a file twice writes it once. The store
assigns positions and ``recorded_at`` itself: into an empty store, a whole export imports at
the same positions; ``recorded_at`` is the time of the import (see docs/decisions.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import click

from ._commands import short_help
from ._store import StoreArg, store_option

__all__ = ("export", "import_")

#: Bytes of output gathered before a write: a write a line costs a system call an event.
_CHUNK = 1 << 20


@click.command(short_help=short_help("export"))
@click.argument("conversation", required=False)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True),
    default="-",
    help="Write to this file (replaced only once the export is complete), not stdout.",
)
@click.option(
    "--no-recorded-at",
    is_flag=True,
    help="Leave out recorded_at, which an import cannot keep, so exports compare byte for byte.",
)
@store_option
def export(conversation: str | None, output: str, no_recorded_at: bool, store: StoreArg) -> None:
    """Write every event (or CONVERSATION's) as JSON Lines, in position order."""
    from ._lines import encode_line
    from ._output import progress, stderr_line
    from ._store import open_store, run

    async def main(sink: IO[bytes]) -> int:
        async with open_store(store, read_only=True) as opened:
            if conversation is None:
                head = await opened.list_conversations(limit=1)
                size = head.items[0].last_position if head.items else 0
                events = opened.read_all()
            else:
                size = (await opened.get_conversation(conversation)).version
                events = opened.read(conversation)
            count = pending = 0
            chunk = bytearray()
            with progress("exporting", size) as advance:
                async for event in events:
                    chunk += encode_line(event, recorded_at=not no_recorded_at)
                    count += 1
                    pending += 1
                    if len(chunk) >= _CHUNK:
                        sink.write(chunk)
                        chunk.clear()
                        advance(pending)
                        pending = 0
                sink.write(chunk)
            return count

    with _sink(output) as sink:
        count = run(main(sink))
    stderr_line(f"exported {count:,} events")


@contextmanager
def _sink(output: str) -> Iterator[IO[bytes]]:
    """stdout, or a file that appears under its name only when the export is complete: a
    failed export never leaves a short file behind that reads as a whole one."""
    import sys

    if output == "-":
        sys.stdout.flush()
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    partial = f"{output}.partial"
    try:
        with open(partial, "wb") as sink:
            yield sink
        os.replace(partial, output)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror}") from None
    finally:
        if os.path.exists(partial):
            os.remove(partial)


@click.command("import", short_help=short_help("import"))
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@store_option
def import_(file: str, store: StoreArg) -> None:
    """Append the events of an export FILE (- for stdin) to the store, creating it if need be.

    Lines of one conversation in a row are appended together, with their event ids and
    versions: importing a file again writes nothing. A bad line stops the import, naming
    the line; nothing of its batch is written.
    """
    import sys

    from ._importer import Importer
    from ._output import progress, stderr_line
    from ._store import open_store, run

    async def main(stream: IO[bytes], size: int | None) -> Importer:
        async with open_store(store, read_only=False, create=True) as opened:
            with progress("importing", size, in_bytes=True) as advance:
                importer = Importer(opened, stream, file, advance)
                await importer.run()
            return importer

    if file == "-":
        importer = run(main(sys.stdin.buffer, None))
    else:
        try:
            stream = open(file, "rb")  # noqa: SIM115 (closed below, after the run)
        except OSError as exc:
            raise click.ClickException(f"cannot read {file}: {exc.strerror}") from None
        with stream:
            importer = run(main(stream, os.fstat(stream.fileno()).st_size))
    stderr_line(
        f"imported {importer.written:,} events ({importer.present:,} already there)"
        f" from {importer.lines:,} lines"
    )
