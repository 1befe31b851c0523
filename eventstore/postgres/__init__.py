"""The PostgreSQL backend (``postgresql:`` and ``postgres:`` URLs, on asyncpg: the
``postgres`` extra): one history for many workers on many hosts. See ``_backend`` for how it
writes, ``_sql`` for its tables and the global order, ``_url`` for the URLs it opens.

``connect()`` imports this module by the URL's scheme and calls :func:`create_backend`, as it
does for any backend. asyncpg is imported when the store opens, not here.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._backend import PostgresBackend as PostgresBackend
from ._url import parse

__all__ = ("PostgresBackend", "create_backend")


def create_backend(url: str, options: Mapping[str, object]) -> PostgresBackend:
    """A backend for a ``postgresql:`` URL, not yet opened.

    :raises ValueError: naming the URL (password hidden) or option, if it is malformed.
    """
    return PostgresBackend(parse(url, options))
