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
EMPTY = MASK
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
    hashes = [_unit_hash(u) for u in units(text)]
    shingles = set()
    if hashes:
        width = min(shingle, len(hashes))
        for i in range(len(hashes) - width + 1):
            h = SHINGLE_SEED
            for u in hashes[i : i + width]:
                h = mix64(h ^ u)
            shingles.add(EMPTY - 1 if h == EMPTY else h)
    smallest = sorted(shingles)[:k]
    return np.array(smallest + [EMPTY] * (k - len(smallest)), dtype=np.uint64)


def sketch_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Share of the k smallest hashes of the union that both sketches hold."""
    if a[0] == EMPTY or b[0] == EMPTY:
        return 0.0
    k = len(a)
    sa = {int(x) for x in a if x != EMPTY}
    sb = {int(x) for x in b if x != EMPTY}
    union = sorted(sa | sb)[:k]
    both = sum(1 for x in union if x in sa and x in sb)
    return both / len(union)


def select_greedy(
    relevance: Sequence[float],
    cost: Sequence[int],
    group: Sequence[int],
    anchor: Sequence[int],
    sketches: np.ndarray,
    status: np.ndarray,
    budget: int,
    diversity: float,
    duplicate_threshold: float,
    max_per_group: int,
    by_density: bool = True,
) -> list[int]:
    """select.hpp's greedy loop, step by step. `status` is updated in place."""
    n = len(relevance)
    max_sim = [0.0] * n
    per_group: dict[int, int] = {}
    selected = [i for i in range(n) if status[i] == SELECTED]
    for i in range(n):
        if status[i] != SELECTED:
            status[i] = 0
    for j in selected:
        per_group[group[j]] = per_group.get(group[j], 0) + 1

    def absorb(j: int) -> None:
        for i in range(n):
            if status[i] == 0:
                sim = sketch_jaccard(sketches[i], sketches[j])
                if sim >= duplicate_threshold:
                    status[i] = DUPLICATE
                else:
                    max_sim[i] = max(max_sim[i], sim)

    for j in selected:
        absorb(j)
    any_selected = bool(selected)
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
            if not any_selected:
                value = relevance[i]
            elif by_density:
                value = relevance[i] * (1.0 - diversity * max_sim[i]) / float(cost[i])
            else:
                value = relevance[i] * (1.0 - diversity * max_sim[i])
            if best < 0 or value > best_value:
                best, best_value = i, value
        if best < 0:
            break
        status[best] = SELECTED
        any_selected = True
        left -= cost[best]
        per_group[group[best]] = per_group.get(group[best], 0) + 1
        chosen.append(best)
        absorb(best)
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
