"""The examples run as a new user runs them, and say what the docs say they say."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quickstart_records_prices_lists_replays_and_verifies(tmp_path: Path) -> None:
    db = tmp_path / "quick.db"
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py"), str(db)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    # Anthropic 1,000 input + 2,000 cache reads + 500 output at $3/$0.30/$15 per MTok = $0.0111;
    # gpt-4o 3,000 prompt incl. 2,000 cached + 500 output at $2.50/$1.25/$10 = $0.0100.
    assert "cost $0.0211 over 2 priced calls; 1 unpriced" in out
    assert "cost 0.0111, litellm:" in out
    assert "my-finetune-v3: cost None, unpriced:model_not_found" in out
    assert "verify: ok (5 events)" in out
    assert db.stat().st_mode & 0o777 == 0o600


def test_quickstart_refuses_to_record_its_conversation_twice(tmp_path: Path) -> None:
    db = tmp_path / "quick.db"
    command = [sys.executable, str(ROOT / "examples" / "quickstart.py"), str(db)]
    subprocess.run(command, capture_output=True, check=True, timeout=60)
    again = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert again.returncode == 1
    assert again.stderr == f"{db} already holds 'support-42' (version 5): use a new path\n"


def test_the_readme_example_is_the_example_that_runs() -> None:
    """The README shows the body of examples/record_a_call.py, line for line."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Use it from Python", 1)[1].split("```python\n", 1)[1]
    block = block.split("```", 1)[0]
    example = (ROOT / "examples" / "record_a_call.py").read_text()
    body = "\n".join(line[4:] for line in example.splitlines())  # main()'s body, dedented
    for line in block.splitlines():
        assert line in body, line


def test_record_a_call_records_prices_and_times_one_call() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "record_a_call.py")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert "conv-1 ['Hi!', 'Hello there!']" in out
    # gpt-4o-mini: 9 prompt tokens at $0.15/MTok + 3 completion at $0.60/MTok.
    assert "1 call, $3.15e-06, ttft " in out
