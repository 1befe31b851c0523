"""``convlog verify`` and ``rebuild-summaries``: exit 0 on a sound store, 1 naming the
problem on a tampered one; the digest to record, and ``--expect`` to check it later."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import eventstore
from schemas import ConversationCreated

from .support import run


def tamper(store: Path, *statements: str) -> None:
    """Edits the file behind the store's back, its append-only triggers dropped, as in
    tests/conformance/test_sqlite_tamper.py."""
    conn = sqlite3.connect(store, isolation_level=None)
    try:
        triggers = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'"
        ).fetchall()
        conn.execute("BEGIN")
        for (name,) in triggers:
            conn.execute(f'DROP TRIGGER "{name}"')
        for statement in statements:
            conn.execute(statement)
        conn.execute("COMMIT")
    finally:
        conn.close()


FORGE = (
    'UPDATE events SET data = CAST(\'{"type":"custom","event_type":"forged"}\' AS BLOB) '
    "WHERE conversation_id = 'sub' AND version = 2"
)


def test_verify_ok_prints_counts_and_the_digest(store_path: Path) -> None:
    lines = run("verify", "--store", store_path).stdout.splitlines()
    assert lines[0] == "verify: ok (11 events, 4 conversations)"
    assert lines[1].startswith("digest: 11:")
    assert len(lines[1]) == len("digest: 11:") + 64


def test_verify_json_is_the_report(store_path: Path) -> None:
    document = json.loads(run("verify", "--json", "--store", store_path).stdout)
    assert document["ok"] is True
    assert (document["events"], document["conversations"]) == (11, 4)
    assert document["problem"] is None
    assert document["digest"].startswith("11:")


def test_a_tampered_store_makes_verify_exit_1(store_path: Path) -> None:
    tamper(store_path, FORGE)
    result = run("verify", "--store", store_path, code=1)
    assert result.stdout.startswith("verify: FAILED: conversation 'sub', version 2: ")
    document = json.loads(run("verify", "--json", "--store", store_path, code=1).stdout)
    assert document["ok"] is False
    assert (document["conversation_id"], document["version"]) == ("sub", 2)
    assert document["problem"]


def test_verify_names_the_first_problem_of_each_conversation(store_path: Path) -> None:
    tamper(
        store_path,
        FORGE,
        "UPDATE events SET session_id = 'forged' WHERE conversation_id = 'support' AND version = 3",
        "UPDATE events SET session_id = 'forged' WHERE conversation_id = 'support' AND version = 4",
    )
    result = run("verify", "--store", store_path, code=1)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("verify: FAILED: conversation 'sub', version 2: type column says")
    assert lines[1].startswith(
        "verify: FAILED: conversation 'support', version 3: hash chain broken"
    )
    assert lines[2].startswith("digest: 11:")
    assert len(lines) == 3
    document = json.loads(run("verify", "--json", "--store", store_path, code=1).stdout)
    assert [(p["conversation_id"], p["version"]) for p in document["problems"]] == [
        ("sub", 2),
        ("support", 3),
    ]
    assert document["more_problems"] == 0
    assert (document["conversation_id"], document["version"]) == ("sub", 2)


def test_verify_lists_100_problems_then_how_many_more(tmp_path: Path) -> None:
    path = tmp_path / "many.db"

    async def write() -> None:
        async with eventstore.connect(f"sqlite:///{path}") as store:
            for n in range(103):
                await store.append(f"c{n:03d}", [ConversationCreated(title="a title")])

    asyncio.run(write())
    tamper(path, "UPDATE conversations SET title = 'forged'")
    lines = run("verify", "--store", path, code=1).stdout.splitlines()
    assert len(lines) == 102
    assert lines[0] == (
        "verify: FAILED: conversation 'c000': summary disagrees with the fold of its events "
        "(run rebuild_summaries)"
    )
    assert lines[99].startswith("verify: FAILED: conversation 'c099': ")
    assert lines[100] == "verify: FAILED: 3 more problems not listed (the first 100 are above)"
    assert lines[101].startswith("digest: 103:")
    document = json.loads(run("verify", "--json", "--store", path, code=1).stdout)
    assert (len(document["problems"]), document["more_problems"]) == (100, 3)


def test_expect_checks_an_earlier_digest(store_path: Path) -> None:
    digest = json.loads(run("verify", "--json", "--store", store_path).stdout)["digest"]
    run("verify", "--expect", digest, "--store", store_path)
    tamper(
        store_path,
        "DELETE FROM events WHERE position = 11",
        "DELETE FROM conversations WHERE conversation_id = 'broken'",
    )
    result = run("verify", "--expect", digest, "--store", store_path, code=1)
    assert result.stdout.startswith("verify: FAILED")


def test_expect_that_is_not_a_digest_is_one_line(store_path: Path) -> None:
    result = run("verify", "--expect", "3:abc", "--store", store_path, code=1)
    assert result.stderr.startswith("Error: --expect: expected a digest")
    assert len(result.stderr.splitlines()) == 1


def test_rebuild_summaries_mends_an_altered_summary(store_path: Path) -> None:
    tamper(store_path, "UPDATE conversations SET title = 'forged' WHERE conversation_id = 'sub'")
    run("verify", "--store", store_path, code=1)
    assert run("rebuild-summaries", "--store", store_path).stdout == "rebuilt 4 summaries\n"
    run("verify", "--store", store_path)


def test_rebuild_refuses_to_launder_a_deletion_unless_forced(store_path: Path) -> None:
    tamper(store_path, "DELETE FROM events WHERE conversation_id = 'sub' AND version = 2")
    result = run("rebuild-summaries", "--store", store_path, code=1)
    assert result.stderr.startswith("Error: ")
    assert "sub" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    run("rebuild-summaries", "--force", "--store", store_path)


def test_an_older_store_is_refused_by_reading_commands_and_upgraded_by_a_writing_one(
    store_path: Path,
) -> None:
    """A schema 1 store (the summary columns schema 2 added taken away again): reading
    commands open read-only and cannot upgrade it; they say what to do, which works."""
    conn = sqlite3.connect(store_path, isolation_level=None)
    try:
        conn.execute("ALTER TABLE conversations DROP COLUMN messages")
        conn.execute("ALTER TABLE conversations DROP COLUMN by_model")
        conn.execute("UPDATE convlog_meta SET value = '1' WHERE key = 'schema'")
    finally:
        conn.close()
    result = run("conversations", "--store", store_path, code=1)
    assert result.stderr.startswith("Error: ")
    assert "has schema version 1, older than this convlog's" in result.stderr
    assert "convlog rebuild-summaries" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    run("rebuild-summaries", "--store", store_path)
    document = json.loads(run("conversations", "--json", "--store", store_path).stdout)
    assert {c["conversation_id"]: c["messages"] for c in document["conversations"]} == {
        "support": 4,
        "sub": 1,
        "quiet": 1,
        "broken": 0,
    }
    run("verify", "--store", store_path)
