"""by="markdown" against markdown-it-py (a CommonMark parser with GFM tables) as the oracle of
structure: the headings and heading paths it finds, and fenced code blocks and tables kept whole
wherever they fit, on the real READMEs of the installed packages and on generated documents."""

from __future__ import annotations

import importlib.metadata
import io
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

import ctxengine
from chunk_checks import check_chunks
from tiktoken_oracle import counter

CL100K = counter("cl100k_base")
PARSER = MarkdownIt("commonmark").enable("table")


@cache
def readmes() -> list[tuple[str, str]]:
    """Markdown READMEs of the installed distributions (their long descriptions), by name."""
    out = {}
    for dist in importlib.metadata.distributions():
        meta = dist.metadata
        if "markdown" not in (meta.get("Description-Content-Type") or ""):
            continue
        body = meta.get_payload() or meta.get("Description") or ""  # type: ignore[attr-defined]
        if len(body) > 1500:
            out[meta["Name"]] = body
    return sorted(out.items())


def line_offsets(text: str) -> list[int]:
    offsets, pos = [0], 0
    for line in text.splitlines(keepends=True):
        pos += len(line)
        offsets.append(pos)
    return offsets


def reference_headings(text: str) -> list[tuple[int, int, str]]:
    """(offset of the heading's line, level, title) of each top-level heading."""
    tokens = PARSER.parse(text)
    starts = line_offsets(text)
    return [
        (starts[t.map[0]], int(t.tag[1]), tokens[i + 1].content.strip())
        for i, t in enumerate(tokens)
        if t.type == "heading_open" and t.level == 0 and t.map
    ]


def reference_path(headings: list[tuple[int, int, str]], start: int) -> tuple[str, ...]:
    stack: list[tuple[int, str]] = []
    for pos, level, title in headings:
        if pos > start:
            break
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
    return tuple(title for _, title in stack)


def blocks(text: str, kinds: tuple[str, ...] = ("fence", "table_open")) -> list[tuple[int, int]]:
    """[start, end) str offsets of top-level fences and tables, whitespace trimmed."""
    starts = line_offsets(text)
    out = []
    for t in PARSER.parse(text):
        if t.type in kinds and t.level == 0 and t.map:
            a, b = starts[t.map[0]], starts[min(t.map[1], len(starts) - 1)]
            piece = text[a:b]
            a += len(piece) - len(piece.lstrip())
            b -= len(piece) - len(piece.rstrip())
            out.append((a, b))
    return out


def check_markdown(text: str, chunks: ctxengine.Chunks, max_tokens: int) -> None:
    headings = reference_headings(text)
    for i in range(len(chunks)):
        assert chunks.headings(i) == reference_path(headings, int(chunks.starts[i])), i
        assert chunks.chunk(i).metadata == (
            {"headings": list(chunks.headings(i))} if chunks.headings(i) else {}
        )
    spans = list(zip(chunks.starts.tolist(), chunks.ends.tolist(), strict=True))
    for a, b in blocks(text):
        if CL100K(text[a:b]) <= max_tokens:
            assert any(s <= a and b <= e for s, e in spans), ("split", text[a : a + 60])


def test_headings_agree_with_markdown_it() -> None:
    assert len(readmes()) >= 3  # the test extra's packages bring markdown READMEs
    for name, text in readmes():
        *_, table = ctxengine.chunking.split._native.chunk_text(
            text, len, 10**9, 0, "markdown", "", "", True
        )
        assert [(t, lvl) for t, lvl, _ in table] == [
            (t, lvl) for _, lvl, t in reference_headings(text)
        ], name


@pytest.mark.parametrize(
    ("part", "max_tokens", "overlap"), [(0, 64, 0), (1, 200, 0), (1, 120, 30), (0, 512, 50)]
)
def test_readmes_keep_fences_and_tables_whole(part: int, max_tokens: int, overlap: int) -> None:
    for _name, text in readmes()[part::2]:  # half the READMEs per case keeps it quick
        chunks = ctxengine.chunk(
            text, max_tokens, tokenizer="cl100k_base", by="markdown", overlap=overlap
        )
        check_chunks(text, chunks, max_tokens, CL100K, overlap=overlap)
        check_markdown(text, chunks, max_tokens)


def test_a_heading_starts_its_chunk_and_keeps_its_text() -> None:
    text = "# Guide\n\n" + "Intro sentence here. " * 30 + "\n\n## Usage\n\n" + "Run it. " * 40
    chunks = ctxengine.chunk(text, 60, tokenizer="cl100k_base", by="markdown")
    assert chunks[0].startswith("# Guide\n\nIntro")  # not "# Guide" alone
    usage = [i for i, c in enumerate(chunks) if c.startswith("## Usage\n\nRun it.")]
    assert len(usage) == 1
    assert chunks.headings(usage[0] - 1) == ("Guide",)
    assert chunks.headings(usage[0]) == chunks.headings(len(chunks) - 1) == ("Guide", "Usage")


def test_a_fence_that_does_not_fit_splits_at_its_lines() -> None:
    code = "\n".join(f"x{i} = compute({i}, {i * 2})" for i in range(200))
    text = "Before.\n\n```python\n" + code + "\n```\n\nAfter."
    chunks = ctxengine.chunk(text, 100, tokenizer="cl100k_base", by="markdown")
    check_chunks(text, chunks, 100, CL100K)
    for piece in chunks[1:-1]:
        for line in piece.splitlines():
            assert line.startswith(("x", "```")), line  # whole lines, never mid-line


@st.composite
def markdown_documents(draw: st.DrawFn) -> str:
    words = st.sampled_from(["alpha", "beta", "gamma", "delta", "Δέλτα", "日本語", "x", "y."])
    sentence = st.lists(words, min_size=1, max_size=12).map(lambda w: " ".join(w) + ".")
    paragraph = st.lists(sentence, min_size=1, max_size=6).map(" ".join)
    heading = st.tuples(st.integers(1, 6), st.lists(words, min_size=1, max_size=4)).map(
        lambda t: "#" * t[0] + " " + " ".join(t[1])
    )
    setext = st.tuples(st.lists(words, min_size=1, max_size=3), st.sampled_from("=-")).map(
        lambda t: " ".join(t[0]) + "\n" + t[1] * 5
    )
    fence = st.tuples(st.sampled_from(["```", "~~~~"]), st.lists(paragraph, max_size=8)).map(
        lambda t: t[0] + "py\n" + "\n".join(t[1]) + "\n# not a heading\n" + t[0]
    )
    table = st.lists(st.lists(words, min_size=2, max_size=2), min_size=1, max_size=12).map(
        lambda rows: "| a | b |\n|---|---|\n" + "\n".join(f"| {r[0]} | {r[1]} |" for r in rows)
    )
    items = st.lists(sentence, min_size=1, max_size=5).map(lambda s: "\n".join(f"- {x}" for x in s))
    block = st.one_of(paragraph, heading, setext, fence, table, items)
    return "\n\n".join(draw(st.lists(block, max_size=14)))


@settings(max_examples=40)
@given(text=markdown_documents(), max_tokens=st.integers(12, 150), overlap=st.integers(0, 10))
def test_generated_markdown(text: str, max_tokens: int, overlap: int) -> None:
    chunks = ctxengine.chunk(
        text, max_tokens, tokenizer="cl100k_base", by="markdown", overlap=overlap
    )
    check_chunks(text, chunks, max_tokens, CL100K, overlap=overlap)
    check_markdown(text, chunks, max_tokens)


def test_fence_of_exactly_the_budget_stays_whole() -> None:
    # Found by hypothesis: the fence takes exactly 12 tokens, but a prefix of it that ends one
    # "~" short takes 13, so count-until-limit stops before the fence's end. The chunker looks a
    # little past that point for a boundary that still fits.
    text = "alpha.\n\n# alpha\n\n~~~~py\nalpha alpha.\n# not a heading\n~~~~\n\nalpha."
    fence = text[text.index("~~~~py") : text.rindex("~~~~") + 4]
    assert CL100K(fence) == 12 and CL100K(fence[:-1]) > 12
    for overlap in (0, 3):
        chunks = ctxengine.chunk(text, 12, tokenizer="cl100k_base", by="markdown", overlap=overlap)
        check_chunks(text, chunks, 12, CL100K, overlap=overlap)
        check_markdown(text, chunks, 12)
    # The same through the stream form, which must choose as the whole text does.
    whole = ctxengine.chunk(text, 12, tokenizer="cl100k_base", by="markdown")
    for block_size in (16, 1 << 20):
        stream = ctxengine.chunk_stream(
            io.StringIO(text), 12, tokenizer="cl100k_base", by="markdown", block_size=block_size
        )
        assert [c.text for c in stream] == [whole[i] for i in range(len(whole))]
