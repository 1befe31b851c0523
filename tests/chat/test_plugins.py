"""Harness plugins: ``basic`` is found through its entry point like any third party's, a
third party's harness (``echo``, tests/plugins/echo_harness) is listed and runs without
touching convlog, and a broken plugin is reported without hiding the others."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness import plugins
from harness.cli import cli
from harness.harnesses.basic import BasicHarness
from harness.plugins import HarnessNotFound, HarnessSpec, PluginError
from schemas import ConversationCreated, Message, Messages

from .support import ECHO, ROOT, run, stored


@pytest.fixture
def broken_site(tmp_path: Path) -> Iterator[Path]:
    """A distribution registering three harnesses that cannot be used."""
    info = tmp_path / "convlog_broken-0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: convlog-broken\nVersion: 0\n")
    (info / "entry_points.txt").write_text(
        "[convlog.harnesses]\n"
        "missing = no_such_module_here:HARNESS\n"
        "notaspec = json:dumps\n"
        "misnamed = convlog_echo:HARNESS\n"
    )
    sys.path.append(str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))


def test_basic_is_registered_through_the_entry_point_like_a_third_party() -> None:
    (point,) = entry_points(group=plugins.ENTRY_POINT_GROUP, name="basic")
    assert point.value == "harness.harnesses.basic:HARNESS"
    assert point.dist is not None
    assert point.dist.name == "convlog"
    spec = plugins.load("basic")
    assert spec.factory is BasicHarness
    assert spec.harness == "basic/0.1.0"
    assert spec.requires == ("base_url", "model")


def test_installed_lists_basic_and_the_third_party_echo(echo_site: Path) -> None:
    found = {item.name: item for item in plugins.installed()}
    assert {"basic", "echo"} <= found.keys()
    assert found["basic"].distribution == "convlog"
    assert found["echo"].distribution == "convlog-echo"
    assert found["echo"].spec is not None
    assert found["echo"].spec.harness == "echo/1.0"
    assert all(item.error is None for item in found.values())


def test_a_broken_plugin_is_reported_and_hides_no_other(echo_site: Path, broken_site: Path) -> None:
    found = {item.name: item for item in plugins.installed()}
    assert found["basic"].spec is not None
    assert found["echo"].spec is not None
    assert "ModuleNotFoundError" in (found["missing"].error or "")
    assert "is a function, not a HarnessSpec" in (found["notaspec"].error or "")
    assert "registered as 'misnamed' but named 'echo'" in (found["misnamed"].error or "")
    assert all(found[n].spec is None for n in ("missing", "notaspec", "misnamed"))
    with pytest.raises(PluginError, match="convlog-broken"):
        plugins.load("missing")

    result = CliRunner().invoke(cli, ["harnesses"])
    assert result.exit_code == 1
    assert "basic" in result.output
    assert "echo" in result.output
    assert "error: harness 'missing'" in result.output


def test_load_names_the_installed_harnesses(echo_site: Path) -> None:
    with pytest.raises(HarnessNotFound, match=r"no harness 'nope' is installed; .*basic, echo"):
        plugins.load("nope")


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"name": "Echo"}, "harness name"),
        ({"name": "a/b"}, "harness name"),
        ({"version": "1 0"}, "one word"),
        ({"summary": "two\nlines"}, "one non-empty line"),
        ({"requires": ("api_key",)}, "requires unknown option"),
    ],
)
def test_a_spec_is_checked_when_built(fields: dict[str, object], said: str) -> None:
    good: dict[str, object] = {"name": "x", "version": "1", "summary": "s", "factory": object}
    with pytest.raises(ValueError, match=said):
        HarnessSpec(**{**good, **fields})  # type: ignore[arg-type]


def test_convlog_harnesses_lists_both(echo_site: Path) -> None:
    done = run("harnesses", site=echo_site)
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.splitlines()
    assert header.split() == ["name", "version", "from", "summary"]
    assert rows[0].split()[:3] == ["basic", "0.1.0", "convlog"]
    assert rows[1].split()[:3] == ["echo", "1.0", "convlog-echo"]
    assert rows[1].endswith("Answers with your text reversed; calls no model.")

    listed = json.loads(run("harnesses", "--json", site=echo_site).stdout)
    assert [(h["name"], h["distribution"], h["error"]) for h in listed] == [
        ("basic", "convlog", None),
        ("echo", "convlog-echo", None),
    ]


def test_chat_runs_the_third_party_harness(echo_site: Path, store_path: Path) -> None:
    done = run("chat", "--harness", "echo", "--store", str(store_path), "--message", "hi there",
               site=echo_site)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ereht ih\n"
    created, turn = stored(store_path)
    assert done.stderr == f"conversation {created.conversation_id} · no model call\n"
    assert created.data == ConversationCreated(title="hi there")
    assert turn.data == Messages(
        messages=[
            Message(role="user", content="hi there"),
            Message(role="assistant", content="ereht ih"),
        ]
    )
    assert created.harness == turn.harness == "echo/1.0"
    assert created.session_id == turn.session_id is not None


def test_listing_harnesses_does_not_import_the_openai_sdk() -> None:
    code = (
        "import sys\n"
        "from harness.plugins import installed\n"
        "assert [i for i in installed() if i.name == 'basic'][0].spec is not None\n"
        "print('openai' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "False"


def test_the_documented_third_party_harness_is_the_tested_one() -> None:
    doc = (ROOT / "docs" / "harnesses.md").read_text()
    plugins_section = doc[doc.index("## Plugins") :]
    toml = plugins_section.split("```toml\n", 1)[1].split("```", 1)[0]
    python = plugins_section.split("```python\n", 1)[1].split("```", 1)[0]
    assert python == (ECHO / "convlog_echo.py").read_text()
    meta = tomllib.loads(toml)["project"]
    tested = tomllib.loads((ECHO / "pyproject.toml").read_text())["project"]
    assert meta["entry-points"] == tested["entry-points"]
    assert (meta["name"], meta["version"]) == (tested["name"], tested["version"])
