"""Long synthetic attention with planted structure, for measuring selection methods at 32K-128K
keys without a model.

Keys and queries are noise plus three planted patterns that real long-context attention shows:
- attention sinks: the first `sinks` keys share a direction every query also has;
- local windows: rotary position features (RoPE-like rotations in the first `rope_dims`
  channels) make ``q.k`` largest for nearby positions and decay with distance;
- needles: `needles` keys at random positions carry a direction that exactly one query holds
  strongly, so that query must find that key.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInputError

__all__ = ["Planted", "planted"]


@dataclass(frozen=True)
class Planted:
    """``q [heads, nq, dim]``, ``k [kv_heads, nk, dim]`` and the needles as (query head, query,
    key position) triples."""

    q: np.ndarray
    k: np.ndarray
    needles: list[tuple[int, int, int]]


def planted(
    nk: int,
    *,
    nq: int = 64,
    heads: int = 8,
    kv_heads: int = 2,
    dim: int = 128,
    sinks: int = 4,
    needles: int = 8,
    rope_dims: int = 32,
    dtype: type = np.float16,
    seed: int = 0,
) -> Planted:
    """Planted q and k (see the module docstring); the last `nq` positions are the queries.

    >>> p = planted(2048, nq=8, heads=4, kv_heads=2, dim=64, needles=2)
    >>> p.q.shape, p.k.shape, len(p.needles)
    ((4, 8, 64), (2, 2048, 64), 2)
    """
    if nq > nk or heads % kv_heads or dim < rope_dims + 8 or rope_dims % 2:
        raise InvalidInputError("need nq <= nk, heads % kv_heads == 0, even rope_dims < dim - 8")
    rng = np.random.default_rng(seed)
    group = heads // kv_heads
    k = rng.standard_normal((kv_heads, nk, dim)).astype(np.float32) * 0.6
    q = rng.standard_normal((heads, nq, dim)).astype(np.float32) * 0.6
    content = slice(rope_dims, dim)

    # Sinks: a shared direction in the content channels.
    sink_dir = rng.standard_normal(dim - rope_dims).astype(np.float32)
    sink_dir /= np.linalg.norm(sink_dir)
    k[:, :sinks, content] += 20.0 * sink_dir
    q[:, :, content] += 6.0 * sink_dir

    # Local windows: RoPE-style rotations, so q.k over these channels is a sum of cosines of the
    # distance (largest at 0, decaying over a few hundred positions).
    half = rope_dims // 2
    freqs = 1.0 / (16.0 ** (np.arange(half) / half))
    amp = 2.0

    def rotary(positions: np.ndarray) -> np.ndarray:
        angles = positions[:, None] * freqs[None, :]
        return np.concatenate([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32) * amp

    k[:, :, :rope_dims] += rotary(np.arange(nk, dtype=np.float64))[None]
    q[:, :, :rope_dims] += rotary(np.arange(nk - nq, nk, dtype=np.float64))[None]

    # Needles: each a key in the first 90% of the sequence and one (head, query) that seeks it.
    found: list[tuple[int, int, int]] = []
    for _ in range(needles):
        h = int(rng.integers(heads))
        i = int(rng.integers(nq))
        key = int(rng.integers(sinks, max(sinks + 1, int(nk * 0.9))))
        direction = rng.standard_normal(dim - rope_dims).astype(np.float32)
        direction /= np.linalg.norm(direction)
        k[h // group, key, content] += 12.0 * direction
        q[h, i, content] += 12.0 * direction
        found.append((h, i, key))
    return Planted(q=q.astype(dtype), k=k.astype(dtype), needles=found)
