"""``convlog show``: one conversation's events as a transcript, for people or as JSON.

Each model call's cost is the one its ``UsageRecord`` persisted; nothing is priced here.
Imported inside the command (it needs the schemas and rich).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from rich.console import Group
from rich.padding import Padding
from rich.text import Text

from eventstore import ConversationSummary
from schemas import ConversationCreated, Custom, ErrorEvent, Messages, StoredEvent

from ._output import console, cost_cell, joined, print_plain, totals_in, totals_out, when
from ._render import message_lines, usage_line

__all__ = ("print_transcript", "transcript_document")

_ROLE_STYLES = {"user": "bold green", "assistant": "bold blue", "tool": "bold cyan"}


def transcript_document(
    summary: ConversationSummary, events: Sequence[StoredEvent], children: list[str]
) -> dict[str, Any]:
    """The JSON of ``show``: the summary, the metadata, the children's ids, and every event.
    A ``messages`` event gives its messages and its usage with every field (``null`` where
    absent: a ``cost_usd`` of ``null`` is unpriced); any other event its stored ``data``."""
    entries = []
    for event in events:
        entry: dict[str, Any] = {
            "version": event.version,
            "position": event.position,
            "recorded_at": event.recorded_at,
            "session_id": event.session_id,
            "turn_id": event.turn_id,
            "harness": event.harness,
            "type": event.type,
        }
        data = event.data
        if isinstance(data, Messages):
            entry["messages"] = data.messages
            entry["response_id"] = data.response_id
            entry["usage"] = None if data.usage is None else msgspec.structs.asdict(data.usage)
        else:
            entry["data"] = msgspec.Raw(event.raw)  # one document, so line breaks are fine
        entries.append(entry)
    return {
        "conversation": summary,
        "metadata": _metadata(events),
        "children": children,
        "events": entries,
    }


def print_transcript(
    summary: ConversationSummary, events: Sequence[StoredEvent], children: list[str]
) -> None:
    """The transcript on stdout: a header with the persisted totals, then each message."""
    out = console()
    totals = summary.totals
    out.print(Text(summary.title or "(untitled)", style="bold"))
    facts = [f"id {summary.conversation_id}"]
    if summary.parent_id is not None:
        facts.append(f"parent {summary.parent_id}")
    if children:
        facts.append(f"children {', '.join(children)}")
    out.print(Text(" · ".join(facts), style="dim"))
    spend = [f"{summary.version:,} events", f"{totals.calls:,} calls"]
    if totals.calls:
        cells = (totals_in(totals, " in"), totals_out(totals, " out"), cost_cell(totals))
        spend += [joined(cell) for cell in cells]
    spend.append(f"{when(summary.created_at)} to {when(summary.updated_at)}")
    out.print(Text(" · ".join(spend), style="dim"))
    for key, value in _metadata(events).items():
        out.print(Text(f"{key}: {value}", style="dim"))
    for event in events:
        out.print()
        print_plain(_event(event), out)


def _event(event: StoredEvent) -> Group | Text:
    data = event.data
    stamp = f"  v{event.version} · {when(event.recorded_at)}"
    if isinstance(data, Messages):
        blocks: list[Text | Padding] = []
        for message in data.messages:
            blocks.append(
                Text(message.role, style=_ROLE_STYLES.get(message.role, "bold")).append(
                    stamp, style="dim"
                )
            )
            blocks.append(Padding(Group(*message_lines(message)), (0, 0, 0, 2), expand=False))
        if data.usage is not None:
            blocks.append(
                Padding(Text(usage_line(data.usage), style="dim"), (0, 0, 0, 2), expand=False)
            )
        return Group(*blocks)
    if isinstance(data, ErrorEvent):
        took = f" after {data.duration_ms:,} ms" if data.duration_ms is not None else ""
        return Text(
            f"error: {data.error_type or 'error'}: {data.message}{took}", style="red"
        ).append(stamp, style="dim")
    if isinstance(data, ConversationCreated):
        return Text("conversation created", style="dim").append(stamp, style="dim")
    if isinstance(data, Custom):
        return Text(f"custom {data.event_type}", style="dim").append(stamp, style="dim")
    return Text(f"{event.type} (a type this version does not know)", style="dim").append(
        stamp, style="dim"
    )


def _metadata(events: Sequence[StoredEvent]) -> dict[str, str]:
    first = events[0].data if events else None
    return dict(first.metadata) if isinstance(first, ConversationCreated) else {}
