"""JSON Schema documents generated from the Structs, for harnesses in other languages.

``python -m schemas.json_schema`` rewrites ``schemas/json/``; ``--check`` exits 1 if the files
on disk differ from what the code generates (CI runs the test that does the same);
``--freeze VERSION`` copies the current schema to ``schemas/json/releases/VERSION/``, once: a
release snapshot is never rewritten (docs/compatibility.md).

``--custom MODULE:NAME`` does the same for a harness's custom-event payloads: ``NAME`` is a
mapping ``{event_type: payload Struct}`` in ``MODULE``, written one ``<event_type>.json`` each
into ``--dir`` (``--custom MODULE`` alone imports it and takes what it registered with
``schemas.register_custom``). That is how a harness keeps its own snapshots; our own schema
directory never holds a harness's payloads.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from ._custom import custom_payload_types
from ._events import Event
from ._messages import Message
from ._usage import UsageRecord
from .compat import parse_version

__all__ = (
    "RELEASES_DIR",
    "SCHEMA_DIR",
    "freeze",
    "generate",
    "generate_custom",
    "main",
    "stale",
    "write",
)

SCHEMA_DIR = Path(__file__).parent / "json"
#: Frozen snapshots, one directory per release; ``python -m schemas.compat`` reads them.
RELEASES_DIR = SCHEMA_DIR / "releases"
_DIALECT = "https://json-schema.org/draft/2020-12/schema"

#: file name -> (title, type). ``event.json`` is the one to validate ``data`` bodies against.
_DOCUMENTS: dict[str, tuple[str, Any]] = {
    "event.json": ("convlog event body", Event),
    "message.json": ("convlog message", Message),
    "usage_record.json": ("convlog usage record", UsageRecord),
}


def generate() -> dict[str, bytes]:
    """Return ``{file name: JSON bytes}`` for every schema document, deterministically."""
    return {name: _document(title, tp) for name, (title, tp) in _DOCUMENTS.items()}


def _document(title: str, tp: Any) -> bytes:
    """The pretty-printed JSON Schema document of ``tp``, with the dialect and ``title``."""
    return _pretty({"$schema": _DIALECT, "title": title, **msgspec.json.schema(tp)})


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


def generate_custom(
    payload_types: Mapping[str, type[msgspec.Struct]] | None = None,
) -> dict[str, bytes]:
    """Return ``{"<event_type>.json": JSON bytes}`` for custom-event payload types.

    ``payload_types`` defaults to everything registered with :func:`schemas.register_custom`.
    Each document is the JSON Schema of the payload alone (what ``Custom.payload`` holds).
    """
    types = custom_payload_types() if payload_types is None else payload_types
    return {f"{name}.json": _document(f"{name} payload", tp) for name, tp in sorted(types.items())}


def stale(docs: Mapping[str, bytes], directory: Path) -> list[str]:
    """Names of the documents whose file in ``directory`` is missing or different."""
    return [
        name
        for name, content in docs.items()
        if not ((directory / name).is_file() and (directory / name).read_bytes() == content)
    ]


def write(docs: Mapping[str, bytes], directory: Path) -> list[str]:
    """Write the stale documents into ``directory`` (created if needed); return their names."""
    names = stale(docs, directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        (directory / name).write_bytes(docs[name])
    return names


def freeze(docs: Mapping[str, bytes], releases: Path, version: str) -> Path:
    """Write ``docs`` as the snapshot of release ``version``: ``releases/<version>/``.

    The directory appears complete or not at all (written aside, then renamed).

    :raises FileExistsError: if that release is already frozen: snapshots are never rewritten.
    :raises ValueError: if ``version`` is not dotted integers (``0.1``, ``1.2.3``).
    """
    parse_version(version)
    target = releases / version
    if target.exists():
        raise FileExistsError(f"release {version} is already frozen at {target}")
    releases.mkdir(parents=True, exist_ok=True)
    staging = releases / f".{version}.{os.getpid()}.partial"
    staging.mkdir()  # not mkdtemp: that would make the release directory private (0700)
    try:
        for name, content in docs.items():
            (staging / name).write_bytes(content)
        os.rename(staging, target)  # fails rather than merge if target appeared meanwhile
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _payload_types(specs: list[str]) -> dict[str, type[msgspec.Struct]]:
    """``{event_type: payload type}`` from ``MODULE:NAME`` mappings and ``MODULE`` imports.

    :raises ImportError, AttributeError: if a module or name does not exist.
    :raises TypeError: if ``NAME`` is not a mapping of names to ``msgspec.Struct`` types.
    """
    found: dict[str, type[msgspec.Struct]] = {}
    for spec in specs:
        module_name, _, attribute = spec.partition(":")
        module = importlib.import_module(module_name)
        if not attribute:
            found.update(custom_payload_types())
            continue
        mapping = getattr(module, attribute)
        if not isinstance(mapping, Mapping) or not all(
            isinstance(k, str) and isinstance(v, type) and issubclass(v, msgspec.Struct)
            for k, v in mapping.items()
        ):
            raise TypeError(f"{spec} is not a mapping of event types to msgspec.Struct types")
        found.update(mapping)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m schemas.json_schema", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if files are out of date")
    parser.add_argument("--dir", type=Path, default=None, help="output directory")
    parser.add_argument(
        "--freeze",
        metavar="VERSION",
        help="freeze the (up-to-date) schema files as DIR/releases/VERSION",
    )
    parser.add_argument(
        "--custom",
        metavar="MODULE[:NAME]",
        action="append",
        help="write the custom payload types in the mapping MODULE.NAME, or those MODULE "
        "registers on import, instead of convlog's own schema (repeatable; needs --dir)",
    )
    args = parser.parse_args(argv)
    if args.custom:
        if args.dir is None:
            parser.error("--custom needs --dir: a harness's schemas live in its own directory")
        try:
            docs = generate_custom(_payload_types(args.custom))
        except (ImportError, AttributeError, TypeError) as exc:
            print(f"error: --custom: {exc}", file=sys.stderr)
            return 2
        if not docs:
            print(f"no custom payload types found in {', '.join(args.custom)}", file=sys.stderr)
            return 1
    else:
        docs = generate()
    directory: Path = SCHEMA_DIR if args.dir is None else args.dir
    if not (args.check or args.freeze):
        written = write(docs, directory)
        print("up to date" if not written else f"wrote {', '.join(written)}")
        return 0
    out_of_date = stale(docs, directory)
    if out_of_date:
        rerun = (
            "".join(f" --custom {spec}" for spec in args.custom) + f" --dir {directory}"
            if args.custom
            else ""
        )
        print(
            f"out of date: {', '.join(out_of_date)}; run python -m schemas.json_schema{rerun}",
            file=sys.stderr,
        )
        return 1
    if not args.freeze:
        print("up to date")
        return 0
    try:
        target = freeze(docs, directory / "releases", args.freeze)
    except (FileExistsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"froze {len(docs)} files as {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
