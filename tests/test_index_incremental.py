"""Index adds and removes go to the incremental BM25 index: after any interleaving of adds,
removes, merges, saves and loads, BM25 search equals a fresh Index built from the same live
documents (same hits, same scores, bit for bit), and the scores of shards that share their
statistics equal one index's."""

from __future__ import annotations

import tempfile

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import ctxengine
from corpus import english_prose
from ctxengine import Index, TermStats

WORDS = ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta", "iota", "kappa"]
QUERIES = ["alpha beta", "gamma gamma delta", "kappa", "eps zeta eta theta iota"]


def _key(hit):
    return (hit.doc_id, hit.text, hit.start, hit.end, hit.tokens, hit.score)


def fresh(docs: dict[str, str], **options) -> Index:
    index = Index(max_tokens=8, **options)
    index.add_many(list(docs.values()), list(docs))
    return index


def assert_same(index: Index, docs: dict[str, str], queries, k: int = 6) -> None:
    reference = fresh(docs)
    for q in queries:
        assert [_key(h) for h in index.search(q, k=k)] == [
            _key(h) for h in reference.search(q, k=k)
        ]
        assert index.term_stats(q) == reference.term_stats(q)
    assert len(index) == len(reference) and index.n_chunks == reference.n_chunks
    assert index.mean_chunk_tokens == reference.mean_chunk_tokens


class IndexMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.index = Index(max_tokens=8)
        self.docs: dict[str, str] = {}
        self.n = 0

    @rule(texts=st.lists(st.lists(st.sampled_from(WORDS), max_size=20).map(" ".join), max_size=5))
    def add(self, texts: list[str]) -> None:
        ids = [f"d{self.n + i}" for i in range(len(texts))]
        self.n += len(texts)
        self.index.add_many(texts, ids)
        self.docs.update(zip(ids, texts, strict=True))

    @precondition(lambda self: self.docs)
    @rule(data=st.data())
    def remove(self, data: st.DataObject) -> None:
        doc = data.draw(st.sampled_from(sorted(self.docs)))
        self.index.remove(doc)
        del self.docs[doc]

    @rule(n=st.integers(1, 3))
    def merge(self, n: int) -> None:
        self.index.merge(n)

    @rule()
    def save_and_load(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            self.index.save(tmp)
            self.index = Index.load(tmp)

    @invariant()
    def equals_a_fresh_index(self) -> None:
        assert_same(self.index, self.docs, QUERIES)


IndexMachine.TestCase.settings = settings(max_examples=30, stateful_step_count=15, deadline=None)
test_index_adds_and_removes_equal_a_fresh_index = IndexMachine.TestCase


def _paragraphs(n: int) -> list[str]:
    return [p for _, t in english_prose(40) for p in t.split("\n\n") if p.strip()][:n]


REAL = [
    "how do I read a file line by line",
    "spawn new processes connect to their pipes and obtain return codes",
    "unicode string encoding errors",
]


def test_one_document_at_a_time_on_real_text(tmp_path) -> None:
    paras = _paragraphs(1500)
    index = Index(max_tokens=64)
    lexical = index._lexical  # small memory segments, so that flushes and merges happen here
    lexical.native = ctxengine._core.index.Bm25Index(
        lexical.analyzer, lexical.params, flush_docs=64, merge_factor=3
    )
    docs: dict[str, str] = {}
    for i, p in enumerate(paras):
        index.add(p, doc_id=f"p{i}")
        docs[f"p{i}"] = p
        if i % 7 == 3:
            gone = f"p{i - 3}"
            index.remove(gone)
            del docs[gone]
    lexical.native.wait_for_merges()
    assert 1 < lexical.native.n_segments < 1500 // 64  # flushed, and merged
    assert_same_real(index, docs)
    index.save(tmp_path / "ix")
    assert_same_real(Index.load(tmp_path / "ix"), docs)


def assert_same_real(index: Index, docs: dict[str, str]) -> None:
    reference = Index(max_tokens=64)
    reference.add_many(list(docs.values()), list(docs))
    for q in REAL:
        assert [_key(h) for h in index.search(q, k=10)] == [
            _key(h) for h in reference.search(q, k=10)
        ]


def test_shards_with_summed_statistics_score_as_one_index() -> None:
    paras = _paragraphs(900)
    whole = Index(max_tokens=64)
    whole.add_many(paras, [f"p{i}" for i in range(len(paras))])
    shards = [Index(max_tokens=64) for _ in range(3)]
    for i, p in enumerate(paras):
        shards[i % 3].add(p, doc_id=f"p{i}")
    for q in REAL:
        stats = TermStats.sum(s.term_stats(q) for s in shards)
        hits = [h for s in shards for h in s.search(q, k=10, stats=stats)]
        # One index breaks ties by insertion order; here that is the paragraph number.
        hits.sort(key=lambda h: (-h.score, int(h.doc_id[1:]), h.start))
        expected = whole.search(q, k=10)
        assert [(h.doc_id, h.score) for h in hits[:10]] == [(h.doc_id, h.score) for h in expected]
    with pytest.raises(ctxengine.InvalidInputError, match="TermStats"):
        whole.search("x", stats={"n_docs": 1})  # type: ignore[arg-type]
