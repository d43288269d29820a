"""``ctxengine.memory.Memory``: an agent's memory in one SQLite file.

Episodes are the raw record (what was said, by whom, when, in which session); facts are the
temporal layer (what was true when, :mod:`ctxengine.memory.facts`); search fuses BM25 and dense
retrieval with time-aware ranking (:mod:`ctxengine.memory.search`); ``pack`` renders what it
finds into an exact budget through :func:`ctxengine.pack`. Nothing calls a model unless the
caller gives an extractor.

>>> from ctxengine.memory import Memory
>>> with Memory() as memory:
...     _ = memory.add("I just moved to Denver!", speaker="Caroline", time="2023-05-08")
...     _ = memory.add_fact("Caroline", "lives in", "Boston", valid_at="2021-01-01")
...     _ = memory.add_fact("Caroline", "lives in", "Denver", valid_at="2023-05-08")
...     [f.object for f in memory.facts("Caroline", "lives in", as_of="2022-06-01")]
...     [(h.kind, h.text) for h in memory.search("where has Caroline moved?", k=2)]
['Boston']
[('episode', 'I just moved to Denver!'), ('fact', 'Caroline lives in Denver')]
"""

from __future__ import annotations

import functools
import json
import os
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from ..errors import InvalidInputError, NotFoundError
from . import facts as _facts
from ._time import now as _now
from ._time import to_datetime, to_seconds
from .extraction import EXTRACTION_SCHEMA, Extraction, Extractor, extraction_messages, parse_facts
from .normalize import NEAR_DUPLICATE, content_hash, jaccard, name_key, shingles
from .prompt import candidates, hits_wanted
from .ranking import Weights
from .records import Episode, Fact, MemoryHit
from .retrieval import CachedEmbedder, Rows
from .search import SearchRequest, run_search
from .store import EPISODE_COLUMNS, Store

__all__ = ["Memory"]

_UNSET: Any = object()
_F = TypeVar("_F", bound=Callable[..., Any])


def _locked(method: _F) -> _F:
    """Calls on one Memory take turns (the Index under it is not safe for concurrent use)."""

    @functools.wraps(method)
    def wrapper(self: Memory, *args: Any, **kwargs: Any) -> Any:
        with self._store.lock:
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


_RECORD_KEYS = frozenset({"text", "id", "speaker", "time", "session", "metadata"})
INDEX_CHUNK_TOKENS = 512  # an episode longer than this is searched in parts


class Memory:
    """Episodes, facts and their search, in one SQLite file (`path`) or in memory (None).

    `tokenizer` counts tokens for packing (a name or a tokenizer object); `embedder` (a name
    such as ``"all-MiniLM-L6-v2"``, or a callable ``list[str] -> (n, dim)``) adds dense search
    to BM25; `extractor` (see :mod:`ctxengine.memory.extraction`) extracts facts from every
    episode added. A file remembers the embedder's name; reopening without one uses it.
    `durable` makes every commit survive a power loss too (slower); commits always survive a
    crash of the process. The file is safe to read from other processes while one writes;
    one Memory object may be shared by threads (its calls take turns).
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        tokenizer: Any = "cl100k_base",
        embedder: Any = None,
        extractor: Extractor | None = None,
        durable: bool = False,
        weights: Weights | None = None,
    ) -> None:
        self._store = Store(path, durable=durable)
        self._closed = False
        try:
            self._setup(path, tokenizer, embedder, extractor, weights)
        except BaseException:
            self._store.close()
            raise

    def _setup(
        self, path: Any, tokenizer: Any, embedder: Any, extractor: Any, weights: Any
    ) -> None:
        from ..retrieval import Index

        with self._store.write():
            stored = self._store.get_meta("embedder")
            name = embedder if isinstance(embedder, str) else getattr(embedder, "name", None)
            if embedder is not None and stored is not None and name is not None and name != stored:
                raise InvalidInputError(
                    f"{path} was built with embedder {stored!r}, not {name!r}; open it with "
                    "that one (vectors of different models cannot be compared)"
                )
            if embedder is not None and stored is None:
                self._store.set_meta("embedder", name or "an unnamed embedder")
        if embedder is None and stored is not None:
            embedder = name = stored
        cached = None
        if embedder is not None:
            from ..retrieval.embed import get_embedder

            try:
                inner = get_embedder(embedder) if isinstance(embedder, str) else embedder
            except NotFoundError as exc:
                raise NotFoundError(
                    f"{path} was built with embedder {stored!r}, which cannot be loaded by name "
                    "here; pass embedder= (the same model) to open it"
                ) from exc
            if not callable(inner):
                raise InvalidInputError("embedder must be a name or a callable list[str] -> array")
            cached = CachedEmbedder(inner, name or "embedder", self._store)
        index = Index(
            tokenizer=tokenizer,
            max_tokens=INDEX_CHUNK_TOKENS,
            embedder=cached,
            stop_words=True,
            stem=True,
        )
        self._rows = Rows(self._store, index, cached)
        self._extractor = extractor
        self._weights = weights or Weights()
        self._rows.sync()

    # ---- the basics -----------------------------------------------------------------------

    @property
    def path(self) -> str | None:
        return None if self._store.path is None else os.fspath(self._store.path)

    @property
    def tokenizer(self) -> Any:
        """The tokenizer memory counts with (``pack``'s default)."""
        return self._rows.index.tokenizer

    @property
    def embedder(self) -> Any:
        return None if self._rows.embedder is None else self._rows.embedder.inner

    def __enter__(self) -> Memory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Closes the file; committed writes are already on disk."""
        if not self._closed:
            self._closed = True
            self._store.close()

    def _open(self) -> None:
        if self._closed:
            raise InvalidInputError("this Memory is closed")

    def __len__(self) -> int:
        """The number of episodes."""
        self._open()
        with self._store.read() as db:
            return int(db.execute("SELECT count(*) FROM episodes").fetchone()[0])

    def stats(self) -> dict[str, int]:
        """Episodes, facts, and the file's size in bytes (with its write-ahead log)."""
        self._open()
        with self._store.read() as db:
            episodes = int(db.execute("SELECT count(*) FROM episodes").fetchone()[0])
            facts = int(db.execute("SELECT count(*) FROM facts").fetchone()[0])
        return {"episodes": episodes, "facts": facts, "bytes": self._store.size_bytes()}

    # ---- episodes -------------------------------------------------------------------------

    def add(
        self,
        text: str,
        *,
        id: str | None = None,
        speaker: str | None = None,
        time: datetime | str | None = None,
        session: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> str:
        """Adds one episode; returns its id (`id`, or a new one). `time` is when it was said (a
        datetime or an ISO string; default: now). Adding an id again with the same content is
        a no-op; with different content it is an error (use :meth:`update`)."""
        return self.add_many(
            [
                {
                    "text": text,
                    "id": id,
                    "speaker": speaker,
                    "time": time,
                    "session": session,
                    "metadata": metadata,
                }
            ]
        )[0]

    @_locked
    def add_many(self, records: Iterable[Mapping[str, Any]]) -> list[str]:
        """Adds episodes from dicts with :meth:`add`'s keys, in one transaction; returns their
        ids. Nothing is added when any record is invalid."""
        self._open()
        now = _now()
        rows, timed = [], []
        for i, record in enumerate(records):
            rows.append(self._episode_row(record, i, now))
            timed.append(isinstance(record, Mapping) and record.get("time") is not None)
        ids = [r[0] for r in rows]
        if self._rows.embedder is not None:
            self._rows.embedder.prefetch([r[1] for r in rows])
        with self._store.write() as db:
            self._rows.pull_in_write(db)
            fresh = []
            seen: dict[str, tuple[Any, ...]] = {}
            for r, has_time in zip(rows, timed, strict=True):
                old = (
                    seen.get(r[0])
                    or db.execute(
                        "SELECT id, text, speaker, time, session, metadata FROM episodes "
                        "WHERE id=?",
                        (r[0],),
                    ).fetchone()
                )
                if old is not None:
                    # The same content again is a no-op (an untimed record matches any time).
                    same = tuple(old[:3]) == r[:3] and tuple(old[4:6]) == r[4:6]
                    if not same or (has_time and old[3] != r[3]):
                        raise InvalidInputError(
                            f"episode {r[0]!r} exists with different content; use update() to "
                            "change it"
                        )
                    continue
                seen[r[0]] = r[:6]
                fresh.append(r)
            db.executemany(
                f"INSERT INTO episodes({EPISODE_COLUMNS}) VALUES(NULL,?,?,?,?,?,?,?,?,?)",
                [(*r, name_key(r[2]) if r[2] else None) for r in fresh],
            )
            first = db.execute("SELECT max(seq) FROM episodes").fetchone()[0] or 0
        start = first - len(fresh) + 1
        self._rows.add_episodes(
            [(start + j, r[0], r[1], r[2], r[3], r[4]) for j, r in enumerate(fresh)]
        )
        if self._extractor is not None and fresh:
            self.extract(ids=[r[0] for r in fresh])
        return ids

    def _episode_row(self, record: Mapping[str, Any], i: int, now: float) -> tuple[Any, ...]:
        if not isinstance(record, Mapping):
            raise InvalidInputError(f"record {i} must be a dict, got {type(record).__name__}")
        unknown = set(record) - _RECORD_KEYS
        if unknown:
            raise InvalidInputError(
                f"record {i} has unknown keys {sorted(unknown)}; use {sorted(_RECORD_KEYS)}"
            )
        text = record.get("text")
        if not isinstance(text, str) or not text.strip():
            raise InvalidInputError(f"record {i}: text must be a non-empty str, got {text!r}")
        eid = record.get("id")
        if eid is None:
            eid = "e-" + uuid.uuid4().hex[:20]
        elif not isinstance(eid, str) or not eid or eid != eid.strip():
            raise InvalidInputError(f"record {i}: id must be a non-empty str, got {eid!r}")
        speaker = _optional_str(record.get("speaker"), "speaker", i)
        session = _optional_str(record.get("session"), "session", i)
        when = to_seconds(record.get("time"), "time")
        metadata = record.get("metadata") or {}
        if not isinstance(metadata, Mapping):
            raise InvalidInputError(f"record {i}: metadata must be a dict")
        try:
            meta_json = json.dumps(dict(metadata), sort_keys=True, ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"record {i}: metadata must be JSON-serialisable: {exc}"
            ) from exc
        return (
            eid,
            text,
            speaker,
            now if when is None else when,
            session,
            meta_json,
            content_hash(text),
            now,
        )

    def get(self, id: str) -> Episode:
        """The episode `id`."""
        self._open()
        with self._store.read() as db:
            row = db.execute(
                "SELECT id, text, speaker, time, session, metadata, created_at FROM episodes "
                "WHERE id=?",
                (id,),
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no episode {id!r} in this memory")
        return _episode(row)

    def episodes(
        self,
        *,
        session: str | None = None,
        speaker: str | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        limit: int | None = None,
    ) -> list[Episode]:
        """Episodes in time order (``since <= time <= until``), optionally of one session or
        speaker, at most `limit` (the latest ones when limited)."""
        self._open()
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 0
        ):
            raise InvalidInputError(f"limit must be an integer >= 0 or None, got {limit!r}")
        clauses: list[str] = []
        args: list[Any] = []
        if session is not None:
            clauses.append("session=?")
            args.append(session)
        lo, hi = to_seconds(since, "since"), to_seconds(until, "until")
        if lo is not None:
            clauses.append("time >= ?")
            args.append(lo)
        if hi is not None:
            clauses.append("time <= ?")
            args.append(hi)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = (
            "SELECT id, text, speaker, time, session, metadata, created_at FROM episodes "
            f"{where} ORDER BY time DESC, seq DESC"
        )
        with self._store.read() as db:
            rows = db.execute(sql, args).fetchall()
        if speaker is not None:
            key = name_key(speaker)
            rows = [r for r in rows if r[2] is not None and name_key(r[2]) == key]
        if limit is not None:
            rows = rows[:limit]
        return [_episode(r) for r in reversed(rows)]

    @_locked
    def update(
        self,
        id: str,
        *,
        text: str = _UNSET,
        speaker: str | None = _UNSET,
        time: datetime | str | None = _UNSET,
        session: str | None = _UNSET,
        metadata: Mapping[str, Any] | None = _UNSET,
    ) -> Episode:
        """Changes the given fields of episode `id`; returns it as it now is."""
        self._open()
        current = self.get(id)
        record = {
            "id": id,
            "text": current.text if text is _UNSET else text,
            "speaker": current.speaker if speaker is _UNSET else speaker,
            "time": current.time if time is _UNSET else time,
            "session": current.session if session is _UNSET else session,
            "metadata": current.metadata if metadata is _UNSET else metadata,
        }
        row = self._episode_row(record, 0, _now())
        with self._store.write() as db:
            self._rows.pull_in_write(db)
            db.execute(
                "UPDATE episodes SET text=?, speaker=?, time=?, session=?, metadata=?, hash=?, "
                "speaker_key=?, extracted=0 WHERE id=?",
                (*row[1:7], name_key(row[2]) if row[2] else None, id),
            )
            self._log(db, "episode", [id])
            self._rows.refresh_episodes(db, [id])
        return self.get(id)

    @_locked
    def delete(self, id: str) -> None:
        """Deletes episode or fact `id` (deleting a fact reopens what it had closed)."""
        self._open()
        with self._store.write() as db:
            self._rows.pull_in_write(db)
            if db.execute("DELETE FROM episodes WHERE id=?", (id,)).rowcount:
                self._log(db, "episode", [id])
                self._rows.refresh_episodes(db, [id])
                return
            row = db.execute(
                "SELECT subject_key, predicate_key FROM facts WHERE id=?", (id,)
            ).fetchone()
            if row is None:
                raise NotFoundError(f"no episode or fact {id!r} in this memory")
            db.execute("DELETE FROM facts WHERE id=?", (id,))
            changed = [id, *_facts.retime(db, row[0], row[1], _now())]
            self._log(db, "fact", changed)
            self._rows.refresh_facts(db, changed)

    def _log(self, db: Any, kind: str, ids: Sequence[str]) -> None:
        db.executemany("INSERT INTO changes(kind, id) VALUES(?, ?)", [(kind, i) for i in ids])
        self._rows.change_seq = int(db.execute("SELECT max(seq) FROM changes").fetchone()[0])

    # ---- facts ----------------------------------------------------------------------------

    @_locked
    def add_fact(
        self,
        subject: str,
        predicate: str,
        object: str,
        *,
        valid_at: datetime | str,
        invalid_at: datetime | str | None = None,
        episodes: Sequence[str] = (),
    ) -> str:
        """Adds a fact that held from `valid_at` (to `invalid_at`); returns its id. A fact that
        contradicts the one holding then for the same subject and predicate closes it (see
        :mod:`ctxengine.memory.facts`). `episodes` are the ids of the episodes it comes from."""
        self._open()
        start = to_seconds(valid_at, "valid_at")
        if start is None:
            raise InvalidInputError("valid_at is required: when did the fact become true?")
        end = to_seconds(invalid_at, "invalid_at")
        if isinstance(episodes, str) or not all(isinstance(e, str) for e in episodes):
            raise InvalidInputError("episodes must be a list of episode ids")
        with self._store.write() as db:
            self._rows.pull_in_write(db)
            fid, written = _facts.add_fact(
                db,
                subject,
                predicate,
                object,
                valid_at=start,
                invalid_at=end,
                episodes=list(episodes),
                now=_now(),
            )
            self._log(db, "fact", written)
            self._rows.refresh_facts(db, written)
            self._rows.pull_in_write(db)
        return fid

    def facts(
        self,
        subject: str | None = None,
        predicate: str | None = None,
        *,
        as_of: datetime | str | None = None,
    ) -> list[Fact]:
        """The facts that held at `as_of` (default: now), of one subject and/or predicate."""
        self._open()
        when = to_seconds(as_of, "as_of")
        with self._store.read() as db:
            return _facts.facts_at(db, subject, predicate, _now() if when is None else when)

    def history(self, subject: str, predicate: str | None = None) -> list[Fact]:
        """Every fact of `subject` (and `predicate`), closed ones included, in time order."""
        self._open()
        if not isinstance(subject, str):
            raise InvalidInputError("history needs a subject (a str)")
        with self._store.read() as db:
            return _facts.history(db, subject, predicate)

    # ---- extraction -----------------------------------------------------------------------

    @_locked
    def extract(
        self,
        extractor: Extractor | None = None,
        *,
        ids: Sequence[str] | None = None,
        batch: int = 8,
    ) -> Extraction:
        """Extracts facts from the episodes not yet extracted (or `ids`) with `extractor` (by
        default the memory's). Exact and near-duplicate episodes are skipped before any call;
        see :mod:`ctxengine.memory.extraction`."""
        self._open()
        extractor = extractor or self._extractor
        if extractor is None:
            raise InvalidInputError(
                "extract needs an extractor: a callable (messages, schema) -> JSON, e.g. your "
                "LLM client with ctxengine.memory.EXTRACTION_SCHEMA as its response format"
            )
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise InvalidInputError(f"batch must be an integer >= 1, got {batch!r}")
        report = Extraction()
        pending = self._pending(ids)
        todo, skipped = self._deduplicated(pending)
        report.duplicates = len(skipped)
        self._mark_extracted(skipped)
        for b in range(0, len(todo), batch):
            part = todo[b : b + batch]
            items = [(eid, _iso(when), speaker, text) for eid, text, speaker, when in part]
            answer = extractor(
                extraction_messages(items, entities=self._entities()), EXTRACTION_SCHEMA
            )
            report.calls += 1
            report.episodes += len(part)
            times = {eid: when for eid, _t, _s, when in part}
            for f in parse_facts(answer, set(times)):
                valid = f.valid_at if f.valid_at is not None else times[f.episode]
                report.facts.append(
                    self.add_fact(
                        self._canonical(f.subject),
                        f.predicate,
                        self._canonical(f.object),
                        valid_at=_utc(valid),
                        invalid_at=None if f.invalid_at is None else _utc(f.invalid_at),
                        episodes=[f.episode],
                    )
                )
            self._mark_extracted([eid for eid, _t, _s, _w in part])
        return report

    def _pending(self, ids: Sequence[str] | None) -> list[tuple[str, str, str | None, float]]:
        with self._store.read() as db:
            if ids is None:
                return db.execute(
                    "SELECT id, text, speaker, time FROM episodes WHERE extracted=0 ORDER BY seq"
                ).fetchall()
            out = []
            for eid in ids:
                row = db.execute(
                    "SELECT id, text, speaker, time FROM episodes WHERE id=? AND extracted=0",
                    (eid,),
                ).fetchone()
                if row is not None:
                    out.append(row)
            return out

    def _deduplicated(
        self, pending: list[tuple[str, str, str | None, float]]
    ) -> tuple[list[tuple[str, str, str | None, float]], list[str]]:
        """Splits pending episodes into those worth a call and repeats (exact or near) of an
        episode already extracted or earlier in this run."""
        keep, skip = [], []
        hashes: set[str] = set()
        batch_shingles: list[frozenset[tuple[str, ...]]] = []
        with self._store.read() as db:
            for eid, text, speaker, when in pending:
                h = content_hash(text)
                exact = (
                    h in hashes
                    or db.execute(
                        "SELECT 1 FROM episodes WHERE hash=? AND extracted=1 LIMIT 1", (h,)
                    ).fetchone()
                )
                sh = shingles(text)
                near = any(jaccard(sh, o) >= NEAR_DUPLICATE for o in batch_shingles)
                if not exact and not near:
                    near = self._near_extracted(db, text, sh)
                if exact or near:
                    skip.append(eid)
                    continue
                hashes.add(h)
                batch_shingles.append(sh)
                keep.append((eid, text, speaker, when))
        return keep, skip

    def _near_extracted(self, db: Any, text: str, sh: frozenset[tuple[str, ...]]) -> bool:
        from ..retrieval.bm25 import analyze

        if not analyze(text, stop_words=True, stem=True):
            return False
        self._rows.sync()
        hits = self._rows.index.search(text, 5, filter={"k": "e"})
        for h in hits:
            row = db.execute(
                "SELECT text FROM episodes WHERE id=? AND extracted=1", (h.doc_id[2:],)
            ).fetchone()
            if row is not None and jaccard(sh, shingles(row[0])) >= NEAR_DUPLICATE:
                return True
        return False

    def _mark_extracted(self, ids: Sequence[str]) -> None:
        if ids:
            with self._store.write() as db:
                db.executemany("UPDATE episodes SET extracted=1 WHERE id=?", [(i,) for i in ids])

    def _entities(self, limit: int = 200) -> list[str]:
        with self._store.read() as db:
            rows = db.execute(
                "SELECT subject FROM facts GROUP BY subject_key ORDER BY max(seq) DESC LIMIT ?",
                (limit,),
            ).fetchall()
        names = [r[0] for r in rows]
        names += [s for k, s in self._rows.speakers.items() if k not in map(name_key, names)]
        return names

    def _canonical(self, name: str) -> str:
        """The spelling memory already uses for `name` (a subject or speaker), else `name`."""
        key = name_key(name)
        with self._store.read() as db:
            row = db.execute(
                "SELECT subject FROM facts WHERE subject_key=? ORDER BY seq LIMIT 1", (key,)
            ).fetchone()
        if row is not None:
            return str(row[0])
        return self._rows.speakers.get(key, name)

    # ---- search and pack ------------------------------------------------------------------

    @_locked
    def search(
        self,
        query: str,
        k: int = 10,
        *,
        as_of: datetime | str | None = None,
        session: str | None = None,
        speaker: str | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        mode: str = "hybrid",
        kinds: Sequence[str] = ("episode", "fact"),
        neighbors: bool = True,
    ) -> list[MemoryHit]:
        """The `k` best episodes and facts for `query`, best first.

        `mode`: ``"hybrid"`` (BM25 and dense fused; BM25 alone without an embedder),
        ``"bm25"`` or ``"dense"``. `as_of` searches what was said by then and the facts that
        held then (default: facts that hold now); `since` / `until` keep episodes with
        ``since <= time <= until`` and facts that held within it; `session` and `speaker` keep
        that session's or speaker's episodes (and no facts). With `neighbors`, a hit is
        followed by the turns next to it that complete it (the answer to a question, the
        question a short reply answers), with half its score, beyond the k.
        """
        self._open()
        request = SearchRequest(
            query=query,
            k=k,
            mode=mode,
            kinds=tuple(kinds),
            session=session,
            speaker=speaker,
            since=to_seconds(since, "since"),
            until=to_seconds(until, "until"),
            as_of=to_seconds(as_of, "as_of"),
            neighbors=bool(neighbors),
            weights=self._weights,
        )
        self._rows.sync()
        return run_search(self._rows, request, _now())

    def pack(self, query: str, budget: int | str, **options: Any) -> Any:
        """The hits for `query` rendered into a prompt of at most `budget` tokens by
        :func:`ctxengine.pack` (a :class:`ctxengine.Packed`; each source's ``doc_id`` is an
        episode or fact id). :meth:`search`'s options (`k`, `as_of`, `session`, `speaker`,
        `since`, `until`, `mode`, `kinds`, `neighbors`) choose the hits; the others go to
        ``pack`` (`format`, `order`, `citations`, `reserve_output`, `model`, ...). The
        tokenizer is the memory's unless `model` or `tokenizer` says otherwise.
        """
        from ..packing import pack

        search_keys = ("k", "as_of", "session", "speaker", "since", "until", "mode", "kinds")
        search_options = {key: options.pop(key) for key in search_keys if key in options}
        search_options["neighbors"] = options.pop("neighbors", True)
        for key in ("filter", "scores", "fusion", "chunk_tokens"):
            if key in options:
                raise InvalidInputError(
                    f"Memory.pack does not take {key}= (pack's option for indexes and texts)"
                )
        k = search_options.pop("k", None) or hits_wanted(budget)
        hits = self.search(query, k, **search_options)
        if "model" not in options:
            options.setdefault("tokenizer", self.tokenizer)
        return pack(query, candidates(hits), budget, **options)


def _utc(seconds: float) -> datetime:
    when = to_datetime(seconds)
    assert when is not None
    return when


def _iso(seconds: float | None) -> str | None:
    return None if seconds is None else _utc(seconds).isoformat()


def _optional_str(value: Any, name: str, i: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(f"record {i}: {name} must be a str or None, got {value!r}")
    return value


def _episode(row: Sequence[Any]) -> Episode:
    eid, text, speaker, when, session, metadata, created = row
    created_at = to_datetime(created)
    assert created_at is not None
    return Episode(
        id=eid,
        text=text,
        speaker=speaker,
        time=to_datetime(when),
        session=session,
        metadata=json.loads(metadata),
        created_at=created_at,
    )
