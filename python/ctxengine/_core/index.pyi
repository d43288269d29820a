"""
The BM25 lexical index
"""

from __future__ import annotations

import collections.abc
import typing

import numpy
import numpy.typing
import typing_extensions

__all__: list[str] = [
    "AnalyzerOptions",
    "Bm25Index",
    "Bm25Params",
    "Bm25Variant",
    "CjkMode",
    "analyze",
    "english_stop_words",
]

class CjkMode:
    """
    Members:

      unigrams

      bigrams
    """

    __members__: typing.ClassVar[dict[str, CjkMode]]
    bigrams: typing.ClassVar[CjkMode]
    unigrams: typing.ClassVar[CjkMode]
    @typing.overload
    def __eq__(self, other: CjkMode) -> bool: ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool: ...
    def __getstate__(self) -> int: ...
    def __hash__(self) -> int: ...
    def __index__(self) -> int: ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None: ...
    def __int__(self) -> int: ...
    @typing.overload
    def __ne__(self, other: CjkMode) -> bool: ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool: ...
    def __repr__(self) -> str: ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None: ...
    def __str__(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def value(self) -> int: ...

class Bm25Variant:
    """
    Members:

      lucene

      robertson

      atire
    """

    __members__: typing.ClassVar[dict[str, Bm25Variant]]
    atire: typing.ClassVar[Bm25Variant]
    lucene: typing.ClassVar[Bm25Variant]
    robertson: typing.ClassVar[Bm25Variant]
    @typing.overload
    def __eq__(self, other: Bm25Variant) -> bool: ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool: ...
    def __getstate__(self) -> int: ...
    def __hash__(self) -> int: ...
    def __index__(self) -> int: ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None: ...
    def __int__(self) -> int: ...
    @typing.overload
    def __ne__(self, other: Bm25Variant) -> bool: ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool: ...
    def __repr__(self) -> str: ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None: ...
    def __str__(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def value(self) -> int: ...

class AnalyzerOptions:
    def __init__(
        self,
        *,
        lowercase: bool = True,
        cjk: CjkMode = ...,
        stop_words: bool = False,
        stem: bool = False,
        max_term_bytes: typing.SupportsInt | typing.SupportsIndex = 255,
    ) -> None: ...
    @property
    def cjk(self) -> CjkMode: ...
    @property
    def lowercase(self) -> bool: ...
    @property
    def max_term_bytes(self) -> int: ...
    @property
    def stem(self) -> bool: ...
    @property
    def stop_words(self) -> bool: ...

class Bm25Params:
    def __init__(
        self,
        *,
        k1: typing.SupportsFloat | typing.SupportsIndex = 1.5,
        b: typing.SupportsFloat | typing.SupportsIndex = 0.75,
        variant: Bm25Variant = ...,
    ) -> None: ...
    @property
    def b(self) -> float: ...
    @property
    def k1(self) -> float: ...
    @property
    def variant(self) -> Bm25Variant: ...

class Bm25Index:
    @staticmethod
    def build(
        data: typing_extensions.Buffer,
        starts: numpy.typing.NDArray[numpy.int64],
        ends: numpy.typing.NDArray[numpy.int64],
        analyzer: AnalyzerOptions,
        params: Bm25Params,
        threads: typing.SupportsInt | typing.SupportsIndex = 0,
    ) -> Bm25Index:
        """
        Index the documents data[starts[i]:ends[i]] (UTF-8 bytes) on all cores.
        """
    @staticmethod
    def from_arrays(arrays: dict, analyzer: AnalyzerOptions, params: Bm25Params) -> Bm25Index:
        """
        Wrap the arrays of `arrays()` (e.g. memory-mapped) without copying them.
        """
    def arrays(self) -> dict:
        """
        The index's arrays as read-only NumPy views (no copies).
        """
    def find_term(self, term: bytes) -> int:
        """
        The id of an analysed term (UTF-8 bytes), or -1.
        """
    def idf(self, term_id: typing.SupportsInt | typing.SupportsIndex) -> float: ...
    def search(
        self,
        query: bytes,
        k: typing.SupportsInt | typing.SupportsIndex,
        live: typing.Annotated[numpy.typing.ArrayLike, numpy.uint8] | None = None,
        exhaustive: bool = False,
        *,
        stats: typing.Any = None,
    ) -> tuple[numpy.typing.NDArray[numpy.float32], numpy.typing.NDArray[numpy.int64]]:
        """
        Top-k (scores, doc ids) of a UTF-8 query, best first; `live` masks documents out.
        `stats` (n_docs, total_length, {term: df}) replaces the index's statistics.
        """
    def search_many(
        self,
        queries: collections.abc.Sequence[bytes],
        k: typing.SupportsInt | typing.SupportsIndex,
        live: typing.Annotated[numpy.typing.ArrayLike, numpy.uint8] | None = None,
        threads: typing.SupportsInt | typing.SupportsIndex = 0,
        *,
        stats: typing.Any = None,
    ) -> tuple[
        numpy.typing.NDArray[numpy.float32],
        numpy.typing.NDArray[numpy.int64],
        numpy.typing.NDArray[numpy.int64],
    ]:
        """
        Top-k of many UTF-8 queries on all cores: (scores nq x k, doc ids nq x k, counts).
        """
    def stats(self) -> tuple[int, int]:
        """
        (documents, total length in terms).
        """
    def term(self, term_id: typing.SupportsInt | typing.SupportsIndex) -> str: ...
    def term_stats(self, query: bytes) -> list[tuple[str, int]]:
        """
        The query's distinct analysed terms with their document frequency here (0: absent).
        """
    @property
    def analyzer(self) -> AnalyzerOptions: ...
    @property
    def avgdl(self) -> float: ...
    @property
    def n_docs(self) -> int: ...
    @property
    def n_terms(self) -> int: ...
    @property
    def params(self) -> Bm25Params: ...

def analyze(text: bytes, options: AnalyzerOptions) -> list:
    """
    The index terms of UTF-8 `text`, in order.
    """

def english_stop_words() -> list: ...
