"""Each package's ``__all__`` names exactly what it exports, and every name imports.

Users import ``schemas``, ``eventstore`` and ``harness`` (and the public submodules below),
never ``._something``; ``__all__`` is that contract.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["schemas", "eventstore", "harness"]
# Public modules below the packages, each with its own __all__.
SUBMODULES = [
    "harness.agents_session",
    "harness.cli",
    "harness.fake",
    "harness.hooks",
    "harness.mcp_server",
    "harness.plugins",
    "harness.pricing",
    "harness.providers",
    "harness.providers.anthropic",
    "harness.providers.bedrock",
    "harness.providers.gemini",
    "harness.providers.litellm",
    "harness.providers.openai_chat",
    "harness.providers.openai_responses",
    "harness.providers.openrouter",
    "harness.recorder",
    "harness.spend",
    "harness.tools",
    "schemas.compat",
    "schemas.json_schema",
    "schemas.strategies",
    "schemas.types",
]


@pytest.mark.parametrize("name", PACKAGES + SUBMODULES)
def test_all_is_a_sorted_tuple_of_unique_strings(name):
    module = importlib.import_module(name)
    exported = module.__all__
    assert isinstance(exported, tuple)
    assert all(isinstance(n, str) for n in exported)
    assert len(set(exported)) == len(exported), "duplicates in __all__"


@pytest.mark.parametrize("name", PACKAGES + SUBMODULES)
def test_every_name_in_all_exists_and_star_import_works(name):
    module = importlib.import_module(name)
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert missing == []
    namespace: dict[str, object] = {}
    exec(f"from {name} import *", namespace)  # the import a user would write
    assert set(module.__all__) <= set(namespace)


@pytest.mark.parametrize("name", PACKAGES)
def test_every_public_name_a_package_defines_is_in_all(name):
    """Nothing public is exported by accident: re-exports (``from ._x import y as y``) and
    public definitions in ``__init__`` are all listed."""
    tree = ast.parse((ROOT / name / "__init__.py").read_text())
    defined: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level >= 1:
            defined.update(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.Assign):
            defined.update(t.id for t in node.targets if isinstance(t, ast.Name))
    public = {n for n in defined if not n.startswith("_")}
    module = importlib.import_module(name)
    assert public == set(module.__all__)


@pytest.mark.parametrize("name", SUBMODULES)
def test_public_submodules_export_only_what_they_define_publicly(name):
    module = importlib.import_module(name)
    source = ast.parse(Path(module.__file__ or "").read_text())
    defined: set[str] = set()
    for node in source.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            defined.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.ImportFrom):
            defined.update(a.asname or a.name for a in node.names)
    public = {n for n in defined if not n.startswith("_") and n.isidentifier()}
    undeclared = public - set(module.__all__)
    # Module-level helpers imported for use (``from pathlib import Path``) are not exports.
    imported = {
        a.asname or a.name
        for node in source.body
        if isinstance(node, ast.ImportFrom | ast.Import)
        for a in node.names
    }
    assert undeclared - imported == set()


def test_importing_schemas_imports_neither_hypothesis_nor_the_tools():
    code = (
        "import sys, schemas\n"
        "leaked = {'hypothesis', 'schemas.strategies', 'schemas.compat', 'schemas.json_schema'}"
        " & set(sys.modules)\n"
        "assert not leaked, leaked\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
