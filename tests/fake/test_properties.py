"""Round trips through the real SDKs, for any script: whatever text, chunking, tool arguments
and usage a step holds, the SDK's own accumulators give it back exactly."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import anthropic
import msgspec
import openai
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.fake import FakeProvider, Reply, ToolCall, Usage
from harness.fake._script import pieces

from .conftest import USER, anthropic_client, openai_client

# Any text, cut anywhere, empty pieces included.
chunkings = st.lists(st.text(max_size=20), max_size=8).map(tuple)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
objects = st.dictionaries(st.text(max_size=8), json_values, max_size=4)


@st.composite
def split(draw: st.DrawFn, text: str) -> tuple[str, ...]:
    """``text`` cut at any set of positions."""
    cuts = sorted(draw(st.sets(st.integers(0, len(text)), max_size=6)))
    bounds = [0, *cuts, len(text)]
    return tuple(text[a:b] for a, b in itertools.pairwise(bounds))


@st.composite
def usages(draw: st.DrawFn) -> Usage:
    count = st.integers(0, 10**7)
    cached, written, fresh = draw(count), draw(count), draw(count)
    written_1h = draw(st.integers(0, written))
    completion = draw(count)
    return Usage(
        prompt_tokens=cached + written + fresh,
        completion_tokens=completion,
        cached_tokens=cached,
        cache_creation_tokens=written,
        cache_creation_1h_tokens=written_1h,
        reasoning_tokens=draw(st.integers(0, completion)),
    )


@pytest.fixture(scope="module")
def oai(shared_server: FakeProvider) -> Iterator[openai.OpenAI]:
    with openai_client(shared_server) as client:
        yield client


@pytest.fixture(scope="module")
def claude(shared_server: FakeProvider) -> Iterator[anthropic.Anthropic]:
    with anthropic_client(shared_server) as client:
        yield client


@given(text=st.text())
def test_a_string_is_streamed_as_pieces_that_join_back(text):
    assert "".join(pieces(text)) == text


@given(chunks=chunkings)
def test_any_chunking_reassembles_exactly_through_openai(shared_server, oai, chunks):
    shared_server.add(Reply(text=chunks))
    stream = oai.chat.completions.create(model="m", messages=USER, stream=True)
    received = [c.choices[0].delta.content for c in stream if c.choices]
    assert "".join(t or "" for t in received) == "".join(chunks)
    assert received[1:-1] == list(chunks)  # one delta per piece, in order


@given(chunks=chunkings)
def test_any_chunking_reassembles_exactly_through_anthropic(shared_server, claude, chunks):
    shared_server.add(Reply(text=chunks))
    with claude.messages.stream(model="m", max_tokens=1, messages=USER) as stream:
        received = list(stream.text_stream)
        message = stream.get_final_message()
    assert received == list(chunks)
    assert "".join(b.text for b in message.content if b.type == "text") == "".join(chunks)


@given(data=st.data(), arguments=objects)
def test_any_tool_arguments_cut_anywhere_are_rebuilt_by_both_stream_helpers(
    shared_server, oai, claude, data, arguments
):
    text = msgspec.json.encode(arguments).decode()
    call = ToolCall(name="f", arguments=data.draw(split(text)))
    shared_server.add(Reply(tool_calls=(call,)), Reply(tool_calls=(call,)))

    with oai.chat.completions.stream(model="m", messages=USER) as stream:
        (received,) = stream.get_final_completion().choices[0].message.tool_calls or []
    assert received.function.arguments == text
    with claude.messages.stream(model="m", max_tokens=1, messages=USER) as events:
        (block,) = events.get_final_message().content
    assert block.type == "tool_use"
    assert block.input == arguments


@given(usage=usages())
def test_any_usage_reads_back_from_both_sdks_in_their_own_shapes(shared_server, oai, claude, usage):
    shared_server.add(Reply(text="x", usage=usage), Reply(text="x", usage=usage))

    stream = oai.chat.completions.create(
        model="m", messages=USER, stream=True, stream_options={"include_usage": True}
    )
    reported = [c.usage for c in stream if c.usage is not None]
    assert len(reported) == 1
    (got,) = reported
    assert (got.prompt_tokens, got.completion_tokens) == (
        usage.prompt_tokens,
        usage.completion_tokens,
    )
    assert got.prompt_tokens_details is not None
    assert got.prompt_tokens_details.cached_tokens == usage.cached_tokens
    assert got.completion_tokens_details is not None
    assert got.completion_tokens_details.reasoning_tokens == usage.reasoning_tokens

    with claude.messages.stream(model="m", max_tokens=1, messages=USER) as events:
        additive = events.get_final_message().usage
    assert additive.cache_creation is not None
    assert (
        additive.input_tokens
        + (additive.cache_read_input_tokens or 0)
        + (additive.cache_creation_input_tokens or 0)
    ) == usage.prompt_tokens
    assert additive.cache_read_input_tokens == usage.cached_tokens
    assert (
        additive.cache_creation.ephemeral_5m_input_tokens
        + additive.cache_creation.ephemeral_1h_input_tokens
    ) == usage.cache_creation_tokens
    assert additive.cache_creation.ephemeral_1h_input_tokens == usage.cache_creation_1h_tokens
    assert additive.output_tokens == usage.completion_tokens
