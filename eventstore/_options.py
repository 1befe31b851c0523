"""The ``connect()`` options every backend shares, checked once: a backend's URL module calls
:func:`common` with what the caller and the URL gave, and the defaults it has."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = ("Common", "common")

Durability = Literal["full", "normal"]


@dataclass(frozen=True)
class Common:
    durability: Durability
    busy_timeout: float
    readers: int
    read_only: bool


def common(options: Mapping[str, object], *, readers: int, max_busy_timeout: float) -> Common:
    """``durability``, ``busy_timeout``, ``readers`` and ``read_only`` from ``options``, each
    defaulted (``full``, 5 s, ``readers``, ``False``) and checked.

    :raises ValueError: naming the option and what it must be.
    """
    durability = options.get("durability", "full")
    if durability not in ("full", "normal"):
        raise ValueError(f"durability must be 'full' or 'normal', got {durability!r}")
    busy_timeout = options.get("busy_timeout", 5.0)
    if not (
        isinstance(busy_timeout, int | float)
        and not isinstance(busy_timeout, bool)
        and not math.isnan(busy_timeout)
        and 0 <= busy_timeout <= max_busy_timeout
    ):
        raise ValueError(
            f"busy_timeout must be a number of seconds from 0 to {max_busy_timeout}, "
            f"got {busy_timeout!r}"
        )
    count = options.get("readers", readers)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"readers must be an int >= 1, got {count!r}")
    read_only = options.get("read_only", False)
    if not isinstance(read_only, bool):
        raise ValueError(f"read_only must be True or False, got {read_only!r}")
    return Common(
        durability="full" if durability == "full" else "normal",
        busy_timeout=float(busy_timeout),
        readers=count,
        read_only=read_only,
    )
