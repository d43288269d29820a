"""Sharded indexing and search, in-process or on Ray, with the same answers as one Index.

- :mod:`.sharded`: :class:`ShardedIndex`, the :class:`~ctxengine.Index` interface over shards;
  its parts: :mod:`.routing` (a document's shard: a stable hash of its id), :mod:`.prepare`
  (documents chunked, counted and embedded before a shard sees them), :mod:`.shard` (one shard:
  an Index and its global numbering), :mod:`.directory` (the coordinator's table of documents),
  :mod:`.merge` (gathering ranked lists), :mod:`.stats` (corpus-wide BM25 statistics),
  :mod:`.ingest` (the ingest loop and its checkpoints), :mod:`.persistence` (a root folder of
  shard folders and a manifest; :mod:`.saved` opens a saved folder of either kind),
  :mod:`.backend` (in-process shards) and :mod:`.errors`.
- :mod:`.ray_backend` (shards as Ray actors) and :mod:`.ray_ingest` (a Ray Data pipeline over
  files) need ``pip install 'ctxengine[ray]'``; nothing imports Ray until ``backend="ray"``.
"""

from __future__ import annotations

from .errors import ShardDamagedError, ShardError, ShardMissingError, ShardUnavailableError
from .ingest import IngestReport
from .persistence import is_sharded
from .routing import shard_of
from .saved import load_saved
from .sharded import Hits, ShardedIndex

__all__ = [
    "Hits",
    "IngestReport",
    "ShardDamagedError",
    "ShardError",
    "ShardMissingError",
    "ShardUnavailableError",
    "ShardedIndex",
    "is_sharded",
    "load_saved",
    "shard_of",
]
