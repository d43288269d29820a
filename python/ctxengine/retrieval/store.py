"""The on-disk form of an index: a directory of versions and a pointer to the current one.

    INDEX_DIR/
      CURRENT            "<version dir name> <sha256 of its manifest.json>"
      v<time>-<rand>/    manifest.json (format, version, options, every file's size and sha256)
                         and the files: .npy arrays (memory-mapped on load) and raw blobs

A save writes a new version directory under a temporary name, fsyncs every file and the
directory, renames it into place, then replaces CURRENT atomically (write, fsync, rename) and
only then deletes older versions. A crash at any point leaves CURRENT naming a complete version,
so the old index stays loadable (as LevelDB's CURRENT file). Loading checks sizes always and
checksums by default, so a truncated, corrupt or tampered file is refused with FormatError.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import secrets
import shutil
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FormatError, InvalidInputError, NotFoundError

FORMAT = "ctxengine-index"
VERSION = 2  # 2: the chunk table is one (n, 6) array, chunks.npy (1: a file per column)

__all__ = ["FORMAT", "VERSION", "Opened", "open_index", "save_index"]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write(path: Path, chunks: list[Any]) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("wb") as f:
        for chunk in chunks:
            f.write(chunk)
            digest.update(chunk)
            size += len(chunk)
        f.flush()
        os.fsync(f.fileno())
    return size, digest.hexdigest()


def _npy_bytes(array: np.ndarray) -> list[Any]:
    header = io.BytesIO()
    array = np.ascontiguousarray(array)
    np.lib.format.write_array_header_1_0(header, np.lib.format.header_data_from_array_1_0(array))
    return [header.getvalue(), array.reshape(-1).view(np.uint8).data]


def save_index(
    path: str | os.PathLike[str], manifest: dict[str, Any], files: dict[str, Any]
) -> None:
    """Write `files` (name -> ndarray, bytes or list of bytes) and `manifest` as a new version."""
    root = Path(path)
    if root.exists():
        if not root.is_dir():
            raise InvalidInputError(f"{root} exists and is not a directory; choose another path")
        if not (root / "CURRENT").is_file() and any(root.iterdir()):
            raise InvalidInputError(
                f"{root} is a non-empty directory that is not a ctxengine index; "
                "choose another path or empty it"
            )
    root.mkdir(parents=True, exist_ok=True)
    name = f"v{time.time_ns()}-{secrets.token_hex(4)}"
    tmp = root / f"{name}.tmp"
    tmp.mkdir()
    entries = {}
    for fname, value in files.items():
        if isinstance(value, np.ndarray):
            chunks = _npy_bytes(value)
        elif isinstance(value, (bytes, bytearray, memoryview)):
            chunks = [bytes(value) if isinstance(value, bytearray) else value]
        else:
            chunks = list(value)
        size, sha = _write(tmp / fname, chunks)
        entries[fname] = {"bytes": size, "sha256": sha}
    manifest = {"format": FORMAT, "version": VERSION, **manifest, "files": entries}
    text = json.dumps(manifest, indent=1, sort_keys=True).encode()
    _, manifest_sha = _write(tmp / "manifest.json", [text])
    _fsync_dir(tmp)
    os.rename(tmp, root / name)
    _fsync_dir(root)
    _write(root / "CURRENT.tmp", [f"{name} {manifest_sha}\n".encode()])
    os.replace(root / "CURRENT.tmp", root / "CURRENT")
    _fsync_dir(root)
    for old in root.iterdir():
        if old.is_dir() and old.name != name and old.name.startswith("v"):
            shutil.rmtree(old, ignore_errors=True)


class Opened:
    """A loaded version: its manifest, and its files as memory-mapped arrays or paths."""

    def __init__(self, folder: Path, manifest: dict[str, Any]) -> None:
        self.folder = folder
        self.manifest = manifest

    def array(self, name: str) -> np.ndarray:
        try:
            # A damaged header can send NumPy down its Python 2 path (a warning, then a
            # tokenizer error) or anywhere else: every failure is the file's.
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                return np.load(self.folder / name, mmap_mode="r", allow_pickle=False)
        except Exception as exc:
            raise FormatError(f"{self.folder / name} is not a valid array file: {exc}") from exc

    def path(self, name: str) -> Path:
        return self.folder / name

    def has(self, name: str) -> bool:
        return name in self.manifest["files"]


def _valid_files(files: Any) -> bool:
    """The manifest's file table: plain file names (no path, no NUL) -> size and sha256."""
    return isinstance(files, dict) and all(
        isinstance(name, str)
        and re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", name) is not None
        and isinstance(entry, dict)
        and isinstance(entry.get("bytes"), int)
        and isinstance(entry.get("sha256"), str)
        for name, entry in files.items()
    )


def open_index(path: str | os.PathLike[str], *, verify: bool = True) -> Opened:
    root = Path(path)
    if not root.exists():
        raise NotFoundError(f"no index at {root}")
    current = root / "CURRENT"
    if not current.is_file():
        raise FormatError(f"{root} is not a ctxengine index (it has no CURRENT file)")
    parts = current.read_text(errors="replace").split()
    # The version folder as save_index names it, and a sha256: anything else (a NUL byte, a
    # path out of the index folder) is damage, refused before it reaches the file system.
    if (
        len(parts) != 2
        or not re.fullmatch(r"v[0-9]+-[0-9a-f]+", parts[0])
        or not re.fullmatch(r"[0-9a-f]{64}", parts[1])
    ):
        raise FormatError(f"{current} is corrupt; the index cannot be loaded")
    folder = root / parts[0]
    try:
        raw = (folder / "manifest.json").read_bytes()
    except OSError as exc:
        raise FormatError(f"the index at {root} is incomplete ({exc}); rebuild it") from exc
    if hashlib.sha256(raw).hexdigest() != parts[1]:
        raise FormatError(f"{folder / 'manifest.json'} fails its checksum; the index is corrupt")
    try:
        manifest = json.loads(raw)
    except ValueError as exc:
        raise FormatError(f"{folder / 'manifest.json'} is not valid JSON") from exc
    if not isinstance(manifest, dict) or not _valid_files(manifest.get("files")):
        raise FormatError(f"{folder / 'manifest.json'} is not an index manifest; rebuild the index")
    if manifest.get("format") != FORMAT:
        raise FormatError(f"{root} is not a ctxengine index (format {manifest.get('format')!r})")
    version = manifest.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise FormatError(
            f"{root} was written by a newer ctxengine (index format {version}; this version "
            f"reads formats 1 to {VERSION}): upgrade ctxengine to load it"
        )
    if version < 1:
        raise FormatError(f"{root} has an unknown index format {version}; rebuild it")
    for fname, entry in manifest["files"].items():
        file = folder / fname
        if not file.is_file():
            raise FormatError(f"the index at {root} is missing {fname}; rebuild it")
        size = file.stat().st_size
        if size != entry["bytes"]:
            raise FormatError(
                f"{file} has {size} bytes, {entry['bytes']} expected: the index is truncated "
                "or was modified; rebuild it"
            )
        if verify:
            digest = hashlib.sha256()
            with file.open("rb") as f:
                while block := f.read(1 << 22):
                    digest.update(block)
            if digest.hexdigest() != entry["sha256"]:
                raise FormatError(
                    f"{file} fails its checksum: the index is corrupt or was modified; rebuild it"
                )
    return Opened(folder, manifest)
