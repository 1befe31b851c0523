"""The ``convlog`` command line as a whole: every command has ``--help`` and a heading in
docs/cli.md, every documented command exists, and help is cheap to reach."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from harness.cli import cli

ROOT = Path(__file__).resolve().parents[1]
CLI_DOC = ROOT / "docs" / "cli.md"
# A heading naming a command as typed: `convlog prices show MODEL [--provider P]`. After the
# command's words come only arguments (MODEL), options ([--x], --x) or the end of the span.
HEADING = re.compile(r"^#+\s.*?`convlog((?: [a-z][a-z0-9-]*)*)(?: [A-Z\[-][^`]*)?`", re.M)


def command_paths(group: click.Group = cli, prefix: tuple[str, ...] = ()) -> list[str]:
    """Every command and subcommand below ``group``, as typed after ``convlog``."""
    ctx = click.Context(group)
    paths = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        path = (*prefix, name)
        paths.append(" ".join(path))
        if isinstance(command, click.Group):
            paths += command_paths(command, path)
    return paths


def documented() -> set[str]:
    return {m.group(1).strip() for m in HEADING.finditer(CLI_DOC.read_text())}


def test_the_walk_finds_the_commands() -> None:
    assert {"prices", "prices show", "prices update", "prices cost"} <= set(command_paths())


@pytest.mark.parametrize("path", ["", *command_paths()])
def test_every_command_has_help(path: str) -> None:
    for flag in ("--help", "-h"):
        result = CliRunner().invoke(cli, [*path.split(), flag], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert result.output.startswith(f"Usage: {' '.join(['cli', *path.split()])} ")


@pytest.mark.parametrize("path", command_paths())
def test_every_command_is_documented(path: str) -> None:
    command: click.Command = cli
    for name in path.split():
        assert isinstance(command, click.Group)
        found = command.get_command(click.Context(command), name)
        assert found is not None
        command = found
    assert (command.help or "").strip(), f"convlog {path} has no help text"
    assert path in documented(), f"docs/cli.md has no heading naming `convlog {path}`"


def test_every_documented_command_exists() -> None:
    assert documented() - {""} <= set(command_paths())


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
        "heavy = {'schemas', 'eventstore', 'msgspec', 'anyio', 'sqlite3', 'decimal', 'json',\n"
        "         'mcp', 'mcp_types', 'agents', 'pydantic', 'starlette', 'uvicorn'}\n"
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
