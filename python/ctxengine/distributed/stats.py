"""Corpus-wide BM25 statistics for a sharded search, gathered from the shards.

A BM25 score depends on the corpus: the number of documents (chunks), their average length and
each query term's document frequency. A shard knows only its own, and scoring with them skews
every score by how documents happen to fall on shards (the reason Elasticsearch has
``dfs_query_then_fetch``). The coordinator sums the shards' statistics and gives the sums to
every shard's search, so each shard scores as the one index holding all documents, bit for bit.

Statistics change only when documents are added or removed. They are gathered once per index
version: the corpus totals, and each term's frequency the first time a query asks for it (one
extra round trip to the shards, then none for any query whose terms were seen). A query's
terms are found here with the analyzer the shards use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..retrieval.bm25 import analyze

__all__ = ["GlobalStats", "Stats"]

# (documents, total length, {term: document frequency}): what a shard's BM25 search takes.
Stats = tuple[int, int, dict[str, int]]

_MAX_TERMS = 1 << 20  # terms kept per index version before the cache starts over


class GlobalStats:
    """The statistics of an index version, summed over its shards, term by term on demand."""

    def __init__(self, analyzer: dict[str, Any]) -> None:
        self.analyzer = analyzer  # the index's analyzer options (stop_words, stem, cjk)
        self.version = -1
        self.corpus: tuple[int, int] | None = None
        self.df: dict[str, int] = {}
        self.gathers = 0  # round trips made to gather statistics (for tests and benchmarks)

    def for_queries(self, backend: Any, version: int, queries: Sequence[str]) -> Stats:
        """The statistics `queries` need, gathered from the shards (`backend`, a
        :class:`~.backend.Backend`) where not known yet."""
        if version != self.version or len(self.df) > _MAX_TERMS:
            self.version, self.corpus, self.df = version, None, {}
        terms = [analyze(q, **self.analyzer) for q in queries]
        need = [
            q for q, ts in zip(queries, terms, strict=True) if any(t not in self.df for t in ts)
        ]
        if need or self.corpus is None:
            found, _ = backend.broadcast("term_stats", need)
            self.gathers += 1
            n = total = 0
            summed: dict[str, int] = {}
            for docs, length, dfs in found.values():
                n, total = n + docs, total + length
                for t, df in dfs.items():
                    summed[t] = summed.get(t, 0) + df
            self.corpus = (n, total)
            self.df.update(summed)
        wanted = {t for ts in terms for t in ts}
        return self.corpus[0], self.corpus[1], {t: self.df.get(t, 0) for t in wanted}
