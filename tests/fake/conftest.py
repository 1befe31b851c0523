"""Fixtures for the fake provider's tests: a fresh server per test, and the real SDK clients
pointed at it with retries off (the SDKs retry 429 and 5xx by themselves) and a dummy key."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import anthropic
import openai
import pytest

from harness.fake import FakeProvider

KEY = "test-key-not-a-secret"
USER = [{"role": "user", "content": "Hello?"}]


@pytest.fixture
def server() -> Iterator[FakeProvider]:
    with FakeProvider() as running:
        yield running


@pytest.fixture(scope="module")
def shared_server() -> Iterator[FakeProvider]:
    """One server for a module's property tests: each example adds the step it consumes."""
    with FakeProvider() as running:
        yield running


def openai_client(server: FakeProvider) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.openai_base_url, api_key=KEY, max_retries=0)


def anthropic_client(server: FakeProvider) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.anthropic_base_url, api_key=KEY, max_retries=0)


@pytest.fixture
def oai(server: FakeProvider) -> Iterator[openai.OpenAI]:
    with openai_client(server) as client:
        yield client


@pytest.fixture
def claude(server: FakeProvider) -> Iterator[anthropic.Anthropic]:
    with anthropic_client(server) as client:
        yield client


@pytest.fixture
async def async_oai(server: FakeProvider) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(base_url=server.openai_base_url, api_key=KEY, max_retries=0)
    async with client:
        yield client


@pytest.fixture
async def async_claude(server: FakeProvider) -> AsyncIterator[anthropic.AsyncAnthropic]:
    client = anthropic.AsyncAnthropic(
        base_url=server.anthropic_base_url, api_key=KEY, max_retries=0
    )
    async with client:
        yield client


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
