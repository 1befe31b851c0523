"""Harness plugins: what a harness provides, and how convlog finds the installed ones.

A harness is a package that registers a :class:`HarnessSpec` under the entry-point group
``convlog.harnesses``, in its own ``pyproject.toml``::

    [project.entry-points."convlog.harnesses"]
    echo = "convlog_echo:HARNESS"

``convlog harnesses`` lists what is installed and ``convlog chat --harness echo`` runs it. The
built-in ``basic`` harness registers the same way (``harness.harnesses.basic:HARNESS``).

The chat command drives a harness turn by turn. It opens the store, builds a
:class:`~harness.recorder.Recorder` that records as ``"name/version"`` with the chosen prices
and hooks, starts the conversation (a ``conversation_created`` titled from the first message)
or continues the one asked for, and calls the spec's ``factory`` once with a
:class:`HarnessContext`. Then, per message the user sends, :meth:`Harness.chat_turn`: record
the user's message, answer it, hand the answer's text to ``output`` as it arrives, and return
a :class:`Turn`. The recorder is the harness's way into the store; ``context.recorder.store``
is there for reads (``replay``).

A turn that fails in a way the user should read as one line (the endpoint refused or could not
be reached) raises :class:`HarnessError`; the chat command prints it and exits 1. A model call
made through ``recorder.call`` has already recorded its ``error`` event by then.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Protocol

from schemas import ConvlogError

if TYPE_CHECKING:
    from schemas import Message, UsageRecord

    from .recorder import Recorder

__all__ = (
    "ENTRY_POINT_GROUP",
    "OPTIONS",
    "TOOL_SETS",
    "Harness",
    "HarnessContext",
    "HarnessError",
    "HarnessNotFound",
    "HarnessSpec",
    "Installed",
    "Output",
    "PluginError",
    "Turn",
    "installed",
    "load",
)

#: The entry-point group harnesses register under.
ENTRY_POINT_GROUP = "convlog.harnesses"

#: The options of :class:`HarnessContext` a spec may require (``HarnessSpec.requires``); the
#: chat command refuses to start without them (``--base-url``, ``--model``).
OPTIONS = ("base_url", "model")

#: The tool sets a harness may be asked to offer its model (``convlog chat --tools``):
#: ``history``, the tools of :mod:`harness.tools` on the conversation being had.
TOOL_SETS = ("history",)

_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")

#: Where a harness writes the answer's text as it arrives, piece by piece.
Output = Callable[[str], None]


class PluginError(ConvlogError):
    """A harness plugin cannot be used: it failed to load, or is not a :class:`HarnessSpec`."""


class HarnessNotFound(PluginError, LookupError):
    """No installed harness has that name; the message names the installed ones."""


class HarnessError(ConvlogError):
    """A harness could not start or finish a turn, for a reason a user reads as one line: a
    missing optional dependency, an endpoint that refused or could not be reached."""


@dataclass(frozen=True, kw_only=True)
class Turn:
    """What one turn produced: the answer's text, the usage of the model call as stored
    (priced; ``None`` when the turn called no model), and the answer as stored (its tool calls
    too), when the harness keeps it."""

    reply: str
    usage: UsageRecord | None = None
    message: Message | None = None


@dataclass(frozen=True, kw_only=True)
class HarnessContext:
    """What a harness is built from.

    ``recorder`` records into the chosen store as ``"name/version"``, with the chosen prices
    and hooks. ``session_id`` is one per run of the chat command: pass it with everything the
    harness records. ``base_url``, ``model`` and ``api_key`` are the chat command's options
    (``api_key`` from ``OPENAI_API_KEY``, possibly empty); those the spec ``requires`` are set.
    ``tools`` names the tool sets (of :data:`TOOL_SETS`) the user asked the harness to offer
    its model; a harness that offers none may ignore it.
    """

    recorder: Recorder
    session_id: str
    base_url: str | None = None
    model: str | None = None
    api_key: str | None = None
    tools: tuple[str, ...] = ()


class Harness(Protocol):
    """A running harness, as the spec's factory returns it."""

    async def chat_turn(self, conversation_id: str, text: str, output: Output) -> Turn:
        """Answer ``text`` in the conversation (which exists): record it as the user's
        message, then the answer, writing the answer's text to ``output`` as it arrives.

        :raises HarnessError: if the turn failed in a way to report as one line.
        """
        ...

    async def aclose(self) -> None:
        """Release what the harness holds (a client's connections); called once, at the end."""
        ...


@dataclass(frozen=True, kw_only=True)
class HarnessSpec:
    """What a ``convlog.harnesses`` entry point names.

    ``name`` (the entry point's name too) and ``version`` make the ``harness`` string recorded
    on every event, ``"name/version"``; ``summary`` is one line for ``convlog harnesses``.
    ``factory`` builds the harness from a :class:`HarnessContext`; it may raise
    :class:`HarnessError`. ``requires`` names the context options (of :data:`OPTIONS`) the
    harness cannot do without.

    :raises ValueError: if the name is not lower-case letters, digits, ``.``, ``_`` and ``-``,
        the version is not one word, the summary not one line, or ``requires`` names an
        unknown option.
    """

    name: str
    version: str
    summary: str
    factory: Callable[[HarnessContext], Harness]
    requires: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"harness name {self.name!r}: use a-z, 0-9, '.', '_' and '-'")
        if not self.version or not self.version.isprintable() or " " in self.version:
            raise ValueError(f"harness {self.name}: version {self.version!r} must be one word")
        if not self.summary.strip() or not self.summary.isprintable():
            raise ValueError(f"harness {self.name}: the summary must be one non-empty line")
        if unknown := set(self.requires) - set(OPTIONS):
            raise ValueError(
                f"harness {self.name}: requires unknown option(s) {', '.join(sorted(unknown))}"
                f"; known: {', '.join(OPTIONS)}"
            )

    @property
    def harness(self) -> str:
        """The provenance recorded on events: ``"name/version"``."""
        return f"{self.name}/{self.version}"


@dataclass(frozen=True, kw_only=True)
class Installed:
    """One registered harness: its spec, or why it could not be loaded."""

    name: str
    distribution: str | None
    spec: HarnessSpec | None = None
    error: str | None = None


def installed() -> list[Installed]:
    """Every harness registered under :data:`ENTRY_POINT_GROUP`, loaded, sorted by name.

    A plugin that fails to import, names something other than a :class:`HarnessSpec`, or whose
    spec's name differs from its entry point's comes back with ``error`` set, never raising:
    one broken plugin does not hide the others.
    """
    found = []
    for point in _points():
        try:
            spec = _load_point(point)
        except PluginError as exc:
            found.append(Installed(name=point.name, distribution=_dist(point), error=str(exc)))
        else:
            found.append(Installed(name=point.name, distribution=_dist(point), spec=spec))
    return found


def load(name: str) -> HarnessSpec:
    """The spec of the harness registered as ``name``.

    :raises HarnessNotFound: naming the installed harnesses, if none is registered so.
    :raises PluginError: if it is registered but cannot be loaded.
    """
    points = [p for p in _points() if p.name == name]
    if not points:
        names = ", ".join(p.name for p in _points()) or "none"
        raise HarnessNotFound(f"no harness {name!r} is installed; installed: {names}")
    return _load_point(points[0])


def _points() -> list[EntryPoint]:
    # One entry per name: the first on sys.path wins, as importlib.metadata finds them.
    unique: dict[str, EntryPoint] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        unique.setdefault(point.name, point)
    return sorted(unique.values(), key=lambda p: p.name)


def _load_point(point: EntryPoint) -> HarnessSpec:
    where = f"harness {point.name!r} ({point.value}"
    where += f", from {_dist(point)})" if _dist(point) else ")"
    try:
        spec = point.load()
    except Exception as exc:  # a plugin's import may fail any way; report it, do not crash
        raise PluginError(f"{where} failed to load: {type(exc).__name__}: {exc}") from exc
    if not isinstance(spec, HarnessSpec):
        raise PluginError(f"{where} is a {type(spec).__name__}, not a HarnessSpec")
    if spec.name != point.name:
        raise PluginError(f"{where} is registered as {point.name!r} but named {spec.name!r}")
    return spec


def _dist(point: EntryPoint) -> str | None:
    return point.dist.name if point.dist is not None else None
