"""Harnesses that ship with convlog, each registered under the entry-point group
``convlog.harnesses`` in ``pyproject.toml`` exactly as a third party's is, and found through
:func:`harness.plugins.installed`, never imported by name."""

__all__: tuple[str, ...] = ()
