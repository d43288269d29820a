"""`ShardedIndex`: an :class:`~ctxengine.Index` split over shards, in-process or on Ray, with the
same answers as one Index over the same documents.

Documents are routed to shards by a stable hash of their id (routing.py). Each shard is an
Index (shard.py) that numbers its documents and chunks as the one Index would (directory.py),
so ids, ties and chunk ids agree. A search scatters to the shards and gathers their top k:

- BM25 scores use corpus-wide statistics gathered from the shards (stats.py), so they equal one
  Index's scores;
- dense search is exact (FAISS flat) per shard, the query embedded once by the coordinator;
- hybrid search merges each list over the shards first and fuses after (fusion normalises over
  whole lists), then reads the final hits from the shards that hold them.

>>> index = ShardedIndex(shards=3, max_tokens=64)
>>> index.add_many(["red apples", "green pears", "apple pie"], ["a", "b", "c"])
['a', 'b', 'c']
>>> [h.doc_id for h in index.search("apples", k=5)]
['a']
>>> index.remove("a")
>>> len(index), index.n_shards
(2, 3)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np

from ..chunking import Chunk
from ..errors import InvalidInputError, NotFoundError
from ..retrieval import AddFilesResult, Hit, Index
from ..retrieval.bm25 import check_k
from ..retrieval.embed import Embedder
from ..retrieval.embeddings import Embeddings
from ..retrieval.filters import Filter
from ..retrieval.fusion import fuse, mmr
from ..retrieval.index import check_search, fetch_size, warn_skipped
from ..retrieval.ingest import expand_paths
from ..retrieval.records import check_ids, check_texts
from . import persistence
from .backend import Backend, Call, LocalBackend, Pending
from .directory import Directory
from .ingest import IngestReport, ingest_files
from .merge import merge_hits, merge_lists
from .prepare import Prepared, prepare
from .routing import shards_of
from .stats import GlobalStats

__all__ = ["Hits", "ShardedIndex"]

Mode = Literal["bm25", "dense", "hybrid"]

# Index's options that a shard's Index takes (the embedder is the coordinator's).
_SHARD_OPTIONS = (
    "tokenizer",
    "max_tokens",
    "overlap",
    "by",
    "dense_index",
    "gpu",
    "k1",
    "b",
    "variant",
    "stop_words",
    "stem",
    "min_chars",
    "cjk",
    "threads",
)


class Hits(list[Hit]):
    """Search results: a list of :class:`Hit`, best first. `partial` is True when some shards
    were left out (only on an index opened with ``partial=True``); `missing_shards` names
    them."""

    partial: bool = False
    missing_shards: tuple[int, ...] = ()

    @classmethod
    def of(cls, hits: Iterable[Hit], missing: Sequence[int]) -> Hits:
        out = cls(hits)
        out.partial, out.missing_shards = bool(missing), tuple(missing)
        return out


class ShardedIndex:
    """Documents split over `shards` shards, searched as one :class:`~ctxengine.Index`.

    `backend`: ``"local"`` (shards in this process, the default) or ``"ray"`` (each shard a Ray
    actor; `ray_address` names the cluster, None joins the one this process has joined or
    starts a local one). Every other keyword is an :class:`~ctxengine.Index` option
    (`tokenizer`, `max_tokens`, `overlap`, `by`, `embedder`, `dense_index`, BM25 and analyzer
    options); with the Ray backend the tokenizer and embedder are sent to the actors and the
    ingest workers, so give them by name or as picklable objects. `partial=True` lets searches
    answer from the shards that are up when some are not (missing or damaged on load, or an
    actor lost with unsaved changes); such answers are marked (:class:`Hits`).
    """

    # Reads as an Index: chunks(ids) and document(doc_id, start, end) behave as Index's, so
    # ctxengine.pack fetches neighbours in one call per shard and reads parts of documents.
    _ctxengine_index = True

    def __init__(
        self,
        shards: int = 2,
        *,
        backend: Literal["local", "ray"] = "local",
        ray_address: str | None = None,
        partial: bool = False,
        **index_options: Any,
    ) -> None:
        if isinstance(shards, bool) or not isinstance(shards, int) or shards < 1:
            raise InvalidInputError(f"shards must be a positive integer, got {shards!r}")
        self._setup(shards, backend, ray_address, partial, index_options)
        makes = {
            i: {"new": (self._shard_options, self.embedder is not None, self._embedder_name)}
            for i in range(shards)
        }
        self._start(makes)

    def _setup(
        self,
        shards: int,
        backend: str,
        ray_address: str | None,
        partial: bool,
        index_options: dict[str, Any],
    ) -> None:
        if backend not in ("local", "ray"):
            raise InvalidInputError(f"backend must be 'local' or 'ray', got {backend!r}")
        unknown = sorted(set(index_options) - {*_SHARD_OPTIONS, "embedder"})
        if unknown:
            raise InvalidInputError(f"unknown Index options: {', '.join(unknown)}")
        # The coordinator's own empty Index checks the options exactly as Index does, and
        # holds the resolved tokenizer and embedder (queries are embedded here).
        self._template = Index(**index_options)
        self._shard_options = {k: v for k, v in index_options.items() if k != "embedder"}
        self._embedder_spec = index_options.get("embedder")
        self._embedder_name = self._template._embeddings.name
        self.n_shards = shards
        self._directory = Directory()
        self._version = 0  # bumped by every change: what global BM25 statistics are valid for
        self._stats = GlobalStats(self._template._options["analyzer"])
        # Each shard's last save (folder, manifest entry), and the shards unchanged since.
        self._saved: dict[int, tuple[str, dict[str, Any]]] = {}
        self._clean: set[int] = set()
        self.last_ingest: IngestReport | None = None  # what the last add_files did
        self._backend: Backend
        if backend == "ray":
            from .ray_backend import RayBackend, connect

            self._check_picklable()
            self._backend = RayBackend(shards, partial=partial, owns_cluster=connect(ray_address))
        else:
            self._backend = LocalBackend(shards, partial=partial)

    def _start(self, makes: dict[int, dict[str, Any]]) -> None:
        starts = getattr(self._backend, "starts", None)
        if starts is not None:
            starts(makes)
        else:
            for i, make in makes.items():
                self._backend.start(i, make)
        if self._backend.down and not self._backend.partial:
            first = self._backend.down[min(self._backend.down)]
            self.close()
            raise first

    def _check_picklable(self) -> None:
        import pickle

        for what, value in (
            ("tokenizer", self._shard_options.get("tokenizer")),
            ("embedder", self._embedder_spec),
        ):
            if value is None or isinstance(value, str):
                continue
            try:
                from ray import cloudpickle

                cloudpickle.dumps(value)
            except (pickle.PicklingError, TypeError, AttributeError) as exc:
                raise InvalidInputError(
                    f"the Ray backend sends the {what} to its actors and workers, but this "
                    f"{what} cannot be pickled ({exc}); give it by name"
                ) from exc

    # ---- options and sizes -----------------------------------------------------------------

    @property
    def backend(self) -> str:
        """``"local"`` or ``"ray"``."""
        return self._backend.name

    @property
    def tokenizer(self) -> Any:
        """The tokenizer that counts chunk tokens (``Hit.tokens``)."""
        return self._template.tokenizer

    @property
    def max_tokens(self) -> int:
        return self._template.max_tokens

    @property
    def overlap(self) -> int:
        return self._template.overlap

    @property
    def by(self) -> str:
        return self._template.by

    @property
    def embedder(self) -> Embedder | None:
        """The embedder of dense and hybrid search (None: BM25 only)."""
        return self._template.embedder

    @property
    def n_chunks(self) -> int:
        """Number of chunks of live documents."""
        return self._directory.n_live_chunks()

    @property
    def mean_chunk_tokens(self) -> float:
        """The mean token count of the live chunks (0.0 when there are none), as
        :attr:`Index.mean_chunk_tokens <ctxengine.Index.mean_chunk_tokens>` (``pack`` sizes its
        one search by it)."""
        found, _ = self._backend.broadcast("tokens")
        tokens = sum(t for t, _ in found.values())
        n = sum(c for _, c in found.values())
        return tokens / n if n else 0.0

    @property
    def missing_shards(self) -> tuple[int, ...]:
        """Shards that are down (only on an index opened with ``partial=True``)."""
        return tuple(sorted(self._backend.down))

    def __len__(self) -> int:
        """Number of documents in the index."""
        return self._directory.n_live()

    def __contains__(self, doc_id: object) -> bool:
        if not isinstance(doc_id, str):
            return False
        return bool(self._existing([doc_id])[0])

    def __repr__(self) -> str:
        return (
            f"ShardedIndex(shards={self.n_shards}, backend={self.backend!r}, "
            f"documents={len(self)}, chunks={self.n_chunks})"
        )

    def doc_ids(self) -> list[str]:
        """Ids of the documents in the index, in the order they were added."""
        found, _ = self._backend.broadcast("live")
        pairs = [(s, d) for ids, seqs in found.values() for d, s in zip(ids, seqs, strict=True)]
        return [d for _, d in sorted(pairs)]

    def shard_sizes(self) -> list[tuple[int, int]]:
        """(documents, chunks) of each shard (live ones), in shard order."""
        found, _ = self._backend.broadcast("size", write=True)
        return [found[i] for i in range(self.n_shards)]

    # ---- adding and removing ---------------------------------------------------------------

    def _route(self, doc_ids: Sequence[str]) -> np.ndarray:
        return shards_of(doc_ids, self.n_shards)

    def _existing(self, doc_ids: Sequence[str]) -> np.ndarray:
        """Which of `doc_ids` the index holds (one call per shard that may hold some)."""
        out = np.zeros(len(doc_ids), dtype=bool)
        if not doc_ids:
            return out
        shards = self._route(doc_ids)
        groups = {int(s): np.flatnonzero(shards == s) for s in np.unique(shards)}
        found, _ = self._backend.gather(
            {
                s: ("existing", ([doc_ids[j] for j in idx.tolist()],), {})
                for s, idx in groups.items()
            },
            write=True,
        )
        for s, idx in groups.items():
            out[idx] = found[s]
        return out

    def _new_ids(self, n: int, doc_ids: Sequence[str] | None) -> list[str]:
        """Ids for `n` new documents, checked as Index checks them (new, unique, non-empty
        str), or generated ``"doc-<n>"`` skipping ids in use, as Index generates them."""
        if doc_ids is not None:
            ids = check_ids(n, doc_ids)
            taken = self._existing(ids)
            if taken.any():
                d = ids[int(np.flatnonzero(taken)[0])]
                raise InvalidInputError(
                    f"document id {d!r} is already in the index; remove it first"
                )
            return ids
        out: list[str] = []
        directory = self._directory
        while len(out) < n:
            candidates = [f"doc-{directory.next_auto + i}" for i in range(n - len(out))]
            taken = self._existing(candidates)
            for c, t in zip(candidates, taken.tolist(), strict=True):
                directory.next_auto += 1
                if not t:
                    out.append(c)
        return out

    def add(
        self, text: str, doc_id: str | None = None, metadata: Mapping[str, Any] | None = None
    ) -> str:
        """Add one document; returns its id (given, or ``"doc-<n>"``)."""
        return self.add_many(
            [text], None if doc_id is None else [doc_id], None if metadata is None else [metadata]
        )[0]

    def add_many(
        self,
        texts: Sequence[str],
        doc_ids: Sequence[str] | None = None,
        metadatas: Sequence[Mapping[str, Any] | None] | None = None,
        *,
        progress: bool = False,
    ) -> list[str]:
        """Add documents (chunked and embedded here, on all cores, then sent to their shards);
        returns their ids. As :meth:`Index.add_many`: nothing is added when an argument is
        invalid."""
        texts = check_texts(texts)
        ids = self._new_ids(len(texts), doc_ids)
        batch = prepare(
            texts,
            ids,
            metadatas,
            options=self._template._options,
            tokenizer=self.tokenizer,
            embedder=self.embedder,
            progress=progress,
        )
        self._commit(batch)
        return ids

    def _commit(self, batch: Prepared) -> None:
        """Send prepared documents to their shards, numbered in order, and wait."""
        pending = self._send(batch)
        if pending is not None:
            self._backend.wait(pending, write=True)

    def _send(self, batch: Prepared) -> Pending | None:
        """Send prepared documents to their shards, numbered in order, without waiting (each
        shard commits its batches in the order sent)."""
        if not len(batch):
            return None
        shards = self._route(batch.ids)
        seqs, bases = self._directory.append(shards, batch.counts)
        calls: dict[int, Call] = {}
        for s in np.unique(shards).tolist():
            idx = np.flatnonzero(shards == s)
            calls[s] = ("commit", (batch.take(idx), seqs[idx].tolist(), bases[idx].tolist()), {})
        self._changed(list(calls))
        return self._backend.submit(calls)

    def _changed(self, shards: Iterable[int]) -> None:
        self._version += 1
        for s in shards:
            self._clean.discard(s)
            self._backend.changed(s)

    def _load_kwargs(self, entry: dict[str, Any], verify: bool = True) -> dict[str, Any]:
        """What :meth:`Shard.load` takes to load a shard saved with manifest entry `entry`."""
        return {
            "expect": {k: v for k, v in entry.items() if k != "dir"},
            "tokenizer": self._shard_options.get("tokenizer", "cl100k_base"),
            "dense": self.embedder is not None,
            "embedder_name": self._embedder_name,
            "verify": verify,
        }

    def add_files(
        self,
        paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
        *,
        progress: bool = True,
        metadata: Mapping[str, Any] | None = None,
        skip_existing: bool = False,
        workers: int | None = None,
        checkpoint: str | os.PathLike[str] | None = None,
        checkpoint_every: int = 10_000,
    ) -> AddFilesResult:
        """Add text files, as :meth:`Index.add_files` (ids are paths; binary and unreadable
        files are skipped and reported in one :class:`SkippedFilesWarning`).

        With the Ray backend the files are read, chunked, counted and embedded by a Ray Data
        pipeline of `workers` workers (default: the cluster's CPUs), and committed to the
        shards in file order. `skip_existing` skips files already in the index instead of
        raising: with `checkpoint` (a folder, saved to after every `checkpoint_every` new
        documents, or more as the index grows, and at the end) an ingest that is killed can be
        re-run on the same files from its checkpoint (``ShardedIndex.load(folder)`` then
        ``add_files(..., skip_existing=True)``) and adds nothing twice. ``last_ingest`` then
        says where the time went (:class:`IngestReport`).
        """
        files = expand_paths(paths)
        taken = self._existing(files)
        if taken.any() and not skip_existing:
            dup = files[int(np.flatnonzero(taken)[0])]
            raise InvalidInputError(f"{dup!r} is already in the index; remove it first")
        files = [f for f, t in zip(files, taken.tolist(), strict=True) if not t]
        result, self.last_ingest = ingest_files(
            self,
            files,
            metadata,
            workers=workers,
            checkpoint=checkpoint,
            checkpoint_every=checkpoint_every,
            progress=progress,
        )
        warn_skipped(result.skipped)
        return result

    def _checkpoint(self, folder: str | os.PathLike[str]) -> None:
        """Save an ingest's progress (a complete, loadable snapshot, marked unfinished)."""
        persistence.save(self, folder, complete=False)

    def remove(self, doc_id: str) -> None:
        """Remove a document and its chunks; later searches never return them."""
        if not isinstance(doc_id, str):
            raise NotFoundError(f"no document {doc_id!r} in the index")
        shard = int(self._route([doc_id])[0])
        seq = self._backend.call(shard, "remove", doc_id)
        self._directory.removed(seq)
        self._changed([shard])

    # ---- reading ---------------------------------------------------------------------------

    def document(self, doc_id: str, start: int = 0, end: int | None = None) -> str:
        """A document's text, or ``text[start:end]``, as :meth:`Index.document`."""
        if not isinstance(doc_id, str):
            raise NotFoundError(f"no document {doc_id!r} in the index")
        return str(
            self._backend.call(int(self._route([doc_id])[0]), "document", doc_id, start, end)
        )

    def metadata(self, doc_id: str) -> Mapping[str, Any]:
        """A document's metadata."""
        if not isinstance(doc_id, str):
            raise NotFoundError(f"no document {doc_id!r} in the index")
        return self._backend.call(int(self._route([doc_id])[0]), "metadata", doc_id)  # type: ignore[no-any-return]

    def chunk(self, chunk_id: int) -> Chunk:
        """A chunk by id, as :meth:`Index.chunk`."""
        if isinstance(chunk_id, bool) or not isinstance(chunk_id, (int, np.integer)):
            raise NotFoundError(f"no chunk {chunk_id!r} in the index")
        return self.chunks([int(chunk_id)])[0]

    def chunks(self, chunk_ids: Iterable[int] | np.ndarray) -> list[Chunk]:
        """Many chunks by id, in the order given (repeats allowed), as :meth:`Index.chunks`:
        one call per shard that holds some."""
        ids = np.asarray(
            chunk_ids if isinstance(chunk_ids, np.ndarray) else list(chunk_ids)
        ).reshape(-1)
        if ids.size == 0:
            return []
        if ids.dtype.kind not in "iu":
            raise InvalidInputError(f"chunk ids must be integers, got {ids.dtype} values")
        return self._read(ids.astype(np.int64), None)

    def _read(self, ids: np.ndarray, scores: np.ndarray | None) -> list[Any]:
        """Chunks (or hits, with `scores`) by global id, from the shards holding them."""
        shards = self._directory.shards_of_chunks(ids)
        calls: dict[int, Call] = {}
        groups = {}
        for s in np.unique(shards).tolist():
            idx = np.flatnonzero(shards == s)
            groups[s] = idx
            calls[s] = ("chunks", (ids[idx], None if scores is None else scores[idx].tolist()), {})
        found, _ = self._backend.gather(calls, write=True)
        out: list[Any] = [None] * len(ids)
        for s, idx in groups.items():
            for j, c in zip(idx.tolist(), found[s], strict=True):
                out[j] = c
        return out

    def neighbors(self, chunk_id: int, *, before: int = 1, after: int = 1) -> list[int]:
        """Chunk ids of the same document around `chunk_id` (itself included), in order."""
        if before < 0 or after < 0:
            raise InvalidInputError("before and after must be >= 0")
        if isinstance(chunk_id, bool) or not isinstance(chunk_id, (int, np.integer)):
            raise NotFoundError(f"no chunk {chunk_id!r} in the index")
        return self._directory.neighbors(int(chunk_id), before, after)

    # ---- search ----------------------------------------------------------------------------

    def _embed_query(self, query: str) -> np.ndarray:
        emb: Embeddings = self._template._embeddings
        return emb.embed_batch([query])

    def search(
        self,
        query: str,
        k: int = 10,
        *,
        mode: Mode = "bm25",
        filter: Filter | None = None,
        fusion: Literal["weighted", "rrf"] = "weighted",
        weights: tuple[float, float] = (1.0, 1.0),
        mmr_lambda: float | None = None,
        candidates: int | None = None,
    ) -> Hits:
        """The `k` best chunks for `query`, best first: the hits :meth:`Index.search` gives for
        the same documents and options (see there). Each shard returns its top k (for hybrid
        search and MMR, its top `candidates` of each list); the lists are merged, fused and cut
        here, and the hits read from the shards that hold them."""
        k = check_search(
            query, k, mode, fusion, mmr_lambda, self.embedder is not None, "ShardedIndex"
        )
        lists = {"bm25": ("bm25",), "dense": ("dense",), "hybrid": ("bm25", "dense")}[mode]
        vector = self._embed_query(query) if "dense" in lists else None
        simple = mode != "hybrid" and mmr_lambda is None
        fetch = fetch_size(k, mode, mmr_lambda, candidates)
        stats = (
            self._stats.for_queries(self._backend, self._version, [query])
            if "bm25" in lists
            else None
        )
        found, missing = self._backend.broadcast(
            "search",
            query,
            fetch,
            lists=lists,
            vector=vector,
            filter=filter,
            hits=simple,
            stats=stats,
        )
        if simple:  # each shard sent its top k hits: merge them
            return Hits.of(merge_hits(list(found.values()), k), missing)
        merged = [merge_lists([found[s][name] for s in found], fetch) for name in lists]
        ids, scores = fuse(merged[0], merged[1], fusion, weights) if mode == "hybrid" else merged[0]
        if mmr_lambda is not None and len(ids):
            ids, scores = mmr(ids, scores, self._vectors(ids), k, lambda_=mmr_lambda)
        ids, scores = ids[:k], scores[:k]
        return Hits.of(self._read(ids, scores) if len(ids) else [], missing)

    def _vectors(self, ids: np.ndarray) -> np.ndarray:
        shards = self._directory.shards_of_chunks(ids)
        out = np.empty((len(ids), self._template._embeddings.dim or 0), dtype=np.float32)
        groups = {s: np.flatnonzero(shards == s) for s in np.unique(shards).tolist()}
        found, _ = self._backend.gather(
            {s: ("vectors", (ids[idx],), {}) for s, idx in groups.items()}, write=True
        )
        for s, idx in groups.items():
            if out.shape[1] != found[s].shape[1]:
                out = np.empty((len(ids), found[s].shape[1]), dtype=np.float32)
            out[idx] = found[s]
        return out

    def search_many(
        self,
        queries: Sequence[str],
        k: int = 10,
        *,
        mode: Mode = "bm25",
        filter: Filter | None = None,
        threads: int | None = None,
        **options: Any,
    ) -> list[Hits]:
        """:meth:`search` for many queries: BM25 queries go to each shard in one call and run
        there in parallel in C++ (`threads`); other modes run one by one."""
        queries = list(queries)
        for q in queries:
            if not isinstance(q, str) or not q.strip():
                raise InvalidInputError(f"every query must be a non-empty str, got {q!r}")
        k = check_k(k)
        if mode != "bm25" or options.get("mmr_lambda") is not None:
            return [self.search(q, k, mode=mode, filter=filter, **options) for q in queries]
        if options:
            raise InvalidInputError(f"unknown options for BM25 search: {sorted(options)}")
        stats = self._stats.for_queries(self._backend, self._version, queries)
        found, missing = self._backend.broadcast(
            "search_many", queries, k, filter, threads or 0, stats
        )
        return [
            Hits.of(merge_hits([found[s][i] for s in found], k), missing)
            for i in range(len(queries))
        ]

    # ---- persistence and life cycle --------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save to folder `path`: each shard in its own folder, then a manifest naming them
        (written last, atomically, so a crash mid-save leaves the previous save loadable).
        Shards unchanged since they were saved there are not written again. With the Ray
        backend each actor writes its own shard, so `path` must be reachable from every node
        (a shared file system)."""
        persistence.save(self, path, complete=True)

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        backend: Literal["local", "ray"] = "local",
        ray_address: str | None = None,
        tokenizer: Any = None,
        embedder: Embedder | str | None = None,
        verify: bool = True,
        partial: bool = False,
        gpu: bool | None = None,
    ) -> ShardedIndex:
        """Load an index saved with :meth:`save`, its shards on this process or on Ray actors
        (which load their shards in parallel). A missing shard raises ShardMissingError, a
        damaged one ShardDamagedError, each naming the shard; with ``partial=True`` the other
        shards are searched and the answers marked partial. Other options as
        :meth:`Index.load`."""
        return persistence.load(
            cls,
            path,
            backend=backend,
            ray_address=ray_address,
            tokenizer=tokenizer,
            embedder=embedder,
            verify=verify,
            partial=partial,
            gpu=gpu,
        )

    def close(self) -> None:
        """Stop the shards' actors (Ray; and the local cluster, if this index started it)."""
        self._backend.close()

    def __enter__(self) -> ShardedIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
