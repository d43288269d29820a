"""Candidates: the chunks a pack may take, gathered from an Index (its hits and their
neighbours), from texts (through a temporary index, or in order, or with given scores), from
a Chunks object, or from a list of search hits."""

from __future__ import annotations

import contextlib
import math
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..tokenizers import count_many, tokenizer_name
from . import _select

__all__ = [
    "DEFAULT_CHUNK_TOKENS",
    "NEIGHBOR_WEIGHT",
    "Cand",
    "Reader",
    "fill_tokens",
    "gather",
    "key_of",
    "relevance_of",
]

# Reads document `doc_id`'s text[start:end] (str offsets), or None when it cannot.
Reader = Callable[[Any, int, int], str | None]

NEIGHBOR_WEIGHT = 0.5  # a neighbour's relevance: this share of its hit's, again per step away
DEFAULT_CHUNK_TOKENS = 256  # chunk size when texts are chunked on the fly
# Hits scoring below this share of the best hit's score are not candidates: relevance has run
# out. Measured on 372 questions over the Python docs cut into 30-token "turns"
# (docs/packing.md, "Filling the budget"): below a quarter of the best score, a BM25 hit matched
# the question on one or two common words.
MIN_RELATIVE_SCORE = 0.25
MAX_AUTO_K = 10_000


@dataclass
class Cand:
    doc_id: Any
    chunk_id: Any
    text: str
    start: int | None
    end: int | None
    score: float
    tokens: int | None
    metadata: Mapping[str, Any]
    anchor: int = -1  # the candidate this one neighbours (-1 for a hit)
    side: int = 0  # -1 before its anchor, +1 after, 0 a hit
    doc_rank: int = 0  # documents' order for order="position"
    relevance: float = 0.0
    truncated: bool = False
    key: Any = None  # doc_id as a dict key (key_of), set once

    def __post_init__(self) -> None:
        self.key = key_of(self.doc_id)


def _is_chunks(source: Any) -> bool:
    return all(hasattr(source, a) for a in ("starts", "ends", "tokens")) and not isinstance(
        source, str
    )


def _hit_like_chunk(x: Any) -> bool:
    """A chunk object (Index.neighbors may give chunk ids or chunks)."""
    return hasattr(x, "text") and hasattr(x, "chunk_id")


def _hit_like(x: Any) -> bool:
    return hasattr(x, "text") and hasattr(x, "score") and not isinstance(x, str)


def key_of(doc_id: Any) -> Any:
    return doc_id if isinstance(doc_id, (str, int, float, tuple, type(None))) else repr(doc_id)


def _cand_of(hit: Any, doc_rank: int = 0) -> Cand:
    text = hit.text
    if not isinstance(text, str):
        raise InvalidInputError(f"a hit's text must be a str, got {type(text).__name__}")
    score = float(getattr(hit, "score", 0.0))
    start = getattr(hit, "start", None)
    end = getattr(hit, "end", None)
    tokens = getattr(hit, "tokens", None)
    metadata = getattr(hit, "metadata", None) or {}
    return Cand(
        doc_id=getattr(hit, "doc_id", None),
        chunk_id=getattr(hit, "chunk_id", None),
        text=text,
        start=None if start is None else int(start),
        end=None if end is None else int(end),
        score=score,
        tokens=None if tokens is None else int(tokens),
        metadata=metadata,
        doc_rank=doc_rank,
    )


def gather(
    query: str,
    source: Any,
    tok: Any,
    *,
    is_index: bool,
    k: int | None,
    mode: str | None,
    fusion: str | None,
    filter: Any,
    scores: Sequence[float] | None,
    neighbors: int,
    chunk_tokens: int,
    available: int,
) -> tuple[list[Cand], Reader, bool]:
    """The candidates in rank order, a way to read part of a document's text, and whether
    selection goes by value per token (with a query) or by value alone (texts taken in order)."""
    if is_index:
        if scores is not None:
            raise InvalidInputError("scores= applies to texts or chunks, not to an Index")
        if not query.strip():
            raise InvalidInputError("packing from an Index needs a non-empty query")
        return (
            _from_index(query, source, k, mode, fusion, filter, neighbors, available),
            _reader(source),
            True,
        )
    if isinstance(source, str):
        docs: list[str] = [source]
    elif _is_chunks(source):
        return _from_chunks(query, source, tok, scores, getattr(source, "text", None))
    elif isinstance(source, Sequence) and not isinstance(source, (bytes, bytearray)):
        items = list(source)
        if items and all(_hit_like(x) for x in items):
            if scores is not None:
                raise InvalidInputError("scores= applies to texts; these hits carry their scores")
            ranked = sorted(range(len(items)), key=lambda i: -float(items[i].score))
            cands, seen = [], set()
            for c in (_cand_of(items[i]) for i in ranked):
                if c.chunk_id is not None and (c.key, c.chunk_id) in seen:
                    continue  # the same chunk given twice: keep its best-scored copy
                seen.add((c.key, c.chunk_id))
                cands.append(c)
            _rank_documents(cands)
            return cands, _parts_of(lambda _doc: None), bool(query.strip())
        if not all(isinstance(x, str) for x in items):
            raise InvalidInputError(
                "source must be an Index, a str, a Chunks, or a list of str or of search hits"
            )
        docs = items
    else:
        raise InvalidInputError(
            f"source must be an Index, a str, a Chunks, or a list of str or of search hits; "
            f"got {type(source).__name__}"
        )
    if scores is not None or not query.strip():
        if isinstance(source, str):
            return _from_chunks(query, _chunk(source, tok, chunk_tokens), tok, scores, source)
        return (
            _from_texts(docs, scores),
            _parts_of(lambda d: docs[d] if isinstance(d, int) else None),
            (scores is not None) and bool(query.strip()),
        )
    index = _temporary_index(docs, tok, chunk_tokens)
    cands = _from_index(query, index, k, mode, fusion, filter, neighbors, available)
    for c in cands:  # the temporary index names documents "0", "1", ...: give back positions
        c.doc_id = int(c.doc_id)
        c.key = c.doc_id
    return (
        cands,
        _parts_of(lambda d: docs[d] if isinstance(d, int) and 0 <= d < len(docs) else None),
        True,
    )


def _auto_k(available: int, chunk_tokens: float) -> int:
    # Enough hits to fill the budget one and a half times over (near-duplicates and the density
    # order skip some; neighbours add more), within sane bounds.
    return int(min(MAX_AUTO_K, max(20, math.ceil(1.5 * available / max(1.0, chunk_tokens)))))


def _from_index(
    query: str,
    index: Any,
    k: int | None,
    mode: str | None,
    fusion: str | None,
    filter: Any,
    neighbors: int,
    available: int,
) -> list[Cand]:
    kwargs: dict[str, Any] = {}
    if mode is not None:
        kwargs["mode"] = mode
    if fusion is not None:
        kwargs["fusion"] = fusion
    if filter is not None:
        kwargs["filter"] = filter
    # A ctxengine Index knows the mean size of its chunks (many short documents, such as chat
    # turns, make chunks far below max_tokens): one search asks for enough to fill the budget.
    size = getattr(index, "mean_chunk_tokens", None) or (
        getattr(index, "max_tokens", None) or _chunk_size(index)
    )
    hits = list(
        index.search(query, k or _auto_k(available, size or DEFAULT_CHUNK_TOKENS), **kwargs)
    )
    if k is None and hits:
        best = float(getattr(hits[0], "score", 0.0) or 0.0)
        if best > 0 and MIN_RELATIVE_SCORE > 0:
            hits = [h for h in hits if float(getattr(h, "score", 0.0)) >= MIN_RELATIVE_SCORE * best]
    if k is None and size is None and hits:
        # The index's chunk size is unknown: learn it from the hits (once per index), and when
        # its chunks are small, ask for more hits.
        mean = max(1, int(sum(int(getattr(h, "tokens", 0) or 0) for h in hits) / len(hits)))
        _remember_chunk_size(index, mean)
        wanted = _auto_k(available, mean)
        if wanted > len(hits) == _auto_k(available, DEFAULT_CHUNK_TOKENS):
            hits = list(index.search(query, wanted, **kwargs))
    cands = [_cand_of(h) for h in hits]
    seen = {(c.key, c.chunk_id): i for i, c in enumerate(cands)}
    if neighbors > 0 and hasattr(index, "neighbors") and hits:
        # Only the best hits get their neighbours: as many as would fill half the budget (a
        # neighbour is worth half its hit, so weaker hits' neighbours rarely win).
        mean_tokens = max(1.0, sum(int(c.tokens or 0) for c in cands) / len(cands))
        expand = min(len(hits), math.ceil(available / (2 * mean_tokens)))
        near = [
            [
                x
                for x in index.neighbors(cands[i].chunk_id, before=neighbors, after=neighbors)
                if (x.chunk_id if _hit_like_chunk(x) else x) != cands[i].chunk_id
            ]
            for i in range(expand)
        ]
        fetched = _fetch(index, [x for xs in near for x in xs if not _hit_like_chunk(x)])
        for i in range(expand):
            hit = cands[i]
            around = [_cand_of(x if _hit_like_chunk(x) else fetched[x]) for x in near[i]]
            for side in (-1, 1):
                chain = sorted(
                    (x for x in around if (x.start or 0) < (hit.start or 0))
                    if side < 0
                    else (x for x in around if (x.start or 0) > (hit.start or 0)),
                    key=lambda x: (x.start or 0) * -side,
                )
                prev = i
                for step, x in enumerate(chain, 1):
                    key = (x.key, x.chunk_id)
                    if key in seen:
                        prev = seen[key]
                        continue
                    x.anchor, x.side = prev, side
                    x.score = hit.score
                    x.relevance = NEIGHBOR_WEIGHT**step  # scaled by the hit's relevance later
                    seen[key] = len(cands)
                    cands.append(x)
                    prev = seen[key]
    _rank_documents(cands)
    return cands


def _fetch(index: Any, chunk_ids: list[Any]) -> dict[Any, Any]:
    """Chunks by id: in one call from a ctxengine.Index (``chunks(ids)``)."""
    unique = list(dict.fromkeys(chunk_ids))
    if _is_ctxengine_index(index):
        return dict(zip(unique, index.chunks(unique), strict=True))
    return {x: index.chunk(x) for x in unique}


def _is_ctxengine_index(index: Any) -> bool:
    """An Index, or an index that says it reads as one (``_ctxengine_index = True``: its
    ``chunks(ids)`` and ``document(doc_id, start, end)`` behave as Index's, such as
    ``ctxengine.distributed.ShardedIndex``)."""
    from ..retrieval import Index

    return isinstance(index, Index) or getattr(type(index), "_ctxengine_index", False) is True


# Mean chunk size of indexes that do not state theirs, learnt from their first search.
_CHUNK_SIZES: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()


def _chunk_size(index: Any) -> int | None:
    try:
        return _CHUNK_SIZES.get(index)
    except TypeError:  # not weakly referenceable or not hashable
        return None


def _remember_chunk_size(index: Any, size: int) -> None:
    with contextlib.suppress(TypeError):
        _CHUNK_SIZES[index] = size


def _rank_documents(cands: list[Cand]) -> None:
    """Documents' order for order="position": by their smallest chunk id when every chunk id is
    a number (an index numbers chunks in the order it took them in), else as first seen."""
    first: dict[Any, Any] = {}
    numeric = all(isinstance(c.chunk_id, (int, np.integer)) for c in cands)
    for c in cands:
        key = c.key
        value = c.chunk_id if numeric else len(first)
        first[key] = min(first.get(key, value), value)
    ranked = sorted(first, key=lambda d: first[d])
    rank = {key: r for r, key in enumerate(ranked)}
    for c in cands:
        c.doc_rank = rank[c.key]


def _from_texts(docs: list[str], scores: Sequence[float] | None) -> list[Cand]:
    if scores is not None and len(scores) != len(docs):
        raise InvalidInputError(f"scores has {len(scores)} entries for {len(docs)} texts")
    values = list(scores) if scores is not None else [-float(i) for i in range(len(docs))]
    cands = [
        Cand(i, i, t, 0, len(t), float(values[i]), None, {}, doc_rank=i) for i, t in enumerate(docs)
    ]
    return sorted(cands, key=lambda c: -c.score)


def _from_chunks(
    query: str, chunks: Any, tok: Any, scores: Sequence[float] | None, whole: str | None
) -> tuple[list[Cand], Reader, bool]:
    """Chunks of one text (`whole`, when known, lets touching chunks merge)."""
    texts = [str(t) for t in chunks]
    starts = np.asarray(chunks.starts).tolist()
    ends = np.asarray(chunks.ends).tolist()
    tokens = np.asarray(chunks.tokens).tolist()
    if scores is None and query.strip():
        # Score the chunks through a temporary index, one document per chunk.
        index = _temporary_index(texts, tok, max(int(max(tokens, default=1)), 1))
        hits = list(index.search(query, len(texts)))
        score = {int(h.doc_id): float(h.score) for h in hits}
        values = [score.get(i, 0.0) for i in range(len(texts))]
        by_density = True
    elif scores is not None:
        if len(scores) != len(texts):
            raise InvalidInputError(f"scores has {len(scores)} entries for {len(texts)} chunks")
        values = [float(s) for s in scores]
        by_density = bool(query.strip())
    else:
        values = [-float(i) for i in range(len(texts))]
        by_density = False
    cands = [
        Cand(0, i, texts[i], int(starts[i]), int(ends[i]), values[i], int(tokens[i]), {})
        for i in range(len(texts))
    ]
    cands.sort(key=lambda c: -c.score)
    return cands, _parts_of(lambda d: whole if d == 0 else None), by_density


@dataclass
class _SpanChunks:
    """Chunks of one text in the shape of ctxengine.Chunks (starts, ends, tokens; iteration
    gives the chunk strings)."""

    texts: list[str]
    starts: list[int]
    ends: list[int]
    tokens: list[int]

    def __iter__(self) -> Any:
        return iter(self.texts)


def _chunk(text: str, tok: Any, chunk_tokens: int) -> Any:
    """`text` in chunks of at most `chunk_tokens`, as the index would chunk it."""
    index = _temporary_index([text], tok, chunk_tokens)
    found = index.chunks(range(int(index.n_chunks)))
    return _SpanChunks(
        [c.text for c in found],
        [c.start for c in found],
        [c.end for c in found],
        [c.tokens for c in found],
    )


def _temporary_index(docs: list[str], tok: Any, chunk_tokens: int) -> Any:
    from ..retrieval import Index

    index = Index(tokenizer=tok, max_tokens=chunk_tokens)
    index.add_many(docs, [str(i) for i in range(len(docs))])
    return index


def _parts_of(document: Callable[[Any], str | None]) -> Reader:
    """A Reader over a function that gives a whole document (or None)."""

    def read(doc_id: Any, start: int, end: int) -> str | None:
        doc = document(doc_id)
        return None if doc is None else doc[start:end]

    return read


def _reader(index: Any) -> Reader:
    get = getattr(index, "document", None)
    if get is None:
        return lambda _doc, _start, _end: None
    if _is_ctxengine_index(index):  # reads a part without decoding the whole document
        return lambda doc_id, start, end: index.document(doc_id, start, end)
    cache: dict[Any, str | None] = {}

    def whole(doc_id: Any) -> str | None:
        key = key_of(doc_id)
        if key not in cache:
            doc = get(doc_id)
            cache[key] = doc if isinstance(doc, str) or doc is None else getattr(doc, "text", None)
        return cache[key]

    return _parts_of(whole)


def fill_tokens(cands: list[Cand], tok: Any, index: Any) -> None:
    """Exact counts of every candidate in the prompt's tokenizer (a hit's own count is reused
    when it was made with the same tokenizer)."""
    same = (
        index is not None
        and getattr(index, "tokenizer", None) is not None
        and (index.tokenizer is tok or tokenizer_name(index.tokenizer) == tokenizer_name(tok))
    )
    todo = [i for i, c in enumerate(cands) if c.tokens is None or not same]
    if todo:
        counts = count_many(tok, [cands[i].text for i in todo])
        for i, n in zip(todo, counts, strict=True):
            cands[i].tokens = int(n)


def relevance_of(cands: list[Cand]) -> np.ndarray:
    hits = [i for i, c in enumerate(cands) if c.anchor < 0]
    rel = np.zeros(len(cands), dtype=np.float64)
    rel[hits] = _select.normalise([cands[i].score for i in hits])
    for i, c in enumerate(cands):
        if c.anchor >= 0:
            root = c.anchor
            while cands[root].anchor >= 0:
                root = cands[root].anchor
            rel[i] = rel[root] * c.relevance
    for i, c in enumerate(cands):
        c.relevance = float(rel[i])
    return np.maximum(rel, 1e-9)
