"""ctxengine.integrations.langchain against the real LangChain: exact token lengths (counted by
tiktoken), exact start_index where str.find is wrong, retrieval equal to Index.search, and a
retrieve-then-prompt chain."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnablePassthrough
from langchain_text_splitters import TextSplitter as LangChainSplitter

import ctxengine
from ctxengine.integrations.langchain import Retriever, TextSplitter
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
    ("size", "overlap", "by"),
    [(64, 0, "recursive"), (100, 20, "sentences"), (48, 8, "markdown"), (32, 0, "tokens")],
)
def test_splitter_lengths_are_exact_tokens(size: int, overlap: int, by: str) -> None:
    splitter = TextSplitter(chunk_size=size, chunk_overlap=overlap, by=by, add_start_index=True)
    assert isinstance(splitter, LangChainSplitter)
    for name, text in documents()[:8]:
        docs = splitter.create_documents([text], [{"source": name}])
        pieces = [d.page_content for d in docs]
        assert pieces == splitter.split_text(text)
        assert pieces == list(ctxengine.chunk(text, size, overlap=overlap, by=by))
        check_pieces(text, pieces, [d.metadata["start_index"] for d in docs], size)
        assert all(d.metadata["source"] == name for d in docs)
        assert splitter._length_function(pieces[0]) == count(pieces[0])


def test_start_index_is_exact_where_find_is_not() -> None:
    """Overlapping chunks of repeated text: LangChain's own create_documents (str.find from
    the previous start plus its length minus chunk_overlap, a token count used as characters)
    lands on other copies of the paragraph; ctxengine's offsets are the chunks' own."""
    text = repeated_text()
    splitter = TextSplitter(chunk_size=16, chunk_overlap=8, add_start_index=True)
    ours = splitter.create_documents([text])
    truth = ctxengine.chunk(text, 16, overlap=8)
    assert [d.metadata["start_index"] for d in ours] == truth.starts.tolist()
    assert [d.page_content for d in ours] == list(truth)
    by_find = LangChainSplitter.create_documents(splitter, [text])
    assert [d.page_content for d in by_find] == list(truth)
    assert [d.metadata["start_index"] for d in by_find] != truth.starts.tolist()


def test_split_documents_keeps_metadata_and_strip_whitespace() -> None:
    text = "  Leading spaces.\n\nSecond paragraph here.  \n"
    docs = TextSplitter(chunk_size=4, add_start_index=True).split_documents(
        [Document(page_content=text, metadata={"k": [1]})]
    )
    assert all(d.metadata["k"] == [1] for d in docs)
    assert docs[0].metadata is not docs[-1].metadata
    tiled = TextSplitter(chunk_size=4, strip_whitespace=False).split_text(text)
    assert "".join(tiled) == text  # untrimmed chunks tile the text


def test_splitter_errors() -> None:
    with pytest.raises(ValueError, match="overlap must be smaller"):
        TextSplitter(chunk_size=10, chunk_overlap=10)
    with pytest.raises(ValueError, match="chunk_size must be a positive integer"):
        TextSplitter(chunk_size=0)
    with pytest.raises(FileNotFoundError, match="unknown tokenizer"):
        TextSplitter(tokenizer="no-such-tokenizer")
    with pytest.raises(ValueError, match="unknown chunking mode"):
        TextSplitter(by="paragraphs")
    with pytest.raises(ValueError, match="2 texts but 1 metadatas"):
        TextSplitter().create_documents(["a", "b"], [{}])


def test_retriever_equals_index_search(tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = saved_index(str(tmp_path_factory.mktemp("lc")))
    index = ctxengine.Index.load(folder)
    for source in (index, folder, str(folder)):
        retriever = Retriever(index=source, k=5)
        assert isinstance(retriever, BaseRetriever)
        for q in QUESTIONS:
            docs = retriever.invoke(q)
            hits = index.search(q, 5)
            assert [d.page_content for d in docs] == [h.text for h in hits]
            rows = [
                (
                    m["doc_id"],
                    m["chunk_id"],
                    d.page_content,
                    m["start"],
                    m["end"],
                    m["tokens"],
                    m["score"],
                )
                for d, m in ((d, d.metadata) for d in docs)
            ]
            assert rows == hits_as_rows(hits)
            assert all(d.metadata["lang"] in ("en", "zh") for d in docs)


def test_retriever_passes_filter_mode_and_options_through() -> None:
    index = ctxengine.Index(max_tokens=64)
    index.add_many(
        ["red apples and pears", "green apples", "apples again"],
        ["a", "b", "c"],
        [{"c": "r"}, {"c": "g"}, {"c": "r"}],
    )
    spy = SearchSpy(index)
    docs = Retriever(index=spy, k=2, filter={"c": "r"}, search_kwargs={"fusion": "rrf"}).invoke(
        "apples"
    )
    assert {d.metadata["doc_id"] for d in docs} <= {"a", "c"}
    assert spy.calls == [("apples", 2, {"mode": "bm25", "filter": {"c": "r"}, "fusion": "rrf"})]
    with pytest.raises(ValueError, match="needs an embedder"):
        Retriever(index=index, mode="dense").invoke("apples")


def test_retriever_errors(tmp_path_factory: pytest.TempPathFactory) -> None:
    with pytest.raises(ValueError, match="index must be a ctxengine Index"):
        Retriever(index=42)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        Retriever(index=ctxengine.Index(), k=0)
    with pytest.raises(FileNotFoundError):
        Retriever(index=tmp_path_factory.mktemp("empty") / "missing")


async def _ainvoke(retriever: Retriever, query: str) -> list[Document]:
    return await retriever.ainvoke(query)


def test_retrieve_then_prompt_chain(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A retrieval chain as LangChain users write it (LCEL), up to the prompt a model gets."""
    import asyncio

    folder = saved_index(str(tmp_path_factory.mktemp("lc2")))
    retriever = Retriever(index=folder, k=3)
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer from the context.\n\n{context}"), ("human", "{question}")]
    )

    def format_docs(docs: list[Document]) -> str:
        return "\n\n".join(f"[{d.metadata['doc_id']}] {d.page_content}" for d in docs)

    chain = {"context": retriever | format_docs, "question": RunnablePassthrough()} | prompt
    question = QUESTIONS[0]
    messages = chain.invoke(question).to_messages()
    hits = ctxengine.Index.load(folder).search(question, 3)
    assert messages[1].content == question
    for h in hits:
        assert f"[{h.doc_id}] {h.text}" in messages[0].content
    assert [d.page_content for d in asyncio.run(_ainvoke(retriever, question))] == [
        h.text for h in hits
    ]
