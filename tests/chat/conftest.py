"""Fixtures of the chat and plugin tests: the fake provider, a store path, and the ``echo``
test plugin installed as pip would install it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.fake import FakeProvider

from .support import ECHO, install


@pytest.fixture
def server() -> Iterator[FakeProvider]:
    with FakeProvider() as running:
        yield running


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "convlog.db"


@pytest.fixture(scope="session")
def echo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The ``echo`` harness (tests/plugins/echo_harness) installed into a site directory on
    ``sys.path``; subprocesses get it through ``PYTHONPATH`` (:func:`run`)."""
    site = tmp_path_factory.mktemp("site-packages")
    install(site, ECHO)
    sys.path.append(str(site))
    yield site
    sys.path.remove(str(site))
