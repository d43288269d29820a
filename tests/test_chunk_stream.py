"""ctxengine.chunk_stream: the same chunks as chunk() on the whole text, for any block size, in
bounded memory; invalid UTF-8 named by its byte offset, or replaced on request."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import corpus
import ctxengine
from chunk_checks import check_chunks, repaired
from ctxengine import InvalidInputError, UnsupportedError, _core
from tiktoken_oracle import counter

CL100K = counter("cl100k_base")
MODES = ["recursive", "sentences", "markdown", "code"]


def words(s: str) -> int:
    return len(s.split())


def as_tuples(chunks: ctxengine.Chunks) -> list[tuple]:
    return [
        (c.text, c.start, c.end, c.tokens, c.headings)
        for c in (chunks.chunk(i) for i in range(len(chunks)))
    ]


def streamed(data: bytes, max_tokens: int, block_size: int, **kwargs: object) -> list[tuple]:
    return [
        (c.text, c.start, c.end, c.tokens, c.headings)
        for c in ctxengine.chunk_stream(
            io.BytesIO(data), max_tokens, block_size=block_size, **kwargs
        )
    ]


@pytest.mark.parametrize("by", MODES)
@pytest.mark.parametrize("block_size", [333, 5000, 1 << 20])
def test_stream_equals_whole_text_on_real_text(by: str, block_size: int) -> None:
    docs = corpus.english_prose(6) + corpus.cjk_texts()[:3] + corpus.message_catalogs(30, 1)[:3]
    text = "\n\n".join(t for _, t in docs)[:80_000]
    want = ctxengine.chunk(text, 100, tokenizer="cl100k_base", by=by, overlap=15)
    got = streamed(text.encode(), 100, block_size, tokenizer="cl100k_base", by=by, overlap=15)
    assert got == as_tuples(want)


PIECES = [
    "word",
    " ",
    "\n",
    "\n\n",
    ". ",
    "Dr. ",
    "。",
    "# Head\n",
    "Title\n=====\n",
    "```\nx\n```\n",
    "| a |\n|---|\n",
    "- item\n",
    "    ",
    "def f():\n",
    "{",
    "}",
    '"""',
    "日本語",
    "🙂",
    "\r\n",
]


@settings(max_examples=50)
@given(
    text=st.lists(st.sampled_from(PIECES) | st.text(max_size=4), max_size=80).map("".join),
    by=st.sampled_from(MODES),
    block_size=st.integers(1, 64),
    max_tokens=st.integers(3, 12),
    overlap=st.integers(0, 2),
    trim=st.booleans(),
)
def test_stream_equals_whole_text_on_generated_text(
    text: str, by: str, block_size: int, max_tokens: int, overlap: int, trim: bool
) -> None:
    kwargs = {"tokenizer": words, "by": by, "overlap": overlap, "trim": trim}
    clean = repaired(text)
    want = ctxengine.chunk(clean, max_tokens, **kwargs)  # type: ignore[arg-type]
    got = streamed(clean.encode(), max_tokens, block_size, **kwargs)
    assert got == as_tuples(want)


def test_stream_memory_is_bounded() -> None:
    line = "Some words here, and a sentence. " * 3 + "\n"
    block = line * 10_000  # ~1 MB per block, 8 MB in all
    native = ctxengine.get_tokenizer("cl100k_base")._core
    stream = _core.chunking.ChunkStream(native, 64, 8, "recursive", "", "", True)
    peak, last_end = 0, 0
    for i in range(9):
        (_, ends, *_rest), _texts = stream.feed(block if i < 8 else "", i == 8)
        peak = max(peak, stream.buffered_bytes)
        last_end = int(ends[-1]) if len(ends) else last_end
    assert peak < len(block) + 8 * 1024  # one block, the look-ahead and the chunk in progress
    assert last_end == 8 * len(block) - 2  # everything but the final " \n" was chunked


def test_stream_from_a_path_guesses_the_code_language(tmp_path: Path) -> None:
    source = "\n\n".join(t for _, t in corpus.stdlib_sources(3))
    path = tmp_path / "module.py"
    path.write_text(source, encoding="utf-8")
    got = [c.text for c in ctxengine.chunk_stream(path, 80, by="code")]
    want = ctxengine.chunk(source, 80, by="code", language="python")
    assert got == list(want)
    generic = ctxengine.chunk(source, 80, by="code", language="yaml")
    assert got != list(generic)  # the guess changed the levels


def test_stream_from_a_text_file_object() -> None:
    text = "alpha beta gamma. delta epsilon.\n\nzeta eta theta." * 20
    got = [c.text for c in ctxengine.chunk_stream(io.StringIO(text), 7, tokenizer=words)]
    assert got == list(ctxengine.chunk(text, 7, tokenizer=words))


@pytest.mark.parametrize("position", [0, 1, 4095, 4096, 4097, 10_000])
@pytest.mark.parametrize("bad", [b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf"])
def test_invalid_utf8_names_its_byte_offset(position: int, bad: bytes) -> None:
    good = ("é" * 10_000).encode()[: position - position % 2]
    data = good + bad + b" tail of the text"
    with pytest.raises(UnicodeDecodeError) as python:
        data.decode("utf-8")
    want = python.value.start
    with pytest.raises(InvalidInputError, match=f"invalid UTF-8 at byte offset {want} "):
        list(ctxengine.chunk_stream(io.BytesIO(data), 50, tokenizer=words, block_size=4096))


def test_errors_replace_reads_bad_bytes_as_replacement_characters() -> None:
    data = b"good text \xff\xfe more \xe2\x82 text \xf0\x9f\x99" + b" end" * 1000
    got = [
        c.text
        for c in ctxengine.chunk_stream(
            io.BytesIO(data), 9, tokenizer=CL100K, errors="replace", block_size=7
        )
    ]
    want = ctxengine.chunk(data.decode("utf-8", "replace"), 9, tokenizer=CL100K)
    assert got == list(want)
    check_chunks(data.decode("utf-8", "replace"), want, 9, CL100K)


def test_stream_bad_options() -> None:
    with pytest.raises(InvalidInputError, match="errors must be 'strict' or 'replace'"):
        list(ctxengine.chunk_stream(io.BytesIO(b"x"), 5, tokenizer=words, errors="ignore"))
    with pytest.raises(InvalidInputError, match="block_size must be a positive integer"):
        list(ctxengine.chunk_stream(io.BytesIO(b"x"), 5, tokenizer=words, block_size=0))
    with pytest.raises(UnsupportedError, match="cannot stream"):
        list(ctxengine.chunk_stream(io.BytesIO(b"x"), 5, tokenizer=words, by="tokens"))
    with pytest.raises(FileNotFoundError):
        list(ctxengine.chunk_stream("/nonexistent/file.txt", 5, tokenizer=words))


def test_stream_of_many_headings_keeps_paths_and_forgets_the_rest() -> None:
    parts = []
    for i in range(3000):
        level = 1 + i % 4
        parts.append("#" * level + f" Heading {i}\n\nSome text for section {i}. " * 2)
    text = "\n\n".join(parts)
    want = ctxengine.chunk(text, 60, by="markdown")
    got = streamed(text.encode(), 60, 4096, by="markdown")
    assert got == as_tuples(want)
    assert got[-1][4][:3] == ("Heading 2996", "Heading 2997", "Heading 2998")


def test_heading_table_prunes_to_what_later_chunks_need() -> None:
    table = [(f"h{i}", 1 + i % 3, -1 if i % 3 == 0 else i - 1) for i in range(3000)]
    headings = ctxengine.chunking.chunks.Headings(table)
    headings.prune(2995)
    assert len(headings) <= 8
    assert headings.path(2995) == ("h2994", "h2995")
    headings.extend([("h3000", 2, 2997)])
    assert headings.path(3000) == ("h2997", "h3000")
