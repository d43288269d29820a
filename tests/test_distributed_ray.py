"""ShardedIndex on Ray (a local cluster started here, shared by this module's tests): shards as
actors and ingest as a Ray Data pipeline give the answers of one Index; a killed actor is
restarted from its saved shard or reported by number; an ingest killed and re-run adds nothing
twice. Needs ``pip install 'ctxengine[ray]'`` (CI installs it)."""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

import ctxengine  # noqa: E402
import test_dense  # noqa: E402
from ctxengine import Index  # noqa: E402
from ctxengine.distributed import ShardedIndex, ShardUnavailableError  # noqa: E402
from dist_support import QUERIES, HashEmbedder, corpus, same_hits  # noqa: E402

OPTIONS = {"max_tokens": 128}


@pytest.fixture(scope="module", autouse=True)
def cluster():
    """One local Ray cluster for the module (about 3 s to start), shut down at its end."""
    if ray.is_initialized():
        ray.shutdown()
    paths = [str(Path(p).resolve()) for p in sys.path if p and Path(p).is_dir()]
    try:
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            _node_ip_address="127.0.0.1",
            object_store_memory=256 * 1024 * 1024,
            log_to_driver=False,
            # The workers import ctxengine as this process does (a source tree or an install).
            runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(paths)}},
        )
        ray.cloudpickle.register_pickle_by_value(test_dense)  # the test embedder, by value
        yield
    finally:
        # Also when the cluster failed to start: its half-started processes and open pipes.
        ray.shutdown()
        # Finalise Ray's leftover objects now, not in a later test's garbage collection
        # (CPython 3.11's ast.parse fails with "AST constructor recursion depth mismatch" when
        # such finalisers run inside it: tests/test_import_graph.py did; an unclosed pipe's
        # ResourceWarning fails whichever later test collects it).
        gc.collect()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    texts, ids, _ = corpus(30)
    root = tmp_path_factory.mktemp("files")
    for i, (t, d) in enumerate(zip(texts, ids, strict=True)):
        (root / f"{i:03d}-{Path(d).name}.txt").write_text(t)
    (root / "blob.bin").write_bytes(b"\x00binary")
    return root


@pytest.fixture(scope="module")
def one(files):
    index = Index(**OPTIONS, embedder=HashEmbedder())
    with pytest.warns(ctxengine.retrieval.SkippedFilesWarning):
        index.add_files(files, progress=False, metadata={"group": "docs"})
    return index


def _compare(index, one) -> None:
    assert index.doc_ids() == one.doc_ids() and index.n_chunks == one.n_chunks
    for q in QUERIES:
        for mode in ("bm25", "dense", "hybrid"):
            for k in (5, 10**6):
                same_hits(index.search(q, k, mode=mode), one.search(q, k, mode=mode))
        flt = lambda m: len(m["path"]) % 2 == 0  # noqa: E731 (a callable filter, pickled)
        same_hits(index.search(q, 20, filter=flt), one.search(q, 20, filter=flt))
    for got, want in zip(index.search_many(QUERIES, 8), one.search_many(QUERIES, 8), strict=True):
        same_hits(got, want)
    live = [h.chunk_id for h in one.search(QUERIES[0], 3)] + [
        h.chunk_id for h in one.search("the", 2)
    ]
    assert index.chunks(live + live[:1]) == one.chunks(live + live[:1])


def test_ray_ingest_search_remove_save_load_equal_one_index(tmp_path: Path, files, one) -> None:
    index = ShardedIndex(3, backend="ray", **OPTIONS, embedder=HashEmbedder())
    try:
        with pytest.warns(ctxengine.retrieval.SkippedFilesWarning, match="blob.bin"):
            index.add_files(files, progress=False, metadata={"group": "docs"}, workers=2)
        _compare(index, one)
        packed = ctxengine.pack(QUERIES[0], index, 1200, mode="hybrid")
        assert packed.text == ctxengine.pack(QUERIES[0], one, 1200, mode="hybrid").text
        index.save(tmp_path / "ix")
    finally:
        index.close()
    loaded = ShardedIndex.load(tmp_path / "ix", backend="ray", embedder=HashEmbedder())
    try:
        _compare(loaded, one)
        local = Index(**OPTIONS, embedder=HashEmbedder())
        with pytest.warns(ctxengine.retrieval.SkippedFilesWarning):
            local.add_files(files, progress=False, metadata={"group": "docs"})
        for d in one.doc_ids()[::4]:
            loaded.remove(d)
            local.remove(d)
        _compare(loaded, local)
    finally:
        loaded.close()


def test_a_killed_actor_is_restarted_from_its_saved_shard(tmp_path: Path, files, one) -> None:
    index = ShardedIndex(3, backend="ray", **OPTIONS, embedder=HashEmbedder())
    try:
        with pytest.warns(ctxengine.retrieval.SkippedFilesWarning):
            index.add_files(files, progress=False, metadata={"group": "docs"}, workers=1)
        index.save(tmp_path / "ix")
        backend = index._backend
        # Killed (SIGKILL) while a long search runs on it: the coordinator's next call finds
        # it dead, starts a new actor from the saved shard and retries; the answers are equal.
        pid = backend.pids()[1]
        pending = backend.actors[1].call.remote("search_many", (QUERIES * 200, 50, None, 1), {})
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(ray.exceptions.RayActorError):
            ray.get(pending)
        for q in QUERIES:
            same_hits(index.search(q, 10, mode="hybrid"), one.search(q, 10, mode="hybrid"))
        assert backend.restarts == 1
        # With changes since the save, a restart would answer from an older copy: reported.
        index.add("a new document about reading files", "new")
        shard = ctxengine.distributed.shard_of("new", 3)
        os.kill(backend.pids()[shard], signal.SIGKILL)
        with pytest.raises(ShardUnavailableError, match=f"shard {shard}'s Ray actor") as err:
            index.search("reading files", 5)
        assert err.value.shard == shard
    finally:
        index.close()
    partial = ShardedIndex.load(
        tmp_path / "ix", backend="ray", partial=True, embedder=HashEmbedder()
    )
    try:
        os.kill(partial._backend.pids()[0], signal.SIGKILL)
        partial._backend.changed(0)  # as if it had unsaved changes: it cannot be restarted
        hits = partial.search(QUERIES[0], 5)
        assert hits.partial and hits.missing_shards == (0,)
        assert all(ctxengine.distributed.shard_of(h.doc_id, 3) != 0 for h in hits)
    finally:
        partial.close()


def test_an_actor_killed_mid_save_is_restarted_and_the_save_completes(
    tmp_path: Path, files, one, monkeypatch
) -> None:
    """A shard's actor killed while it writes its shard (shards unchanged since they were
    loaded from another folder, so it is restarted from there and the save retried): the retry
    writes the folder the killed attempt left half written, and the save completes."""
    from ctxengine.distributed import persistence

    local = ShardedIndex(3, **OPTIONS, embedder=HashEmbedder())
    with pytest.warns(ctxengine.retrieval.SkippedFilesWarning):
        local.add_files(files, progress=False, metadata={"group": "docs"})
    local.save(tmp_path / "a")
    local.save(tmp_path / "b")  # b: a sharded index folder, saved to again below
    index = ShardedIndex.load(tmp_path / "a", backend="ray", embedder=HashEmbedder())
    try:
        # What a kill in the middle of the shard's save leaves: an Index version half written
        # (no CURRENT yet) and a partial order file.
        left = tmp_path / "b" / "shard-0001-0badf00d"
        (left / "index" / "v1-0badf00d.tmp").mkdir(parents=True)
        (left / "index" / "v1-0badf00d.tmp" / "chunks.npy").write_bytes(b"\x93NUMPY\x01")
        (left / "order.npy.tmp").write_bytes(b"\x93NU")
        real = persistence._new_folder
        monkeypatch.setattr(
            persistence, "_new_folder", lambda root, i: left if i == 1 else real(root, i)
        )
        os.kill(index._backend.pids()[1], signal.SIGKILL)
        index.save(tmp_path / "b")
        assert index._backend.restarts == 1
        _compare(index, one)
    finally:
        index.close()
    monkeypatch.undo()
    loaded = ShardedIndex.load(tmp_path / "b", backend="ray", embedder=HashEmbedder())
    try:
        manifest = json.loads((tmp_path / "b" / "sharded.json").read_text())
        assert manifest["shard_dirs"][1]["dir"] == left.name
        _compare(loaded, one)
    finally:
        loaded.close()


def test_a_killed_ingest_re_run_adds_nothing_twice(tmp_path: Path, files, one, monkeypatch) -> None:
    ckpt = tmp_path / "ckpt"
    real, calls = ShardedIndex._checkpoint, []

    def kill_an_actor(self, folder):  # shard 2's process dies just before the second checkpoint
        calls.append(folder)
        if len(calls) == 2:
            os.kill(self._backend.pids()[2], signal.SIGKILL)
        real(self, folder)

    monkeypatch.setattr(ShardedIndex, "_checkpoint", kill_an_actor)
    index = ShardedIndex(3, backend="ray", **OPTIONS, embedder=HashEmbedder())
    with pytest.raises(ShardUnavailableError, match="shard 2"):  # its new documents are lost
        index.add_files(
            files, progress=False, metadata={"group": "docs"}, checkpoint=ckpt, checkpoint_every=8
        )
    index.close()
    monkeypatch.undo()
    resumed = ShardedIndex.load(ckpt, backend="ray", embedder=HashEmbedder())
    try:
        done = len(resumed)
        assert 0 < done < len(one) and resumed.doc_ids() == one.doc_ids()[:done]
        with pytest.warns(ctxengine.retrieval.SkippedFilesWarning):
            result = resumed.add_files(
                files, progress=False, metadata={"group": "docs"}, skip_existing=True,
                checkpoint=ckpt,
            )  # fmt: skip
        assert result.added == one.doc_ids()[done:]
        _compare(resumed, one)
    finally:
        resumed.close()


def test_cli_on_ray(tmp_path: Path, files, one) -> None:
    """`ctxengine index --shards N --ray auto` (this process's cluster) and `search --ray`."""
    import json

    from click.testing import CliRunner

    from ctxengine.cli import main

    out = tmp_path / "ix"
    runner = CliRunner()
    args = ["index", str(files), "--out", str(out), "--shards", "2", "--ray", "auto"]
    r = runner.invoke(main, [*args, "--workers", "1", "--max-tokens", "128", "-q"])
    assert r.exit_code == 0, r.output
    plain = Index(max_tokens=128)
    with pytest.warns(ctxengine.retrieval.SkippedFilesWarning):
        plain.add_files(files, progress=False)
    for q in QUERIES[:3]:
        r = runner.invoke(main, ["search", str(out), q, "-k", "5", "--json", "--ray", "auto"])
        assert r.exit_code == 0, r.output
        got = json.loads(r.stdout)
        want = plain.search(q, 5)
        assert [(h["doc_id"], h["chunk_id"]) for h in got] == [(h.doc_id, h.chunk_id) for h in want]
