"""``--store``: a URL or a path, else ``CONVLOG_STORE``, else ``./convlog.db``; reading
commands never create a store; a bad value is one line and exit 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli._store import resolve

from .support import run

READING = [
    ["conversations"],
    ["events", "c"],
    ["show", "c"],
    ["cost"],
    ["cost", "--by", "model"],
    ["export"],
    ["verify"],
    ["rebuild-summaries"],
]


def test_a_path_becomes_an_absolute_percent_escaped_sqlite_url(tmp_path: Path) -> None:
    path = tmp_path / "my store?#%.db"
    found = resolve(str(path))
    assert found.path == str(path)
    assert found.url.startswith("sqlite:////")
    assert " " not in found.url
    assert "?" not in found.url
    assert "#" not in found.url


def test_a_relative_path_is_taken_from_the_working_directory(tmp_path: Path) -> None:
    assert resolve("convlog.db").path == str(tmp_path / "convlog.db")


@pytest.mark.parametrize(
    "value", ["sqlite:///x.db", "sqlite:x.db", "SQLite:x.db", "postgresql://h/db", "weird://x"]
)
def test_a_scheme_makes_a_url_passed_as_given(value: str) -> None:
    found = resolve(value)
    assert (found.url, found.path) == (value, None)


@pytest.mark.parametrize("value", ["notes:2024.db", "C:store.db", "a b:c"])
def test_an_unknown_scheme_without_slashes_is_a_path(value: str) -> None:
    assert resolve(value).path is not None


@pytest.mark.parametrize("args", READING, ids=" ".join)
def test_reading_commands_never_create_a_store(tmp_path: Path, args: list[str]) -> None:
    result = run(*args, "--store", tmp_path / "absent.db", code=1)
    assert result.stderr == (
        f"Error: no store at {tmp_path / 'absent.db'} "
        "(create one with convlog demo or by appending to it)\n"
    )
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_a_missing_store_named_by_url_is_not_created_either(tmp_path: Path) -> None:
    result = run("conversations", "--store", f"sqlite:///{tmp_path}/absent.db", code=1)
    assert "no store at" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "value",
    ["sqlite://convlog.db", "sqlite:convlog.db", "sqlite:///x.db?durability=fast", "nope://x"],
)
def test_a_malformed_url_is_one_line_and_exit_1(tmp_path: Path, value: str) -> None:
    result = run("conversations", "--store", value, code=1)
    assert result.stderr.startswith("Error: ")
    assert len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_empty_store_value_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    result = run("conversations", "--store", "", code=1)
    assert (
        result.stderr == "Error: --store (or CONVLOG_STORE) is empty; give a path or a store URL\n"
    )


def test_a_file_that_is_not_a_store_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    result = run("conversations", "--store", tmp_path / "notes.txt", code=1)
    assert result.stderr.startswith("Error: ")
    assert len(result.stderr.splitlines()) == 1


def test_the_environment_names_the_store(store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVLOG_STORE", str(store_path))
    ids = [
        c["conversation_id"]
        for c in json.loads(run("conversations", "--json").stdout)["conversations"]
    ]
    assert ids == ["broken", "quiet", "support", "sub"]


def test_the_option_wins_over_the_environment(
    store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONVLOG_STORE", str(tmp_path / "elsewhere.db"))
    run("conversations", "--store", store_path)


def test_the_default_is_convlog_db_in_the_working_directory(store_path: Path) -> None:
    run("conversations", code=1)  # nothing at ./convlog.db yet
    store_path.rename(store_path.parent / "convlog.db")
    assert "support" in run("conversations").stdout
