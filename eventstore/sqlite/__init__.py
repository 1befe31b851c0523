"""The SQLite backend (``sqlite:`` URLs): embedded, durable, safe for several processes on
one file. See ``_backend`` for how it writes, ``_url`` for the URLs it opens.

``connect()`` imports this module by the URL's scheme and calls :func:`create_backend`, as it
does for any backend.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._backend import SQLiteBackend as SQLiteBackend
from ._url import parse

__all__ = ("SQLiteBackend", "create_backend")


def create_backend(url: str, options: Mapping[str, object]) -> SQLiteBackend:
    """A backend for a ``sqlite:`` URL (see ``eventstore.sqlite._url`` for its forms), not yet
    opened.

    :raises ValueError: naming the URL or option, if it is malformed or not supported.
    """
    return SQLiteBackend(parse(url, options))
