"""Which backend module serves a store URL, by its scheme.

The store never names a backend: as anyio imports ``anyio._backends._<name>`` for the event
loop it is asked for, :func:`load` imports the module registered for a URL's scheme and
``connect()`` calls that module's ``create_backend`` (see ``eventstore.backend``).

Built-in schemes are listed here. A third-party backend registers its scheme under the
entry-point group ``convlog.backends`` in its own package metadata, naming its module::

    [project.entry-points."convlog.backends"]
    memory = "my_package.memory_backend"

A built-in scheme cannot be taken over by an entry point.
"""

from __future__ import annotations

import importlib
import re
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from .backend import BackendModule

__all__ = ("ENTRY_POINT_GROUP", "load", "schemes")

ENTRY_POINT_GROUP = "convlog.backends"
_BUILT_IN = {
    "sqlite": "eventstore.sqlite",
    "postgresql": "eventstore.postgres",
    "postgres": "eventstore.postgres",
}
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")


def _registered() -> list[tuple[str, str]]:
    """(scheme, module) of every backend packages register. Imported here, not at the top:
    ``importlib.metadata`` costs a process more to import than the built-in schemes need."""
    from importlib.metadata import entry_points

    return [(ep.name, ep.value) for ep in entry_points(group=ENTRY_POINT_GROUP)]


def schemes() -> list[str]:
    """Every scheme this installation can open: the built-in ones, then the registered."""
    registered = sorted({name for name, _ in _registered()} - _BUILT_IN.keys())
    return [*_BUILT_IN, *registered]


def load(url: str) -> BackendModule:
    """The backend module for ``url``'s scheme, imported.

    :raises ValueError: naming the schemes this installation supports, if the URL has no
        scheme or an unknown one.
    """
    match = _SCHEME.match(url) if isinstance(url, str) else None
    if match is None:
        raise ValueError(
            f"store URL {url!r} has no scheme; expected one of: "
            f"{', '.join(f'{s}:' for s in schemes())} (e.g. sqlite:///convlog.db)"
        )
    scheme = match.group(1).lower()
    name = _BUILT_IN.get(scheme)
    if name is None:
        found = [module for registered, module in _registered() if registered == scheme]
        if not found:
            raise ValueError(
                f"no backend for the scheme {scheme!r} of store URL {url!r}; this installation "
                f"supports: {', '.join(schemes())}"
            )
        name = found[0]
    module = importlib.import_module(name)
    if not callable(getattr(module, "create_backend", None)):
        raise ValueError(f"backend module {name!r} for {scheme}: defines no create_backend()")
    return cast("BackendModule", module)
