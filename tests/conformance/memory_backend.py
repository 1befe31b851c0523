"""A toy backend for ``memory:`` URLs: a few dozen lines of storage and no rules of its own.

It proves the seam: everything it must decide comes from the shared planner, everything it
returns is built by the shared row decoders, and the test suite registers it the way a third
party would, under the entry-point group ``convlog.backends`` (see ``conftest.py``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import anyio

from eventstore import _planner as planner
from eventstore._event_rows import events_from_rows
from eventstore._fold import Fold
from eventstore.backend import AppendRequest

#: The toy's limit on one event, low enough for a test to pass it.
MAX_EVENT_BYTES = 1 << 20


def create_backend(url: str, options: Mapping[str, object]) -> MemoryBackend:
    if url != "memory:":
        raise ValueError(f"the memory backend opens memory:, not {url!r}")
    if options:
        raise ValueError(f"the memory backend has no option {', '.join(options)}")
    return MemoryBackend()


class MemoryBackend:
    def __init__(self) -> None:
        self.rows: list[planner.Row] = []  # position p is rows[p - 1]
        self.folds: dict[str, Fold] = {}
        self.commits = 0
        self.max_event_bytes = MAX_EVENT_BYTES
        self._committed = anyio.Event()

    async def open(self) -> None:
        pass

    async def aclose(self) -> None:
        self._committed.set()

    async def append(self, request: AppendRequest) -> Any:
        ids = {row[3]: (row[1], row[2], row[0]) for row in self.rows}
        plan = planner.plan([request], self.folds, ids, len(self.rows), time.time_ns() // 1000)
        rows = list(plan.rows())
        self.rows += rows
        if rows:
            self.commits += 1
            self._committed.set()
            self._committed = anyio.Event()
        outcome = plan.outcomes[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def wait_for_commit(self, seen: int, seconds: float) -> None:
        with anyio.move_on_after(seconds):
            if self.commits == seen:
                await self._committed.wait()

    def _events(self, rows: list[planner.Row]) -> list[Any]:
        # (position, version, id, recorded_at, session, turn, harness, data), as stored
        shaped = [(r[0], r[2], r[3], r[5], r[6], r[7], r[8], r[9]) for r in rows]
        return events_from_rows(shaped, [r[1] for r in rows])

    async def read_page(self, cid, lo, hi, direction, limit, types=None):  # type: ignore[no-untyped-def]
        top = (1 << 63) - 1 if hi is None else hi  # hi=0 bounds too: to_version=0 is nothing
        rows = [
            r for r in self.rows
            if r[1] == cid and lo <= r[2] <= top and (types is None or r[4] in types)
        ]  # fmt: skip
        return self._events((rows if direction == "asc" else rows[::-1])[:limit])

    async def read_all_page(self, from_position: int, limit: int) -> list[Any]:
        return self._events(self.rows[max(from_position, 1) - 1 :][:limit])

    async def conversations_page(self, after, direction, limit, parent_id=None):  # type: ignore[no-untyped-def]
        folds = sorted(self.folds.values(), key=lambda f: f.last_position)
        folds = [f for f in folds if parent_id is None or f.parent_id == parent_id]
        if direction == "desc":
            folds.reverse()
        after_ok = (lambda p: p > after) if direction == "asc" else (lambda p: p < after)
        return [f.summary() for f in folds if after is None or after_ok(f.last_position)][:limit]

    async def get_summary(self, cid: str) -> Any:
        return self.folds[cid].summary() if cid in self.folds else None

    async def summaries_page(self, after: Any, limit: int) -> list[Any]:
        return [(c, self.folds[c]) for c in sorted(self.folds) if after is None or c > after][
            :limit
        ]

    async def hash_page(self, after: int, max_position: int, limit: int) -> list[Any]:
        return [(r[0], r[10]) for r in self.rows[after:max_position][:limit]]

    async def head_position(self) -> int:
        return len(self.rows)

    async def first_missing_position(self, head: int) -> None:
        return None

    async def chain_page(self, after, max_position, limit):  # type: ignore[no-untyped-def]
        rows = sorted(
            (r for r in self.rows[:max_position] if after is None or (r[1], r[2]) > after),
            key=lambda r: (r[1], r[2]),
        )[:limit]
        return list(zip(self._events(rows), [r[10] for r in rows], strict=True))

    async def check_storage(self) -> None:
        return None  # no file of its own to be damaged

    async def rebuild_summaries(self, force: bool) -> int:
        rows = sorted(self.rows, key=lambda r: (r[1], r[2]))
        stored = None if force else sorted(self.folds.items())
        events = zip(self._events(rows), [r[10] for r in rows], strict=True)
        folds = list(planner.rebuild(events, stored))
        self.folds = {f.conversation_id: f for f in folds}
        return len(folds)
