"""The coordinator's table of documents: for every document ever added (removed ones too, as in
one Index, whose ids never move), its shard, the global id of its first chunk, its chunk count
and whether it is live. 17 bytes a document, in NumPy arrays.

It numbers new documents and chunks as one Index would (positions in the order added, chunk ids
consecutive), answers which shard holds a chunk id (a binary search over first chunk ids), and
gives the chunk ids around a chunk without asking any shard.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidInputError, NotFoundError

__all__ = ["Directory"]


class _Column:
    """A growing 1-D array (amortised doubling)."""

    def __init__(self, dtype: type) -> None:
        self.data: np.ndarray = np.empty(16, dtype=dtype)
        self.size = 0

    def extend(self, values: np.ndarray) -> None:
        need = self.size + len(values)
        if need > len(self.data):
            grown = np.empty(max(need, 2 * len(self.data)), dtype=self.data.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size : need] = values
        self.size = need

    def view(self) -> np.ndarray:
        return self.data[: self.size]


class Directory:
    """Global document positions -> (shard, first chunk id, chunk count, live)."""

    def __init__(self) -> None:
        self._shard = _Column(np.int32)
        self._base = _Column(np.int64)
        self._count = _Column(np.int64)
        self._alive = _Column(np.bool_)
        self.next_chunk = 0  # the id the next chunk gets
        self.next_auto = 0  # for generated ids "doc-<n>", as Index numbers them

    def __len__(self) -> int:
        return self._shard.size

    def append(self, shards: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Number new documents (routed to `shards`, with `counts` chunks each), in order:
        returns their global positions and first chunk ids."""
        counts = np.asarray(counts, dtype=np.int64)
        seqs = np.arange(len(self), len(self) + len(counts), dtype=np.int64)
        ends = self.next_chunk + np.cumsum(counts)
        bases = ends - counts
        self._shard.extend(np.asarray(shards, dtype=np.int32))
        self._base.extend(bases)
        self._count.extend(counts)
        self._alive.extend(np.ones(len(counts), dtype=bool))
        if len(counts):
            self.next_chunk = int(ends[-1])
        return seqs, bases

    def removed(self, seq: int) -> None:
        self._alive.view()[seq] = False

    @classmethod
    def rebuild(
        cls,
        orders: dict[int, np.ndarray],
        *,
        positions: int,
        chunks: int,
        next_auto: int,
        strict: bool = True,
    ) -> Directory:
        """The directory of shards whose :meth:`Shard.order` tables are `orders` (shard ->
        rows of seq, first chunk id, chunk count, live), for an index of `positions`
        documents (removed ones included) and `chunks` chunk ids. With `strict` False (some
        shards are down) the positions no shard gave are left to no shard."""
        n = positions
        shard = np.full(n, -1, dtype=np.int32)
        base = np.full(n, -1, dtype=np.int64)
        count = np.zeros(n, dtype=np.int64)
        alive = np.zeros(n, dtype=bool)
        for i, o in orders.items():
            t = np.asarray(o, dtype=np.int64).reshape(-1, 4)
            seq = t[:, 0]
            if seq.size and (seq.min() < 0 or seq.max() >= n or (shard[seq] >= 0).any()):
                raise InvalidInputError(f"shard {i}'s document positions overlap another's")
            shard[seq], base[seq], count[seq], alive[seq] = i, t[:, 1], t[:, 2], t[:, 3] != 0
        known = shard >= 0
        if strict and not known.all():
            raise InvalidInputError("some document positions belong to no shard")
        # Positions of shards that are down: no chunks, first id that of the next known one.
        base[~known] = np.minimum.accumulate(np.where(known, base, chunks)[::-1])[::-1][~known]
        ends = base + count
        if n and ((known[0] and base[0] != 0) or (ends[:-1] > base[1:]).any() or ends[-1] > chunks):
            raise InvalidInputError("the shards' documents do not number one index")
        if strict and n and ((ends[:-1] != base[1:]).any() or ends[-1] != chunks):
            raise InvalidInputError("the shards' chunks do not number one index")
        out = cls()
        out._shard.extend(shard)
        out._base.extend(base)
        out._count.extend(count)
        out._alive.extend(alive)
        out.next_chunk = chunks
        out.next_auto = next_auto
        return out

    # ---- questions -------------------------------------------------------------------------

    def n_live(self) -> int:
        return int(np.count_nonzero(self._alive.view()))

    def n_live_chunks(self) -> int:
        return int(self._count.view()[self._alive.view()].sum())

    def _docs_of(self, ids: np.ndarray) -> np.ndarray:
        """Global positions of the documents holding chunk `ids` (checked: live documents)."""
        bad = (ids < 0) | (ids >= self.next_chunk)
        if bad.any():
            raise NotFoundError(f"no chunk {int(ids[bad][0])} in the index")
        # The last document whose first chunk is at or before the id (documents without
        # chunks share their successor's first id and come before it).
        docs = np.searchsorted(self._base.view(), ids, side="right") - 1
        lost = docs < 0
        docs = docs.clip(0)
        lost |= ids >= self._base.view()[docs] + self._count.view()[docs]
        if lost.any():  # only where shards are down (partial=True)
            raise NotFoundError(f"chunk {int(ids[lost][0])} is on a shard that is down")
        gone = ~self._alive.view()[docs]
        if gone.any():
            raise NotFoundError(f"chunk {int(ids[gone][0])} belonged to a removed document")
        return docs

    def shards_of_chunks(self, ids: np.ndarray) -> np.ndarray:
        """The shard holding each chunk id (live chunks only; others raise NotFoundError)."""
        return self._shard.view()[self._docs_of(np.asarray(ids, dtype=np.int64))].astype(np.int64)

    def neighbors(self, chunk_id: int, before: int, after: int) -> list[int]:
        """Chunk ids of `chunk_id`'s document around it (itself included), as Index does."""
        (doc,) = self._docs_of(np.array([chunk_id], dtype=np.int64))
        first = int(self._base.view()[doc])
        end = first + int(self._count.view()[doc])
        return list(range(max(first, chunk_id - before), min(end, chunk_id + after + 1)))
