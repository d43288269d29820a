"""The exceptions ctxengine raises.

Every error a user can cause is a :class:`Error` subclass that also derives from the built-in
exception it resembles, so ``except ValueError`` keeps working. The native core maps its errors
onto these classes in one place (``csrc/bindings/errors.cpp``); this module imports nothing
native so that mapping can always import it.
"""

from __future__ import annotations

__all__ = [
    "BudgetError",
    "Error",
    "FormatError",
    "InternalError",
    "InvalidInputError",
    "NotBuiltError",
    "NotFoundError",
    "StorageError",
    "UnsupportedError",
]


class Error(Exception):
    """Base class of every exception raised by ctxengine."""


class InvalidInputError(Error, ValueError):
    """An argument or input text cannot be used (bad value, bad bytes, bad shape)."""


class NotFoundError(Error, FileNotFoundError):
    """A file, tokenizer name or model name does not exist."""


class FormatError(Error, ValueError):
    """A file exists but its content is malformed, truncated or fails its checksum."""


class UnsupportedError(Error, ValueError):
    """A valid input that this build or this feature cannot handle (yet)."""


class BudgetError(Error, ValueError):
    """A token budget or limit cannot be met (for example the template alone is too long)."""


class StorageError(Error, OSError):
    """The operating system refused a read or a write."""


class InternalError(Error, RuntimeError):
    """A broken invariant inside ctxengine: a bug, please report it."""


class NotBuiltError(Error, RuntimeError):
    """A feature that is announced but not built in this version. Nothing in this version
    raises it; the class stays so that code catching it keeps working."""
