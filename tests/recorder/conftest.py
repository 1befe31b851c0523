"""Fixtures of the recorder's tests: a store, the fake provider, the real SDK clients pointed
at it (retries off: the SDKs retry 429 and 5xx themselves), and the LiteLLM price subset."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anthropic
import openai
import pytest

import eventstore
from harness.fake import FakeProvider
from harness.pricing import PriceTable, read_prices
from harness.recorder import Recorder

KEY = "test-key-not-a-secret"
PRICES = Path(__file__).parents[1] / "fixtures" / "litellm_prices_subset.json"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def prices() -> PriceTable:
    return read_prices(PRICES)


@pytest.fixture
def server() -> Iterator[FakeProvider]:
    with FakeProvider() as running:
        yield running


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[eventstore.Store]:
    async with eventstore.connect(f"sqlite:///{tmp_path}/convlog.db") as opened:
        yield opened


@pytest.fixture
def recorder(store: eventstore.Store, prices: PriceTable) -> Recorder:
    return Recorder(store, harness="test-harness/1.0", prices=prices)


@pytest.fixture
async def oai(server: FakeProvider) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        base_url=server.openai_base_url, api_key=KEY, max_retries=0
    ) as client:
        yield client


@pytest.fixture
async def claude(server: FakeProvider) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with anthropic.AsyncAnthropic(
        base_url=server.anthropic_base_url, api_key=KEY, max_retries=0
    ) as client:
        yield client
