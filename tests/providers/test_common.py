"""What every adapter shares: SDK objects and dicts read alike, and no SDK imported."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest

from harness.providers._common import as_json, get_count

SDKS = {"openai", "anthropic", "litellm", "google", "boto3", "botocore", "pydantic"}


def test_importing_the_adapters_imports_no_provider_sdk() -> None:
    code = (
        "import sys, harness.providers\n"
        f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {SDKS!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_objects_with_attributes_read_as_json() -> None:
    obj = SimpleNamespace(a=1, b=[SimpleNamespace(c="x")], _private=2, d=(1, 2), e=b"\x00")
    assert as_json(obj) == {"a": 1, "b": [{"c": "x"}], "d": [1, 2], "e": b"\x00"}


def test_a_value_without_a_json_shape_is_refused() -> None:
    with pytest.raises(TypeError, match="cannot read a object as JSON"):
        as_json(object())


@pytest.mark.parametrize("value", [-1, 1.5, "3", True, 2**53])
def test_a_count_that_is_no_integer_in_range_names_its_field(value: object) -> None:
    with pytest.raises(ValueError, match=r"usage\.n must be an integer >= 0"):
        get_count({"n": value}, "n", "usage.")
