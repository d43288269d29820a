"""Memory search: the Index's BM25 and dense lists fused, filtered by time, session and
speaker, re-ranked by what the question says about time and people, and completed with the
neighbouring turns a hit needs.

When the matches run out (BM25 finds only what shares a word with the question) and the question
names one of the speakers, that speaker's episodes fill the k, in the order the question's time
cue asks for, scored below every match.

Filters are exact. Session, speaker and kind are Index metadata filters (applied inside the
search, so the top k are the top k among matching documents); a time range becomes a filter on
the days it spans, and the exact times are checked on the hits, asking the Index for more when
too few remain. Re-ranking (:mod:`ctxengine.memory.ranking`) reorders the best
``max(4k, 50)`` candidates by relevance.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidInputError, UnsupportedError
from ._time import day_key, to_datetime
from .normalize import name_key
from .ranking import Weights, adjust, lexical_query, read_cues
from .records import MemoryHit
from .retrieval import Rows

__all__ = ["MODES", "SearchRequest", "run_search"]

MODES = ("hybrid", "bm25", "dense")
KINDS = ("episode", "fact")
NEIGHBOR_WEIGHT = 0.5  # a completing neighbour's score: this share of its hit's
_MAX_DAYS = 4000  # a longer time range is checked on the hits only (no day filter)
_SHORT_REPLY_WORDS = 6
_REPLY_START = re.compile(
    r"^\s*(yes|yeah|yep|yup|no|nope|nah|sure|right|exactly|definitely|absolutely|totally|"
    r"of course|thanks|thank you|haha|wow|oh|ah|it was|it is|it's|that's|they are|they're|"
    r"because|i did|i do|i have|we did|not yet|maybe|probably)\b",
    re.I,
)


@dataclass(frozen=True)
class SearchRequest:
    query: str
    k: int
    mode: str
    kinds: tuple[str, ...]
    session: str | None
    speaker: str | None
    since: float | None
    until: float | None
    as_of: float | None
    neighbors: bool
    weights: Weights


def check_request(req: SearchRequest, has_embedder: bool) -> str:
    """Validates a request; returns the Index mode to use."""
    if not isinstance(req.query, str):
        raise InvalidInputError(f"query must be a str, got {type(req.query).__name__}")
    if not req.query.strip():
        raise InvalidInputError("the query is empty; pass some words to search for")
    if isinstance(req.k, bool) or not isinstance(req.k, int) or req.k < 1:
        raise InvalidInputError(f"k must be an integer >= 1, got {req.k!r}")
    if req.mode not in MODES:
        raise InvalidInputError(f"mode must be one of {', '.join(MODES)}, got {req.mode!r}")
    for kind in req.kinds:
        if kind not in KINDS:
            raise InvalidInputError(f"kinds may hold 'episode' and 'fact', got {kind!r}")
    if req.since is not None and req.until is not None and req.since > req.until:
        raise InvalidInputError("since is later than until: nothing can match")
    if req.mode == "dense" and not has_embedder:
        raise UnsupportedError(
            "dense search needs an embedder: Memory(path, embedder='all-MiniLM-L6-v2')"
        )
    # "hybrid" is everything the memory has: BM25 alone when it has no embedder.
    return "bm25" if req.mode == "hybrid" and not has_embedder else req.mode


def run_search(rows: Rows, req: SearchRequest, now: float) -> list[MemoryHit]:
    mode = check_request(req, rows.embedder is not None)
    kinds = req.kinds
    if req.session is not None or req.speaker is not None:
        kinds = tuple(k for k in kinds if k == "episode")  # facts have no session or speaker
    if not kinds:
        return []
    lo = req.since
    hi = req.until if req.as_of is None else min(req.as_of, req.until or math.inf)
    index_filter = _filter(req, kinds, lo, hi)
    fact_time = now if req.as_of is None else req.as_of

    def keep(meta: dict[str, Any], doc: str) -> bool:
        if meta["k"] == "e":
            t = meta["t"]
            return (lo is None or t >= lo) and (hi is None or t <= hi)
        span = rows.fact_span.get(doc[2:])
        if span is None:
            return False
        valid_at, invalid_at = span
        if req.since is not None or req.until is not None:  # overlaps the range
            return (req.until is None or valid_at <= req.until) and (
                req.since is None or invalid_at is None or invalid_at > req.since
            )
        return valid_at <= fact_time and (invalid_at is None or invalid_at > fact_time)

    wanted = max(4 * req.k, 50)
    fetch = wanted
    lexical = lexical_query(req.query)
    while True:
        hits = _index_search(rows.index, req.query, lexical, fetch, mode, index_filter)
        best: dict[str, Any] = {}
        for h in hits:  # a long episode has several chunks: keep its best
            if h.doc_id not in best and keep(h.metadata, h.doc_id):
                best[h.doc_id] = h
        if len(best) >= wanted or len(hits) < fetch:
            break
        fetch *= 4
    found = list(best.values())[:wanted]
    if not found:
        return []
    cues = read_cues(req.query, rows.speakers)
    scores = adjust(
        np.array([h.score for h in found], dtype=np.float64),
        [h.metadata["t"] for h in found],
        [h.metadata["p"] for h in found],
        cues,
        req.weights,
    )
    order = sorted(range(len(found)), key=lambda i: (-scores[i], found[i].metadata["n"]))
    top = [(found[i].doc_id, float(scores[i])) for i in order[: req.k]]
    if len(top) < req.k and cues.speakers and "episode" in kinds:
        top += _speaker_fill(
            rows,
            req,
            cues,
            lo,
            hi,
            {d for d, _ in top},
            req.k - len(top),
            min((s for _, s in top), default=1.0),
        )
    return _records(rows, top, req.neighbors)


def _speaker_fill(
    rows: Rows,
    req: SearchRequest,
    cues: Any,
    lo: float | None,
    hi: float | None,
    taken: set[str],
    need: int,
    floor: float,
) -> list[tuple[str, float]]:
    """When the matches run out and the question names a speaker: that speaker's episodes, in
    the order the question's time cue asks for (the latest first; the earliest for a question
    about the past; the latest before a named date's end), scored below every match."""
    keys = sorted(cues.speakers)
    if req.speaker is not None:
        keys = [k for k in keys if k == name_key(req.speaker)]
    if not keys:
        return []
    clauses = [f"speaker_key IN ({','.join('?' * len(keys))})"]
    args: list[Any] = list(keys)
    for clause, value in (("session = ?", req.session), ("time >= ?", lo), ("time <= ?", hi)):
        if value is not None:
            clauses.append(clause)
            args.append(value)
    if cues.window is not None:
        order, extra = "(time >= ?), time DESC, seq DESC", [cues.window[1]]
    elif cues.recency < 0:
        order, extra = "time, seq", []
    else:
        order, extra = "time DESC, seq DESC", []
    with rows.store.read() as db:
        found = db.execute(
            f"SELECT id FROM episodes WHERE {' AND '.join(clauses)} ORDER BY {order} LIMIT ?",
            [*args, *extra, need + len(taken)],
        ).fetchall()
    ids = [f"e:{r[0]}" for r in found if f"e:{r[0]}" not in taken][:need]
    step = 0.5 * floor / (len(ids) + 1)
    return [(d, 0.5 * floor - j * step) for j, d in enumerate(ids)]


def _index_search(
    index: Any, query: str, lexical: str, k: int, mode: str, index_filter: Any
) -> list[Any]:
    """The Index's hits: BM25 gets the question without question words; hybrid fuses that
    list with the dense list of the whole question, as Index.search(mode="hybrid") does."""
    if mode != "hybrid":
        text = lexical if mode == "bm25" else query
        return list(index.search(text, k, mode=mode, filter=index_filter))
    from ..retrieval.fusion import weighted_fusion

    fetch = max(4 * k, 50)
    lists = [
        index.search(lexical, fetch, mode="bm25", filter=index_filter),
        index.search(query, fetch, mode="dense", filter=index_filter),
    ]
    hits = {h.chunk_id: h for hs in lists for h in hs}
    fused_ids, fused_scores = weighted_fusion(
        [
            (np.array([h.chunk_id for h in hs], dtype=np.int64), np.array([h.score for h in hs]))
            for hs in lists
        ],
        [1.0, 1.0],
    )
    out = []
    for cid, score in zip(fused_ids.tolist()[:k], fused_scores.tolist()[:k], strict=True):
        h = hits[cid]
        h.score = score
        out.append(h)
    return out


def _filter(
    req: SearchRequest, kinds: Sequence[str], lo: float | None, hi: float | None
) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    if len(kinds) == 1:
        out["k"] = "e" if kinds[0] == "episode" else "f"
    if req.session is not None:
        out["s"] = req.session
    if req.speaker is not None:
        out["p"] = name_key(req.speaker)
    if lo is not None and hi is not None and (hi - lo) / 86400.0 <= _MAX_DAYS:
        first, last = int(lo // 86400), int(hi // 86400)
        days: list[Any] = [day_key(d * 86400.0) for d in range(first, last + 1)]
        if "fact" in kinds:
            days.append("fact")
        out["d"] = days
    return out or None


def _records(rows: Rows, top: list[tuple[str, float]], neighbors: bool) -> list[MemoryHit]:
    """The hits as records from the file, each followed by the neighbours that complete it."""
    episode_ids = [d[2:] for d, _ in top if d.startswith("e:")]
    fact_ids = [d[2:] for d, _ in top if d.startswith("f:")]
    with rows.store.read() as db:
        episodes = _episodes_by_id(db, episode_ids)
        facts = _facts_by_id(db, fact_ids)
        out: list[MemoryHit] = []
        taken = {d for d, _ in top}
        for doc, score in top:
            if doc.startswith("f:"):
                if doc[2:] in facts:
                    out.append(_fact_hit(facts[doc[2:]], score))
                continue
            row = episodes.get(doc[2:])
            if row is None:  # deleted by another connection since the Index was synced
                continue
            hit = _episode_hit(row, score)
            out.append(hit)
            if neighbors:
                for near in _completing(db, row):
                    if f"e:{near[1]}" not in taken:
                        taken.add(f"e:{near[1]}")
                        out.append(_episode_hit(near, score * NEIGHBOR_WEIGHT, hit.id))
    return out


_EPISODE_SELECT = "SELECT seq, id, text, speaker, time, session, metadata FROM episodes"


def _episodes_by_id(db: Any, ids: list[str]) -> dict[str, tuple[Any, ...]]:
    if not ids:
        return {}
    rows = db.execute(f"{_EPISODE_SELECT} WHERE id IN ({','.join('?' * len(ids))})", ids)
    return {r[1]: r for r in rows.fetchall()}


def _fact_hit(row: tuple[Any, ...], score: float) -> MemoryHit:
    fid, subject, predicate, obj, valid_at, invalid_at = row
    valid, invalid = to_datetime(valid_at), to_datetime(invalid_at)
    return MemoryHit(
        id=fid,
        text=f"{subject} {predicate} {obj}",
        score=score,
        time=valid,
        speaker=None,
        session=None,
        kind="fact",
        metadata={
            "subject": subject,
            "predicate": predicate,
            "object": obj,
            "valid_at": None if valid is None else valid.isoformat(),
            "invalid_at": None if invalid is None else invalid.isoformat(),
        },
    )


def _facts_by_id(db: Any, ids: list[str]) -> dict[str, tuple[Any, ...]]:
    if not ids:
        return {}
    rows = db.execute(
        "SELECT id, subject, predicate, object, valid_at, invalid_at FROM facts "
        f"WHERE id IN ({','.join('?' * len(ids))})",
        ids,
    )
    return {r[0]: r for r in rows.fetchall()}


def _episode_hit(row: tuple[Any, ...], score: float, neighbor_of: str | None = None) -> MemoryHit:
    _seq, eid, text, speaker, when, session, metadata = row
    return MemoryHit(
        id=eid,
        text=text,
        score=score,
        time=to_datetime(when),
        speaker=speaker,
        session=session,
        kind="episode",
        neighbor_of=neighbor_of,
        metadata=json.loads(metadata),
    )


def _completing(db: Any, row: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """The turns next to an episode in its session that complete it: the reply to a question,
    and the question (or statement) a short or reply-like turn answers."""
    seq, _eid, text, _speaker, when, session, _meta = row
    if session is None:
        return []
    out = []
    stripped = text.strip()
    if len(stripped.split()) <= _SHORT_REPLY_WORDS or _REPLY_START.match(stripped):
        before = db.execute(
            f"{_EPISODE_SELECT} WHERE session=? AND (time < ? OR (time = ? AND seq < ?)) "
            "ORDER BY time DESC, seq DESC LIMIT 1",
            (session, when, when, seq),
        ).fetchone()
        if before is not None:
            out.append(before)
    if stripped.endswith("?"):
        after = db.execute(
            f"{_EPISODE_SELECT} WHERE session=? AND (time > ? OR (time = ? AND seq > ?)) "
            "ORDER BY time, seq LIMIT 1",
            (session, when, when, seq),
        ).fetchone()
        if after is not None:
            out.append(after)
    return out
