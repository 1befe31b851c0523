"""Where the price table comes from: a chain of sources that always ends in a table.

:func:`load_prices` tries, in order, and returns the first that yields a usable table:

1. an explicit source: the ``path`` or ``url`` argument, else ``CONVLOG_PRICES_PATH``, else
   ``CONVLOG_PRICES_URL``;
2. the on-disk cache, if younger than ``max_age`` (24 hours);
3. a fetch of LiteLLM's published file (``fetch_url``), bounded by ``timeout``; the cache
   is rewritten only when the download parses as a price table;
4. the cache, however old (a stale table beats none);
5. the ``genai-prices`` package's bundled data, when that extra is installed;
6. an empty table, which prices every call as ``unpriced:table_unavailable``, with one warning.

No step raises to the caller: each failure is logged on ``convlog.pricing`` and the chain
moves on. :func:`update_prices` is the strict variant behind ``convlog prices update``.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from ._table import PriceTable, PriceTableError

__all__ = (
    "CACHE_FILE",
    "DEFAULT_FETCH_TIMEOUT",
    "LITELLM_PRICES_URL",
    "MAX_AGE",
    "PATH_ENV",
    "URL_ENV",
    "default_cache_dir",
    "load_prices",
    "read_prices",
    "update_prices",
)

logger = logging.getLogger("convlog.pricing")

#: LiteLLM's published price table (the file ``litellm.model_cost`` is built from).
LITELLM_PRICES_URL = (
    "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json"
)
PATH_ENV = "CONVLOG_PRICES_PATH"
URL_ENV = "CONVLOG_PRICES_URL"
CACHE_FILE = "litellm_prices.json"
#: Seconds a download of the price table may take.
DEFAULT_FETCH_TIMEOUT = 10.0
MAX_AGE = timedelta(hours=24)
#: The published file is about 3 MB; anything past this is not a price table.
MAX_BYTES = 64 * 1024 * 1024
_SCHEMES = frozenset({"http", "https", "file"})
_T = TypeVar("_T")


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/convlog``, else ``~/.cache/convlog``."""
    base = os.environ.get("XDG_CACHE_HOME") or ""
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "convlog"


def load_prices(
    path: str | os.PathLike[str] | None = None,
    url: str | None = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    timeout: float = DEFAULT_FETCH_TIMEOUT,
    max_age: timedelta = MAX_AGE,
    fetch_url: str | None = LITELLM_PRICES_URL,
    offline: bool = False,
) -> PriceTable:
    """A price table from the first source of the chain (module docstring) that works.

    ``fetch_url=None`` skips the network step. ``offline=True`` never touches the network:
    it skips the download and any URL source too (``url``, ``CONVLOG_PRICES_URL``), saying
    so in a warning. Never raises: the worst case is an empty table, announced by one warning.
    """
    explicit: list[tuple[str, str]] = []
    if path is not None:
        explicit.append(("path", os.fspath(path)))
    if url is not None:
        explicit.append(("url", url))
    if not explicit:
        for kind, variable in (("path", PATH_ENV), ("url", URL_ENV)):
            if value := os.environ.get(variable):
                explicit.append((kind, value))
    for kind, where in explicit:
        if kind == "url" and offline:
            logger.warning("offline: not fetching prices from %s", where)
            continue
        if kind == "path":
            table = _attempt(f"price file {where}", read_prices, where)
        else:
            table = _attempt(f"prices from {where}", _download_table, where, timeout)
        if table is not None:
            return table

    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cached = cache / CACHE_FILE
    age = _age(cached)
    cache_readable = age is not None
    if age is not None and age <= max_age.total_seconds():
        table = _attempt(f"price cache {cached}", _read_cache, cached, "fresh")
        if table is not None:
            return table
        cache_readable = False  # corrupt: do not offer it again as a stale fallback

    if fetch_url is not None and not offline:
        downloaded = _attempt(f"prices from {fetch_url}", _download, fetch_url, timeout)
        if downloaded is not None:
            table, raw = downloaded
            try:
                _replace(cached, raw)
            except OSError as exc:  # a read-only home must not stop pricing
                logger.warning("cannot write the price cache %s: %s", cached, exc)
            return table

    if age is not None and cache_readable:
        table = _attempt(f"price cache {cached}", _read_cache, cached, "stale")
        if table is not None:
            logger.warning("using a stale price cache (%.1f hours old) from %s", age / 3600, cached)
            return table

    try:
        from ._genai import table_from_genai_prices

        table = table_from_genai_prices()
    except ImportError:
        logger.info("genai-prices is not installed (pip install 'convlog[prices]')")
    except Exception as exc:  # a broken optional package must not break the harness
        logger.warning("cannot read genai-prices data: %s: %s", type(exc).__name__, exc)
    else:
        if table.available:
            logger.info("using genai-prices bundled data (%s)", table.provenance)
            return table
        logger.warning("genai-prices data holds no prices")

    logger.warning(
        "no price table available (no explicit source, cache, download, or genai-prices): "
        "every call will be stored unpriced (pricing='unpriced:table_unavailable'). "
        "Point %s at a LiteLLM model_prices_and_context_window.json or run "
        "'convlog prices update'.",
        PATH_ENV,
    )
    return PriceTable(source="none")


def read_prices(path: str | os.PathLike[str]) -> PriceTable:
    """The table in a LiteLLM-format file.

    :raises PriceTableError: if the file cannot be read or holds no priced model.
    """
    return _usable(PriceTable.from_litellm_json(_read_file(path), source=str(path)))


def update_prices(
    url: str | None = None,
    path: str | os.PathLike[str] | None = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    timeout: float = DEFAULT_FETCH_TIMEOUT,
) -> tuple[PriceTable, Path]:
    """Refresh the cache from ``path``, else ``url``, else LiteLLM's published file.

    The cache is replaced atomically and only by a document that parses as a price table.
    Returns the new table and the cache file's path.

    :raises PriceTableError: if the source cannot be read or is not a price table, or the
        cache cannot be written.
    """
    if path is not None:
        raw, source = _read_file(path), str(path)
    else:
        source = url or LITELLM_PRICES_URL
        raw = _fetch(source, timeout)
    table = _usable(PriceTable.from_litellm_json(raw, source=source))
    cached = (Path(cache_dir) if cache_dir is not None else default_cache_dir()) / CACHE_FILE
    try:
        _replace(cached, raw)
    except OSError as exc:
        raise PriceTableError(f"cannot write the price cache {cached}: {exc}") from None
    return table, cached


def _read_file(path: str | os.PathLike[str]) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise PriceTableError(f"cannot read {path}: {exc.strerror or exc}") from None


def _attempt(what: str, step: Callable[..., _T], *args: object) -> _T | None:
    """``step(*args)``, or ``None`` with a warning naming ``what`` if it fails."""
    try:
        result = step(*args)
    except PriceTableError as exc:
        logger.warning("cannot use %s: %s", what, exc)
        return None
    except Exception as exc:  # a bug or an exotic I/O failure: still not the caller's problem
        logger.warning("cannot use %s: %s: %s", what, type(exc).__name__, exc, exc_info=True)
        return None
    logger.info("using %s", what)
    return result


def _read_cache(cached: Path, freshness: str) -> PriceTable:
    table = read_prices(cached)
    table.source = f"{cached} ({freshness} cache)"
    return table


def _download(url: str, timeout: float) -> tuple[PriceTable, bytes]:
    raw = _fetch(url, timeout)
    return _usable(PriceTable.from_litellm_json(raw, source=url)), raw


def _download_table(url: str, timeout: float) -> PriceTable:
    return _download(url, timeout)[0]


def _usable(table: PriceTable) -> PriceTable:
    if not table.available:
        raise PriceTableError(f"no priced model in the document ({table.skipped} unreadable)")
    return table


def _fetch(url: str, timeout: float) -> bytes:
    """The body at ``url``, read within about ``timeout`` seconds in total (a stalled socket
    operation can add up to one more ``timeout``).

    :raises PriceTableError: on any network, HTTP or size problem.
    """
    # Imported here: urllib.request pulls in http.client, ssl and email (25 ms), which a
    # harness that loads its table from a file or the cache never needs.
    import urllib.error
    import urllib.request

    scheme = urlsplit(url).scheme.lower()
    if scheme not in _SCHEMES:
        raise PriceTableError(f"unsupported URL scheme {scheme!r} (use http, https or file)")
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    chunks: list[bytes] = []
    size = 0
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            # urlopen's timeout bounds each socket operation, not the transfer: a server that
            # trickles a byte at a time must not hold the harness much past ``timeout``. read1
            # returns what has arrived, so the deadline is checked as bytes come in.
            read = getattr(response, "read1", response.read)
            while chunk := read(64 * 1024):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise PriceTableError(f"response exceeds {MAX_BYTES} bytes")
                if time.monotonic() > deadline:
                    raise PriceTableError(f"timed out after {timeout:g} s")
                chunks.append(chunk)
    except urllib.error.HTTPError as exc:
        exc.close()  # an HTTPError is also an open response
        raise PriceTableError(f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise PriceTableError(f"cannot fetch: {exc.reason}") from None
    except (TimeoutError, OSError) as exc:  # socket timeouts surface as TimeoutError
        raise PriceTableError(f"cannot fetch: {exc or type(exc).__name__}") from None
    return b"".join(chunks)


def _age(path: Path) -> float | None:
    """Seconds since ``path`` was written, or ``None`` if it does not exist."""
    try:
        return max(0.0, time.time() - path.stat().st_mtime)
    except OSError:
        return None


def _replace(target: Path, raw: bytes) -> None:
    """Write ``raw`` to ``target`` atomically: readers see the old file or the new one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(raw)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
