"""``convlog --help`` lists every command from ``harness.cli._commands`` without importing
them, and each command says of itself what the listing says. ``convlog`` and ``convlog
--help`` print that listing without importing click or rich, in click's own words."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from harness.cli import cli
from harness.cli._commands import COMMANDS
from harness.cli._listing import listing, render, width

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
    # the group, its table and the listing: no command's module
    assert out.stderr.strip() == "harness.cli._commands,harness.cli._group,harness.cli._listing"
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


# ``convlog`` and ``convlog --help`` are printed before click is imported
# (harness/cli/_listing.py); click's own rendering is the reference, byte for byte.

CLICK_RUN = "import sys\nsys.argv[0] = 'convlog'\nfrom harness.cli._group import cli\ncli()\n"
FAST_RUN = (
    "import sys\n"
    "sys.argv[0] = 'convlog'\n"
    "from harness.cli import main\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    loaded = sorted({m.split('.')[0] for m in sys.modules} & {'click', 'rich'})\n"
    "    print('LOADED:' + ','.join(loaded), file=sys.stderr)\n"
)


def run(code: str, args: list[str], columns: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns)}
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, env=env
    )


def click_help(wide: int) -> str:
    with click.Context(
        cli, info_name="convlog", terminal_width=wide, **cli.context_settings
    ) as ctx:
        return cli.get_help(ctx)


@pytest.mark.parametrize("wide", range(50, 79))
def test_the_listing_is_clicks_at_every_width(wide: int) -> None:
    text = render("convlog", wide)
    if wide >= 76:  # the longest line: "  rebuild-summaries  " and a 55-character help
        assert text is not None
    if text is not None:
        assert text == click_help(wide)


@pytest.mark.parametrize("columns", [40, 60, 77, 79, 80, 200])
@pytest.mark.parametrize("args", [["--help"], ["-h"], []])
def test_convlog_help_imports_neither_click_nor_rich(columns: int, args: list[str]) -> None:
    fast = run(FAST_RUN, args, columns)
    slow = run(CLICK_RUN, args, columns)
    fast_err, loaded = fast.stderr.rsplit("LOADED:", 1)
    assert (fast.returncode, fast.stdout, fast_err) == (slow.returncode, slow.stdout, slow.stderr)
    assert slow.returncode == (2 if not args else 0)
    listing_text = slow.stdout or slow.stderr
    for name, (_, line) in COMMANDS.items():
        assert f"  {name} " in listing_text
        if columns >= 79:
            assert line in listing_text
    # A terminal narrower than click's 80 columns wraps lines: click renders those.
    assert loaded.strip() == ("" if width(columns) >= 76 else "click")


def test_width_is_clicks() -> None:
    for columns in (1, 40, 51, 52, 60, 79, 80, 81, 500):
        assert width(columns) == max(min(columns, 80) - 2, 50)


def test_python_m_and_completion_go_to_click() -> None:
    env = {**os.environ, "_CONVLOG_COMPLETE": "bash_source"}
    out = subprocess.run(
        [sys.executable, "-c", FAST_RUN], capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert "click" in out.stderr.rsplit("LOADED:", 1)[1]
    out = subprocess.run(
        [sys.executable, "-m", "harness.cli", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert out.stdout.startswith("Usage: python -m harness.cli [OPTIONS]")
    assert listing(["chat"]) is None
    assert listing(["--help", "--version"]) is None
