"""Shared pieces of the sharded-index tests: the real-text corpus, an embedder, queries, and the
comparison of a sharded answer with one Index's."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from corpus import english_prose
from test_dense import HashEmbedder  # noqa: F401 (the embedder of these tests too)

QUERIES = [
    "how do I read a file line by line",
    "asyncio event loop and tasks",
    "unicode strings encode decode",
    "reference count of an object",
    "sort a list by key",
    "the",  # a common word: many ties deep in the list
    "zzzqqq",  # no document has it
    "tuple tuple tuple object",  # a repeated term
]


def corpus(n_files: int = 60) -> tuple[list[str], list[str], list[dict[str, Any]]]:
    """Texts, ids and metadata of real documents (the Python docs when installed), with one
    empty and one duplicated document among them."""
    docs = english_prose(n_files)
    texts = [t for _, t in docs] + ["", docs[0][1]]
    ids = [name for name, _ in docs] + ["empty", "copy-of-first"]
    metas = [{"group": i % 3, "n": i} for i in range(len(texts))]
    return texts, ids, metas


def words_of(texts: list[str], n: int, seed: int = 0) -> list[str]:
    """`n` queries of 1-4 words drawn from the texts (seeded)."""
    rng = np.random.default_rng(seed)
    words = sorted({w for t in texts[:20] for w in t.split() if w.isalpha() and len(w) > 3})
    return [" ".join(rng.choice(words, size=int(rng.integers(1, 5)))) for _ in range(n)]


def same_hits(got: list[Any], want: list[Any]) -> None:
    """A sharded answer equals one Index's: the same hits in the same order (every field equal,
    chunk ids included), scores equal to float32 rounding."""
    assert [(h.doc_id, h.chunk_id) for h in got] == [(h.doc_id, h.chunk_id) for h in want]
    assert [(h.text, h.start, h.end, h.tokens, h.metadata) for h in got] == [
        (h.text, h.start, h.end, h.tokens, h.metadata) for h in want
    ]
    assert [h.score for h in got] == pytest.approx([h.score for h in want], rel=1e-6, abs=1e-9)
