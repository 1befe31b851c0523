"""Store URLs are parsed strictly: an almost-right URL never opens something else.

Every form is tried through ``eventstore.connect`` in an empty working directory, and the
directory is checked afterwards: a refused URL must leave nothing behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import eventstore
from schemas import Custom

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


# (url, the file it must create relative to the working directory)
ACCEPTED = [
    pytest.param("sqlite:///convlog.db", "convlog.db", id="relative"),
    pytest.param("sqlite:///sub/dir.db", "sub/dir.db", id="relative-subdir"),
    pytest.param("sqlite:///rel%20space.db", "rel space.db", id="percent-space"),
    pytest.param("sqlite:///caf%C3%A9.db", "café.db", id="percent-utf8"),
    pytest.param("sqlite:///convlog.db?durability=normal", "convlog.db", id="query"),
    pytest.param("SQLite:///convlog.db", "convlog.db", id="scheme-case"),
]


@pytest.mark.parametrize(("url", "created"), ACCEPTED)
async def test_a_well_formed_url_opens_the_file_it_names(cwd: Path, url: str, created: str) -> None:
    (cwd / "sub").mkdir()
    async with eventstore.connect(url) as store:
        await store.append("c", [Custom(event_type="x")])
    assert created in _files(cwd)
    async with eventstore.connect(f"sqlite:///{created}") as store:
        assert (await store.get_conversation("c")).version == 1


async def test_an_absolute_path_takes_four_slashes(cwd: Path, tmp_path: Path) -> None:
    target = tmp_path / "abs.db"
    async with eventstore.connect(f"sqlite:///{target}") as store:  # "/" + "/tmp/..."
        await store.append("c", [Custom(event_type="x")])
    assert target.exists()
    assert _files(cwd) == set()


async def test_the_in_memory_spelling_writes_nothing(cwd: Path) -> None:
    async with eventstore.connect("sqlite://:memory:") as store:
        await store.append("c", [Custom(event_type="x")])
    assert _files(cwd) == set()


# (url, what the error says is wrong)
REFUSED = [
    pytest.param("sqlite://convlog.db", "'convlog.db' a host", id="two-slashes"),
    pytest.param("sqlite://dir/convlog.db", "'dir' a host", id="two-slashes-dir"),
    pytest.param("sqlite:", "does not start with sqlite:///", id="bare-scheme"),
    pytest.param("sqlite://", "names no file", id="scheme-and-slashes"),
    pytest.param("sqlite:///", "names no file", id="three-slashes-only"),
    pytest.param("sqlite:convlog.db", "does not start with sqlite:///", id="no-slashes"),
    pytest.param("sqlite:/convlog.db", "does not start with sqlite:///", id="one-slash"),
    pytest.param("sqlite:///:memory:", "spelled sqlite://:memory:", id="memory-as-path"),
    pytest.param("sqlite:///a.db#x", "fragment", id="fragment"),
    pytest.param("sqlite:///a%zz.db", "'%zz' is not a percent-escape", id="bad-escape"),
    pytest.param("sqlite:///a%ff.db", "not UTF-8", id="escape-not-utf8"),
    pytest.param("sqlite:///a%00.db", "NUL", id="escaped-nul"),
    pytest.param("sqlite:///dir/", "a directory", id="directory"),
    pytest.param("sqlite:///a.db?durability", "not name=value", id="query-no-value"),
]


@pytest.mark.parametrize(("url", "problem"), REFUSED)
async def test_a_malformed_url_is_refused_naming_it_and_showing_the_forms(
    cwd: Path, url: str, problem: str
) -> None:
    with pytest.raises(ValueError, match=r"^malformed store URL") as caught:
        eventstore.connect(url)
    message = str(caught.value)
    assert message.startswith(f"malformed store URL {url!r}: ")
    assert problem in message
    assert message.endswith(
        "use sqlite:///relative.db, sqlite:////absolute.db or sqlite://:memory:"
    )
    assert _files(cwd) == set()


@pytest.mark.parametrize(
    ("url", "options", "problem"),
    [
        ("sqlite:///a.db?mode=ro", {}, "unknown option 'mode' in store URL"),
        ("sqlite:///a.db?durability=full&durability=normal", {}, "given twice"),
        ("sqlite:///a.db?durability=normal", {"durability": "full"}, "both in the store URL"),
        ("sqlite:///a.db?durability=fast", {}, "durability must be 'full' or 'normal'"),
        ("sqlite://:memory:", {"read_only": True}, "read-only sqlite://:memory:"),
        ("sqlite:///a.db", {"read_only": "yes"}, "read_only must be True or False"),
    ],
)
async def test_bad_options_are_refused_before_anything_is_created(
    cwd: Path, url: str, options: dict[str, object], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        eventstore.connect(url, **options)  # type: ignore[arg-type]
    assert _files(cwd) == set()


@pytest.mark.parametrize(
    "url", ["convlog.db", "./convlog.db", "/tmp/convlog.db", "", "1sqlite:///x.db"]
)
async def test_a_url_without_a_scheme_names_the_schemes(cwd: Path, url: str) -> None:
    with pytest.raises(ValueError, match=r"has no scheme; expected one of: sqlite:"):
        eventstore.connect(url)
    assert _files(cwd) == set()


@pytest.mark.parametrize("url", ["mysql://localhost/x", "sqlite3:///x.db", "file:///x.db"])
async def test_an_unknown_scheme_names_the_schemes_this_installation_supports(
    cwd: Path, url: str
) -> None:
    with pytest.raises(ValueError, match=r"this installation supports: sqlite\b"):
        eventstore.connect(url)
    assert _files(cwd) == set()


def test_a_url_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(ValueError, match="has no scheme"):
        eventstore.connect(os.fsencode("sqlite:///x.db"))  # type: ignore[arg-type]
