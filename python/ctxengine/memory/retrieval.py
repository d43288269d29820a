"""The search structures of a memory file: one :class:`ctxengine.Index` over its episodes and
facts, derived from the rows and kept in step with them.

Every episode is one Index document (``"e:" + id``, its text; who said it is metadata, which
ranking uses) and every fact one more (``"f:" + id``, "subject predicate object"). BM25 is the
Index's own, so a memory's lexical scores are an Index's scores over the same texts; dense
vectors come from the Index's embedder, through a cache kept in the file (``vectors``) so
reopening a file does not embed again.

Other connections' writes are replayed before each read: new rows by their ``seq``, updates and
deletes from the ``changes`` log, checked cheaply through SQLite's ``data_version``.

Incremental: adding episodes adds Index documents; nothing is rebuilt here. (The Index itself
rebuilds its BM25 postings on the first search after a batch of changes: O(corpus) per batch
until the Index keeps segments.)
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ._time import day_key
from .normalize import name_key
from .store import Store

__all__ = ["EMBEDDER_BATCH", "CachedEmbedder", "Rows"]

EMBEDDER_BATCH = 256


class CachedEmbedder:
    """An embedder that looks vectors up in the file before computing them; vectors computed
    while adding (not for queries) are written back by the caller (:attr:`fresh`)."""

    def __init__(self, inner: Any, model: str, store: Store) -> None:
        self.inner = inner
        self.model = model
        self.store = store
        self.recording = False
        self.fresh: dict[str, bytes] = {}
        self.name = getattr(inner, "name", model)

    def prefetch(self, texts: list[str]) -> None:
        """Embeds the texts not yet in the file and stores their vectors (before the episodes
        are committed, so a failing embedder fails the add before anything is written)."""
        self.recording = True
        try:
            self(texts)
        finally:
            self.recording = False
        if self.fresh:
            fresh, self.fresh = self.fresh, {}
            with self.store.write() as db:
                db.executemany(
                    "INSERT OR IGNORE INTO vectors VALUES(?, ?, ?)",
                    [(h, self.model, v) for h, v in fresh.items()],
                )

    def __call__(self, texts: list[str]) -> np.ndarray:
        keys = [_text_hash(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        if self.recording:
            unique = list(dict.fromkeys(keys))
            with self.store.read() as db:
                for i in range(0, len(unique), 500):
                    part = unique[i : i + 500]
                    rows = db.execute(
                        "SELECT hash, vector FROM vectors WHERE model=? AND hash IN "
                        f"({','.join('?' * len(part))})",
                        [self.model, *part],
                    ).fetchall()
                    found.update((h, np.frombuffer(v, dtype=np.float32)) for h, v in rows)
        todo = [i for i, k in enumerate(keys) if k not in found]
        if todo:
            computed = np.asarray(self.inner([texts[i] for i in todo]), dtype=np.float32)
            if computed.ndim != 2 or computed.shape[0] != len(todo):
                raise InvalidInputError(
                    f"the embedder returned shape {computed.shape} for {len(todo)} texts; it "
                    "must return an (n, dim) array"
                )
            for i, vector in zip(todo, computed, strict=True):
                found[keys[i]] = vector
                if self.recording:
                    self.fresh[keys[i]] = np.ascontiguousarray(vector).tobytes()
        return np.stack([found[k] for k in keys]) if keys else np.empty((0, 0), np.float32)


def _text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


class Rows:
    """The Index over a store's rows and the cursors that keep it current."""

    def __init__(self, store: Store, index: Any, embedder: CachedEmbedder | None) -> None:
        self.store = store
        self.index = index
        self.embedder = embedder
        self.episode_seq = 0  # the largest episode seq indexed
        self.fact_seq = 0
        self.change_seq = 0
        self.version: int | None = None
        self.fact_span: dict[str, tuple[float, float | None]] = {}  # fact id -> validity
        self.speakers: dict[str, str] = {}  # speaker key -> a spelling

    # ---- keeping up with the file ---------------------------------------------------------

    def sync(self) -> None:
        """Replays what other connections committed since the last sync."""
        version = self.store.data_version()
        if version == self.version:
            return
        with self.store.read() as db:
            self._pull(db)
        self.version = version

    def pull_in_write(self, db: sqlite3.Connection) -> None:
        """Inside a write transaction: catch up before writing (nobody else can write now)."""
        self._pull(db)

    def _pull(self, db: sqlite3.Connection) -> None:
        changes = db.execute(
            "SELECT seq, kind, id FROM changes WHERE seq > ? ORDER BY seq", (self.change_seq,)
        ).fetchall()
        if changes:
            self.change_seq = changes[-1][0]
            episodes = [i for _s, kind, i in changes if kind == "episode"]
            facts = [i for _s, kind, i in changes if kind == "fact"]
            self.refresh_episodes(db, [e for e in dict.fromkeys(episodes)])
            self.refresh_facts(db, [f for f in dict.fromkeys(facts)])
        new = db.execute(
            "SELECT seq, id, text, speaker, time, session FROM episodes WHERE seq > ? ORDER BY seq",
            (self.episode_seq,),
        ).fetchall()
        if new:
            self.add_episodes(new)
        facts_new = db.execute(
            "SELECT seq, id, subject, predicate, object, valid_at, invalid_at FROM facts "
            "WHERE seq > ? ORDER BY seq",
            (self.fact_seq,),
        ).fetchall()
        if facts_new:
            self.add_facts(facts_new)

    # ---- writing into the Index -----------------------------------------------------------

    def add_episodes(self, rows: Sequence[Sequence[Any]]) -> None:
        """Index episode rows (seq, id, text, speaker, time, session) not yet indexed."""
        rows = [r for r in rows if r[0] > self.episode_seq or f"e:{r[1]}" not in self.index]
        if not rows:
            return
        texts, ids, metas = [], [], []
        for seq, eid, text, speaker, when, session in rows:
            if f"e:{eid}" in self.index:
                continue
            texts.append(text)
            ids.append(f"e:{eid}")
            key = name_key(speaker) if speaker else None
            if key:
                self.speakers.setdefault(key, speaker)
            metas.append(
                {"k": "e", "n": seq, "t": when, "d": day_key(when), "s": session, "p": key}
            )
        self._index_add(texts, ids, metas)
        self.episode_seq = max(self.episode_seq, max(r[0] for r in rows))

    def add_facts(self, rows: Sequence[Sequence[Any]]) -> None:
        """Index fact rows (seq, id, subject, predicate, object, valid_at, invalid_at)."""
        texts, ids, metas = [], [], []
        for seq, fid, subject, predicate, obj, valid_at, invalid_at in rows:
            self.fact_span[fid] = (valid_at, invalid_at)
            if f"f:{fid}" in self.index:
                continue
            texts.append(f"{subject} {predicate} {obj}")
            ids.append(f"f:{fid}")
            metas.append({"k": "f", "n": seq, "t": valid_at, "d": "fact", "s": None, "p": None})
        self._index_add(texts, ids, metas)
        if rows:
            self.fact_seq = max(self.fact_seq, max(r[0] for r in rows))

    def _index_add(self, texts: list[str], ids: list[str], metas: list[dict[str, Any]]) -> None:
        if not texts:
            return
        if self.embedder is None:
            self.index.add_many(texts, ids, metas)
            return
        self.embedder.recording = True
        try:
            self.index.add_many(texts, ids, metas)
        finally:
            self.embedder.recording = False
        if self.embedder.fresh:
            fresh, self.embedder.fresh = self.embedder.fresh, {}
            with self.store.write() as db:
                db.executemany(
                    "INSERT OR IGNORE INTO vectors VALUES(?, ?, ?)",
                    [(h, self.embedder.model, v) for h, v in fresh.items()],
                )

    def refresh_episodes(self, db: sqlite3.Connection, ids: Iterable[str]) -> None:
        """Re-read episodes that changed (updated or deleted) and re-index them."""
        for eid in ids:
            if f"e:{eid}" in self.index:
                self.index.remove(f"e:{eid}")
            row = db.execute(
                "SELECT seq, id, text, speaker, time, session FROM episodes WHERE id=?", (eid,)
            ).fetchone()
            if row is not None and row[0] <= self.episode_seq:
                self.add_episodes([row])

    def refresh_facts(self, db: sqlite3.Connection, ids: Iterable[str]) -> None:
        for fid in ids:
            row = db.execute(
                "SELECT seq, id, subject, predicate, object, valid_at, invalid_at FROM facts "
                "WHERE id=?",
                (fid,),
            ).fetchone()
            if row is None:
                self.fact_span.pop(fid, None)
                if f"f:{fid}" in self.index:
                    self.index.remove(f"f:{fid}")
            elif row[0] <= self.fact_seq:
                self.add_facts([row])
