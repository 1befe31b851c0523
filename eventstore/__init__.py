"""The trusted substrate: persists events verbatim, orders them, never computes prices.

::

    async with eventstore.connect("sqlite:///convlog.db") as store:
        r = await store.append(conv_id, [Messages(...)], expected_version=NO_CONVERSATION)
        async for ev in store.read(conv_id): ...

Import ``eventstore``, never ``eventstore._something``.
"""

from ._model import ANY as ANY
from ._model import EXISTS as EXISTS
from ._model import NO_CONVERSATION as NO_CONVERSATION
from ._model import AppendResult as AppendResult
from ._model import ConversationState as ConversationState
from ._model import ConversationSummary as ConversationSummary
from ._model import Direction as Direction
from ._model import ExpectedVersion as ExpectedVersion
from ._model import Page as Page
from ._model import UsageTotals as UsageTotals
from ._model import VerifyProblem as VerifyProblem
from ._model import VerifyReport as VerifyReport
from ._store import Store as Store
from ._store import connect as connect
from .errors import ConversationNotFound as ConversationNotFound
from .errors import DuplicateEventId as DuplicateEventId
from .errors import IntegrityError as IntegrityError
from .errors import StoreClosed as StoreClosed
from .errors import StoreCorrupted as StoreCorrupted
from .errors import StoreError as StoreError
from .errors import WrongExpectedVersion as WrongExpectedVersion

__all__ = (
    "ANY",
    "EXISTS",
    "NO_CONVERSATION",
    "AppendResult",
    "ConversationNotFound",
    "ConversationState",
    "ConversationSummary",
    "Direction",
    "DuplicateEventId",
    "ExpectedVersion",
    "IntegrityError",
    "Page",
    "Store",
    "StoreClosed",
    "StoreCorrupted",
    "StoreError",
    "UsageTotals",
    "VerifyProblem",
    "VerifyReport",
    "WrongExpectedVersion",
    "connect",
)
