"""docs/fake-provider.md says what is true: its Python examples run, its script file loads,
and it documents every public name."""

from __future__ import annotations

import re
from pathlib import Path

import harness.fake
from harness.fake import Reply, Script, StatusError, Usage, load_script

DOC = (Path(__file__).resolve().parents[2] / "docs" / "fake-provider.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC, flags=re.DOTALL)


def test_the_python_examples_pass_as_the_tests_they_show():
    (example,) = blocks("python")
    namespace: dict[str, object] = {}
    exec(compile(example, "docs/fake-provider.md", "exec"), namespace)
    tests = [f for name, f in namespace.items() if name.startswith("test_") and callable(f)]
    assert len(tests) == 2
    for test in tests:
        test()


def test_the_toml_example_loads(tmp_path):
    (example,) = blocks("toml")
    path = tmp_path / "script.toml"
    path.write_text(example)
    assert load_script(path) == Script(
        steps=(
            Reply(
                text=("Hel", "lo"),
                usage=Usage(prompt_tokens=10, completion_tokens=2, cached_tokens=4),
                first_chunk_delay=0.5,
            ),
            StatusError(status=429, retry_after=2),
        ),
        default=Reply(text="bye"),
    )


def test_every_public_name_is_documented():
    missing = [name for name in harness.fake.__all__ if name not in DOC]
    assert missing == []
