"""BM25: the analyzer against a plain-Python reference, scores against a reference BM25 and
against bm25s / rank_bm25 given the same tokens, block-max WAND against exhaustive scoring."""

from __future__ import annotations

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


def reference_analyze(text: str, *, cjk: str = "bigrams", stop: bool = False, stem: bool = False):
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

    def emit(t: str, ascii_word: bool) -> None:
        if not t or len(t.encode()) > 255 or (stop and t in STOP):
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
                    emit(u, False)
            else:
                for a, b in itertools.pairwise(run):
                    emit(a + b, False)
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
        assert analyze(text, cjk=cjk) == reference_analyze(text, cjk=cjk)  # type: ignore[arg-type]


def test_analyzer_stop_words_and_stemmer_on_real_text() -> None:
    for text in _samples()[:10]:
        got = analyze(text, stop_words=True, stem=True)
        assert got == reference_analyze(text, stop=True, stem=True)


@settings(max_examples=60)
@given(st.text(max_size=200), st.sampled_from(["bigrams", "unigrams"]), st.booleans())
def test_analyzer_matches_reference_on_generated_text(text: str, cjk: str, stem: bool) -> None:
    # Lone surrogates are separators (they become invalid UTF-8 bytes).
    clean = "".join(" " if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    assert analyze(text, cjk=cjk, stem=stem, stop_words=stem) == reference_analyze(  # type: ignore[arg-type]
        clean, cjk=cjk, stop=stem, stem=stem
    )


def test_analyzer_edge_cases() -> None:
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


# ---- block-max WAND equals exhaustive -------------------------------------------------------


def _both(bm25: BM25, query: str, k: int, mask=None):
    live = None if mask is None else np.ascontiguousarray(mask, dtype=np.uint8)
    q = query.encode()
    fast = bm25._native.search(q, k, live)
    slow = bm25._native.search(q, k, live, exhaustive=True)
    return fast, slow


def test_wand_equals_exhaustive_on_real_text() -> None:
    docs = [line for _, t in english_prose(20) for line in t.splitlines() if line.strip()][:40_000]
    bm25 = BM25(docs)
    rng = np.random.default_rng(1)
    mask = rng.random(len(docs)) < 0.3
    vocab = [w for w in analyze(" ".join(docs[:3000])) if len(w) > 2]
    queries = [*QUERIES, *(" ".join(rng.choice(vocab, size=rng.integers(1, 7))) for _ in range(40))]
    for q in queries:
        for k in (1, 10, 1000):
            for m in (None, mask):
                (fs, fi), (ss, si) = _both(bm25, q, k, m)
                np.testing.assert_array_equal(fi, si)
                np.testing.assert_array_equal(fs, ss)


WORDS = ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta", "iota", "kappa"]


@settings(max_examples=60)
@given(
    st.lists(
        st.lists(st.integers(0, 9).map(lambda i: WORDS[min(i, i * i % 10)]), max_size=12),
        min_size=1,
        max_size=700,
    ),
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=6),
    st.integers(1, 40),
    st.sampled_from(["lucene", "robertson", "atire"]),
    st.booleans(),
    st.floats(0, 3),
    st.floats(0, 1),
)
def test_wand_equals_exhaustive_and_reference_on_generated_corpora(
    docs, query, k, variant, use_mask, k1, b
) -> None:
    texts = [" ".join(d) for d in docs]
    bm25 = BM25(texts, variant=variant, k1=k1, b=b)
    mask = np.array([i % 3 != 0 for i in range(len(texts))]) if use_mask else None
    q = " ".join(query)
    (fs, fi), (ss, si) = _both(bm25, q, k, mask)
    np.testing.assert_array_equal(fi, si)
    np.testing.assert_array_equal(fs, ss)
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
    arrays = [BM25(docs, threads=t)._native.arrays() for t in (1, 2, 3)]
    for other in arrays[1:]:
        for name, value in arrays[0].items():
            np.testing.assert_array_equal(value, other[name], err_msg=name)


def test_postings_are_compressed_and_blocked() -> None:
    docs = _paragraph_docs(5000)
    a = BM25(docs)._native.arrays()
    postings = int(a["term_df"].sum())
    assert len(a["postings"]) < 2.5 * postings  # two varints per posting, mostly 1 byte each
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


def _rewrap(arrays: dict) -> BM25:
    return BM25._wrap(ix.Bm25Index.from_arrays(arrays, analyzer_options(), bm25_params()))


def test_from_arrays_round_trip_and_corruption() -> None:
    docs = _paragraph_docs(3000)
    bm25 = BM25(docs)
    arrays = {k: np.array(v) for k, v in bm25._native.arrays().items()}
    copy = _rewrap(arrays)
    for q in QUERIES:
        a, b = bm25.search(q, 20), copy.search(q, 20)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])

    def broken(name: str, fn) -> dict:
        out = dict(arrays)
        out[name] = fn(arrays[name].copy())
        return out

    cases = [
        broken("postings", lambda a: a[:-3]),
        broken("term_offsets", lambda a: a[::-1].copy()),
        broken("block_last_doc", lambda a: a + np.uint32(len(docs))),
        broken("term_df", lambda a: a + np.uint32(200)),
        broken("block_max", lambda a: a * np.float32(np.nan)),
        broken("doc_lengths", lambda a: a[:-1]),
        broken("term_bytes", lambda a: np.sort(a)),
        {k: v for k, v in arrays.items() if k != "postings"},
    ]
    for bad in cases:
        with pytest.raises(ctxengine.FormatError):
            _rewrap(bad)
    # A block whose bytes decode to the wrong documents is refused when it is read.
    postings = arrays["postings"].copy()
    postings[:] = 0x80
    bad = _rewrap({**arrays, "postings": postings})
    with pytest.raises(ctxengine.FormatError):
        for q in QUERIES:
            bad.search(q, 10)
