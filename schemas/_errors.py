"""The exceptions every convlog layer raises, drawn once.

::

    ConvlogError                 base of everything convlog raises on purpose
      SchemaError                bad input; ``path`` names the offending field
      StoreError                 (eventstore) the store refused or failed an operation
        WrongExpectedVersion
        DuplicateEventId
        IntegrityError           verify() found a problem

``SchemaError`` lives here because the wire contract owns validation; the store errors live in
``eventstore.errors`` and subclass :class:`ConvlogError`.
"""

from __future__ import annotations


class ConvlogError(Exception):
    """Base class of every error convlog raises deliberately."""


class SchemaError(ConvlogError, ValueError):
    """A value does not satisfy the event schema.

    ``path`` is a JSON path into the offending document (``$.data.usage.prompt_tokens``),
    ``problem`` says what is wrong with it. ``str(err)`` is ``"<path>: <problem>"``.
    """

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")

    def __reduce__(self) -> tuple[type[SchemaError], tuple[str, str]]:
        return (type(self), (self.path, self.problem))
