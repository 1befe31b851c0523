"""Helpers the provider tests share: captured fixtures and the store's own round trip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import schemas
from schemas import Message, Messages, UsageRecord

FIXTURES = Path(__file__).parents[1] / "fixtures" / "providers"


def fixture(name: str) -> Any:
    """A captured response (see ``tests/fixtures/providers/README.md`` for its source)."""
    return json.loads((FIXTURES / name).read_text())


def events(name: str) -> list[Any]:
    """A captured stream, one JSON event per line."""
    return [json.loads(line) for line in (FIXTURES / name).read_text().splitlines() if line]


def stored(messages: list[Message], usage: UsageRecord | None = None) -> Messages:
    """What an adapter produced, appended and read back: it must come back equal."""
    body = Messages(messages=messages, usage=usage)
    back = schemas.decode(schemas.encode(body))
    assert back == body
    return back


class Clock:
    """A clock that ticks once per reading, to see which chunk took the TTFT reading."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now
