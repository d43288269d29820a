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

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from .._native import core
from ..errors import InvalidInputError

__all__ = ["BM25", "analyze"]

Variant = Literal["lucene", "robertson", "atire"]
Cjk = Literal["bigrams", "unigrams"]

_ix = core.index


def _utf8(text: str) -> bytes:
    # Lone surrogates (possible in a Python str) become bytes the analyzer treats as separators.
    return text.encode("utf-8", "surrogatepass")


def analyzer_options(
    *, lowercase: bool = True, cjk: Cjk = "bigrams", stop_words: bool = False, stem: bool = False
) -> Any:
    if cjk not in ("bigrams", "unigrams"):
        raise InvalidInputError(f"cjk must be 'bigrams' or 'unigrams', got {cjk!r}")
    return _ix.AnalyzerOptions(
        lowercase=bool(lowercase),
        cjk=getattr(_ix.CjkMode, cjk),
        stop_words=bool(stop_words),
        stem=bool(stem),
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
    stop_words: bool = False,
    stem: bool = False,
) -> list[str]:
    """The index terms of `text`, in order: what BM25 indexes and what a query is matched on.

    >>> analyze("Naïve CAFÉS, 東京都", stem=True)
    ['naïve', 'cafés', '東京', '京都']
    >>> analyze("The cats are here", stop_words=True, stem=True)
    ['cat', 'here']
    """
    options = analyzer_options(lowercase=lowercase, cjk=cjk, stop_words=stop_words, stem=stem)
    return list(_ix.analyze(_utf8(text), options))


def check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InvalidInputError(f"k must be a positive integer, got {k!r}")
    return int(k)


class BM25:
    """An Okapi BM25 index over a list of texts, built in C++ on all cores.

    `variant` picks the scoring formula (docs/retrieval.md): ``"lucene"`` (bm25s's default),
    ``"robertson"`` (rank_bm25's BM25Okapi wherever its idf is positive) or ``"atire"``.

    >>> bm25 = BM25(["red apples", "green apples and pears", "pears"])
    >>> bm25.search("pears", k=5)[1].tolist()
    [2, 1]
    """

    def __init__(
        self,
        texts: Sequence[str],
        *,
        k1: float = 1.5,
        b: float = 0.75,
        variant: Variant = "lucene",
        lowercase: bool = True,
        cjk: Cjk = "bigrams",
        stop_words: bool = False,
        stem: bool = False,
        threads: int | None = None,
    ) -> None:
        encoded = [_utf8(t) for t in texts]
        lengths = np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(encoded))
        ends = np.cumsum(lengths, dtype=np.int64)
        starts = ends - lengths
        self._native = _ix.Bm25Index.build(
            b"".join(encoded),
            starts,
            ends,
            analyzer_options(lowercase=lowercase, cjk=cjk, stop_words=stop_words, stem=stem),
            bm25_params(k1=k1, b=b, variant=variant),
            threads or 0,
        )

    @classmethod
    def _wrap(cls, native: Any) -> BM25:
        self = cls.__new__(cls)
        self._native = native
        return self

    def __len__(self) -> int:
        return int(self._native.n_docs)

    @property
    def n_terms(self) -> int:
        """Number of distinct terms in the index."""
        return int(self._native.n_terms)

    def search(
        self, query: str, k: int = 10, *, mask: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The `k` best texts for `query`: ``(scores float32, ids int64)``, best first.

        Only texts that share a term with the query are returned, so there may be fewer than
        `k`; a query with no indexed term (only stop words, or words no text has) returns
        empty arrays. `mask` (bool or uint8, one per text) keeps only texts where it is true,
        inside the search: the top k among those texts, never a filtered-down top k.
        """
        k = check_k(k)
        scores, ids = self._native.search(_utf8(query), k, self._live(mask))
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

        >>> BM25(["a b", "b c", "c d"]).search_many(["b", "d"], k=2)[1].tolist()
        [[0, 1], [2, -1]]
        """
        k = check_k(k)
        scores, ids, counts = self._native.search_many(
            [_utf8(q) for q in queries], k, self._live(mask), threads or 0
        )
        pad = np.arange(k)[None, :] >= counts[:, None]
        scores[pad] = np.nan
        ids[pad] = -1
        return scores, ids

    def _live(self, mask: np.ndarray | None) -> np.ndarray | None:
        if mask is None:
            return None
        live = np.ascontiguousarray(mask, dtype=np.uint8)
        if live.shape != (len(self),):
            raise InvalidInputError(
                f"mask must have one entry per text ({len(self)}), got shape {live.shape}"
            )
        return live
