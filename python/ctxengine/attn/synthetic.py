"""Long synthetic attention with planted structure, for measuring selection methods at 32K-128K
keys without a model.

Keys and queries are noise plus three planted patterns that real long-context attention shows:
- attention sinks: the first `sinks` keys share a direction every query also has;
- local windows: rotary position features (RoPE-like rotations in the first `rope_dims`
  channels, half of them by default) make ``q.k`` largest for nearby positions and decay with
  distance;
- needles: `needles` keys at random positions carry a direction that exactly one query holds
  strongly, so that query must find that key.

The planted logits grow with ``ln(nk)`` (sinks about ``ln nk + 0.5``, the nearest keys
``ln nk``, needles ``ln nk + 3``, at the softmax scale ``1/sqrt(dim)``), so each pattern
keeps a similar share of the attention at 32K and at 128K keys, as sinks and local windows do in
long-context models, while the noise keys' logits stay near 0.
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
    rope_dims: int | None = None,
    dtype: type = np.float16,
    seed: int = 0,
) -> Planted:
    """Planted q and k (see the module docstring); the last `nq` positions are the queries.

    >>> p = planted(2048, nq=8, heads=4, kv_heads=2, dim=64, needles=2)
    >>> p.q.shape, p.k.shape, len(p.needles)
    ((4, 8, 64), (2, 2048, 64), 2)
    """
    rope_dims = dim // 2 if rope_dims is None else rope_dims
    if nq > nk or heads % kv_heads or dim < rope_dims + 8 or rope_dims % 2:
        raise InvalidInputError("need nq <= nk, heads % kv_heads == 0, even rope_dims < dim - 8")
    rng = np.random.default_rng(seed)
    group = heads // kv_heads
    k = rng.standard_normal((kv_heads, nk, dim)).astype(np.float32) * 0.6
    q = rng.standard_normal((heads, nq, dim)).astype(np.float32) * 0.6
    content = slice(rope_dims, dim)
    scale = 1.0 / np.sqrt(dim)
    log_n = float(np.log(nk))

    # Sinks: a shared direction in the content channels.
    sink_dir = rng.standard_normal(dim - rope_dims).astype(np.float32)
    sink_dir /= np.linalg.norm(sink_dir)
    k[:, :sinks, content] += 20.0 * sink_dir
    q[:, :, content] += (log_n + 0.5) / (20.0 * scale) * sink_dir

    # Local windows: RoPE-style rotations, so q.k over these channels is a sum of cosines of the
    # distance (largest at 0, decaying over a few hundred positions).
    half = rope_dims // 2
    freqs = 1.0 / (16.0 ** (np.arange(half) / half))
    amp = np.sqrt(max(log_n, 1.0) / (half * scale))

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
        strength = np.sqrt((log_n + 3.0) / scale)
        k[h // group, key, content] += strength * direction
        q[h, i, content] += strength * direction
        found.append((h, i, key))
    return Planted(q=q.astype(dtype), k=k.astype(dtype), needles=found)
