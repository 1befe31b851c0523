"""``convlog mcp``: the store served to MCP clients (:mod:`harness.mcp_server`).

stdio by default, as Claude Desktop and most clients start a server; ``--http PORT`` serves
streamable HTTP on 127.0.0.1 instead. Read-only unless ``--allow-append``. In stdio mode
stdout is the protocol's: nothing else is written there. The ``mcp`` SDK (extra
``convlog[mcp]``) is imported inside the command, so ``convlog --help`` never loads it.
"""

from __future__ import annotations

import click

from ._commands import short_help
from ._store import StoreArg, store_option

__all__ = ("mcp",)


@click.command("mcp", short_help=short_help("mcp"))
@store_option
@click.option(
    "--http",
    "port",
    type=click.IntRange(1, 65535),
    metavar="PORT",
    help="Serve streamable HTTP on http://127.0.0.1:PORT/mcp instead of stdio.",
)
@click.option(
    "--allow-append",
    is_flag=True,
    help="Open the store for writing and offer an append_message tool.",
)
def mcp(store: StoreArg, port: int | None, allow_append: bool) -> None:
    """Serve the store to MCP clients: the history tools and the conversations.

    Offers list_conversation_events and get_conversation_cost, and each conversation as the
    resource convlog://conversations/ID. The store is opened read-only: nothing is written
    unless --allow-append, which adds an append_message tool. Without --http, speaks MCP on
    stdin and stdout, as a client that starts it expects.
    """
    try:
        from harness import mcp_server
    except ImportError:
        raise click.ClickException(
            "convlog mcp needs the mcp package: pip install 'convlog[mcp]'"
        ) from None
    from ._store import open_store, run

    if port is not None:
        click.echo(f"convlog mcp: serving {store.given} at http://127.0.0.1:{port}/mcp", err=True)

    async def main() -> None:
        async with open_store(store, read_only=not allow_append, create=allow_append) as opened:
            if port is None:
                await mcp_server.serve_stdio(opened, allow_append=allow_append)
            else:
                await mcp_server.serve_http(opened, port, allow_append=allow_append)

    from contextlib import suppress

    with suppress(KeyboardInterrupt):  # Ctrl-C ends a server that runs in a terminal
        run(main())
