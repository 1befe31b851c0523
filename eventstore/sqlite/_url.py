"""Parsing ``sqlite:`` store URLs and checking the SQLite backend's options, strictly.

A store URL that is almost right must never open something else: ``sqlite://convlog.db`` once
opened a throw-away in-memory store (the data gone when the process ended) and
``sqlite:convlog.db`` wrote ``onvlog.db``. So exactly these forms are accepted, and anything
else is a ``ValueError`` naming the URL and showing them:

- ``sqlite:///relative/path.db``: a file relative to the working directory;
- ``sqlite:////absolute/path.db``: an absolute path;
- ``sqlite://:memory:``: a private in-memory store, gone when it is closed.

Percent-escapes in the path are decoded (``sqlite:///my%20store.db`` is ``my store.db``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

from .._options import Durability, common

__all__ = ("MAX_BUSY_TIMEOUT", "SQLiteConfig", "parse")

#: SQLite keeps its busy timeout in milliseconds in a C int: past this it silently reads 0.
MAX_BUSY_TIMEOUT = ((1 << 31) - 1) / 1000
_FORMS = "sqlite:///relative.db, sqlite:////absolute.db or sqlite://:memory:"
_MEMORY = "sqlite://:memory:"
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_OPTIONS = ("durability", "busy_timeout", "readers", "read_only")


@dataclass(frozen=True)
class SQLiteConfig:
    """What a ``sqlite:`` URL and ``connect()``'s options open. ``path`` is ``None`` for a
    private in-memory store."""

    path: str | None
    durability: Durability = "full"
    busy_timeout: float = 5.0
    readers: int = 2
    read_only: bool = False


def parse(url: str, options: Mapping[str, object]) -> SQLiteConfig:
    """The store a ``sqlite:`` URL names, with ``connect()``'s ``options``.

    :raises ValueError: naming the URL or option, for anything but the forms above and the
        options this backend has.
    """
    if not isinstance(url, str):
        raise ValueError(f"a store URL is a str, got {type(url).__name__}")
    head, _, query = url.partition("?")
    if head[:7].lower() == "sqlite:":  # a scheme is case-insensitive; the path is not
        head = "sqlite:" + head[7:]
    if "#" in url:
        raise _malformed(url, "a URL fragment ('#...') means nothing here")
    query_options = _query(url, query)
    if head == _MEMORY:
        path = None
    elif head.startswith("sqlite:///"):
        path = _path(url, head[len("sqlite:///") :])
    elif head.startswith("sqlite://"):
        rest = head[len("sqlite://") :]
        problem = (
            "it names no file"
            if rest in ("", "/")
            else f"two slashes make {rest.split('/')[0]!r} a host, not a file"
        )
        raise _malformed(url, problem)
    else:
        raise _malformed(url, "it does not start with sqlite:/// (three slashes)")
    merged = {**query_options}
    for name, value in options.items():
        if name in merged:
            raise ValueError(f"{name} is given both in the store URL {url!r} and as an argument")
        merged[name] = value
    return _config(path, merged)


def _path(url: str, raw: str) -> str:
    if not raw:
        raise _malformed(url, "it names no file")
    if bad := _BAD_ESCAPE.search(raw):
        raise _malformed(url, f"{raw[bad.start() : bad.start() + 3]!r} is not a percent-escape")
    try:
        path = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise _malformed(url, "its percent-escapes are not UTF-8") from None
    if "\x00" in path:
        raise _malformed(url, "its path holds a NUL character")
    if path == ":memory:":
        raise _malformed(url, f"an in-memory store is spelled {_MEMORY}")
    if path.endswith("/"):
        raise _malformed(url, "it names a directory, not a file")
    return path


def _query(url: str, query: str) -> dict[str, object]:
    found: dict[str, object] = {}
    if not query:
        return found
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise _malformed(url, f"its query {query!r} is not name=value pairs") from None
    for name, value in pairs:
        if name != "durability":
            raise ValueError(
                f"unknown option {name!r} in store URL {url!r}; a sqlite URL takes durability"
            )
        if name in found:
            raise ValueError(f"option {name!r} is given twice in store URL {url!r}")
        found[name] = value
    return found


def _config(path: str | None, options: Mapping[str, object]) -> SQLiteConfig:
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise ValueError(
            f"the sqlite backend has no option {', '.join(unknown)}; it takes {', '.join(_OPTIONS)}"
        )
    shared = common(options, readers=2, max_busy_timeout=MAX_BUSY_TIMEOUT)
    read_only = shared.read_only
    if read_only and path is None:
        raise ValueError(f"a read-only {_MEMORY} store would be empty forever; open a file")
    return SQLiteConfig(
        path=path,
        durability=shared.durability,
        busy_timeout=shared.busy_timeout,
        readers=shared.readers,
        read_only=read_only,
    )


def _malformed(url: str, problem: str) -> ValueError:
    return ValueError(f"malformed store URL {url!r}: {problem}; use {_FORMS}")
