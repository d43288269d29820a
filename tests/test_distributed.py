"""ShardedIndex in-process: the same answers as one Index over the same documents (BM25, dense,
hybrid, MMR, filters, removes, k larger than a shard, search_many, chunks and neighbours,
pack), on real text and on hypothesis-drawn corpora; routing; persistence (a missing or damaged
shard is named; partial results only by opt-in, marked); an ingest killed and re-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import ctxengine
from ctxengine import Index, InvalidInputError, NotFoundError, UnsupportedError
from ctxengine.cli import main
from ctxengine.distributed import (
    ShardDamagedError,
    ShardedIndex,
    ShardMissingError,
    shard_of,
)
from ctxengine.distributed.routing import jump_hash, key_of
from dist_support import QUERIES, HashEmbedder, corpus, same_hits, words_of

ROOT = Path(__file__).resolve().parent.parent
OPTIONS = {"max_tokens": 128}


@pytest.fixture(scope="module")
def docs():
    return corpus(60)


@pytest.fixture(scope="module")
def one(docs):
    texts, ids, metas = docs
    index = Index(**OPTIONS, embedder=HashEmbedder())
    index.add_many(texts, ids, metas)
    return index


@pytest.fixture(scope="module", params=[1, 3, 8])
def sharded(request, docs):
    texts, ids, metas = docs
    index = ShardedIndex(request.param, **OPTIONS, embedder=HashEmbedder())
    index.add_many(texts, ids, metas)
    return index


# ---- routing -----------------------------------------------------------------------------


def test_routing_is_stable_across_processes_and_hash_seeds() -> None:
    ids = [f"docs/{i}.md" for i in range(50)] + ["naïve", "東京", "\U0001f600"]
    here = [shard_of(d, 7) for d in ids]
    code = "import json,sys; from ctxengine.distributed import shard_of; " + (
        "print(json.dumps([shard_of(d, 7) for d in json.loads(sys.argv[1])]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(ids)], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == here
    # A saved index depends on these values: they never change.
    assert [shard_of(f"doc-{i}", 4) for i in range(12)] == [3, 1, 2, 2, 2, 3, 0, 3, 0, 2, 2, 3]


def _jump_reference(key: int, buckets: int) -> int:
    """Jump Consistent Hash as the paper's pseudo-code states it, on 64-bit unsigned ints."""
    b, j = -1, 0
    while j < buckets:
        b = j
        key = (key * 2862933555777941757 + 1) % 2**64
        j = int((b + 1) * (2**31 / ((key >> 33) + 1)))
    return b


@given(st.integers(0, 2**64 - 1), st.integers(1, 64))
def test_jump_hash_moves_only_to_the_new_shard(key: int, n: int) -> None:
    assert jump_hash(key, n) == _jump_reference(key, n)
    before, after = jump_hash(key, n), jump_hash(key, n + 1)
    assert after == before or after == n  # growing by one shard moves keys only to it


def test_routing_spreads_documents_evenly() -> None:
    counts = np.bincount([jump_hash(key_of(f"file-{i}.txt"), 8) for i in range(8000)])
    assert counts.min() > 850 and counts.max() < 1150  # 1000 each, within ~4.5 sigma


# ---- same answers as one Index ------------------------------------------------------------


def test_shards_hold_every_document_once(one, sharded, docs) -> None:
    sizes = sharded.shard_sizes()
    assert sum(d for d, _ in sizes) == len(one) == len(sharded)
    assert sum(c for _, c in sizes) == one.n_chunks == sharded.n_chunks
    assert sharded.doc_ids() == one.doc_ids()
    texts, ids, _ = docs
    for i in (0, 7, len(ids) - 2):
        assert ids[i] in sharded and sharded.document(ids[i]) == texts[i]
        assert sharded.document(ids[i], 5, 40) == one.document(ids[i], 5, 40)
        assert sharded.metadata(ids[i]) == one.metadata(ids[i])
    assert "nope" not in sharded and 3 not in sharded


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_search_equals_one_index(one, sharded, docs, mode) -> None:
    queries = QUERIES + words_of(docs[0], 6)
    for q in queries:
        for k in (1, 10, 100, 10**6):  # 10**6: more than any shard and the whole index hold
            same_hits(sharded.search(q, k, mode=mode), one.search(q, k, mode=mode))


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_filters_equal_one_index(one, sharded, mode) -> None:
    filters = [{"group": 1}, {"group": [0, 2]}, lambda m: m["n"] % 5 == 0, {"group": 7}]
    for q in QUERIES[:5]:
        for f in filters:
            same_hits(
                sharded.search(q, 20, mode=mode, filter=f), one.search(q, 20, mode=mode, filter=f)
            )


def test_hybrid_options_and_mmr_equal_one_index(one, sharded) -> None:
    for q in QUERIES[:5]:
        for kw in (
            {"fusion": "rrf"},
            {"weights": (0.3, 1.0), "candidates": 80},
            {"mmr_lambda": 0.5},
        ):
            mode = "dense" if "mmr_lambda" in kw else "hybrid"
            same_hits(sharded.search(q, 12, mode=mode, **kw), one.search(q, 12, mode=mode, **kw))


def test_search_many_equals_search(one, sharded, docs) -> None:
    queries = QUERIES + words_of(docs[0], 10, seed=1)
    for got, want in zip(
        sharded.search_many(queries, 15), one.search_many(queries, 15), strict=True
    ):
        same_hits(got, want)
    got = sharded.search_many(queries[:3], 5, mode="hybrid", fusion="rrf")
    for q, hits in zip(queries[:3], got, strict=True):
        same_hits(hits, one.search(q, 5, mode="hybrid", fusion="rrf"))


def test_statistics_are_gathered_once_per_index_version(docs) -> None:
    texts, ids, _ = docs
    index = ShardedIndex(3, **OPTIONS)
    index.add_many(texts[:10], ids[:10])
    index.search("read a file")
    gathers = index._stats.gathers
    index.search("file a read", 5)  # the same terms: nothing to gather
    index.search_many(["file", "read"])
    assert index._stats.gathers == gathers
    index.search("unicode strings")  # new terms: one round trip
    assert index._stats.gathers == gathers + 1
    index.add("a new document about files", "new")  # a new version: statistics gathered again
    one = Index(**OPTIONS)
    one.add_many([*texts[:10], "a new document about files"], [*ids[:10], "new"])
    same_hits(index.search("read a file", 20), one.search("read a file", 20))
    assert index._stats.gathers == gathers + 2


def test_chunks_and_neighbors_equal_one_index(one, sharded) -> None:
    ids = [0, 5, 5, one.n_chunks - 1, 17, 3]
    assert sharded.chunks(ids) == one.chunks(ids)
    assert sharded.chunk(9) == one.chunk(9)
    for c in (0, 10, one.n_chunks - 1):
        assert sharded.neighbors(c, before=2, after=3) == one.neighbors(c, before=2, after=3)
    for bad in (-1, one.n_chunks, 10**9):
        with pytest.raises(NotFoundError, match=f"no chunk {bad}"):
            sharded.chunks([bad])
    with pytest.raises(NotFoundError):
        sharded.chunk(True)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        sharded.chunks([1.5])  # type: ignore[list-item]


def test_pack_equals_pack_of_one_index(one, sharded) -> None:
    for q in QUERIES[:3]:
        for mode in ("bm25", "hybrid"):
            a = ctxengine.pack(q, one, 1500, mode=mode)
            b = ctxengine.pack(q, sharded, 1500, mode=mode)
            assert b.text == a.text and b.tokens == a.tokens <= 1500
            assert [(s.doc_id, s.chunk_id, s.start, s.end) for s in b.sources] == [
                (s.doc_id, s.chunk_id, s.start, s.end) for s in a.sources
            ]


def test_removes_and_adds_after_removes_equal_one_index(docs) -> None:
    texts, ids, metas = docs
    one = Index(**OPTIONS, embedder=HashEmbedder())
    sharded = ShardedIndex(4, **OPTIONS, embedder=HashEmbedder())
    for index in (one, sharded):
        index.add_many(texts[:40], ids[:40], metas[:40])
        for d in ids[:40:3]:
            index.remove(d)
        index.add_many(texts[40:], ids[40:], metas[40:])
        index.add(texts[0], ids[0], metas[0])  # a removed id comes back
        index.add("an unnamed document about files")  # "doc-<n>", as Index names it
    assert sharded.doc_ids() == one.doc_ids() and sharded.n_chunks == one.n_chunks
    for q in QUERIES:
        for mode in ("bm25", "dense", "hybrid"):
            same_hits(sharded.search(q, 50, mode=mode), one.search(q, 50, mode=mode))
    removed_chunk = one.search("the", 10**6, filter=None)[0].chunk_id  # a live chunk
    assert sharded.chunk(removed_chunk) == one.chunk(removed_chunk)
    gone = 0  # the first document's first chunk id, removed then re-added under a new id
    for index in (one, sharded):
        with pytest.raises(NotFoundError, match="belonged to a removed document"):
            index.chunk(gone)
        with pytest.raises(NotFoundError):
            index.remove("never-added")


def test_bad_input_is_refused_as_index_refuses_it(docs) -> None:
    index = ShardedIndex(2, **OPTIONS)
    index.add_many(docs[0][:3], docs[1][:3])
    with pytest.raises(InvalidInputError, match="already in the index"):
        index.add_many(["x"], [docs[1][0]])
    with pytest.raises(InvalidInputError, match="already in the index"):
        index.add_many(["x", "y"], ["same", "same"])
    assert len(index) == 3  # nothing was added
    with pytest.raises(InvalidInputError, match="query is empty"):
        index.search("  ")
    with pytest.raises(InvalidInputError):
        index.search("x", 0)
    with pytest.raises(UnsupportedError, match="needs an embedder"):
        index.search("x", mode="hybrid")
    with pytest.raises(InvalidInputError, match="shards"):
        ShardedIndex(0)
    with pytest.raises(InvalidInputError, match="unknown Index options"):
        ShardedIndex(2, max_tokenz=5)
    with pytest.raises(InvalidInputError, match="max_tokens"):
        ShardedIndex(2, max_tokens=0)
    with pytest.raises(InvalidInputError, match="backend"):
        ShardedIndex(2, backend="spark")  # type: ignore[arg-type]


_WORDS = st.sampled_from("file read write open loop list dict the a of 東京 naïve".split())


@settings(max_examples=40)
@given(
    docs=st.lists(st.lists(_WORDS, max_size=30).map(" ".join), min_size=1, max_size=25),
    shards=st.integers(1, 6),
    removed=st.sets(st.integers(0, 24), max_size=6),
    query=st.lists(_WORDS, min_size=1, max_size=4).map(" ".join),
    k=st.integers(1, 40),
)
def test_any_corpus_gives_the_same_answers(docs, shards, removed, query, k) -> None:
    one = Index(max_tokens=8, embedder=HashEmbedder(16))
    sharded = ShardedIndex(shards, max_tokens=8, embedder=HashEmbedder(16))
    for index in (one, sharded):
        index.add_many(docs, metadatas=[{"g": i % 2} for i in range(len(docs))])
        for i in sorted(removed):
            if i < len(docs):
                index.remove(f"doc-{i}")
    for mode in ("bm25", "dense", "hybrid"):
        same_hits(sharded.search(query, k, mode=mode), one.search(query, k, mode=mode))
        same_hits(
            sharded.search(query, k, mode=mode, filter={"g": 1}),
            one.search(query, k, mode=mode, filter={"g": 1}),
        )


# ---- persistence --------------------------------------------------------------------------


def test_save_load_equals_one_index(tmp_path: Path, one, docs) -> None:
    texts, ids, metas = docs
    sharded = ShardedIndex(3, **OPTIONS, embedder=HashEmbedder())
    sharded.add_many(texts, ids, metas)
    sharded.save(tmp_path / "ix")
    loaded = ShardedIndex.load(tmp_path / "ix", embedder=HashEmbedder())
    assert len(loaded) == len(one) and loaded.doc_ids() == one.doc_ids()
    for q in QUERIES:
        for mode in ("bm25", "dense", "hybrid"):
            same_hits(loaded.search(q, 30, mode=mode), one.search(q, 30, mode=mode))
    assert loaded.chunks([0, 11]) == one.chunks([0, 11])
    # Saving again: unchanged shards keep their folders; a changed one gets a new folder.
    folders = sorted(p.name for p in (tmp_path / "ix").iterdir() if p.is_dir())
    loaded.save(tmp_path / "ix")
    assert sorted(p.name for p in (tmp_path / "ix").iterdir() if p.is_dir()) == folders
    victim = ids[4]
    loaded.remove(victim)
    loaded.add("a new document on reading files", "new")
    loaded.save(tmp_path / "ix")
    after = sorted(p.name for p in (tmp_path / "ix").iterdir() if p.is_dir())
    changed = {shard_of(victim, 3), shard_of("new", 3)}
    assert len(after) == 3 and sum(f not in folders for f in after) == len(changed)
    again = ShardedIndex.load(tmp_path / "ix", embedder=HashEmbedder())
    assert victim not in again and again.document("new").startswith("a new")
    assert again.search("reading files", 3) == loaded.search("reading files", 3)


def _saved(tmp_path: Path, docs) -> Path:
    texts, ids, metas = docs
    index = ShardedIndex(3, **OPTIONS)
    index.add_many(texts, ids, metas)
    index.save(tmp_path / "ix")
    return tmp_path / "ix"


def _shard_dir(root: Path, shard: int) -> Path:
    manifest = json.loads((root / "sharded.json").read_text())
    return root / manifest["shard_dirs"][shard]["dir"]


def test_a_missing_shard_is_named_and_partial_results_are_marked(tmp_path: Path, docs) -> None:
    root = _saved(tmp_path, docs)
    full = ShardedIndex.load(root)
    import shutil

    shutil.rmtree(_shard_dir(root, 1))
    with pytest.raises(ShardMissingError, match="shard 1 is missing") as err:
        ShardedIndex.load(root)
    assert err.value.shard == 1 and isinstance(err.value, NotFoundError)
    partial = ShardedIndex.load(root, partial=True)
    assert partial.missing_shards == (1,)
    texts, ids, _ = docs
    # The shards that are up answer as one Index over their documents would.
    survivors = [i for i, d in enumerate(ids) if shard_of(d, 3) != 1]
    rest = Index(**OPTIONS)
    rest.add_many([texts[i] for i in survivors], [ids[i] for i in survivors])
    for q in QUERIES[:5]:
        hits = partial.search(q, 20)
        assert hits.partial and hits.missing_shards == (1,)
        want = rest.search(q, 20)
        assert [(h.doc_id, h.text) for h in hits] == [(h.doc_id, h.text) for h in want]
        assert [h.score for h in hits] == pytest.approx([h.score for h in want], rel=1e-6)
        full_hits = full.search(q, 20)
        assert not full_hits.partial and full_hits.missing_shards == ()
    with pytest.raises(InvalidInputError, match="down"):
        partial.save(tmp_path / "other")


def test_a_damaged_shard_is_named(tmp_path: Path, docs) -> None:
    root = _saved(tmp_path, docs)
    folder = _shard_dir(root, 2)
    victim = next(p for p in sorted((folder / "index").rglob("*.npy")) if p.stat().st_size > 200)
    data = bytearray(victim.read_bytes())
    data[-1] ^= 0xFF
    victim.write_bytes(bytes(data))
    with pytest.raises(ShardDamagedError, match=r"shard 2 at .* is damaged") as err:
        ShardedIndex.load(root)
    assert err.value.shard == 2
    assert ShardedIndex.load(root, partial=True).missing_shards == (2,)
    (folder / "order.npy").write_bytes(b"not an array")
    with pytest.raises(ShardDamagedError, match="shard 2"):
        ShardedIndex.load(root, verify=False)


def test_not_a_sharded_index(tmp_path: Path, docs) -> None:
    with pytest.raises(NotFoundError):
        ShardedIndex.load(tmp_path / "none")
    (tmp_path / "stuff").mkdir()
    (tmp_path / "stuff" / "a.txt").write_text("x")
    index = ShardedIndex(2)
    with pytest.raises(InvalidInputError, match="not a sharded"):
        index.save(tmp_path / "stuff")
    root = _saved(tmp_path, docs)
    manifest = json.loads((root / "sharded.json").read_text())
    (root / "sharded.json").write_text(json.dumps({**manifest, "version": 99}))
    with pytest.raises(ctxengine.FormatError, match="newer ctxengine"):
        ShardedIndex.load(root)


# ---- ingest: files, checkpoints, a killed run re-run ----------------------------------------


def _files(tmp_path: Path, docs, n: int = 40) -> Path:
    texts, ids, _ = docs
    root = tmp_path / "files"
    for i in range(n):
        path = root / f"{i:03d}-{Path(ids[i]).name}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(texts[i])
    (root / "blob.bin").write_bytes(b"\x00binary")
    return root


def test_add_files_equals_index_add_files(tmp_path: Path, docs) -> None:
    files = _files(tmp_path, docs)
    one = Index(**OPTIONS)
    with pytest.warns(ctxengine.retrieval.SkippedFilesWarning):
        one.add_files(files, progress=False)
    sharded = ShardedIndex(3, **OPTIONS)
    with pytest.warns(ctxengine.retrieval.SkippedFilesWarning, match="blob.bin"):
        result = sharded.add_files(files, progress=False)
    assert result.added == one.doc_ids() == sharded.doc_ids()
    report = sharded.last_ingest
    assert report is not None and report.backend == "local" and report.workers is None
    assert (report.documents, report.chunks) == (len(one), one.n_chunks)
    assert report.seconds > 0 and report.prepare_cpu_s > 0
    for q in QUERIES:
        same_hits(sharded.search(q, 40), one.search(q, 40))
    with pytest.raises(InvalidInputError, match="already in the index"):
        sharded.add_files(files, progress=False)


def test_an_interrupted_ingest_re_run_adds_nothing_twice(tmp_path: Path, docs, monkeypatch) -> None:
    files = _files(tmp_path, docs)
    one = Index(**OPTIONS)
    with pytest.warns(ctxengine.retrieval.SkippedFilesWarning):
        one.add_files(files, progress=False)
    checkpoints = []
    real = ShardedIndex._checkpoint

    def stop_after_two(self, folder):  # the ingest dies right after its second checkpoint
        real(self, folder)
        checkpoints.append(len(self))
        if len(checkpoints) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(ShardedIndex, "_checkpoint", stop_after_two)
    ckpt = tmp_path / "ckpt"
    with pytest.raises(KeyboardInterrupt):
        ShardedIndex(3, **OPTIONS).add_files(
            files, progress=False, checkpoint=ckpt, checkpoint_every=5
        )
    monkeypatch.undo()
    resumed = ShardedIndex.load(ckpt)
    assert 0 < len(resumed) == checkpoints[-1] < len(one)
    with pytest.warns(ctxengine.retrieval.SkippedFilesWarning):
        result = resumed.add_files(files, progress=False, skip_existing=True, checkpoint=ckpt)
    assert len(result.added) == len(one) - checkpoints[-1]
    assert resumed.doc_ids() == one.doc_ids()
    final = ShardedIndex.load(ckpt)
    for index in (resumed, final):
        assert index.chunks(range(one.n_chunks)) == one.chunks(range(one.n_chunks))
        for q in QUERIES:
            same_hits(index.search(q, 25), one.search(q, 25))


def test_a_checkpoint_with_an_empty_dense_shard_loads_and_resumes(
    tmp_path: Path, docs, monkeypatch
) -> None:
    """The first checkpoint holds no document of shard 1 (files ordered so by their routing):
    its shard saved with no vector, so no dimension. The ingest dies before the second one;
    the checkpoint loads, answers as one Index over its prefix (searching the empty shard
    densely before its first vector), and the re-run completes it. (CI once drew file paths
    that routed so, and the load failed: "the vectors do not match the chunk table".)"""
    files = _files(tmp_path, docs, n=24)
    paths = [p.as_posix() for p in sorted(files.iterdir()) if p.name != "blob.bin"]
    away = [p for p in paths if shard_of(p, 3) != 1]
    order = away[:5] + [p for p in paths if p not in away[:5]]
    assert len(away) > 5 and any(shard_of(p, 3) == 1 for p in order)
    one, prefix = (Index(**OPTIONS, embedder=HashEmbedder()) for _ in range(2))
    one.add_files(order, progress=False)
    prefix.add_files(order[:5], progress=False)
    real, calls = ShardedIndex._checkpoint, []

    def die_at_the_second(self, folder):  # the coordinator dies as it starts the second one
        calls.append(folder)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real(self, folder)

    monkeypatch.setattr(ShardedIndex, "_checkpoint", die_at_the_second)
    ckpt = tmp_path / "ckpt"
    with pytest.raises(KeyboardInterrupt):
        ShardedIndex(3, **OPTIONS, embedder=HashEmbedder()).add_files(
            order, progress=False, checkpoint=ckpt, checkpoint_every=5
        )
    monkeypatch.undo()
    resumed = ShardedIndex.load(ckpt, embedder=HashEmbedder())
    assert resumed.shard_sizes()[1] == (0, 0) and resumed.doc_ids() == order[:5]
    for q in QUERIES:
        for mode in ("bm25", "dense", "hybrid"):
            same_hits(resumed.search(q, 10, mode=mode), prefix.search(q, 10, mode=mode))
    result = resumed.add_files(order, progress=False, skip_existing=True, checkpoint=ckpt)
    assert result.added == order[5:]
    final = ShardedIndex.load(ckpt, embedder=HashEmbedder())
    for index in (resumed, final):
        assert index.doc_ids() == one.doc_ids() and index.shard_sizes()[1][0] > 0
        for q in QUERIES:
            for mode in ("bm25", "dense", "hybrid"):
                same_hits(index.search(q, 25, mode=mode), one.search(q, 25, mode=mode))


def test_cli_ingest_killed_by_sigkill_then_re_run(tmp_path: Path, docs) -> None:
    files = _files(tmp_path, docs)
    out = tmp_path / "ix"
    args = ["index", str(files), "--out", str(out), "--shards", "3", "--max-tokens", "128",
            "--checkpoint-every", "4", "-q"]  # fmt: skip
    # The first run kills itself (SIGKILL: no cleanup at all) after its third checkpoint.
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        from ctxengine.distributed import ShardedIndex
        from ctxengine.cli import main
        real, seen = ShardedIndex._checkpoint, []
        def checkpoint(self, folder):
            real(self, folder)
            seen.append(1)
            if len(seen) == 3:
                os.kill(os.getpid(), signal.SIGKILL)
        ShardedIndex._checkpoint = checkpoint
        main({args!r})
        """
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == -signal.SIGKILL, run.stderr
    manifest = json.loads((out / "sharded.json").read_text())
    assert manifest["complete"] is False and 0 < manifest["counts"]["documents"] < 40
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    assert "resuming the unfinished ingest" in r.stderr
    one = Index(**OPTIONS)
    with pytest.warns(ctxengine.retrieval.SkippedFilesWarning):
        one.add_files(files, progress=False)
    index = ShardedIndex.load(out)
    assert json.loads((out / "sharded.json").read_text())["complete"] is True
    assert index.doc_ids() == one.doc_ids()
    assert index.chunks(range(one.n_chunks)) == one.chunks(range(one.n_chunks))
    for q in QUERIES:
        same_hits(index.search(q, 25), one.search(q, 25))


# ---- CLI ------------------------------------------------------------------------------------


def test_cli_index_search_and_pack_a_sharded_folder(tmp_path: Path, docs) -> None:
    files = _files(tmp_path, docs, 20)
    runner = CliRunner()
    out, plain = tmp_path / "sharded", tmp_path / "plain"
    r = runner.invoke(main, ["index", str(files), "--out", str(out), "--shards", "2", "-q"])
    assert r.exit_code == 0, r.output
    assert "2 shards" in r.stderr and "blob.bin: binary" in r.stderr
    r = runner.invoke(main, ["index", str(files), "--out", str(plain), "-q"])
    assert r.exit_code == 0, r.output
    for q in QUERIES[:4]:
        a = runner.invoke(main, ["search", str(out), q, "-k", "7", "--json"])
        b = runner.invoke(main, ["search", str(plain), q, "-k", "7", "--json"])
        assert a.exit_code == b.exit_code == 0, a.output + b.output
        got, want = json.loads(a.stdout), json.loads(b.stdout)
        assert [(h["doc_id"], h["chunk_id"]) for h in got] == [
            (h["doc_id"], h["chunk_id"]) for h in want
        ]
        a = runner.invoke(main, ["pack", str(out), q, "--budget", "1200"])
        b = runner.invoke(main, ["pack", str(plain), q, "--budget", "1200"])
        assert a.exit_code == b.exit_code == 0 and a.stdout == b.stdout
    r = runner.invoke(main, ["index", str(files), "--out", str(out), "--shards", "3", "--append"])
    assert r.exit_code != 0 and "holds 2 shards" in r.output
    r = runner.invoke(main, ["index", str(files), "--out", str(plain), "--ray", "auto"])
    assert r.exit_code != 0 and "--shards" in r.output
    r = runner.invoke(main, ["search", str(plain), "x", "--ray", "auto"])
    assert r.exit_code != 0 and "sharded" in r.output


# ---- the BM25 statistics hook ---------------------------------------------------------------


@pytest.mark.parametrize("variant", ["lucene", "robertson", "atire"])
def test_bm25_under_given_statistics_scores_as_the_whole_corpus(docs, variant) -> None:
    """A part of a corpus searched with the whole corpus's statistics scores exactly as the whole
    does, by block-max WAND (bounds rescaled to the given statistics) and by the exhaustive
    reference alike; with its own statistics given, nothing changes."""
    from ctxengine import BM25

    paras = [p for t in docs[0][:30] for p in t.split("\n\n") if p.strip()]
    rng = np.random.default_rng(7)
    part = np.flatnonzero(rng.random(len(paras)) < 0.3)
    whole = BM25(paras, variant=variant)
    piece = BM25([paras[i] for i in part], variant=variant)
    n, total = whole._native.stats()
    mask = np.zeros(len(paras), dtype=bool)
    mask[part] = True
    for q in [*QUERIES, *words_of(docs[0], 20, seed=3), "the of and to a in"]:
        dfs = dict(whole._native.term_stats(q.encode()))
        stats = (n, total, dfs)
        want_scores, want_ids = whole.search(q, 25, mask=mask)
        for exhaustive in (False, True):
            scores, ids = piece._native.search(q.encode(), 25, None, exhaustive, stats=stats)
            assert part[ids].tolist() == want_ids.tolist()
            assert scores.tolist() == want_scores.tolist()  # bit for bit
        own = piece._native.stats()
        own_stats = (*own, dict(piece._native.term_stats(q.encode())))
        a = piece._native.search(q.encode(), 25, None, False, stats=own_stats)
        b = piece._native.search(q.encode(), 25)
        assert a[0].tolist() == b[0].tolist() and a[1].tolist() == b[1].tolist()


def test_the_server_and_the_adapters_open_a_sharded_folder(tmp_path: Path, docs) -> None:
    from fastapi.testclient import TestClient

    from ctxengine.integrations._common import open_index
    from ctxengine.server.app import create_app

    root = _saved(tmp_path, docs)
    want = ShardedIndex.load(root)
    opened, folder = open_index(str(root))
    assert isinstance(opened, ShardedIndex) and folder == str(root)
    with TestClient(create_app({"docs": root})) as client:
        for q in QUERIES[:3]:
            r = client.post("/v1/search", json={"index": "docs", "query": q, "k": 5})
            assert r.status_code == 200, r.text
            hits = want.search(q, 5)
            assert r.json()["hits"] == [{**h.to_dict(), "score": h.score} for h in hits]
