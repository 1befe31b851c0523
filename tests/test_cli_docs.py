"""The ``convlog`` command line as a whole: its help is cheap to reach."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_help_imports_no_command_dependencies() -> None:
    """``convlog --help`` loads every command module; they leave the price table, the store
    and the schemas (msgspec) to their commands, so help costs little more than click."""
    code = (
        "import sys\n"
        "from harness.cli import cli\n"
        "try:\n"
        "    cli(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = {'schemas', 'eventstore', 'msgspec', 'anyio', 'sqlite3', 'decimal', 'json'}\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in heavy\n"
        "          or m.startswith('harness.') and not m.startswith('harness.cli')]\n"
        "print(','.join(sorted(loaded)), file=sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert "Usage:" in out.stdout
    assert out.stderr.strip() == ""


def test_python_m_harness_cli_runs_the_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "harness.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert "prices" in out.stdout
