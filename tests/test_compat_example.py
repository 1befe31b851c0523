"""The harness-author example (``examples/test_acme_events.py``) runs as a test in CI, the way
a harness author runs it: a pytest of its own, in its own directory. And it can fail: a
breaking change to the example's payload makes it fail for the right reasons."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
EXAMPLE_FILES = ["acme_events.py", "conftest.py", "test_acme_events.py", "acme_schemas"]


def run_example(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(directory),
            "-c",
            os.devnull,  # the example is its own project: not this repository's config
            "-W",
            "error",  # but as strict about warnings as our suite
            *args,
            str(directory / "test_acme_events.py"),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=directory,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        timeout=110,
    )


def copy_example(tmp_path: Path) -> Path:
    target = tmp_path / "harness"
    target.mkdir()
    for name in EXAMPLE_FILES:
        source = EXAMPLES / name
        if source.is_dir():
            shutil.copytree(source, target / name)
        else:
            shutil.copy(source, target / name)
    return target


def test_the_harness_author_example_passes(tmp_path):
    proc = run_example(copy_example(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"\b8 passed\b", proc.stdout), proc.stdout


def test_the_example_catches_a_breaking_change_to_a_payload(tmp_path):
    harness = copy_example(tmp_path)
    events = harness / "acme_events.py"
    source = events.read_text()
    assert "    goal: str\n" in source
    events.write_text(source.replace("    goal: str\n", "    goal: int\n"))  # retyped field
    # Only the tests that must catch it (the others would pass and only cost time).
    proc = run_example(harness, "-k", "schema_files or every_release_decode or round_trip")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert re.search(r"\b2 failed\b", proc.stdout), proc.stdout  # round trips still pass
    failed = set(re.findall(r"FAILED \S+::(\w+)", proc.stdout))
    assert {
        "test_schema_files_match_the_payload_types",  # the files no longer match
        "test_payloads_of_every_release_decode_now_without_loss",  # 1.0 payloads fail to decode
    } <= failed, proc.stdout


def test_the_example_schema_files_are_what_the_cli_writes(tmp_path):
    out = tmp_path / "schemas"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemas.json_schema",
            "--custom",
            "acme_events:PAYLOADS",
            "--dir",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(EXAMPLES)},
    )
    assert proc.returncode == 0, proc.stderr
    for written in out.glob("*.json"):
        assert written.read_bytes() == (EXAMPLES / "acme_schemas" / written.name).read_bytes()
    assert {p.name for p in out.glob("*.json")} == {
        p.name for p in (EXAMPLES / "acme_schemas").glob("*.json")
    }


def test_the_documentation_shows_the_example_file_verbatim():
    doc = (ROOT / "docs" / "compatibility.md").read_text()
    example = (EXAMPLES / "test_acme_events.py").read_text()
    assert f"```python\n{example}```\n" in doc, "copy examples/test_acme_events.py into the doc"
