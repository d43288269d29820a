"""Retrieval: :class:`Index` (documents in, chunks out; BM25, dense or hybrid search), the
standalone :class:`BM25`, embedders, fusion and exact inner-product top-k.

- :mod:`.index`: the :class:`Index` front; its parts: :mod:`.records` (documents, chunk table,
  :class:`Hit`), :mod:`.ingest` (files and chunking), :mod:`.lexical` (BM25 side),
  :mod:`.embeddings` (embedder, vectors, FAISS), :mod:`.filters`, :mod:`.persistence` and
  :mod:`.store` (the folder format).
- :mod:`.bm25`: BM25 over plain texts (C++ core); :mod:`.dense`: FAISS; :mod:`.embed`:
  embedders (the built-in NumPy all-MiniLM-L6-v2); :mod:`.fusion`: RRF, weighted fusion, MMR;
  :mod:`.topk`: exact inner-product top-k on NumPy (C++) or CUDA arrays.
"""

from __future__ import annotations

from .bm25 import BM25, analyze
from .dense import GpuFallbackWarning
from .embed import Embedder, get_embedder
from .index import AddFilesResult, Index, SkippedFilesWarning
from .records import Hit
from .topk import inner_product_topk

__all__ = [
    "BM25",
    "AddFilesResult",
    "Embedder",
    "GpuFallbackWarning",
    "Hit",
    "Index",
    "SkippedFilesWarning",
    "analyze",
    "get_embedder",
    "inner_product_topk",
]
