"""``verify`` on healthy stores. (Tampering with the file: ``test_sqlite_tamper.py``.)"""

from __future__ import annotations

import anyio
import pytest

import eventstore

from .support import created, llm_call, note, said

pytestmark = pytest.mark.anyio


async def test_verify_is_clean_on_a_healthy_store(store: eventstore.Store) -> None:
    await store.append("p", [created(title="root")], session_id="s", turn_id="t", harness="h/1")
    await store.append("a", [created(parent_id="p"), said("hi"), llm_call(cost=0.0111)])
    await store.append_raw("b", [b'{ "type":"custom", "event_type":"x", "payload":[1, 2.50] }'])
    for i in range(30):
        await store.append(("a", "b", "p")[i % 3], [note(i), llm_call(cost=None)])

    report = await store.verify()

    assert report.ok
    assert report.problem is None
    assert (report.events, report.conversations) == (5 + 60, 3)
    assert (report.conversation_id, report.version) == (None, None)


async def test_verify_of_an_empty_store_is_clean(store: eventstore.Store) -> None:
    report = await store.verify()
    assert report.ok
    assert (report.events, report.conversations) == (0, 0)


async def test_verify_is_clean_after_rebuilding_summaries(store: eventstore.Store) -> None:
    await store.append("a", [llm_call(cost=0.5), note()])
    await store.append("b", [created(title="t")])
    await store.rebuild_summaries()
    assert (await store.verify()).ok


@pytest.mark.parametrize("conversations", [5, 1500], ids=["small", "several-pages"])
async def test_verify_stays_clean_while_other_tasks_append(
    store: eventstore.Store, conversations: int
) -> None:
    for i in range(conversations):  # 1500: more than one page of events and of summaries
        await store.append(f"c{i:05}", [note(i), llm_call(cost=0.01)])
    reports: list[eventstore.VerifyReport] = []
    done = anyio.Event()

    async def writer(k: int) -> None:
        n = 0
        while not done.is_set():
            await store.append(f"new-{k}-{n:05}", [note(n)])  # a new conversation
            await store.append(f"c{(7 * n + k) % conversations:05}", [llm_call()])  # an old one
            n += 1

    async with anyio.create_task_group() as tg:
        for k in range(4):
            tg.start_soon(writer, k)
        for _ in range(6):
            reports.append(await store.verify())
        done.set()

    assert [r.problem for r in reports] == [None] * 6
    assert (await store.verify()).ok
