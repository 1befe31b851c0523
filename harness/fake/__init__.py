"""A scripted, local stand-in for the OpenAI and Anthropic model APIs: the test double for
provider code, and what ``convlog demo`` talks to, so neither needs a key or a network.

    from harness.fake import FakeProvider, Reply, StatusError, ToolCall, Usage

    script = [
        Reply(text="Hello there!", usage=Usage(prompt_tokens=12, completion_tokens=3)),
        Reply(tool_calls=(ToolCall(name="get_weather", arguments='{"city": "Paris"}'),)),
        StatusError(status=429, retry_after=1),
        Reply(text="Cut short", drop_after=1),
    ]
    with FakeProvider(script) as server:
        client = OpenAI(base_url=server.openai_base_url, api_key="test", max_retries=0)
        ...
        assert server.requests[0].body["messages"] == [...]

The server speaks the real wire formats, streamed (SSE) and not: OpenAI Chat Completions on
``POST /v1/chat/completions`` and Anthropic Messages on ``POST /v1/messages``. It binds
``127.0.0.1`` only and needs nothing beyond the standard library and msgspec; the SDKs are
the *client's* business. See ``docs/fake-provider.md``.

``python -m harness.fake [--port N] [script.json|script.toml]`` serves a script by hand.
"""

from ._script import Chunks as Chunks
from ._script import Reply as Reply
from ._script import Script as Script
from ._script import StatusError as StatusError
from ._script import Step as Step
from ._script import ToolCall as ToolCall
from ._script import Usage as Usage
from ._script import load_script as load_script
from ._server import HOST as HOST
from ._server import FakeProvider as FakeProvider
from ._server import RecordedRequest as RecordedRequest

__all__ = (
    "HOST",
    "Chunks",
    "FakeProvider",
    "RecordedRequest",
    "Reply",
    "Script",
    "StatusError",
    "Step",
    "ToolCall",
    "Usage",
    "load_script",
)
