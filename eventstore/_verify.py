"""``verify``: recompute every conversation's hash chain and check its summary."""

from __future__ import annotations

from schemas import StoredEvent

from ._chain import GENESIS, link
from ._fold import Fold, to_us
from ._model import VerifyReport
from .backend import Backend

__all__ = ("verify",)

_PAGE = 1000


async def verify(backend: Backend) -> VerifyReport:
    """Decode every event, check versions are gapless from 1 and positions increase within each
    conversation, recompute the hash chain, and compare each conversation's summary with the
    fold of its events. Reports the first problem found. Memory stays flat: one page and one
    conversation's fold at a time."""
    events = conversations = 0
    fold: Fold | None = None
    prev_hash = GENESIS
    after: tuple[str, int] | None = None

    def report(problem: str, cid: str | None, version: int | None) -> VerifyReport:
        return VerifyReport(
            events=events,
            conversations=conversations,
            problem=problem,
            conversation_id=cid,
            version=version,
        )

    while True:
        page = await backend.chain_page(after, _PAGE)
        for item, stored_hash in page:
            if not isinstance(item, StoredEvent):  # an event that does not decode
                return report(str(item), None, None)
            ev = item
            cid = ev.conversation_id
            if fold is None or fold.conversation_id != cid:
                if fold is not None:
                    problem = await _check_summary(backend, fold)
                    if problem:
                        return report(problem, fold.conversation_id, None)
                fold, prev_hash = Fold(cid), GENESIS
                conversations += 1
            if ev.version != fold.version + 1:
                return report(
                    f"version gap: expected {fold.version + 1}, found {ev.version}",
                    cid,
                    ev.version,
                )
            if ev.position <= fold.last_position:
                return report("positions are not increasing with versions", cid, ev.version)
            expected = link(
                prev_hash, cid, ev.version, ev.id.bytes, to_us(ev.recorded_at), ev.session_id, ev.turn_id,
                ev.harness, ev.raw,
            )  # fmt: skip
            if expected != stored_hash:
                return report(
                    "hash chain broken: event or its predecessor altered", cid, ev.version
                )
            fold.apply(
                ev.data,
                version=ev.version,
                position=ev.position,
                recorded_at_us=to_us(ev.recorded_at),
                hash=stored_hash,
            )
            prev_hash = stored_hash
            events += 1
        if len(page) < _PAGE:
            break
        last = page[-1][0]
        assert isinstance(last, StoredEvent)
        after = (last.conversation_id, last.version)
    if fold is not None:
        problem = await _check_summary(backend, fold)
        if problem:
            return report(problem, fold.conversation_id, None)
    return VerifyReport(events=events, conversations=conversations)


async def _check_summary(backend: Backend, fold: Fold) -> str | None:
    stored = await backend.get_summary(fold.conversation_id)
    if stored is None:
        return "conversation has events but no summary (run rebuild_summaries)"
    if stored.version < fold.version:
        return f"summary is behind: version {stored.version}, events reach {fold.version}"
    if stored.version > fold.version:
        return None  # appended to while we verified; the newer events are not ours to judge
    if stored != fold.summary():
        return "summary disagrees with the fold of its events (run rebuild_summaries)"
    return None
