"""Opening a saved index folder of either kind: one Index (``CURRENT``, retrieval/store.py) or a
sharded index (``sharded.json``, persistence.py). The commands, the HTTP service and the
framework adapters open the folders they are given with :func:`load_saved`."""

from __future__ import annotations

import os
from typing import Any

from ..errors import InvalidInputError
from .persistence import is_sharded

__all__ = ["load_saved"]


def load_saved(path: str | os.PathLike[str], *, ray_address: str | None = None) -> Any:
    """The index saved in folder `path`: an :class:`~ctxengine.Index`, or a ShardedIndex (its
    shards in this process, or on the Ray cluster at `ray_address`): what a command, the HTTP
    service or an adapter opens when given an index folder."""
    if is_sharded(path):
        from .sharded import ShardedIndex

        if ray_address is None:
            return ShardedIndex.load(path)
        return ShardedIndex.load(path, backend="ray", ray_address=ray_address)
    if ray_address is not None:
        raise InvalidInputError(
            f"{path} holds one Index, not a sharded one (made with --shards): Ray does not apply"
        )
    from ..retrieval import Index

    return Index.load(path)
