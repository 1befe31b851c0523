"""Every command of ``convlog``: the module of ``harness.cli`` that defines it, and the line
``convlog --help`` lists it with.

``convlog --help`` reads this table instead of importing the command modules, and a command's
module is imported only when that command runs; each command takes its ``short_help`` from
here, so the listing and the command say the same. Data only: no imports.
"""

from __future__ import annotations

__all__ = ("COMMANDS", "HELP", "short_help")

#: What ``convlog --help`` says of the program, under its usage line.
HELP = "convlog: an event-sourced conversation store for LLM agents."

#: name -> (module, short help). A short help fits the listing's 80 columns: 55 characters.
COMMANDS: dict[str, tuple[str, str]] = {
    "conversations": ("browse", "List conversations, their tokens and persisted cost."),
    "events": ("browse", "List one conversation's events."),
    "show": ("browse", "Replay a conversation: messages, tool calls, costs."),
    "cost": ("cost", "Sum persisted cost and tokens, by model, day, ..."),
    "tail": ("browse", "Follow new events as they are stored, until Ctrl-C."),
    "export": ("transfer", "Write events as JSON Lines, envelopes and stored JSON."),
    "import": ("transfer", "Append the events of an export file (idempotent)."),
    "verify": ("check", "Check every hash chain and summary; print the digest."),
    "rebuild-summaries": ("check", "Recompute every conversation's summary from its events."),
    "prices": ("prices", "Inspect prices, refresh their cache, price one usage."),
    "harnesses": ("harnesses", "List the installed harness plugins."),
    "chat": ("chat", "Chat with a model through a harness, recording calls."),
    "demo": ("demo", "Record a scripted agent conversation, no key needed."),
    "mcp": ("serve", "Serve the store to MCP clients: tools and resources."),
}


def short_help(name: str) -> str:
    """The line ``convlog --help`` lists the command ``name`` with."""
    return COMMANDS[name][1]
