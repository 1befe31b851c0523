"""JSON Schema documents generated from the Structs, for harnesses in other languages.

``python -m schemas.json_schema`` rewrites ``schemas/json/``; ``--check`` exits 1 if the files
on disk differ from what the code generates (CI runs the test that does the same).
"""

from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path
from typing import Any

import msgspec

from ._events import Event
from ._messages import Message
from ._usage import UsageRecord

__all__ = ("SCHEMA_DIR", "generate", "main")

SCHEMA_DIR = Path(__file__).parent / "json"
_DIALECT = "https://json-schema.org/draft/2020-12/schema"

#: file name -> (title, type). ``event.json`` is the one to validate ``data`` bodies against.
_DOCUMENTS: dict[str, tuple[str, Any]] = {
    "event.json": ("convlog event body", Event),
    "message.json": ("convlog message", Message),
    "usage_record.json": ("convlog usage record", UsageRecord),
}


def generate() -> dict[str, bytes]:
    """Return ``{file name: JSON bytes}`` for every schema document, deterministically."""
    out: dict[str, bytes] = {}
    for name, (title, tp) in _DOCUMENTS.items():
        schema = msgspec.json.schema(tp)
        doc = {"$schema": _DIALECT, "title": title, **schema}
        out[name] = _pretty(doc)
    return out


def _pretty(doc: Any) -> bytes:
    return msgspec.json.format(msgspec.json.encode(_sorted(doc)), indent=2) + b"\n"


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: inspect.cleandoc(v) if k == "description" and isinstance(v, str) else _sorted(v)
            for k, v in sorted(value.items())
        }
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m schemas.json_schema", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if files are out of date")
    parser.add_argument("--dir", type=Path, default=SCHEMA_DIR, help="output directory")
    args = parser.parse_args(argv)
    stale = []
    for name, content in generate().items():
        path = args.dir / name
        if path.exists() and path.read_bytes() == content:
            continue
        stale.append(name)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
    if args.check and stale:
        print(
            f"out of date: {', '.join(stale)}; run python -m schemas.json_schema", file=sys.stderr
        )
        return 1
    print("up to date" if not stale else f"wrote {', '.join(stale)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
