"""``convlog export`` and ``import``: JSON Lines of whole events, a byte-identical round
trip, idempotent re-imports, and a bad line named by its number with nothing of its batch
written."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

import eventstore

from .support import run


def export(store: Path, *args: str) -> bytes:
    return run("export", "--store", store, *args).stdout_bytes


def events_of(store: Path) -> list[tuple[object, ...]]:
    async def read() -> list[tuple[object, ...]]:
        async with eventstore.connect(f"sqlite:///{store}", read_only=True) as opened:
            return [
                (e.id, e.conversation_id, e.version, e.position, e.raw, e.session_id, e.harness)
                async for e in opened.read_all()
            ]

    return asyncio.run(read())


def test_a_line_is_the_whole_envelope_and_the_stored_json(store_path: Path) -> None:
    lines = export(store_path).splitlines()
    assert len(lines) == 11
    first = json.loads(lines[0])
    assert list(first) == [
        "id", "conversation_id", "version", "position", "recorded_at", "session_id", "turn_id",
        "harness", "data",
    ]  # fmt: skip
    stored = events_of(store_path)
    for line, event in zip(lines, stored, strict=True):
        assert line.endswith(b',"data":' + event[4] + b"}")  # verbatim, not re-encoded


def test_export_import_export_is_identical_and_verifies(store_path: Path, tmp_path: Path) -> None:
    (tmp_path / "out.jsonl").write_bytes(export(store_path))
    copy = tmp_path / "copy.db"
    result = run("import", tmp_path / "out.jsonl", "--store", copy)
    assert result.stderr == "imported 11 events (0 already there) from 11 lines\n"
    assert export(copy, "--no-recorded-at") == export(store_path, "--no-recorded-at")
    assert events_of(copy) == events_of(store_path)  # ids, versions, positions, bytes
    for store in (store_path, copy):
        assert run("verify", "--store", store).stdout.startswith("verify: ok (11 events, 4 ")


def test_export_to_a_file_and_of_one_conversation(store_path: Path, tmp_path: Path) -> None:
    target = tmp_path / "support.jsonl"
    run("export", "support", "-o", target, "--store", store_path)
    lines = [json.loads(line) for line in target.read_bytes().splitlines()]
    assert [(e["conversation_id"], e["version"]) for e in lines] == [
        ("support", v) for v in range(1, 6)
    ]
    assert not (tmp_path / "support.jsonl.partial").exists()


def test_a_failed_export_leaves_no_file(tmp_path: Path) -> None:
    run("export", "-o", tmp_path / "out.jsonl", "--store", tmp_path / "absent.db", code=1)
    assert list(tmp_path.iterdir()) == []


def test_reimporting_is_a_no_op(store_path: Path, tmp_path: Path) -> None:
    (tmp_path / "out.jsonl").write_bytes(export(store_path))
    copy = tmp_path / "copy.db"
    run("import", tmp_path / "out.jsonl", "--store", copy)
    before = events_of(copy)
    again = run("import", tmp_path / "out.jsonl", "--store", copy)
    assert again.stderr == "imported 0 events (11 already there) from 11 lines\n"
    assert events_of(copy) == before


def test_import_from_stdin(store_path: Path, tmp_path: Path) -> None:
    run("import", "-", "--store", tmp_path / "copy.db", input=export(store_path))
    assert len(events_of(tmp_path / "copy.db")) == 11


def bad_file(store: Path, tmp_path: Path, line: int, replace: bytes) -> Path:
    lines = export(store).splitlines(keepends=True)
    lines[line - 1] = replace
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"".join(lines))
    return path


@pytest.mark.parametrize(
    ("replace", "problem"),
    [
        (b"{not json\n", "not JSON"),
        (b'{"id": "01a2420b-a9c4-709f-824d-88dd3657e0a7"}\n', "Object missing required field"),
    ],
)
def test_a_bad_line_is_named_and_its_batch_not_written(
    store_path: Path, tmp_path: Path, replace: bytes, problem: str
) -> None:
    # Lines 1-4 are support's first batch, written; line 5 starts sub's batch (5-6), so a bad
    # line 6 stops the import with sub's line 5 unwritten too.
    path = bad_file(store_path, tmp_path, 6, replace)
    result = run("import", path, "--store", tmp_path / "copy.db", code=1)
    assert result.stderr.startswith(f"Error: {path}:6: {problem}")
    assert result.stderr.rstrip().endswith("nothing from line 5 on was written")
    assert len(result.stderr.splitlines()) == 1
    assert [(e[1], e[2]) for e in events_of(tmp_path / "copy.db")] == [
        ("support", v) for v in range(1, 5)
    ]


def test_a_body_the_schema_refuses_is_named_by_its_line(store_path: Path, tmp_path: Path) -> None:
    line = json.loads(export(store_path).splitlines()[5])
    line["data"]["usage"]["prompt_tokens"] = -5
    path = bad_file(store_path, tmp_path, 6, json.dumps(line).encode() + b"\n")
    result = run("import", path, "--store", tmp_path / "copy.db", code=1)
    assert result.stderr.startswith(f"Error: {path}:6: $.data.usage.prompt_tokens: ")
    assert len(events_of(tmp_path / "copy.db")) == 4


def test_a_version_the_store_is_not_at_is_named(store_path: Path, tmp_path: Path) -> None:
    lines = export(store_path).splitlines(keepends=True)
    path = tmp_path / "gap.jsonl"
    path.write_bytes(lines[0] + lines[2])  # support v1, then v3
    result = run("import", path, "--store", tmp_path / "copy.db", code=1)
    assert result.stderr.startswith(f"Error: {path}:2: ")
    assert "version" in result.stderr
    assert len(events_of(tmp_path / "copy.db")) == 1


def test_stored_json_with_line_breaks_round_trips(tmp_path: Path) -> None:
    async def write() -> None:
        async with eventstore.connect(f"sqlite:///{tmp_path}/a.db") as store:
            await store.append_raw("c", [b'{\n  "type": "custom",\r\n  "event_type": "x"\n}'])

    asyncio.run(write())
    out = export(tmp_path / "a.db")
    assert out.count(b"\n") == 1  # still one line
    assert json.loads(out)["data"] == '{\n  "type": "custom",\r\n  "event_type": "x"\n}'
    run("import", "-", "--store", tmp_path / "b.db", input=out)
    assert events_of(tmp_path / "b.db") == events_of(tmp_path / "a.db")


def test_an_unreadable_file_is_one_line(tmp_path: Path) -> None:
    result = run("import", tmp_path / "absent.jsonl", "--store", tmp_path / "s.db", code=1)
    assert (
        result.stderr
        == f"Error: cannot read {tmp_path / 'absent.jsonl'}: No such file or directory\n"
    )
