"""The chunking guarantees as one checker, shared by the chunking tests.

`check_chunks` asserts, against an oracle counter (tiktoken, or any count(str) -> int):
every chunk is ``text[start:end]``, its ``tokens`` equals the oracle's count of that text and is
at most ``max_tokens``; chunks are in order; trimmed chunks have no whitespace at their edges;
without overlap the chunks cover the text except whitespace at chunk edges (and tile it exactly
when not trimmed); with overlap, the shared text of two neighbours takes at most ``overlap``
tokens, and every non-whitespace character is still in some chunk.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ctxengine import Chunks

# Unicode White_Space (what the regex crate's \\s matches): the characters trimming removes.
# (str.isspace also accepts U+001C..U+001F, which are not White_Space.)
WHITE_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
)


def repaired(text: str) -> str:
    """tiktoken's repair of a str that is not valid UTF-8 (what every tokenizer counts)."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def is_blank(s: str) -> bool:
    return all(c in WHITE_SPACE for c in s)


def check_chunks(
    text: str,
    chunks: Chunks,
    max_tokens: int,
    count: Callable[[str], int],
    *,
    overlap: int = 0,
    trim: bool = True,
) -> None:
    starts, ends, tokens = chunks.starts, chunks.ends, chunks.tokens
    for a in (starts, ends, tokens):
        assert isinstance(a, np.ndarray) and a.dtype == np.int64 and a.ndim == 1
    n = len(chunks)
    assert len(starts) == len(ends) == len(tokens) == n
    pieces = list(chunks)
    assert len(pieces) == n
    for i in range(n):
        s, e, k = int(starts[i]), int(ends[i]), int(tokens[i])
        assert 0 <= s < e <= len(text), (i, s, e)
        piece = text[s:e]
        assert pieces[i] == piece == chunks[i]
        assert k == count(piece), (i, k, count(piece), piece[:80])
        assert k <= max_tokens, (i, k, max_tokens)
        if trim:
            assert piece[0] not in WHITE_SPACE and piece[-1] not in WHITE_SPACE, (i, piece[:40])
    if n > 1:
        assert np.all(np.diff(starts) > 0), "chunk starts must increase"
        assert np.all(np.diff(ends) > 0), "chunk ends must increase"
    if n == 0:
        assert is_blank(text) if trim else text == ""
        return
    if overlap == 0:
        assert np.all(starts[1:] >= ends[:-1]), "chunks overlap without overlap="
        gaps = [text[: int(starts[0])], text[int(ends[-1]) :]]
        gaps += [text[int(ends[i]) : int(starts[i + 1])] for i in range(n - 1)]
        if trim:
            assert all(is_blank(g) for g in gaps), "text outside chunks must be whitespace"
        else:
            assert all(g == "" for g in gaps), "untrimmed chunks must tile the text"
        return
    for i in range(n - 1):
        s_next, e_prev = int(starts[i + 1]), int(ends[i])
        if s_next < e_prev:
            shared = text[s_next:e_prev]
            assert count(shared) <= overlap, (i, count(shared), overlap, shared[:80])
        else:
            assert is_blank(text[e_prev:s_next]) if trim else s_next == e_prev
    assert is_blank(text[: int(starts[0])]) and is_blank(text[int(ends[-1]) :])
