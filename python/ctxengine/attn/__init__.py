"""Sparse-attention scoring: which KV pages, blocks and keys attention should read.

One standalone library for the selection step of long-context inference, over NumPy arrays
(C++ core: SIMD, all cores) and CuPy arrays (CUDA), with a plain NumPy reference of every method
in :mod:`ctxengine.attn._reference`. Shapes: ``q`` is ``[Hq, Nq, D]``, ``k`` is
``[Hkv, Nk, D]`` with ``Hq % Hkv == 0`` (query head h reads KV head ``h // (Hq // Hkv)``),
float32 or float16; queries are the last Nq positions (query i sits at ``Nk - Nq + i``).

- Quest: :func:`page_meta`, :func:`quest_scores`, :func:`select_pages`;
- MInference: :func:`block_topk`, :func:`vertical_slash` (+ :func:`vertical_slash_selection`);
- StreamingLLM: :func:`streaming`;
- HashAttention / HATA / HAX: :func:`hash_codes`, :func:`hamming_topk`, :func:`random_planes`;
- measuring: :func:`coverage` (kept softmax mass) and :func:`oracle_topk` (the ceiling);
- :class:`Selection`: CSR rows with the layouts engines take (FlashInfer, vLLM block tables).

>>> import numpy as np
>>> from ctxengine import attn
>>> rng = np.random.default_rng(0)
>>> q = rng.standard_normal((4, 1, 64)).astype(np.float32)
>>> k = rng.standard_normal((2, 1000, 64)).astype(np.float16)
>>> meta = attn.page_meta(k, 16)
>>> sel = attn.select_pages(attn.quest_scores(q, meta), 8, page_size=16, nk=meta.nk)
>>> cov = attn.coverage(q, k, sel)
>>> cov.shape, bool((cov > 0).all() and (cov <= 1).all())
((4, 1), True)
"""

from __future__ import annotations

from .._native import core
from .coverage import coverage, oracle_topk
from .hashing import hamming_topk, hash_codes, random_planes
from .minference import block_topk, vertical_slash, vertical_slash_selection
from .pages import PageMeta, page_meta, quest_scores, select_pages
from .selection import UNITS, BlockTables, FlashInferLayout, Selection
from .streaming import streaming

__all__ = [
    "UNITS",
    "BlockTables",
    "FlashInferLayout",
    "PageMeta",
    "Selection",
    "block_topk",
    "coverage",
    "hamming_topk",
    "hash_codes",
    "oracle_topk",
    "page_meta",
    "quest_scores",
    "random_planes",
    "select_pages",
    "simd_backend",
    "streaming",
    "vertical_slash",
    "vertical_slash_selection",
]


def simd_backend() -> str:
    """The instruction set the CPU kernels use: "avx512", "avx2" or "scalar"
    (``CTXENGINE_SIMD=scalar`` or ``avx2`` caps it).

    >>> simd_backend() in ("avx512", "avx2", "scalar")
    True
    """
    return str(core.attn.simd_level())
