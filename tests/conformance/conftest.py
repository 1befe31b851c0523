"""Fixtures of the backend conformance suite.

Every test that takes ``backend`` or ``store`` runs once per backend. A backend is done when this
suite passes unchanged. Guarantees of the backends that several processes share
(``shared_url``: many writers, SIGKILL) are in ``test_processes.py`` and ``test_crash.py``;
backend-specific ones (file permissions, triggers, the global order) in the
``test_sqlite_*.py`` and ``test_postgres.py`` modules.

``postgres`` runs against the server named by ``CONVLOG_TEST_POSTGRES_DSN`` (CI sets it and
fails if the server is unreachable); each store is a schema of its own, named after this
process, and every schema the run made is dropped at its end. Without the variable those tests
skip, saying so.

``toy-memory`` is ``memory_backend.py``, a backend with no rules of its own, registered below
as a third party registers one: package metadata with an entry point in the group
``convlog.backends``, found on ``sys.path``. That it passes is what proves the seam.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import eventstore


@dataclass(frozen=True)
class BackendUnderTest:
    """One backend as the suite sees it.

    ``url`` is the store of this test; ``new_url()`` makes another, empty one (the state machine
    needs one per example). ``persistent`` says whether connecting to ``url`` again sees what
    was stored before (not so for a private in-memory database).
    """

    name: str
    new_url: Callable[[], str]
    persistent: bool
    url: str = ""

    def connect(self, **options: Any) -> Any:
        return eventstore.connect(self.url, **options)


BACKENDS = [
    pytest.param("sqlite-file", id="sqlite-file"),
    pytest.param("sqlite-memory", id="sqlite-memory"),
    pytest.param("toy-memory", id="toy-memory"),
    pytest.param("postgres", marks=pytest.mark.postgres, id="postgres"),
]
PERSISTENT_BACKENDS = [p for p in BACKENDS if p.values[0] not in ("sqlite-memory", "toy-memory")]


@pytest.fixture(scope="session", autouse=True)
def toy_memory_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Installs the toy backend's distribution metadata (as ``pip install`` would) and puts
    it on ``sys.path``: ``connect("memory:")`` then finds it through its entry point."""
    site = tmp_path_factory.mktemp("site-packages")
    info = site / "convlog_toy_memory-0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: convlog-toy-memory\nVersion: 0\n")
    (info / "entry_points.txt").write_text(
        "[convlog.backends]\nmemory = conformance.memory_backend\n"
    )
    sys.path.append(str(site))
    yield
    sys.path.remove(str(site))


def _make_backend(name: str, tmp_path: Path) -> BackendUnderTest:
    if name == "sqlite-file":
        numbers = itertools.count()

        def new_url() -> str:
            return f"sqlite:///{tmp_path}/store-{next(numbers)}.db"

        persistent = True
    elif name == "toy-memory":

        def new_url() -> str:
            return "memory:"

        persistent = False
    elif name == "sqlite-memory":

        def new_url() -> str:
            return "sqlite://:memory:"

        persistent = False
    elif name == "postgres":
        new_url = postgres_urls()
        persistent = True
    else:  # pragma: no cover - a typo in BACKENDS
        raise AssertionError(f"unknown backend {name!r}")
    return BackendUnderTest(name, new_url, persistent, new_url())


POSTGRES_DSN = os.environ.get("CONVLOG_TEST_POSTGRES_DSN", "")
_SCHEMA_PREFIX = f"convlog_test_{os.getpid()}_"
_schemas = itertools.count()


def postgres_urls() -> Callable[[], str]:
    """A maker of URLs of new, empty PostgreSQL stores: one schema each, dropped at the end
    of the run (see ``drop_test_schemas``)."""
    if not POSTGRES_DSN:
        pytest.skip("set CONVLOG_TEST_POSTGRES_DSN to test the PostgreSQL backend")
    separator = "&" if "?" in POSTGRES_DSN else "?"

    def new_url() -> str:
        return f"{POSTGRES_DSN}{separator}schema={_SCHEMA_PREFIX}{next(_schemas)}"

    return new_url


@pytest.fixture(scope="session", autouse=True)
def drop_test_schemas() -> Iterator[None]:
    """Drops every schema this run created, so a run leaves the test database as it found it."""
    yield
    if not POSTGRES_DSN or next(_schemas) == 0:
        return

    async def drop() -> None:
        import asyncpg

        conn = await asyncpg.connect(POSTGRES_DSN)
        try:
            names = await conn.fetch(
                "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)", _SCHEMA_PREFIX
            )
            for (name,) in names:
                await conn.execute(f'DROP SCHEMA "{name}" CASCADE')
        finally:
            await conn.close()

    asyncio.run(drop())


@pytest.fixture
def anyio_backend() -> str:
    # The SQLite backend's worker threads hand results back to an asyncio loop.
    return "asyncio"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> BackendUnderTest:
    return _make_backend(request.param, tmp_path)


@pytest.fixture(params=[p for p in BACKENDS if p.values[0].startswith("sqlite")])
def sqlite_backend(request: pytest.FixtureRequest, tmp_path: Path) -> BackendUnderTest:
    """The SQLite backends, for the options only they have."""
    return _make_backend(request.param, tmp_path)


@pytest.fixture(params=PERSISTENT_BACKENDS)
def persistent_backend(request: pytest.FixtureRequest, tmp_path: Path) -> BackendUnderTest:
    """Backends whose data outlives the store object: for close-and-reopen guarantees."""
    return _make_backend(request.param, tmp_path)


@pytest.fixture(params=PERSISTENT_BACKENDS)
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a new store that several processes can open at once."""
    return _make_backend(request.param, tmp_path).url


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    """Path of a new SQLite store file (for the sqlite-only modules)."""
    return tmp_path / "convlog.db"


@pytest.fixture
def sqlite_url(sqlite_file: Path) -> str:
    return f"sqlite:///{sqlite_file}"


@pytest.fixture
def raw_sqlite(sqlite_file: Path) -> Iterator[Callable[[], sqlite3.Connection]]:
    """Opens plain ``sqlite3`` connections on the store file, as a buggy or hostile harness
    could; they are closed at teardown."""
    opened: list[sqlite3.Connection] = []

    def open_connection() -> sqlite3.Connection:
        conn = sqlite3.connect(sqlite_file, isolation_level=None, timeout=10)
        opened.append(conn)
        return conn

    yield open_connection
    for conn in opened:
        conn.close()


@pytest.fixture
async def store(backend: BackendUnderTest) -> AsyncIterator[eventstore.Store]:
    async with backend.connect() as opened:
        yield opened
