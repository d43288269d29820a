"""The C++ chunker against a plain Python twin of its rules.

`reference_chunks` is the greedy merge of csrc/chunking/chunker.cpp written for clarity, not
speed, over the same stored boundaries (what `_core.chunking.boundaries` reports) and the same
word boundaries (the end of a whitespace run; either side of a CJK character). With a monotone
counter (characters, UTF-8 bytes, words) "how far the budget reaches" has one answer, so both
must produce exactly the same chunks. `reference_token_windows` does the same for by="tokens"
with tiktoken's encoding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import corpus
import ctxengine
from chunk_checks import WHITE_SPACE
from ctxengine import _core
from tiktoken_oracle import counter, encoding

MAX_ATTEMPTS = 32  # csrc/chunking/chunker.cpp kMaxAttempts
TEXT_END, WORD, CHAR = 255, 1, 0


class End(NamedTuple):
    start: int
    end: int
    tokens: int
    raw: int  # the boundary it ends at, before trimming
    level: int


def is_cjk(c: str) -> bool:
    cp = ord(c)
    return cp >= 0x2E80 and (
        (cp <= 0x33FF and cp != 0x3000)
        or 0x3400 <= cp <= 0x4DBF
        or 0x4E00 <= cp <= 0x9FFF
        or 0xF900 <= cp <= 0xFAFF
        or 0xFE30 <= cp <= 0xFE4F
        or 0xFF00 <= cp <= 0xFFEF
        or 0x20000 <= cp <= 0x3FFFF
    )


def reference_chunks(
    text: str,
    max_tokens: int,
    count: Callable[[str], int],
    *,
    by: str,
    overlap: int = 0,
    trim: bool = True,
) -> list[tuple[int, int, int]]:
    positions, levels = _core.chunking.boundaries(text, by)
    stored = list(zip(positions.tolist(), levels.tolist(), strict=True))
    stored_set = set(positions.tolist())
    n = len(text)

    def cnt(a: int, b: int) -> int:
        return count(text[a:b])

    def skip(p: int, limit: int = n) -> int:
        while p < limit and text[p] in WHITE_SPACE:
            p += 1
        return p

    def trim_end(lo: int, p: int) -> int:
        while p > lo and text[p - 1] in WHITE_SPACE:
            p -= 1
        return p

    def word_boundary(p: int) -> bool:
        prev, cur = text[p - 1], text[p]
        if cur in WHITE_SPACE:
            return False
        return prev in WHITE_SPACE or is_cjk(prev) or is_cjk(cur)

    def fit(s: int) -> int:  # the budget's reach: one answer for a monotone counter
        if cnt(s, n) <= max_tokens:
            return n
        lo, hi = s, n
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if cnt(s, mid) <= max_tokens else (lo, mid)
        return lo

    def find(s: int, min_end: int) -> End | None:
        fe = fit(s)
        if fe == s:
            raise ctxengine.BudgetError("a character over the budget")
        reach = skip(fe) if trim else fe
        attempts = 0

        def try_end(raw: int, level: int) -> End | None:
            nonlocal attempts
            attempts += 1
            e = trim_end(s, raw) if trim else raw
            if e <= min_end or cnt(s, e) > max_tokens:
                return None
            return End(s, e, cnt(s, e), raw, level)

        if reach == n and (found := try_end(n, TEXT_END)):
            return found
        candidates = [(p, lvl) for p, lvl in stored if min_end < p <= reach]
        candidates.sort(key=lambda x: (-x[1], -x[0]))
        for i, (p, lvl) in enumerate(candidates):
            if i > 0 and attempts >= MAX_ATTEMPTS:
                break
            if found := try_end(p, lvl):
                return found
        p = reach if reach < n else reach - 1
        while p > max(s, min_end) and attempts < MAX_ATTEMPTS:
            if word_boundary(p) and (found := try_end(p, WORD)):
                return found
            p -= 1
        if trim:  # fe trimmed, else the character boundaries before it, trimmed
            p = fe
            while p > max(s, min_end):
                if found := try_end(p, CHAR):
                    return found
                p -= 1
            if min_end > s:
                return None
        if fe <= min_end or cnt(s, fe) > max_tokens:
            return None
        return End(s, fe, cnt(s, fe), fe, CHAR)

    def plan(s: int, e: int) -> tuple[list[int], int, int] | None:
        starts: list[int] = []
        for p in range(s + 1, e):
            if word_boundary(p) or p in stored_set:
                o = skip(p, e) if trim else p
                if o < e and (not starts or starts[-1] < o):
                    starts.append(o)
        first = first_fitting(starts, 0, lambda o: cnt(o, e) <= overlap)
        for k in range(first, len(starts)):
            if cnt(starts[k], e) <= overlap:
                return starts, k, e
        return None

    def prepend(plain: End, starts: list[int], first: int, prev_end: int) -> End:
        e = plain.end
        k = first_fitting(starts, first, lambda o: cnt(o, e) <= max_tokens)
        for o in starts[k:]:
            if cnt(o, e) <= max_tokens and cnt(o, prev_end) <= overlap:
                return End(o, e, cnt(o, e), plain.raw, plain.level)
        return plain

    out, cursor, planned = [], 0, None
    while (s := skip(cursor) if trim else cursor) < n:
        plain = find(s, s)
        assert plain is not None
        end = plain
        if planned:
            starts, first, prev_end = planned
            over = find(starts[first], prev_end)
            end = over if over and over.level >= plain.level else prepend(plain, *planned)
        out.append((end.start, end.end, end.tokens))
        cursor, planned = end.raw, None
        if overlap and (skip(end.raw) if trim else end.raw) < n:
            planned = plan(end.start, end.end)
    return out


def first_fitting(items: list[int], lo: int, fits: Callable[[int], bool]) -> int:
    """The first index in [lo, len) where `fits` holds, assuming it holds from some index on."""
    hi = len(items)
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if fits(items[mid]) else (mid + 1, hi)
    return lo


def native(text: str, max_tokens: int, count: Callable[[str], int], **kw: object) -> list[tuple]:
    chunks = ctxengine.chunk(text, max_tokens, tokenizer=count, **kw)  # type: ignore[arg-type]
    return list(
        zip(chunks.starts.tolist(), chunks.ends.tolist(), chunks.tokens.tolist(), strict=True)
    )


def utf8_bytes(s: str) -> int:
    return len(s.encode())


def words(s: str) -> int:
    return len(s.split())


COUNTERS = {"chars": len, "bytes": utf8_bytes, "words": words}
MODES = ["recursive", "sentences", "markdown", "code"]


@pytest.mark.parametrize("by", MODES)
@pytest.mark.parametrize("name", sorted(COUNTERS))
def test_native_matches_reference_on_real_text(by: str, name: str) -> None:
    count = COUNTERS[name]
    budget = {"chars": 700, "bytes": 900, "words": 90}[name]
    docs = [*corpus.english_prose(3), *corpus.stdlib_sources(2), *corpus.cjk_texts()[:2]]
    docs += corpus.message_catalogs(40, 1)[::13]
    for doc_name, text in docs:
        text = text[:12_000]
        for overlap, trim in [(0, True), (budget // 5, True), (budget // 7, False)]:
            kw = {"by": by, "overlap": overlap, "trim": trim}
            want = reference_chunks(text, budget, count, **kw)  # type: ignore[arg-type]
            assert native(text, budget, count, **kw) == want, (doc_name, kw)


PIECES = [
    "word",
    "Word",
    " ",
    "  ",
    "\n",
    "\n\n",
    "\n\n\n",
    "\t",
    ". ",
    "? ",
    "e.g. ",
    "。",
    "日本",
    "é",
    "🙂",
    "# H\n",
    "Title\n=====\n",
    "```\ncode\n```\n",
    "| a |\n|---|\n",
    "- item\n",
    "    ",
    "def f():\n",
    "    return 1\n",
    "{",
    "}",
    "\u3000",
    "x" * 30,
]


@settings(max_examples=150)
@given(
    text=st.lists(st.sampled_from(PIECES) | st.text(max_size=4), max_size=50).map("".join),
    by=st.sampled_from(MODES),
    name=st.sampled_from(sorted(COUNTERS)),
    max_tokens=st.integers(4, 60),
    overlap_frac=st.floats(0, 0.8),
    trim=st.booleans(),
)
def test_native_matches_reference_on_generated_text(
    text: str, by: str, name: str, max_tokens: int, overlap_frac: float, trim: bool
) -> None:
    text = text.encode("utf-8", "replace").decode()
    kw = {"by": by, "overlap": int(max_tokens * overlap_frac), "trim": trim}
    count = COUNTERS[name]
    assert native(text, max_tokens, count, **kw) == reference_chunks(  # type: ignore[arg-type]
        text, max_tokens, count, **kw
    )


# --- by="tokens" ------------------------------------------------------------------------------


def reference_token_windows(
    text: str, max_tokens: int, overlap: int, name: str = "cl100k_base"
) -> list[tuple[int, int, int]]:
    """Windows of max_tokens tokens of tiktoken's encoding, as csrc/chunking/chunk.cpp cuts."""
    enc, count = encoding(name), counter(name)
    ids = enc.encode_ordinary(text)
    data = text.encode()
    char_of_byte, pos = {}, 0
    for i, c in enumerate(text):
        char_of_byte[pos] = i
        pos += len(c.encode())
    char_of_byte[len(data)] = len(text)
    starts, pos = [], 0
    for t in ids:
        starts.append(pos)
        pos += len(enc.decode_single_token_bytes(t))
    bounds = [*starts, len(data)]  # boundary k: where token k starts; the last is the end

    def on_char(k: int) -> bool:
        return bounds[k] in char_of_byte

    def cnt(a: int, b: int) -> int:
        return count(text[char_of_byte[bounds[a]] : char_of_byte[bounds[b]]])

    n = len(ids)

    def window(i: int) -> tuple[int, int]:
        j, tokens = min(n, i + max_tokens), 0
        while j > i:
            if on_char(j) and bounds[j] > bounds[i]:
                tokens = cnt(i, j)
                if tokens <= max_tokens:
                    break
            j -= 1
        return j, tokens

    out, i = [], 0
    while i < n:
        j, tokens = window(i)
        assert j > i
        out.append((char_of_byte[bounds[i]], char_of_byte[bounds[j]], tokens))
        if j >= n:
            break
        k = max(i + 1, j - overlap)  # the next window must end past this one
        while k < j and (not on_char(k) or cnt(k, j) > overlap or window(k)[0] <= j):
            k += 1
        i = k
    return out


@pytest.mark.parametrize(("max_tokens", "overlap"), [(64, 0), (100, 30), (7, 3)])
@pytest.mark.parametrize("tokenizer", ["cl100k_base", "o200k_base"])
def test_token_windows_match_reference(max_tokens: int, overlap: int, tokenizer: str) -> None:
    docs = [*corpus.english_prose(2), *corpus.cjk_texts()[:4], *corpus.message_catalogs(30, 1)[::7]]
    for doc_name, text in docs:
        text = text[:8_000]
        got = native(text, max_tokens, tokenizer, by="tokens", overlap=overlap)  # type: ignore[arg-type]
        assert got == reference_token_windows(text, max_tokens, overlap, tokenizer), doc_name


@settings(max_examples=60)
@given(text=st.text(max_size=120), max_tokens=st.integers(4, 20), overlap=st.integers(0, 3))
def test_token_windows_on_generated_text(text: str, max_tokens: int, overlap: int) -> None:
    text = text.encode("utf-8", "replace").decode()
    got = native(text, max_tokens, "cl100k_base", by="tokens", overlap=overlap)  # type: ignore[arg-type]
    assert got == reference_token_windows(text, max_tokens, overlap)


def test_token_windows_are_full_and_tile_the_text() -> None:
    text = "\n\n".join(t for _, t in corpus.english_prose(4))
    chunks = ctxengine.chunk(text, 200, by="tokens")
    assert chunks.starts[0] == 0 and chunks.ends[-1] == len(text)
    assert (chunks.starts[1:] == chunks.ends[:-1]).all()
    # Each window is exactly the next 200 tokens of the text's encoding, unless that cut falls
    # inside a character or those 200 tokens, encoded on their own, take more than 200; only
    # then is it shorter (test_token_windows_match_reference checks how much shorter).
    tok = ctxengine.get_tokenizer("cl100k_base")
    _, token_starts = tok.encode_with_offsets(text)
    first_token_at: dict[int, int] = {}
    for i, s in enumerate(token_starts.tolist()):
        first_token_at.setdefault(s, i)
    short = 0
    for s, e in zip(chunks.starts[:-1].tolist(), chunks.ends[:-1].tolist(), strict=True):
        j = first_token_at[s] + 200
        cut = int(token_starts[j])
        full_fits = cut > token_starts[j - 1] and tok.count(text[s:cut]) <= 200
        assert (e == cut) == full_fits, (s, e, cut)
        short += not full_fits
    assert short < len(chunks) - 1  # some windows are full: the rule is exercised
