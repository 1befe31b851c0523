"""``convlog import``: export lines back into a store, a batch at a time.

A batch is a run of consecutive lines of one conversation, with consecutive versions and the
same session, turn and harness (one ``append_raw`` carries one of each), up to
:data:`BATCH` events. It is appended with the lines' event ids and ``expected_version`` = the
first line's version - 1, so that it lands at the versions it was exported from or not at
all, and a batch already imported is returned by the store as it was, writing nothing.

A bad line (not an event line, a body the schema refuses, a version the store is not at)
stops the import: ``FILE:LINE: problem``, and the batch it belongs to, which is every line
since the last batch written, is not written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

import click

import eventstore
from schemas import SchemaError

from ._lines import EventLine, LineError, decode_line, stored_json

__all__ = ("BATCH", "Importer")

BATCH = 1000
#: Lines between two moves of the progress bar (a move costs microseconds).
_REPORT_EVERY = 1000
_EVENT_INDEX = re.compile(r"^\$\.events\[(\d+)\]")


@dataclass
class _Batch:
    first_line: int
    lines: list[int] = field(default_factory=list)
    events: list[EventLine] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)

    def takes(self, line: EventLine) -> bool:
        if not self.events:
            return True
        last = self.events[-1]
        return (
            len(self.events) < BATCH
            and line.conversation_id == last.conversation_id
            and line.version == last.version + 1
            and (line.session_id, line.turn_id, line.harness)
            == (last.session_id, last.turn_id, last.harness)
        )


class Importer:
    """Reads ``stream`` (named ``name`` in errors) into ``store``; counts what it did."""

    def __init__(
        self,
        store: eventstore.Store,
        stream: IO[bytes],
        name: str,
        advance: Callable[[int], None] = lambda n: None,
    ) -> None:
        self._store = store
        self._stream = stream
        self._name = name
        self._advance = advance
        self.lines = 0
        self.written = 0
        self.present = 0
        self._head = 0

    async def run(self) -> None:
        """Import every line, telling ``advance`` how many bytes were read as it goes.

        :raises click.ClickException: ``FILE:LINE: problem`` for the first bad line.
        """
        head = await self._store.list_conversations(limit=1)
        self._head = head.items[0].last_position if head.items else 0
        batch = _Batch(1)
        read = 0
        for number, raw in enumerate(self._stream, start=1):
            self.lines = number
            read += len(raw)
            if number % _REPORT_EVERY == 0:
                self._advance(read)
                read = 0
            if not raw.strip():
                continue
            try:
                line = decode_line(raw)
                body = stored_json(line)
            except LineError as exc:
                raise self._bad(number, str(exc), batch) from None
            if not batch.takes(line):
                await self._append(batch)
                batch = _Batch(number)
            batch.lines.append(number)
            batch.events.append(line)
            batch.bodies.append(body)
        if batch.events:
            await self._append(batch)
        self._advance(read)

    async def _append(self, batch: _Batch) -> None:
        first = batch.events[0]
        try:
            result = await self._store.append_raw(
                first.conversation_id,
                batch.bodies,
                expected_version=first.version - 1,
                event_ids=[line.id for line in batch.events],
                session_id=first.session_id,
                turn_id=first.turn_id,
                harness=first.harness,
            )
        except SchemaError as exc:
            found = _EVENT_INDEX.match(exc.path)
            number = batch.lines[int(found.group(1))] if found else batch.first_line
            where = _EVENT_INDEX.sub("$.data", exc.path) if found else exc.path
            raise self._bad(number, f"{where}: {exc.problem}", batch) from None
        except eventstore.StoreError as exc:
            raise self._bad(batch.first_line, str(exc), batch) from None
        if min(result.positions) > self._head:
            self.written += len(result.positions)
        else:
            self.present += len(result.positions)

    def _bad(self, number: int, problem: str, batch: _Batch) -> click.ClickException:
        held = f"; nothing from line {batch.first_line} on was written" if batch.events else ""
        return click.ClickException(f"{self._name}:{number}: {' '.join(problem.split())}{held}")
