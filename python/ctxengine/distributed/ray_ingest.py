"""Ingest on Ray: a Ray Data pipeline reads, chunks, counts and embeds files on a pool of
workers; the coordinator commits the results to the shard actors in file order.

    files -> from_items -> map_batches(_PrepareFiles, ActorPoolStrategy(size=workers))
          -> stream of prepared batches -> reordered by file position -> ShardedIndex._commit

Each worker is a Ray Data actor that resolves the tokenizer and embedder once and runs
``prepare`` (prepare.py) on a batch of files with one core (``CTXENGINE_NUM_THREADS``), so the
pipeline scales by workers, not by threads inside one. Results arrive in whatever order the
workers finish; committing them in file order numbers documents and chunks exactly as one Index
adding the same files would, and makes a checkpointed ingest a prefix of the files, which is
what lets a re-run skip exactly what is already in.
"""

from __future__ import annotations

import logging
import math
import os
import pickle
import time
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..retrieval.embed import get_embedder
from ..retrieval.ingest import read_files
from ..tokenizers import resolve_tokenizer
from .prepare import Prepared, prepare
from .ray_backend import import_ray

__all__ = ["prepared_files"]

Outcome = tuple[Prepared, list[tuple[str, str]]]


class _PrepareFiles:
    """A Ray Data worker: files in, one pickled (positions, prepared batch, skipped) out."""

    def __init__(
        self,
        options: dict[str, Any],
        tokenizer: Any,
        embedder: Any,
        metadata: dict[str, Any] | None,
        threads: int,
    ) -> None:
        os.environ["CTXENGINE_NUM_THREADS"] = str(threads)
        self.options = options
        self.tokenizer = resolve_tokenizer(tokenizer)
        self.embedder = get_embedder(embedder) if isinstance(embedder, str) else embedder
        self.metadata = metadata

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        start = time.process_time()
        positions = [int(i) for i in batch["i"]]
        paths = [str(p) for p in batch["path"]]
        read = read_files(paths, self.metadata, progress=False)
        prepared = prepare(
            read.texts,
            read.ids,
            read.metas,
            options=self.options,
            tokenizer=self.tokenizer,
            embedder=self.embedder,
        )
        prepared.cpu_s = time.process_time() - start  # reading included
        payload = pickle.dumps((positions, paths, prepared, read.skipped), protocol=5)
        return {"payload": np.array([payload], dtype=object)}


def workers_of(workers: int | None) -> int:
    """The number of ingest workers: `workers`, or by default the cluster's CPUs."""
    if workers is None:
        return max(1, int(import_ray().cluster_resources().get("CPU", 1)))
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidInputError(f"workers must be a positive integer, got {workers!r}")
    return workers


def prepared_files(
    index: Any,  # a ShardedIndex
    files: list[str],
    metadata: Mapping[str, Any] | None,
    *,
    workers: int,
    progress: bool,
) -> Iterator[Outcome]:
    """Prepared batches of `files`, in file order, made by a Ray Data pipeline of `workers`
    workers."""
    if not files:
        return
    import_ray()
    from ray import data

    with warnings.catch_warnings():
        # Ray Data's DataContext sets its deprecated fields in its own constructor and so trips
        # its own deprecation warnings (use_push_based_shuffle, ...): none a caller can act on.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ray\.")
        context = data.DataContext.get_current()
        context.enable_progress_bars = progress
        logging.getLogger("ray.data").setLevel(logging.INFO if progress else logging.WARNING)
        yield from _run(data, index, files, metadata, workers)


def _run(data: Any, index: Any, files: list[str], metadata: Any, workers: int) -> Iterator[Outcome]:
    # Enough batches to keep every worker busy and the reorder buffer short.
    size = max(1, min(64, math.ceil(len(files) / (4 * workers))))
    dataset = data.from_items(
        [{"i": i, "path": f} for i, f in enumerate(files)],
        override_num_blocks=max(1, math.ceil(len(files) / size)),
    ).map_batches(
        _PrepareFiles,
        fn_constructor_kwargs={
            "options": dict(index._template._options),
            "tokenizer": index._shard_options.get("tokenizer", "cl100k_base"),
            "embedder": index._embedder_spec,
            "metadata": None if metadata is None else dict(metadata),
            "threads": 1,
        },
        batch_size=size,
        batch_format="numpy",
        compute=data.ActorPoolStrategy(size=workers),
        num_cpus=1,
    )
    yield from _in_order(pickle.loads(row["payload"]) for row in dataset.iter_rows())


def _in_order(
    results: Iterator[tuple[list[int], list[str], Prepared, list[tuple[str, str]]]],
) -> Iterator[Outcome]:
    """Batches covering any positions, in any order -> batches in position order, each as soon
    as every position before it has arrived."""
    # position -> (its batch, its document there or -1, (path, why) when skipped)
    waiting: dict[int, tuple[Prepared, int, tuple[str, str] | None]] = {}
    done = 0
    for positions, paths, prepared, skipped in results:
        why = dict(skipped)
        doc = 0
        for pos, path in zip(positions, paths, strict=True):
            if path in why:
                waiting[pos] = (prepared, -1, (path, why[path]))
            else:
                waiting[pos] = (prepared, doc, None)
                doc += 1
        start = done
        while done in waiting:
            done += 1
        if done > start:
            yield _join([waiting.pop(p) for p in range(start, done)])


def _join(run: list[tuple[Prepared, int, tuple[str, str] | None]]) -> Outcome:
    """One batch of consecutive positions (documents of several worker batches, in order)."""
    parts: list[Prepared] = []
    skips = [skip for _, _, skip in run if skip is not None]
    i = 0
    while i < len(run):
        batch, docs = run[i][0], []
        while i < len(run) and run[i][0] is batch:
            if run[i][1] >= 0:
                docs.append(run[i][1])
            i += 1
        if docs:
            parts.append(batch if docs == list(range(len(batch))) else batch.take(docs))
    return (parts[0] if len(parts) == 1 else Prepared.concat(parts)), skips
