"""The store served to MCP clients (Claude Desktop, IDEs, any agent): ``convlog mcp``.

Built on the official ``mcp`` SDK's low-level :class:`mcp.server.lowlevel.Server` (extra
``convlog[mcp]``), so the tools keep the JSON Schemas :mod:`harness.tools` defines:

- **tools**: ``list_conversation_events`` and ``get_conversation_cost``, the very tools the
  ``basic`` harness offers its model; their output is the tool's JSON, as text and as
  structured content. A wrong argument is a tool error (``isError``) naming it in one line.
- **resources**: every conversation, ``convlog://conversations/{conversation_id}`` (the id
  percent-encoded), listed most recently active first a page at a time; reading one gives its
  summary (title, parent, event count, usage and persisted cost) and its newest events in the
  tools' compact form, bounded as they are.
- **read-only by default**: the store is opened read-only (nothing is created, locked or
  written). With ``allow_append`` (``--allow-append``) one more tool, ``append_message``,
  appends a message to a conversation (starting it if need be), recorded as
  ``convlog-mcp/<version>``.

Transports: stdio (:func:`serve_stdio`) and streamable HTTP on 127.0.0.1 only
(:func:`serve_http`), with the SDK's DNS-rebinding protection for localhost.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any
from urllib.parse import quote, unquote

import mcp_types as types
import msgspec
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError

import eventstore
from schemas import ConversationCreated, ConvlogError, Message, Messages

from . import tools

__all__ = (
    "APPEND_MESSAGE",
    "APPEND_MESSAGE_PARAMETERS",
    "HOST",
    "RESOURCE_EVENTS",
    "RESOURCE_PREFIX",
    "build_server",
    "resource_uri",
    "serve_http",
    "serve_stdio",
)

HOST = "127.0.0.1"
RESOURCE_PREFIX = "convlog://conversations/"
#: Newest events a conversation resource holds; the tool pages through the rest.
RESOURCE_EVENTS = 20
_PAGE = 50
_encode = msgspec.json.encode

APPEND_MESSAGE_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "conversation_id": {"type": "string", "minLength": 1, "maxLength": 200},
        "role": {"enum": ["user", "assistant", "system", "developer"]},
        "content": {"type": "string", "description": "The message's text."},
        "title": {
            "type": "string",
            "description": "The title of the conversation, when this message starts it.",
        },
    },
    "required": ["conversation_id", "role", "content"],
    "additionalProperties": False,
}

#: The tool ``--allow-append`` adds: append one text message to a conversation.
APPEND_MESSAGE = types.Tool(
    name="append_message",
    description=(
        "Append one text message to a conversation in the convlog store, starting the "
        "conversation if it has no events yet. The store is append-only: nothing is replaced."
    ),
    input_schema=APPEND_MESSAGE_PARAMETERS,
)


def resource_uri(conversation_id: str) -> str:
    """The resource URI of a conversation."""
    return RESOURCE_PREFIX + quote(conversation_id, safe="")


def build_server(store: eventstore.Store, *, allow_append: bool = False) -> Server[Any]:
    """An MCP server over ``store`` (see the module); ``allow_append`` adds ``append_message``."""
    harness = f"convlog-mcp/{version('convlog')}"
    offered = [
        types.Tool(name=t.name, description=t.description, input_schema=t.parameters)
        for t in tools.TOOLS
    ]
    if allow_append:
        offered.append(APPEND_MESSAGE)

    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=offered)

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        arguments = params.arguments or {}
        try:
            if allow_append and params.name == APPEND_MESSAGE.name:
                output = await _append(store, arguments, harness)
            else:
                output = msgspec.json.decode(await tools.call(store, params.name, arguments))
        except tools.ToolError as exc:
            return _error(tools.error_text(exc))
        except ConvlogError as exc:  # the store refused a write, say: one line
            return _error(_encode({"error": " ".join(str(exc).split())}).decode())
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=_encode(output).decode())],
            structured_content=output,
        )

    async def list_resources(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        cursor = params.cursor if params is not None else None
        page = await store.list_conversations(limit=_PAGE, cursor=cursor)
        return types.ListResourcesResult(
            resources=[_resource(summary) for summary in page.items],
            next_cursor=page.next_cursor,
        )

    async def list_templates(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        template = types.ResourceTemplate(
            name="conversation",
            uri_template=RESOURCE_PREFIX + "{conversation_id}",
            description="A conversation: its summary, usage, cost and newest events.",
            mime_type="application/json",
        )
        return types.ListResourceTemplatesResult(resource_templates=[template])

    async def read_resource(
        ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        if not uri.startswith(RESOURCE_PREFIX):
            raise MCPError(
                types.INVALID_PARAMS, f"uri: not a convlog conversation ({RESOURCE_PREFIX}ID)"
            )
        conversation_id = unquote(uri[len(RESOURCE_PREFIX) :])
        try:
            summary = await store.get_conversation(conversation_id)
            newest = await tools.list_conversation_events(
                store, {"conversation_id": conversation_id, "limit": RESOURCE_EVENTS}
            )
        except (ConvlogError, tools.ToolError) as exc:
            raise MCPError(types.INVALID_PARAMS, " ".join(str(exc).split())) from None
        document = {
            "conversation": _summary(summary),
            "newest_events": newest["events"],
            "more": newest["next"],
        }
        return types.ReadResourceResult(
            contents=[
                types.TextResourceContents(
                    uri=uri, mime_type="application/json", text=_encode(document).decode()
                )
            ]
        )

    return Server(
        "convlog",
        version=version("convlog"),
        instructions=(
            "A convlog conversation store: each conversation's events with the usage, cost "
            "and timing of every model call. list_conversation_events pages through events; "
            "get_conversation_cost sums tokens and cost by model. Conversations are resources."
        ),
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_list_resource_templates=list_templates,
        on_read_resource=read_resource,
    )


async def serve_stdio(store: eventstore.Store, *, allow_append: bool = False) -> None:
    """Serve ``store`` over this process's stdin and stdout until the client goes away."""
    from mcp.server.stdio import stdio_server

    server = build_server(store, allow_append=allow_append)
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


async def serve_http(
    store: eventstore.Store, port: int, *, allow_append: bool = False, path: str = "/mcp"
) -> None:
    """Serve ``store`` over streamable HTTP at ``http://127.0.0.1:PORT/mcp`` until cancelled.
    Bound to the loopback interface only: the store's history is not for the network."""
    import uvicorn

    server = build_server(store, allow_append=allow_append)
    app = server.streamable_http_app(streamable_http_path=path, host=HOST)
    config = uvicorn.Config(app, host=HOST, port=port, log_level="warning")
    await uvicorn.Server(config).serve()


async def _append(
    store: eventstore.Store, arguments: dict[str, Any], harness: str
) -> dict[str, Any]:
    for key in arguments:
        if key not in APPEND_MESSAGE_PARAMETERS["properties"]:
            raise tools.ToolError(str(key)[:60], "unknown argument")
    for key in APPEND_MESSAGE_PARAMETERS["required"]:
        if not isinstance(arguments.get(key), str):
            raise tools.ToolError(key, "required, a string")
    role = arguments["role"]
    if role not in APPEND_MESSAGE_PARAMETERS["properties"]["role"]["enum"]:
        raise tools.ToolError(
            "role", f"expected user, assistant, system or developer: {role!r:.60}"
        )
    title = arguments.get("title")
    if title is not None and not isinstance(title, str):
        raise tools.ToolError("title", "expected a string")
    conversation_id = arguments["conversation_id"]
    message = Messages(messages=[Message(role=role, content=arguments["content"])])
    try:
        await store.get_conversation(conversation_id)
        events: list[Any] = [message]
        expected: Any = eventstore.EXISTS
    except eventstore.ConversationNotFound:
        events = [ConversationCreated(title=title), message]
        expected = eventstore.NO_CONVERSATION
    result = await store.append(conversation_id, events, expected_version=expected, harness=harness)
    return {"conversation_id": conversation_id, "version": result.version}


def _error(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True)


def _summary(summary: eventstore.ConversationSummary) -> dict[str, Any]:
    totals = summary.totals
    return {
        "conversation_id": summary.conversation_id,
        "title": summary.title,
        "parent_id": summary.parent_id,
        "events": summary.version,
        "created_at": summary.created_at.isoformat().replace("+00:00", "Z"),
        "updated_at": summary.updated_at.isoformat().replace("+00:00", "Z"),
        "calls": totals.calls,
        "unpriced_calls": totals.unpriced_calls,
        "prompt_tokens": totals.prompt_tokens,
        "completion_tokens": totals.completion_tokens,
        "cost_usd": totals.cost_usd,
    }


def _resource(summary: eventstore.ConversationSummary) -> types.Resource:
    totals = summary.totals
    cost = "unpriced" if totals.cost_usd is None else f"${totals.cost_usd:.6f}"
    return types.Resource(
        uri=resource_uri(summary.conversation_id),
        name=summary.conversation_id,
        title=(summary.title or None) and summary.title[:200],
        description=f"{summary.version} events, {totals.calls} model calls, {cost}",
        mime_type="application/json",
    )
