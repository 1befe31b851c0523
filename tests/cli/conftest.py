"""Fixtures of the CLI tests: no store from the environment, and the history of
``support.py`` in a store file whose name has a space."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from .support import write_history


@pytest.fixture(autouse=True)
def no_store_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ``CONVLOG_STORE`` from the environment, and a working directory of the test's own
    (the default store is ``./convlog.db``)."""
    monkeypatch.delenv("CONVLOG_STORE", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """``support.write_history`` in a file whose name has a space."""
    path = tmp_path / "the store.db"
    asyncio.run(write_history("sqlite:///" + str(path).replace(" ", "%20")))
    return path
