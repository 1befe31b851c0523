"""The convlog wire contract: typed, frozen event bodies and their codec. No I/O.

Everything public is re-exported here; import ``schemas``, never ``schemas._something``.
"""

from ._codec import check_new as check_new
from ._codec import decode as decode
from ._codec import encode as encode
from ._codec import encode_checked as encode_checked
from ._custom import custom_payload_types as custom_payload_types
from ._custom import custom_registration as custom_registration
from ._custom import register_custom as register_custom
from ._custom import unregister_custom as unregister_custom
from ._envelope import StoredEvent as StoredEvent
from ._errors import ConvlogError as ConvlogError
from ._errors import SchemaError as SchemaError
from ._events import EVENT_TYPES as EVENT_TYPES
from ._events import Body as Body
from ._events import ConversationCreated as ConversationCreated
from ._events import Custom as Custom
from ._events import ErrorEvent as ErrorEvent
from ._events import Event as Event
from ._events import Messages as Messages
from ._events import UnknownEvent as UnknownEvent
from ._messages import AnyPart as AnyPart
from ._messages import ImagePart as ImagePart
from ._messages import Message as Message
from ._messages import Part as Part
from ._messages import ReasoningPart as ReasoningPart
from ._messages import TextPart as TextPart
from ._messages import ToolCallPart as ToolCallPart
from ._messages import ToolResultPart as ToolResultPart
from ._messages import UnknownPart as UnknownPart
from ._usage import UsageRecord as UsageRecord

__all__ = (
    "EVENT_TYPES",
    "AnyPart",
    "Body",
    "ConversationCreated",
    "ConvlogError",
    "Custom",
    "ErrorEvent",
    "Event",
    "ImagePart",
    "Message",
    "Messages",
    "Part",
    "ReasoningPart",
    "SchemaError",
    "StoredEvent",
    "TextPart",
    "ToolCallPart",
    "ToolResultPart",
    "UnknownEvent",
    "UnknownPart",
    "UsageRecord",
    "check_new",
    "custom_payload_types",
    "custom_registration",
    "decode",
    "encode",
    "encode_checked",
    "register_custom",
    "unregister_custom",
)
