"""``convlog conversations``, ``events``, ``show`` and ``tail``: read what the store holds.

Every command here opens the store read-only: it never creates one, and never writes. Listings
come from the store's summaries (one keyset page, whatever the store's size); ``show`` replays
one conversation's events; ``tail`` subscribes from the head. The store, the schemas and rich
are imported inside the commands (``convlog --help`` imports this module).
"""

from __future__ import annotations

import contextlib

import click

from ._commands import short_help
from ._store import StoreArg, store_option

__all__ = ("conversations", "events", "show", "tail")

_json_option = click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
_limit_option = click.option(
    "--limit",
    type=click.IntRange(1, 1000),
    default=50,
    show_default=True,
    help="At most this many per page.",
)
_cursor_option = click.option(
    "--cursor", help="Resume after the previous page (its next_cursor, or the line on stderr)."
)


@click.command(short_help=short_help("conversations"))
@click.option("--parent", "parent_id", help="Only the conversations whose parent is this id.")
@_limit_option
@_cursor_option
@_json_option
@store_option
def conversations(
    parent_id: str | None, limit: int, cursor: str | None, as_json: bool, store: StoreArg
) -> None:
    """List conversations, most recently active first, with their persisted totals.

    Tokens and cost are the summaries' sums of what each call persisted; "N unpriced" counts
    calls stored without a price, which the cost leaves out.
    """
    from ._output import (
        Cell,
        console,
        cost_cell,
        echo_json,
        echo_table,
        tokens,
        totals_in,
        totals_out,
        when,
    )
    from ._store import open_store, run

    async def main() -> None:
        async with open_store(store, read_only=True) as opened:
            page = await opened.list_conversations(limit=limit, cursor=cursor, parent_id=parent_id)
        if as_json:
            echo_json({"conversations": page.items, "next_cursor": page.next_cursor})
            return
        # On a terminal the parent goes under the title, and times lose their seconds: the
        # table must fit beside five columns of numbers. Piped, every field has its column.
        terminal = console().is_terminal
        rows: list[list[Cell]] = []
        for s in page.items:
            title: Cell = s.title or ""
            if terminal and s.parent_id is not None:
                title = (s.title or "", f"↳ {s.parent_id}")
            rows.append(
                [
                    s.conversation_id,
                    title,
                    *([] if terminal else [s.parent_id or ""]),
                    tokens(s.version),
                    tokens(s.messages),
                    tokens(s.totals.calls),
                    totals_in(s.totals),
                    totals_out(s.totals),
                    cost_cell(s.totals),
                    when(s.updated_at, seconds=not terminal),
                ]
            )
        numbers = ["events", "messages", "calls", "tokens in", "tokens out", "cost"]
        columns = ["id", "title", *([] if terminal else ["parent"]), *numbers, "last activity"]
        echo_table(columns, rows, right=numbers, wrap=["id", "title"])
        _more(page.next_cursor)

    run(main())


@click.command(short_help=short_help("events"))
@click.argument("conversation")
@click.option(
    "--type",
    "types",
    multiple=True,
    help="Only events of this type (messages, error, custom, ...); repeat for several.",
)
@click.option("--desc", is_flag=True, help="Newest first.")
@_limit_option
@_cursor_option
@_json_option
@store_option
def events(
    conversation: str,
    types: tuple[str, ...],
    desc: bool,
    limit: int,
    cursor: str | None,
    as_json: bool,
    store: StoreArg,
) -> None:
    """List a conversation's events, oldest first (--desc: newest first)."""
    from ._output import echo_json, echo_table, when
    from ._store import open_store, run

    async def main() -> None:
        async with open_store(store, read_only=True) as opened:
            page = await opened.list_events(
                conversation,
                types=list(types) or None,
                limit=limit,
                cursor=cursor,
                direction="desc" if desc else "asc",
            )
        if as_json:
            from ._lines import line_of

            items = [line_of(event) for event in page.items]
            echo_json(
                {"conversation_id": conversation, "events": items, "next_cursor": page.next_cursor}
            )
            return
        from ._render import event_summary

        rows = [
            [str(e.version), str(e.position), when(e.recorded_at), e.type, event_summary(e)]
            for e in page.items
        ]
        columns = ["v", "position", "recorded", "type", "content"]
        echo_table(columns, rows, right=["v", "position"], wrap=["content"])
        _more(page.next_cursor)

    run(main())


def _more(cursor: str | None) -> None:
    """Where the next page starts, on stderr: the table on stdout stays only the data."""
    if cursor is not None:
        from ._output import stderr_line

        stderr_line(f"next page: --cursor {cursor}")


@click.command(short_help=short_help("show"))
@click.argument("conversation")
@_json_option
@store_option
def show(conversation: str, as_json: bool, store: StoreArg) -> None:
    """Replay a conversation: every message with its tool calls and results, and for each
    model call its model, tokens, time to first token, duration and persisted cost."""
    from ._output import echo_json
    from ._store import open_store, run
    from ._transcript import print_transcript, transcript_document

    async def main() -> None:
        async with open_store(store, read_only=True) as opened:
            summary = await opened.get_conversation(conversation)
            stored = [event async for event in opened.read(conversation)]
            page = await opened.list_conversations(parent_id=conversation, limit=1000)
        children = [child.conversation_id for child in page.items]
        if as_json:
            echo_json(transcript_document(summary, stored, children))
        else:
            print_transcript(summary, stored, children)

    run(main())


@click.command(short_help=short_help("tail"))
@click.argument("conversation", required=False)
@click.option(
    "--from-position",
    type=click.IntRange(min=1),
    help="Start at this global position (catch up from there) instead of the head.",
)
@_json_option
@store_option
def tail(
    conversation: str | None, from_position: int | None, as_json: bool, store: StoreArg
) -> None:
    """Follow new events as they are stored (of one CONVERSATION, or all) until Ctrl-C.

    One line an event; --json prints JSON Lines, each an event as export writes it.
    """
    from rich.text import Text

    from ._lines import encode_line
    from ._output import console, when, write_bytes
    from ._render import event_summary
    from ._store import open_store, run

    async def main() -> None:
        out = console()
        async with open_store(store, read_only=True) as opened:
            start = from_position
            if start is None:
                head = await opened.list_conversations(limit=1)
                start = head.items[0].last_position + 1 if head.items else 1
            async for event in opened.subscribe(from_position=start):
                if conversation is not None and event.conversation_id != conversation:
                    continue
                if as_json:
                    write_bytes(encode_line(event))
                    continue
                line = Text(f"{event.position:>6} {when(event.recorded_at)} ", style="dim")
                line.append(f"{event.conversation_id} v{event.version} ", style="bold")
                line.append(f"{event.type} ", style="magenta")
                line.append(event_summary(event, width=max(40, out.width - len(line) - 1)))
                out.print(line, no_wrap=True, overflow="ellipsis")

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how tail ends: exit 0, quietly
        run(main())
