"""Small, obviously correct reference implementations of byte-level BPE, to test the C++ engine
against (as tiktoken's _educational.py does for tiktoken)."""

from __future__ import annotations


def bpe_ranks(ranks: dict[bytes, int], piece: bytes) -> list[int]:
    """tiktoken: a whole piece in the vocabulary is one token; otherwise start from bytes and
    merge the adjacent pair whose concatenation has the lowest rank, leftmost first."""
    if piece in ranks:
        return [ranks[piece]]
    parts = [bytes([b]) for b in piece]
    while True:
        best: tuple[int, int] | None = None
        for i in range(len(parts) - 1):
            rank = ranks.get(parts[i] + parts[i + 1])
            if rank is not None and (best is None or rank < best[0]):
                best = (rank, i)
        if best is None:
            return [ranks[p] for p in parts]
        i = best[1]
        parts[i : i + 2] = [parts[i] + parts[i + 1]]


def bpe_merges(
    vocab: dict[bytes, int], merges: list[tuple[bytes, bytes]], piece: bytes, ignore_merges: bool
) -> list[int]:
    """HF tokenizers: merges[i] has priority i (a pair listed twice keeps its last position);
    with ignore_merges a whole piece in the vocabulary is one token."""
    if ignore_merges and piece in vocab:
        return [vocab[piece]]
    priority = {pair: i for i, pair in enumerate(merges)}
    parts = [bytes([b]) for b in piece]
    while True:
        best: tuple[int, int] | None = None
        for i in range(len(parts) - 1):
            p = priority.get((parts[i], parts[i + 1]))
            if p is not None and (best is None or p < best[0]):
                best = (p, i)
        if best is None:
            return [vocab[p] for p in parts]
        i = best[1]
        parts[i : i + 2] = [parts[i] + parts[i + 1]]
