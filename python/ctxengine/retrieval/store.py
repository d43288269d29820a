"""The on-disk form of an index: a directory of versions and a pointer to the current one.

    INDEX_DIR/
      CURRENT            "<version dir name> <sha256 of its manifest.json>"
      LOCK               an empty file: writers hold it exclusively while they commit, readers
                         shared while they open a version
      v<time>-<rand>/    manifest.json (format, version, options, every file's size and sha256)
                         and the files: .npy arrays (memory-mapped on load) and raw blobs

A save writes a new version directory under a temporary name unique to it (its process id and
a random part), fsyncs every file and the directory, then, holding LOCK, renames it into place,
replaces CURRENT atomically (a uniquely named temporary file, fsync, rename) and deletes the
versions CURRENT no longer names, and temporary directories of writers that are no longer
running. A crash at any point leaves CURRENT naming a complete version (as LevelDB's CURRENT
file); two processes saving to one path at once each commit whole versions, one after the other,
and a reader never sees a version being deleted under it. Loading checks the manifest's shape,
every file's name and size always and checksums by default, so a truncated, corrupt or tampered
file is refused with FormatError; the file contents are checked by their readers
(persistence.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FormatError, InvalidInputError, NotFoundError, StorageError

FORMAT = "ctxengine-index"
# 3: BM25 in segments (bm25_<segment>_<array>.npy with their deletions); 2: the chunk table is
# one (n, 6) array, chunks.npy; 1: a file per chunk column.
VERSION = 3

__all__ = ["FORMAT", "VERSION", "Opened", "open_index", "save_index"]

_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_VERSION_DIR = re.compile(r"^v\d+-[0-9a-f]{8}$")
_TEMP_DIR = re.compile(r"^v\d+-[0-9a-f]{8}\.p(\d+)\.tmp$")
_POINTER_TMP = re.compile(r"^CURRENT\.[0-9a-f]{16}\.tmp$")


def _check_target(root: Path) -> None:
    """Refuses a directory that is not an index: one without CURRENT that holds anything a save
    does not write (a first save under way in another process has written only such names)."""
    if not root.is_dir():
        raise InvalidInputError(f"{root} exists and is not a directory; choose another path")
    if (root / "CURRENT").is_file():
        return
    for p in root.iterdir():
        own = p.name == "LOCK" or any(
            r.match(p.name) for r in (_VERSION_DIR, _TEMP_DIR, _POINTER_TMP)
        )
        if not own:
            raise InvalidInputError(
                f"{root} is a non-empty directory that is not a ctxengine index; "
                "choose another path or empty it"
            )


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _locked(root: Path, *, exclusive: bool) -> Iterator[None]:
    """Holds root/LOCK (flock: released by the OS if the process dies)."""
    import fcntl

    fd = os.open(root / "LOCK", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # closing releases the lock


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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def save_index(
    path: str | os.PathLike[str], manifest: dict[str, Any], files: dict[str, Any]
) -> None:
    """Write `files` (name -> ndarray, bytes or list of bytes) and `manifest` as a new version."""
    root = Path(path)
    if root.exists():
        _check_target(root)  # fails fast, before anything is written; checked again when locked
    for fname in files:
        if not _FILE_NAME.match(fname) or fname == "manifest.json":
            raise InvalidInputError(f"bad index file name {fname!r}")  # a bug, not user input
    root.mkdir(parents=True, exist_ok=True)
    name = f"v{time.time_ns()}-{secrets.token_hex(4)}"
    tmp = root / f"{name}.p{os.getpid()}.tmp"
    tmp.mkdir()
    try:
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
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    with _locked(root, exclusive=True):
        try:
            _check_target(root)  # a user's files put there since the check above
            os.rename(tmp, root / name)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _fsync_dir(root)
        pointer = root / f"CURRENT.{secrets.token_hex(8)}.tmp"
        _write(pointer, [f"{name} {manifest_sha}\n".encode()])
        os.replace(pointer, root / "CURRENT")
        _fsync_dir(root)
        for old in root.iterdir():
            stale = _TEMP_DIR.match(old.name)
            if (_VERSION_DIR.match(old.name) and old.name != name) or (
                stale and not _alive(int(stale.group(1)))
            ):
                shutil.rmtree(old, ignore_errors=True)
            elif _POINTER_TMP.match(old.name):
                with contextlib.suppress(OSError):
                    old.unlink()  # a pointer left by a writer that died before renaming it


class Opened:
    """A loaded version: its manifest, and its files as memory-mapped arrays or paths. Holds
    the index's lock shared until :meth:`close`, so no writer deletes the version meanwhile
    (memory maps made before then stay valid after)."""

    def __init__(self, folder: Path, manifest: dict[str, Any], lock: Any) -> None:
        self.folder = folder
        self.manifest = manifest
        self._lock = lock

    def array(self, name: str, dtype: Any = None, ndim: int | None = None) -> np.ndarray:
        """A .npy file, memory-mapped (never unpickled); `dtype` and `ndim` are checked."""
        if not self.has(name):
            raise FormatError(f"the index at {self.folder.parent} has no {name}; rebuild it")
        try:
            # A damaged header can send NumPy down its Python 2 path (a warning, then a
            # tokenizer error) or anywhere else: every failure is the file's.
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                array = np.load(self.folder / name, mmap_mode="r", allow_pickle=False)
        except Exception as exc:
            raise FormatError(f"{self.folder / name} is not a valid array file: {exc}") from exc
        if dtype is not None and array.dtype != np.dtype(dtype):
            raise FormatError(f"{self.folder / name} holds {array.dtype}, not {np.dtype(dtype)}")
        if ndim is not None and array.ndim != ndim:
            raise FormatError(f"{self.folder / name} has {array.ndim} dimensions, not {ndim}")
        if not array.flags.aligned:
            # A .npy header's length keeps the data 64-byte aligned; a file whose data is not
            # even aligned to its items was damaged or crafted, and the C++ tables that read it
            # assume aligned items.
            raise FormatError(f"{self.folder / name}: its data is not aligned; rebuild the index")
        return array

    def path(self, name: str) -> Path:
        if not self.has(name):
            raise FormatError(f"the index at {self.folder.parent} has no {name}; rebuild it")
        return self.folder / name

    def has(self, name: str) -> bool:
        return name in self.manifest["files"]

    def sha256_ok(self, name: str) -> bool:
        digest = hashlib.sha256()
        with (self.folder / name).open("rb") as f:
            while block := f.read(1 << 22):
                digest.update(block)
        return bool(digest.hexdigest() == self.manifest["files"][name]["sha256"])

    def close(self) -> None:
        if self._lock is not None:
            self._lock.__exit__(None, None, None)
            self._lock = None


def open_index(path: str | os.PathLike[str], *, verify: bool = True) -> Opened:
    root = Path(path)
    if not root.exists():
        raise NotFoundError(f"no index at {root}")
    if not root.is_dir():
        raise FormatError(f"{root} is not a ctxengine index (not a directory)")
    lock = None
    if (root / "LOCK").exists() or os.access(root, os.W_OK):
        lock = _locked(root, exclusive=False)
        try:
            lock.__enter__()
        except OSError as exc:
            raise StorageError(f"cannot lock {root / 'LOCK'}: {exc}") from exc
    try:
        return _open(root, verify, lock)
    except BaseException:
        if lock is not None:
            lock.__exit__(None, None, None)
        raise


def _open(root: Path, verify: bool, lock: Any) -> Opened:
    current = root / "CURRENT"
    if not current.is_file():
        raise FormatError(f"{root} is not a ctxengine index (it has no CURRENT file)")
    if current.stat().st_size > 4096:
        raise FormatError(f"{current} is corrupt; the index cannot be loaded")
    parts = current.read_text(errors="replace").split()
    if len(parts) != 2 or not _VERSION_DIR.match(parts[0]) or not _SHA256.match(parts[1]):
        raise FormatError(f"{current} is corrupt; the index cannot be loaded")
    folder = root / parts[0]
    try:
        if (folder / "manifest.json").stat().st_size > (64 << 20):
            raise FormatError(f"{folder / 'manifest.json'} is too large to be a manifest")
        raw = (folder / "manifest.json").read_bytes()
    except OSError as exc:
        raise FormatError(f"the index at {root} is incomplete ({exc}); rebuild it") from exc
    if hashlib.sha256(raw).hexdigest() != parts[1]:
        raise FormatError(f"{folder / 'manifest.json'} fails its checksum; the index is corrupt")
    try:
        manifest = json.loads(raw)
    except ValueError as exc:
        raise FormatError(f"{folder / 'manifest.json'} is not valid JSON") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        format_ = manifest.get("format") if isinstance(manifest, dict) else None
        raise FormatError(f"{root} is not a ctxengine index (format {format_!r})")
    version = manifest.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version > VERSION:
        raise FormatError(
            f"{root} was written by a newer ctxengine (index format {version}; this version "
            f"reads formats 1 to {VERSION}): upgrade ctxengine to load it"
        )
    if version < 1:
        raise FormatError(f"{root} has an unknown index format {version}; rebuild it")
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise FormatError(f"{folder / 'manifest.json'} lists no files; the index is corrupt")
    for fname, entry in files.items():
        if (
            not isinstance(fname, str)
            or not _FILE_NAME.match(fname)
            or fname == "manifest.json"
            or not isinstance(entry, dict)
            or not isinstance(entry.get("bytes"), int)
            or isinstance(entry.get("bytes"), bool)
            or entry["bytes"] < 0
            or not isinstance(entry.get("sha256"), str)
            or not _SHA256.match(entry["sha256"])
        ):
            raise FormatError(f"{folder / 'manifest.json'} has a bad file entry {fname!r}")
        file = folder / fname
        if file.is_symlink() or not file.is_file():
            raise FormatError(f"the index at {root} is missing {fname}; rebuild it")
        size = file.stat().st_size
        if size != entry["bytes"]:
            raise FormatError(
                f"{file} has {size} bytes, {entry['bytes']} expected: the index is truncated "
                "or was modified; rebuild it"
            )
    opened = Opened(folder, manifest, lock)
    for fname in files:
        if verify and not opened.sha256_ok(fname):
            raise FormatError(
                f"{folder / fname} fails its checksum: the index is corrupt or was modified; "
                "rebuild it"
            )
    return opened
