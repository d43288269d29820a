"""Plain NumPy references of every sparse-attention kernel, for differential tests.

Slow and obviously correct: float64 arithmetic on the float32 (or float16) inputs, one head and
one query at a time, selections by an explicit sort on (forced first, NaN last, score
descending, index ascending). The native kernels compute in float32, so scores agree to float32
rounding and selections agree except where two scores are within that rounding of each other.
NaN and infinities follow IEEE arithmetic here and are reproduced by the kernels.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

__all__ = [
    "block_scores",
    "block_topk",
    "coverage",
    "csr",
    "dense",
    "hamming_topk",
    "hash_codes",
    "logits",
    "oracle_page_mass",
    "oracle_topk",
    "page_meta",
    "quest_scores",
    "rank",
    "select_pages",
    "streaming",
    "vertical_slash",
    "vertical_slash_sums",
]

Rows = list[list[int]]


def _f64(x: np.ndarray) -> np.ndarray:
    return np.asarray(x).astype(np.float64)


def rank(
    scores: Sequence[float] | np.ndarray, take: int, forced: Callable[[int], bool] | None = None
) -> list[int]:
    """The `take` best indices: forced first, then larger score, NaN last, ties to the lower
    index; returned ascending."""

    def key(j: int) -> tuple[bool, bool, float, int]:
        s = float(scores[j])
        nan = math.isnan(s)
        return (not (forced and forced(j)), nan, 0.0 if nan else -s, j)

    order = sorted(range(len(scores)), key=key)
    return sorted(order[:take])


def csr(rows: Rows) -> tuple[np.ndarray, np.ndarray]:
    """``(indptr, indices)`` int32 of a list of rows."""
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(r) for r in rows])
    flat = [j for r in rows for j in r]
    return indptr.astype(np.int32), np.asarray(flat, dtype=np.int32)


def dense(
    rows: Rows, heads: int, nq: int, nk: int, unit_size: int = 1, query_block: int = 1
) -> np.ndarray:
    """Boolean ``[heads, nq, nk]`` of rows (head-major; a row per query or query block)."""
    per_head = -(-nq // query_block)
    out = np.zeros((heads, nq, nk), dtype=bool)
    for h in range(heads):
        for i in range(nq):
            for u in rows[h * per_head + i // query_block]:
                out[h, i, u * unit_size : min(nk, (u + 1) * unit_size)] = True
    return out


def page_meta(k: np.ndarray, page_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-page min and max of each channel, float32 ``[Hkv, pages, D]`` (NaN propagates)."""
    hkv, nk, d = k.shape
    pages = -(-nk // page_size)
    kmin = np.empty((hkv, pages, d), dtype=np.float32)
    kmax = np.empty((hkv, pages, d), dtype=np.float32)
    x = np.asarray(k, dtype=np.float32)
    for p in range(pages):
        page = x[:, p * page_size : (p + 1) * page_size]
        kmin[:, p] = page.min(axis=1)
        kmax[:, p] = page.max(axis=1)
    return kmin, kmax


def quest_scores(q: np.ndarray, kmin: np.ndarray, kmax: np.ndarray) -> np.ndarray:
    """``sum_d q_d * (kmax_d if q_d >= 0 else kmin_d)``, float64 ``[Hq, Nq, pages]``."""
    hq, nq, _ = q.shape
    group = hq // kmin.shape[0]
    out = np.empty((hq, nq, kmin.shape[1]))
    with np.errstate(invalid="ignore", over="ignore"):
        for h in range(hq):
            lo, hi = _f64(kmin[h // group]), _f64(kmax[h // group])
            for i in range(nq):
                qi = _f64(q[h, i])
                out[h, i] = np.where(qi >= 0, qi * hi, qi * lo).sum(axis=1)
    return out


def select_pages(
    scores: np.ndarray, budget: int, *, page_size: int, nk: int, sink: int = 1, local: int = 1
) -> Rows:
    hq, nq, _ = scores.shape
    rows = []
    for h in range(hq):
        for i in range(nq):
            qp = (nk - nq + i) // page_size

            def forced(p: int, qp: int = qp) -> bool:
                return p < sink or p > qp - local

            rows.append(rank(scores[h, i, : qp + 1], min(budget, qp + 1), forced))
    return rows


def block_scores(q: np.ndarray, k: np.ndarray, block: int) -> np.ndarray:
    """Pooled scores ``[Hq, nqb, nkb]`` (mean-pooled blocks, inner product), float64."""
    hq, nq, _ = q.shape
    hkv, nk, _ = k.shape
    group = hq // hkv
    nqb, nkb = -(-nq // block), -(-nk // block)
    with np.errstate(invalid="ignore", over="ignore"):
        kp = np.stack(
            [
                [_f64(k[h, j * block : (j + 1) * block]).mean(0) for j in range(nkb)]
                for h in range(hkv)
            ]
        )
        qp = np.stack(
            [
                [_f64(q[h, b * block : (b + 1) * block]).mean(0) for b in range(nqb)]
                for h in range(hq)
            ]
        )
        return np.stack([qp[h] @ kp[h // group].T for h in range(hq)])


def block_topk(q: np.ndarray, k: np.ndarray, *, block: int, top_k: int) -> Rows:
    hq, nq, _ = q.shape
    nk = k.shape[1]
    scores = block_scores(q, k, block)
    rows = []
    for h in range(hq):
        for b in range(scores.shape[1]):
            last = (nk - nq + min(nq, (b + 1) * block) - 1) // block
            rows.append(rank(scores[h, b, : last + 1], min(top_k, last + 1)))
    return rows


def _softmax_rows(logits: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """IEEE softmax of each row over its valid entries (0 elsewhere)."""
    with np.errstate(invalid="ignore", over="ignore"):
        m = np.where(valid, logits, -np.inf).max(axis=1, keepdims=True)
        m = np.where(np.isnan(logits).any(axis=1, where=valid, keepdims=True), np.nan, m)
        e = np.where(valid, np.exp(logits - m), 0.0)
        s = e.sum(axis=1, keepdims=True)
        return np.where(valid, e / s, 0.0)


def vertical_slash_sums(
    q: np.ndarray, k: np.ndarray, *, last_q: int = 64, scale: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Column sums and diagonal sums ``[Hq, Nk]`` of the last queries' causal softmax."""
    hq, nq, d = q.shape
    hkv, nk, _ = k.shape
    group = hq // hkv
    lq = min(last_q, nq)
    scale = 1.0 / math.sqrt(d) if scale is None else scale
    pos = np.arange(nk - lq, nk)
    valid = np.arange(nk)[None, :] <= pos[:, None]
    vert = np.zeros((hq, nk))
    slash = np.zeros((hq, nk))
    for h in range(hq):
        with np.errstate(invalid="ignore", over="ignore"):
            logits = (_f64(q[h, nq - lq :]) * scale) @ _f64(k[h // group]).T
        p = _softmax_rows(logits, valid)
        vert[h] = p.sum(axis=0)
        for t in range(lq):
            slash[h, : pos[t] + 1] += p[t, pos[t] :: -1]
    return vert, slash


def vertical_slash(
    q: np.ndarray,
    k: np.ndarray,
    *,
    last_q: int = 64,
    n_vertical: int,
    n_slash: int,
    sink: int = 30,
    local: int = 100,
    scale: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    nk = k.shape[1]
    vert, slash = vertical_slash_sums(q, k, last_q=last_q, scale=scale)
    nv, ns = min(n_vertical, nk), min(n_slash, nk)
    v = np.array([rank(vert[h], nv, lambda j: j < sink) for h in range(q.shape[0])], np.int32)
    s = np.array([rank(slash[h], ns, lambda o: o < local) for h in range(q.shape[0])], np.int32)
    return v.reshape(q.shape[0], nv), s.reshape(q.shape[0], ns)


def streaming(nq: int, nk: int, *, sink: int = 4, window: int = 512, heads: int = 1) -> Rows:
    rows = []
    for _ in range(heads):
        for i in range(nq):
            p = nk - nq + i
            keep = set(range(min(sink, p + 1))) | set(range(max(0, p + 1 - window), p + 1))
            rows.append(sorted(keep))
    return rows


def hash_codes(x: np.ndarray, planes: np.ndarray) -> np.ndarray:
    """Sign bits of ``x @ planes`` packed little-endian into uint32 words."""
    with np.errstate(invalid="ignore", over="ignore"):
        proj = _f64(x) @ _f64(planes)
    bits = (proj > 0).astype(np.uint8)
    packed = np.packbits(bits, axis=-1, bitorder="little")
    return packed.view("<u4").astype(np.uint32).reshape((*x.shape[:-1], planes.shape[1] // 32))


def hamming_topk(q_codes: np.ndarray, k_codes: np.ndarray, top_k: int) -> Rows:
    hq, nq, _ = q_codes.shape
    hkv, nk, _ = k_codes.shape
    group = hq // hkv
    rows = []
    for h in range(hq):
        for i in range(nq):
            p = nk - nq + i
            xor = np.bitwise_xor(k_codes[h // group, : p + 1], q_codes[h, i])
            dist = np.unpackbits(xor.view(np.uint8), axis=1).sum(axis=1)
            rows.append(rank(-dist.astype(np.float64), min(top_k, p + 1)))
    return rows


def logits(q: np.ndarray, k: np.ndarray, h: int, i: int, scale: float | None = None) -> np.ndarray:
    """Scaled causal logits of query i of head h (float64, positions 0..p)."""
    hq, nq, d = q.shape
    hkv, nk, _ = k.shape
    scale = 1.0 / math.sqrt(d) if scale is None else scale
    p = nk - nq + i
    with np.errstate(invalid="ignore", over="ignore"):
        return (_f64(k[h // (hq // hkv), : p + 1]) @ _f64(q[h, i])) * scale


def coverage(
    q: np.ndarray, k: np.ndarray, mask: np.ndarray, scale: float | None = None
) -> np.ndarray:
    """Kept softmax share per (head, query) of a boolean ``[heads, nq, nk]`` mask (heads 1 or
    Hq)."""
    hq, nq, _ = q.shape
    out = np.empty((hq, nq))
    for h in range(hq):
        for i in range(nq):
            s = logits(q, k, h, i, scale)
            with np.errstate(invalid="ignore", over="ignore"):
                e = np.exp(s - s.max())
                keep = mask[0 if mask.shape[0] == 1 else h, i, : s.size]
                out[h, i] = e[keep].sum() / e.sum()
    return out


def oracle_page_mass(
    q: np.ndarray, k: np.ndarray, h: int, i: int, page_size: int, scale: float | None = None
) -> np.ndarray:
    """Softmax mass (unnormalised, shifted by the largest non-NaN logit) of each causal page."""
    s = logits(q, k, h, i, scale)
    finite = s[~np.isnan(s)]
    m = finite.max() if finite.size else -np.inf
    with np.errstate(invalid="ignore", over="ignore"):
        e = np.exp(s - m)
    pages = -(-s.size // page_size)
    return np.array([e[p * page_size : (p + 1) * page_size].sum() for p in range(pages)])


def oracle_topk(
    q: np.ndarray, k: np.ndarray, budget: int, *, page_size: int = 1, scale: float | None = None
) -> Rows:
    hq, nq, _ = q.shape
    rows = []
    for h in range(hq):
        for i in range(nq):
            if page_size == 1:
                s = logits(q, k, h, i, scale)
            else:
                s = oracle_page_mass(q, k, h, i, page_size, scale)
            rows.append(rank(s, min(budget, s.size)))
    return rows
