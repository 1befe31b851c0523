"""``after_llm_call`` hooks: Python callables and command hooks, run after each recorded call.

A hook gets the :class:`CallPayload` of a call the recorder has just appended: conversation,
session and turn ids, model, provider, the usage as stored, and ``cost``, which is the very
value persisted (absent when the call is unpriced, ``0`` when it was priced free). A hook may
return :class:`Veto` to stop further calls in that conversation (the budget hook does).

A hook that raises, fails or hangs past its timeout is logged and skipped: the event it saw is
already stored, and nothing a hook does can lose it.

Command hooks come from a TOML file; each gets the payload as one JSON document on stdin::

    [[after_llm_call]]
    command = ["python", "ledger.py", "costs.csv"]
    timeout = 5          # seconds, default 10

A command that exits 3 vetoes further calls; its stdout's first line is the reason.
"""

from __future__ import annotations

import inspect
import logging
import os
import tomllib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import msgspec

from schemas import UsageRecord

__all__ = (
    "VETO_EXIT_CODE",
    "CallPayload",
    "CommandHook",
    "Hook",
    "Hooks",
    "Veto",
    "budget_hook",
    "load_hooks",
)

_log = logging.getLogger("convlog.hooks")

#: The exit status with which a command hook vetoes further calls.
VETO_EXIT_CODE = 3


class CallPayload(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What ``after_llm_call`` hooks get. ``cost`` is the persisted ``usage.cost_usd``:
    absent (``None``) when the call is unpriced, ``0.0`` when it was priced free."""

    conversation_id: str
    session_id: str | None = None
    turn_id: str | None = None
    model: str
    provider: str | None = None
    usage: UsageRecord
    cost: float | None = None


@dataclass(frozen=True)
class Veto:
    """Returned by a hook: no further calls in this conversation, for ``reason``."""

    reason: str


#: A Python hook: called with the payload, sync or async; returns ``None`` or a :class:`Veto`.
Hook = Callable[[CallPayload], "Veto | Awaitable[Veto | None] | None"]


@dataclass(frozen=True)
class CommandHook:
    """A program run with the payload as JSON on stdin. Exit status 3 vetoes further calls
    (stdout's first line is the reason); any other failure is logged."""

    command: Sequence[str]
    timeout: float = 10.0

    async def __call__(self, payload: CallPayload) -> Veto | None:
        data = msgspec.json.encode(payload)
        try:
            with anyio.fail_after(self.timeout):
                done = await anyio.run_process(
                    list(self.command), input=data, check=False, env=dict(os.environ)
                )
        except TimeoutError:
            _log.warning("hook %s timed out after %ss; skipped", self._name, self.timeout)
            return None
        except OSError as exc:
            _log.warning("hook %s could not run: %s", self._name, exc)
            return None
        if done.returncode == VETO_EXIT_CODE:
            first = done.stdout.decode(errors="replace").strip().splitlines()
            return Veto(first[0] if first else f"vetoed by {self._name}")
        if done.returncode != 0:
            err = done.stderr.decode(errors="replace").strip().splitlines()
            _log.warning(
                "hook %s exited %s%s", self._name, done.returncode, f": {err[-1]}" if err else ""
            )
        return None

    @property
    def _name(self) -> str:
        return " ".join(self.command)[:80]


@dataclass
class Hooks:
    """The ``after_llm_call`` hooks a recorder runs, in order."""

    after_llm_call: list[Hook | CommandHook] = field(default_factory=list)

    async def run_after_llm_call(self, payload: CallPayload) -> Veto | None:
        """Run every hook; the first veto wins, but every hook still runs. A hook that
        raises is logged and skipped."""
        veto: Veto | None = None
        for hook in self.after_llm_call:
            try:
                outcome = hook(payload)
                if inspect.isawaitable(outcome):
                    outcome = await outcome
            except Exception as exc:
                _log.warning("after_llm_call hook %r failed: %s: %s", hook, type(exc).__name__, exc)
                continue
            if isinstance(outcome, Veto) and veto is None:
                veto = outcome
        return veto


def load_hooks(path: str | os.PathLike[str]) -> Hooks:
    """Command hooks from a TOML file (see the module docstring).

    :raises ValueError: naming the file and the entry, if it is not of that form.
    """
    where = Path(path)
    try:
        config = tomllib.loads(where.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read hooks from {where}: {exc}") from None
    unknown = set(config) - {"after_llm_call"}
    if unknown:
        raise ValueError(f"{where}: unknown hook kind(s) {', '.join(sorted(unknown))}")
    hooks = Hooks()
    entries = config.get("after_llm_call", [])
    if not isinstance(entries, list):
        raise ValueError(f"{where}: after_llm_call must be an array of tables ([[after_llm_call]])")
    for i, entry in enumerate(entries):
        hooks.after_llm_call.append(_command_hook(entry, f"{where}: after_llm_call[{i}]"))
    return hooks


def _command_hook(entry: Any, where: str) -> CommandHook:
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected a table")
    command = entry.get("command")
    if isinstance(command, str):
        command = [command]
    if not (isinstance(command, list) and command and all(isinstance(c, str) for c in command)):
        raise ValueError(f"{where}.command: expected a non-empty list of strings")
    timeout = entry.get("timeout", 10.0)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise ValueError(f"{where}.timeout: expected a number of seconds > 0, got {timeout!r}")
    if extra := set(entry) - {"command", "timeout"}:
        raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(extra))}")
    return CommandHook(tuple(command), float(timeout))


def budget_hook(
    spent: Callable[[str], Awaitable[float | None]], limit_usd: float
) -> Callable[[CallPayload], Awaitable[Veto | None]]:
    """A hook that vetoes further calls once a conversation's persisted spend passes
    ``limit_usd``. ``spent(conversation_id)`` returns that spend (the recorder's
    :meth:`~harness.recorder.Recorder.spent` reads it from the store, children included).

    :raises ValueError: if ``limit_usd`` is not a finite number >= 0.
    """
    if (
        isinstance(limit_usd, bool)
        or not isinstance(limit_usd, int | float)
        or not (0 <= limit_usd < float("inf"))
    ):
        raise ValueError(f"limit_usd must be a finite number >= 0, got {limit_usd!r}")

    async def check(payload: CallPayload) -> Veto | None:
        total = await spent(payload.conversation_id)
        if total is not None and total > limit_usd:
            return Veto(
                f"budget: conversation {payload.conversation_id!r} has spent ${total:.6f}, "
                f"past its limit of ${limit_usd:.6f}"
            )
        return None

    return check
