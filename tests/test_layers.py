"""The layer rule: schemas <- eventstore <- harness, never the other way, and no pricing in the
trusted substrate. Checked on the source (every import statement) and at run time."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Modules that price usage, or the packages that do.
PRICING_MODULES = ("harness", "litellm", "genai_prices", "tokencost")
# What schemas' library modules may import: msgspec and pure standard-library modules.
SCHEMAS_ALLOWED = {
    "msgspec", "typing", "datetime", "uuid", "re", "math", "enum", "collections",
    "dataclasses", "functools", "inspect", "__future__", "schemas", "types", "threading",
    "contextlib", "abc", "decimal", "json", "base64", "unicodedata",
}  # fmt: skip
# Command-line tools and test helpers that live in schemas/ but are not imported by `schemas`.
SCHEMAS_TOOLS = {"json_schema.py", "compat.py", "strategies.py", "_schema_strategy.py"}


def imports_of(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", ["schemas", "eventstore"])
def test_trusted_layers_never_import_userspace_or_pricing(package: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: import {name}"
        for path in sources(package)
        for line, name in imports_of(path)
        if name.split(".")[0] in PRICING_MODULES
    ]
    assert offenders == []


def test_schemas_imports_only_msgspec_and_pure_stdlib() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: import {name}"
        for path in sources("schemas")
        if path.name not in SCHEMAS_TOOLS
        for line, name in imports_of(path)
        if name.split(".")[0] not in SCHEMAS_ALLOWED
    ]
    assert offenders == []


def test_eventstore_contains_no_pricing() -> None:
    """Summing persisted costs is reading; deriving a cost from tokens is not. No identifier
    in the substrate speaks of prices or per-token rates."""
    pattern = re.compile(r"price|per_token|per_million|rate_card", re.IGNORECASE)
    counted = {"unpriced_calls"}  # a count of persisted claims, not a price
    offenders = []
    for path in sources("eventstore"):
        for node in ast.walk(ast.parse(path.read_text())):
            name = (
                getattr(node, "id", None)
                or getattr(node, "attr", None)
                or getattr(node, "name", None)
            )
            if isinstance(name, str) and pattern.search(name) and name not in counted:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")  # type: ignore[attr-defined]
    assert offenders == []


def test_importing_the_trusted_layers_loads_no_userspace_and_no_io_clients() -> None:
    """At run time too: importing schemas and eventstore pulls in neither harness nor
    hypothesis, nor network clients."""
    code = (
        "import sys, schemas, eventstore; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'harness', 'hypothesis', 'litellm', 'genai_prices', 'http', 'urllib3', 'httpx', "
        "'requests'}); print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_importing_schemas_does_no_io() -> None:
    code = "import sys, schemas; print(','.join(sorted(m for m in ('sqlite3', 'anyio', 'asyncio') if m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
