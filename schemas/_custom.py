"""Typed payloads for ``custom`` events: the registry a harness fills for its own event types.

A harness owns the ``payload`` of its ``custom`` events. By registering a ``msgspec.Struct`` for
an ``event_type`` (``register_custom("acme.plan", PlanV1)``), it gets that payload decoded into
the Struct and validated like every other field, and it can property-test the payload's
evolution with the same tools convlog uses for its own events (``schemas.strategies``,
``schemas.json_schema.generate_custom``, ``python -m schemas.compat``).

The registry is one module-level mapping on purpose: decoding happens deep inside the store,
which has no way to receive per-call configuration. It is explicit (nothing registers itself
on import) and inspectable (:func:`custom_payload_types`), and tests scope a registration with
:func:`custom_registration`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType

import msgspec

__all__ = (
    "custom_payload_types",
    "custom_registration",
    "payload_type_of",
    "register_custom",
    "unregister_custom",
)

_PAYLOADS: dict[str, type[msgspec.Struct]] = {}

# Registered names also name schema files (``acme.plan.json``), so they are restricted to
# characters that are safe in a file name on every platform, and cannot start with a dot.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}")


def register_custom(event_type: str, payload_type: type[msgspec.Struct]) -> None:
    """Decode the payload of every ``custom`` event named ``event_type`` into ``payload_type``.

    Once registered, :func:`schemas.decode` returns a :class:`schemas.Custom` whose ``payload``
    is a ``payload_type`` instance (an invalid payload raises ``SchemaError`` with a path under
    ``$.payload``); payloads of unregistered event types stay plain JSON values. Registering the
    same type again is a no-op.

    A persisted payload must stay readable by older and newer code, so the Struct may not be
    ``array_like`` (field order would become the wire) nor ``forbid_unknown_fields`` (a newer
    writer's fields would make older readers fail).

    :raises ValueError: if ``event_type`` is not a valid name (letters, digits, ``_ . -``, up
        to 200 characters, not starting with ``.``, ``_`` or ``-``), or is already registered
        to a different type.
    :raises TypeError: if ``payload_type`` is not a ``msgspec.Struct`` subclass, or is
        ``array_like`` or ``forbid_unknown_fields``.
    """
    if not isinstance(event_type, str) or not _NAME.fullmatch(event_type):
        raise ValueError(
            f"invalid custom event type {event_type!r}: use letters, digits, '_', '.', '-' "
            "(up to 200, starting with a letter or digit), e.g. 'acme.plan'"
        )
    if not (isinstance(payload_type, type) and issubclass(payload_type, msgspec.Struct)):
        raise TypeError(f"payload type for {event_type!r} must be a msgspec.Struct subclass")
    config = payload_type.__struct_config__
    if config.array_like:
        raise TypeError(f"{payload_type.__name__} is array_like: field order would be the wire")
    if config.forbid_unknown_fields:
        raise TypeError(
            f"{payload_type.__name__} sets forbid_unknown_fields: older readers would reject "
            "payloads written by newer code"
        )
    current = _PAYLOADS.get(event_type)
    if current is not None and current is not payload_type:
        raise ValueError(
            f"custom event type {event_type!r} is already registered to "
            f"{current.__module__}.{current.__qualname__}"
        )
    _PAYLOADS[event_type] = payload_type


def unregister_custom(event_type: str) -> None:
    """Forget the payload type of ``event_type``; its payloads decode as plain JSON again.

    :raises KeyError: if ``event_type`` is not registered.
    """
    try:
        del _PAYLOADS[event_type]
    except KeyError:
        raise KeyError(f"custom event type {event_type!r} is not registered") from None


def custom_payload_types() -> Mapping[str, type[msgspec.Struct]]:
    """A read-only snapshot of the registry: ``{event_type: payload type}``."""
    return MappingProxyType(dict(_PAYLOADS))


@contextmanager
def custom_registration(event_type: str, payload_type: type[msgspec.Struct]) -> Iterator[None]:
    """Register ``payload_type`` for the duration of a ``with`` block (handy in tests).

    If the same registration already existed, it is left in place on exit.

    :raises ValueError, TypeError: as :func:`register_custom`.
    """
    existed = _PAYLOADS.get(event_type) is payload_type
    register_custom(event_type, payload_type)
    try:
        yield
    finally:
        if not existed:
            _PAYLOADS.pop(event_type, None)


def payload_type_of(event_type: str) -> type[msgspec.Struct] | None:
    """The registered payload type of ``event_type``, or ``None``."""
    return _PAYLOADS.get(event_type)
