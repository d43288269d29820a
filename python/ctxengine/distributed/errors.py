"""Errors of a sharded index: each names the shard, so a user knows which folder or actor failed.

Each also derives from the ctxengine error it resembles (a missing shard is a NotFoundError, a
damaged one a FormatError), so code that catches those keeps working.
"""

from __future__ import annotations

from ..errors import Error, FormatError, NotFoundError

__all__ = ["ShardDamagedError", "ShardError", "ShardMissingError", "ShardUnavailableError"]


class ShardError(Error):
    """A shard of a :class:`~ctxengine.distributed.ShardedIndex` failed; `shard` is its number."""

    def __init__(self, shard: int, message: str) -> None:
        super().__init__(message)
        self.shard = shard

    def __reduce__(self) -> tuple[type, tuple[int, str]]:
        # Raised inside a Ray actor and pickled to the caller: rebuilt with both arguments.
        return type(self), (self.shard, str(self))


class ShardMissingError(ShardError, NotFoundError):
    """A saved shard's folder is gone."""


class ShardDamagedError(ShardError, FormatError):
    """A saved shard's files are truncated, corrupt or do not match the index's manifest."""


class ShardUnavailableError(ShardError, RuntimeError):
    """A shard's actor died and could not be restarted from a saved copy (its changes since
    the last save would be lost)."""
