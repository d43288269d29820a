"""`ctxengine.Index`: documents in, chunks out; lexical (BM25), dense (FAISS) or hybrid search.

Documents are chunked to a token budget in the index's tokenizer; every chunk keeps its str
offsets in its document and its exact token count. BM25 runs in C++ (``csrc/index``): segments,
a memory segment for new chunks, and per query the cheapest of term-at-a-time, MaxScore and
block-max WAND; dense search embeds chunks with an embedder (see
:mod:`ctxengine.retrieval.embed`) and searches them with FAISS; hybrid search fuses both
lists. Metadata filters are applied inside each search, so a filtered search returns the true
top k among the matching documents.

The :class:`Index` is a thin front over its parts: the documents and chunk table (records.py),
ingest (ingest.py), the BM25 side (lexical.py), the dense side (embeddings.py), filters
(filters.py) and persistence (persistence.py, store.py).

Adding a document costs its chunking and its own analysis (BM25's memory segment), removing
one marks its chunks deleted and subtracts their terms from the statistics, so BM25 scores
always equal those of an index built from the live documents; the FAISS index takes new vectors
in place and is rebuilt after a removal. An index is not safe for concurrent writes.

>>> index = Index(max_tokens=64)
>>> index.add("The quick brown fox jumps over the lazy dog.", doc_id="fox")
'fox'
>>> index.add("Pack my box with five dozen liquor jugs.", doc_id="box", metadata={"lang": "en"})
'box'
>>> [hit.doc_id for hit in index.search("lazy fox", k=5)]
['fox']
>>> index.search("liquor", filter={"lang": "en"})[0].text
'Pack my box with five dozen liquor jugs.'
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..chunking import MODES, Chunk
from ..errors import InvalidInputError, UnsupportedError
from ..tokenizers import resolve_tokenizer
from .bm25 import MIN_CHARS, STOP_WORDS, TermStats, analyzer_options, bm25_params, check_k
from .embed import Embedder
from .embeddings import Embeddings
from .filters import Filter, doc_mask
from .fusion import fuse, mmr
from .ingest import chunk_documents, expand_paths, read_files
from .lexical import Lexical
from .persistence import load_index, save_index
from .records import Hit, Records, check_texts

__all__ = ["AddFilesResult", "Hit", "Index", "SkippedFilesWarning"]

Mode = Literal["bm25", "dense", "hybrid"]


@dataclass
class AddFilesResult:
    """What :meth:`Index.add_files` did: documents added and files skipped (path, reason)."""

    added: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


class SkippedFilesWarning(UserWarning):
    """Some files given to :meth:`Index.add_files` were binary or unreadable and were skipped."""


class Index:
    """A searchable collection of chunked documents.

    Options are keyword-only. `tokenizer` counts chunk tokens (a name such as ``"cl100k_base"``
    or a tokenizer object); `max_tokens`, `overlap` and `by` are passed to ``ctxengine.chunk``.
    `embedder` (a callable ``list[str] -> (n, dim)`` array, or a name for
    :func:`ctxengine.retrieval.embed.get_embedder` such as ``"all-MiniLM-L6-v2"``) enables dense
    and hybrid search. `dense_index` picks the FAISS index: ``"flat"`` (exact inner product, the
    default), ``"hnsw"`` or ``"ivf"`` (approximate, for large indexes); `gpu` moves it to a GPU
    when GPU FAISS and a GPU are present (``None``: when available). BM25 options: `k1`, `b`,
    `variant`, and the analyzer's `stop_words` (default True: English stop words are not
    indexed), `min_chars` (2: one-character words other than digits are not indexed), `stem`
    and `cjk` (docs/retrieval.md, "Analyzer defaults").
    """

    def __init__(
        self,
        *,
        tokenizer: Any = "cl100k_base",
        max_tokens: int = 256,
        overlap: int = 0,
        by: str = "recursive",
        embedder: Embedder | str | None = None,
        dense_index: Literal["flat", "hnsw", "ivf"] = "flat",
        gpu: bool | None = None,
        k1: float = 1.5,
        b: float = 0.75,
        variant: Literal["lucene", "robertson", "atire"] = "lucene",
        stop_words: bool = STOP_WORDS,
        stem: bool = False,
        min_chars: int = MIN_CHARS,
        cjk: Literal["bigrams", "unigrams"] = "bigrams",
        threads: int | None = None,
    ) -> None:
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
            raise InvalidInputError(f"max_tokens must be a positive integer, got {max_tokens!r}")
        if (
            isinstance(overlap, bool)
            or not isinstance(overlap, int)
            or not 0 <= overlap < max_tokens
        ):
            raise InvalidInputError(
                f"overlap must be an integer in [0, max_tokens), got {overlap!r}"
            )
        if by not in MODES:
            raise InvalidInputError(
                f"by must be 'recursive', 'tokens', 'sentences', 'markdown' or 'code', got {by!r}"
            )
        if dense_index not in ("flat", "hnsw", "ivf"):
            raise InvalidInputError(
                f"dense_index must be 'flat', 'hnsw' or 'ivf', got {dense_index!r}"
            )
        self._tokenizer = resolve_tokenizer(tokenizer)
        self._options: dict[str, Any] = {
            # What load() resolves again: the name given, or the tokenizer's name (None: unnamed).
            "tokenizer": tokenizer if isinstance(tokenizer, str) else _name_of(self._tokenizer),
            "max_tokens": max_tokens,
            "overlap": overlap,
            "by": by,
            "analyzer": {
                "stop_words": bool(stop_words),
                "stem": bool(stem),
                "cjk": cjk,
                "min_chars": min_chars,
            },
            "bm25": {"k1": float(k1), "b": float(b), "variant": variant},
            "dense_index": dense_index,
        }
        self._threads = threads or 0
        self._records = Records()
        self._lexical = Lexical(
            analyzer_options(stop_words=stop_words, stem=stem, cjk=cjk, min_chars=min_chars),
            bm25_params(k1=k1, b=b, variant=variant),
            self._threads,
        )
        self._embeddings = Embeddings(dense_index, gpu)
        if embedder is not None:
            self._embeddings.set_embedder(embedder)

    # ---- options ---------------------------------------------------------------------------

    @property
    def tokenizer(self) -> Any:
        """The tokenizer that counts chunk tokens (``Hit.tokens``)."""
        return self._tokenizer

    @property
    def max_tokens(self) -> int:
        """The chunk size: no chunk has more tokens than this in :attr:`tokenizer`."""
        return int(self._options["max_tokens"])

    @property
    def overlap(self) -> int:
        """Tokens shared by consecutive chunks of a document (``ctxengine.chunk``'s overlap)."""
        return int(self._options["overlap"])

    @property
    def by(self) -> str:
        """How documents are cut: ``"recursive"``, ``"tokens"``, ``"sentences"``,
        ``"markdown"`` or ``"code"`` (``ctxengine.chunk``'s `by`)."""
        return str(self._options["by"])

    @property
    def embedder(self) -> Embedder | None:
        """The embedder of dense and hybrid search (None: BM25 only)."""
        return self._embeddings.embedder

    @property
    def n_chunks(self) -> int:
        """Number of chunks of live documents."""
        return self._records.n_live_chunks()

    def __len__(self) -> int:
        """Number of documents in the index."""
        return self._records.n_live()

    def __contains__(self, doc_id: object) -> bool:
        return isinstance(doc_id, str) and doc_id in self._records.pos

    def doc_ids(self) -> list[str]:
        """Ids of the documents in the index, in the order they were added."""
        return self._records.live_ids()

    # ---- adding and removing ---------------------------------------------------------------

    def add(
        self, text: str, doc_id: str | None = None, metadata: Mapping[str, Any] | None = None
    ) -> str:
        """Add one document; returns its id (given, or ``"doc-<n>"``)."""
        return self.add_many(
            [text], None if doc_id is None else [doc_id], None if metadata is None else [metadata]
        )[0]

    def add_many(
        self,
        texts: Sequence[str],
        doc_ids: Sequence[str] | None = None,
        metadatas: Sequence[Mapping[str, Any] | None] | None = None,
        *,
        progress: bool = False,
    ) -> list[str]:
        """Add documents (chunked and, with an embedder, embedded in batches); returns their ids.

        Ids must be new strings; metadata must be JSON-serialisable mappings (they are saved).
        Nothing is added when any argument is invalid.
        """
        texts = check_texts(texts)
        records, emb = self._records, self._embeddings
        first_doc, first_chunk = len(records.ids), records.chunks.size
        ids = records.new_ids(len(texts), doc_ids)
        metas = records.check_metadata(len(texts), metadatas)
        batch = chunk_documents(
            texts,
            first_doc=len(records.ids),
            first_chunk=records.chunks.size,
            tokenizer=self._tokenizer,
            max_tokens=self.max_tokens,
            overlap=self.overlap,
            by=self.by,
            want_texts=emb.embedder is not None,
            progress=progress,
        )
        vectors = emb.embed(batch.texts, progress=progress) if emb.embedder is not None else None
        # Everything was checked and computed: commit.
        self._lexical.add(batch.data, batch.rows, first_doc, first_chunk)
        records.commit(ids, batch.data, metas, batch.ranges, batch.rows)
        if vectors is not None:
            emb.append(vectors)
        return ids

    def add_files(
        self,
        paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
        *,
        progress: bool = True,
        metadata: Mapping[str, Any] | None = None,
    ) -> AddFilesResult:
        """Add text files: paths, directories (walked recursively, hidden entries skipped) and
        globs (``"docs/**/*.md"``). Each file's id is its path; its metadata has ``path`` plus
        `metadata`. Binary (a NUL byte or not UTF-8) and unreadable files are skipped, counted
        in the result and reported in one :class:`SkippedFilesWarning`; a progress bar shows on
        stderr. A path that does not exist raises NotFoundError before anything is added.
        """
        files = expand_paths(paths)
        dup = [f for f in files if f in self._records.pos]
        if dup:
            raise InvalidInputError(f"{dup[0]!r} is already in the index; remove it first")
        read = read_files(files, metadata, progress=progress)
        result = AddFilesResult(skipped=read.skipped)
        result.added = self.add_many(read.texts, read.ids, read.metas, progress=progress)
        warn_skipped(result.skipped)
        return result

    def remove(self, doc_id: str) -> None:
        """Remove a document and its chunks; later searches never return them, and BM25 scores
        are those of an index that never held them."""
        self._lexical.remove(self._records, self._records.doc_index(doc_id))
        self._records.remove(doc_id)
        self._embeddings.removed()

    # ---- reading ---------------------------------------------------------------------------

    def document(self, doc_id: str, start: int = 0, end: int | None = None) -> str:
        """A document's text, or ``text[start:end]`` (str offsets, as a hit's ``start`` and
        ``end``; past the end they clamp as slicing does) without decoding the rest: the
        range is found from the nearest chunk boundary, so reading a part of a large document
        costs about the part's size.

        >>> index = Index()
        >>> index.add("naïve café au lait", doc_id="menu")
        'menu'
        >>> index.document("menu", 6, 10)
        'café'
        """
        return self._records.document(doc_id, start, end)

    def metadata(self, doc_id: str) -> Mapping[str, Any]:
        """A document's metadata."""
        return self._records.meta[self._records.doc_index(doc_id)]

    def chunk(self, chunk_id: int) -> Chunk:
        """A chunk by id, with its text, offsets, exact token count and document metadata."""
        self._records.chunk_doc(chunk_id)
        return self._records.records(np.array([chunk_id], dtype=np.int64))[0]  # type: ignore[no-any-return]

    def chunks(self, chunk_ids: Iterable[int] | np.ndarray) -> list[Chunk]:
        """Many chunks by id at once, in the order given (repeats allowed): the same objects as
        :meth:`chunk`, gathered in one pass. An unknown or removed chunk raises NotFoundError.

        >>> index = Index(max_tokens=4)
        >>> index.add("one two three four five six seven", doc_id="d")
        'd'
        >>> [c.text for c in index.chunks([1, 0])]
        ['five six seven', 'one two three four']
        """
        ids = self._records.check_chunk_ids(chunk_ids)
        return self._records.records(ids) if ids.size else []

    def neighbors(self, chunk_id: int, *, before: int = 1, after: int = 1) -> list[int]:
        """Chunk ids of the same document around `chunk_id` (itself included), in order."""
        if before < 0 or after < 0:
            raise InvalidInputError("before and after must be >= 0")
        first, end = self._records.chunk_range[self._records.chunk_doc(chunk_id)]
        return list(range(max(first, chunk_id - before), min(end, chunk_id + after + 1)))

    # ---- search ----------------------------------------------------------------------------

    def search(
        self,
        query: str,
        k: int = 10,
        *,
        mode: Mode = "bm25",
        filter: Filter | None = None,
        fusion: Literal["weighted", "rrf"] = "weighted",
        weights: tuple[float, float] = (1.0, 1.0),
        mmr_lambda: float | None = None,
        candidates: int | None = None,
        stats: TermStats | None = None,
    ) -> list[Hit]:
        """The `k` best chunks for `query`, best first.

        `mode`: ``"bm25"`` (lexical; only chunks sharing a term with the query are returned, so
        a query of only stop words or unknown words returns ``[]``), ``"dense"`` (cosine
        similarity of embeddings; needs an embedder) or ``"hybrid"`` (both lists, each
        `candidates` long (default ``max(4k, 50)``), fused by min-max normalised scores
        (``"weighted"``, the default; a chunk missing from a list gets 0 from it) or by
        reciprocal rank (``"rrf"``, k = 60), with `weights` for (bm25, dense); see
        :mod:`ctxengine.retrieval.fusion`). `filter` keeps documents whose metadata matches: a
        mapping of key -> value (or a list/tuple/set of accepted values), or a callable on the
        metadata; it is applied inside the search. `mmr_lambda` re-ranks the candidates by
        maximal marginal relevance (needs an embedder; 1.0 = pure relevance). `stats` scores
        BM25 with corpus statistics gathered elsewhere (:meth:`term_stats` summed over the
        shards of a sharded index): every shard then scores as one index holding all the
        chunks. An empty or whitespace-only query raises InvalidInputError.
        """
        emb = self._embeddings
        k = check_search(query, k, mode, fusion, mmr_lambda, emb.embedder is not None, "Index")
        records = self._records
        mask = doc_mask(records, filter)
        fetch = fetch_size(k, mode, mmr_lambda, candidates)
        if stats is not None and not isinstance(stats, TermStats):
            raise InvalidInputError("stats must be a TermStats (from Index.term_stats)")
        if mode == "bm25":
            ids, scores = self._lexical.search(records, query, fetch, mask, stats)
        elif mode == "dense":
            ids, scores = emb.search(records, query, fetch, mask)
        else:
            lexical = self._lexical.search(records, query, fetch, mask, stats)
            dense = emb.search(records, query, fetch, mask)
            ids, scores = fuse(lexical, dense, fusion, weights)
        if mmr_lambda is not None and len(ids):
            ids, scores = mmr(ids, scores, emb.vectors()[ids], k, lambda_=mmr_lambda)
        if len(ids) > k:
            ids, scores = ids[:k], scores[:k]
        return records.records(ids, scores.tolist())  # type: ignore[no-any-return]

    def search_many(
        self,
        queries: Sequence[str],
        k: int = 10,
        *,
        mode: Mode = "bm25",
        filter: Filter | None = None,
        threads: int | None = None,
        **options: Any,
    ) -> list[list[Hit]]:
        """:meth:`search` for many queries: BM25 queries run in parallel in C++ on all cores
        (`threads`; the results do not depend on it); other modes run one by one. Each list
        equals what :meth:`search` returns for that query.

        >>> index = Index()
        >>> _ = index.add_many(["red apples", "green pears"], ["a", "b"])
        >>> [[h.doc_id for h in hits] for hits in index.search_many(["apples", "pears"])]
        [['a'], ['b']]
        """
        queries = list(queries)
        for q in queries:
            if not isinstance(q, str) or not q.strip():
                raise InvalidInputError(f"every query must be a non-empty str, got {q!r}")
        k = check_k(k)
        if mode != "bm25" or options.get("mmr_lambda") is not None:
            return [self.search(q, k, mode=mode, filter=filter, **options) for q in queries]
        if options:
            raise InvalidInputError(f"unknown options for BM25 search: {sorted(options)}")
        records = self._records
        found = self._lexical.search_many(
            records, queries, k, doc_mask(records, filter), threads or 0
        )
        return [records.records(ids, scores.tolist()) for ids, scores in found]

    def term_stats(self, query: str) -> TermStats:
        """This index's BM25 statistics for `query`: live chunks, their total length in terms
        and each query term's live chunk frequency. A sharded index sums them over its shards
        (``TermStats.sum``) and passes the sum to every shard's :meth:`search` as `stats`
        (docs/retrieval.md, "Scores across shards").

        >>> a, b = Index(), Index()
        >>> _ = a.add("red apples and green pears", doc_id="x")
        >>> _ = b.add("red wine", doc_id="y")
        >>> total = a.term_stats("red pears") + b.term_stats("red pears")
        >>> (total.n_docs, total.df)
        (2, {'red': 2, 'pears': 1})
        """
        if not isinstance(query, str):
            raise InvalidInputError(f"query must be str, got {type(query).__name__}")
        return self._lexical.term_stats(query)

    def merge(self, max_segments: int = 1) -> None:
        """Merge the BM25 segments into at most `max_segments`. Never needed for correctness:
        segments merge by size tiers on their own (on a background thread) as documents are
        added; a fully merged index searches a little faster."""
        if isinstance(max_segments, bool) or not isinstance(max_segments, int) or max_segments < 1:
            raise InvalidInputError(
                f"max_segments must be a positive integer, got {max_segments!r}"
            )
        self._lexical.merge(max_segments)

    @property
    def mean_chunk_tokens(self) -> float:
        """The mean token count of the live chunks (0.0 when there are none)."""
        n = self._lexical.n_chunks()
        return self._records.live_tokens / n if n else 0.0

    # ---- persistence -----------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save to directory `path` (created if needed), replacing an index there atomically:
        a crash mid-save leaves the previous index loadable."""
        save_index(self, path)

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        tokenizer: Any = None,
        embedder: Embedder | str | None = None,
        verify: bool = True,
        gpu: bool | None = None,
    ) -> Index:
        """Load an index saved with :meth:`save`. Arrays are memory-mapped, so loading is fast
        and processes share pages. `verify` checks every file's sha256 (set False to skip
        reading everything once). `tokenizer` and `embedder` are needed only when the index
        was built with unnamed objects. Corrupt, truncated, tampered or newer-format indexes
        raise FormatError."""
        return load_index(cls, path, tokenizer=tokenizer, embedder=embedder, verify=verify, gpu=gpu)


def check_search(
    query: Any,
    k: Any,
    mode: str,
    fusion: str,
    mmr_lambda: float | None,
    has_embedder: bool,
    owner: str,
) -> int:
    """A search's arguments checked (`owner` names the index class in the message); returns
    k."""
    if not isinstance(query, str):
        raise InvalidInputError(f"query must be str, got {type(query).__name__}")
    if not query.strip():
        raise InvalidInputError("the query is empty; pass some words to search for")
    k = check_k(k)
    if mode not in ("bm25", "dense", "hybrid"):
        raise InvalidInputError(f"mode must be 'bm25', 'dense' or 'hybrid', got {mode!r}")
    if fusion not in ("rrf", "weighted"):
        raise InvalidInputError(f"fusion must be 'rrf' or 'weighted', got {fusion!r}")
    if (mode != "bm25" or mmr_lambda is not None) and not has_embedder:
        raise UnsupportedError(
            f"{'mmr' if mode == 'bm25' else mode + ' search'} needs an embedder: "
            f"{owner}(embedder='all-MiniLM-L6-v2') or `ctxengine index --embed MODEL`"
        )
    return int(k)


def fetch_size(k: int, mode: str, mmr_lambda: float | None, candidates: int | None) -> int:
    """How many hits each list of a search needs: k, or for fusion and MMR the candidates."""
    return k if mode != "hybrid" and mmr_lambda is None else max(candidates or 0, 4 * k, 50)


def warn_skipped(skipped: list[tuple[str, str]]) -> None:
    """One :class:`SkippedFilesWarning` naming the files an add_files skipped (if any)."""
    if skipped:
        shown = ", ".join(f"{p} ({why})" for p, why in skipped[:5])
        more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        warnings.warn(
            f"skipped {len(skipped)} binary or unreadable file(s): {shown}{more}",
            SkippedFilesWarning,
            stacklevel=3,
        )


def _name_of(tokenizer: Any) -> str | None:
    name = getattr(tokenizer, "name", None)
    return name if isinstance(name, str) else None
