"""The store every command opens: ``--store URL_OR_PATH``, else ``CONVLOG_STORE``, else
``./convlog.db``; and the one place store errors become one-line CLI errors.

A value with ``://``, or one that starts with a scheme convlog knows and ``:``
(``sqlite:convlog.db``, ``memory:``), is a store URL, passed to :func:`eventstore.connect`
as given so that a malformed one is refused with the store's own message. Anything else is a
path: ``sqlite:///`` and its absolute path, percent-escaped, so a path with spaces or ``%`` or
``?`` names that file and nothing else.

Reading commands open with ``read_only=True``: a store that does not exist is never created.
Like every command module, this one imports only click and light standard-library modules at
its top (``convlog --help`` imports it).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    import eventstore

__all__ = ("ENV", "StoreArg", "open_store", "resolve", "run", "store_option")

ENV = "CONVLOG_STORE"
DEFAULT = "convlog.db"
#: Schemes a value is read as a URL for even without ``//``: those convlog ships or plans,
#: besides the ones installed backends register.
_KNOWN_SCHEMES = ("sqlite", "postgresql", "postgres")
_BACKENDS_GROUP = "convlog.backends"

_T = TypeVar("_T")
_F = TypeVar("_F", bound=Callable[..., object])


@dataclass(frozen=True)
class StoreArg:
    """What ``--store`` named: the ``url`` to connect to and, for a plain path, the ``path``
    (absolute) it came from, which error messages name as the user gave it in ``given``."""

    given: str
    url: str
    path: str | None = None


def resolve(value: str) -> StoreArg:
    """The store a ``--store`` value names (see the module docstring).

    :raises click.ClickException: for an empty value.
    """
    if not value:
        raise click.ClickException(f"--store (or {ENV}) is empty; give a path or a store URL")
    scheme = _scheme(value)
    if "://" in value or (scheme is not None and scheme in _schemes()):
        return StoreArg(value, value)
    from urllib.parse import quote

    path = os.path.abspath(value)
    return StoreArg(value, "sqlite:///" + quote(path, safe="/"), path)


def store_option(command: _F) -> _F:
    """``--store URL_OR_PATH`` (env ``CONVLOG_STORE``, default ``./convlog.db``), passed to the
    command as ``store``, a :class:`StoreArg`."""
    return click.option(
        "--store",
        "store",
        metavar="URL_OR_PATH",
        envvar=ENV,
        default=DEFAULT,
        show_default=True,
        callback=lambda _ctx, _param, value: resolve(value),
        help=f"The store: a path or a URL such as sqlite:///path (env {ENV}).",
    )(command)


@asynccontextmanager
async def open_store(
    store: StoreArg, *, read_only: bool, create: bool = False
) -> AsyncIterator[eventstore.Store]:
    """The store opened for reading (``read_only``: nothing is created or written) or for
    writing. A writing command that must not create one passes ``create=False``.

    :raises click.ClickException: if a path names no file and the command may not create one,
        or if the URL cannot be opened (the store's one-line reason).
    """
    import eventstore

    if not create:
        _require_file(store)
    try:
        connector = (
            eventstore.connect(store.url, read_only=True)
            if read_only
            else eventstore.connect(store.url)
        )
    except ValueError as exc:  # a malformed URL or an unknown scheme: the store says which
        raise click.ClickException(str(exc)) from None
    async with connector as opened:
        yield opened


def run(main: Coroutine[Any, Any, _T]) -> _T:
    """Run a command's coroutine ``main``; the library's errors become one line on stderr and exit 1.

    ``SchemaError`` and ``StoreError`` (with ``ConversationNotFound`` and ``IntegrityError``)
    say what is wrong in their message; a traceback would only hide it.
    """
    import asyncio

    from schemas import ConvlogError

    try:
        return asyncio.run(main)
    except ConvlogError as exc:
        raise click.ClickException(_one_line(str(exc))) from None


def _require_file(store: StoreArg) -> None:
    """A path must name an existing file (a URL's backend says so itself on a read-only open).

    :raises click.ClickException: if there is nothing at the path.
    """
    if store.path is not None and not os.path.exists(store.path):
        raise click.ClickException(
            f"no store at {store.given} (create one with convlog demo or by appending to it)"
        )


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _scheme(value: str) -> str | None:
    head, colon, _ = value.partition(":")
    if not colon or not head[:1].isalpha():
        return None
    if not all(c.isalnum() or c in "+.-" for c in head):
        return None
    return head.lower()


def _schemes() -> set[str]:
    from importlib.metadata import entry_points

    return {*_KNOWN_SCHEMES, *(ep.name for ep in entry_points(group=_BACKENDS_GROUP))}
