"""The SQLite file behind :class:`ctxengine.memory.Memory`: its schema, how it is opened, and
the cursors other connections use to see what changed.

One file, in WAL mode: one writer and any number of readers, in this process or others; a
reader sees every committed write and never blocks the writer. ``synchronous=NORMAL`` keeps
every committed transaction through a crash or kill of the writing process (a power loss may
roll back the last ones; ``durable=True`` makes it ``FULL``). The search structures are not
stored: they are derived from the rows and rebuilt when a file is opened.

Tables: ``episodes`` (the raw record, in insertion order ``seq``, never reused), ``facts``
(the temporal layer), ``vectors`` (embeddings by text hash and model, so reopening does not
embed again), ``changes`` (updates and deletes, for other connections to replay; adds need no
log: their ``seq`` is new) and ``meta`` (the schema version and the store's options).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import FormatError, InvalidInputError, StorageError

__all__ = ["SCHEMA_VERSION", "Store"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS episodes(
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    text TEXT NOT NULL,
    speaker TEXT,
    speaker_key TEXT,
    time REAL,
    session TEXT,
    metadata TEXT NOT NULL,
    hash TEXT NOT NULL,
    created_at REAL NOT NULL,
    extracted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS episodes_session ON episodes(session, time, seq);
CREATE INDEX IF NOT EXISTS episodes_hash ON episodes(hash);
CREATE INDEX IF NOT EXISTS episodes_speaker ON episodes(speaker_key, time);
CREATE TABLE IF NOT EXISTS facts(
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    subject TEXT NOT NULL,
    subject_key TEXT NOT NULL,
    predicate TEXT NOT NULL,
    predicate_key TEXT NOT NULL,
    object TEXT NOT NULL,
    object_key TEXT NOT NULL,
    valid_at REAL NOT NULL,
    invalid_at REAL,
    asserted_invalid_at REAL,
    created_at REAL NOT NULL,
    expired_at REAL,
    episodes TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS facts_sp ON facts(subject_key, predicate_key, valid_at, seq);
CREATE INDEX IF NOT EXISTS facts_p ON facts(predicate_key, valid_at);
CREATE TABLE IF NOT EXISTS vectors(
    hash TEXT NOT NULL, model TEXT NOT NULL, vector BLOB NOT NULL, PRIMARY KEY(hash, model)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS changes(
    seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, id TEXT NOT NULL
);
"""

EPISODE_COLUMNS = "seq, id, text, speaker, time, session, metadata, hash, created_at, speaker_key"
FACT_COLUMNS = (
    "seq, id, subject, subject_key, predicate, predicate_key, object, object_key, valid_at, "
    "invalid_at, asserted_invalid_at, created_at, expired_at, episodes"
)


class Store:
    """A connection to one memory file (or to an in-memory database when `path` is None)."""

    def __init__(
        self, path: str | os.PathLike[str] | None, *, durable: bool = False, timeout: float = 30.0
    ) -> None:
        self.path = None if path is None else Path(path)
        if self.path is not None and self.path.is_dir():
            raise InvalidInputError(f"{self.path} is a directory; pass a file path for memory")
        if self.path is not None and not self.path.parent.is_dir():
            raise StorageError(f"the folder of {self.path} does not exist; create it first")
        self.lock = threading.RLock()
        try:
            self.db = sqlite3.connect(
                ":memory:" if self.path is None else os.fspath(self.path),
                timeout=timeout,
                isolation_level=None,  # transactions are explicit (BEGIN IMMEDIATE ... COMMIT)
                check_same_thread=False,  # guarded by self.lock
            )
            if self.path is not None:
                mode = self.db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise StorageError(f"{self.path}: SQLite refused WAL mode ({mode})")
            self.db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self.db.execute("PRAGMA foreign_keys=OFF")
            with self.write():
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    self.db.execute(statement)
                self._check_version()
        except sqlite3.DatabaseError as exc:
            raise FormatError(
                f"{self.path} is not a ctxengine memory file (or is damaged): {exc}"
            ) from exc

    def _check_version(self) -> None:
        row = self.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if row is None:
            self.db.execute("INSERT INTO meta VALUES('schema', ?)", (str(SCHEMA_VERSION),))
        elif int(row[0]) > SCHEMA_VERSION:
            raise FormatError(
                f"{self.path} was written by a newer ctxengine (memory schema {row[0]}, this one "
                f"reads up to {SCHEMA_VERSION}); upgrade ctxengine"
            )

    # ---- transactions ---------------------------------------------------------------------

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE takes the file's write lock at once, so what
        is read inside it is what the write sees); committed on success, rolled back on error.
        Inside another transaction of this connection it joins that one."""
        with self.lock:
            if self.db.in_transaction:
                yield self.db
                return
            try:
                self.db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StorageError(f"cannot write to {self.path}: {exc}") from exc
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            else:
                self.db.execute("COMMIT")

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """One read transaction: a consistent snapshot of the committed state."""
        with self.lock:
            if self.db.in_transaction:  # nested in a write: read what it sees
                yield self.db
                return
            self.db.execute("BEGIN")
            try:
                yield self.db
            finally:
                self.db.execute("COMMIT")

    def data_version(self) -> int:
        """Changes when another connection commits (SQLite's ``PRAGMA data_version``)."""
        with self.lock:
            return int(self.db.execute("PRAGMA data_version").fetchone()[0])

    # ---- options kept in the file ---------------------------------------------------------

    def get_meta(self, key: str) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def set_meta(self, key: str, value: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES(?, ?)", (key, json.dumps(value)))

    def close(self) -> None:
        with self.lock:
            self.db.close()

    def size_bytes(self) -> int:
        """Bytes on disk: the file and its write-ahead log."""
        if self.path is None:
            return 0
        wal = self.path.with_name(self.path.name + "-wal")
        return self.path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
