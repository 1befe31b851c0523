"""The trusted substrate: persists events verbatim, orders them, never computes prices."""

__all__: tuple[str, ...] = ()
