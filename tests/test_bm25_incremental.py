"""The incremental BM25 index (csrc/index/bm25_index.cpp): after any interleaving of adds,
removes, flushes and merges, every search equals a from-scratch build over the same live
documents, bit for bit (scores and keys), for every strategy; statistics gathered from shards
make each shard score as the whole index; removals are checked against the postings."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import ctxengine
from corpus import english_prose
from ctxengine import _core
from ctxengine.bm25 import analyzer_options, bm25_params

ix = _core.index
STRATEGIES = ("exhaustive", "taat", "maxscore", "bmw", "auto")
WORDS = ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta", "iota", "kappa"]
QUERIES = ["alpha beta", "gamma gamma delta", "kappa", "eps zeta eta theta iota", "alpha kappa zzz"]


def _ranges(texts: list[str]) -> tuple[bytes, np.ndarray, np.ndarray]:
    encoded = [t.encode() for t in texts]
    lengths = np.array([len(e) for e in encoded], dtype=np.int64)
    ends = np.cumsum(lengths, dtype=np.int64)
    return b"".join(encoded), ends - lengths, ends


def scratch(docs: dict[int, str], **options) -> object:
    keys = sorted(docs)
    data, starts, ends = _ranges([docs[k] for k in keys])
    return ix.Bm25Index.build(
        data,
        starts,
        ends,
        analyzer_options(**options),
        bm25_params(),
        1,
        keys=np.array(keys, dtype=np.int64),
    )


def assert_same(index, reference, queries, k: int = 10, filter=None) -> None:
    for q in queries:
        ref = reference.search(q.encode(), k, filter, None, ix.Strategy.exhaustive)
        for name in STRATEGIES:
            got = index.search(q.encode(), k, filter, None, getattr(ix.Strategy, name))
            np.testing.assert_array_equal(got[1], ref[1], err_msg=f"{name} {q!r}")
            np.testing.assert_array_equal(got[0], ref[0], err_msg=f"{name} {q!r}")
    assert index.stats() == reference.stats()
    for q in queries:
        assert index.term_stats(q.encode()) == reference.term_stats(q.encode())


class Incremental(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.index = ix.Bm25Index(analyzer_options(), bm25_params(), flush_docs=4, merge_factor=3)
        self.docs: dict[int, str] = {}
        self.next_key = 0

    @rule(
        texts=st.lists(
            st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join), min_size=1, max_size=9
        ),
        gap=st.integers(0, 3),
    )
    def add(self, texts: list[str], gap: int) -> None:
        keys = np.arange(len(texts), dtype=np.int64) + self.next_key + gap
        self.next_key = int(keys[-1]) + 1
        data, starts, ends = _ranges(texts)
        self.index.add(data, starts, ends, keys, 1)
        self.docs.update(zip(keys.tolist(), texts, strict=True))

    @precondition(lambda self: self.docs)
    @rule(data=st.data())
    def remove(self, data: st.DataObject) -> None:
        keys = data.draw(st.lists(st.sampled_from(sorted(self.docs)), min_size=1, unique=True))
        texts = [self.docs[k] for k in keys]
        blob, starts, ends = _ranges(texts)
        self.index.remove(np.array(keys, dtype=np.int64), blob, starts, ends)
        for k in keys:
            del self.docs[k]

    @rule()
    def flush(self) -> None:
        self.index.flush(1)

    @rule()
    def maintain(self) -> None:
        self.index.maintain(False, 1)

    @rule(n=st.integers(1, 3))
    def force_merge(self, n: int) -> None:
        self.index.force_merge(n, 1)

    @invariant()
    def equals_a_build_from_scratch(self) -> None:
        reference = scratch(self.docs)
        assert_same(self.index, reference, QUERIES, k=5)
        if self.docs:
            keys = np.array(sorted(self.docs), dtype=np.int64)
            filter = np.zeros(int(keys[-1]) + 1, dtype=np.uint8)
            filter[keys[::2]] = 1
            assert_same(self.index, reference, QUERIES[:2], k=3, filter=filter)


Incremental.TestCase.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)
test_incremental_equals_from_scratch = Incremental.TestCase


def _paragraphs(limit: int) -> list[str]:
    docs = [p for _, t in english_prose(80) for p in t.split("\n\n") if p.strip()]
    assert len(docs) >= limit
    return docs[:limit]


REAL_QUERIES = [
    "how do I read a file line by line",
    "spawn new processes connect to their input output error pipes",
    "the of and",
    "unicode string encoding errors",
    "class method decorator",
]


def test_incremental_equals_from_scratch_on_real_text() -> None:
    paras = _paragraphs(6000)
    rng = np.random.default_rng(7)
    index = ix.Bm25Index(analyzer_options(), bm25_params(), flush_docs=64, merge_factor=4)
    live: dict[int, str] = {}
    key = 0
    for step in range(40):
        n = int(rng.integers(1, 300))
        batch = paras[key : key + n]
        if not batch:
            break
        keys = np.arange(key, key + len(batch), dtype=np.int64)
        index.add(*_ranges(batch), keys, 0)
        live.update(zip(keys.tolist(), batch, strict=True))
        key += len(batch)
        gone = rng.choice(
            sorted(live), size=min(len(live), int(rng.integers(0, 40))), replace=False
        )
        if len(gone):
            index.remove(np.sort(gone).astype(np.int64), *_ranges([live[g] for g in np.sort(gone)]))
            for g in gone.tolist():
                del live[g]
        if step % 5 == 4:
            index.maintain(False, 0)
        if step % 9 == 8:
            index.force_merge(2, 0)
    assert index.n_segments > 1
    assert_same(index, scratch(live), REAL_QUERIES, k=10)
    index.flush(0)
    index.force_merge(1, 0)
    assert index.n_segments == 1
    assert_same(index, scratch(live), REAL_QUERIES, k=10)


def test_background_merges_equal_from_scratch() -> None:
    paras = _paragraphs(3000)
    index = ix.Bm25Index(analyzer_options(), bm25_params(), flush_docs=32, merge_factor=3)
    live: dict[int, str] = {}
    for start in range(0, 2000, 50):
        batch = paras[start : start + 50]
        keys = np.arange(start, start + len(batch), dtype=np.int64)
        index.add(*_ranges(batch), keys, 1)
        live.update(zip(keys.tolist(), batch, strict=True))
        index.maintain(True, 1)  # starts a merge thread when one is due and none runs
        gone = [k for k in list(live) if k % 7 == start % 7][:3]
        index.remove(np.array(gone, dtype=np.int64), *_ranges([live[g] for g in gone]))
        for g in gone:
            del live[g]
        assert_same(index, scratch(live), REAL_QUERIES[:2], k=5)
    index.wait_for_merges()
    assert index.n_segments < 2000 // 32  # merges ran
    assert_same(index, scratch(live), REAL_QUERIES, k=10)


def test_deletions_during_a_background_merge_are_carried_over() -> None:
    paras = _paragraphs(1000)
    index = ix.Bm25Index(analyzer_options(), bm25_params(), flush_docs=100, merge_factor=8)
    live = dict(enumerate(paras))
    for start in range(0, 1000, 100):
        index.add(*_ranges(paras[start : start + 100]), np.arange(start, start + 100), 1)
    assert index.n_segments == 10
    index.hold_merges(True)
    try:
        assert index.maintain(True, 1) == 1
        gone = list(range(0, 1000, 3))  # in the segments being merged and the others
        index.remove(np.array(gone, dtype=np.int64), *_ranges([live[g] for g in gone]))
        for g in gone:
            del live[g]
        assert_same(index, scratch(live), REAL_QUERIES, k=10)  # searched while it waits
    finally:
        index.hold_merges(False)
    index.wait_for_merges()
    assert index.segment_sizes == [(800, 267), (100, 33), (100, 34)]  # one merge, deletions kept
    assert_same(index, scratch(live), REAL_QUERIES, k=10)


def test_sharded_statistics_give_the_whole_index_scores() -> None:
    """What ctxengine.distributed needs: each shard scores with statistics summed over all
    shards (term_stats, stats) and the merged top k equals one index's, bit for bit."""
    paras = _paragraphs(4000)
    whole = scratch(dict(enumerate(paras)))
    shards = []
    for s in range(3):
        keys = [k for k in range(len(paras)) if k % 3 == s]
        data, starts, ends = _ranges([paras[k] for k in keys])
        shard = ix.Bm25Index(analyzer_options(), bm25_params())
        shard.add(data, starts, ends, np.array(keys, dtype=np.int64), 1)
        shards.append(shard)
    for q in REAL_QUERIES:
        n_docs = sum(s.stats()[0] for s in shards)
        total = sum(s.stats()[1] for s in shards)
        df: dict[str, int] = {}
        for s in shards:
            for term, count in s.term_stats(q.encode()):
                df[term] = df.get(term, 0) + count
        hits = []
        for s in shards:
            scores, keys = s.search(q.encode(), 10, None, (n_docs, total, df))
            hits += zip(scores.tolist(), keys.tolist(), strict=True)
        hits.sort(key=lambda h: (-h[0], h[1]))
        ref = whole.search(q.encode(), 10)
        assert [h[1] for h in hits[:10]] == ref[1].tolist()
        assert np.array_equal(np.array([h[0] for h in hits[:10]], np.float32), ref[0])
        # Statistics that leave out a shard's documents are refused, not silently used.
        with pytest.raises(ctxengine.InvalidInputError, match="term_stats"):
            shards[0].search(q.encode(), 10, None, (1, 1, df))


def test_removal_checks_the_text() -> None:
    index = ix.Bm25Index(analyzer_options(), bm25_params(), flush_docs=2)
    texts = ["red apples", "green pears", "red red wine", "blue"]
    index.add(*_ranges(texts), np.arange(4, dtype=np.int64), 1)
    for keys, given in (
        ([0], ["red apple"]),
        ([1], ["green pears pears"]),
        ([9], ["nothing"]),
        ([2, 2], ["red red wine", "red red wine"]),
        ([3], ["BLUE blue"]),
    ):
        with pytest.raises(ctxengine.InvalidInputError):
            index.remove(np.array(keys, dtype=np.int64), *_ranges(given))
    assert index.stats() == scratch(dict(enumerate(texts))).stats()  # nothing was removed
    index.remove(np.array([2], dtype=np.int64), *_ranges(["RED, red wine!"]))  # same terms
    with pytest.raises(ctxengine.InvalidInputError, match="no document"):
        index.remove(np.array([2], dtype=np.int64), *_ranges(["red red wine"]))
    with pytest.raises(ctxengine.InvalidInputError, match="above every key"):
        index.add(*_ranges(["late"]), np.array([3], dtype=np.int64), 1)
    assert_same(index, scratch({0: texts[0], 1: texts[1], 3: texts[3]}), ["red", "blue pears"])


def test_a_fork_during_a_background_merge_is_harmless() -> None:
    """A child forked while a merge thread runs has no such thread: dropping the index there
    neither joins nor waits for it, and the parent's merge finishes as usual. (Using the index
    in such a child is not supported: the thread may have held its locks at the fork.)"""
    import os

    paras = _paragraphs(400)
    index = ix.Bm25Index(analyzer_options(), bm25_params(), flush_docs=50, merge_factor=8)
    for start in range(0, 400, 50):
        index.add(*_ranges(paras[start : start + 50]), np.arange(start, start + 50), 1)
    index.hold_merges(True)
    assert index.maintain(True, 1) == 1
    pid = os.fork()
    if pid == 0:  # the child: drop the index, exit
        try:
            del index
            os._exit(0)
        except BaseException:
            os._exit(4)
    _, status = os.waitpid(pid, 0)
    index.hold_merges(False)
    index.wait_for_merges()
    assert os.waitstatus_to_exitcode(status) == 0
    assert_same(index, scratch(dict(enumerate(paras))), REAL_QUERIES, k=5)
