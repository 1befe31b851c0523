"""Untrusted userspace: model calls, usage mapping, pricing, hooks and the ``convlog`` CLI.

Everything here talks to the store only through the public ``eventstore`` API.
"""

__all__: tuple[str, ...] = ()
