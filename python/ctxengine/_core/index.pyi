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
    "SegmentHandle",
    "Strategy",
    "analyze",
    "english_stop_words",
    "kernels",
    "parallel_grain",
    "set_kernels",
    "set_parallel_grain",
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

class Strategy:
    """
    Members:

      auto

      exhaustive

      taat

      maxscore

      bmw
    """

    __members__: typing.ClassVar[dict[str, Strategy]]
    auto: typing.ClassVar[Strategy]
    bmw: typing.ClassVar[Strategy]
    exhaustive: typing.ClassVar[Strategy]
    maxscore: typing.ClassVar[Strategy]
    taat: typing.ClassVar[Strategy]
    @typing.overload
    def __eq__(self, other: Strategy) -> bool: ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool: ...
    def __getstate__(self) -> int: ...
    def __hash__(self) -> int: ...
    def __index__(self) -> int: ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None: ...
    def __int__(self) -> int: ...
    @typing.overload
    def __ne__(self, other: Strategy) -> bool: ...
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
        min_word_chars: typing.SupportsInt | typing.SupportsIndex = 1,
    ) -> None: ...
    @property
    def cjk(self) -> CjkMode: ...
    @property
    def lowercase(self) -> bool: ...
    @property
    def max_term_bytes(self) -> int: ...
    @property
    def min_word_chars(self) -> int: ...
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

class SegmentHandle:
    pass

class Bm25Index:
    @staticmethod
    def build(
        data: typing_extensions.Buffer,
        starts: numpy.typing.NDArray[numpy.int64],
        ends: numpy.typing.NDArray[numpy.int64],
        analyzer: AnalyzerOptions,
        params: Bm25Params,
        threads: typing.SupportsInt | typing.SupportsIndex = 0,
        *,
        keys: numpy.typing.NDArray[numpy.int64] | None = None,
        flush_docs: typing.SupportsInt | typing.SupportsIndex = 4096,
        merge_factor: typing.SupportsInt | typing.SupportsIndex = 8,
    ) -> Bm25Index:
        """
        One segment over data[starts[i]:ends[i]] (UTF-8) with keys (default 0..n-1).
        """
    @staticmethod
    def from_segments(
        segments: list,
        analyzer: AnalyzerOptions,
        params: Bm25Params,
        *,
        verify: bool = True,
        threads: typing.SupportsInt | typing.SupportsIndex = 0,
        flush_docs: typing.SupportsInt | typing.SupportsIndex = 4096,
        merge_factor: typing.SupportsInt | typing.SupportsIndex = 8,
    ) -> Bm25Index:
        """
        An index over saved segments [(arrays, deleted, deleted_df)], wrapped without copies.
        """
    def __init__(
        self,
        analyzer: AnalyzerOptions,
        params: Bm25Params,
        *,
        flush_docs: typing.SupportsInt | typing.SupportsIndex = 4096,
        merge_factor: typing.SupportsInt | typing.SupportsIndex = 8,
    ) -> None: ...
    def add(
        self,
        data: typing_extensions.Buffer,
        starts: numpy.typing.NDArray[numpy.int64],
        ends: numpy.typing.NDArray[numpy.int64],
        keys: numpy.typing.NDArray[numpy.int64],
        threads: typing.SupportsInt | typing.SupportsIndex = 0,
    ) -> None: ...
    def flush(self, threads: typing.SupportsInt | typing.SupportsIndex = 0) -> None: ...
    def force_merge(
        self,
        max_segments: typing.SupportsInt | typing.SupportsIndex = 1,
        threads: typing.SupportsInt | typing.SupportsIndex = 0,
    ) -> int: ...
    def hold_merges(self, hold: bool) -> None:
        """
        For tests: while held, a background merge waits before committing its segment.
        """
    def maintain(
        self, background: bool = False, threads: typing.SupportsInt | typing.SupportsIndex = 0
    ) -> int: ...
    def remove(
        self,
        keys: numpy.typing.NDArray[numpy.int64],
        data: typing_extensions.Buffer,
        starts: numpy.typing.NDArray[numpy.int64],
        ends: numpy.typing.NDArray[numpy.int64],
    ) -> None:
        """
        Remove documents by key; data[starts[i]:ends[i]] is each one's text as added.
        """
    def search(
        self,
        query: bytes,
        k: typing.SupportsInt | typing.SupportsIndex,
        filter: typing.Annotated[numpy.typing.ArrayLike, numpy.uint8] | None = None,
        stats: typing.Any = None,
        strategy: Strategy = ...,
        threads: typing.SupportsInt | typing.SupportsIndex = 0,
    ) -> tuple:
        """
        Top-k (scores, keys) of a UTF-8 query, best first (threads: 0 = all cores).
        """
    def search_many(
        self,
        queries: collections.abc.Sequence[bytes],
        k: typing.SupportsInt | typing.SupportsIndex,
        filter: typing.Annotated[numpy.typing.ArrayLike, numpy.uint8] | None = None,
        stats: typing.Any = None,
        threads: typing.SupportsInt | typing.SupportsIndex = 0,
    ) -> tuple[
        numpy.typing.NDArray[numpy.float32],
        numpy.typing.NDArray[numpy.int64],
        numpy.typing.NDArray[numpy.int64],
    ]:
        """
        Top-k of many UTF-8 queries on all cores: (scores nq x k, keys nq x k, counts).
        """
    def segments(self) -> list:
        """
        The segments as (arrays, deleted docs, deleted_df pairs); not the memory segment.
        """
    def stats(self) -> tuple[int, int]: ...
    def term_stats(self, query: bytes) -> list[tuple[str, int]]: ...
    def wait_for_merges(self) -> None: ...
    @property
    def analyzer(self) -> AnalyzerOptions: ...
    @property
    def memory_docs(self) -> int: ...
    @property
    def n_segments(self) -> int: ...
    @property
    def params(self) -> Bm25Params: ...
    @property
    def segment_sizes(self) -> list[tuple[int, int]]: ...

def analyze(text: bytes, options: AnalyzerOptions) -> list:
    """
    The index terms of UTF-8 `text`, in order.
    """

def english_stop_words() -> list: ...
def kernels() -> str:
    """
    The query kernels in use.
    """

def parallel_grain() -> tuple[int, int]:
    """
    (range_docs, min_postings) of the split of large queries over threads.
    """

def set_kernels(name: str) -> bool:
    """
    Use the 'scalar', 'avx2' or 'auto' query kernels; False if unavailable.
    """

def set_parallel_grain(
    range_docs: typing.SupportsInt | typing.SupportsIndex,
    min_postings: typing.SupportsInt | typing.SupportsIndex,
) -> None:
    """
    For tests: split queries of this many postings over threads, in ranges of documents.
    """
