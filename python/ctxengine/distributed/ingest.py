"""The ingest loop of a sharded index: prepared batches in file order -> numbered, routed and
sent to the shards, with checkpoints.

Batches come from this process (prepared here, a stretch of files at a time, on all cores) or
from the Ray Data pipeline (ray_ingest.py). Commits are pipelined: a few batches are on their way
to the shards while the next ones are prepared; all of them are in before a checkpoint and at
the end. A checkpoint is a complete snapshot (persistence.py) holding a prefix of the files in
order, which is what lets a killed ingest re-run skip exactly what is already in.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..retrieval import AddFilesResult
from ..retrieval.ingest import read_files
from . import persistence
from .backend import Pending
from .prepare import Prepared, prepare

__all__ = ["IngestReport", "ingest_files"]

Batches = Iterator[tuple[Prepared, list[tuple[str, str]]]]  # (prepared, skipped files)

_IN_FLIGHT = 4  # batches sent to the shards and not yet confirmed


@dataclass
class IngestReport:
    """Where the time of the last :meth:`ShardedIndex.add_files` went (``index.last_ingest``):
    wall seconds, CPU seconds spent preparing (reading, chunking, counting, embedding; summed
    over the Ray workers), the coordinator's seconds committing to the shards and saving
    checkpoints, and the coordinator process's CPU seconds (its serial share of the work)."""

    backend: str
    workers: int | None  # Ray Data workers (None: prepared in-process, on all cores)
    documents: int = 0
    chunks: int = 0
    seconds: float = 0.0
    prepare_cpu_s: float = 0.0
    commit_s: float = 0.0
    checkpoint_s: float = 0.0
    coordinator_cpu_s: float = 0.0  # this process's CPU seconds (all of it, in-process)


def ingest_files(
    index: Any,  # a ShardedIndex
    files: list[str],
    metadata: Mapping[str, Any] | None,
    *,
    workers: int | None,
    checkpoint: str | os.PathLike[str] | None,
    checkpoint_every: int,
    progress: bool,
) -> tuple[AddFilesResult, IngestReport]:
    """Add `files` (new ones, in order) to `index`; see :meth:`ShardedIndex.add_files`."""
    start, cpu = time.perf_counter(), time.process_time()
    batches: Batches
    if index.backend == "ray":
        from .ray_ingest import prepared_files, workers_of

        workers = workers_of(workers)
        batches = prepared_files(index, files, metadata, workers=workers, progress=progress)
    else:
        workers = None
        step = 256 if checkpoint is None else max(1, min(256, checkpoint_every))
        batches = _prepared_here(index, files, metadata, step=step, progress=progress)
    result = AddFilesResult()
    report = IngestReport(index.backend, workers)
    window: deque[Pending] = deque()

    def drain(keep: int) -> None:
        t = time.perf_counter()
        while len(window) > keep:
            index._backend.wait(window.popleft(), write=True)
        report.commit_s += time.perf_counter() - t

    saved, since = len(index), 0
    for batch, skipped in batches:
        result.skipped += skipped
        report.prepare_cpu_s += batch.cpu_s
        report.chunks += batch.n_chunks
        t = time.perf_counter()
        pending = index._send(batch)
        report.commit_s += time.perf_counter() - t
        if pending is not None:
            window.append(pending)
        drain(keep=_IN_FLIGHT)
        result.added += batch.ids
        since += len(batch)
        # Checkpoints grow with the index (at least half its size apart), so that together
        # they write at most about three times the final index.
        if checkpoint is not None and since >= max(checkpoint_every, saved // 2):
            drain(keep=0)
            t = time.perf_counter()
            index._checkpoint(checkpoint)
            report.checkpoint_s += time.perf_counter() - t
            saved, since = len(index), 0
    drain(keep=0)
    if checkpoint is not None:
        t = time.perf_counter()
        persistence.save(index, checkpoint, complete=True)
        report.checkpoint_s += time.perf_counter() - t
    report.documents = len(result.added)
    report.seconds = time.perf_counter() - start
    report.coordinator_cpu_s = time.process_time() - cpu
    return result, report


def _prepared_here(
    index: Any, files: list[str], metadata: Mapping[str, Any] | None, *, step: int, progress: bool
) -> Batches:
    """Files read and prepared in this process, `step` at a time, in order."""
    for i in range(0, len(files), step):
        read = read_files(files[i : i + step], metadata, progress=False)
        batch = prepare(
            read.texts,
            read.ids,
            read.metas,
            options=index._template._options,
            tokenizer=index.tokenizer,
            embedder=index.embedder,
            progress=progress and len(files) > step,
        )
        yield batch, read.skipped
