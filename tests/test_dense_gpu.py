"""Index(gpu=...) on a machine without a GPU: the fallback, and the routing around GPU FAISS's
limits checked with a stand-in for GPU FAISS (it refuses k above its cap, as GPU FAISS does).
The results are compared with exact inner-product search."""

from __future__ import annotations

import threading
import warnings
from types import SimpleNamespace
from typing import Any

import faiss
import numpy as np
import pytest

import ctxengine
from corpus import english_prose
from ctxengine.retrieval import GpuFallbackWarning, dense

DIM = 64


def embed(texts: list[str]) -> np.ndarray:
    """A deterministic bag-of-hashed-words embedder (no model needed)."""
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    for i, text in enumerate(texts):
        for word in text.lower().split():
            out[i, hash(word) % DIM] += 1.0
    return out + 1e-3


def _texts() -> list[str]:
    return [t[:20_000] for _, t in english_prose(12)]


def _index(**options: Any) -> ctxengine.Index:
    index = ctxengine.Index(max_tokens=64, embedder=embed, **options)
    texts = _texts()
    index.add_many(texts, metadatas=[{"n": i} for i in range(len(texts))])
    return index


def _exact(index: ctxengine.Index, query: str, k: int) -> list[int]:
    hits = _index(gpu=False).search(query, k, mode="dense")
    return [h.chunk_id for h in hits]


@pytest.fixture(autouse=True)
def fresh_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dense, "_warned", threading.Event())


def test_gpu_true_without_gpu_faiss_falls_back_with_one_warning() -> None:
    assert not hasattr(faiss, "StandardGpuResources")  # faiss-cpu on this machine
    with pytest.warns(GpuFallbackWarning, match=r"faiss-cpu is installed.*ctxengine\[gpu\]"):
        index = _index(gpu=True)
        hits = index.search("the file system and its paths", 10, mode="dense")
    assert [h.chunk_id for h in hits] == _exact(index, "the file system and its paths", 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per process: no second warning
        again = _index(gpu=True)
        again.search("more words", 5, mode="dense")


def test_the_warning_points_at_the_callers_line() -> None:
    index = _index(gpu=True)
    with pytest.warns(GpuFallbackWarning) as record:
        index.search("a query", 3, mode="dense")
    assert record[0].filename == __file__


class _FakeGpuIndex:
    """What GPU FAISS returns from index_cpu_to_all_gpus: searches a copy, refuses big k."""

    def __init__(self, index: Any, cap: int, calls: list[int]) -> None:
        self.index, self.cap, self.calls = faiss.clone_index(index), cap, calls

    def search(self, query: np.ndarray, k: int) -> Any:
        if k > self.cap:
            raise RuntimeError(f"k > {self.cap} is not supported on the GPU")
        self.calls.append(k)
        return self.index.search(query, k)

    def add(self, vectors: np.ndarray) -> None:
        self.index.add(vectors)


def _fake_gpu_faiss(monkeypatch: pytest.MonkeyPatch, *, cuvs: bool, gpus: int = 1) -> list[int]:
    calls: list[int] = []
    cap = dense.GPU_MAX_K_CUVS if cuvs else dense.GPU_MAX_K
    fake = SimpleNamespace(
        **{name: getattr(faiss, name) for name in dir(faiss) if not name.startswith("__")}
    )
    fake.StandardGpuResources = object
    fake.GpuClonerOptions = lambda: SimpleNamespace(use_cuvs=cuvs)
    fake.get_num_gpus = lambda: gpus
    fake.index_cpu_to_all_gpus = lambda index: _FakeGpuIndex(index, cap, calls)
    monkeypatch.setattr(dense, "_faiss", lambda: fake)
    return calls


@pytest.mark.parametrize("cuvs", [False, True])
def test_k_beyond_the_gpu_cap_is_answered_by_the_cpu_copy(
    monkeypatch: pytest.MonkeyPatch, cuvs: bool
) -> None:
    # Caps scaled down (2048 -> 100, 16384 -> 300) so a small index crosses them.
    monkeypatch.setattr(dense, "GPU_MAX_K", 100)
    monkeypatch.setattr(dense, "GPU_MAX_K_CUVS", 300)
    calls = _fake_gpu_faiss(monkeypatch, cuvs=cuvs)
    index = _index()  # gpu=None: the GPU when there is one
    n = index.n_chunks
    assert n > 300
    query = "how to read and write files"
    got = {k: index.search(query, k, mode="dense") for k in (10, 200, n)}
    # Within the cap on the GPU (k, or k + 1 and more to settle ties at the k-th score); the
    # rest ran on the CPU copy, no error.
    cap = 300 if cuvs else 100
    assert calls and max(calls) <= cap and (max(calls) > 200) == cuvs
    monkeypatch.undo()
    for k, hits in got.items():
        assert [h.chunk_id for h in hits] == _exact(index, query, k)


def test_filters_and_hnsw_stay_on_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _fake_gpu_faiss(monkeypatch, cuvs=False)
    index = _index()
    hits = index.search("files", 5, mode="dense", filter={"n": 3})
    assert calls == [] and hits and {h.metadata["n"] for h in hits} == {3}
    everything = index.search("files", index.n_chunks, mode="dense")
    assert [h for h in everything if h.metadata["n"] == 3][:5] == hits
    with pytest.warns(GpuFallbackWarning, match="HNSW"):
        _index(gpu=True, dense_index="hnsw").search("files", 5, mode="dense")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _index(dense_index="hnsw").search("files", 5, mode="dense")  # gpu=None: silent


def test_no_gpu_visible_to_gpu_faiss(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_gpu_faiss(monkeypatch, cuvs=False, gpus=0)
    with pytest.warns(GpuFallbackWarning, match="sees no GPU"):
        _index(gpu=True).search("files", 5, mode="dense")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _index(gpu=False).search("files", 5, mode="dense")
