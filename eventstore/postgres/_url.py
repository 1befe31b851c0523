"""Parsing ``postgresql:`` store URLs and checking the PostgreSQL backend's options, strictly.

The URL is libpq's (``postgresql://user:password@host:port/database?...``, also spelled
``postgres://``); the connection part is handed to asyncpg unchanged. Two query parameters
are the store's own and are taken out first: ``schema`` (the PostgreSQL schema that holds the
store, default ``convlog``) and ``durability``. Every message that quotes a URL shows it with
its password replaced by ``***``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .._options import Durability, common

__all__ = ("DEFAULT_SCHEMA", "PostgresConfig", "parse", "redact")

DEFAULT_SCHEMA = "convlog"
#: A schema name is an unquoted identifier: lower case, so that ``psql`` users type it as is;
#: at most 50 characters, so that the notification channel named after it fits in 63.
_SCHEMA = re.compile(r"[a-z_][a-z0-9_]{0,49}")
_OPTIONS = ("durability", "busy_timeout", "readers", "read_only", "schema")
_OWN_QUERY = ("durability", "schema")
#: The longest a lock wait may be set to: PostgreSQL's ``lock_timeout`` is an int of ms.
MAX_BUSY_TIMEOUT = ((1 << 31) - 1) / 1000


@dataclass(frozen=True)
class PostgresConfig:
    """What a ``postgresql:`` URL and ``connect()``'s options open.

    ``dsn`` is the URL asyncpg connects with (the store's own parameters removed), ``shown``
    the URL as messages quote it (no password)."""

    dsn: str
    shown: str
    schema: str = DEFAULT_SCHEMA
    durability: Durability = "full"
    busy_timeout: float = 5.0
    readers: int = 4
    read_only: bool = False


def redact(url: str) -> str:
    """``url`` with the password, if any, replaced by ``***``."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        return "<a malformed URL>"


def parse(url: str, options: Mapping[str, object]) -> PostgresConfig:
    """The store a ``postgresql:`` URL names, with ``connect()``'s ``options``.

    :raises ValueError: naming the URL (password hidden) or option, if either is malformed.
    """
    if not isinstance(url, str):
        raise ValueError(f"a store URL is a str, got {type(url).__name__}")
    shown = redact(url)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError as exc:
        raise ValueError(f"malformed store URL {shown!r}: {exc}") from None
    if parts.scheme.lower() not in ("postgresql", "postgres"):
        raise ValueError(f"malformed store URL {shown!r}: expected postgresql://")
    if parts.fragment:
        raise ValueError(f"malformed store URL {shown!r}: a fragment ('#...') means nothing here")
    try:
        pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise ValueError(
            f"malformed store URL {shown!r}: its query is not name=value pairs"
        ) from None
    own: dict[str, object] = {}
    passed: list[tuple[str, str]] = []
    for name, value in pairs:
        if name in _OWN_QUERY:
            if name in own:
                raise ValueError(f"option {name!r} is given twice in store URL {shown!r}")
            own[name] = value
        else:
            passed.append((name, value))
    for option, given in options.items():
        if option in own:
            raise ValueError(
                f"{option} is given both in the store URL {shown!r} and as an argument"
            )
        own[option] = given
    dsn = urlunsplit(parts._replace(query=urlencode(passed)))
    return _config(dsn, redact(dsn), own)


def _config(dsn: str, shown: str, options: Mapping[str, object]) -> PostgresConfig:
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise ValueError(
            f"the postgresql backend has no option {', '.join(unknown)}; it takes "
            f"{', '.join(_OPTIONS)}"
        )
    schema = options.get("schema", DEFAULT_SCHEMA)
    if not isinstance(schema, str) or not _SCHEMA.fullmatch(schema):
        raise ValueError(
            f"schema must be a lower-case identifier (a-z, 0-9, _; at most 50 characters, not "
            f"starting with a digit), got {schema!r}"
        )
    shared = common(options, readers=4, max_busy_timeout=MAX_BUSY_TIMEOUT)
    return PostgresConfig(
        dsn=dsn,
        shown=shown,
        schema=schema,
        durability=shared.durability,
        busy_timeout=shared.busy_timeout,
        readers=shared.readers,
        read_only=shared.read_only,
    )
