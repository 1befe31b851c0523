"""Helpers of the chat and plugin tests: installing a plugin as pip would, running the CLI
as a user does, reading what a run stored."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import anyio

import eventstore
from schemas import StoredEvent

ROOT = Path(__file__).resolve().parents[2]
PRICES = ROOT / "tests" / "fixtures" / "litellm_prices_subset.json"
ECHO = ROOT / "tests" / "plugins" / "echo_harness"


def install(site: Path, project: Path) -> None:
    """Install ``project`` (a pyproject.toml and its one module) into ``site`` as pip would:
    the module, and a ``.dist-info`` whose ``entry_points.txt`` is the pyproject's."""
    meta = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    for module in project.glob("*.py"):
        shutil.copy(module, site / module.name)
    info = site / f"{meta['name'].replace('-', '_')}-{meta['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n"
    )
    groups = meta.get("entry-points", {})
    (info / "entry_points.txt").write_text(
        "".join(
            f"[{group}]\n" + "".join(f"{name} = {value}\n" for name, value in points.items())
            for group, points in groups.items()
        )
    )


def environment(site: Path | None = None, env: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without price, store or OpenAI settings, ``site`` on ``PYTHONPATH``."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CONVLOG_", "OPENAI_")) and k != "PYTHONPATH"
    }
    if site is not None:
        clean["PYTHONPATH"] = str(site)
    clean.update(env or {})
    return clean


#: ``convlog`` as a fresh process runs it.
CONVLOG = [sys.executable, "-m", "harness.cli"]


def run(
    *args: str,
    site: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """``convlog ARGS`` in a fresh process, stdin not a terminal, in :func:`environment`."""
    return subprocess.run(
        [*CONVLOG, *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=environment(site, env),
        timeout=timeout,
        check=False,
    )


def stored(store_path: Path) -> list[StoredEvent]:
    """Every event in the SQLite store at ``store_path``, in position order."""

    async def read() -> list[StoredEvent]:
        async with eventstore.connect(f"sqlite:///{store_path}") as store:
            return [event async for event in store.read_all()]

    return anyio.run(read)
