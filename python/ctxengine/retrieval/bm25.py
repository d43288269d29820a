"""BM25 over plain texts: the lexical engine under :class:`ctxengine.Index`, usable on its own.

The analyzer and the index are C++ (``csrc/index``): terms are Unicode words (letters, marks,
numbers, ``_``) lowercased with the simple Unicode mapping; Han and kana become character bigrams
(or unigrams); English stop words and the S-stemmer are optional. Top-k queries use block-max
WAND over compressed posting blocks and give exactly the exhaustive ranking (ties: lower id).
See docs/retrieval.md.

>>> bm25 = BM25(["the cat sat", "a dog barked", "cats and dogs"], stem=True)
>>> scores, ids = bm25.search("cat", k=2)
>>> ids.tolist()
[0, 2]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .._native import core
from ..errors import InvalidInputError

__all__ = ["BM25", "TermStats", "analyze"]

Variant = Literal["lucene", "robertson", "atire"]
Cjk = Literal["bigrams", "unigrams"]

_ix = core.index


def _utf8(text: str) -> bytes:
    # Lone surrogates (possible in a Python str) become bytes the analyzer treats as separators.
    return text.encode("utf-8", "surrogatepass")


# The analyzer's defaults, chosen on 372 real questions about the Python docs (docs/retrieval.md,
# "Analyzer defaults"; bench/bench_analyzer.py): dropping English stop words and one-character
# words other than digits raised recall@10 (0.944 -> 0.946 on 512-token chunks, 0.914 -> 0.930
# on 128-token ones) and made queries several times faster; the S-stemmer lowered it.
STOP_WORDS = True
MIN_CHARS = 2


def analyzer_options(
    *,
    lowercase: bool = True,
    cjk: Cjk = "bigrams",
    stop_words: bool = STOP_WORDS,
    stem: bool = False,
    min_chars: int = MIN_CHARS,
) -> Any:
    if cjk not in ("bigrams", "unigrams"):
        raise InvalidInputError(f"cjk must be 'bigrams' or 'unigrams', got {cjk!r}")
    if isinstance(min_chars, bool) or not isinstance(min_chars, int) or not 1 <= min_chars <= 255:
        raise InvalidInputError(f"min_chars must be an integer from 1 to 255, got {min_chars!r}")
    return _ix.AnalyzerOptions(
        lowercase=bool(lowercase),
        cjk=getattr(_ix.CjkMode, cjk),
        stop_words=bool(stop_words),
        stem=bool(stem),
        min_word_chars=min_chars,
    )


def bm25_params(*, k1: float = 1.5, b: float = 0.75, variant: Variant = "lucene") -> Any:
    if variant not in ("lucene", "robertson", "atire"):
        raise InvalidInputError(
            f"variant must be 'lucene', 'robertson' or 'atire', got {variant!r}"
        )
    if not (k1 >= 0 and np.isfinite(k1)):
        raise InvalidInputError(f"k1 must be a finite number >= 0, got {k1!r}")
    if not 0 <= b <= 1:
        raise InvalidInputError(f"b must be between 0 and 1, got {b!r}")
    return _ix.Bm25Params(k1=float(k1), b=float(b), variant=getattr(_ix.Bm25Variant, variant))


def analyze(
    text: str,
    *,
    lowercase: bool = True,
    cjk: Cjk = "bigrams",
    stop_words: bool = STOP_WORDS,
    stem: bool = False,
    min_chars: int = MIN_CHARS,
) -> list[str]:
    """The index terms of `text`, in order: what BM25 indexes and what a query is matched on.
    By default English stop words and words of one character are dropped, unless they hold a
    digit (the "3" of "python 3" stays).

    >>> analyze("Naïve CAFÉS, 東京都", stem=True)
    ['naïve', 'cafés', '東京', '京都']
    >>> analyze("How do I read the cats' files?", stem=True)
    ['how', 'do', 'read', 'cat', 'file']
    >>> analyze("How do I read a file?", stop_words=False, min_chars=1)
    ['how', 'do', 'i', 'read', 'a', 'file']
    >>> analyze("Porting code from Python 2 to 3, a x64 build")
    ['porting', 'code', 'from', 'python', '2', '3', 'x64', 'build']
    """
    options = analyzer_options(
        lowercase=lowercase, cjk=cjk, stop_words=stop_words, stem=stem, min_chars=min_chars
    )
    return list(_ix.analyze(_utf8(text), options))


def check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InvalidInputError(f"k must be a positive integer, got {k!r}")
    return int(k)


def check_threads(threads: Any) -> int:
    """A thread count for the native calls: None or 0 is all cores."""
    if threads is None:
        return 0
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 0:
        raise InvalidInputError(f"threads must be an integer >= 0 or None, got {threads!r}")
    return int(threads)


@dataclass(frozen=True)
class TermStats:
    """Corpus statistics of a query over one index: live documents, their total length in
    terms, and each query term's live document frequency. Summed over the shards of a sharded
    index (``+`` or :meth:`sum`) and passed back as ``search(..., stats=...)``, they make every
    shard score exactly as one index holding all the documents would.

    >>> a = BM25(["red apples", "green pears"]).term_stats("red pears")
    >>> b = BM25(["red wine"]).term_stats("red pears")
    >>> (a + b).df
    {'red': 2, 'pears': 1}
    """

    n_docs: int
    total_length: int
    df: dict[str, int]

    def __add__(self, other: TermStats) -> TermStats:
        df = dict(self.df)
        for term, count in other.df.items():
            df[term] = df.get(term, 0) + count
        return TermStats(self.n_docs + other.n_docs, self.total_length + other.total_length, df)

    @staticmethod
    def sum(parts: Iterable[TermStats]) -> TermStats:
        total = TermStats(0, 0, {})
        for part in parts:
            total = total + part
        return total

    def _native(self) -> tuple[int, int, dict[str, int]]:
        return (int(self.n_docs), int(self.total_length), dict(self.df))


class BM25:
    """An Okapi BM25 index over a list of texts, built in C++ on all cores; texts can be added
    and removed later (docs/retrieval.md, "Segments").

    `variant` picks the scoring formula (docs/retrieval.md): ``"lucene"`` (bm25s's default),
    ``"robertson"`` (rank_bm25's BM25Okapi wherever its idf is positive) or ``"atire"``. A text's
    id is its position in the order texts were given (``add`` continues the count); removed ids
    are never reused.

    >>> bm25 = BM25(["red apples", "green apples and pears", "pears"])
    >>> bm25.search("pears", k=5)[1].tolist()
    [2, 1]
    >>> bm25.add(["ripe pears"]).tolist()
    [3]
    >>> bm25.search("ripe pears", k=2)[1].tolist()
    [3, 2]
    """

    def __init__(
        self,
        texts: Sequence[str] = (),
        *,
        k1: float = 1.5,
        b: float = 0.75,
        variant: Variant = "lucene",
        lowercase: bool = True,
        cjk: Cjk = "bigrams",
        stop_words: bool = STOP_WORDS,
        stem: bool = False,
        min_chars: int = MIN_CHARS,
        threads: int | None = None,
    ) -> None:
        data, starts, ends = _ranges(texts)
        self._threads = threads or 0
        self._native = _ix.Bm25Index.build(
            data,
            starts,
            ends,
            analyzer_options(
                lowercase=lowercase,
                cjk=cjk,
                stop_words=stop_words,
                stem=stem,
                min_chars=min_chars,
            ),
            bm25_params(k1=k1, b=b, variant=variant),
            self._threads,
        )
        self._next = len(starts)

    @classmethod
    def _wrap(cls, native: Any, next_id: int | None = None) -> BM25:
        self = cls.__new__(cls)
        self._native = native
        self._threads = 0
        sizes = native.segments()
        self._next = (
            next_id
            if next_id is not None
            else max((int(a["doc_keys"][-1]) + 1 for a, _, _ in sizes), default=0)
        )
        return self

    def __len__(self) -> int:
        """Number of texts in the index (added and not removed)."""
        return int(self._native.stats()[0])

    def add(self, texts: Sequence[str]) -> np.ndarray:
        """Add texts; returns their ids. Small batches go to an in-memory segment, so adding
        one text and searching right away costs about as much as the search."""
        data, starts, ends = _ranges(texts)
        ids = np.arange(self._next, self._next + len(starts), dtype=np.int64)
        self._native.add(data, starts, ends, ids, self._threads)
        self._next += len(starts)
        return ids

    def remove(self, ids: Sequence[int] | np.ndarray, texts: Sequence[str]) -> None:
        """Remove texts by id; `texts` are the same texts as added (the index keeps no text:
        their terms are what it subtracts from its statistics, and they are checked against
        the postings). Later searches score as if the texts had never been added."""
        keys = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        data, starts, ends = _ranges(texts)
        if len(keys) != len(starts):
            raise InvalidInputError(f"got {len(keys)} ids but {len(starts)} texts")
        self._native.remove(keys, data, starts, ends)

    def merge(self, max_segments: int = 1) -> None:
        """Merge the index's segments into at most `max_segments` (fewer segments search a
        little faster; merges also run by themselves as segments accumulate)."""
        self._native.flush(self._threads)
        self._native.force_merge(max_segments, self._threads)

    def term_stats(self, query: str) -> TermStats:
        """This index's statistics for `query` (see :class:`TermStats`)."""
        n_docs, total = self._native.stats()
        return TermStats(int(n_docs), int(total), dict(self._native.term_stats(_utf8(query))))

    def search(
        self,
        query: str,
        k: int = 10,
        *,
        mask: np.ndarray | None = None,
        stats: TermStats | None = None,
        threads: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The `k` best texts for `query`: ``(scores float32, ids int64)``, best first.

        Only texts that share a term with the query are returned, so there may be fewer than
        `k`; a query with no indexed term (only stop words, or words no text has) returns
        empty arrays. `mask` (bool or uint8, one per id) keeps only texts where it is true,
        inside the search: the top k among those texts, never a filtered-down top k. `stats`
        scores with statistics gathered elsewhere (a sharded index: :class:`TermStats`). A
        query runs on the calling thread, as bm25s, tantivy and Lucene run one by default;
        ``threads=0`` (all cores) or ``n`` splits a query with many postings over threads by
        document ranges, which helps only where cores are idle (docs/retrieval.md, "Speed");
        the result does not depend on it.
        """
        k = check_k(k)
        scores, ids = self._native.search(
            _utf8(query),
            k,
            self._live(mask),
            None if stats is None else stats._native(),
            threads=1 if threads is None else check_threads(threads),
        )
        return scores, ids

    def search_many(
        self,
        queries: Sequence[str],
        k: int = 10,
        *,
        mask: np.ndarray | None = None,
        threads: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`search` for many queries on all cores: ``(scores, ids)`` of shape
        ``(len(queries), k)``, rows best first; where a query has fewer than `k` hits its row
        is padded with score NaN and id -1. Results do not depend on `threads`.

        >>> BM25(["ab cd", "cd ef", "ef gh"]).search_many(["cd", "gh"], k=2)[1].tolist()
        [[0, 1], [2, -1]]
        """
        k = check_k(k)
        scores, ids, counts = self._native.search_many(
            [_utf8(q) for q in queries], k, self._live(mask), threads=check_threads(threads)
        )
        pad = np.arange(k)[None, :] >= counts[:, None]
        scores[pad] = np.nan
        ids[pad] = -1
        return scores, ids

    def _live(self, mask: np.ndarray | None) -> np.ndarray | None:
        if mask is None:
            return None
        live = np.ascontiguousarray(mask, dtype=np.uint8)
        if live.shape != (self._next,):
            raise InvalidInputError(
                f"mask must have one entry per text ({self._next}), got shape {live.shape}"
            )
        return live


def _ranges(texts: Sequence[str]) -> tuple[bytes, np.ndarray, np.ndarray]:
    if isinstance(texts, str):
        raise InvalidInputError("texts must be a list of str, not one str")
    encoded = []
    for t in texts:
        if not isinstance(t, str):
            raise InvalidInputError(f"texts must be str, got {type(t).__name__}")
        encoded.append(_utf8(t))
    lengths = np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(encoded))
    ends = np.cumsum(lengths, dtype=np.int64)
    return b"".join(encoded), ends - lengths, ends
