"""BM25: the analyzer against a plain-Python reference, scores against a reference BM25 and
against bm25s / rank_bm25 given the same tokens, block-max WAND against exhaustive scoring."""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
import unicodedata
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ctxengine
from corpus import cjk_texts, english_prose, message_catalogs, stdlib_sources
from ctxengine import _core
from ctxengine.bm25 import BM25, analyze, analyzer_options, bm25_params
from ctxengine.bm25 import analyze as _analyze

ix = _core.index

# ---- the analyzer -------------------------------------------------------------------------


def _is_cjk(cp: int) -> bool:
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x323AF
        or 0xF900 <= cp <= 0xFAFF
        or 0x3040 <= cp <= 0x30FF
        or 0x31F0 <= cp <= 0x31FF
        or 0xFF66 <= cp <= 0xFF9D
        or cp in (0x3005, 0x3007)
    )


def _lower(ch: str) -> str:
    cps = np.array([ord(ch)], dtype=np.uint32)
    return chr(int(_core.text.to_lower(cps)[0]))  # simple lowercase (checked in test_unicode)


STOP = set(ix.english_stop_words())


def _s_stem(w: str) -> str:
    if len(w) < 4 or not w.endswith("s"):
        return w
    if w.endswith("ies"):
        return w if w[-4] in "ea" else w[:-3] + "y"
    if w.endswith("es"):
        return w if w[-3] in "aeo" else w[:-1]
    if w.endswith(("us", "ss")):
        return w
    return w[:-1]


def reference_analyze(
    text: str, *, cjk: str = "bigrams", stop: bool = False, stem: bool = False, min_chars: int = 1
):
    """Plain-Python statement of the analyzer's rules (docs/retrieval.md)."""
    import unicodedata2

    def cls(ch: str) -> str:
        cp = ord(ch)
        if _is_cjk(cp):
            return "cjk"
        cat = unicodedata2.category(ch)
        if cat[0] in "LN" or cat == "Pc":
            return "word"
        if cat[0] == "M":
            return "mark"
        return "other"

    terms: list[str] = []

    def emit(t: str, ascii_word: bool, word: bool = True) -> None:
        if not t or len(t.encode()) > 255 or (stop and t in STOP):
            return
        # Short words go unless they hold an ASCII digit; CJK terms stay.
        if word and len(t) < min_chars and not any("0" <= c <= "9" for c in t):
            return
        terms.append(_s_stem(t) if stem and ascii_word else t)

    i, n = 0, len(text)
    while i < n:
        c = cls(text[i])
        if c == "cjk":
            run = []
            while i < n and cls(text[i]) == "cjk":
                unit = _lower(text[i])
                i += 1
                while i < n and cls(text[i]) == "mark":
                    unit += text[i]
                    i += 1
                run.append(unit)
            if cjk == "unigrams" or len(run) == 1:
                for u in run:
                    emit(u, False, False)
            else:
                for a, b in itertools.pairwise(run):
                    emit(a + b, False, False)
        elif c == "word":
            j = i
            while j < n and cls(text[j]) in ("word", "mark"):
                j += 1
            word = "".join(_lower(ch) for ch in text[i:j])
            emit(word, text[i:j].isascii())
            i = j
        else:
            i += 1
    return terms


def _samples() -> list[str]:
    out = [t[:20_000] for _, t in english_prose(6)]
    out += [t[:20_000] for _, t in stdlib_sources(4)]
    out += [t for _, t in cjk_texts()]
    out += [t[:5_000] for _, t in message_catalogs()[::7]]
    return out


@pytest.mark.parametrize("cjk", ["bigrams", "unigrams"])
def test_analyzer_matches_reference_on_real_text(cjk: str) -> None:
    for text in _samples():
        got = analyze(text, cjk=cjk, stop_words=False, min_chars=1)  # type: ignore[arg-type]
        assert got == reference_analyze(text, cjk=cjk)


def test_analyzer_defaults_stop_words_and_stemmer_on_real_text() -> None:
    for text in _samples():
        assert analyze(text) == reference_analyze(text, stop=True, min_chars=2)
    for text in _samples()[:10]:
        got = analyze(text, stop_words=True, stem=True, min_chars=3)
        assert got == reference_analyze(text, stop=True, stem=True, min_chars=3)


@settings(max_examples=60)
@given(
    st.text(max_size=200),
    st.sampled_from(["bigrams", "unigrams"]),
    st.booleans(),
    st.integers(1, 3),
)
def test_analyzer_matches_reference_on_generated_text(
    text: str, cjk: str, stem: bool, min_chars: int
) -> None:
    # Lone surrogates are separators (they become invalid UTF-8 bytes).
    clean = "".join(" " if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    got = analyze(text, cjk=cjk, stem=stem, stop_words=stem, min_chars=min_chars)  # type: ignore[arg-type]
    assert got == reference_analyze(clean, cjk=cjk, stop=stem, stem=stem, min_chars=min_chars)


def test_analyzer_edge_cases() -> None:
    assert _analyze("x y z 1 東 é ab") == ["1", "東", "ab"]
    # Short words stay when they hold an ASCII digit; other scripts' digits are short words.
    assert _analyze("python 3 ٣ ½ ３") == ["python", "3"]
    assert _analyze("x1 y 22 ab", min_chars=3) == ["x1", "22"]
    analyze = functools.partial(_analyze, stop_words=False, min_chars=1)
    assert analyze("") == []
    assert analyze(" \t\n\u3000 ...!") == []
    assert analyze("The OF and", stop_words=True) == []
    assert analyze("x" * 255 + " ok " + "y" * 256) == ["x" * 255, "ok"]
    assert analyze("東") == ["東"]
    assert analyze("東京 都") == ["東京", "都"]
    assert analyze("ponies buses glasses status cats has", stem=True) == [
        "pony",
        "buse",
        "glasse",
        "status",
        "cat",
        "has",
    ]
    assert analyze("ÉCOLE İstanbul") == ["école", "istanbul"]
    assert analyze(unicodedata.normalize("NFD", "café")) == [unicodedata.normalize("NFD", "café")]
    assert analyze("snake_case x1") == ["snake_case", "x1"]


# ---- scores against references --------------------------------------------------------------


def _idf(variant: str, n: int, df: int) -> float:
    if variant == "lucene":
        return math.log(1 + (n - df + 0.5) / (df + 0.5))
    if variant == "robertson":
        return math.log(max(1.0, (n - df + 0.5) / (df + 0.5)))
    return math.log(n / df)


def reference_scores(
    docs: list[list[str]], query: list[str], *, k1: float, b: float, variant: str
) -> np.ndarray:
    """Okapi BM25 written out: sum over query tokens of idf x saturated, normalised tf."""
    n = len(docs)
    lengths = [len(d) for d in docs]
    avgdl = sum(lengths) / n if n and sum(lengths) else 1.0
    df: Counter[str] = Counter()
    for d in docs:
        df.update(set(d))
    tfs = [Counter(d) for d in docs]
    mult = 1.0 if variant == "lucene" else k1 + 1
    scores = np.zeros(n)
    for term in query:
        if term not in df:
            continue
        idf = _idf(variant, n, df[term])
        for i, tf in enumerate(tfs):
            f = tf.get(term, 0)
            if f:
                scores[i] += idf * f * mult / (f + k1 * (1 - b + b * lengths[i] / avgdl))
    return scores


def _paragraph_docs(limit: int = 3000) -> list[str]:
    docs = []
    for _, text in english_prose(12):
        docs += [p for p in text.split("\n\n") if p.strip()]
    return docs[:limit]


QUERIES = [
    "how do I read a file line by line",
    "asyncio event loop",
    "the",
    "unicode string encoding errors",
    "class method decorator",
    "import import module",
    "zzqx nothing matches",
    "list comprehension syntax for loops",
]


def _check_topk(scores: np.ndarray, ids: np.ndarray, ref: np.ndarray, k: int) -> None:
    matched = np.flatnonzero(ref > 0) if ref.size else np.array([], dtype=np.int64)
    order = sorted(matched, key=lambda i: (-ref[i], i))[:k]
    assert len(ids) == len(order)
    # rtol, not equality: the core scores in float32, the reference in float64.
    np.testing.assert_allclose(scores, ref[ids], rtol=1e-5)
    np.testing.assert_allclose(scores, ref[order], rtol=1e-5)
    # Where the reference separates neighbours clearly, the order is the same.
    for i, (a, b) in enumerate(zip(ids, order, strict=True)):
        lo = ref[order[i + 1]] if i + 1 < len(order) else -1
        hi = ref[order[i - 1]] if i > 0 else math.inf
        if hi - ref[b] > 1e-4 * ref[b] and ref[b] - lo > 1e-4 * ref[b]:
            assert a == b


@pytest.mark.parametrize("variant", ["lucene", "robertson", "atire"])
def test_scores_match_reference_on_real_text(variant: str) -> None:
    docs = _paragraph_docs()
    bm25 = BM25(docs, k1=1.2, b=0.7, variant=variant)  # type: ignore[arg-type]
    tokens = [analyze(d) for d in docs]
    for q in QUERIES:
        ref = reference_scores(tokens, analyze(q), k1=1.2, b=0.7, variant=variant)
        for k in (1, 10, 100):
            scores, ids = bm25.search(q, k)
            _check_topk(scores, ids, ref, k)


def test_lucene_and_atire_scores_equal_bm25s() -> None:
    bm25s = pytest.importorskip("bm25s")
    docs = _paragraph_docs(2000)
    tokens = [analyze(d) for d in docs]
    for variant in ("lucene", "atire", "robertson"):
        peer = bm25s.BM25(k1=1.5, b=0.75, method=variant)
        peer.index(tokens, show_progress=False)
        ours = BM25(docs, variant=variant)  # type: ignore[arg-type]
        factor = 2.5 if variant == "robertson" else 1.0  # bm25s drops robertson's (k1 + 1)
        for q in QUERIES:
            qt = list(dict.fromkeys(t for t in analyze(q) if t in peer.vocab_dict))
            if not qt:
                continue
            expected = peer.get_scores(qt) * factor
            scores, ids = ours.search(" ".join(qt), len(docs))
            np.testing.assert_allclose(scores, expected[ids], rtol=1e-5, atol=1e-6)
            assert np.count_nonzero(expected > 0) <= len(ids)


def test_robertson_scores_equal_rank_bm25() -> None:
    rank_bm25 = pytest.importorskip("rank_bm25")
    docs = _paragraph_docs(2000)
    tokens = [analyze(d) for d in docs]
    peer = rank_bm25.BM25Okapi(tokens, k1=1.5, b=0.75)
    ours = BM25(docs, variant="robertson")
    df: Counter[str] = Counter()
    for t in tokens:
        df.update(set(t))
    for q in QUERIES:
        # rank_bm25 replaces negative idfs (terms in more than half the documents) by a floor.
        qt = [t for t in analyze(q) if 0 < df[t] <= len(docs) / 2]
        if not qt:
            continue
        expected = peer.get_scores(qt)
        scores, ids = ours.search(" ".join(qt), len(docs))
        np.testing.assert_allclose(scores, expected[ids], rtol=1e-5)
        assert set(ids.tolist()) == set(np.flatnonzero(expected > 0).tolist())


# ---- every query strategy equals the exhaustive reference ------------------------------------

STRATEGIES = ("taat", "maxscore", "bmw", "auto")


@contextlib.contextmanager
def _split_queries(range_docs: int, min_postings: int = 0):
    """Splits queries over threads in ranges of `range_docs` documents, however few postings
    they have (the defaults split only queries of 64K postings and more)."""
    before = ix.parallel_grain()
    ix.set_parallel_grain(range_docs, min_postings)
    try:
        yield
    finally:
        ix.set_parallel_grain(*before)


def _strategies_agree(bm25: BM25, query: str, k: int, mask=None) -> None:
    """Every strategy returns exactly the exhaustive reference's keys and scores (bit for bit),
    on one thread and split over three threads in ranges of 5 documents."""
    live = None if mask is None else np.ascontiguousarray(mask, dtype=np.uint8)
    q = query.encode()
    ref_scores, ref_keys = bm25._native.search(q, k, live, None, ix.Strategy.exhaustive)
    for name in STRATEGIES:
        scores, keys = bm25._native.search(q, k, live, None, getattr(ix.Strategy, name), threads=1)
        np.testing.assert_array_equal(keys, ref_keys, err_msg=name)
        np.testing.assert_array_equal(scores, ref_scores, err_msg=name)
    with _split_queries(5):
        for name in ("taat", "auto"):
            strategy = getattr(ix.Strategy, name)
            scores, keys = bm25._native.search(q, k, live, None, strategy, threads=3)
            np.testing.assert_array_equal(keys, ref_keys, err_msg=f"{name}, split")
            np.testing.assert_array_equal(scores, ref_scores, err_msg=f"{name}, split")


@pytest.fixture(params=["scalar", "avx2"])
def kernels(request):
    """Runs a test with each set of query kernels (the AVX2 one where the CPU has it)."""
    before = ix.kernels()
    if not ix.set_kernels(request.param):
        pytest.skip(f"no {request.param} kernels on this CPU")
    yield request.param
    ix.set_kernels(before)


def test_strategies_equal_exhaustive_on_real_text(kernels) -> None:
    docs = [line for _, t in english_prose(20) for line in t.splitlines() if line.strip()][:40_000]
    rng = np.random.default_rng(1)
    mask = rng.random(len(docs)) < 0.3
    vocab = [w for w in analyze(" ".join(docs[:3000])) if len(w) > 2]
    for options in ({}, {"stop_words": True, "stem": True}, {"variant": "robertson", "b": 1.0}):
        bm25 = BM25(docs, **options)  # type: ignore[arg-type]
        queries = [
            *QUERIES,
            *(" ".join(rng.choice(vocab, size=rng.integers(1, 15))) for _ in range(30)),
        ]
        for q in queries:
            for k in (1, 10, 1000):
                for m in (None, mask):
                    _strategies_agree(bm25, q, k, m)


def test_kernels_give_the_same_bits() -> None:
    before = ix.kernels()
    if not ix.set_kernels("avx2"):
        pytest.skip("no AVX2 on this CPU")
    docs = _paragraph_docs(3000)
    bm25 = BM25(docs)
    try:
        results = []
        for name in ("scalar", "avx2"):
            assert ix.set_kernels(name)
            results.append(
                [bm25._native.search(q.encode(), 50, None, None, ix.Strategy.taat) for q in QUERIES]
            )
        for (s1, k1), (s2, k2) in zip(*results, strict=True):
            np.testing.assert_array_equal(k1, k2)
            np.testing.assert_array_equal(s1, s2)
    finally:
        ix.set_kernels(before)


def test_split_queries_equal_exhaustive_for_any_thread_count() -> None:
    """A query split over threads by document ranges (query_parallel.cpp) returns exactly the
    exhaustive reference's keys and scores whatever the number of threads and the range size,
    over several segments, the memory segment, tombstones and filters."""
    lines = [line for _, t in english_prose(80) for line in t.splitlines() if line.strip()]
    n = 16_500
    bm25 = BM25(lines[:12_000])
    bm25.add(lines[12_000:16_200])  # a segment of its own
    bm25.add(lines[16_200:n])  # the memory segment
    gone = np.arange(0, n, 7)
    bm25.remove(gone, [lines[i] for i in gone])
    rng = np.random.default_rng(3)
    mask = (rng.random(n) < 0.5).astype(np.uint8)
    vocab = [w for w in analyze(" ".join(lines[:3000])) if len(w) > 2]
    queries = [
        *QUERIES,
        *(" ".join(rng.choice(vocab, size=rng.integers(2, 15))) for _ in range(15)),
    ]
    ref = {
        (q, k, m is None): bm25._native.search(q.encode(), k, m, None, ix.Strategy.exhaustive)
        for q in queries
        for k in (1, 10, 500)
        for m in (None, mask)
    }
    for range_docs in (100, 1000, 4097, 1 << 20):
        with _split_queries(range_docs):
            for threads in (1, 2, 3, 8):
                for (q, k, unmasked), (ref_scores, ref_keys) in ref.items():
                    m = None if unmasked else mask
                    for name in ("taat", "auto"):
                        strategy = getattr(ix.Strategy, name)
                        scores, keys = bm25._native.search(
                            q.encode(), k, m, None, strategy, threads=threads
                        )
                        np.testing.assert_array_equal(keys, ref_keys)
                        np.testing.assert_array_equal(scores, ref_scores)
    # The public call runs on one thread by default and splits when given a thread count.
    with _split_queries(1000):
        for q in QUERIES:
            a, b = bm25.search(q, 10, threads=0), bm25.search(q, 10)
            np.testing.assert_array_equal(a[1], b[1])
            np.testing.assert_array_equal(a[0], b[0])
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(ctxengine.InvalidInputError, match="threads"):
            bm25.search("file", 10, threads=bad)  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 128),
    st.integers(0, 32),
    st.integers(0, 32),
    st.sampled_from([-1, 0, 1000, 2**31, 2**32 - 300]),
    st.sampled_from([0, 3, 8, 15, 16, 40]),
)
def test_posting_blocks_round_trip(seed, n, gap_width, value_width, prev, slack) -> None:
    """Blocks decode to what was encoded, at every bit width, block length and amount of
    readable bytes after the block (which picks the unpacking path), with each kernel set;
    near 2^32 the gaps are narrowed so that the docs stay valid."""
    rng = np.random.default_rng(seed)
    room = 2**32 - 2 - prev  # docs must stay <= 2^32 - 2
    gap_width = min(gap_width, max(0, int(math.log2(max(1, room // n)))))
    gaps = rng.integers(0, 2**gap_width, size=n, dtype=np.int64)
    docs = [prev + int(d) for d in np.cumsum(gaps + 1)]
    assert docs[-1] <= 2**32 - 2
    values = rng.integers(0, 2**value_width, size=n, dtype=np.uint64).tolist()
    if value_width:
        values[rng.integers(n)] = 2**value_width - 1  # the widest value present
    expected = [*docs, *values]
    before = ix.kernels()
    try:
        for name in ("scalar", "avx2"):
            if ix.set_kernels(name):
                got = _core._testing.posting_block_round_trip(docs, values, prev, slack)
                assert got == expected, name
    finally:
        ix.set_kernels(before)


WORDS = ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta", "iota", "kappa"]


@settings(max_examples=80)
@given(
    st.lists(
        st.lists(st.integers(0, 9).map(lambda i: WORDS[min(i, i * i % 10)]), max_size=12),
        min_size=1,
        max_size=700,
    ),
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=12),
    st.integers(1, 40),
    st.sampled_from(["lucene", "robertson", "atire"]),
    st.booleans(),
    st.floats(0, 3),
    st.floats(0, 1),
)
def test_strategies_equal_exhaustive_and_reference_on_generated_corpora(
    docs, query, k, variant, use_mask, k1, b
) -> None:
    texts = [" ".join(d) for d in docs]
    bm25 = BM25(texts, variant=variant, k1=k1, b=b)
    mask = np.array([i % 3 != 0 for i in range(len(texts))]) if use_mask else None
    q = " ".join(query)
    _strategies_agree(bm25, q, k, mask)
    fs, _ = bm25._native.search(
        q.encode(), k, None if mask is None else mask.astype(np.uint8), None, ix.Strategy.auto
    )
    ref = reference_scores(docs, query, k1=k1, b=b, variant=variant)
    if mask is not None:
        ref = np.where(mask, ref, 0.0)
    hit = np.zeros(len(docs), dtype=bool)
    for i, d in enumerate(docs):
        hit[i] = bool(set(d) & set(query)) and (mask is None or mask[i])
    # Matching documents with a zero score (idf 0) rank after positive ones, by id.
    order = sorted(np.flatnonzero(hit), key=lambda i: (-ref[i], i))[:k]
    np.testing.assert_allclose(fs, ref[order], rtol=1e-5, atol=1e-7)


def test_search_many_equals_search_for_any_thread_count() -> None:
    docs = _paragraph_docs(3000)
    bm25 = BM25(docs)
    queries = [*QUERIES, "", "the of", "zzz"] * 5
    mask = np.arange(len(docs)) % 5 != 0
    for m in (None, mask):
        runs = [bm25.search_many(queries, 7, mask=m, threads=t) for t in (1, 2, 0)]
        for scores, ids in runs[1:]:
            np.testing.assert_array_equal(ids, runs[0][1])
            np.testing.assert_array_equal(scores, runs[0][0])
        scores, ids = runs[0]
        assert scores.shape == ids.shape == (len(queries), 7)
        for q, row_s, row_i in zip(queries, scores, ids, strict=True):
            s, i = bm25.search(q, 7, mask=m)
            np.testing.assert_array_equal(row_i[: len(i)], i)
            np.testing.assert_array_equal(row_s[: len(s)], s)
            assert (row_i[len(i) :] == -1).all() and np.isnan(row_s[len(s) :]).all()


# ---- build: threads, edge cases, arrays -----------------------------------------------------


def test_build_is_identical_for_any_thread_count() -> None:
    docs = _paragraph_docs(5000)
    arrays = [BM25(docs, threads=t)._native.segments()[0][0] for t in (1, 2, 3)]
    for other in arrays[1:]:
        for name, value in arrays[0].items():
            np.testing.assert_array_equal(value, other[name], err_msg=name)


def test_postings_are_compressed_and_blocked() -> None:
    docs = [p for _, t in english_prose(80) for p in t.split("\n\n") if p.strip()]
    a = BM25(docs)._native.segments()[0][0]
    postings = int(a["term_df"].sum())
    # 8 bytes raw (doc, tf); bit-packed doc gaps and (tf, length) pair ids: about 2.5 here
    assert len(a["postings"]) < 3 * postings
    assert len(a["block_last_doc"]) == int(((a["term_df"] + 127) // 128).sum())


def test_empty_and_degenerate_corpora() -> None:
    for texts in ([], [""], ["", "  ", "..."], ["the of and"]):
        bm25 = BM25(texts, stop_words=True)
        scores, ids = bm25.search("anything the", 5)
        assert len(scores) == len(ids) == 0
    bm25 = BM25(["one", "two", "one one"])
    assert bm25.search("one", 100)[1].tolist() == [2, 0]
    assert bm25.search("", 3)[1].tolist() == []


def test_bad_arguments() -> None:
    bm25 = BM25(["a b", "c"])
    for k in (0, -1, 1.5, True):
        with pytest.raises(ctxengine.InvalidInputError):
            bm25.search("a", k)  # type: ignore[arg-type]
    with pytest.raises(ctxengine.InvalidInputError, match="one entry per text"):
        bm25.search("a", 1, mask=np.ones(3, dtype=bool))
    with pytest.raises(ctxengine.InvalidInputError):
        bm25_params(b=2.0)
    with pytest.raises(ctxengine.InvalidInputError):
        bm25_params(variant="bm25+")  # type: ignore[arg-type]
    with pytest.raises(ctxengine.InvalidInputError):
        analyzer_options(cjk="trigrams")  # type: ignore[arg-type]


def _rewrap(arrays: dict, deleted=None, deleted_df=None, verify: bool = True) -> BM25:
    deleted = np.empty(0, np.uint32) if deleted is None else deleted
    deleted_df = np.empty((0, 2), np.uint32) if deleted_df is None else deleted_df
    return BM25._wrap(
        ix.Bm25Index.from_segments(
            [(arrays, deleted, deleted_df)], analyzer_options(), bm25_params(), verify=verify
        )
    )


def test_from_arrays_round_trip_and_corruption() -> None:
    docs = _paragraph_docs(3000)
    bm25 = BM25(docs)
    arrays = {k: np.array(v) for k, v in bm25._native.segments()[0][0].items()}
    copy = _rewrap(arrays)
    for q in QUERIES:
        a, b = bm25.search(q, 20), copy.search(q, 20)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])

    def broken(name: str, fn) -> dict:
        out = dict(arrays)
        out[name] = fn(arrays[name].copy())
        return out

    def misaligned(a):  # the same values one byte off their items' alignment
        raw = np.zeros(a.nbytes + a.itemsize, np.uint8)
        out = raw[1 : 1 + a.nbytes].view(a.dtype)
        out[:] = a
        assert not out.flags.aligned
        return out

    def lowered(a):  # a hostile file: impacts that understate the scores (deep check only)
        a[0::2] = 1  # every impact's tf 1: in range, but below most blocks' best scores
        return a

    def no_tf(a):
        a[0] = 0
        return a

    cases = [
        broken("postings", lambda a: a[:-3]),
        broken("term_offsets", lambda a: a[::-1].copy()),
        broken("block_last_doc", lambda a: a + np.uint32(len(docs))),
        broken("term_df", lambda a: a + np.uint32(200)),
        broken("impacts", no_tf),
        broken("impacts", lambda a: a[:-1]),
        broken("impact_norm", lambda a: a + np.float32(1)),
        broken("doc_lengths", lambda a: a[:-1]),
        broken("doc_keys", lambda a: a[::-1].copy()),
        broken("term_bytes", lambda a: np.sort(a)),
        {k: v for k, v in arrays.items() if k != "postings"},
        broken("block_offsets", misaligned),
        broken("doc_lengths", misaligned),
    ]
    for bad in cases:
        with pytest.raises(ctxengine.FormatError):
            _rewrap(bad)
    # Caught only by the full check of the postings (what Index.load does by default).
    for bad in (broken("impacts", lowered), broken("doc_lengths", lambda a: a + np.uint32(1))):
        _rewrap(bad, verify=False)
        with pytest.raises(ctxengine.FormatError):
            _rewrap(bad)
    # A block whose bytes decode to the wrong documents is refused when it is read.
    postings = arrays["postings"].copy()
    postings[:] = 0xFF
    bad = _rewrap({**arrays, "postings": postings}, verify=False)
    with pytest.raises(ctxengine.FormatError):
        for q in QUERIES:
            bad.search(q, 10)
