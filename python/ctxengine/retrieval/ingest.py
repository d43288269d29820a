"""Documents into chunk rows: read files, chunk texts on all cores, compute byte offsets.

Everything here is computed before anything is committed to an index, so an add that fails
(a bad argument, an embedder error) leaves the index as it was.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._native import core
from .._progress import progress_bar
from ..chunking import chunk_many
from .records import ChunkTable

__all__ = ["Batch", "ReadFiles", "chunk_documents", "expand_paths", "read_files"]

_STEP = 1024  # documents per chunk_many call (one progress-bar step)


@dataclass
class Batch:
    """New documents, chunked: their UTF-8 bytes, chunk ranges, chunk rows and chunk texts."""

    data: list[bytes]
    ranges: list[tuple[int, int]]
    rows: np.ndarray  # int64 [n_chunks, len(ChunkTable.names)]
    texts: list[str]  # chunk texts (only when wanted, for embedding)


def chunk_documents(
    texts: list[str],
    *,
    first_doc: int,
    first_chunk: int,
    tokenizer: Any,
    max_tokens: int,
    overlap: int,
    by: str,
    want_texts: bool,
    progress: bool,
) -> Batch:
    """Chunk `texts` (documents `first_doc`, ...) into rows whose chunk ids start at
    `first_chunk`. Whitespace-only chunks are dropped."""
    # Per-chunk columns as Python lists, converted once (per-document NumPy arrays cost more
    # than the work for the many small documents of a large corpus).
    cols: dict[str, list[int]] = {n: [] for n in ChunkTable.names}
    ranges: list[tuple[int, int]] = []
    encoded: list[bytes] = []
    chunk_texts: list[str] = []
    spans: list[Any] = []
    with progress_bar(total=len(texts), desc="chunking", unit="doc", wanted=progress) as bar:
        for b in range(0, len(texts), _STEP):
            part = texts[b : b + _STEP]
            spans += chunk_many(part, max_tokens, tokenizer=tokenizer, overlap=overlap, by=by)
            bar.update(len(part))
    first = first_chunk
    for i, text in enumerate(texts):
        data = text.encode("utf-8", "surrogatepass")
        c = spans[i]
        starts, ends, tokens = c.starts.tolist(), c.ends.tolist(), c.tokens.tolist()
        keep = [
            j
            for j, (s, e) in enumerate(zip(starts, ends, strict=True))
            if s < e and not text[s:e].isspace()
        ]
        if len(keep) != len(starts):
            starts = [starts[j] for j in keep]
            ends = [ends[j] for j in keep]
            tokens = [tokens[j] for j in keep]
        if len(data) == len(text):  # ASCII: byte and str offsets agree
            bstarts, bends = starts, ends
        else:
            both = np.array(starts + ends, dtype=np.int64)
            offsets = core.text.byte_offsets(data, both).tolist()
            bstarts, bends = offsets[: len(starts)], offsets[len(starts) :]
        cols["doc"].extend([first_doc + i] * len(starts))
        cols["start"].extend(starts)
        cols["end"].extend(ends)
        cols["bstart"].extend(bstarts)
        cols["bend"].extend(bends)
        cols["tokens"].extend(tokens)
        ranges.append((first, first + len(starts)))
        first += len(starts)
        encoded.append(data)
        if want_texts:
            chunk_texts.extend(text[s:e] for s, e in zip(starts, ends, strict=True))
    rows = np.array([cols[n] for n in ChunkTable.names], dtype=np.int64).T.copy()
    return Batch(encoded, ranges, rows.reshape(-1, len(ChunkTable.names)), chunk_texts)


@dataclass
class ReadFiles:
    """Text files read for an index: texts, ids (paths), metadata, and what was skipped."""

    texts: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    metas: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


def read_files(
    files: list[str], metadata: Mapping[str, Any] | None, *, progress: bool
) -> ReadFiles:
    """Read UTF-8 text files; binary (a NUL byte or not UTF-8) and unreadable ones are
    skipped with the reason."""
    out = ReadFiles()
    for f in progress_bar(files, desc="reading", unit="file", wanted=progress):
        try:
            raw = Path(f).read_bytes()
        except OSError as exc:
            out.skipped.append((f, f"unreadable: {exc.strerror or exc}"))
            continue
        if b"\x00" in raw[:65536]:
            out.skipped.append((f, "binary"))
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            out.skipped.append((f, "binary (not UTF-8)"))
            continue
        out.texts.append(text)
        out.ids.append(f)
        out.metas.append({**(metadata or {}), "path": f})
    return out


def expand_paths(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[str]:
    """Files named by `paths`: files, directories (walked recursively, hidden entries skipped)
    and globs, in order, without repeats. A path that does not exist raises NotFoundError."""
    from ..errors import NotFoundError

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out: list[str] = []
    for p in paths:
        s = os.fspath(p)
        if os.path.isdir(s):
            for dirpath, dirnames, filenames in os.walk(s):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                out.extend(
                    os.path.join(dirpath, f) for f in sorted(filenames) if not f.startswith(".")
                )
        elif os.path.exists(s):
            out.append(s)
        elif glob.has_magic(s):
            matches = sorted(m for m in glob.glob(s, recursive=True) if os.path.isfile(m))
            if not matches:
                raise NotFoundError(f"no files match {s!r}")
            out.extend(matches)
        else:
            raise NotFoundError(f"no such file or directory: {s!r}")
    return list(dict.fromkeys(Path(f).as_posix() for f in out))
