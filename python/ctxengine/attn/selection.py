"""`Selection`: which keys, pages or blocks each query (or query block) reads, as CSR rows.

Every method of :mod:`ctxengine.attn` returns one. Rows are ``(head, query)`` for token and page
selections and ``(head, query block)`` for block selections, head-major: row
``h * rows_per_head + i``. Row ``r`` reads units ``indices[indptr[r]:indptr[r + 1]]``, ascending;
unit ``u`` is keys ``[u * unit_size, (u + 1) * unit_size)``. The arrays are int32 NumPy arrays, or
CuPy arrays when the selection was computed on the GPU (every method here works on both).

Layouts engines take:

- :meth:`Selection.to_flashinfer` - FlashInfer's paged plan (``indptr``, ``indices``,
  ``last_page_len``; one row per (head, query)) for token and page selections, and its BSR plan
  (``indptr``, ``indices``, ``R = C = block``) for block selections;
- :meth:`Selection.to_block_table` - vLLM-style block tables: the physical page ids of each row
  through a ``[pages]`` logical-to-physical table, padded to a rectangle, with sequence lengths;
- :meth:`Selection.to_dense` - a boolean ``[heads, nq, nk]`` mask (for tests and small inputs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..cuda import is_device_array
from ..errors import InvalidInputError
from ._arrays import check_int

__all__ = ["UNITS", "BlockTables", "FlashInferLayout", "Selection"]

UNITS = ("token", "page", "block")


def _xp(a: Any) -> Any:
    """NumPy, or CuPy for device arrays (the GPU path made them, so CuPy is installed)."""
    if not is_device_array(a):
        return np
    import cupy

    return cupy


def _host(a: Any) -> np.ndarray:
    return a.get() if is_device_array(a) else np.asarray(a)


class Selection:
    """CSR rows of selected units (see the module docstring for the layout).

    >>> import numpy as np
    >>> sel = Selection(np.array([0, 2, 3]), np.array([0, 2, 1]), unit="page", unit_size=2,
    ...                 heads=1, nq=2, nk=6)
    >>> sel.row(0, 0).tolist()
    [0, 2]
    >>> sel.to_dense()[0].astype(int).tolist()
    [[1, 1, 0, 0, 1, 1], [0, 0, 1, 1, 0, 0]]
    """

    def __init__(
        self,
        indptr: Any,
        indices: Any,
        *,
        unit: str,
        unit_size: int,
        heads: int,
        nq: int,
        nk: int | None = None,
        validate: bool = True,
    ) -> None:
        if unit not in UNITS:
            raise InvalidInputError(f"unit must be one of {UNITS}, got {unit!r}")
        self.unit = unit
        self.unit_size = check_int(unit_size, "unit_size", minimum=1)
        if unit == "token" and self.unit_size != 1:
            raise InvalidInputError("a token selection has unit_size 1")
        self.heads = check_int(heads, "heads", minimum=1)
        self.nq = check_int(nq, "nq")
        self.nk = None if nk is None else check_int(nk, "nk")
        xp = _xp(indptr)
        self.indptr = xp.ascontiguousarray(indptr, dtype=xp.int32)
        self.indices = xp.ascontiguousarray(indices, dtype=xp.int32)
        if validate:
            self._validate()

    # ---- shape ---------------------------------------------------------------------------------

    @property
    def query_block(self) -> int:
        """Queries per row: the block size for block selections, else 1."""
        return self.unit_size if self.unit == "block" else 1

    @property
    def rows_per_head(self) -> int:
        return -(-self.nq // self.query_block)

    @property
    def rows(self) -> int:
        return self.heads * self.rows_per_head

    @property
    def units(self) -> int | None:
        """Units the keys make (``ceil(nk / unit_size)``), when nk is known."""
        return None if self.nk is None else -(-self.nk // self.unit_size)

    def counts(self) -> Any:
        """Units per row (int32)."""
        return self.indptr[1:] - self.indptr[:-1]

    def row(self, head: int, query: int) -> Any:
        """The units query `query` of head `head` reads (its block's row for block selections)."""
        if not (0 <= head < self.heads and 0 <= query < self.nq):
            raise InvalidInputError(
                f"no query {query} of head {head} (heads={self.heads}, nq={self.nq})"
            )
        r = head * self.rows_per_head + query // self.query_block
        return self.indices[int(self.indptr[r]) : int(self.indptr[r + 1])]

    def __repr__(self) -> str:
        return (
            f"Selection(unit={self.unit!r}, unit_size={self.unit_size}, heads={self.heads}, "
            f"nq={self.nq}, nk={self.nk}, rows={self.rows}, selected={int(self.indices.size)})"
        )

    def _validate(self) -> None:
        indptr, indices = _host(self.indptr), _host(self.indices)
        if indptr.ndim != 1 or indptr.size != self.rows + 1:
            raise InvalidInputError(
                f"indptr must be 1-D with rows + 1 = {self.rows + 1} entries "
                f"(heads={self.heads} x {self.rows_per_head} rows), got shape {indptr.shape}"
            )
        if indices.ndim != 1 or indptr[0] != 0 or indptr[-1] != indices.size:
            raise InvalidInputError("indptr must start at 0 and end at len(indices)")
        counts = np.diff(indptr)
        if (counts < 0).any():
            raise InvalidInputError("indptr must be non-decreasing")
        if indices.size:
            if indices.min() < 0 or (self.units is not None and indices.max() >= self.units):
                raise InvalidInputError(
                    f"indices must lie in [0, {self.units}) ({self.unit}s of {self.nk} keys)"
                )
            step = np.diff(indices.astype(np.int64))
            row_start = np.zeros(indices.size, dtype=bool)
            row_start[indptr[:-1][counts > 0]] = True
            if (step[~row_start[1:]] <= 0).any():
                raise InvalidInputError("indices must be strictly ascending within each row")

    # ---- dense ---------------------------------------------------------------------------------

    def to_dense(
        self, nq: int | None = None, nk: int | None = None, *, causal: bool = False
    ) -> Any:
        """A boolean ``[heads, nq, nk]`` mask of the keys each query reads.

        `nq` and `nk` default to the selection's own; ``causal=True`` also drops keys after each
        query's position (``nk - nq + i``), as the attention kernel's causal mask does.
        """
        nq = self.nq if nq is None else check_int(nq, "nq")
        nk = self.nk if nk is None else check_int(nk, "nk")
        if nk is None:
            raise InvalidInputError("this selection does not know nk: pass to_dense(nk=...)")
        if nq != self.nq:
            raise InvalidInputError(f"this selection has nq={self.nq} queries, not {nq}")
        xp = _xp(self.indices)
        us = self.unit_size
        row_of = xp.repeat(xp.arange(self.rows, dtype=xp.int64), self.counts().astype(xp.int64))
        keys = self.indices.astype(xp.int64)[:, None] * us + xp.arange(us, dtype=xp.int64)[None]
        rows = xp.broadcast_to(row_of[:, None], keys.shape)
        keep = keys < nk
        per_row = xp.zeros((self.rows, nk), dtype=bool)
        per_row[rows[keep], keys[keep]] = True
        per_row = per_row.reshape(self.heads, self.rows_per_head, nk)
        if self.query_block > 1:
            per_row = per_row[:, xp.arange(nq) // self.query_block, :]
        dense = xp.ascontiguousarray(per_row)
        if causal:
            dense &= xp.tri(nq, nk, k=nk - nq, dtype=bool)[None]
        return dense

    @classmethod
    def from_dense(cls, mask: Any, *, unit_size: int = 1) -> Selection:
        """The token (``unit_size=1``) or page selection of a boolean ``[heads, nq, nk]`` mask;
        a page is selected when any of its keys is."""
        xp = _xp(mask)
        mask = xp.asarray(mask, dtype=bool)
        if mask.ndim != 3:
            raise InvalidInputError(f"mask must be 3-D [heads, nq, nk], got {mask.shape}")
        heads, nq, nk = mask.shape
        unit_size = check_int(unit_size, "unit_size", minimum=1)
        units = -(-nk // unit_size)
        padded = xp.zeros((heads * nq, units * unit_size), dtype=bool)
        padded[:, :nk] = mask.reshape(heads * nq, nk)
        per_unit = padded.reshape(heads * nq, units, unit_size).any(axis=2)
        counts = per_unit.sum(axis=1)
        indptr = xp.zeros(heads * nq + 1, dtype=xp.int64)
        indptr[1:] = xp.cumsum(counts)
        indices = xp.nonzero(per_unit)[1]
        unit = "token" if unit_size == 1 else "page"
        return cls(indptr, indices, unit=unit, unit_size=unit_size, heads=heads, nq=nq, nk=nk)

    # ---- engine layouts ------------------------------------------------------------------------

    def to_flashinfer(self) -> FlashInferLayout:
        """FlashInfer's layout: paged (token and page selections) or BSR (block selections).

        Paged: one row per (head, query), as a batch of single-head requests:
        ``BatchDecodeWithPagedKVCacheWrapper.plan(indptr, indices, last_page_len, 1, 1, D,
        page_size)`` over that head's pages (``kv_data[h]``). ``last_page_len`` counts the keys of
        each row's last page up to the query's position, so causal selections (all of this
        module's) read exactly their keys. BSR: ``BlockSparseAttentionWrapper.plan(indptr,
        indices, M=nq, N=nk, R=block, C=block, ...)`` per head (:meth:`FlashInferLayout.head`).
        """
        if self.nk is None:
            raise InvalidInputError("this selection does not know nk; build it with nk=...")
        xp = _xp(self.indices)
        if self.unit == "block":
            return FlashInferLayout(
                kind="bsr",
                unit=self.unit,
                indptr=self.indptr,
                indices=self.indices,
                last_page_len=None,
                page_size=self.unit_size,
                heads=self.heads,
                nq=self.nq,
                nk=self.nk,
            )
        counts = self.counts()
        last = xp.where(counts > 0, self.indices[xp.maximum(self.indptr[1:] - 1, 0)], 0)
        pos = self.nk - self.nq + xp.arange(self.rows) % self.nq
        start = last.astype(xp.int64) * self.unit_size
        length = xp.minimum(xp.minimum(self.unit_size, self.nk - start), pos + 1 - start)
        last_len = xp.where(counts > 0, xp.maximum(length, 0), 0).astype(xp.int32)
        return FlashInferLayout(
            kind="paged",
            unit=self.unit,
            indptr=self.indptr,
            indices=self.indices,
            last_page_len=last_len,
            page_size=self.unit_size,
            heads=self.heads,
            nq=self.nq,
            nk=self.nk,
        )

    @classmethod
    def from_flashinfer(cls, layout: FlashInferLayout) -> Selection:
        """The selection a :class:`FlashInferLayout` describes (the inverse of to_flashinfer)."""
        return cls(
            layout.indptr,
            layout.indices,
            unit=layout.unit,
            unit_size=layout.page_size,
            heads=layout.heads,
            nq=layout.nq,
            nk=layout.nk,
        )

    def to_block_table(self, block_table: Any, *, pad: int = 0) -> BlockTables:
        """vLLM-style block tables of a page selection: row r's physical page ids
        ``block_table[indices of r]``, padded with `pad` to ``[rows, max pages]`` int32.

        `block_table` maps each logical page of the sequence to its physical page in the KV
        cache (int ``[pages]``, as one request's row of vLLM's ``block_tables``).
        """
        if self.unit != "page":
            raise InvalidInputError(
                f"to_block_table needs a page selection (select_pages, or oracle_topk with "
                f"page_size); this one selects {self.unit}s"
            )
        if self.nk is None:
            raise InvalidInputError("this selection does not know nk; build it with nk=...")
        xp = _xp(self.indices)
        table = xp.asarray(block_table)
        if table.ndim != 1 or table.dtype.kind not in "iu":
            raise InvalidInputError("block_table must be a 1-D integer array [pages]")
        units = self.units or 0
        if table.size < units:
            raise InvalidInputError(
                f"block_table has {table.size} entries but the sequence has {units} pages"
            )
        counts = self.counts()
        width = int(counts.max()) if self.rows else 0
        out = xp.full((self.rows, width), pad, dtype=xp.int32)
        row_of = xp.repeat(xp.arange(self.rows), counts.astype(xp.int64))
        col = xp.arange(self.indices.size) - xp.repeat(
            self.indptr[:-1].astype(xp.int64), counts.astype(xp.int64)
        )
        out[row_of, col] = table[self.indices].astype(xp.int32)
        last_len = self.to_flashinfer().last_page_len
        assert last_len is not None
        seq = xp.where(counts > 0, (counts - 1) * self.unit_size + last_len, 0)
        return BlockTables(
            table=out,
            lengths=counts.astype(xp.int32),
            seq_lens=seq.astype(xp.int32),
            page_size=self.unit_size,
        )

    @classmethod
    def from_block_table(
        cls, tables: BlockTables, block_table: Any, *, heads: int, nq: int, nk: int
    ) -> Selection:
        """The page selection behind `tables` (the inverse of to_block_table); `block_table`
        must map distinct logical pages to distinct physical pages."""
        xp = _xp(tables.table)
        table = xp.asarray(block_table).astype(xp.int64)
        if table.size and (table.min() < 0 or xp.unique(table).size != table.size):
            raise InvalidInputError("block_table must hold distinct non-negative page ids")
        inverse = xp.full(int(table.max()) + 1 if table.size else 0, -1, dtype=xp.int64)
        inverse[table] = xp.arange(table.size)
        lengths = tables.lengths.astype(xp.int64)
        keep = xp.arange(tables.table.shape[1])[None, :] < lengths[:, None]
        physical = tables.table[keep].astype(xp.int64)
        if physical.size and (physical.max() >= inverse.size or (inverse[physical] < 0).any()):
            raise InvalidInputError("the tables name a physical page the block_table lacks")
        indptr = xp.zeros(lengths.size + 1, dtype=xp.int64)
        indptr[1:] = xp.cumsum(lengths)
        return cls(
            indptr,
            inverse[physical],
            unit="page",
            unit_size=tables.page_size,
            heads=heads,
            nq=nq,
            nk=nk,
        )


@dataclass(frozen=True)
class FlashInferLayout:
    """A selection in FlashInfer's terms: ``kind`` "paged" (``indptr``, ``indices``,
    ``last_page_len``, ``page_size``; one row per (head, query)) or "bsr" (``indptr``,
    ``indices`` over (head, query block) rows; ``R = C = page_size``, ``M = nq``, ``N = nk``)."""

    kind: str
    unit: str
    indptr: Any
    indices: Any
    last_page_len: Any | None
    page_size: int
    heads: int
    nq: int
    nk: int

    def head(self, h: int) -> tuple[Any, Any]:
        """``(indptr, indices)`` of head `h` alone, with indptr starting at 0."""
        per = (len(self.indptr) - 1) // self.heads
        ptr = self.indptr[h * per : (h + 1) * per + 1]
        return ptr - ptr[0], self.indices[int(ptr[0]) : int(ptr[-1])]


@dataclass(frozen=True)
class BlockTables:
    """vLLM-style block tables: ``table`` int32 ``[rows, max pages]`` of physical page ids
    (padded), ``lengths`` pages per row, ``seq_lens`` keys each row reads (all pages full but
    the last, which holds keys up to the query's position)."""

    table: Any
    lengths: Any
    seq_lens: Any
    page_size: int
