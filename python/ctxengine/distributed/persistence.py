"""A sharded index on disk: one folder per shard under one root, and a manifest naming them.

    ROOT/
      sharded.json          format, version, shard count, routing, the Index options, the
                            embedder, and per shard: its folder, documents, chunks and checksums
      shard-0000-<tag>/     index/ (an Index folder: retrieval/store.py) and order.npy (each
      shard-0001-<tag>/     document's global position and first chunk id)
      ...

A save writes each changed shard into a new folder (unchanged ones keep theirs; a save retried
after its actor was killed and restarted writes that folder again from scratch), fsyncs the
root, then replaces the manifest atomically (write, fsync, rename), and only then deletes the
folders it no longer names. A crash at any point leaves the previous manifest naming complete
shard folders, so the last save always loads as one consistent snapshot: this is what lets a
killed ingest resume.
Loading checks each shard against the manifest: a missing folder or a damaged file is an error
naming the shard, unless the caller opts into partial results.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

from .._native import core
from ..errors import FormatError, InvalidInputError, NotFoundError
from ..retrieval.store import _fsync_dir, _write  # the Index folder's durable writes
from .backend import Call
from .directory import Directory
from .routing import ROUTING

__all__ = [
    "FORMAT",
    "MANIFEST",
    "VERSION",
    "is_sharded",
    "load",
    "read_manifest",
    "save",
]

FORMAT = "ctxengine-sharded-index"
VERSION = 1
MANIFEST = "sharded.json"


def is_sharded(path: str | os.PathLike[str]) -> bool:
    """Whether `path` is a folder holding a saved sharded index."""
    return (Path(path) / MANIFEST).is_file()


def read_manifest(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of the sharded index at `path`, checked for format and version."""
    root = Path(path)
    if not root.exists():
        raise NotFoundError(f"no index at {root}")
    if not is_sharded(root):
        raise FormatError(f"{root} is not a sharded ctxengine index (it has no {MANIFEST})")
    try:
        manifest = json.loads((root / MANIFEST).read_bytes())
    except ValueError as exc:
        raise FormatError(f"{root / MANIFEST} is not valid JSON; the index is damaged") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise FormatError(f"{root} is not a sharded ctxengine index")
    version = manifest.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise FormatError(
            f"{root} was written by a newer ctxengine (sharded format {version}; this version "
            f"reads format {VERSION}): upgrade ctxengine to load it"
        )
    if manifest.get("routing") != ROUTING:
        raise FormatError(f"{root} routes documents by {manifest.get('routing')!r}, not {ROUTING}")
    return manifest


def save(index: Any, path: str | os.PathLike[str], *, complete: bool) -> None:
    """Write `index` (a ShardedIndex) to folder `path` (see the module's docstring);
    `complete` is False for an ingest's checkpoints."""
    root = Path(path)
    if root.exists():
        if not root.is_dir():
            raise InvalidInputError(f"{root} exists and is not a directory; choose another path")
        if not is_sharded(root) and any(root.iterdir()):
            raise InvalidInputError(
                f"{root} is a non-empty directory that is not a sharded ctxengine index; "
                "choose another path or empty it"
            )
    root.mkdir(parents=True, exist_ok=True)
    root = root.resolve()
    if index._backend.down:  # only an index opened with partial=True gets here
        raise InvalidInputError(
            f"shards {list(index.missing_shards)} are down: an index missing shards cannot be saved"
        )
    saved = index._saved
    calls: dict[int, Call] = {}
    folders: dict[int, str] = {}
    for i in range(index.n_shards):
        if i in index._clean and i in saved and Path(saved[i][0]).parent == root:
            continue  # unchanged since it was saved here
        folders[i] = str(_new_folder(root, i))
        calls[i] = ("save", (folders[i],), {})
    entries, _ = index._backend.gather(calls, write=True)
    for i, entry in entries.items():
        saved[i] = (folders[i], entry)
    _fsync_dir(root)  # the new shard folders' entries, before a manifest names them
    template = index._template
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "ctxengine": core.__version__,
        "routing": ROUTING,
        "shards": index.n_shards,
        "options": template._options,
        "embedder": template._embeddings.name,
        "dense": template.embedder is not None,
        "dim": template._embeddings.dim,
        "next_auto": index._directory.next_auto,
        "counts": {"documents": len(index), "chunks": index.n_chunks},
        "complete": complete,
        "shard_dirs": [
            {"dir": Path(saved[i][0]).name, **saved[i][1]} for i in range(index.n_shards)
        ],
    }
    tmp = root / f"{MANIFEST}.tmp"
    _write(tmp, [json.dumps(manifest, indent=1, sort_keys=True).encode()])
    os.replace(tmp, root / MANIFEST)
    _fsync_dir(root)
    names = {e["dir"] for e in manifest["shard_dirs"]}  # type: ignore[union-attr]
    for old in root.iterdir():
        if old.is_dir() and old.name.startswith("shard-") and old.name not in names:
            shutil.rmtree(old, ignore_errors=True)
    for i in range(index.n_shards):
        index._clean.add(i)
        index._backend.saved(i, saved[i][0], index._load_kwargs(saved[i][1]))


def _new_folder(root: Path, shard: int) -> Path:
    """A folder name for a save of `shard` under `root` that nothing uses (a shard writes
    into it from scratch, so it must never be one a manifest names)."""
    while True:
        folder = root / f"shard-{shard:04d}-{secrets.token_hex(4)}"
        if not folder.exists():
            return folder


def load(
    cls: Any,  # ShardedIndex
    path: str | os.PathLike[str],
    *,
    backend: str,
    ray_address: str | None,
    tokenizer: Any,
    embedder: Any,
    verify: bool,
    partial: bool,
    gpu: bool | None,
) -> Any:
    """A :class:`ShardedIndex` from folder `path` (see :meth:`ShardedIndex.load`)."""
    root = Path(path).resolve()
    m = read_manifest(root)
    try:
        o = m["options"]
        n = int(m["shards"])
        dirs = list(m["shard_dirs"])
        if len(dirs) != n:
            raise FormatError(f"{root / MANIFEST} names {len(dirs)} shards for {n}")
        if tokenizer is None:
            if not isinstance(o["tokenizer"], str):
                raise InvalidInputError(
                    "this index was built with an unnamed tokenizer: pass tokenizer= to load it"
                )
            tokenizer = o["tokenizer"]
        if embedder is None and m["dense"]:
            if m["embedder"] is None:
                raise InvalidInputError(
                    "this index was built with an unnamed embedder: pass embedder= to load it"
                )
            embedder = m["embedder"]
        if embedder is not None and not m["dense"]:
            raise InvalidInputError(
                f"the index at {root} was built without an embedder, so it has no vectors: "
                "rebuild it with one to search it densely"
            )
        options = {
            "tokenizer": tokenizer,
            "max_tokens": o["max_tokens"],
            "overlap": o["overlap"],
            "by": o["by"],
            "dense_index": o["dense_index"],
            "gpu": gpu,
            **o["analyzer"],
            **o["bm25"],
        }
        if embedder is not None:
            options["embedder"] = embedder
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, (FormatError, InvalidInputError)):
            raise
        raise FormatError(
            f"{root / MANIFEST} is malformed ({exc!r}); the index is damaged"
        ) from exc
    index = cls.__new__(cls)
    index._setup(n, backend, ray_address, partial, options)
    index._template._embeddings.dim = m.get("dim")
    makes = {
        i: {"load": (str(root / str(e["dir"])), index._load_kwargs(e, verify))}
        for i, e in enumerate(dirs)
    }
    index._start(makes)
    for i, e in enumerate(dirs):
        if i not in index._backend.down:
            index._saved[i] = (
                str(root / str(e["dir"])),
                {k: v for k, v in e.items() if k != "dir"},
            )
            index._clean.add(i)
            index._backend.saved(i, *makes[i]["load"])
    orders, _ = index._backend.broadcast("order")
    try:
        index._directory = Directory.rebuild(
            orders,
            positions=sum(int(e["positions"]) for e in dirs),
            chunks=sum(int(e["chunks"]) for e in dirs),
            next_auto=int(m["next_auto"]),
            strict=not index._backend.down,
        )
    except InvalidInputError as exc:
        index.close()
        raise FormatError(f"the shards at {root} do not fit together ({exc}); rebuild it") from exc
    return index
