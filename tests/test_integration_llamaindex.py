"""ctxengine.integrations.llamaindex against the real LlamaIndex: node budgets counted by
tiktoken, exact char offsets and node relationships, retrieval equal to Index.search, and a
query engine that retrieves and builds the prompt (MockLLM echoes the prompt it is given)."""

from __future__ import annotations

import pytest
from llama_index.core import Document
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.ingestion import IngestionPipeline
from llama_index.core.llms import MockLLM
from llama_index.core.node_parser import TextSplitter as LlamaSplitter
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import MetadataMode, NodeRelationship

import ctxengine
from ctxengine.integrations.llamaindex import NodeParser, Retriever
from integration_support import (
    QUESTIONS,
    SearchSpy,
    check_pieces,
    count,
    documents,
    hits_as_rows,
    repeated_text,
    saved_index,
)


@pytest.mark.parametrize(
    ("size", "overlap", "by"), [(64, 0, "recursive"), (96, 16, "sentences"), (40, 0, "code")]
)
def test_nodes_have_exact_budgets_offsets_and_relationships(
    size: int, overlap: int, by: str
) -> None:
    parser = NodeParser(chunk_size=size, chunk_overlap=overlap, by=by)
    assert isinstance(parser, LlamaSplitter)
    docs = [Document(text=t, metadata={"source": n}) for n, t in documents()[:6]]
    nodes = parser.get_nodes_from_documents(docs)
    for doc in docs:
        mine = [n for n in nodes if n.ref_doc_id == doc.doc_id]
        texts = [n.get_content(metadata_mode=MetadataMode.NONE) for n in mine]
        assert texts == list(ctxengine.chunk(doc.text, size, overlap=overlap, by=by))
        check_pieces(doc.text, texts, [n.start_char_idx for n in mine], size)
        assert all(doc.text[n.start_char_idx : n.end_char_idx] == n.text for n in mine)
        assert all(n.metadata["source"] == doc.metadata["source"] for n in mine)
        for i, n in enumerate(mine):
            rel = n.relationships
            assert rel[NodeRelationship.SOURCE].node_id == doc.doc_id
            assert (NodeRelationship.PREVIOUS in rel) == (i > 0)
            assert (NodeRelationship.NEXT in rel) == (i < len(mine) - 1)
            if i:
                assert rel[NodeRelationship.PREVIOUS].node_id == mine[i - 1].node_id


def test_offsets_where_llamaindex_would_find_another_copy() -> None:
    """LlamaIndex's post-processing re-finds each node from the previous node's start + 1: on
    text of one repeated word it lands a word further, not where the node was cut."""
    text = "word " * 100
    doc = Document(text=text)
    parser = NodeParser(chunk_size=10, chunk_overlap=3)
    truth = ctxengine.chunk(text, 10, overlap=3)
    nodes = parser.get_nodes_from_documents([doc])
    assert [n.start_char_idx for n in nodes] == truth.starts.tolist()
    by_find = LlamaSplitter._postprocess_parsed_nodes(
        parser, parser._parse_nodes([doc]), {doc.doc_id: doc}
    )
    assert [n.start_char_idx for n in by_find] != truth.starts.tolist()


def test_offsets_of_repeated_text_are_the_chunks_own() -> None:
    text = repeated_text()
    nodes = NodeParser(chunk_size=16, chunk_overlap=8).get_nodes_from_documents(
        [Document(text=text)]
    )
    truth = ctxengine.chunk(text, 16, overlap=8)
    assert [n.start_char_idx for n in nodes] == truth.starts.tolist()
    assert [n.end_char_idx for n in nodes] == truth.ends.tolist()


def test_reparsing_nodes_keeps_offsets_into_the_document() -> None:
    text = documents()[0][1]
    doc = Document(text=text)
    coarse = NodeParser(chunk_size=400).get_nodes_from_documents([doc])
    fine = NodeParser(chunk_size=50)(coarse)
    for n in fine:
        assert text[n.start_char_idx : n.end_char_idx] == n.text


def test_in_an_ingestion_pipeline_and_serialised() -> None:
    parser = NodeParser(chunk_size=32, tokenizer="o200k_base", by="markdown")
    nodes = IngestionPipeline(transformations=[parser]).run(
        documents=[Document(text="# A\n\nalpha beta\n\n## B\n\ngamma")]
    )
    assert [n.text for n in nodes] == list(
        ctxengine.chunk(
            "# A\n\nalpha beta\n\n## B\n\ngamma", 32, tokenizer="o200k_base", by="markdown"
        )
    )
    data = parser.to_dict()
    assert data["class_name"] == "CtxengineNodeParser" and data["tokenizer"] == "o200k_base"
    again = NodeParser.from_dict(data)
    assert (again.chunk_size, again.tokenizer, again.by) == (32, "o200k_base", "markdown")


def test_node_parser_errors() -> None:
    with pytest.raises(ValueError, match="overlap must be smaller"):
        NodeParser(chunk_size=8, chunk_overlap=8)
    with pytest.raises(ValueError, match="greater than 0"):
        NodeParser(chunk_size=0)
    with pytest.raises(FileNotFoundError, match="unknown tokenizer"):
        NodeParser(tokenizer="nope")
    with pytest.raises(ValueError, match="unknown chunking mode"):
        NodeParser(by="nope")


def test_retriever_equals_index_search(tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = saved_index(str(tmp_path_factory.mktemp("li")))
    index = ctxengine.Index.load(folder)
    for source in (index, folder):
        retriever = Retriever(source, k=5)
        assert isinstance(retriever, BaseRetriever)
        for q in QUESTIONS:
            got = retriever.retrieve(q)
            hits = index.search(q, 5)
            rows = [
                (
                    m["doc_id"],
                    m["chunk_id"],
                    n.node.get_content(),
                    n.node.start_char_idx,
                    n.node.end_char_idx,
                    m["tokens"],
                    n.score,
                )
                for n, m in ((n, n.node.metadata) for n in got)
            ]
            assert rows == hits_as_rows(hits)
            for n, h in zip(got, hits, strict=True):
                assert n.node.relationships[NodeRelationship.SOURCE].node_id == h.doc_id
                llm_text = n.node.get_content(metadata_mode=MetadataMode.LLM)
                assert "chunk_id" not in llm_text and f"doc_id: {h.doc_id}" in llm_text


def test_retriever_passes_options_and_checks_them() -> None:
    index = ctxengine.Index(max_tokens=64)
    index.add_many(
        ["red apples", "green apples", "apples again"],
        ["a", "b", "c"],
        [{"c": "r"}, {"c": "g"}, {"c": "r"}],
    )
    spy = SearchSpy(index)
    got = Retriever(spy, k=3, filter={"c": "g"}).retrieve("apples")
    assert [n.node.metadata["doc_id"] for n in got] == ["b"]
    assert spy.calls == [("apples", 3, {"mode": "bm25", "filter": {"c": "g"}})]
    with pytest.raises(ValueError, match="k must be a positive integer"):
        Retriever(index, k=-1)
    with pytest.raises(ValueError, match="index must be"):
        Retriever(object())


def test_query_engine_retrieves_and_builds_the_prompt(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    folder = saved_index(str(tmp_path_factory.mktemp("li2")))
    engine = RetrieverQueryEngine.from_args(Retriever(folder, k=3), llm=MockLLM())
    question = QUESTIONS[1]
    response = engine.query(question)
    prompt = str(response)  # MockLLM without max_tokens answers with the prompt it got
    hits = ctxengine.Index.load(folder).search(question, 3)
    assert question in prompt
    for h in hits:
        assert h.text.strip()[:200] in prompt
    assert [n.node.metadata["chunk_id"] for n in response.source_nodes] == [
        h.chunk_id for h in hits
    ]


def test_budget_is_in_the_named_tokenizer() -> None:
    """The budget counts tokens of `tokenizer`: o200k nodes of CJK text, counted by tiktoken."""
    text = next(t for n, t in documents() if "utf8" in n)
    nodes = NodeParser(chunk_size=60, tokenizer="o200k_base").get_nodes_from_documents(
        [Document(text=text)]
    )
    assert len(nodes) > 3
    assert max(count(n.text, "o200k_base") for n in nodes) <= 60
    check_pieces(text, [n.text for n in nodes], [n.start_char_idx for n in nodes], 10**9)
