"""What the two wire formats share: the request being answered, SSE framing, and the small
interface each format module implements (:class:`Dialect`).

A format module turns a :class:`~harness.fake._script.Reply` into a complete JSON body or
into a stream of :class:`Frame` s; the server owns timing, drops and HTTP. Frames say whether
they carry content, so the server can place ``first_chunk_delay`` before the first content
frame whatever keep-alives precede it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import msgspec

from ._script import Reply, StatusError

__all__ = ("Call", "Dialect", "Frame", "comment", "event", "stop_reason")

_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True, kw_only=True)
class Call:
    """The request a reply answers: its number on the server (1, 2, ...), its decoded JSON
    body and the Unix time it arrived."""

    number: int
    body: Mapping[str, object]
    created: int

    @property
    def streamed(self) -> bool:
        """Whether the client asked for a stream (``"stream": true``)."""
        return self.body.get("stream") is True

    @property
    def request_id(self) -> str:
        """The id the response is named by, in a header and in Anthropic's error body."""
        return f"req_fake{self.number}"

    def tool_id(self, reply: Reply, index: int, *, prefix: str) -> str:
        """The id of ``reply``'s tool call ``index``: the scripted one, else ``prefix`` and
        this request's number and the index, unique on the server."""
        given = reply.tool_calls[index].id
        return given if given is not None else f"{prefix}{self.number}_{index}"

    def model(self, reply: Reply) -> str:
        """The model to report: the reply's, else the request's, else ``fake-model``."""
        if reply.model is not None:
            return reply.model
        requested = self.body.get("model")
        return requested if isinstance(requested, str) and requested else "fake-model"


def stop_reason(reply: Reply, *, tool_use: str, end_turn: str) -> str:
    """The scripted stop reason, else the provider's word for a tool call or a finished turn."""
    if reply.stop_reason is not None:
        return reply.stop_reason
    return tool_use if reply.tool_calls else end_turn


class Frame(NamedTuple):
    """Bytes of one SSE event (or comment), and whether it carries model output."""

    data: bytes
    content: bool = False


def event(data: object, *, name: str | None = None, content: bool = False) -> Frame:
    """An SSE event: an optional ``event:`` line, one ``data:`` line of compact JSON (JSON
    never holds a raw newline), and the blank line that ends it."""
    head = b"event: " + name.encode() + b"\n" if name else b""
    return Frame(head + b"data: " + _encode(data) + b"\n\n", content)


def comment(text: str) -> Frame:
    """An SSE comment line, which every conforming client ignores."""
    return Frame(b": " + text.encode() + b"\n\n")


@dataclass(frozen=True, kw_only=True)
class Dialect:
    """One provider's wire format.

    - ``complete``: the JSON body of a non-streamed reply.
    - ``stream``: the frames of a streamed reply, terminating events included.
    - ``error``: the JSON body of an error response.
    - ``request_id_header``: the header the provider names each response with.
    """

    name: str
    complete: Callable[[Reply, Call], dict[str, object]]
    stream: Callable[[Reply, Call], Iterator[Frame]]
    error: Callable[[StatusError, Call], dict[str, object]]
    request_id_header: str
