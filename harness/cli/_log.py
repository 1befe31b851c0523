"""Log records of the library (``convlog.pricing``, ...) as lines on the CLI's stderr."""

from __future__ import annotations

import logging

import click

__all__ = ("log_to_stderr",)


class _ClickHandler(logging.Handler):
    """Records to ``click.echo(err=True)``, which finds stderr per call, so CliRunner captures
    them too."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(f"{record.levelname.lower()}: {record.getMessage()}", err=True)


def log_to_stderr(name: str, *, verbose: bool) -> None:
    """Show the logger ``name``'s warnings on stderr, and its info records too if ``verbose``.

    Idempotent: one handler per logger, however often a command runs in one process.
    """
    log = logging.getLogger(name)
    if not any(isinstance(h, _ClickHandler) for h in log.handlers):
        log.addHandler(_ClickHandler())
    log.setLevel(logging.INFO if verbose else logging.WARNING)
