"""Histories in each provider's canonical shape: what that provider can carry, written the
way its adapter reads it back. ``messages_from_<x>(to_<x>(history)) == history`` must hold
for every history drawn here."""

from __future__ import annotations

import base64
from typing import Any

import msgspec
from hypothesis import strategies as st

from schemas import (
    ImagePart,
    Message,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    UnknownPart,
)
from schemas.strategies import json_values, unknown_parts

text = st.text(max_size=20)
ids = st.text(min_size=1, max_size=12)


def json_object_text() -> st.SearchStrategy[str]:
    """Tool-call arguments a provider that wants an object (Anthropic, Gemini, Bedrock) can
    carry: a JSON object, written compactly (the form read back from an object)."""
    objects = st.dictionaries(st.text(max_size=8), json_values(max_leaves=4), max_size=3)
    return objects.map(lambda v: msgspec.json.encode(v).decode())


def base64_data() -> st.SearchStrategy[str]:
    return st.binary(max_size=24).map(lambda b: base64.b64encode(b).decode())


nothing: st.SearchStrategy[None] = st.none()
media_types = st.sampled_from(["image/png", "image/jpeg", "image/gif", "image/webp"])
web_urls = st.sampled_from(["https://example.com/a.png", "https://cdn.example.org/x/y.jpg"])


def inline_images(detail: st.SearchStrategy[str | None] = nothing) -> st.SearchStrategy[ImagePart]:
    return st.builds(ImagePart, data=base64_data(), media_type=media_types, detail=detail)


def url_images(
    urls: st.SearchStrategy[str] = web_urls,
    detail: st.SearchStrategy[str | None] = nothing,
    media_type: st.SearchStrategy[str | None] = nothing,
) -> st.SearchStrategy[ImagePart]:
    return st.builds(ImagePart, url=urls, detail=detail, media_type=media_type)


def text_parts() -> st.SearchStrategy[TextPart]:
    return st.builds(TextPart, text=text)


def tool_calls(arguments: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[ToolCallPart]:
    args = arguments if arguments is not None else (json_object_text() | text)
    return st.builds(ToolCallPart, id=ids, name=ids, arguments=args)


def unknown(exclude: frozenset[str] = frozenset()) -> st.SearchStrategy[UnknownPart]:
    """Unknown parts whose ``type`` the provider does not map to a known part."""
    return unknown_parts().filter(lambda p: p.type not in exclude)


def keyed_unknown(provider: str, reserved: frozenset[str]) -> st.SearchStrategy[UnknownPart]:
    """Unknown parts as Bedrock and Gemini keep them: ``{"type": "<provider>.k", k: value}``."""
    kinds = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=10)
    kinds = kinds.filter(lambda k: k not in reserved)
    return st.builds(
        lambda k, v: UnknownPart({"type": f"{provider}.{k}", k: v}),
        kinds,
        st.dictionaries(st.text(max_size=5), json_values(max_leaves=3), max_size=2),
    )


def history(
    turn: st.SearchStrategy[Message],
    system: st.SearchStrategy[Message] | None = None,
    max_size: int = 5,
) -> st.SearchStrategy[list[Message]]:
    """Alternating turns, optionally after one system message."""
    turns = st.lists(turn, max_size=max_size)
    if system is None:
        return turns
    return st.builds(lambda s, t: [*s, *t], st.lists(system, max_size=1), turns)


def message(
    role: str, content: st.SearchStrategy[Any], **fields: Any
) -> st.SearchStrategy[Message]:
    return st.builds(Message, role=st.just(role), content=content, **fields)


def reasoning_signed() -> st.SearchStrategy[ReasoningPart]:
    """Reasoning as Anthropic, Bedrock and LiteLLM carry it: text with an optional signature,
    or redacted data alone."""
    return st.builds(ReasoningPart, text=text, signature=st.none() | text) | st.builds(
        ReasoningPart, encrypted=base64_data()
    )


def tool_results(content: st.SearchStrategy[Any]) -> st.SearchStrategy[ToolResultPart]:
    return st.builds(ToolResultPart, tool_call_id=ids, content=content, is_error=st.booleans())
