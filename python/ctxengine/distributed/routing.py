"""Which shard holds a document: a stable hash of its id, the same in every process and version.

Python's ``hash()`` of a str is salted per process (PYTHONHASHSEED), so it cannot route
documents that a saved index, another worker or another machine must find again. A document's
shard is Jump Consistent Hash (Lamping & Veach, "A Fast, Minimal Memory, Consistent Hash
Algorithm", 2014) of the first 8 bytes of BLAKE2b over its id's UTF-8 bytes: uniform over the
shards, and when shards are added only the documents that must move to the new ones move
(1/n of them), which keeps resharding cheap. A saved index records the routing's name, so an
index written by one rule is never read with another.

>>> shard_of("docs/library/os.rst.txt", 4) == shard_of("docs/library/os.rst.txt", 4)
True
>>> sorted({shard_of(f"doc-{i}", 3) for i in range(100)})
[0, 1, 2]
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np

from ..errors import InvalidInputError

__all__ = ["ROUTING", "jump_hash", "key_of", "shard_of", "shards_of"]

ROUTING = "jump-blake2b64"  # the name a saved index records

_MASK = (1 << 64) - 1


def key_of(doc_id: str) -> int:
    """The 64-bit key of a document id: BLAKE2b-64 of its UTF-8 bytes, little-endian."""
    digest = hashlib.blake2b(doc_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def jump_hash(key: int, buckets: int) -> int:
    """Jump Consistent Hash: the bucket in ``[0, buckets)`` of a 64-bit key (the paper's
    Figure 1, with its 64-bit linear congruential step)."""
    if buckets < 1:
        raise InvalidInputError(f"the number of shards must be >= 1, got {buckets}")
    b, j = -1, 0
    while j < buckets:
        b = j
        key = (key * 2862933555777941757 + 1) & _MASK
        j = int((b + 1) * ((1 << 31) / ((key >> 33) + 1)))
    return b


def shard_of(doc_id: str, shards: int) -> int:
    """The shard (``0 <= shard < shards``) that holds document `doc_id`."""
    return jump_hash(key_of(doc_id), shards)


def shards_of(doc_ids: Iterable[str], shards: int) -> np.ndarray:
    """:func:`shard_of` for many ids, as an int64 array."""
    return np.fromiter((shard_of(d, shards) for d in doc_ids), dtype=np.int64)
