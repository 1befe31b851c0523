"""An OpenAI Agents SDK session kept in a convlog store: :class:`ConvlogSession`.

``Runner.run(agent, text, session=ConvlogSession("user-42", store, model="gpt-4o"))`` keeps
the agent's history in convlog, so it gains usage, cost, replay, ``verify``, the CLI and any
backend (PostgreSQL) for free. The class satisfies the SDK's ``Session`` protocol
(``get_items``, ``add_items``, ``pop_item``, ``clear_session``), each with the optional
``wrapper`` argument through which the runner hands over its run context.

How it is stored, in one conversation per session (``conversation_id``, by default the session
id), through the store's public API only:

- ``add_items`` appends one ``messages`` event, one :class:`~schemas.Message` per item. An
  item a message carries exactly (``{"role", "content": "text"}``, a plain
  ``function_call_output``) is that message; any other item (the SDK's output messages,
  function calls, reasoning, ...) is kept whole, byte for byte, as the one part
  ``{"type": "openai_agents.item", "item": {...}}`` of a message with the item's role, so
  ``get_items`` returns exactly what was added. The first append starts the conversation with
  its ``conversation_created`` event.
- The store is append-only. ``pop_item`` appends a ``custom`` event ``openai_agents.pop``
  naming the item it retracts (its event's version and its index there); ``clear_session``
  appends ``openai_agents.clear``. History keeps what happened; ``get_items`` shows the
  current view: the items after the last clear, less the popped ones.
- A retried ``add_items`` does not duplicate: the event's id is derived from the conversation,
  the version it takes and the items (UUIDv5), and a call whose items are already the
  conversation's last event (a write that committed though its caller saw an error) appends
  nothing. So two calls in a row with identical items, with nothing between them, store them
  once. Concurrent calls on one conversation are ordered by the expected version, each retried
  on a conflict.
- Usage: with the runner's ``wrapper``, the requests its ``usage.request_usage_entries`` gained
  since this session last looked land on this call's event as a priced
  :class:`~schemas.UsageRecord` (``model`` as given here: the SDK's usage does not name it),
  one record a model call; a batch that follows more than one call gets an empty ``messages``
  event per earlier call, so ``calls`` and cost count every one.

The ``openai-agents`` package is the extra ``convlog[agents]``; this module imports it only to
read settings.
"""

from __future__ import annotations

import hashlib
import uuid
import weakref
from collections.abc import Callable
from importlib.metadata import version as package_version
from typing import TYPE_CHECKING, Any, cast

import msgspec

import eventstore
from harness.pricing import PriceTable, apply_price, load_prices
from schemas import (
    ConversationCreated,
    Custom,
    Message,
    Messages,
    SchemaError,
    StoredEvent,
    UnknownPart,
    UsageRecord,
    check_new,
)
from schemas.types import check_new_id

if TYPE_CHECKING:
    from agents import RunContextWrapper, TResponseInputItem
    from agents.memory import Session, SessionSettings

__all__ = ("CLEAR_EVENT", "ITEM_PART", "POP_EVENT", "ConvlogSession")

#: The part type that keeps an SDK item whole.
ITEM_PART = "openai_agents.item"
#: The ``custom`` event that retracts one item: ``{"version": V, "index": I}``.
POP_EVENT = "openai_agents.pop"
#: The ``custom`` event after which the session's view starts empty.
CLEAR_EVENT = "openai_agents.clear"

_NAMESPACE = uuid.UUID("5b0c6a4e-8f4d-4c55-9a43-1d2a6f1e7c01")
_MAX_CONFLICTS = 100
_READ_PAGE = 1000
_encode = msgspec.json.Encoder(order="sorted").encode


class ConvlogSession:
    """The session ``session_id`` in ``store`` (see the module).

    ``conversation_id``: the conversation that holds it (default: ``session_id``, which must
    then be a valid new conversation id). ``model`` and ``provider`` name the model of the
    usage records (the SDK's usage does not); ``prices`` prices them (default
    :func:`harness.pricing.load_prices`, loaded on the first record). ``session_settings`` is
    the SDK's (``limit``: how many latest items ``get_items`` returns by default).

    :raises SchemaError: if the conversation id is not a valid new id.
    """

    def __init__(
        self,
        session_id: str,
        store: eventstore.Store,
        *,
        conversation_id: str | None = None,
        model: str = "unknown",
        provider: str | None = "openai",
        prices: PriceTable | None = None,
        harness: str | None = None,
        session_settings: SessionSettings | dict[str, Any] | None = None,
    ) -> None:
        from agents.memory.session_settings import SessionSettings, coerce_session_settings

        self.session_id = session_id
        self.conversation_id = conversation_id or session_id
        check_new_id(self.conversation_id, "$.conversation_id")
        self.store = store
        self.model = model
        self.provider = provider
        self.harness = harness or f"openai-agents/{package_version('openai-agents')}"
        self.session_settings: SessionSettings | None = (
            coerce_session_settings(session_settings)
            if session_settings is not None
            else SessionSettings()
        )
        self._prices = prices
        # Per run context: how many of its request usage entries are already recorded.
        self._usage_seen: dict[int, tuple[weakref.ref[Any], int]] = {}

    # -- the Session protocol ----------------------------------------------------------------

    async def get_items(
        self, limit: int | None = None, *, wrapper: RunContextWrapper[Any] | None = None
    ) -> list[TResponseInputItem]:
        """The current items, oldest first: all, or the latest ``limit`` (default the
        settings' limit)."""
        from agents.memory.session_settings import resolve_session_limit

        limit = resolve_session_limit(limit, self.session_settings)
        if limit is not None and limit <= 0:
            return []
        found = await self._latest(limit)
        return [cast("TResponseInputItem", item) for _, _, item in reversed(found)]

    async def add_items(
        self,
        items: list[TResponseInputItem],
        *,
        wrapper: RunContextWrapper[Any] | None = None,
    ) -> None:
        """Append ``items`` (one ``messages`` event), with the usage of the model calls the
        run made since the last call, once even if retried (see the module)."""
        usages, mark_seen = self._new_usage(wrapper)
        if not items and not usages:
            return
        messages = [_to_message(cast("dict[str, Any]", item)) for item in items]
        digest = hashlib.sha256(_encode(items)).hexdigest()
        bodies: list[Messages] = [Messages(messages=[], usage=u) for u in usages[:-1]]
        bodies.append(Messages(messages=messages, usage=usages[-1] if usages else None))
        conflict: eventstore.StoreError | None = None
        for _ in range(_MAX_CONFLICTS):
            head = await self._head()
            current = head.version if head is not None else 0
            if head is not None and head.id == self._id(head.version, digest):
                mark_seen()
                return  # a retry of a write that committed
            events: list[Any] = list(bodies)
            ids: list[uuid.UUID] = []
            if current == 0:
                events.insert(0, ConversationCreated(metadata={"session_id": self.session_id}))
                ids.append(self._id(1, "created"))
            first = current + len(ids) + 1
            ids += [self._id(first + i, digest) for i in range(len(bodies))]
            try:
                await self.store.append(
                    self.conversation_id,
                    events,
                    expected_version=current,
                    event_ids=ids,
                    session_id=_session(self.session_id),
                    harness=self.harness,
                )
            except (eventstore.WrongExpectedVersion, eventstore.DuplicateEventId) as exc:
                # Another writer got there first (a concurrent first append stores the same
                # conversation_created id): look again.
                conflict = exc
                continue
            mark_seen()
            return
        assert conflict is not None  # the loop ran, and every round conflicted
        raise conflict

    async def pop_item(
        self, *, wrapper: RunContextWrapper[Any] | None = None
    ) -> TResponseInputItem | None:
        """Retract the latest item and return it (``None`` if there is none): a
        ``openai_agents.pop`` event naming it."""
        conflict: eventstore.WrongExpectedVersion | None = None
        for _ in range(_MAX_CONFLICTS):
            head = await self._head()
            if head is None:
                return None
            found = await self._latest(1)
            if not found:
                return None
            ((at_version, index, item),) = found
            pop = Custom(event_type=POP_EVENT, payload={"version": at_version, "index": index})
            try:
                await self._append_marker(pop, head.version)
            except eventstore.WrongExpectedVersion as exc:
                conflict = exc
                continue
            return cast("TResponseInputItem", item)
        assert conflict is not None  # the loop ran, and every round conflicted
        raise conflict

    async def clear_session(self, *, wrapper: RunContextWrapper[Any] | None = None) -> None:
        """Empty the view: a ``openai_agents.clear`` event (the history stays)."""
        head = await self._head()
        if head is None:
            return
        await self._append_marker(Custom(event_type=CLEAR_EVENT, payload={}), None)

    # -- reading and writing ------------------------------------------------------------------

    # Reads go through list_events, which returns pages: no async generator is left to
    # finalise on an event loop the runner may already have shut down (run_sync reuses one).

    async def _head(self) -> StoredEvent | None:
        """The conversation's last event, ``None`` before the first."""
        page = await self.store.list_events(self.conversation_id, limit=1, direction="desc")
        return page.items[0] if page.items else None

    async def _latest(self, limit: int | None) -> list[tuple[int, int, dict[str, Any]]]:
        """The current items, newest first, at most ``limit``: ``(version, index, item)``."""
        found: list[tuple[int, int, dict[str, Any]]] = []
        popped: set[tuple[int, int]] = set()
        cursor = None
        while True:
            page = await self.store.list_events(
                self.conversation_id, limit=_READ_PAGE, cursor=cursor, direction="desc"
            )
            for event in page.items:
                data = event.data
                if isinstance(data, Custom):
                    if data.event_type == CLEAR_EVENT:
                        return found
                    if data.event_type == POP_EVENT and isinstance(data.payload, dict):
                        popped.add((data.payload.get("version"), data.payload.get("index")))  # type: ignore[arg-type]
                    continue
                if not isinstance(data, Messages):
                    continue
                for index in range(len(data.messages) - 1, -1, -1):
                    if (event.version, index) in popped:
                        continue
                    found.append((event.version, index, _to_item(data.messages[index])))
                    if limit is not None and len(found) >= limit:
                        return found
            if page.next_cursor is None:
                return found
            cursor = page.next_cursor

    async def _append_marker(self, marker: Custom, expected: int | None) -> None:
        await self.store.append(
            self.conversation_id,
            [marker],
            expected_version=eventstore.ANY if expected is None else expected,
            session_id=_session(self.session_id),
            harness=self.harness,
        )

    def _id(self, version: int, digest: str) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, f"{self.conversation_id}\0{version}\0{digest}")

    # -- usage --------------------------------------------------------------------------------

    def _new_usage(
        self, wrapper: RunContextWrapper[Any] | None
    ) -> tuple[list[UsageRecord], Callable[[], None]]:
        """The usage records of the run's requests not recorded yet, priced, and the function
        that marks them recorded (once their event is stored)."""
        if wrapper is None:
            return [], lambda: None
        entries = list(wrapper.usage.request_usage_entries)
        key = id(wrapper)
        known = self._usage_seen.get(key)
        seen = known[1] if known is not None and known[0]() is wrapper else 0

        def mark_seen() -> None:
            alive = {k: v for k, v in self._usage_seen.items() if v[0]() is not None}
            alive[key] = (weakref.ref(wrapper), len(entries))
            self._usage_seen = alive

        return [self._record(entry) for entry in entries[seen:]], mark_seen

    def _record(self, entry: Any) -> UsageRecord:
        """One request's usage as a priced record; detail counts the whole does not cover
        (a provider's inconsistency) are left out rather than refused."""
        details, out_details = entry.input_tokens_details, entry.output_tokens_details
        record = UsageRecord(
            model=self.model,
            provider=self.provider,
            prompt_tokens=entry.input_tokens,
            completion_tokens=entry.output_tokens,
            prompt_cached_tokens=getattr(details, "cached_tokens", None) or None,
            prompt_cache_creation_tokens=getattr(details, "cache_write_tokens", None) or None,
            completion_reasoning_tokens=getattr(out_details, "reasoning_tokens", None) or None,
        )
        try:
            check_new(Messages(messages=[], usage=record))
        except SchemaError:
            record = UsageRecord(
                model=self.model,
                provider=self.provider,
                prompt_tokens=entry.input_tokens,
                completion_tokens=entry.output_tokens,
            )
        if self._prices is None:
            self._prices = load_prices()
        return apply_price(record, self._prices)


# -- items and messages ------------------------------------------------------------------------


def _to_message(item: dict[str, Any]) -> Message:
    """The message that carries ``item``: itself where a message says exactly the same,
    else the item kept whole in one part."""
    role = item.get("role")
    content = item.get("content")
    if item.keys() == {"role", "content"} and _role(role) and isinstance(content, str):
        return Message(role=cast("str", role), content=content)
    if (
        item.keys() == {"type", "call_id", "output"}
        and item["type"] == "function_call_output"
        and isinstance(item["call_id"], str)
        and isinstance(item["output"], str)
    ):
        return Message(role="tool", tool_call_id=item["call_id"], content=item["output"])
    kind = item.get("type")
    if _role(role):
        who = cast("str", role)
    elif isinstance(kind, str) and kind.endswith("_output"):
        who = "tool"
    else:
        who = "assistant"
    return Message(role=who, content=[UnknownPart({"type": ITEM_PART, "item": item})])  # type: ignore[list-item]


def _to_item(message: Message) -> dict[str, Any]:
    """The item ``message`` carries (:func:`_to_message` backwards); a message another writer
    appended becomes the plainest item that says it."""
    content = message.content
    if isinstance(content, list) and len(content) == 1:
        part = content[0]
        if isinstance(part, UnknownPart) and part.type == ITEM_PART:
            item = part.data.get("item")
            if isinstance(item, dict):
                return item
    if message.role == "tool" and message.tool_call_id is not None and isinstance(content, str):
        return {"type": "function_call_output", "call_id": message.tool_call_id, "output": content}
    if isinstance(content, str) or content is None:
        return {"role": message.role, "content": content or ""}
    from harness.providers.openai_responses import to_openai_responses_input

    try:
        items = to_openai_responses_input([message])
    except ValueError:
        items = []
    if len(items) == 1:
        return items[0]
    text = " ".join(
        getattr(p, "text", "") for p in content if isinstance(getattr(p, "text", None), str)
    )
    return {"role": message.role, "content": text}


def _role(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 64


def _session(session_id: str) -> str | None:
    """The session id as the store's correlation id, when it is a valid one."""
    try:
        check_new_id(session_id, "$.session_id")
    except SchemaError:
        return None
    return session_id


if TYPE_CHECKING:

    def _is_a_session(session: ConvlogSession) -> Session:
        """mypy checks here that the class satisfies the SDK's protocol."""
        return session
