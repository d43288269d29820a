"""An index folder is data, not instructions: damaged and hostile folders are clear errors.

"Damaged" files fail their size or checksum. "Hostile" ones are rewritten with a matching
manifest (sizes, sha256, CURRENT), as someone crafting a folder would: they pass the checksums,
and the table checks must refuse them before anything reads out of range, loads a model,
follows a path or imports code."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import ctxengine
from ctxengine import Index
from ctxengine.retrieval.embed import embedder_name

QUERIES = ["reading files", "unicode text", "zebra crossing"]
TEXTS = {
    "a": "Reading files line by line: open the file and iterate over it. ☃ naïve",
    "b": "Unicode text is encoded to bytes with UTF-8; errors raise UnicodeError.",
    "c": "The zebra crossing is a pedestrian crossing marked with stripes.",
    "d": "",
}


class Toy:
    """A deterministic embedder (tests only)."""

    name = "toy"

    def __call__(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 8), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.split():
                out[i, hash(w) % 8] += 1.0
        return out + 0.01


def _build(**kw) -> Index:
    index = Index(max_tokens=8, **kw)
    lexical = index._lexical  # segments of two chunks: the removal below leaves tombstones
    lexical.native = ctxengine._core.index.Bm25Index(lexical.analyzer, lexical.params, flush_docs=2)
    index.add_many(list(TEXTS.values()), list(TEXTS))
    index.remove("c")
    index.add("The zebra is back: stripes again.", doc_id="e")
    return index


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("safe") / "ix"
    _build().save(path)
    return path


@pytest.fixture(scope="module")
def saved_dense(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("safe") / "dense"
    _build(embedder=Toy(), dense_index="hnsw").save(path)
    return path


def _version(root: Path) -> Path:
    return root / (root / "CURRENT").read_text().split()[0]


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _reseal(root: Path, manifest: dict | None = None) -> None:
    """Rewrites the manifest (sizes and checksums of the files as they now are) and CURRENT."""
    folder = _version(root)
    if manifest is None:
        manifest = json.loads((folder / "manifest.json").read_text())
    for name in manifest["files"]:
        if (folder / name).is_file():
            data = (folder / name).read_bytes()
            manifest["files"][name] = {
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
    raw = json.dumps(manifest).encode()
    (folder / "manifest.json").write_bytes(raw)
    (root / "CURRENT").write_text(f"{folder.name} {hashlib.sha256(raw).hexdigest()}\n")


def _forge(root: Path, name: str, change: Callable[[Path], None]) -> None:
    change(_version(root) / name)
    _reseal(root)


def _npy(path: Path, fn: Callable[[np.ndarray], np.ndarray]) -> None:
    array = fn(np.array(np.load(path)))
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=True)
    path.write_bytes(buf.getvalue())


def _manifest(root: Path, fn: Callable[[dict], None]) -> None:
    folder = _version(root)
    manifest = json.loads((folder / "manifest.json").read_text())
    fn(manifest)
    _reseal(root, manifest)


def test_a_saved_index_loads_and_equals_the_original(saved) -> None:
    index, loaded = _build(), Index.load(saved)
    for q in QUERIES:
        assert index.search(q) == loaded.search(q)


def test_damaged_files_are_refused(saved, tmp_path) -> None:
    folder = _version(saved)
    for name in sorted(p.name for p in folder.iterdir() if p.name != "manifest.json"):
        for how in ("truncate", "flip"):
            root = _copy(saved, tmp_path / f"{name}-{how}")
            path = _version(root) / name
            data = bytearray(path.read_bytes())
            if how == "truncate":
                data = data[: len(data) // 2]
            elif data:
                data[len(data) // 2] ^= 0x55
            else:
                continue
            path.write_bytes(bytes(data))
            with pytest.raises(ctxengine.FormatError):
                Index.load(root)
    for i, bad in enumerate(("", "garbage", "v1-00000000 " + "0" * 64, "../../etc x", "\0" * 5000)):
        root = _copy(saved, tmp_path / f"current-{i}")
        (root / "CURRENT").write_text(bad)
        with pytest.raises(ctxengine.FormatError):
            Index.load(root)


HOSTILE_TABLES = {
    "doc_alive.npy": lambda a: a.astype(np.int64),
    "doc_text_end.npy": lambda a: a[::-1].copy(),
    "doc_chunks.npy": lambda a: a + 1,
    "chunks.npy (doc column)": lambda a: np.concatenate([a[:, :1] * 0 + 99, a[:, 1:]], axis=1),
    "chunks.npy (past the text)": lambda a: a + np.array([0, 0, 0, 0, 10**6, 0]),
    "chunks.npy (inside a character)": lambda a: a + np.array([0, 0, 0, 1, 1, 0]),
    "chunks.npy (negative tokens)": lambda a: a - np.array([0, 0, 0, 0, 0, 10**6]),
    "chunks.npy (pickled objects)": lambda a: a.astype(object),
    "bm25_0_doc_keys.npy": lambda a: a + 1,
    "bm25_0_impacts.npy": lambda a: np.where(np.arange(len(a)) % 2 == 0, 1, a).astype(a.dtype),
    "bm25_0_deleted.npy": lambda a: np.append(a, np.uint32(10**6)),
    "bm25_0_deleted_df.npy": lambda a: a * 2,
    "bm25_0_postings.npy": lambda a: np.full_like(a, 0xFF),
    "bm25_0_term_offsets.npy": lambda a: a[::-1].copy(),
}


def _shift_data(path: Path) -> None:
    """The same array with a header one byte longer, so its data starts at an odd offset (the
    .npy format keeps it 64-byte aligned)."""
    raw = path.read_bytes()
    assert raw[:8] == b"\x93NUMPY\x01\x00"
    n = int.from_bytes(raw[8:10], "little")
    header = raw[10 : 10 + n].rstrip(b"\n") + b" \n"
    path.write_bytes(raw[:8] + len(header).to_bytes(2, "little") + header + raw[10 + n :])


def test_misaligned_arrays_are_refused(saved, tmp_path) -> None:
    # Found by the index_load fuzz harness: such a file was read through misaligned 8-byte
    # loads (undefined behaviour; UBSan stopped in Segment::from_arrays).
    folder = _version(saved)
    index = _build()
    for name in sorted(p.name for p in folder.iterdir() if p.suffix == ".npy"):
        root = _copy(saved, tmp_path / name)
        _forge(root, name, _shift_data)
        array = np.load(_version(root) / name, mmap_mode="r")
        if array.dtype.alignment > 1 and array.size > 0:
            with pytest.raises(ctxengine.FormatError, match="not aligned"):
                Index.load(root)
        else:  # bytes, or no items, are aligned wherever they start: it loads as it was
            loaded = Index.load(root)
            for q in QUERIES:
                assert loaded.search(q) == index.search(q)


@pytest.mark.parametrize("case", sorted(HOSTILE_TABLES))
def test_hostile_tables_are_refused(saved, tmp_path, case) -> None:
    root = _copy(saved, tmp_path / "ix")
    name = case.split(" ")[0]
    if name not in json.loads((_version(root) / "manifest.json").read_text())["files"]:
        pytest.skip(f"{name} is not in this index")
    _forge(root, name, lambda p: _npy(p, HOSTILE_TABLES[case]))
    with pytest.raises(ctxengine.FormatError):
        Index.load(root)


def test_hostile_documents_are_refused(saved, tmp_path) -> None:
    for i, docs in enumerate(
        [
            {"ids": ["a", "a", "b", "e"], "metadata": [{}, {}, {}, {}]},
            {"ids": [1, 2, 3, 4], "metadata": [{}, {}, {}, {}]},
            {"ids": ["a", "b", "d", "e"], "metadata": [{}, {}, {}]},
            {"ids": ["a", "b", "d", "e"], "metadata": ["x", {}, {}, {}]},
            {"ids": "abde", "metadata": []},
            [],
        ]
    ):
        root = _copy(saved, tmp_path / f"docs{i}")

        def write(p: Path, docs=docs) -> None:
            p.write_text(json.dumps(docs))

        _forge(root, "docs.json", write)
        with pytest.raises(ctxengine.FormatError):
            Index.load(root)


def test_hostile_manifests_are_refused(saved, tmp_path) -> None:
    cases: list[tuple[Callable[[dict], None], type[Exception], str]] = [
        (lambda m: m["options"].update(max_tokens="128"), ctxengine.FormatError, "max_tokens"),
        (lambda m: m["options"]["analyzer"].update(stop_words="yes"), ctxengine.FormatError, None),
        (lambda m: m["options"]["analyzer"].update(run="rm -rf /"), ctxengine.FormatError, None),
        (lambda m: m["options"]["bm25"].update(k1=-1.0), ctxengine.InvalidInputError, "k1"),
        (lambda m: m["options"].update(by="regex"), ctxengine.InvalidInputError, "by"),
        (lambda m: m.update(next_auto=-5), ctxengine.FormatError, "next_auto"),
        (lambda m: m.update(bm25_segments=7), ctxengine.FormatError, None),
        (lambda m: m.update(version=99), ctxengine.FormatError, "newer"),
        (lambda m: m.update(format="pickle"), ctxengine.FormatError, "not a ctxengine index"),
        (
            lambda m: m["files"].update({"../../x": m["files"]["docs.json"]}),
            ctxengine.FormatError,
            None,
        ),
        (
            lambda m: m["files"].update({"ghost.npy": m["files"]["docs.json"]}),
            ctxengine.FormatError,
            None,
        ),
        (lambda m: m["files"]["docs.json"].update(bytes=-1), ctxengine.FormatError, None),
        (lambda m: m.update(files=[]), ctxengine.FormatError, None),
        # Names a saved index may not load by itself: only built-in ones load by name.
        (
            lambda m: m["options"].update(tokenizer="/etc/passwd"),
            ctxengine.NotFoundError,
            "pass tokenizer=",
        ),
        (
            lambda m: m["options"].update(tokenizer="hf-internal/llama"),
            ctxengine.NotFoundError,
            "tokenizer=",
        ),
    ]
    for i, (change, error, match) in enumerate(cases):
        root = _copy(saved, tmp_path / f"m{i}")
        folder = _version(root)
        manifest = json.loads((folder / "manifest.json").read_text())
        change(manifest)
        raw = json.dumps(manifest).encode()
        (folder / "manifest.json").write_bytes(raw)
        (root / "CURRENT").write_text(f"{folder.name} {hashlib.sha256(raw).hexdigest()}\n")
        with pytest.raises(error, match=match):
            Index.load(root)


def test_embedders_load_only_when_built_in_or_passed(saved_dense, tmp_path) -> None:
    # The toy embedder has a name the manifest records; loading must not try to resolve it.
    assert embedder_name(Toy()) == "toy"
    with pytest.raises(ctxengine.InvalidInputError, match="pass embedder="):
        Index.load(saved_dense)
    for name in ("st:sentence-transformers/evil", "/tmp", "https://example.com/model"):
        root = _copy(saved_dense, tmp_path / f"e{abs(hash(name))}")
        _manifest(root, lambda m, name=name: m.update(embedder=name))
        with pytest.raises(ctxengine.InvalidInputError, match="pass embedder="):
            Index.load(root)
    loaded = Index.load(saved_dense, embedder=Toy())
    assert loaded.search("zebra stripes", mode="dense") == _build(
        embedder=Toy(), dense_index="hnsw"
    ).search("zebra stripes", mode="dense")
    # Loading never imported a model library.
    code = (
        "import sys, ctxengine\n"
        "try:\n"
        "    ctxengine.Index.load(sys.argv[1])\n"
        "except ctxengine.InvalidInputError:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sentence_transformers', 'torch', 'transformers')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(saved_dense)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(ctxengine.__file__).parents[1])},
        check=True,
    )
    assert out.stdout.strip() == "[]"


def test_hostile_vectors_and_faiss_files_are_refused(saved_dense, tmp_path) -> None:
    cases = {
        "vectors.npy": lambda p: _npy(p, lambda a: np.where(a > 0.3, np.nan, a).astype(np.float32)),
        "dense_chunks.npy": lambda p: _npy(p, lambda a: a[::-1].copy()),
    }
    for name, change in cases.items():
        root = _copy(saved_dense, tmp_path / name)
        _forge(root, name, change)
        with pytest.raises(ctxengine.FormatError):
            Index.load(root, embedder=Toy())
    # A FAISS file damaged in place is refused even when checksums are skipped.
    root = _copy(saved_dense, tmp_path / "faiss-flip")
    path = _version(root) / "dense.faiss"
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ctxengine.FormatError):
        Index.load(root, embedder=Toy(), verify=False)
    # A crafted graph with a neighbour id out of range (checksums that match) is refused
    # before any search reads it.
    import faiss

    root = _copy(saved_dense, tmp_path / "faiss-graph")
    path = _version(root) / "dense.faiss"
    index = faiss.read_index(str(path))
    neighbors = faiss.vector_to_array(index.hnsw.neighbors)
    neighbors[neighbors >= 0] = index.ntotal + 7
    faiss.copy_array_to_vector(neighbors, index.hnsw.neighbors)
    faiss.write_index(index, str(path))
    _reseal(root)
    with pytest.raises(ctxengine.FormatError, match=r"neighbo|out of range"):
        Index.load(root, embedder=Toy())
