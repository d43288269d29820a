"""Small, obviously correct references of the two tokenizer.json models, in plain Python, for
differential tests of the C++ fast paths (csrc/tokenizer/wordpiece.cpp, hf_bpe.cpp).

They transcribe HF tokenizers' algorithms directly: WordPiece's greedy longest-match-first with
no pruning, and BPE's merge loop as a rescan for the lowest (priority, position) pair that the
current symbols form. HF keeps candidates in a heap and skips an entry when the pair at its
position no longer yields the same merged token; since a merged token's string is the
concatenation of its pair's, and the pair at a position only ever grows, a skipped entry is
exactly one whose pair is gone, so the rescan computes the same merges.
"""

from __future__ import annotations


def wordpiece(
    word: str, vocab: dict[str, int], *, unk: str, prefix: str = "##", max_chars: int = 100
) -> list[int]:
    if len(word) > max_chars:
        return [vocab[unk]]
    out = []
    start = 0
    while start < len(word):
        for end in range(len(word), start, -1):
            piece = word[start:end] if start == 0 else prefix + word[start:end]
            if piece in vocab:
                out.append(vocab[piece])
                start = end
                break
        else:
            return [vocab[unk]]
    return out


def bpe(symbols: list[int], merges: dict[tuple[int, int], tuple[int, int]]) -> list[int]:
    """Merge `symbols` by pair priority: merges[(left, right)] = (priority, merged id)."""
    symbols = list(symbols)
    while True:
        best = None
        for i in range(len(symbols) - 1):
            hit = merges.get((symbols[i], symbols[i + 1]))
            if hit is not None and (best is None or hit[0] < best[0]):
                best = (hit[0], i, hit[1])
        if best is None:
            return symbols
        _, i, merged = best
        symbols[i : i + 2] = [merged]
