"""The deterministic steps that run before any extraction call: entity and predicate names
normalised to one key, and exact and near-duplicate detection of episode text.

- :func:`name_key`: one key per spelling of a name or predicate: Unicode NFKC, case folded,
  punctuation and underscores as spaces, whitespace collapsed, a leading article dropped
  ("The Beatles" and "beatles" are one entity; "lives_in" and "Lives in" one predicate).
- :func:`content_hash`: the exact-duplicate key of a text (whitespace and case insensitive).
- :func:`shingles` / :func:`jaccard`: word 3-shingles and their Jaccard similarity, the
  near-duplicate test (as packing's MinHash estimates it, computed exactly here: an episode is
  compared with a handful of candidates that search found, not with the whole store).

>>> name_key("  The  Beatles! "), name_key("lives_in"), name_key("Lives in")
('beatles', 'lives in', 'lives in')
>>> jaccard(shingles("I moved to Denver last month"), shingles("i moved to denver last month!"))
1.0
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

__all__ = ["NEAR_DUPLICATE", "content_hash", "jaccard", "name_key", "shingles"]

NEAR_DUPLICATE = 0.9  # Jaccard of word 3-shingles at or above which two texts are one

_PUNCT = re.compile(r"[\W_]+", re.UNICODE)
_ARTICLES = ("the ", "a ", "an ")


def _words(text: str) -> list[str]:
    return _PUNCT.sub(" ", unicodedata.normalize("NFKC", text).casefold()).split()


def name_key(name: str) -> str:
    """The normalised key of an entity or predicate name (see the module doc)."""
    key = " ".join(_words(name))
    for article in _ARTICLES:
        if key.startswith(article) and len(key) > len(article):
            return key[len(article) :]
    return key


def content_hash(text: str) -> str:
    """A key equal for texts that differ only in case, punctuation and whitespace."""
    return hashlib.sha1(" ".join(_words(text)).encode("utf-8", "surrogatepass")).hexdigest()


def shingles(text: str, n: int = 3) -> frozenset[tuple[str, ...]]:
    """Word n-shingles of `text` (the whole word list when it is shorter than n)."""
    words = _words(text)
    if len(words) < n:
        return frozenset([tuple(words)]) if words else frozenset()
    return frozenset(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def jaccard(a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)
