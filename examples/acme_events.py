"""An example harness's own event payloads ("acme" is the harness's namespace).

A harness extends the history with ``custom`` events. Registering a msgspec Struct per event
type makes convlog decode and validate those payloads like its own fields, and lets the
harness property-test their evolution (see ``test_acme_events.py`` and
docs/compatibility.md). The same evolution rules apply as to convlog's own events: add only
optional fields with defaults; never rename, retype or remove a field.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

import schemas

__all__ = ("PAYLOADS", "Plan", "Review", "Step", "register")


class Step(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    title: Annotated[str, msgspec.Meta(min_length=1)]
    done: bool = False
    # Added after release 1.0: optional, with a default, so 1.0 payloads still decode.
    budget_tokens: Annotated[int, msgspec.Meta(ge=0)] | None = None


class Plan(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """``acme.plan``: what the agent intends to do."""

    goal: str
    steps: list[Step] = []
    # Added after release 1.0. Timezone-aware: a naive datetime's JSON Schema is a bare
    # string, looser than msgspec's decoder, so it could not be generated from a snapshot.
    deadline: Annotated[dt.datetime, msgspec.Meta(tz=True)] | None = None


class Review(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """``acme.review`` (new after release 1.0): a reviewer's verdict on a plan."""

    verdict: Literal["approve", "reject", "revise"]
    score: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] | None = None
    comment: str | None = None


#: Every custom event type this harness writes, and its payload type.
PAYLOADS: dict[str, type[msgspec.Struct]] = {"acme.plan": Plan, "acme.review": Review}


def register() -> None:
    """Register the payload types; call once at start-up, before reading history."""
    for event_type, payload_type in PAYLOADS.items():
        schemas.register_custom(event_type, payload_type)
