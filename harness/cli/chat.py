"""``convlog chat``: talk to a model through a harness plugin, every call recorded.

Registered into :data:`harness.cli.cli`. The harness (``--harness``, default ``basic``) comes
from :func:`harness.plugins.load`; this module drives it: it opens the store, builds the
recorder (prices, hooks, ``"name/version"``), starts or continues the conversation, and sends
the user's messages one turn at a time, printing the reply as it streams and a footer after it.

The harness runs on an event loop in a worker thread (an anyio blocking portal) while the main
thread reads the terminal: Ctrl-C lands in the main thread, which cancels the running turn in
the loop; the recorder then writes the call's ``error`` event before the prompt comes back.

Everything but click and the standard library is imported inside the command (see
:mod:`harness.cli`).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from ._commands import short_help
from ._store import StoreArg, store_option

if TYPE_CHECKING:
    from anyio import CancelScope
    from anyio.from_thread import BlockingPortal

    from harness.hooks import Hooks
    from harness.plugins import Harness, HarnessSpec, Turn
    from harness.pricing import PriceTable
    from harness.recorder import Recorder
    from schemas import UsageRecord

__all__ = ("chat",)

#: The longest title a new conversation takes from its first message.
TITLE_LENGTH = 80
EXIT_PROMPT = "/exit"


@click.command(short_help=short_help("chat"))
@click.option("--base-url", metavar="URL", help="The OpenAI-compatible endpoint (.../v1).")
@click.option("--model", metavar="M", help="The model to ask, as the endpoint names it.")
@click.option("--message", metavar="TEXT", help="Send one message, print the reply, exit.")
@click.option(
    "--conversation",
    "conversation_id",
    metavar="ID",
    help="Continue this conversation; its history is replayed into the request.",
)
@store_option
@click.option(
    "--prices",
    "prices_path",
    type=click.Path(),
    help="LiteLLM-format price file (default: CONVLOG_PRICES_PATH/_URL, cache, fetch).",
)
@click.option(
    "--hooks",
    "hooks_path",
    type=click.Path(),
    help="TOML file of after_llm_call command hooks (docs: harness.hooks).",
)
@click.option(
    "--harness",
    "harness_name",
    default="basic",
    show_default=True,
    help="The installed harness to chat through (convlog harnesses lists them).",
)
@click.option(
    "--tools",
    "tool_sets",
    # harness.plugins.TOOL_SETS, spelled out: this module imports only click at its top.
    type=click.Choice(["history"]),
    multiple=True,
    help="Offer the model tools: history reads this conversation's events and cost.",
)
def chat(
    base_url: str | None,
    model: str | None,
    message: str | None,
    conversation_id: str | None,
    store: StoreArg,
    prices_path: str | None,
    hooks_path: str | None,
    harness_name: str,
    tool_sets: tuple[str, ...],
) -> None:
    """Chat with a model; every call is recorded with its usage, cost and timing.

    With --message, sends one message, prints the reply on stdout and exits. Without it, in a
    terminal: a prompt; /exit or Ctrl-D ends, Ctrl-C cancels the reply being written. After
    each reply a footer on stderr gives the conversation, tokens, cost, TTFT and duration.
    The API key comes from OPENAI_API_KEY and may be empty for a local server. With --tools
    history the model may call list_conversation_events and get_conversation_cost on the
    conversation; the calls and their results are recorded like any message.
    """
    import uuid

    from harness.plugins import HarnessNotFound, PluginError, load

    from ._log import log_to_stderr

    try:
        spec = load(harness_name)
    except HarnessNotFound as exc:
        raise click.BadParameter(str(exc), param_hint="'--harness'") from None
    except PluginError as exc:
        raise click.ClickException(str(exc)) from None
    given = {"base_url": base_url, "model": model}
    for option in spec.requires:
        if not given.get(option):
            flag = "--" + option.replace("_", "-")
            raise click.UsageError(f"Missing option '{flag}' (the {spec.name} harness needs it).")
    if message is not None and not message.strip():
        raise click.BadParameter("the message is empty", param_hint="'--message'")
    if message is None and not sys.stdin.isatty():
        raise click.UsageError("No --message, and stdin is not a terminal to chat in.")
    log_to_stderr("convlog.pricing", verbose=False)
    log_to_stderr("convlog.hooks", verbose=False)
    session = _Session(
        spec,
        store.url,
        prices_path=prices_path,
        hooks_path=hooks_path,
        session_id=uuid.uuid4().hex,
        conversation_id=conversation_id,
        base_url=base_url,
        model=model,
        tools=tool_sets,
    )
    session.run(message)


class _Writer:
    """Writes a reply to stdout as it streams, remembering whether a line is open."""

    def __init__(self) -> None:
        self.open_line = False

    def __call__(self, text: str) -> None:
        if text:
            click.echo(text, nl=False)
            self.open_line = not text.endswith("\n")

    def end_line(self) -> None:
        if self.open_line:
            click.echo()
            self.open_line = False


class _Session:
    """One run of the command: opens the store, builds the recorder and the harness on a
    portal's event loop, then sends one message or runs the prompt."""

    def __init__(
        self,
        spec: HarnessSpec,
        url: str,
        *,
        prices_path: str | None,
        hooks_path: str | None,
        session_id: str,
        conversation_id: str | None,
        base_url: str | None,
        model: str | None,
        tools: tuple[str, ...] = (),
    ) -> None:
        self.spec = spec
        self.tools = tools
        self.url = url
        self.prices_path = prices_path
        self.hooks_path = hooks_path
        self.session_id = session_id
        self.conversation_id = conversation_id
        self.base_url = base_url
        self.model = model

    def run(self, message: str | None) -> None:
        from contextlib import ExitStack

        from anyio.from_thread import start_blocking_portal

        import eventstore
        from harness.plugins import HarnessContext, HarnessError
        from harness.recorder import Recorder

        prices, hooks = self._prices(), self._hooks()
        with start_blocking_portal() as portal, ExitStack() as stack:
            try:
                store = stack.enter_context(
                    portal.wrap_async_context_manager(eventstore.connect(self.url))
                )
                if self.conversation_id is not None:
                    portal.call(store.get_conversation, self.conversation_id)
            except eventstore.ConversationNotFound:
                raise click.ClickException(
                    f"no conversation {self.conversation_id!r} in {self.url}"
                ) from None
            except (ValueError, OSError, eventstore.StoreError) as exc:
                raise click.ClickException(f"cannot open the store {self.url}: {exc}") from None
            recorder = Recorder(store, harness=self.spec.harness, prices=prices, hooks=hooks)
            context = HarnessContext(
                recorder=recorder,
                session_id=self.session_id,
                base_url=self.base_url,
                model=self.model,
                api_key=os.environ.get("OPENAI_API_KEY", ""),
                tools=self.tools,
            )
            try:
                harness = portal.call(self.spec.factory, context)
            except HarnessError as exc:
                raise click.ClickException(str(exc)) from None
            stack.callback(portal.call, harness.aclose)
            chat = _Chat(portal, recorder, harness, self.session_id, self.conversation_id)
            if message is not None:
                _send_one(chat, message)
            else:
                _prompt(chat, f"{self.spec.harness}{f' · {self.model}' if self.model else ''}")

    def _prices(self) -> PriceTable | None:
        """The table of ``--prices``; else ``None``: the recorder loads ``load_prices()`` on
        the first call it prices, so a harness that calls no model never loads one."""
        if self.prices_path is None:
            return None
        from harness.pricing import PriceTableError, read_prices

        try:
            return read_prices(self.prices_path)
        except PriceTableError as exc:
            raise click.ClickException(f"cannot use --prices {self.prices_path}: {exc}") from None

    def _hooks(self) -> Hooks | None:
        if self.hooks_path is None:
            return None
        from harness.hooks import load_hooks

        try:
            return load_hooks(self.hooks_path)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None


def _send_one(chat: _Chat, text: str) -> None:
    """``--message``: one turn; a failure exits 1, Ctrl-C exits 130."""
    try:
        turn = chat.send(text)
    except _TurnFailed as exc:
        raise click.ClickException(str(exc)) from None
    if turn is None:
        click.echo(f"cancelled (conversation {chat.conversation_id})", err=True)
        click.get_current_context().exit(130)


def _prompt(chat: _Chat, who: str) -> None:
    """The interactive loop: a failed or cancelled turn returns to the prompt."""
    where = f"conversation {chat.conversation_id}" if chat.conversation_id else "a new conversation"
    _dim(f"{who} · {where} · {EXIT_PROMPT} or Ctrl-D to end, Ctrl-C cancels a reply")
    while True:
        try:
            line = input("> ")
        except EOFError:
            click.echo()
            return
        except KeyboardInterrupt:  # at the prompt: drop the line
            click.echo()
            continue
        text = line.strip()
        if text == EXIT_PROMPT:
            return
        if not text:
            continue
        try:
            turn = chat.send(text)
        except _TurnFailed as exc:
            click.echo(f"Error: {exc}", err=True)
            continue
        except KeyboardInterrupt:  # a second Ctrl-C, or one outside the turn itself
            turn = None
        if turn is None:
            _dim("cancelled")


class _Chat:
    """A harness ready for turns, on the portal's loop, and the conversation they go to."""

    def __init__(
        self,
        portal: BlockingPortal,
        recorder: Recorder,
        harness: Harness,
        session_id: str,
        conversation_id: str | None,
    ) -> None:
        self.portal = portal
        self.recorder = recorder
        self.harness = harness
        self.session_id = session_id
        self.conversation_id = conversation_id

    def send(self, text: str) -> Turn | None:
        """One turn, printed as it streams, then its footer; the conversation is started
        first if there is none. ``None`` when Ctrl-C cancelled the turn: it returns once the
        harness has let go (the recorder has written the call's ``error`` event).

        :raises _TurnFailed: with the line to show, if the harness, a hook or the store failed.
        """
        import anyio

        import eventstore
        from harness.plugins import HarnessError
        from harness.recorder import CallVetoed

        portal, write = self.portal, _Writer()
        try:
            if self.conversation_id is None:
                self.conversation_id = portal.call(self._start, text)
            cid, harness = self.conversation_id, self.harness
            scope: CancelScope = portal.call(anyio.CancelScope)

            async def turn() -> Turn | None:
                with scope:
                    return await harness.chat_turn(cid, text, write)
                return None  # cancelled: the scope took the cancellation

            future = portal.start_task_soon(turn)
            try:
                result = future.result()
            except KeyboardInterrupt:  # Ctrl-C lands in this thread; the turn runs in the loop's
                portal.call(scope.cancel)
                result = future.result()
        except (HarnessError, CallVetoed, eventstore.StoreError) as exc:
            write.end_line()
            raise _TurnFailed(f"{exc} (conversation {self.conversation_id})") from exc
        write.end_line()
        if result is not None:
            _dim(_footer(cid, result.usage))
        return result

    async def _start(self, text: str) -> str:
        """A new conversation, titled from its first message."""
        title = " ".join(text.split())
        if len(title) > TITLE_LENGTH:
            title = title[: TITLE_LENGTH - 1] + "…"
        return await self.recorder.start(title=title, session_id=self.session_id)


class _TurnFailed(Exception):
    """A turn failed; the message is the one line to show."""


def _footer(conversation_id: str, usage: UsageRecord | None) -> str:
    """The line shown after a reply: conversation, tokens, cost as persisted, TTFT, duration."""
    if usage is None:
        return f"conversation {conversation_id} · no model call"
    from decimal import Decimal

    parts = [
        f"conversation {conversation_id}",
        f"{usage.prompt_tokens or 0:,} in / {usage.completion_tokens or 0:,} out tokens",
        "unpriced" if usage.cost_usd is None else f"${Decimal(repr(usage.cost_usd)).normalize():f}",
        "TTFT -" if usage.ttft_ms is None else f"TTFT {usage.ttft_ms:,} ms",
        "- ms" if usage.duration_ms is None else f"{usage.duration_ms:,} ms",
    ]
    return " · ".join(parts)


def _dim(text: str) -> None:
    click.echo(click.style(text, dim=True), err=True)
