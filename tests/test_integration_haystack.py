"""ctxengine.integrations.haystack against the real Haystack: the splitter component's budgets
(counted by tiktoken), offsets and overlap metadata; the retriever's protocol, filters in
Haystack's syntax, results equal to Index.search; pipelines that retrieve and build a prompt,
written to YAML and read back. (tests/conftest.py turns Haystack's telemetry off.)"""

from __future__ import annotations

import os

os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")  # no usage reports from tests

import pytest
from haystack import Document, Pipeline
from haystack.components.builders import PromptBuilder
from haystack.components.retrievers.in_memory import InMemoryBM25Retriever
from haystack.components.writers import DocumentWriter
from haystack.core.errors import SerializationError
from haystack.document_stores.in_memory import InMemoryDocumentStore

import ctxengine
from ctxengine.integrations.haystack import DocumentSplitter, Retriever
from integration_support import (
    QUESTIONS,
    check_pieces,
    documents,
    hits_as_rows,
    repeated_text,
    saved_index,
)

ALLOWED = ["ctxengine.integrations.haystack"]  # Haystack's allowlist for loading pipelines


@pytest.mark.parametrize(("size", "overlap", "by"), [(64, 0, "recursive"), (80, 16, "sentences")])
def test_splitter_budgets_offsets_and_metadata(size: int, overlap: int, by: str) -> None:
    splitter = DocumentSplitter(chunk_size=size, chunk_overlap=overlap, by=by)
    sources = [Document(content=t, meta={"name": n}) for n, t in documents()[:6]]
    out = splitter.run(sources)["documents"]
    for src in sources:
        mine = [d for d in out if d.meta["source_id"] == src.id]
        text = src.content or ""
        assert [d.content for d in mine] == list(
            ctxengine.chunk(text, size, overlap=overlap, by=by)
        )
        check_pieces(
            text, [d.content or "" for d in mine], [d.meta["split_idx_start"] for d in mine], size
        )
        assert [d.meta["split_id"] for d in mine] == list(range(len(mine)))
        assert all(d.meta["name"] == src.meta["name"] for d in mine)
        for d in mine:
            assert d.meta["page_number"] == 1 + text.count("\f", 0, d.meta["split_idx_start"])
            if overlap:
                for link in d.meta["_split_overlap"]:
                    other = next(o for o in mine if o.id == link["doc_id"])
                    a, b = link["range"]
                    shared = other.content[a:b]
                    assert shared and (
                        (d.content or "").startswith(shared) or (d.content or "").endswith(shared)
                    )
            else:
                assert "_split_overlap" not in d.meta
        if overlap and len(mine) > 2:
            assert sum(bool(d.meta["_split_overlap"]) for d in mine) >= len(mine) // 2


def test_page_numbers_count_form_feeds() -> None:
    text = "Page one text.\fPage two text.\f\fPage four."
    out = DocumentSplitter(chunk_size=4).run([Document(content=text)])["documents"]
    assert [(d.content, d.meta["page_number"]) for d in out] == [
        ("Page one text.", 1),
        ("Page two text.", 2),
        ("Page four.", 4),
    ]


def test_splitter_errors_and_serialisation() -> None:
    with pytest.raises(ValueError, match="overlap must be smaller"):
        DocumentSplitter(chunk_size=5, chunk_overlap=5)
    with pytest.raises(FileNotFoundError, match="unknown tokenizer"):
        DocumentSplitter(tokenizer="nope")
    with pytest.raises(ValueError, match="no content"):
        DocumentSplitter().run([Document(content=None)])
    splitter = DocumentSplitter(
        chunk_size=32, chunk_overlap=4, tokenizer="o200k_base", by="markdown"
    )
    again = DocumentSplitter.from_dict(splitter.to_dict())
    assert again.to_dict() == splitter.to_dict()
    assert (again.chunk_size, again.chunk_overlap, again.tokenizer, again.by) == (
        32,
        4,
        "o200k_base",
        "markdown",
    )


def test_retriever_follows_the_protocol_and_equals_index_search(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    folder = saved_index(str(tmp_path_factory.mktemp("hs")))
    index = ctxengine.Index.load(folder)
    retriever = Retriever(str(folder), k=4)
    for q in QUESTIONS:
        docs = retriever.run(query=q)["documents"]
        rows = [
            (
                d.meta["doc_id"],
                d.meta["chunk_id"],
                d.content,
                d.meta["start"],
                d.meta["end"],
                d.meta["tokens"],
                d.score,
            )
            for d in docs
        ]
        assert rows == hits_as_rows(index.search(q, 4))
        assert len(retriever.run(query=q, top_k=2)["documents"]) == 2
    english = {"field": "meta.lang", "operator": "==", "value": "en"}
    for lang, q in (("en", QUESTIONS[0]), ("zh", "資訊科技 發展")):
        only = {"field": "meta.lang", "operator": "==", "value": lang}
        got = retriever.run(query=q, filters=only, top_k=10)["documents"]
        want = index.search(q, 10, filter={"lang": lang})
        assert got and [d.id for d in got] == [f"{h.doc_id}#{h.chunk_id}" for h in want]
        assert all(d.meta["lang"] == lang for d in got)
    complex_filter = {
        "operator": "AND",
        "conditions": [english, {"field": "meta.n", "operator": "<", "value": 3}],
    }
    got = Retriever(index, k=10, filters=complex_filter).run(query=QUESTIONS[0])["documents"]
    assert got and all(d.meta["lang"] == "en" and d.meta["n"] < 3 for d in got)
    with pytest.raises(ValueError, match="top_k must be a positive integer"):
        retriever.run(query="x", top_k=0)


def test_pipeline_retrieves_builds_a_prompt_and_round_trips(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    folder = saved_index(str(tmp_path_factory.mktemp("hs2")))
    pipe = Pipeline()
    pipe.add_component("retriever", Retriever(str(folder), k=3))
    template = (
        "{% for d in documents %}[{{ d.meta.doc_id }}] {{ d.content }}\n{% endfor %}"
        "Question: {{ query }}"
    )
    pipe.add_component(
        "prompt", PromptBuilder(template=template, required_variables=["documents", "query"])
    )
    pipe.connect("retriever.documents", "prompt.documents")
    question = QUESTIONS[2]
    inputs = {"retriever": {"query": question}, "prompt": {"query": question}}
    prompt = pipe.run(inputs)["prompt"]["prompt"]
    hits = ctxengine.Index.load(folder).search(question, 3)
    assert prompt == "".join(f"[{h.doc_id}] {h.text}\n" for h in hits) + f"Question: {question}"
    loaded = Pipeline.loads(pipe.dumps(), allowed_modules=ALLOWED)
    assert loaded.run(inputs)["prompt"]["prompt"] == prompt
    with pytest.raises(SerializationError, match="save the index"):
        Retriever(ctxengine.Index.load(folder)).to_dict()


def test_splitter_in_an_indexing_pipeline() -> None:
    """Split with ctxengine, store in Haystack's in-memory store, retrieve with its BM25."""
    store = InMemoryDocumentStore()
    indexing = Pipeline()
    indexing.add_component("split", DocumentSplitter(chunk_size=48, by="sentences"))
    indexing.add_component("write", DocumentWriter(document_store=store))
    indexing.connect("split.documents", "write.documents")
    text = repeated_text() + documents()[0][1][:5000]
    indexing.run({"split": {"documents": [Document(content=text)]}})
    stored = store.filter_documents()
    assert (
        sorted(d.meta["split_idx_start"] for d in stored)
        == ctxengine.chunk(text, 48, by="sentences").starts.tolist()
    )
    found = InMemoryBM25Retriever(document_store=store).run(
        query="different ending paragraph", top_k=1
    )
    assert "different ending" in (found["documents"][0].content or "")
    loaded = Pipeline.loads(indexing.dumps(), allowed_modules=ALLOWED)
    assert isinstance(loaded.get_component("split"), DocumentSplitter)
