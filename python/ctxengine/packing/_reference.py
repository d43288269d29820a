"""Plain-Python references of the packing core (csrc/pack), for differential tests.

Slow and obviously correct: the same unit rules, hashes and greedy loop as minhash.cpp and
select.cpp, written out one step at a time. The tests check that the native code agrees exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

try:  # the Unicode version of the core's tables (16.0); the stdlib's is older
    import unicodedata2 as unicodedata
except ImportError:  # pragma: no cover
    import unicodedata  # type: ignore[no-redef]

__all__ = ["minhash_sketch", "select_greedy", "sketch_jaccard", "units"]

MASK = (1 << 64) - 1
EMPTY = (1 << 32) - 1  # an empty bin
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
SHINGLE_SEED = 0x243F6A8885A308D3

SELECTED, DUPLICATE, GROUP_FULL, NO_ROOM, NEEDS_ANCHOR = 1, 2, 3, 4, 5


def mix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def is_character_unit(cp: int) -> bool:
    ranges = [
        (0x0E00, 0x0EFF),
        (0x1000, 0x109F),
        (0x1780, 0x17FF),
        (0x3040, 0x30FF),
        (0x31F0, 0x31FF),
        (0x3400, 0x4DBF),
        (0x4E00, 0x9FFF),
        (0xF900, 0xFAFF),
        (0xFF66, 0xFF9F),
        (0x20000, 0x3FFFF),
    ]
    return any(lo <= cp <= hi for lo, hi in ranges)


def _unit_hash(unit: str) -> int:
    h = FNV_OFFSET
    for byte in unit.encode("utf-8", "surrogatepass"):
        if 65 <= byte <= 90:
            byte += 32
        h = ((h ^ byte) * FNV_PRIME) & MASK
    return mix64(h)


def units(text: str) -> list[str]:
    """The units a text is shingled over (minhash.hpp)."""
    out: list[str] = []
    word = ""
    for ch in text:
        cp = ord(ch)
        if cp < 0x80:
            is_word = ch.isascii() and ch.isalnum()
        else:
            is_word = unicodedata.category(ch)[0] in "LMN"
        if is_word and cp >= 0x80 and is_character_unit(cp):
            if word:
                out.append(word)
                word = ""
            out.append(ch)
        elif is_word:
            word += ch
        elif word:
            out.append(word)
            word = ""
    if word:
        out.append(word)
    return out


def minhash_sketch(text: str, k: int, shingle: int) -> np.ndarray:
    """One-permutation MinHash: per bin (picked by the top 32 bits of a shingle's hash), the
    smallest low 32 bits."""
    hashes = [_unit_hash(u) for u in units(text)]
    out = [EMPTY] * k
    if hashes:
        width = min(shingle, len(hashes))
        for i in range(len(hashes) - width + 1):
            h = SHINGLE_SEED
            for u in hashes[i : i + width]:
                h = mix64(h ^ u)
            b = ((h >> 32) * k) >> 32
            value = h & EMPTY
            out[b] = min(out[b], EMPTY - 1 if value == EMPTY else value)
    return np.array(out, dtype=np.uint32)


def sketch_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Bins with the same hash over bins not empty in both."""
    pairs = [(int(x), int(y)) for x, y in zip(a, b, strict=True)]
    used = [(x, y) for x, y in pairs if not (x == EMPTY and y == EMPTY)]
    same = sum(1 for x, y in used if x == y)
    return same / len(used) if used and same else 0.0


def select_greedy(
    relevance: Sequence[float],
    cost: Sequence[int],
    group: Sequence[int],
    anchor: Sequence[int],
    sketches: np.ndarray,
    status: np.ndarray,
    max_sim: np.ndarray,
    budget: int,
    diversity: float,
    duplicate_threshold: float,
    max_per_group: int,
    by_density: bool = True,
) -> list[int]:
    """select.hpp's greedy loop, step by step. `status` and `max_sim` are updated in place."""
    n = len(relevance)
    per_group: dict[int, int] = {}
    any_selected = False
    for i in range(n):
        if status[i] == SELECTED:
            any_selected = True
            per_group[group[i]] = per_group.get(group[i], 0) + 1
        elif status[i] != DUPLICATE:
            status[i] = 0
    left = budget
    chosen = []
    while True:
        best, best_value = -1, 0.0
        for i in range(n):
            if status[i] != 0 or cost[i] > left:
                continue
            if anchor[i] >= 0 and status[anchor[i]] != SELECTED:
                continue
            if max_per_group and per_group.get(group[i], 0) >= max_per_group:
                continue
            value = relevance[i]
            if any_selected:
                value = relevance[i] * (1.0 - diversity * float(max_sim[i]))
                if by_density:
                    value /= float(cost[i])
            if best < 0 or value > best_value:
                best, best_value = i, value
        if best < 0:
            break
        status[best] = SELECTED
        any_selected = True
        left -= cost[best]
        per_group[group[best]] = per_group.get(group[best], 0) + 1
        chosen.append(best)
        for i in range(n):
            if status[i] == 0:
                sim = sketch_jaccard(sketches[i], sketches[best])
                if sim >= duplicate_threshold:
                    status[i] = DUPLICATE
                else:
                    max_sim[i] = max(float(max_sim[i]), sim)
    for i in range(n):
        if status[i] != 0:
            continue
        if anchor[i] >= 0 and status[anchor[i]] != SELECTED:
            status[i] = NEEDS_ANCHOR
        elif max_per_group and per_group.get(group[i], 0) >= max_per_group:
            status[i] = GROUP_FULL
        else:
            status[i] = NO_ROOM
    return chosen
