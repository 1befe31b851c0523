"""``convlog --help`` lists every command from ``harness.cli._commands`` without importing
them, and each command says of itself what the listing says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest

from harness.cli import cli
from harness.cli._commands import COMMANDS

ROOT = Path(__file__).resolve().parents[2]


def test_help_imports_no_command_module() -> None:
    code = (
        "import sys\n"
        "from harness.cli import cli\n"
        "try:\n"
        "    cli(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith('harness.cli.'))),"
        " file=sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stderr.strip() == "harness.cli._commands"
    for name, (_, line) in COMMANDS.items():
        assert f"  {name} " in out.stdout
        assert line in out.stdout  # on one line: it fits


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_says_what_the_listing_says(name: str) -> None:
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    assert command.name == name
    assert command.get_short_help_str(100) == COMMANDS[name][1]
    assert len(COMMANDS[name][1]) <= 55
