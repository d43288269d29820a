"""ctxengine.integrations.chonkie against the real chonkie: exact token counts (tiktoken),
offsets, registration in chonkie's pipeline, its tokenizer interface, and a pipeline that chunks
with chonkie, retrieves with ctxengine and packs the prompt."""

from __future__ import annotations

import pytest
from chonkie import BaseChunker, OverlapRefinery, Pipeline
from chonkie.pipeline import ComponentRegistry

import ctxengine
from ctxengine.integrations.chonkie import CtxChunker
from integration_support import QUESTIONS, check_pieces, count, documents, repeated_text


@pytest.mark.parametrize(
    ("size", "overlap", "by"), [(64, 0, "recursive"), (128, 32, "sentences"), (50, 0, "markdown")]
)
def test_chunks_are_exact(size: int, overlap: int, by: str) -> None:
    chunker = CtxChunker(chunk_size=size, chunk_overlap=overlap, by=by)
    assert isinstance(chunker, BaseChunker)
    for _, text in documents()[:8]:
        chunks = chunker.chunk(text)
        truth = ctxengine.chunk(text, size, overlap=overlap, by=by)
        assert [c.text for c in chunks] == list(truth)
        assert [c.token_count for c in chunks] == [count(c.text) for c in chunks]
        check_pieces(text, [c.text for c in chunks], [c.start_index for c in chunks], size)
        assert all(text[c.start_index : c.end_index] == c.text for c in chunks)


def test_markdown_headings_and_batches() -> None:
    text = "# Guide\n\nIntro.\n\n## Install\n\nRun pip.\n\n## Use\n\nCall it."
    chunks = CtxChunker(chunk_size=6, by="markdown").chunk(text)
    assert [c.metadata.get("headings") for c in chunks][-1] == ["Guide", "Use"]
    chunker = CtxChunker(chunk_size=16)
    texts = [t for _, t in documents()[:3]]
    batch = chunker(texts, show_progress=False)
    assert [[c.text for c in b] for b in batch] == [
        [c.text for c in chunker.chunk(t)] for t in texts
    ]
    assert [c.text for c in chunker(repeated_text())] == list(ctxengine.chunk(repeated_text(), 16))


def test_registered_in_chonkie_pipelines() -> None:
    assert ComponentRegistry.get_chunker("ctxengine").component_class is CtxChunker
    text = documents()[0][1]
    doc = Pipeline().chunk_with("ctxengine", chunk_size=96, tokenizer="o200k_base").run(texts=text)
    assert [c.text for c in doc.chunks] == list(ctxengine.chunk(text, 96, tokenizer="o200k_base"))
    assert max(count(c.text, "o200k_base") for c in doc.chunks) <= 96


def test_tokenizer_interface_for_refineries() -> None:
    chunker = CtxChunker(chunk_size=40)
    tok = chunker.tokenizer
    text = documents()[1][1][:2000]
    assert tok.count_tokens(text) == count(text)
    assert list(tok.encode("hello world")) == [15339, 1917]
    assert tok.decode([15339, 1917]) == "hello world"
    assert list(tok.count_tokens_batch(["a b", "hello world"])) == [2, 2]
    chunks = chunker.chunk(text)
    refined = OverlapRefinery(tokenizer=tok, context_size=4).refine(chunks)
    assert len(refined) == len(chunks)


def test_errors() -> None:
    with pytest.raises(ValueError, match="overlap must be smaller"):
        CtxChunker(chunk_size=4, chunk_overlap=4)
    with pytest.raises(FileNotFoundError, match="unknown tokenizer"):
        CtxChunker(tokenizer="gpt-9")
    assert "chunk_size=4" in repr(CtxChunker(chunk_size=4))


def test_chunk_retrieve_and_pack() -> None:
    """chonkie chunks the corpus; ctxengine indexes those chunks, retrieves and packs."""
    chunker = CtxChunker(chunk_size=96)
    index = ctxengine.Index(max_tokens=96)  # every chonkie chunk fits: kept whole
    ids, texts, metas = [], [], []
    for name, text in documents():
        for i, c in enumerate(chunker.chunk(text)):
            ids.append(f"{name}:{i}")
            texts.append(c.text)
            metas.append({"source": name, "start": c.start_index})
    index.add_many(texts, ids, metas)
    assert index.n_chunks == len(texts)
    question = QUESTIONS[3]
    packed = ctxengine.pack(question, index, 600, format="openai")
    assert packed.tokens <= 600 and packed.sources
    for s in packed.sources:
        assert s.text in texts[ids.index(s.doc_id)]
    assert question in packed.messages[-1]["content"]
