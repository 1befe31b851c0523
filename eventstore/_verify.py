"""``verify``: have the backend check its storage, then recompute every conversation's hash
chain and check its summary.

Events (ordered by conversation, then version) and summaries (ordered by conversation) are
merged like two sorted files, a page of each at a time, so memory stays flat however large the
store: a summary without events, events without a summary, and a summary that disagrees with
the fold of its events are all found. A problem ends the check of its conversation, not the
walk: the report lists the first problem of every conversation that has one (up to a limit,
counting the rest), so memory stays flat there too.

A store may be appended to while it is verified. ``verify`` checks the events committed before
it started (positions up to the head it read first); a summary that moved on since, or that
belongs to a conversation created since, is checked only for what it claims about the past.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

from schemas import SchemaError, StoredEvent

from ._chain import GENESIS, link
from ._fold import Fold, to_us
from ._model import VerifyProblem, VerifyReport
from ._planner import summary_ahead
from .backend import Backend
from .errors import IntegrityError, StoreCorrupted

__all__ = ("MAX_PROBLEMS", "parse_digest", "verify")

#: Problems a report lists at most; it counts the rest (``VerifyReport.more_problems``).
MAX_PROBLEMS = 100

_sha256 = hashlib.sha256

_PAGE = 1000


class _Problem(IntegrityError):
    """A store-wide problem found by the digest or the anchor check (an ``IntegrityError``
    raised by the backend itself still propagates)."""


def parse_digest(text: str) -> tuple[int, bytes]:
    """The (head position, hash) of a digest :func:`verify` reported, ``"<position>:<hex>"``.

    :raises SchemaError: if ``text`` is not one.
    """
    position, _, hex_hash = text.partition(":") if isinstance(text, str) else ("", "", "")
    try:
        parsed = int(position), bytes.fromhex(hex_hash)
    except ValueError:
        parsed = (-1, b"")
    if not position.isdigit() or len(parsed[1]) != 32:
        raise SchemaError(
            "$.expect", f"expected a digest '<position>:<64 hex digits>', got {text!r:.80}"
        )
    return parsed


def _format_digest(position: int, hash: bytes) -> str:
    return f"{position}:{hash.hex()}"


async def verify(
    backend: Backend, expect: tuple[int, bytes] | None = None, limit: int = MAX_PROBLEMS
) -> VerifyReport:
    """Run the engine's own check of its storage; then decode every event, check versions are
    gapless from 1 and positions increase within each conversation, recompute the hash chain,
    and compare each conversation's summary with the fold of its events; then, given
    ``expect`` (a digest recorded earlier), check the history it covers is unchanged.

    Reports the first problem of each conversation (the rest of a conversation with a problem
    is not checked) and each store-wide one, in the order found, at most ``limit`` of them and
    how many more; a damaged file is reported, not raised, and ends the walk. The digest is
    that of the history up to the head it started from."""
    counts = {"events": 0, "conversations": 0}
    found = _Problems(limit)
    head = 0
    digest: bytes | None = _GENESIS_DIGEST
    try:
        if damage := await backend.check_storage():
            found.add(damage, None, None)
            return _report(counts, found, None)
        head = await backend.head_position()
        anchored: bytes | None = None
        try:
            digest, anchored = await _digests(backend, head, None if expect is None else expect[0])
        except _Problem as p:
            found.add(str(p), None, None)
            digest = None
        await _verify(backend, head, counts, found)
        if expect is not None and digest is not None:
            try:
                _check_anchor(expect, head, anchored)
            except _Problem as p:
                found.add(str(p), None, None)
    except StoreCorrupted as exc:  # damage the check did not see, or that came after it
        found.add(str(exc), None, None)
        return _report(counts, found, None)
    return _report(counts, found, None if digest is None else _format_digest(head, digest))


def _report(counts: dict[str, int], found: _Problems, digest: str | None) -> VerifyReport:
    first = found.problems[0] if found.problems else None
    return VerifyReport(
        events=counts["events"],
        conversations=counts["conversations"],
        problem=None if first is None else first.problem,
        conversation_id=None if first is None else first.conversation_id,
        version=None if first is None else first.version,
        digest=digest,
        problems=tuple(found.problems),
        more_problems=found.more,
    )


class _Problems:
    """The problems found: the first of each conversation and every store-wide one, kept up
    to ``limit`` and counted beyond it. Verify meets a conversation's problems together (it
    walks in conversation order), so remembering the last one named is enough to keep only
    its first."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.problems: list[VerifyProblem] = []
        self.more = 0
        self._last: str | None = None
        self._named: set[str] = set()

    def add(self, problem: str, conversation_id: str | None, version: int | None) -> None:
        if conversation_id is not None:
            if conversation_id == self._last or conversation_id in self._named:
                return
            self._last = conversation_id
        if len(self.problems) < self.limit:
            self.problems.append(
                VerifyProblem(problem=problem, conversation_id=conversation_id, version=version)
            )
            if conversation_id is not None:
                self._named.add(conversation_id)
        else:
            self.more += 1


_GENESIS_DIGEST = bytes(32)


async def _digests(backend: Backend, head: int, anchor: int | None) -> tuple[bytes, bytes | None]:
    """The store-wide digest at ``head``: every event's hash folded in position order,
    ``d = sha256(d | hash)`` from 32 zero bytes; and the same at ``anchor`` (``None`` if not
    asked, or if the history does not reach that far)."""
    digest, anchored = _GENESIS_DIGEST, None
    after = 0
    if anchor == 0:
        anchored = digest
    while after < head:
        hashes = await backend.hash_page(after, head, _PAGE)
        if not hashes:
            break
        for position, hash in hashes:
            if type(hash) is not bytes:
                raise _Problem(f"stored hash at position {position} was altered", None, None)
            digest = _sha256(digest + hash).digest()
            if position == anchor:
                anchored = digest
            elif anchor is not None and anchored is None and position > anchor:
                anchored = b""  # the anchor's own position holds no event any more
        after = hashes[-1][0]
    return digest, anchored


def _check_anchor(expect: tuple[int, bytes], head: int, anchored: bytes | None) -> None:
    position, expected = expect
    if position > head:
        raise _Problem(
            f"history ends at position {head}, but the expected digest covers positions up to "
            f"{position}: events at the end were deleted (or this is another store)",
            None,
            None,
        )
    if anchored != expected:
        raise _Problem(
            f"history up to position {position} differs from the expected digest: events were "
            "deleted or altered since it was recorded",
            None,
            None,
        )


async def _verify(backend: Backend, head: int, counts: dict[str, int], found: _Problems) -> None:
    summaries = _Summaries(backend, head, found)
    fold: Fold | None = None
    bad = False  # the current conversation has a problem: the rest of it is not checked
    prev_hash = GENESIS
    async for item, stored_hash in _chain(backend, head, found):
        counts["events"] += 1
        cid = item.conversation_id
        if cid is None:  # an event altered so that it names no conversation
            assert isinstance(item, IntegrityError)
            found.add(str(item), None, item.version)
            continue
        if fold is None or fold.conversation_id != cid:
            if fold is not None:
                await summaries.check(fold, bad)
            fold, prev_hash, bad = Fold(cid), GENESIS, False
            counts["conversations"] += 1
        if bad:
            continue
        if isinstance(item, IntegrityError):  # an event that does not decode
            found.add(str(item), cid, item.version)
            bad = True
            continue
        ev = item
        problem = None
        if ev.version != fold.version + 1:
            problem = f"version gap: expected {fold.version + 1}, found {ev.version}"
        elif ev.position <= fold.last_position:
            problem = "positions are not increasing with versions"
        else:
            recorded_at_us = to_us(ev.recorded_at)
            expected = link(
                prev_hash, cid, ev.version, ev.id.bytes, recorded_at_us, ev.session_id,
                ev.turn_id, ev.harness, ev.raw,
            )  # fmt: skip
            if expected != stored_hash:
                problem = "hash chain broken: event or its predecessor altered"
        if problem is not None:
            found.add(problem, cid, ev.version)
            bad = True
            continue
        fold.apply(
            ev.data,
            version=ev.version,
            position=ev.position,
            recorded_at_us=recorded_at_us,
            hash=stored_hash,
        )
        prev_hash = stored_hash
    if fold is not None:
        await summaries.check(fold, bad)
    await summaries.check_rest()
    # Events deleted together with their conversation's summary leave no chain or summary to
    # disagree; where positions have no gaps, the hole they leave shows. (A deleted tail of
    # the whole store leaves none: only a copy of the head kept elsewhere would show it.)
    if counts["events"] != head and (missing := await backend.first_missing_position(head)):
        found.add(
            f"events deleted: position {missing} holds no event ({counts['events']} events "
            f"hold positions 1..{head})",
            None,
            None,
        )


async def _chain(
    backend: Backend, head: int, found: _Problems
) -> AsyncIterator[tuple[StoredEvent | IntegrityError, bytes]]:
    after: tuple[str, int] | None = None
    while True:
        page = await backend.chain_page(after, head, _PAGE)
        for item in page:
            yield item
        if len(page) < _PAGE:
            return
        last = page[-1][0]
        if last.conversation_id is None or last.version is None:
            # An event altered so that it has no (conversation, version) to page after.
            found.add(
                f"verify stopped at an event it cannot page past ({last}); the events after "
                "it in conversation order were not checked",
                None,
                None,
            )
            return
        after = (last.conversation_id, last.version)


class _Summaries:
    """The summaries in conversation order, consumed alongside the events; what is wrong with
    one is added to the problems of its conversation."""

    def __init__(self, backend: Backend, head: int, found: _Problems) -> None:
        self._backend = backend
        self._head = head
        self._found = found
        self._page: list[tuple[Any, Fold | IntegrityError]] = []
        self._index = 0
        self._after: Any = None
        self._done = False

    async def _peek(self) -> tuple[Any, Fold | IntegrityError] | None:
        """The next summary (its stored key, and its fold or what is wrong with its row)."""
        if self._index == len(self._page) and not self._done:
            self._page = await self._backend.summaries_page(self._after, _PAGE)
            self._index = 0
            self._done = len(self._page) < _PAGE
            if self._page:
                self._after = self._page[-1][0]
        return self._page[self._index] if self._index < len(self._page) else None

    async def check(self, fold: Fold, bad: bool) -> None:
        """Compare the summary of ``fold``'s conversation (only pass it, if its events showed
        a problem); summaries of conversations that sort before it have no events."""
        cid = fold.conversation_id
        found = await self._skip_orphans(cid)
        if found is None or found[0] != cid:
            if not bad:
                self._found.add(
                    "conversation has events but no summary (run rebuild_summaries)", cid, None
                )
            return
        self._index += 1
        if not bad and (problem := await self._compare(found[1], fold)):
            self._found.add(*problem)

    async def _compare(
        self, stored: Fold | IntegrityError, fold: Fold
    ) -> tuple[str, str, int | None] | None:
        cid = fold.conversation_id
        if isinstance(stored, IntegrityError):
            return str(stored), cid, None
        if stored.version < fold.version:
            return (
                f"summary is behind: version {stored.version}, events reach {fold.version} "
                "(run rebuild_summaries)",
                cid,
                None,
            )
        if stored.version > fold.version:
            # Appended to while we verified, or events were removed: the newer events must exist.
            newer = await self._backend.read_page(
                cid, fold.version + 1, stored.version, "asc", stored.version - fold.version
            )
            if len(newer) != stored.version - fold.version:
                return (
                    f"events missing: the summary says version {stored.version}, "
                    f"the events end at {fold.version}",
                    cid,
                    fold.version + 1,
                )
            return None
        if ahead := summary_ahead(stored, fold):
            return (
                f"summary is ahead of its events ({ahead}): events may have been deleted "
                "(a rebuild would hide it; see docs/store.md)",
                cid,
                None,
            )
        if stored.summary() != fold.summary():
            return (
                "summary disagrees with the fold of its events (run rebuild_summaries)",
                cid,
                None,
            )
        if stored.head_hash != fold.head_hash:
            # The next append would chain onto it (the writer refuses to, see the backend).
            return "summary's head hash is not its last event's (run rebuild_summaries)", cid, None
        return None

    async def check_rest(self) -> None:
        await self._skip_orphans(None)

    async def _skip_orphans(self, before: str | None) -> tuple[Any, Fold | IntegrityError] | None:
        """Pass summaries of conversations sorting before ``before`` (all, for ``None``): none
        of them had an event when verify started, so each must be newer than that. Events
        and summaries come in the same (code point) order, the backend's promise."""
        while True:
            found = await self._peek()
            if found is None:
                return None
            key, stored = found
            if before is not None and type(key) is str and key >= before:
                return found
            self._index += 1
            # An altered row is reported where it is met, whatever its key: a key that is not
            # text sorts differently in every engine.
            if isinstance(stored, IntegrityError):
                self._found.add(str(stored), stored.conversation_id, None)
                continue
            first = await self._backend.read_page(key, 1, 1, "asc", 1)
            if not first or first[0].position <= self._head:
                self._found.add("summary of a conversation without events", key, None)
            # else: created while we verified
