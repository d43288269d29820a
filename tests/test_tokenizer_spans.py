"""Span counting, count-until-limit and truncation: every answer is checked against re-encoding
the substring (itself checked against tiktoken in test_tokenizer.py)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import corpus
import ctxengine
import tok_oracles

# Scanner variants that differ at span edges: \s++$ (cl100k, r50k), none (llama3, o200k),
# case-split letters and contractions (o200k), single digits (qwen2).
VARIANTS = ["cl100k_base", "o200k_base", "r50k_base", "llama3", "qwen2"]

EDGE_ALPHABET = [*" \t\n\r\xa0\u3000'sSlLvVeétT中ǅʰAaZ\u0301٣1.,/-!", "\U0001f600", "\r\n"]
edge_text = st.lists(st.sampled_from(EDGE_ALPHABET), max_size=24).map("".join)


@pytest.fixture(scope="module", params=VARIANTS)
def tok(request: pytest.FixtureRequest) -> ctxengine.Tokenizer:
    name = request.param
    if name in ("cl100k_base", "o200k_base"):
        return ctxengine.get_tokenizer(name)
    return ctxengine.get_tokenizer(tok_oracles.cl100k_path(), pattern=name, special_tokens={})


def real_sample() -> list[str]:
    texts = [t for _, t in corpus.multilingual()]
    return texts[::17][:20]


def test_random_spans_of_real_text(tok) -> None:
    rng = random.Random(7)
    for text in real_sample():
        spans = tok.spans(text)
        assert spans.total == tok.count(text)
        n = len(text)
        # Arbitrary offsets, offsets at whitespace (where chunkers cut), and long spans.
        cuts = [i for i, c in enumerate(text) if c in " \n"] or [0]
        starts, ends = [], []
        for _ in range(60):
            kind = rng.randrange(3)
            if kind == 0:
                a, b = sorted(rng.randrange(n + 1) for _ in range(2))
            elif kind == 1:
                a, b = sorted(rng.choice(cuts) + rng.randrange(2) for _ in range(2))
                a, b = min(a, n), min(b, n)
            else:
                a = rng.randrange(min(n, 50) + 1)
                b = n - rng.randrange(min(n, 50) + 1)
                a, b = min(a, b), max(a, b)
            starts.append(a)
            ends.append(b)
            assert spans.count(a, b) == tok.count(text[a:b]), (a, b)
        assert spans.counts(np.array(starts), np.array(ends)).tolist() == [
            tok.count(text[a:b]) for a, b in zip(starts, ends, strict=True)
        ]


@given(text=edge_text)
def test_every_span_of_tricky_text(tok, text: str) -> None:
    spans = tok.spans(text)
    n = len(text)
    for a in range(n + 1):
        for b in range(a, n + 1):
            assert spans.count(a, b) == tok.count(text[a:b]), (a, b)


@given(text=edge_text, data=st.data())
def test_long_tricky_text_spans(tok, text: str, data: st.DataObject) -> None:
    # Long enough that spans use prefix sums (short spans are re-encoded directly).
    text = (text + " word ") * 8 + text
    spans = tok.spans(text)
    n = len(text)
    for _ in range(20):
        a = data.draw(st.integers(0, n))
        b = data.draw(st.integers(a, n))
        assert spans.count(a, b) == tok.count(text[a:b]), (a, b)


def check_fit(tok, spans, text: str, start: int, end: int, limit: int) -> None:
    e = spans.fit(start, end, limit)
    assert start <= e <= end
    assert tok.count(text[start:e]) <= limit
    if e < end:
        assert tok.count(text[start : e + 1]) > limit
    s = spans.fit_start(start, end, limit)
    assert start <= s <= end
    assert tok.count(text[s:end]) <= limit
    if s > start:
        assert tok.count(text[s - 1 : end]) > limit


def test_fit_contract(tok) -> None:
    rng = random.Random(3)
    for text in real_sample()[:8]:
        spans = tok.spans(text)
        n = len(text)
        for _ in range(15):
            a, b = sorted(rng.randrange(n + 1) for _ in range(2))
            check_fit(tok, spans, text, a, b, rng.choice([0, 1, 2, 7, 50, 400]))


@given(text=edge_text, limit=st.integers(0, 12))
def test_fit_contract_tricky(tok, text: str, limit: int) -> None:
    text = text * 3
    check_fit(tok, tok.spans(text), text, 0, len(text), limit)


@given(text=edge_text, limit=st.integers(0, 30))
def test_count_until(tok, text: str, limit: int) -> None:
    text = text * 4
    tokens, end = tok.count_until(text, limit)
    assert tokens == tok.count(text[:end]) <= limit
    if end < len(text):
        assert tok.count(text[: end + 1]) > limit
    else:
        assert tokens == tok.count(text)


def test_count_until_real_text(tok) -> None:
    for text in real_sample()[:6]:
        total = tok.count(text)
        for limit in (0, 1, 100, total - 1, total, total + 5):
            if limit < 0:
                continue
            tokens, end = tok.count_until(text, limit)
            assert tokens == tok.count(text[:end]) <= limit
            assert (end == len(text)) == (total <= limit) or tok.count(text[: end + 1]) > limit


@given(text=edge_text, max_tokens=st.integers(0, 20))
def test_truncate_bounds(tok, text: str, max_tokens: int) -> None:
    text = text * 3
    total = tok.count(text)
    for side in ("end", "start", "middle"):
        out = tok.truncate(text, max_tokens, side=side)
        assert tok.count(out) <= max_tokens
        if total <= max_tokens:
            assert out == text
    head = tok.truncate(text, max_tokens)
    assert text.startswith(head)
    assert len(head) == len(text) or tok.count(text[: len(head) + 1]) > max_tokens
    tail = tok.truncate(text, max_tokens, side="start")
    assert text.endswith(tail)
    assert len(tail) == len(text) or tok.count(text[len(text) - len(tail) - 1 :]) > max_tokens


def test_truncate_middle_keeps_both_ends(tok) -> None:
    text = real_sample()[0]
    out = tok.truncate(text, 200, side="middle", marker=" [...] ")
    assert tok.count(out) <= 200
    head, tail = out.split(" [...] ", 1)
    assert text.startswith(head) and text.endswith(tail)
    assert tok.count(head) >= 80 and tok.count(tail) >= 80
    with pytest.raises(ctxengine.BudgetError):
        tok.truncate(text, 1, side="middle", marker=" [... many tokens ...] ")


def test_surrogates_in_spans(tok) -> None:
    text = "ab \ud83d\ude00 c\ud800 d  e" * 3
    spans = tok.spans(text)
    n = len(text)
    for a in range(n + 1):
        for b in range(a, n + 1):
            assert spans.count(a, b) == tok.count(text[a:b]), (a, b)
    tokens, end = tok.count_until(text, 5)
    assert tokens == tok.count(text[:end]) <= 5
    ids, starts = tok.encode_with_offsets(text)
    assert ids.tolist() == tok.encode(text).tolist()
    assert all(0 <= s <= n for s in starts.tolist())


def test_span_arguments(tok) -> None:
    spans = tok.spans("hello world")
    assert len(spans) == 11
    with pytest.raises(ctxengine.InvalidInputError):
        spans.count(3, 2)
    with pytest.raises(ctxengine.InvalidInputError):
        spans.count(0, 12)
    with pytest.raises(ctxengine.InvalidInputError):
        spans.fit(0, 5, -1)
    with pytest.raises(ctxengine.InvalidInputError):
        tok.truncate("x", 1, side="left")  # type: ignore[arg-type]
    with pytest.raises(ctxengine.InvalidInputError):
        tok.count_until("x", -1)


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base"])
def test_pathological_inputs(name: str) -> None:
    """Worst cases for BPE and the scanners (tiktoken #195): long single pieces."""
    tok = ctxengine.get_tokenizer(name)
    ref = tok_oracles.encoding(name)
    cases = [
        "a" * 1_000_000,
        "\u4e00" * 200_000,
        "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(100_000)),
        "x" + "1" * 300_000,
        " " * 500_000 + "x",
        "'" * 300_000,
    ]
    for text in cases:
        expected = ref.encode_ordinary(text)
        assert tok.count(text) == len(expected)
        assert tok.encode_ordinary(text).tolist() == expected
    # A 10 MB line without spaces is one 10 MB piece (tiktoken itself needs ~20 s for it): the
    # oracle checks its first megabyte; the whole line must count, round-trip and stop early.
    line = ("abcdefghij" * 1_000_000)[:10_000_000]
    head = line[:1_000_000]
    assert tok.count(head) == len(ref.encode_ordinary(head))
    if name == "cl100k_base":  # the same code path for both; once is enough for the time
        assert tok.decode(tok.encode_ordinary(line)) == line
    prefix = tok.count_until(line, 1000)
    assert prefix.tokens == tok.count(line[: prefix.end]) <= 1000
    assert tok.count(line[: prefix.end + 1]) > 1000


# Long pieces: fit() resolves the limit inside a long piece from one encoding of it (token
# boundaries of a piece's encoding are where its prefixes encode to the same tokens), and spans
# that start or end inside one re-encode only their own part. Every answer is checked against
# re-encoding the substring.
LONG_RUNS = [
    "a" * 3000,  # one letter: tokens of many bytes
    "abcdefghij" * 300,
    "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(1500)),  # CJK, no punctuation
    "\u4e2d\u6587" * 900,
    "ab\u0301c\u00e9" * 500,  # combining marks inside the letter run
    "." * 2500,  # a punctuation run
    "-=" * 1200 + "\n\n",
    " " * 2500,  # a whitespace run (its prefixes split differently)
    "\n" * 600 + " " * 600,
    "1" * 2000,  # digits: short pieces
]
long_run = st.sampled_from(LONG_RUNS)


def check_spans(tok, spans, text: str, a: int, b: int) -> None:
    assert spans.count(a, b) == tok.count(text[a:b]), (a, b)


@given(head=edge_text, run=long_run, tail=edge_text, data=st.data())
def test_spans_and_fit_inside_and_across_long_pieces(
    tok, head: str, run: str, tail: str, data: st.DataObject
) -> None:
    text = head + run + tail
    spans = tok.spans(text)
    n, r0, r1 = len(text), len(head), len(head) + len(run)
    inside = st.integers(r0, r1)
    for _ in range(3):
        # Both ends inside the run, the start before it, the end after it, anywhere.
        a = data.draw(st.one_of(inside, st.integers(0, n)))
        b = data.draw(st.one_of(inside, st.integers(a, n)).filter(lambda x, a=a: x >= a))
        check_spans(tok, spans, text, a, b)
        limit = data.draw(st.one_of(st.integers(0, 8), st.integers(0, 1200)))
        check_fit(tok, spans, text, a, b, limit)


def test_fit_limits_deep_inside_long_pieces(tok) -> None:
    rng = random.Random(11)
    for run in LONG_RUNS:
        text = "Intro text, then a long run: " + run + " and the end.\n"
        spans = tok.spans(text)
        n = len(text)
        total = tok.count(text)
        for _ in range(6):
            a = rng.randrange(n // 2)
            limit = rng.randrange(1, total + 2)
            check_fit(tok, spans, text, a, n, limit)
            e = spans.fit(a, n, limit)
            # Chunking asks for the count of the span fit() returned (memoized when long).
            assert spans.count(a, e) == tok.count(text[a:e])


def test_chunking_a_long_piece_in_windows(tok) -> None:
    """What chunking does on a 1 MB line: successive fits from where the last one ended."""
    for text in ("a" * 200_000, "".join(chr(0x4E00 + (i * 31) % 9000) for i in range(60_000))):
        spans = tok.spans(text)
        pos, n = 0, len(text)
        rng = random.Random(5)
        for _ in range(6):
            limit = rng.choice([1, 17, 128, 512])
            window = min(n, pos + 12 * limit)
            e = spans.fit(pos, window, limit)
            assert pos <= e <= window
            assert spans.count(pos, e) == tok.count(text[pos:e]) <= limit
            if e < window:
                assert tok.count(text[pos : e + 1]) > limit
            pos = max(e, pos + 1) + rng.randrange(5)
